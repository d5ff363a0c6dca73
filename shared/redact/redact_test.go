package redact

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

const (
	keyID  = "STS.NTestKeyId7f3a"
	secret = "TestAccessKeySecret5c1d"
	token  = "CAISTestSecurityToken+9e2b/Qx7=="
)

func TestText(t *testing.T) {
	q := "AccessKeyId=" + keyID + "&Action=ListAccounts&SecurityToken=" + url.QueryEscape(token) + "&Signature=6ssx1b4f%2BJaYfH8%3D&SignatureMethod=HMAC-SHA1"
	for _, tc := range []struct{ name, in, want string }{
		{"transport error",
			`Post "http://127.0.0.1:33905/?` + q + `": dial tcp 127.0.0.1:33905: connect: connection refused`,
			`Post "http://127.0.0.1:33905/": dial tcp 127.0.0.1:33905: connect: connection refused`},
		{"user info and fragment",
			`Get "https://user:pw@rd.example.com/v1/x?a=b#f": EOF`,
			`Get "https://rd.example.com/v1/x": EOF`},
		{"URL without a path", "https://resourcemanager.aliyuncs.com?Signature=x", "https://resourcemanager.aliyuncs.com"},
		{"query outside a URL (a gateway page)",
			"<p>POST /?" + q + "</p>",
			"<p>POST /?[redacted AccessKeyId]&Action=ListAccounts&[redacted SecurityToken]&[redacted Signature]&SignatureMethod=HMAC-SHA1</p>"},
		{"string to sign",
			"server string to sign is:GET&%2F&" + url.QueryEscape(q),
			"server string to sign is:GET&%2F&[redacted AccessKeyId]%26Action%3DListAccounts%26[redacted SecurityToken]%26[redacted Signature]%26SignatureMethod%3DHMAC-SHA1"},
		{"bearer token", "Authorization: Bearer eyJhbGciOi.eyJpc3Mi.c2ln", "Authorization: Bearer [redacted]"},
		{"Tablestore headers", "x-ots-ststoken=abc x-ots-signature=def", "x-ots-[redacted ststoken] x-ots-[redacted signature]"},
		{"nothing secret", "SignatureDoesNotMatch: Signature mismatch. 403", "SignatureDoesNotMatch: Signature mismatch. 403"},
	} {
		if got := Text(tc.in); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
	}
}

func TestTextKnownSecrets(t *testing.T) {
	in := fmt.Sprintf("key %s, secret %s, token %s, encoded %s, twice %s, short ok",
		keyID, secret, token, url.QueryEscape(token), url.QueryEscape(url.QueryEscape(token)))
	got := Text(in, keyID, secret, token, "ok")
	want := "key [redacted], secret [redacted], token [redacted], encoded [redacted], twice [redacted], short ok"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

type codeError struct{ code string }

func (e *codeError) Error() string { return e.code + ": see https://x.example.com/?Signature=abc" }

func TestError(t *testing.T) {
	if Error(nil) != nil {
		t.Error("Error(nil) is not nil")
	}
	clean := errors.New("connection refused")
	if Error(clean) != clean {
		t.Error("a clean error was wrapped")
	}
	cause := fmt.Errorf("call: %w: %w", context.DeadlineExceeded, &codeError{"SDK.TimeoutError"})
	err := Error(cause, token)
	if strings.Contains(err.Error(), "Signature") || err.Error() != "call: context deadline exceeded: SDK.TimeoutError: see https://x.example.com/" {
		t.Errorf("message %q", err.Error())
	}
	var ce *codeError
	if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &ce) || ce.code != "SDK.TimeoutError" {
		t.Error("the chain is lost")
	}
}
