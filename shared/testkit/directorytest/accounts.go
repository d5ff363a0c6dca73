package directorytest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/local/simulation"
	"github.com/sase-multiaccount/backend/shared/port/directory"
)

func (s *suite) testQuotaAccounts(t *testing.T) {
	e := s.enabled(t, func(o *simulation.Options) { o.MaxAccounts = 3; o.MaxPendingInvitations = 2 })
	i1, i2 := e.invite(uid(1)), e.invite(uid(2))
	_, err := e.svc.Invite(e.ctx, uid(3), directory.TargetAccount, "")
	wantErr(t, "third pending invitation", err, apperr.KindConflict, apperr.CodeLimitExceeded)

	e.accept(i1.ID, "one")
	i3 := e.invite(uid(3)) // a pending seat was freed; 2 accounts < 3
	e.accept(i2.ID, "two") // now 3 accounts: full
	_, err = e.sim.AcceptInvitation(e.ctx, i3.ID, "three")
	wantErr(t, "accept into a full directory", err, apperr.KindConflict, apperr.CodeLimitExceeded)
	if got := e.invitation(i3.ID).Status; got != directory.StatusPending {
		t.Fatalf("refused accept changed status to %s", got)
	}
	if n := len(e.accounts()); n != 3 {
		t.Fatalf("%d accounts, want 3", n)
	}
	_, err = e.svc.Invite(e.ctx, uid(4), directory.TargetAccount, "")
	wantErr(t, "invite into a full directory", err, apperr.KindConflict, apperr.CodeLimitExceeded)

	noErr(t, "RemoveAccount", e.sim.RemoveAccount(e.ctx, uid(1)))
	e.accept(i3.ID, "three")
	ids := []string{}
	for _, a := range e.accounts() {
		ids = append(ids, a.AccountID)
	}
	if !slices.Equal(ids, []string{OwnerAccountID, uid(2), uid(3)}) {
		t.Fatalf("accounts %v", ids)
	}
}

func (s *suite) testQuotaPendingFreed(t *testing.T) {
	e := s.enabled(t, func(o *simulation.Options) { o.MaxPendingInvitations = 2 })
	i1, i2 := e.invite(uid(1)), e.invite(uid(2))
	_, err := e.svc.Invite(e.ctx, uid(3), directory.TargetAccount, "")
	wantErr(t, "pending quota", err, apperr.KindConflict, apperr.CodeLimitExceeded)
	_, err = e.svc.CancelInvitation(e.ctx, i1.ID)
	noErr(t, "cancel", err)
	e.invite(uid(3))
	_, err = e.svc.Invite(e.ctx, uid(4), directory.TargetAccount, "")
	wantErr(t, "pending quota after cancel", err, apperr.KindConflict, apperr.CodeLimitExceeded)
	noErr(t, "decline", e.sim.DeclineInvitation(e.ctx, i2.ID))
	e.invite(uid(4))
	_, err = e.svc.Invite(e.ctx, uid(5), directory.TargetAccount, "")
	wantErr(t, "pending quota after decline", err, apperr.KindConflict, apperr.CodeLimitExceeded)
	e.clock.Advance(simulation.DefaultInvitationTTL + time.Second)
	e.invite(uid(5)) // expired invitations hold no seat
	e.invite(uid(6))
	_, err = e.svc.Invite(e.ctx, uid(7), directory.TargetAccount, "")
	wantErr(t, "pending quota after expiry", err, apperr.KindConflict, apperr.CodeLimitExceeded)
}

