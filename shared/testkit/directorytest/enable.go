package directorytest

import (
	"strings"
	"testing"
	"time"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/local/simulation"
	"github.com/sase-multiaccount/backend/shared/port/directory"
)

func (s *suite) testNoDirectory(t *testing.T) {
	e := s.setup(t)
	nf := func(what string, err error) {
		t.Helper()
		wantErr(t, what, err, apperr.KindNotFound, apperr.CodeNoDirectory)
	}
	_, err := e.svc.GetDirectory(e.ctx)
	nf("GetDirectory", err)
	_, err = e.svc.ListAccounts(e.ctx)
	nf("ListAccounts", err)
	_, err = e.svc.CountAccounts(e.ctx)
	nf("CountAccounts", err)
	_, err = e.svc.Invite(e.ctx, uid(1), directory.TargetAccount, "")
	nf("Invite", err)
	_, err = e.svc.ListInvitations(e.ctx)
	nf("ListInvitations", err)
	_, err = e.svc.CancelInvitation(e.ctx, "h-doesnotexist0001")
	nf("CancelInvitation", err)
	_, err = e.svc.ListDelegatedAdmins(e.ctx)
	nf("ListDelegatedAdmins", err)
	nf("RegisterDelegatedAdmin", e.svc.RegisterDelegatedAdmin(e.ctx, uid(1)))
	nf("DeregisterDelegatedAdmin", e.svc.DeregisterDelegatedAdmin(e.ctx, uid(1)))

	_, err = e.sim.AcceptInvitation(e.ctx, "h-doesnotexist0001", "x")
	nf("AcceptInvitation", err)
	nf("DeclineInvitation", e.sim.DeclineInvitation(e.ctx, "h-doesnotexist0001"))
	nf("RemoveAccount", e.sim.RemoveAccount(e.ctx, uid(1)))
	_, err = e.sim.RenameAccount(e.ctx, uid(1), "x")
	nf("RenameAccount", err)
	nf("DestroyDirectory", e.sim.DestroyDirectory(e.ctx))
	nf("SeedAccounts", e.sim.SeedAccounts(e.ctx, []directory.Account{{AccountID: uid(1)}}))
	_, err = e.sim.GetAccount(e.ctx, uid(1))
	nf("GetAccount", err)
	_, err = e.sim.GetInvitation(e.ctx, "h-doesnotexist0001")
	nf("GetInvitation", err)
	_, err = e.sim.ListDelegatedAdminsFor(e.ctx, directory.DefaultServicePrincipal)
	nf("ListDelegatedAdminsFor", err)
	nf("RegisterDelegatedAdminFor", e.sim.RegisterDelegatedAdminFor(e.ctx, uid(1), "config.aliyuncs.com"))
	nf("DeregisterDelegatedAdminFor", e.sim.DeregisterDelegatedAdminFor(e.ctx, uid(1), "config.aliyuncs.com"))
}

func (s *suite) testEnableDirectory(t *testing.T) {
	e := s.setup(t)
	d, err := e.svc.EnableDirectory(e.ctx)
	noErr(t, "EnableDirectory", err)
	if !strings.HasPrefix(d.ID, "rd-") || len(d.ID) <= len("rd-") {
		t.Fatalf("directory ID %q, want rd-…", d.ID)
	}
	if d.ManagementAccountID != OwnerAccountID || d.ManagementAccountName != simulation.DefaultOwnerDisplayName || !d.CreateTime.Equal(Start) {
		t.Fatalf("directory %+v: want MA %s %q created %s", d, OwnerAccountID, simulation.DefaultOwnerDisplayName, Start)
	}
	got, err := e.svc.GetDirectory(e.ctx)
	noErr(t, "GetDirectory", err)
	if got.ID != d.ID || got.ManagementAccountID != d.ManagementAccountID || got.ManagementAccountName != d.ManagementAccountName || !got.CreateTime.Equal(d.CreateTime) {
		t.Fatalf("GetDirectory = %+v, want %+v", got, d)
	}

	e.clock.Advance(time.Minute)
	_, err = e.svc.EnableDirectory(e.ctx)
	ae := wantErr(t, "second EnableDirectory", err, apperr.KindConflict, apperr.CodeDirectoryExists)
	if !strings.Contains(ae.Message, d.ID) {
		t.Errorf("message %q should name the existing directory %s", ae.Message, d.ID)
	}
	again, err := e.svc.GetDirectory(e.ctx)
	noErr(t, "GetDirectory", err)
	if again.ID != d.ID || !again.CreateTime.Equal(Start) {
		t.Fatalf("a refused EnableDirectory changed the directory: %+v", again)
	}

	wantAccounts(t, e.accounts(), []directory.Account{e.ma()})
	if n := len(e.invitations()); n != 0 {
		t.Fatalf("fresh directory has %d invitations", n)
	}
	if n := len(e.delegates()); n != 0 {
		t.Fatalf("fresh directory has %d delegated admins", n)
	}
}

func (s *suite) testEnableDirectoryOwnerName(t *testing.T) {
	e := s.enabled(t, func(o *simulation.Options) { o.OwnerDisplayName = "Acme Headquarters" })
	d, err := e.svc.GetDirectory(e.ctx)
	noErr(t, "GetDirectory", err)
	if d.ManagementAccountName != "Acme Headquarters" {
		t.Fatalf("ManagementAccountName = %q", d.ManagementAccountName)
	}
	ma := e.ma()
	ma.DisplayName = "Acme Headquarters"
	wantAccounts(t, e.accounts(), []directory.Account{ma})
}

func (s *suite) testDestroyDirectory(t *testing.T) {
	e := s.enabled(t)
	old, err := e.svc.GetDirectory(e.ctx)
	noErr(t, "GetDirectory", err)
	e.join(uid(1), "member")
	e.invite(uid(2))
	wantErr(t, "destroy with a member", e.sim.DestroyDirectory(e.ctx), apperr.KindConflict, apperr.CodeDirectoryNotEmpty)
	if _, err := e.svc.GetDirectory(e.ctx); err != nil {
		t.Fatalf("refused destroy removed the directory: %v", err)
	}

	noErr(t, "RemoveAccount", e.sim.RemoveAccount(e.ctx, uid(1)))
	noErr(t, "DestroyDirectory", e.sim.DestroyDirectory(e.ctx))
	_, err = e.svc.GetDirectory(e.ctx)
	wantErr(t, "GetDirectory after destroy", err, apperr.KindNotFound, apperr.CodeNoDirectory)
	_, err = e.svc.ListInvitations(e.ctx)
	wantErr(t, "ListInvitations after destroy", err, apperr.KindNotFound, apperr.CodeNoDirectory)

	e.clock.Advance(time.Hour)
	d, err := e.svc.EnableDirectory(e.ctx)
	noErr(t, "EnableDirectory again", err)
	if d.ID == old.ID || !d.CreateTime.Equal(Start.Add(time.Hour)) {
		t.Fatalf("re-enabled directory %+v, old %+v: want a new ID and create time", d, old)
	}
	ma := e.ma()
	ma.JoinTime = d.CreateTime
	wantAccounts(t, e.accounts(), []directory.Account{ma})
	if n := len(e.invitations()); n != 0 {
		t.Fatalf("invitations survived the directory: %d", n)
	}
	e.invite(uid(2)) // the old pending invitation went with the old directory
}
