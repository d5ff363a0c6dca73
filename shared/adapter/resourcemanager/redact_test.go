package resourcemanager

import (
	"net"
	"net/url"
	"strings"
	"testing"

	"github.com/sase-multiaccount/backend/shared/adapter/cloudcreds"
	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/local/rdwire"
)

// wantNoCredentials fails when text shows the test credentials or a
// request signature.
func wantNoCredentials(t *testing.T, what, text string) {
	t.Helper()
	c := rdwire.TestCredentials
	forms := []string{c.AccessKeyID, c.AccessKeySecret, c.SecurityToken, "Signature="}
	if e := url.QueryEscape(c.SecurityToken); e != c.SecurityToken {
		forms = append(forms, e)
	}
	for _, s := range forms {
		if strings.Contains(text, s) {
			t.Errorf("%s shows %q: %s", what, s, text)
		}
	}
}

// TestTransportErrorRedacted: the SDK's transport error quotes the signed
// URL, query string and all; the adapter's error keeps the host and the
// network error and drops the query.
func TestTransportErrorRedacted(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close() // nothing listens: connection refused
	c, err := New(testConfig(addr, cloudcreds.Static(rdwire.TestCredentials), ""))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ListAccounts(t.Context())
	wantAppErr(t, "RD unreachable", err, apperr.KindUnavailable, apperr.CodeUnavailable)
	if !strings.Contains(err.Error(), `"http://`+addr+`/"`) || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("the error lost the host or the network error: %v", err)
	}
	wantNoCredentials(t, "the error", err.Error())
}

// TestServiceErrorRedacted: RD's SignatureDoesNotMatch quotes the string to
// sign (the AccessKeyId and SecurityToken among its parameters); the
// adapter's error drops them and still classifies on RD's code.
func TestServiceErrorRedacted(t *testing.T) {
	w := newEnabled(t, nil)
	c := rdwire.TestCredentials
	toSign := "GET&%2F&" + url.QueryEscape("AccessKeyId="+c.AccessKeyID+"&Action=ListAccounts&SecurityToken="+url.QueryEscape(c.SecurityToken))
	w.srv.Inject(rdwire.Fault{Action: "ListAccounts", Times: 1, Status: 400, Code: "SignatureDoesNotMatch",
		Message: "Specified signature is not matched with our calculation. server string to sign is:" + toSign})
	_, err := w.client.ListAccounts(t.Context())
	wantAppErr(t, "bad signature", err, apperr.KindInternal, apperr.CodeInternal)
	if !strings.Contains(err.Error(), "Action%3DListAccounts") || rdCode(err) != "SignatureDoesNotMatch" {
		t.Errorf("the error lost RD's answer: %v", err)
	}
	wantNoCredentials(t, "the error", err.Error())
	if m := rdMessage(err); !strings.Contains(m, "string to sign") {
		t.Errorf("rdMessage = %q", m)
	} else {
		wantNoCredentials(t, "rdMessage", m)
	}
}
