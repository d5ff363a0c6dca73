package resourcemanager

import (
	"strings"
	"testing"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/local/rdwire"
	"github.com/sase-multiaccount/backend/shared/local/simulation"
	"github.com/sase-multiaccount/backend/shared/port/directory"
	"github.com/sase-multiaccount/backend/shared/testkit/directorytest"
)

// TestEnableRefusalsThroughSDK: an owner the simulation is configured as
// ineligible (not enterprise-verified, no secure phone, …) is refused by
// the wire server with RD's documented 409 code, and the adapter turns each
// into the port's 409 whose message says what to do. Nothing is enabled.
func TestEnableRefusalsThroughSDK(t *testing.T) {
	for _, r := range directory.EnableRefusals {
		t.Run(r.RDCode, func(t *testing.T) {
			w := newWire(t, simulation.Options{OwnerAccountID: directorytest.OwnerAccountID, OwnerConditions: []string{r.RDCode}}, nil)
			_, err := w.client.EnableDirectory(t.Context())
			ae := wantAppErr(t, r.RDCode, err, apperr.KindConflict, r.Code)
			if ae.Message != r.Advice {
				t.Errorf("message %q, want the advice %q", ae.Message, r.Advice)
			}
			if !strings.Contains(err.Error(), r.RDCode) {
				t.Errorf("the cause (for logs) lost RD's code: %v", err)
			}
			reqs := w.srv.Requests()
			if len(reqs) != 1 || reqs[0].Action != actEnable || reqs[0].Status != 409 || reqs[0].Code != r.RDCode {
				t.Fatalf("wire requests %+v, want one EnableResourceDirectory answered 409 %s", reqs, r.RDCode)
			}
			if _, err := w.sim.GetDirectory(t.Context()); !apperr.IsCode(err, apperr.CodeNoDirectory) {
				t.Fatalf("a refused enable left a directory: %v", err)
			}
		})
	}
	t.Run("in another directory", func(t *testing.T) {
		w := newWire(t, simulation.Options{OwnerAccountID: directorytest.OwnerAccountID,
			OwnerConditions: []string{simulation.CodeInAnotherDirectory}}, nil)
		_, err := w.client.EnableDirectory(t.Context())
		wantAppErr(t, "in another RD", err, apperr.KindConflict, apperr.CodeDirectoryExists)
		if reqs := w.srv.Requests(); reqs[0].Code != simulation.CodeInAnotherDirectory {
			t.Fatalf("wire answered %s, want %s", reqs[0].Code, simulation.CodeInAnotherDirectory)
		}
	})
	t.Run("undocumented 409 quotes RD", func(t *testing.T) {
		w := newWire(t, simulation.Options{OwnerAccountID: directorytest.OwnerAccountID}, nil)
		w.srv.Inject(rdwire.Fault{Action: actEnable, Times: 1, Status: 409, Code: "InvalidParameter.ManagementAccountSecurityInfo",
			Message: "The security information of the management account is invalid."})
		_, err := w.client.EnableDirectory(t.Context())
		ae := wantAppErr(t, "other 409", err, apperr.KindConflict, apperr.CodeEnablePrecondition)
		if !strings.Contains(ae.Message, "InvalidParameter.ManagementAccountSecurityInfo") || !strings.Contains(ae.Message, "security information") {
			t.Errorf("message %q should quote RD's code and message", ae.Message)
		}
	})
}

