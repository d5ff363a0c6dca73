package directorytest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/local/simulation"
	"github.com/sase-multiaccount/backend/shared/port/directory"
)

func (s *suite) testDelegatedAdmin(t *testing.T) {
	e := s.enabled(t)
	e.join(uid(1), "Security")
	e.join(uid(2), "Operations")
	wantDelegates(t, e.delegates(), nil)

	wantErr(t, "register the MA", e.svc.RegisterDelegatedAdmin(e.ctx, OwnerAccountID), apperr.KindInvalid, apperr.InvalidParameter("AccountId"))
	wantErr(t, "register a non-member", e.svc.RegisterDelegatedAdmin(e.ctx, uid(9)), apperr.KindNotFound, apperr.CodeAccountNotFound)
	e.invite(uid(3)) // invited is not joined
	wantErr(t, "register an invited account", e.svc.RegisterDelegatedAdmin(e.ctx, uid(3)), apperr.KindNotFound, apperr.CodeAccountNotFound)

	tReg := e.clock.Advance(time.Minute)
	noErr(t, "register", e.svc.RegisterDelegatedAdmin(e.ctx, uid(1)))
	want := []directory.DelegatedAdmin{{AccountID: uid(1), DisplayName: "Security", EnabledTime: tReg}}
	wantDelegates(t, e.delegates(), want)

	e.clock.Advance(time.Minute)
	noErr(t, "register the same account again", e.svc.RegisterDelegatedAdmin(e.ctx, uid(1)))
	wantDelegates(t, e.delegates(), want) // EnabledTime unchanged

	ae := wantErr(t, "register another account", e.svc.RegisterDelegatedAdmin(e.ctx, uid(2)), apperr.KindConflict, apperr.CodeDelegatedExists)
	if !strings.Contains(ae.Message, uid(1)) {
		t.Errorf("message %q should name the holder %s", ae.Message, uid(1))
	}
	wantDelegates(t, e.delegates(), want)

	wantErr(t, "deregister a non-DA member", e.svc.DeregisterDelegatedAdmin(e.ctx, uid(2)), apperr.KindNotFound, apperr.CodeDelegatedNotFound)
	wantErr(t, "deregister a non-member", e.svc.DeregisterDelegatedAdmin(e.ctx, uid(9)), apperr.KindNotFound, apperr.CodeDelegatedNotFound)

	ae = wantErr(t, "remove the DA", e.sim.RemoveAccount(e.ctx, uid(1)), apperr.KindConflict, apperr.CodeDenyTrustedService)
	if !strings.Contains(ae.Message, directory.DefaultServicePrincipal) {
		t.Errorf("message %q should name the trusted service", ae.Message)
	}
	if n := len(e.accounts()); n != 3 {
		t.Fatalf("refused removal changed the accounts: %d", n)
	}

	_, err := e.sim.RenameAccount(e.ctx, uid(1), "SecOps")
	noErr(t, "rename DA", err)
	want[0].DisplayName = "SecOps"
	wantDelegates(t, e.delegates(), want)

	noErr(t, "deregister", e.svc.DeregisterDelegatedAdmin(e.ctx, uid(1)))
	wantDelegates(t, e.delegates(), nil)
	wantErr(t, "deregister twice", e.svc.DeregisterDelegatedAdmin(e.ctx, uid(1)), apperr.KindNotFound, apperr.CodeDelegatedNotFound)

	tReg2 := e.clock.Advance(time.Minute)
	noErr(t, "register the other account", e.svc.RegisterDelegatedAdmin(e.ctx, uid(2)))
	wantDelegates(t, e.delegates(), []directory.DelegatedAdmin{{AccountID: uid(2), DisplayName: "Operations", EnabledTime: tReg2}})
	noErr(t, "remove the former DA", e.sim.RemoveAccount(e.ctx, uid(1)))
}

func (s *suite) testDelegatedAdminLimit(t *testing.T) {
	e := s.enabled(t, func(o *simulation.Options) { o.MaxDelegatedAdmins = 2 })
	for i := 1; i <= 3; i++ {
		e.join(uid(i), fmt.Sprintf("m%d", i))
	}
	t1 := e.clock.Advance(time.Minute)
	noErr(t, "register 2", e.svc.RegisterDelegatedAdmin(e.ctx, uid(2)))
	t2 := e.clock.Advance(time.Minute)
	noErr(t, "register 1", e.svc.RegisterDelegatedAdmin(e.ctx, uid(1)))
	ae := wantErr(t, "third DA", e.svc.RegisterDelegatedAdmin(e.ctx, uid(3)), apperr.KindConflict, apperr.CodeDelegatedExists)
	if !strings.Contains(ae.Message, uid(1)) || !strings.Contains(ae.Message, uid(2)) {
		t.Errorf("message %q should name both holders", ae.Message)
	}
	wantDelegates(t, e.delegates(), []directory.DelegatedAdmin{
		{AccountID: uid(2), DisplayName: "m2", EnabledTime: t1},
		{AccountID: uid(1), DisplayName: "m1", EnabledTime: t2},
	})
}

func (s *suite) testDelegatedAdminOtherPrincipal(t *testing.T) {
	const mine, other = "sase.example.com", "config.aliyuncs.com"
	e := s.enabled(t, func(o *simulation.Options) { o.ServicePrincipal = mine })
	e.join(uid(1), "Config admin")
	e.join(uid(2), "SASE admin")
	noErr(t, "register for another principal", e.sim.RegisterDelegatedAdminFor(e.ctx, uid(1), other))
	wantDelegates(t, e.delegates(), nil)
	noErr(t, "register for the configured principal", e.svc.RegisterDelegatedAdmin(e.ctx, uid(2)))

	ds, err := e.sim.ListDelegatedAdminsFor(e.ctx, mine)
	noErr(t, "ListDelegatedAdminsFor mine", err)
	if len(ds) != 1 || ds[0].AccountID != uid(2) {
		t.Fatalf("configured principal: %+v", ds)
	}
	ds, err = e.sim.ListDelegatedAdminsFor(e.ctx, other)
	noErr(t, "ListDelegatedAdminsFor other", err)
	if len(ds) != 1 || ds[0].AccountID != uid(1) {
		t.Fatalf("other principal: %+v", ds)
	}
	ds, err = e.sim.ListDelegatedAdminsFor(e.ctx, directory.DefaultServicePrincipal)
	noErr(t, "ListDelegatedAdminsFor default", err)
	if len(ds) != 0 {
		t.Fatalf("the default principal is not configured here, yet has %+v", ds)
	}

	wantErr(t, "deregister another principal's DA", e.svc.DeregisterDelegatedAdmin(e.ctx, uid(1)), apperr.KindNotFound, apperr.CodeDelegatedNotFound)
	ae := wantErr(t, "remove another principal's DA", e.sim.RemoveAccount(e.ctx, uid(1)), apperr.KindConflict, apperr.CodeDenyTrustedService)
	if !strings.Contains(ae.Message, other) {
		t.Errorf("message %q should name %s", ae.Message, other)
	}
	noErr(t, "deregister for the other principal", e.sim.DeregisterDelegatedAdminFor(e.ctx, uid(1), other))
	noErr(t, "remove", e.sim.RemoveAccount(e.ctx, uid(1)))
	wantErr(t, "ListDelegatedAdminsFor without principal",
		func() error { _, err := e.sim.ListDelegatedAdminsFor(e.ctx, ""); return err }(), apperr.KindInvalid, "MissingParameter.ServicePrincipal")
}
