package tablestore

import (
	"bytes"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	ots "github.com/aliyun/aliyun-tablestore-go-sdk/tablestore"
	"github.com/rs/zerolog"

	"github.com/sase-multiaccount/backend/shared/adapter/cloudcreds"
	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/testkit/otsfake"
)

// TestPermissionDenied: a RAM denial of each action the adapter calls is
// 503 ServiceUnavailable.Permission naming ots:<action> and the role's
// policy, sent once (the SDK does not retry a 403).
func TestPermissionDenied(t *testing.T) {
	e := newEnv(t, otsfake.Options{})
	s := e.open(t, nil)
	ctx, dir := t.Context(), "rd-denied"
	mustAdd(t, s, dir, members(1, 2))
	for action, call := range map[string]func() error{
		"GetRow":        func() error { _, err := s.GetMember(ctx, dir, acct(1)); return err },
		"BatchGetRow":   func() error { _, err := s.DeleteMembers(ctx, dir, ids(1, 1), nil); return err },
		"BatchWriteRow": func() error { _, err := s.AddMembers(ctx, dir, members(3, 1), nil); return err },
		"GetRange":      func() error { _, err := s.MemberIDs(ctx, dir); return err },
		"UpdateRow":     func() error { _, err := s.BumpGeneration(ctx); return err },
		"PutRow":        func() error { return s.MarkEventProcessed(ctx, "k", t0.Add(time.Hour)) },
	} {
		e.fake.ClearFaults()
		e.fake.ResetCounts()
		e.fake.Inject(otsfake.Denial(action))
		ae := wantKind(t, action, call(), apperr.KindUnavailable, apperr.CodePermission)
		if !strings.Contains(ae.Message, "not allowed to call ots:"+action+".") || !strings.Contains(ae.Message, "deploy/policy.go") {
			t.Errorf("%s: message %q does not name the permission and the role's policy", action, ae.Message)
		}
		if n := e.fake.Count(action); n != 1 {
			t.Errorf("%s: sent %d times, want 1", action, n)
		}
	}
}

// TestPermissionDeniedLoggedOnce: the operator's log gets one error line
// per denied action, not one per request.
func TestPermissionDeniedLoggedOnce(t *testing.T) {
	var buf bytes.Buffer
	lg := zerolog.New(&buf)
	e := newEnv(t, otsfake.Options{})
	s := e.open(t, func(c *Config) { c.Log = &lg })
	ctx, dir := t.Context(), "rd-denied"
	e.fake.Inject(otsfake.Denial(""))
	for range 3 {
		_, err := s.GetMember(ctx, dir, acct(1))
		wantKind(t, "GetRow", err, apperr.KindUnavailable, apperr.CodePermission)
	}
	_, err := s.AddMembers(ctx, dir, members(1, 1), nil)
	wantKind(t, "BatchWriteRow", err, apperr.KindUnavailable, apperr.CodePermission)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"level":"error"`) ||
		!strings.Contains(lines[0], `"permission":"ots:GetRow"`) || !strings.Contains(lines[0], `"otsCode":"OTSNoPermissionAccess"`) ||
		!strings.Contains(lines[1], `"permission":"ots:BatchWriteRow"`) || !strings.Contains(lines[0], "deploy/policy.go") {
		t.Fatalf("want one error line per denied action naming the permission and the role's policy, got:\n%s", buf.String())
	}
}

// TestAuthFailures: of Tablestore's OTSAuthFailed answers, "no privilege to
// access the instance" is the role's policy (a permission); a key or
// signature problem is the credentials, which the next invocation renews.
func TestAuthFailures(t *testing.T) {
	e := newEnv(t, otsfake.Options{})
	s := e.open(t, nil)
	for msg, code := range map[string]apperr.Code{
		"The user has no privilege to access the instance.": apperr.CodePermission,
		"Signature mismatch.":                               apperr.CodeUnavailable,
		"The AccessKeyID is disabled.":                      apperr.CodeUnavailable,
		"Request denied by instance ACL policies.":          apperr.CodeUnavailable,
	} {
		e.fake.ClearFaults()
		e.fake.Inject(otsfake.Fault{Action: "GetRow", Status: 403, Code: "OTSAuthFailed", Message: msg})
		_, err := s.GetMember(t.Context(), "rd-auth", acct(1))
		wantKind(t, msg, err, apperr.KindUnavailable, code)
	}
}

// TestErrorsRedacted: whatever an answer quotes, the adapter's error shows
// none of the credentials it signed with, and still carries the SDK error
// for classification.
func TestErrorsRedacted(t *testing.T) {
	e := newEnv(t, otsfake.Options{})
	s := e.open(t, nil)
	// Credentials of a realistic length (Text ignores values too short
	// to be credentials).
	c := cloudcreds.Credentials{AccessKeyID: "STS.NTestKeyId7f3a", AccessKeySecret: "TestSecret5c1d2e", SecurityToken: "CAISTestToken+9e2b/Qx7=="}
	e.fake.AddCredentials(c.AccessKeyID, c.AccessKeySecret, c.SecurityToken)
	e.creds.Set(c)
	e.fake.Inject(otsfake.Fault{Action: "GetRow", Status: 400, Code: "OTSParameterInvalid",
		Message: "bad request from " + c.AccessKeyID + " with token " + url.QueryEscape(c.SecurityToken) + " at https://x.example.com/GetRow?SecurityToken=" + c.SecurityToken})
	_, err := s.GetMember(t.Context(), "rd-redact", acct(1))
	wantKind(t, "echoing answer", err, apperr.KindInternal, apperr.CodeInternal)
	for _, v := range []string{c.AccessKeyID, c.SecurityToken, "SecurityToken="} {
		if strings.Contains(err.Error(), v) {
			t.Errorf("the error shows %q: %v", v, err)
		}
	}
	var oe *ots.OtsError
	if !errors.As(err, &oe) || oe.Code != "OTSParameterInvalid" || !strings.Contains(err.Error(), "bad request from [redacted]") {
		t.Errorf("the error lost the SDK error: %v", err)
	}
}