// TestInviteRefusalsThroughSDK: targets the simulation is configured to
// refuse get RD's documented codes on the wire and the port's per-target
// codes from the adapter; other targets of the same directory are invited.
func TestInviteRefusalsThroughSDK(t *testing.T) {
	conds := map[string]string{}
	want := map[string]directory.Refusal{}
	for i, r := range directory.InviteRefusals {
		conds[uid(10+i)] = r.RDCode
		want[uid(10+i)] = r
	}
	conds["refused@example.com"] = "LegalEntityMismatch"
	clock := directorytest.NewClock(directorytest.Start)
	w := newWire(t, simulation.Options{OwnerAccountID: directorytest.OwnerAccountID, Now: clock.Now, TargetConditions: conds}, nil)
	ctx := t.Context()
	if _, err := w.client.EnableDirectory(ctx); err != nil {
		t.Fatal(err)
	}
	for target, r := range want {
		_, err := w.client.Invite(ctx, target, directory.TargetAccount, "")
		ae := wantAppErr(t, r.RDCode, err, apperr.KindConflict, r.Code)
		if !strings.Contains(ae.Message, target) || !strings.Contains(ae.Message, r.Advice) {
			t.Errorf("%s: message %q should name the target and give the advice", r.RDCode, ae.Message)
		}
		reqs := w.srv.Requests()
		if last := reqs[len(reqs)-1]; last.Status != 409 || last.Code != r.RDCode {
			t.Errorf("%s: wire answered %d %s", target, last.Status, last.Code)
		}
	}
	_, err := w.client.Invite(ctx, "Refused@Example.com", directory.TargetEmail, "")
	wantAppErr(t, "email target", err, apperr.KindConflict, "LegalEntityMismatch")
	if _, err := w.client.Invite(ctx, uid(1), directory.TargetAccount, ""); err != nil {
		t.Fatalf("an eligible target: %v", err)
	}
	if invs, _ := w.sim.ListInvitations(ctx); len(invs) != 1 {
		t.Fatalf("invitations %+v: refused targets must not be invited", invs)
	}
}

// TestConcurrentCallRetried: ConcurrentCallNotSupported (nothing applied)
// is retried like throttling on writes, and the write then lands once.
func TestConcurrentCallRetried(t *testing.T) {
	ctx := t.Context()
	t.Run("register recovers", func(t *testing.T) {
		w := newEnabled(t, func(c *Config) { c.MaxThrottleRetries = 3 })
		if err := w.sim.SeedAccounts(ctx, []directory.Account{{AccountID: uid(1)}}); err != nil {
			t.Fatal(err)
		}
		w.srv.Inject(rdwire.ConcurrentCall(actRegister, 2))
		if err := w.client.RegisterDelegatedAdmin(ctx, uid(1)); err != nil {
			t.Fatal(err)
		}
		if n := w.srv.Calls(actRegister); n != 3 {
			t.Fatalf("%d calls, want 2 refused + 1", n)
		}
		if das, _ := w.sim.ListDelegatedAdmins(ctx); len(das) != 1 {
			t.Fatalf("delegated admins %+v", das)
		}
	})
	t.Run("invite recovers", func(t *testing.T) {
		w := newEnabled(t, func(c *Config) { c.MaxThrottleRetries = 3 })
		w.srv.Inject(rdwire.ConcurrentCall(actInvite, 1))
		if _, err := w.client.Invite(ctx, uid(2), directory.TargetAccount, ""); err != nil {
			t.Fatal(err)
		}
		if invs, _ := w.sim.ListInvitations(ctx); len(invs) != 1 {
			t.Fatalf("invitations %+v, want exactly one", invs)
		}
	})
	t.Run("gives up as 429 that says why", func(t *testing.T) {
		w := newEnabled(t, func(c *Config) { c.MaxThrottleRetries = 2 })
		w.srv.Inject(rdwire.ConcurrentCall(actInvite, 0))
		_, err := w.client.Invite(ctx, uid(2), directory.TargetAccount, "")
		ae := wantAppErr(t, "concurrent", err, apperr.KindThrottled, "Throttling")
		if !strings.Contains(ae.Message, "another change") {
			t.Errorf("message %q should say another change was in progress", ae.Message)
		}
		if n := w.srv.Calls(actInvite); n != 3 {
			t.Fatalf("%d calls, want 1 + 2 retries", n)
		}
	})
}