func (s *suite) testRemoveAccount(t *testing.T) {
	e := s.enabled(t)
	first := e.join(uid(1), "Leaver")
	wantErr(t, "remove the MA", e.sim.RemoveAccount(e.ctx, OwnerAccountID), apperr.KindInvalid, apperr.InvalidParameter("AccountId"))
	wantErr(t, "remove a non-member", e.sim.RemoveAccount(e.ctx, uid(9)), apperr.KindNotFound, apperr.CodeAccountNotFound)
	wantErr(t, "remove a malformed UID", e.sim.RemoveAccount(e.ctx, "123"), apperr.KindInvalid, apperr.InvalidParameter("AccountId"))
	wantAccounts(t, e.accounts(), []directory.Account{e.ma(), first})

	noErr(t, "RemoveAccount", e.sim.RemoveAccount(e.ctx, uid(1)))
	wantAccounts(t, e.accounts(), []directory.Account{e.ma()})
	_, err := e.sim.GetAccount(e.ctx, uid(1))
	wantErr(t, "GetAccount removed", err, apperr.KindNotFound, apperr.CodeAccountNotFound)
	wantErr(t, "remove twice", e.sim.RemoveAccount(e.ctx, uid(1)), apperr.KindNotFound, apperr.CodeAccountNotFound)

	// A removed account is a standalone account again: it can be invited.
	t2 := e.clock.Advance(time.Hour)
	back := e.join(uid(1), "Returner")
	if !back.JoinTime.Equal(t2) || back.DisplayName != "Returner" {
		t.Fatalf("rejoined as %+v", back)
	}
}

func (s *suite) testRenameAccount(t *testing.T) {
	e := s.enabled(t)
	m := e.join(uid(1), "Old name")
	got, err := e.sim.RenameAccount(e.ctx, uid(1), "New name")
	noErr(t, "RenameAccount", err)
	m.DisplayName = "New name"
	if !equalAccount(got, m) {
		t.Fatalf("RenameAccount = %+v, want %+v", got, m)
	}
	wantAccounts(t, e.accounts(), []directory.Account{e.ma(), m})

	_, err = e.sim.RenameAccount(e.ctx, uid(9), "x")
	wantErr(t, "rename a non-member", err, apperr.KindNotFound, apperr.CodeAccountNotFound)
	_, err = e.sim.RenameAccount(e.ctx, uid(1), "")
	wantErr(t, "rename to empty", err, apperr.KindInvalid, "MissingParameter.NewDisplayName")
	_, err = e.sim.RenameAccount(e.ctx, uid(1), strings.Repeat("名", 51))
	wantErr(t, "rename to 51 characters", err, apperr.KindInvalid, "InvalidParameter.NewDisplayName")
	_, err = e.sim.RenameAccount(e.ctx, uid(1), "bad\nname")
	wantErr(t, "rename with a control character", err, apperr.KindInvalid, "InvalidParameter.NewDisplayName")
	_, err = e.sim.RenameAccount(e.ctx, uid(1), strings.Repeat("名", 50))
	noErr(t, "rename to 50 characters", err)

	_, err = e.sim.RenameAccount(e.ctx, OwnerAccountID, "Acme HQ")
	noErr(t, "rename the MA", err)
	d, err := e.svc.GetDirectory(e.ctx)
	noErr(t, "GetDirectory", err)
	if d.ManagementAccountName != "Acme HQ" {
		t.Fatalf("ManagementAccountName = %q after renaming the MA", d.ManagementAccountName)
	}
}

func (s *suite) testListAccountsOrder(t *testing.T) {
	e := s.enabled(t)
	e.clock.Advance(time.Second)
	a5 := e.join(uid(5), "five")
	e.clock.Advance(time.Second)
	a3 := e.join(uid(3), "three")
	e.clock.Advance(time.Second)
	a4 := e.join(uid(4), "four") // same second as uid(2): ties go by account ID
	a2 := e.join(uid(2), "two")
	wantAccounts(t, e.accounts(), []directory.Account{e.ma(), a5, a3, a2, a4})
}

