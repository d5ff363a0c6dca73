package resourcemanager

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/sase-multiaccount/backend/shared/adapter/cloudcreds"
	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/local/rdwire"
	"github.com/sase-multiaccount/backend/shared/local/simulation"
	"github.com/sase-multiaccount/backend/shared/port/directory"
	"github.com/sase-multiaccount/backend/shared/testkit/directorytest"
)

func uid(n int) string { return fmt.Sprintf("2%015d", n) }

// wantAppErr checks err is an *apperr.Error of kind and code whose message
// is fit for a console user (non-empty, no SDK dump).
func wantAppErr(t *testing.T, what string, err error, kind apperr.Kind, code apperr.Code) *apperr.Error {
	t.Helper()
	ae, ok := apperr.As(err)
	if !ok {
		t.Fatalf("%s: error %v (%T) is not an *apperr.Error", what, err, err)
	}
	if ae.Kind != kind || ae.Code != code {
		t.Fatalf("%s: got kind %d code %q (%v), want kind %d code %q", what, ae.Kind, ae.Code, err, kind, code)
	}
	if strings.TrimSpace(ae.Message) == "" || strings.Contains(ae.Message, "SDK.") || strings.Contains(ae.Message, "ErrorCode:") {
		t.Fatalf("%s: message %q is not fit for a console user", what, ae.Message)
	}
	return ae
}

func TestConfigDefaultsAndValidation(t *testing.T) {
	creds := cloudcreds.Static(rdwire.TestCredentials)
	c, err := New(Config{Credentials: creds})
	if err != nil {
		t.Fatalf("New with defaults: %v", err)
	}
	got := c.cfg
	if got.Endpoint != "resourcemanager.aliyuncs.com" || got.Scheme != "HTTPS" || got.RegionID != "cn-hangzhou" ||
		got.ServicePrincipal != directory.DefaultServicePrincipal || got.ConnectTimeout != DefaultConnectTimeout ||
		got.ReadTimeout != DefaultReadTimeout || got.MaxThrottleRetries != DefaultMaxThrottleRetries ||
		got.MaxConcurrency != DefaultMaxConcurrency || got.BackoffBase != DefaultBackoffBase {
		t.Fatalf("defaults: %+v", got)
	}
	if c.ServicePrincipal() != directory.DefaultServicePrincipal {
		t.Fatalf("ServicePrincipal() = %q", c.ServicePrincipal())
	}
	// The SDK's scheme really is HTTPS (its own default is HTTP).
	cn := <-c.pool
	if s := cn.rc.GetConfig().Scheme; s != "HTTPS" {
		t.Fatalf("SDK client scheme %q, want HTTPS", s)
	}
	if cn.rc.Domain != "resourcemanager.aliyuncs.com" || cn.rc.GetConfig().AutoRetry {
		t.Fatalf("SDK client domain %q autoretry %v", cn.rc.Domain, cn.rc.GetConfig().AutoRetry)
	}
	c.pool <- cn

	neg, err := New(Config{Credentials: creds, MaxThrottleRetries: -1, MaxServerRetries: -1})
	if err != nil || neg.cfg.MaxThrottleRetries != 0 || neg.cfg.MaxServerRetries != 0 {
		t.Fatalf("negative retries: %v %+v", err, neg)
	}

	ok := []Config{
		{Credentials: creds, Endpoint: "127.0.0.1:9001", Scheme: "HTTP"},
		{Credentials: creds, Endpoint: "localhost:9001", Scheme: "http"},
		{Credentials: creds, Endpoint: "[::1]:9001", Scheme: "HTTP"},
		{Credentials: creds, Endpoint: "127.0.0.1:9001"}, // HTTPS to a loopback endpoint is fine
		{Credentials: creds, ServicePrincipal: "sase.example.com"},
		{Credentials: creds, Endpoint: "http://127.0.0.1:9001"},
		{Credentials: creds, Endpoint: "http://localhost:9001/", Scheme: "HTTP"},
		{Credentials: creds, Endpoint: "https://resourcemanager.aliyuncs.com"},
	}
	for _, cfg := range ok {
		if _, err := New(cfg); err != nil {
			t.Errorf("New(%+v): %v", cfg, err)
		}
	}
	bad := []struct {
		cfg  Config
		want string
	}{
		{Config{}, "Credentials"},
		{Config{Credentials: creds, Scheme: "HTTP"}, "loopback"},
		{Config{Credentials: creds, Endpoint: "10.0.0.8:80", Scheme: "HTTP"}, "loopback"},
		{Config{Credentials: creds, Scheme: "FTP"}, "FTP"},
		{Config{Credentials: creds, Endpoint: "http://resourcemanager.aliyuncs.com"}, "loopback"},
		{Config{Credentials: creds, Endpoint: "https://resourcemanager.aliyuncs.com/v1"}, "host[:port]"},
		{Config{Credentials: creds, Endpoint: "ftp://127.0.0.1:21"}, "http or https"},
		{Config{Credentials: creds, Endpoint: "http://127.0.0.1:9001", Scheme: "HTTPS"}, "contradicts"},
		{Config{Credentials: creds, Endpoint: "resourcemanager.aliyuncs.com/x"}, "host[:port]"},
		{Config{Credentials: creds, Endpoint: "127.0.0.1:99999", Scheme: "HTTP"}, "port"},
		{Config{Credentials: creds, RegionID: "cn hangzhou"}, "region"},
		{Config{Credentials: creds, ServicePrincipal: "csas.aliyuncs.com/x"}, "principal"},
	}
	for _, b := range bad {
		if _, err := New(b.cfg); err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("New(%+v) = %v, want an error about %s", b.cfg, err, b.want)
		}
	}
}

// TestHTTPS runs the adapter with its production scheme against a TLS
// endpoint: the SDK really speaks HTTPS and verifies the certificate.
func TestHTTPS(t *testing.T) {
	sim, err := simulation.Open(simulation.Options{OwnerAccountID: directorytest.OwnerAccountID})
	if err != nil {
		t.Fatal(err)
	}
	srv := rdwire.NewServer(sim, rdwire.TestCredentials)
	hs := httptest.NewUnstartedServer(srv)
	hs.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake below is expected
	hs.StartTLS()
	t.Cleanup(hs.Close)
	endpoint := strings.TrimPrefix(hs.URL, "https://")
	creds := cloudcreds.Static(rdwire.TestCredentials)

	cfg := testConfig(endpoint, creds, "")
	cfg.Scheme = "" // the default: HTTPS
	cfg.RootCAs = hs.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.EnableDirectory(t.Context())
	if err != nil {
		t.Fatalf("EnableDirectory over HTTPS: %v", err)
	}
	if got, err := c.GetDirectory(t.Context()); err != nil || got.ID != d.ID {
		t.Fatalf("GetDirectory over HTTPS = %+v, %v", got, err)
	}

	// Without the test CA the certificate is refused: nothing is sent.
	cfg.RootCAs = nil
	untrusting, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	before := srv.TotalCalls()
	_, err = untrusting.GetDirectory(t.Context())
	wantAppErr(t, "untrusted certificate", err, apperr.KindUnavailable, apperr.CodeUnavailable)
	if srv.TotalCalls() != before {
		t.Fatal("a request reached the server over an unverified TLS connection")
	}
}