// testManyAccountsAndInvitations goes past one RD page (100) so that an
// adapter that pages must follow every page.
func (s *suite) testManyAccountsAndInvitations(t *testing.T) {
	e := s.enabled(t)
	seed := make([]directory.Account, 250)
	want := []directory.Account{e.ma()}
	for i := range seed {
		// Reverse ID order against join time, so an ID-sorted answer fails.
		seed[i] = directory.Account{AccountID: uid(1000 - i), DisplayName: fmt.Sprintf("Seeded %d", i),
			JoinTime: Start.Add(time.Duration(i+1) * time.Second), JoinMethod: "invited"}
		w := seed[i]
		w.FolderID = e.root()
		want = append(want, w)
	}
	noErr(t, "SeedAccounts", e.sim.SeedAccounts(e.ctx, seed))
	wantAccounts(t, e.accounts(), want)
	if n, err := e.svc.CountAccounts(e.ctx); err != nil || n != len(want) {
		t.Fatalf("CountAccounts = %d, %v; want %d", n, err, len(want))
	}

	var ids []string
	for i := 0; i < 130; i++ {
		ids = append(ids, e.invite(uid(5000+i)).ID)
	}
	list := e.invitations()
	if len(list) != len(ids) {
		t.Fatalf("ListInvitations has %d, want %d", len(list), len(ids))
	}
	for i, inv := range list {
		if inv.ID != ids[len(ids)-1-i] {
			t.Fatalf("ListInvitations[%d] = %s, want %s (newest first)", i, inv.ID, ids[len(ids)-1-i])
		}
	}
}

func (s *suite) testSeedAccounts(t *testing.T) {
	e := s.enabled(t, func(o *simulation.Options) { o.MaxAccounts = 5 })
	t1 := e.clock.Advance(time.Minute)
	noErr(t, "SeedAccounts", e.sim.SeedAccounts(e.ctx, []directory.Account{{AccountID: uid(1)}}))
	defaults := directory.Account{AccountID: uid(1), DisplayName: uid(1), JoinTime: t1, JoinMethod: "invited", FolderID: e.root()}
	wantAccounts(t, e.accounts(), []directory.Account{e.ma(), defaults})

	bad := []struct {
		what  string
		batch []directory.Account
		kind  apperr.Kind
		code  apperr.Code
	}{
		{"malformed UID", []directory.Account{{AccountID: uid(2)}, {AccountID: "42"}}, apperr.KindInvalid, apperr.InvalidParameter("AccountId")},
		{"the MA", []directory.Account{{AccountID: uid(2)}, {AccountID: OwnerAccountID}}, apperr.KindConflict, apperr.CodeAlreadyInDirectory},
		{"a member", []directory.Account{{AccountID: uid(2)}, {AccountID: uid(1)}}, apperr.KindConflict, apperr.CodeAlreadyInDirectory},
		{"a duplicate", []directory.Account{{AccountID: uid(2)}, {AccountID: uid(2)}}, apperr.KindConflict, apperr.CodeAlreadyInDirectory},
		{"over quota", []directory.Account{{AccountID: uid(2)}, {AccountID: uid(3)}, {AccountID: uid(4)}, {AccountID: uid(5)}}, apperr.KindConflict, apperr.CodeLimitExceeded},
		{"bad join method", []directory.Account{{AccountID: uid(2), JoinMethod: "adopted"}}, apperr.KindInvalid, "InvalidParameter.JoinMethod"},
	}
	for _, b := range bad {
		wantErr(t, "SeedAccounts with "+b.what, e.sim.SeedAccounts(e.ctx, b.batch), b.kind, b.code)
	}
	// All or nothing: none of the valid accounts of a refused batch got in.
	wantAccounts(t, e.accounts(), []directory.Account{e.ma(), defaults})
	noErr(t, "SeedAccounts up to the quota", e.sim.SeedAccounts(e.ctx, []directory.Account{{AccountID: uid(2)}, {AccountID: uid(3)}, {AccountID: uid(4)}}))
	if n := len(e.accounts()); n != 5 {
		t.Fatalf("%d accounts, want 5", n)
	}
}