// TestCallsPerPortMethod pins the RD calls each port method makes (the role
// check's cost) and the parameters it sends.
func TestCallsPerPortMethod(t *testing.T) {
	w := newEnabled(t, nil)
	ctx := t.Context()
	seed := make([]directory.Account, 250)
	for i := range seed {
		seed[i] = directory.Account{AccountID: uid(i + 1)}
	}
	if err := w.sim.SeedAccounts(ctx, seed); err != nil {
		t.Fatal(err)
	}
	inv, err := w.sim.Invite(ctx, uid(900), directory.TargetAccount, "")
	if err != nil {
		t.Fatal(err)
	}

	steps := []struct {
		name string
		run  func() error
		want map[string]int
	}{
		{"GetDirectory", func() error { _, err := w.client.GetDirectory(ctx); return err },
			map[string]int{"GetResourceDirectory": 1}},
		{"ListAccounts (251 accounts)", func() error {
			as, err := w.client.ListAccounts(ctx)
			if err == nil && len(as) != 251 {
				err = fmt.Errorf("%d accounts, want 251", len(as))
			}
			return err
		}, map[string]int{"ListAccounts": 3}},
		{"ListInvitations", func() error { _, err := w.client.ListInvitations(ctx); return err },
			map[string]int{"ListHandshakesForResourceDirectory": 1}},
		{"Invite", func() error { _, err := w.client.Invite(ctx, uid(901), directory.TargetAccount, "hi"); return err },
			map[string]int{"InviteAccountToResourceDirectory": 1}},
		{"CancelInvitation", func() error { _, err := w.client.CancelInvitation(ctx, inv.ID); return err },
			map[string]int{"CancelHandshake": 1}},
		{"ListDelegatedAdmins", func() error { _, err := w.client.ListDelegatedAdmins(ctx); return err },
			map[string]int{"ListDelegatedAdministrators": 1}},
		{"RegisterDelegatedAdmin", func() error { return w.client.RegisterDelegatedAdmin(ctx, uid(1)) },
			map[string]int{"RegisterDelegatedAdministrator": 1}},
		{"RegisterDelegatedAdmin (same account)", func() error { return w.client.RegisterDelegatedAdmin(ctx, uid(1)) },
			map[string]int{"RegisterDelegatedAdministrator": 1}},
		{"RegisterDelegatedAdmin (another account)", func() error {
			err := w.client.RegisterDelegatedAdmin(ctx, uid(2))
			if !apperr.IsCode(err, apperr.CodeDelegatedExists) {
				return fmt.Errorf("got %v, want %s", err, apperr.CodeDelegatedExists)
			}
			return nil
		}, map[string]int{"RegisterDelegatedAdministrator": 1, "ListDelegatedAdministrators": 1}},
		{"DeregisterDelegatedAdmin", func() error { return w.client.DeregisterDelegatedAdmin(ctx, uid(1)) },
			map[string]int{"DeregisterDelegatedAdministrator": 1}},
		{"EnableDirectory (exists)", func() error {
			_, err := w.client.EnableDirectory(ctx)
			if !apperr.IsCode(err, apperr.CodeDirectoryExists) {
				return fmt.Errorf("got %v, want %s", err, apperr.CodeDirectoryExists)
			}
			return nil
		}, map[string]int{"EnableResourceDirectory": 1, "GetResourceDirectory": 1}},
	}
	for _, s := range steps {
		w.srv.ResetCalls()
		before := w.client.Calls()
		if err := s.run(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		got := w.srv.CallCounts()
		if fmt.Sprint(got) != fmt.Sprint(s.want) {
			t.Errorf("%s: RD calls %v, want %v", s.name, got, s.want)
		}
		after := w.client.Calls()
		for action, n := range s.want {
			if after[action]-before[action] != n {
				t.Errorf("%s: Client.Calls()[%s] grew by %d, want %d", s.name, action, after[action]-before[action], n)
			}
		}
	}

	// What went on the wire.
	w.srv.ResetCalls()
	if _, err := w.client.ListAccounts(ctx); err != nil {
		t.Fatal(err)
	}
	for i, r := range w.srv.Requests() {
		p := r.Params
		if p.Get("PageSize") != "100" || p.Get("PageNumber") != fmt.Sprint(i+1) {
			t.Errorf("ListAccounts page %d sent PageNumber=%s PageSize=%s", i+1, p.Get("PageNumber"), p.Get("PageSize"))
		}
		if p.Get("Version") != "2020-03-31" || p.Get("Format") != "JSON" || p.Get("RegionId") != "cn-hangzhou" ||
			p.Get("SecurityToken") != rdwire.TestCredentials.SecurityToken || p.Get("SignatureMethod") != "HMAC-SHA1" {
			t.Errorf("common parameters: %v", p)
		}
	}
	w.srv.ResetCalls()
	_ = w.client.RegisterDelegatedAdmin(ctx, uid(3))
	_ = w.client.DeregisterDelegatedAdmin(ctx, uid(3))
	_, _ = w.client.ListDelegatedAdmins(ctx)
	for _, r := range w.srv.Requests() {
		if r.Params.Get("ServicePrincipal") != directory.DefaultServicePrincipal {
			t.Errorf("%s sent ServicePrincipal=%q", r.Action, r.Params.Get("ServicePrincipal"))
		}
	}
}

func TestEnableSendsCurrentAccount(t *testing.T) {
	w := newWire(t, simulation.Options{OwnerAccountID: directorytest.OwnerAccountID}, nil)
	d, err := w.client.EnableDirectory(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	reqs := w.srv.Requests()
	if len(reqs) != 1 || reqs[0].Action != "EnableResourceDirectory" || reqs[0].Params.Get("EnableMode") != "CurrentAccount" {
		t.Fatalf("requests %+v", reqs)
	}
	if d.ManagementAccountID != directorytest.OwnerAccountID || d.ManagementAccountName != simulation.DefaultOwnerDisplayName || d.CreateTime.IsZero() {
		t.Fatalf("directory %+v", d)
	}
}

// TestErrorMapping injects every RD error code the adapter maps and checks
// the port error it becomes.
func TestErrorMapping(t *testing.T) {
	type result struct {
		kind apperr.Kind
		code apperr.Code
		nilE bool // the port answers success
	}
	ok := result{nilE: true}
	conflict := func(code apperr.Code) result { return result{kind: apperr.KindConflict, code: code} }
	notFound := func(code apperr.Code) result { return result{kind: apperr.KindNotFound, code: code} }
	invalid := func(code apperr.Code) result { return result{kind: apperr.KindInvalid, code: code} }
	internal := result{kind: apperr.KindInternal, code: "InternalError"}
	unavailable := result{kind: apperr.KindUnavailable, code: "ServiceUnavailable"}
	throttled := result{kind: apperr.KindThrottled, code: "Throttling"}

	ctx := context.Background()
	calls := map[string]func(c *Client) error{
		"GetResourceDirectory":               func(c *Client) error { _, err := c.GetDirectory(ctx); return err },
		"EnableResourceDirectory":            func(c *Client) error { _, err := c.EnableDirectory(ctx); return err },
		"ListAccounts":                       func(c *Client) error { _, err := c.ListAccounts(ctx); return err },
		"InviteAccountToResourceDirectory":   func(c *Client) error { _, err := c.Invite(ctx, uid(5), directory.TargetAccount, ""); return err },
		"ListHandshakesForResourceDirectory": func(c *Client) error { _, err := c.ListInvitations(ctx); return err },
		"CancelHandshake":                    func(c *Client) error { _, err := c.CancelInvitation(ctx, "h-x"); return err },
		"ListDelegatedAdministrators":        func(c *Client) error { _, err := c.ListDelegatedAdmins(ctx); return err },
		"RegisterDelegatedAdministrator":     func(c *Client) error { return c.RegisterDelegatedAdmin(ctx, uid(7)) }, // not a member
		"DeregisterDelegatedAdministrator":   func(c *Client) error { return c.DeregisterDelegatedAdmin(ctx, uid(1)) },
	}
	cases := []struct {
		action string
		status int
		code   string
		want   result
	}{
		// No directory: both codes RD uses.
		{"GetResourceDirectory", 404, "ResourceDirectoryNotInUse", notFound(apperr.CodeNoDirectory)},
		{"GetResourceDirectory", 404, "EntityNotExists.ResourceDirectory", notFound(apperr.CodeNoDirectory)},
		{"ListAccounts", 404, "EntityNotExists.ResourceDirectory", notFound(apperr.CodeNoDirectory)},
		{"ListHandshakesForResourceDirectory", 404, "EntityNotExists.ResourceDirectory", notFound(apperr.CodeNoDirectory)},
		{"InviteAccountToResourceDirectory", 404, "EntityNotExists.ResourceDirectory", notFound(apperr.CodeNoDirectory)},
		{"ListDelegatedAdministrators", 404, "EntityNotExists.ResourceDirectory", notFound(apperr.CodeNoDirectory)},
		{"RegisterDelegatedAdministrator", 404, "EntityNotExists.ResourceDirectory", notFound(apperr.CodeNoDirectory)},
		// Enable.
		{"EnableResourceDirectory", 409, "EntityAlreadyExists.ResourceDirectory", conflict(apperr.CodeDirectoryExists)},
		{"EnableResourceDirectory", 409, "NotSupport.AccountInAnotherResourceDirectory", conflict(apperr.CodeDirectoryExists)},
		{"EnableResourceDirectory", 409, "EnterpriseRealNameVerificationError", conflict("Conflict.EnterpriseVerificationRequired")},
		{"EnableResourceDirectory", 409, "MissingSecureMobilePhone", conflict("Conflict.SecureMobilePhoneRequired")},
		{"EnableResourceDirectory", 409, "Invalid.VerificationCode", conflict(apperr.CodeEnablePrecondition)},
		{"EnableResourceDirectory", 403, "NoPermission", result{kind: apperr.KindUnavailable, code: apperr.CodePermission}},
		// Invite: per-target failures.
		{"InviteAccountToResourceDirectory", 409, "EntityAlreadyExists.ResourceDir.Account", conflict(apperr.CodeAlreadyInDirectory)},
		{"InviteAccountToResourceDirectory", 409, "EntityAlreadyExists.Member", conflict(apperr.CodeAlreadyInDirectory)},
		{"InviteAccountToResourceDirectory", 409, "NotSupport.AccountInAnotherResourceDirectory", conflict("InAnotherDirectory")},
		{"InviteAccountToResourceDirectory", 409, "LegalEntityMismatch", conflict("LegalEntityMismatch")},
		{"InviteAccountToResourceDirectory", 409, "Invalid.AccountType", conflict("AccountTypeNotSupported")},
		{"InviteAccountToResourceDirectory", 409, "LimitExceeded.Invitation.InvalidTarget", conflict("InvitationTargetLimitExceeded")},
		{"InviteAccountToResourceDirectory", 409, "LimitExceeded.Undocumented", conflict(apperr.CodeLimitExceeded)},
		{"InviteAccountToResourceDirectory", 409, "EntityAlreadyExists.Handshake", conflict(apperr.CodeInvitationPending)},
		{"InviteAccountToResourceDirectory", 409, "LimitExceeded.Account", conflict(apperr.CodeLimitExceeded)},
		{"InviteAccountToResourceDirectory", 409, "LimitExceeded.InvitationRate", conflict(apperr.CodeLimitExceeded)},
		{"InviteAccountToResourceDirectory", 400, "InvalidParameter.TargetEntity", invalid("InvalidParameter.TargetEntity")},
		{"InviteAccountToResourceDirectory", 400, "InvalidParameter.Note.Length", invalid("InvalidParameter.Note")},
		// Cancel.
		{"CancelHandshake", 404, "EntityNotExists.Handshake", notFound(apperr.CodeInvitationNotFound)},
		{"CancelHandshake", 400, "InvalidParameter.HandshakeId", notFound(apperr.CodeInvitationNotFound)},
		{"CancelHandshake", 400, "MissingParameter.HandshakeId", invalid("MissingParameter.InvitationId")},
		{"CancelHandshake", 409, "HandshakeStatusMismatch", conflict(apperr.CodeInvitationStatus)},
		// Delegated administrator.
		{"RegisterDelegatedAdministrator", 409, "AccountAlreadyRegistered", ok},
		{"RegisterDelegatedAdministrator", 409, "DelegatedAccountNumberExceeded", conflict(apperr.CodeDelegatedExists)},
		{"RegisterDelegatedAdministrator", 409, "CannotRegisterMasterAsDelegatedAdministrator", invalid("InvalidParameter.AccountId")},
		{"RegisterDelegatedAdministrator", 409, "InvalidParameter.ServicePrincipal", conflict(apperr.CodeTrustedService)},
		{"RegisterDelegatedAdministrator", 404, "EntityNotExists.Account", notFound(apperr.CodeAccountNotFound)},
		{"RegisterDelegatedAdministrator", 409, "AccountTypeOrStatusMismatch", notFound(apperr.CodeAccountNotFound)}, // GetAccount says: not a member
		{"RegisterDelegatedAdministrator", 409, "SomethingUndocumented", notFound(apperr.CodeAccountNotFound)},
		{"DeregisterDelegatedAdministrator", 409, "AccountNotRegistered", notFound(apperr.CodeDelegatedNotFound)},
		{"DeregisterDelegatedAdministrator", 409, "InvalidParameter.ServicePrincipal", conflict(apperr.CodeTrustedService)},
		{"ListDelegatedAdministrators", 409, "InvalidParameter.ServicePrincipal", conflict(apperr.CodeTrustedService)},
		// Throttling, every flavour, on reads and writes.
		{"ListAccounts", 400, "Throttling", throttled},
		{"GetResourceDirectory", 400, "Throttling.User", throttled},
		{"InviteAccountToResourceDirectory", 400, "Throttling.Api", throttled},
		{"RegisterDelegatedAdministrator", 429, "Throttling.User", throttled},
		{"RegisterDelegatedAdministrator", 429, "ConcurrentCallNotSupported", throttled},
		{"InviteAccountToResourceDirectory", 409, "ConcurrentCallNotSupported", throttled}, // by code, whatever the status
		// RD down.
		{"GetResourceDirectory", 500, "InternalError", unavailable},
		{"ListAccounts", 503, "ServiceUnavailable", unavailable},
		{"CancelHandshake", 502, "BadGateway", unavailable},
		// The function role lacks a permission: 503 naming it.
		{"ListAccounts", 403, "NoPermission", result{kind: apperr.KindUnavailable, code: apperr.CodePermission}},
		{"GetResourceDirectory", 403, "Forbidden.RAM", result{kind: apperr.KindUnavailable, code: apperr.CodePermission}},
		// The account's own state: a Conflict quoting RD.
		{"ListAccounts", 403, "Forbidden.RiskControl", conflict(apperr.CodeEnablePrecondition)},
		// The gateway's plain parameter codes name no parameter.
		{"ListAccounts", 400, "InvalidParameter", invalid("InvalidParameter")},
		{"ListAccounts", 400, "MissingParameter", invalid("MissingParameter")},
		// Deployment problems: 500 with an operator-readable message.
		{"GetResourceDirectory", 404, "InvalidAccessKeyId.NotFound", internal},
		{"GetResourceDirectory", 400, "InvalidSecurityToken.Expired", internal},
		{"ListAccounts", 400, "SomethingNew", internal},
	}
	for _, tc := range cases {
		t.Run(tc.action+"/"+tc.code, func(t *testing.T) {
			w := newEnabled(t, func(c *Config) { c.MaxThrottleRetries = 1 })
			if err := w.sim.SeedAccounts(ctx, []directory.Account{{AccountID: uid(1)}}); err != nil {
				t.Fatal(err)
			}
			w.srv.Inject(rdwire.Fail(tc.action, 0, tc.status, tc.code))
			err := calls[tc.action](w.client)
			if tc.want.nilE {
				if err != nil {
					t.Fatalf("got %v, want success", err)
				}
				return
			}
			wantAppErr(t, tc.code, err, tc.want.kind, tc.want.code)
			if _, isApp := apperr.As(err); isApp && !strings.Contains(err.Error(), tc.code) && tc.want.kind != apperr.KindThrottled {
				t.Errorf("the cause (for logs) lost the RD code: %v", err)
			}
		})
	}
}

func TestMessagesNameWhatMatters(t *testing.T) {
	w := newEnabled(t, nil)
	ctx := t.Context()
	w.srv.Inject(rdwire.Fail("ListAccounts", 1, 403, "NoPermission"))
	_, err := w.client.ListAccounts(ctx)
	if ae := wantAppErr(t, "NoPermission", err, apperr.KindUnavailable, apperr.CodePermission); !strings.Contains(ae.Message, "resourcemanager:ListAccounts") ||
		!strings.Contains(ae.Message, "deploy/policy.go") {
		t.Errorf("message %q should name the missing permission and where the role is defined", ae.Message)
	}
	w.srv.Inject(rdwire.Fail("RegisterDelegatedAdministrator", 1, 409, "InvalidParameter.ServicePrincipal"))
	if ae := wantAppErr(t, "bad principal", w.client.RegisterDelegatedAdmin(ctx, uid(1)), apperr.KindConflict, apperr.CodeTrustedService); !strings.Contains(ae.Message, directory.DefaultServicePrincipal) {
		t.Errorf("message %q should name the principal", ae.Message)
	}
	w.srv.Inject(rdwire.Fail("EnableResourceDirectory", 1, 409, "NotSupport.AccountInAnotherResourceDirectory"))
	_, err = w.client.EnableDirectory(ctx)
	if ae := wantAppErr(t, "in another RD", err, apperr.KindConflict, apperr.CodeDirectoryExists); !strings.Contains(ae.Message, "member of the resource directory rd-") {
		t.Errorf("message %q should name the directory", ae.Message)
	}
}

// TestThrottlingRetried: throttled calls are retried with backoff; success
// within the budget is invisible, beyond it the caller gets 429.
func TestThrottlingRetried(t *testing.T) {
	ctx := t.Context()
	t.Run("recovers", func(t *testing.T) {
		w := newEnabled(t, func(c *Config) { c.MaxThrottleRetries = 3 })
		w.srv.Inject(rdwire.Throttle("ListAccounts", 3))
		as, err := w.client.ListAccounts(ctx)
		if err != nil || len(as) != 1 {
			t.Fatalf("ListAccounts = %v, %v", as, err)
		}
		if n := w.srv.Calls("ListAccounts"); n != 4 {
			t.Fatalf("%d ListAccounts calls, want 3 throttled + 1", n)
		}
	})
	t.Run("write retried exactly once applied", func(t *testing.T) {
		w := newEnabled(t, func(c *Config) { c.MaxThrottleRetries = 3 })
		w.srv.Inject(rdwire.Throttle("InviteAccountToResourceDirectory", 2))
		if _, err := w.client.Invite(ctx, uid(1), directory.TargetAccount, ""); err != nil {
			t.Fatal(err)
		}
		invs, err := w.sim.ListInvitations(ctx)
		if err != nil || len(invs) != 1 {
			t.Fatalf("invitations %v, %v: want exactly one", invs, err)
		}
	})
	t.Run("gives up as 429", func(t *testing.T) {
		w := newEnabled(t, func(c *Config) { c.MaxThrottleRetries = 2 })
		w.srv.Inject(rdwire.Throttle("GetResourceDirectory", 0))
		_, err := w.client.GetDirectory(ctx)
		ae := wantAppErr(t, "throttled", err, apperr.KindThrottled, "Throttling")
		if !strings.Contains(ae.Message, "Resource Directory") {
			t.Errorf("message %q should name the service", ae.Message)
		}
		if n := w.srv.Calls("GetResourceDirectory"); n != 3 {
			t.Fatalf("%d calls, want 1 + 2 retries", n)
		}
	})
	t.Run("no retries configured", func(t *testing.T) {
		w := newEnabled(t, func(c *Config) { c.MaxThrottleRetries = -1 })
		w.srv.Inject(rdwire.Throttle("GetResourceDirectory", 0))
		_, err := w.client.GetDirectory(ctx)
		wantAppErr(t, "throttled", err, apperr.KindThrottled, "Throttling")
		if n := w.srv.Calls("GetResourceDirectory"); n != 1 {
			t.Fatalf("%d calls, want 1", n)
		}
	})
	t.Run("backoff grows and is bounded", func(t *testing.T) {
		c, err := New(Config{Credentials: cloudcreds.Static(rdwire.TestCredentials), BackoffBase: 100 * time.Millisecond, MaxBackoff: 300 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		for attempt, limits := range [][2]time.Duration{{50, 100}, {100, 200}, {150, 300}, {150, 300}, {150, 300}} {
			for range 50 {
				d := c.backoff(attempt)
				if d < limits[0]*time.Millisecond || d > limits[1]*time.Millisecond {
					t.Fatalf("backoff(%d) = %s, want within [%dms, %dms]", attempt, d, limits[0], limits[1])
				}
			}
		}
		if d := c.backoff(1000); d > 300*time.Millisecond || d <= 0 {
			t.Fatalf("backoff(1000) = %s", d)
		}
	})
	t.Run("backoff waits between attempts", func(t *testing.T) {
		w := newEnabled(t, func(c *Config) { c.MaxThrottleRetries = 2 })
		var waits []time.Duration
		w.client.sleep = func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }
		w.srv.Inject(rdwire.Throttle("GetResourceDirectory", 2))
		if _, err := w.client.GetDirectory(ctx); err != nil {
			t.Fatal(err)
		}
		if len(waits) != 2 || waits[0] <= 0 || waits[1] <= 0 {
			t.Fatalf("waits %v, want two positive backoffs", waits)
		}
	})
}

// TestServerErrors: a 5xx becomes 503; reads are retried (bounded), writes
// never (their outcome is unknown).
func TestServerErrors(t *testing.T) {
	ctx := t.Context()
	t.Run("read retried once then 503", func(t *testing.T) {
		w := newEnabled(t, nil)
		w.srv.Inject(rdwire.Unavailable("ListAccounts", 0))
		_, err := w.client.ListAccounts(ctx)
		wantAppErr(t, "503", err, apperr.KindUnavailable, apperr.CodeUnavailable)
		if n := w.srv.Calls("ListAccounts"); n != 2 {
			t.Fatalf("%d calls, want 1 + 1 retry", n)
		}
	})
	t.Run("read recovers", func(t *testing.T) {
		w := newEnabled(t, nil)
		w.srv.Inject(rdwire.Fail("GetResourceDirectory", 1, 500, "InternalError"))
		if _, err := w.client.GetDirectory(ctx); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("write not retried", func(t *testing.T) {
		w := newEnabled(t, nil)
		w.srv.Inject(rdwire.Unavailable("InviteAccountToResourceDirectory", 1))
		_, err := w.client.Invite(ctx, uid(1), directory.TargetAccount, "")
		ae := wantAppErr(t, "write 503", err, apperr.KindUnavailable, apperr.CodeUnavailable)
		if !strings.Contains(ae.Message, "may or may not") {
			t.Errorf("message %q should say the outcome is unknown", ae.Message)
		}
		if n := w.srv.Calls("InviteAccountToResourceDirectory"); n != 1 {
			t.Fatalf("%d calls, want 1", n)
		}
	})
	t.Run("gateway HTML page", func(t *testing.T) {
		w := newEnabled(t, func(c *Config) { c.MaxServerRetries = -1 })
		w.srv.Inject(rdwire.Fault{Action: "GetResourceDirectory", Status: 502, Body: "<html><body>502 Bad Gateway</body></html>"})
		_, err := w.client.GetDirectory(ctx)
		ae := wantAppErr(t, "HTML 502", err, apperr.KindUnavailable, apperr.CodeUnavailable)
		if strings.Contains(ae.Message, "<html>") {
			t.Errorf("message %q leaks the gateway page", ae.Message)
		}
	})
	t.Run("nothing listening", func(t *testing.T) {
		hs := httptest.NewServer(http.NotFoundHandler())
		endpoint := strings.TrimPrefix(hs.URL, "http://")
		hs.Close()
		c, err := New(testConfig(endpoint, cloudcreds.Static(rdwire.TestCredentials), ""))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.GetDirectory(ctx)
		wantAppErr(t, "connection refused", err, apperr.KindUnavailable, apperr.CodeUnavailable)
	})
}

// TestSlowAnswers: the read timeout and the caller's ctx both bound a call.
func TestSlowAnswers(t *testing.T) {
	t.Run("read timeout", func(t *testing.T) {
		w := newEnabled(t, func(c *Config) { c.ReadTimeout = 50 * time.Millisecond })
		arrived := make(chan struct{})
		var once sync.Once
		w.srv.Inject(rdwire.Fault{Action: "GetResourceDirectory", Delay: time.Minute, Arrived: func() { once.Do(func() { close(arrived) }) }})
		start := time.Now()
		_, err := w.client.GetDirectory(t.Context())
		wantAppErr(t, "timeout", err, apperr.KindUnavailable, apperr.CodeUnavailable)
		if d := time.Since(start); d > 20*time.Second {
			t.Fatalf("took %s", d)
		}
		<-arrived
		if n := w.srv.Calls("GetResourceDirectory"); n != 1 {
			t.Fatalf("%d calls: a timed-out call must not be repeated", n)
		}
	})
	t.Run("ctx cancelled mid-call", func(t *testing.T) {
		w := newEnabled(t, nil)
		ctx, cancel := context.WithCancel(t.Context())
		arrived := make(chan struct{})
		w.srv.Inject(rdwire.Fault{Action: "ListAccounts", Times: 1, Delay: time.Minute, Arrived: func() { close(arrived) }})
		done := make(chan error, 1)
		go func() { _, err := w.client.ListAccounts(ctx); done <- err }()
		<-arrived
		cancel()
		err := <-done
		wantAppErr(t, "cancelled", err, apperr.KindUnavailable, apperr.CodeUnavailable)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("error %v does not wrap context.Canceled", err)
		}
		// The conn went back to the pool: the client still works.
		if _, err := w.client.ListAccounts(t.Context()); err != nil {
			t.Fatalf("after cancel: %v", err)
		}
	})
	t.Run("ctx cancelled during backoff", func(t *testing.T) {
		w := newEnabled(t, func(c *Config) { c.BackoffBase = time.Hour; c.MaxBackoff = time.Hour })
		ctx, cancel := context.WithCancel(t.Context())
		// The caller goes away while the adapter waits an hour to retry.
		w.client.sleep = func(ctx context.Context, d time.Duration) error {
			if d < 30*time.Minute {
				t.Errorf("backoff %s, want about an hour", d)
			}
			cancel()
			return sleepCtx(ctx, d)
		}
		w.srv.Inject(rdwire.Throttle("GetResourceDirectory", 0))
		_, err := w.client.GetDirectory(ctx)
		wantAppErr(t, "cancelled backoff", err, apperr.KindThrottled, "Throttling")
		if n := w.srv.Calls("GetResourceDirectory"); n != 1 {
			t.Fatalf("%d calls after cancel", n)
		}
	})
	t.Run("ctx already done", func(t *testing.T) {
		w := newEnabled(t, nil)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := w.client.GetDirectory(ctx)
		wantAppErr(t, "done ctx", err, apperr.KindUnavailable, apperr.CodeUnavailable)
		if n := w.srv.TotalCalls(); n != 0 {
			t.Fatalf("%d calls with a done ctx", n)
		}
	})
}

// TestSignatureMismatch: a wrong secret is caught by the wire server's
// signature check, is not retried, and surfaces as a credentials problem.
func TestSignatureMismatch(t *testing.T) {
	w := newEnabled(t, nil)
	wrong := rdwire.TestCredentials
	wrong.AccessKeySecret = "not-the-secret"
	w.creds.Set(wrong)
	_, err := w.client.GetDirectory(t.Context())
	ae := wantAppErr(t, "bad signature", err, apperr.KindInternal, apperr.CodeInternal)
	if !strings.Contains(ae.Message, "credentials") || !strings.Contains(ae.Message, "SignatureDoesNotMatch") {
		t.Errorf("message %q should point at the credentials", ae.Message)
	}
	if w.srv.SignatureFailures() != 1 || w.srv.Calls("GetResourceDirectory") != 1 {
		t.Fatalf("signature failures %d, calls %d: want 1 and 1", w.srv.SignatureFailures(), w.srv.Calls("GetResourceDirectory"))
	}
	// The SDK compared its string to sign with the server's and found them
	// equal: the canonicalisation matches, only the secret is wrong.
	if se, ok := rdError(err); !ok || !strings.Contains(se.Recommend(), "InvalidAccessKeySecret") {
		t.Fatalf("SDK recommend %v: the server's string to sign differs from the SDK's", err)
	}
}

// TestCredentialRotation: the adapter signs with the Source's current
// credentials; a rotation needs no rebuild, and a call signed just before a
// rotation is retried once with the new key.
func TestCredentialRotation(t *testing.T) {
	ctx := t.Context()
	old := cloudcreds.Credentials{AccessKeyID: "STS.old", AccessKeySecret: "old-secret", SecurityToken: "old-token"}

	t.Run("next call uses the new credentials", func(t *testing.T) {
		w := newEnabled(t, nil)
		w.creds.Set(old)
		_, err := w.client.GetDirectory(ctx)
		wantAppErr(t, "old key", err, apperr.KindInternal, apperr.CodeInternal)
		w.creds.Set(rdwire.TestCredentials) // what Observe does on the next invocation
		if _, err := w.client.GetDirectory(ctx); err != nil {
			t.Fatalf("after rotation: %v", err)
		}
		for _, r := range w.srv.Requests()[1:] {
			if r.Params.Get("AccessKeyId") != rdwire.TestCredentials.AccessKeyID || r.Params.Get("SecurityToken") != rdwire.TestCredentials.SecurityToken {
				t.Fatalf("signed with %v", r.Params)
			}
		}
	})
	t.Run("rotation during a call", func(t *testing.T) {
		sim, err := simulation.Open(simulation.Options{OwnerAccountID: directorytest.OwnerAccountID})
		if err != nil {
			t.Fatal(err)
		}
		srv := rdwire.NewServer(sim, rdwire.TestCredentials)
		creds := cloudcreds.Static(old)
		var once sync.Once
		// The request was signed with the old key; the role rotates before
		// it is checked.
		hs := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			once.Do(func() { creds.Set(rdwire.TestCredentials) })
			srv.ServeHTTP(rw, r)
		}))
		t.Cleanup(hs.Close)
		c, err := New(testConfig(strings.TrimPrefix(hs.URL, "http://"), creds, ""))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.EnableDirectory(ctx); err != nil {
			t.Fatalf("EnableDirectory across a rotation: %v", err)
		}
		reqs := srv.Requests()
		if len(reqs) != 2 || reqs[0].Code != "InvalidAccessKeyId.NotFound" || reqs[1].Status != 200 {
			t.Fatalf("requests %+v: want one rejected old-key call and one accepted retry", reqs)
		}
	})
	t.Run("no credentials", func(t *testing.T) {
		w := newWire(t, simulation.Options{OwnerAccountID: directorytest.OwnerAccountID},
			func(c *Config) { c.Credentials = cloudcreds.Static(cloudcreds.Credentials{}) })
		_, err := w.client.GetDirectory(ctx)
		ae := wantAppErr(t, "no credentials", err, apperr.KindInternal, apperr.CodeInternal)
		if !strings.Contains(ae.Message, "credentials") {
			t.Errorf("message %q", ae.Message)
		}
		if n := w.srv.TotalCalls(); n != 0 {
			t.Fatalf("%d requests sent without credentials", n)
		}
	})
}

// TestConcurrentUse drives one Client from many goroutines (run with -race:
// the SDK client itself is not goroutine-safe).
func TestConcurrentUse(t *testing.T) {
	for _, conc := range []int{1, 3} {
		t.Run(fmt.Sprintf("MaxConcurrency=%d", conc), func(t *testing.T) {
			w := newEnabled(t, func(c *Config) { c.MaxConcurrency = conc; c.MaxThrottleRetries = 10 })
			ctx := t.Context()
			seed := make([]directory.Account, 120)
			for i := range seed {
				seed[i] = directory.Account{AccountID: uid(i + 1)}
			}
			if err := w.sim.SeedAccounts(ctx, seed); err != nil {
				t.Fatal(err)
			}
			w.srv.Inject(rdwire.Throttle("ListAccounts", 5)) // retries interleave too
			const n = 24
			var wg sync.WaitGroup
			errs := make(chan error, 4*n)
			for i := range n {
				wg.Go(func() {
					if _, err := w.client.Invite(ctx, uid(500+i), directory.TargetAccount, ""); err != nil {
						errs <- fmt.Errorf("Invite: %w", err)
					}
				})
				wg.Go(func() {
					if as, err := w.client.ListAccounts(ctx); err != nil || len(as) != 121 {
						errs <- fmt.Errorf("ListAccounts: %d, %w", len(as), err)
					}
				})
				wg.Go(func() {
					if _, err := w.client.GetDirectory(ctx); err != nil {
						errs <- fmt.Errorf("GetDirectory: %w", err)
					}
				})
				wg.Go(func() {
					w.creds.Set(rdwire.TestCredentials) // Observe on every invocation: same key, no change
					if _, err := w.client.ListDelegatedAdmins(ctx); err != nil {
						errs <- fmt.Errorf("ListDelegatedAdmins: %w", err)
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			invs, err := w.client.ListInvitations(ctx)
			if err != nil || len(invs) != n {
				t.Fatalf("%d invitations, %v; want %d", len(invs), err, n)
			}
			if len(w.client.pool) != conc {
				t.Fatalf("%d SDK clients back in the pool, want %d", len(w.client.pool), conc)
			}
		})
	}
}

func TestPaginationFollowsTotalCount(t *testing.T) {
	for _, tc := range []struct{ accounts, calls int }{{0, 1}, {98, 1}, {99, 1}, {199, 2}, {200, 3}, {299, 3}} {
		t.Run(fmt.Sprint(tc.accounts+1, "accounts"), func(t *testing.T) {
			w := newEnabled(t, nil)
			if tc.accounts > 0 {
				seed := make([]directory.Account, tc.accounts)
				for i := range seed {
					seed[i] = directory.Account{AccountID: uid(i + 1)}
				}
				if err := w.sim.SeedAccounts(t.Context(), seed); err != nil {
					t.Fatal(err)
				}
			}
			as, err := w.client.ListAccounts(t.Context())
			if err != nil || len(as) != tc.accounts+1 {
				t.Fatalf("%d accounts, %v", len(as), err)
			}
			if n := w.srv.Calls("ListAccounts"); n != tc.calls {
				t.Fatalf("%d ListAccounts calls for %d accounts, want %d", n, tc.accounts+1, tc.calls)
			}
		})
	}
}

func TestParseTime(t *testing.T) {
	want := time.Date(2021, 3, 25, 6, 11, 24, 0, time.UTC)
	for in, w := range map[string]time.Time{
		"2021-03-25T06:11:24Z":      want,
		"2021-03-25T06:11:24.000Z":  want,
		"2021-03-25T14:11:24+08:00": want,
		"1616652684000":             want,
		"1616652684164":             want.Add(164 * time.Millisecond),
		"2021-03-25T06:11Z":         want.Add(-24 * time.Second),
		"":                          {},
		"yesterday":                 {},
		"-5":                        {},
	} {
		if got := parseTime(in); !got.Equal(w) || (!got.IsZero() && got.Location() != time.UTC) {
			t.Errorf("parseTime(%q) = %v, want %v", in, got, w)
		}
	}
}

func TestLastPage(t *testing.T) {
	for _, tc := range []struct {
		page, size, got, total int
		last                   bool
	}{
		{1, 100, 100, 250, false},
		{3, 100, 50, 250, true},
		{1, 100, 0, 250, true}, // an empty page ends the loop whatever TotalCount says
		{1, 0, 100, 100, true}, // PageSize missing: assume ours
		{2, 50, 50, 150, false},
		{1, 100, 3, 3, true},
	} {
		if got := lastPage(tc.page, tc.size, tc.got, tc.total); got != tc.last {
			t.Errorf("lastPage(%d, %d, %d, %d) = %v", tc.page, tc.size, tc.got, tc.total, got)
		}
	}
}

// TestPermissionDeniedLoggedOnce: a RAM denial is 503
// ServiceUnavailable.Permission naming the permission, and the operator's
// log gets one error line per denied action, not one per request.
func TestPermissionDeniedLoggedOnce(t *testing.T) {
	var buf bytes.Buffer
	lg := zerolog.New(&buf)
	w := newEnabled(t, func(c *Config) { c.Log = &lg })
	ctx := t.Context()
	w.srv.Inject(rdwire.Fail("ListAccounts", 3, 403, "NoPermission"))
	w.srv.Inject(rdwire.Fail("ListHandshakesForResourceDirectory", 1, 403, "Forbidden.RAM"))
	for range 3 {
		_, err := w.client.ListAccounts(ctx)
		wantAppErr(t, "NoPermission", err, apperr.KindUnavailable, apperr.CodePermission)
	}
	_, err := w.client.ListInvitations(ctx)
	wantAppErr(t, "Forbidden.RAM", err, apperr.KindUnavailable, apperr.CodePermission)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"level":"error"`) ||
		!strings.Contains(lines[0], `"permission":"resourcemanager:ListAccounts"`) ||
		!strings.Contains(lines[1], `"permission":"resourcemanager:ListHandshakesForResourceDirectory"`) ||
		!strings.Contains(lines[0], "deploy/policy.go") {
		t.Fatalf("want one error line per denied action naming the permission and the role's policy, got:\n%s", buf.String())
	}
}
