package directorytest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sase-multiaccount/backend/shared/validate"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/local/simulation"
	"github.com/sase-multiaccount/backend/shared/port/directory"
)

func (s *suite) testInviteAcceptList(t *testing.T) {
	e := s.enabled(t)
	t1 := e.clock.Advance(time.Minute)
	inv, err := e.svc.Invite(e.ctx, uid(1), directory.TargetAccount, "Welcome to Acme")
	noErr(t, "Invite", err)
	if !strings.HasPrefix(inv.ID, "h-") || len(inv.ID) <= 2 {
		t.Fatalf("invitation ID %q, want h-…", inv.ID)
	}
	want := directory.Invitation{
		ID: inv.ID, TargetEntity: uid(1), TargetType: directory.TargetAccount, Status: directory.StatusPending,
		Note: "Welcome to Acme", CreateTime: t1, ExpireTime: t1.Add(simulation.DefaultInvitationTTL),
	}
	wantInvitation(t, inv, want)
	list := e.invitations()
	if len(list) != 1 {
		t.Fatalf("ListInvitations has %d, want 1", len(list))
	}
	wantInvitation(t, list[0], want)
	got, err := e.sim.GetInvitation(e.ctx, inv.ID)
	noErr(t, "GetInvitation", err)
	wantInvitation(t, got, want)
	// Inviting does not make the account a member.
	wantAccounts(t, e.accounts(), []directory.Account{e.ma()})

	t2 := e.clock.Advance(time.Hour)
	acc, err := e.sim.AcceptInvitation(e.ctx, inv.ID, "Dev Team")
	noErr(t, "AcceptInvitation", err)
	member := directory.Account{AccountID: uid(1), DisplayName: "Dev Team", JoinTime: t2, JoinMethod: "invited", FolderID: e.root()}
	if !equalAccount(acc, member) {
		t.Fatalf("AcceptInvitation = %+v, want %+v", acc, member)
	}
	wantAccounts(t, e.accounts(), []directory.Account{e.ma(), member})
	ga, err := e.sim.GetAccount(e.ctx, uid(1))
	noErr(t, "GetAccount", err)
	if !equalAccount(ga, member) {
		t.Fatalf("GetAccount = %+v, want %+v", ga, member)
	}
	want.Status = directory.StatusAccepted
	wantInvitation(t, e.invitation(inv.ID), want)
	// ModifyTime moves with the acceptance (the handshake check reads it).
	if list := e.invitations(); len(list) != 1 || !list[0].ModifyTime.Equal(t2) {
		t.Fatalf("accepted invitation's ModifyTime: %+v, want %v", list, t2)
	}

	_, err = e.sim.AcceptInvitation(e.ctx, inv.ID, "Dev Team")
	wantErr(t, "accept twice", err, apperr.KindConflict, apperr.CodeInvitationStatus)
	_, err = e.svc.CancelInvitation(e.ctx, inv.ID)
	ae := wantErr(t, "cancel accepted", err, apperr.KindConflict, apperr.CodeInvitationStatus)
	if !strings.Contains(ae.Message, directory.StatusAccepted) {
		t.Errorf("message %q should say the invitation is %s", ae.Message, directory.StatusAccepted)
	}
	wantErr(t, "decline accepted", e.sim.DeclineInvitation(e.ctx, inv.ID), apperr.KindConflict, apperr.CodeInvitationStatus)
	wantAccounts(t, e.accounts(), []directory.Account{e.ma(), member})
}

func (s *suite) testAcceptDefaultDisplayName(t *testing.T) {
	e := s.enabled(t)
	a := e.join(uid(7), "")
	if a.DisplayName != uid(7) {
		t.Fatalf("display name without one given = %q, want the target %s", a.DisplayName, uid(7))
	}
	inv := e.invite(uid(8))
	_, err := e.sim.AcceptInvitation(e.ctx, inv.ID, strings.Repeat("x", 51))
	wantErr(t, "accept with a 51-character name", err, apperr.KindInvalid, "InvalidParameter.DisplayName")
	if got := e.invitation(inv.ID).Status; got != directory.StatusPending {
		t.Fatalf("a refused accept changed the status to %s", got)
	}
	_, err = e.sim.AcceptInvitation(e.ctx, "", "x")
	wantErr(t, "accept without ID", err, apperr.KindInvalid, "MissingParameter.InvitationId")
	_, err = e.sim.AcceptInvitation(e.ctx, "h-doesnotexist0001", "x")
	wantErr(t, "accept unknown", err, apperr.KindNotFound, apperr.CodeInvitationNotFound)
}

func (s *suite) testEmailInvitation(t *testing.T) {
	e := s.enabled(t)
	const email = "Alice@Example.com"
	derived := simulation.EmailAccountID(email)
	if !validate.IsAccountID(derived) {
		t.Fatalf("EmailAccountID(%q) = %q, want 16 digits", email, derived)
	}
	if simulation.EmailAccountID("alice@example.com") != derived {
		t.Fatal("EmailAccountID must ignore case")
	}
	if simulation.EmailAccountID("bob@example.com") == derived {
		t.Fatal("EmailAccountID gives two emails the same UID")
	}

	inv, err := e.svc.Invite(e.ctx, email, directory.TargetEmail, "")
	noErr(t, "Invite email", err)
	if inv.TargetEntity != email || inv.TargetType != directory.TargetEmail || inv.Status != directory.StatusPending {
		t.Fatalf("invitation %+v", inv)
	}
	// The same person under another spelling, or by UID, is already invited.
	_, err = e.svc.Invite(e.ctx, "alice@example.com", directory.TargetEmail, "")
	wantErr(t, "re-invite lower-case email", err, apperr.KindConflict, apperr.CodeInvitationPending)
	_, err = e.svc.Invite(e.ctx, derived, directory.TargetAccount, "")
	wantErr(t, "invite the email's UID", err, apperr.KindConflict, apperr.CodeInvitationPending)

	acc := e.accept(inv.ID, "")
	if acc.AccountID != derived || acc.DisplayName != email || acc.JoinMethod != "invited" {
		t.Fatalf("joined %+v, want UID %s named %s", acc, derived, email)
	}
	wantAccounts(t, e.accounts(), []directory.Account{e.ma(), acc})
	_, err = e.svc.Invite(e.ctx, email, directory.TargetEmail, "")
	wantErr(t, "invite a joined email", err, apperr.KindConflict, apperr.CodeAlreadyInDirectory)
	_, err = e.svc.Invite(e.ctx, derived, directory.TargetAccount, "")
	wantErr(t, "invite a joined email's UID", err, apperr.KindConflict, apperr.CodeAlreadyInDirectory)

	// Deterministic: a different directory sees the same account for the email.
	e2 := s.enabled(t)
	if got := e2.accept(e2.invite("alice@example.com").ID, "").AccountID; got != derived {
		t.Fatalf("second directory: email joined as %s, first as %s", got, derived)
	}
}

func (s *suite) testInviteInvalidParameters(t *testing.T) {
	e := s.enabled(t)
	cases := []struct {
		target, typ, note string
		code              apperr.Code
	}{
		{"12345", directory.TargetAccount, "", "InvalidParameter.TargetEntity"},
		{"20000000000000011", directory.TargetAccount, "", "InvalidParameter.TargetEntity"},
		{"2000000000000a01", directory.TargetAccount, "", "InvalidParameter.TargetEntity"},
		{"someone@example.com", directory.TargetAccount, "", "InvalidParameter.TargetEntity"},
		{"not-an-email", directory.TargetEmail, "", "InvalidParameter.TargetEntity"},
		{"someone@localhost", directory.TargetEmail, "", "InvalidParameter.TargetEntity"},
		{"some one@example.com", directory.TargetEmail, "", "InvalidParameter.TargetEntity"},
		{"Alice <alice@example.com>", directory.TargetEmail, "", "InvalidParameter.TargetEntity"},
		{uid(1), "Phone", "", "InvalidParameter.TargetType"},
		{uid(1), "account", "", "InvalidParameter.TargetType"},
		{"", directory.TargetAccount, "", "MissingParameter.TargetEntity"},
		{uid(1), directory.TargetAccount, strings.Repeat("n", 1025), "InvalidParameter.Note"},
	}
	for _, c := range cases {
		_, err := e.svc.Invite(e.ctx, c.target, c.typ, c.note)
		wantErr(t, fmt.Sprintf("Invite(%q, %q, note of %d)", c.target, c.typ, len(c.note)), err, apperr.KindInvalid, c.code)
	}
	if n := len(e.invitations()); n != 0 {
		t.Fatalf("refused invites created %d invitations", n)
	}
	// The note limit counts characters, not bytes.
	note := strings.Repeat("邀", 1024)
	inv, err := e.svc.Invite(e.ctx, uid(1), directory.TargetAccount, note)
	noErr(t, "Invite with a 1024-character note", err)
	if inv.Note != note {
		t.Fatal("note not kept")
	}
}

func (s *suite) testInvitePerTargetConflicts(t *testing.T) {
	e := s.enabled(t)
	e.join(uid(1), "Member")
	pending := e.invite(uid(2))

	_, err := e.svc.Invite(e.ctx, OwnerAccountID, directory.TargetAccount, "")
	ae := wantErr(t, "invite the MA", err, apperr.KindConflict, apperr.CodeAlreadyInDirectory)
	if !strings.Contains(ae.Message, OwnerAccountID) {
		t.Errorf("message %q should name %s", ae.Message, OwnerAccountID)
	}
	_, err = e.svc.Invite(e.ctx, uid(1), directory.TargetAccount, "")
	wantErr(t, "invite a member", err, apperr.KindConflict, apperr.CodeAlreadyInDirectory)
	_, err = e.svc.Invite(e.ctx, uid(2), directory.TargetAccount, "")
	ae = wantErr(t, "invite a pending target", err, apperr.KindConflict, apperr.CodeInvitationPending)
	if !strings.Contains(ae.Message, uid(2)) {
		t.Errorf("message %q should name %s", ae.Message, uid(2))
	}

	list := e.invitations()
	if len(list) != 2 {
		t.Fatalf("refused invites changed the invitations: %+v", list)
	}
	wantInvitation(t, e.invitation(pending.ID), pending)
}

func (s *suite) testCancelInvitation(t *testing.T) {
	e := s.enabled(t)
	_, err := e.svc.CancelInvitation(e.ctx, "h-doesnotexist0001")
	wantErr(t, "cancel unknown", err, apperr.KindNotFound, apperr.CodeInvitationNotFound)

	inv := e.invite(uid(1))
	e.clock.Advance(time.Minute)
	got, err := e.svc.CancelInvitation(e.ctx, inv.ID)
	noErr(t, "CancelInvitation", err)
	want := inv
	want.Status = directory.StatusCancelled
	wantInvitation(t, got, want)
	wantInvitation(t, e.invitation(inv.ID), want)

	_, err = e.svc.CancelInvitation(e.ctx, inv.ID)
	wantErr(t, "cancel twice", err, apperr.KindConflict, apperr.CodeInvitationStatus)
	_, err = e.sim.AcceptInvitation(e.ctx, inv.ID, "x")
	wantErr(t, "accept cancelled", err, apperr.KindConflict, apperr.CodeInvitationStatus)
	wantAccounts(t, e.accounts(), []directory.Account{e.ma()})

	again := e.invite(uid(1))
	if again.ID == inv.ID || again.Status != directory.StatusPending {
		t.Fatalf("re-invite after cancel: %+v", again)
	}
	if n := len(e.invitations()); n != 2 {
		t.Fatalf("want the cancelled and the new invitation, got %d", n)
	}
}

func (s *suite) testDeclineInvitation(t *testing.T) {
	e := s.enabled(t)
	wantErr(t, "decline unknown", e.sim.DeclineInvitation(e.ctx, "h-doesnotexist0001"), apperr.KindNotFound, apperr.CodeInvitationNotFound)
	inv := e.invite(uid(1))
	noErr(t, "DeclineInvitation", e.sim.DeclineInvitation(e.ctx, inv.ID))
	want := inv
	want.Status = directory.StatusDeclined
	wantInvitation(t, e.invitation(inv.ID), want)
	wantErr(t, "decline twice", e.sim.DeclineInvitation(e.ctx, inv.ID), apperr.KindConflict, apperr.CodeInvitationStatus)
	_, err := e.svc.CancelInvitation(e.ctx, inv.ID)
	wantErr(t, "cancel declined", err, apperr.KindConflict, apperr.CodeInvitationStatus)
	_, err = e.sim.AcceptInvitation(e.ctx, inv.ID, "x")
	wantErr(t, "accept declined", err, apperr.KindConflict, apperr.CodeInvitationStatus)
	wantAccounts(t, e.accounts(), []directory.Account{e.ma()})
	e.invite(uid(1)) // a declined invitation does not block a new one
}

func (s *suite) testExpiry(t *testing.T) {
	e := s.enabled(t)
	inv := e.invite(uid(1))
	e.clock.Advance(simulation.DefaultInvitationTTL) // exactly at ExpireTime: still valid
	if got := e.invitation(inv.ID).Status; got != directory.StatusPending {
		t.Fatalf("at ExpireTime status = %s, want Pending", got)
	}
	_, err := e.svc.Invite(e.ctx, uid(1), directory.TargetAccount, "")
	wantErr(t, "re-invite at ExpireTime", err, apperr.KindConflict, apperr.CodeInvitationPending)

	e.clock.Advance(time.Second)
	want := inv
	want.Status = directory.StatusExpired
	wantInvitation(t, e.invitation(inv.ID), want)
	got, err := e.sim.GetInvitation(e.ctx, inv.ID)
	noErr(t, "GetInvitation", err)
	wantInvitation(t, got, want)

	_, err = e.svc.CancelInvitation(e.ctx, inv.ID)
	ae := wantErr(t, "cancel expired", err, apperr.KindConflict, apperr.CodeInvitationStatus)
	if !strings.Contains(ae.Message, directory.StatusExpired) {
		t.Errorf("message %q should say the invitation expired", ae.Message)
	}
	_, err = e.sim.AcceptInvitation(e.ctx, inv.ID, "x")
	wantErr(t, "accept expired", err, apperr.KindConflict, apperr.CodeInvitationStatus)
	wantErr(t, "decline expired", e.sim.DeclineInvitation(e.ctx, inv.ID), apperr.KindConflict, apperr.CodeInvitationStatus)
	wantAccounts(t, e.accounts(), []directory.Account{e.ma()})
	wantInvitation(t, e.invitation(inv.ID), want) // refused answers did not touch it

	again := e.invite(uid(1))
	if again.ID == inv.ID || again.Status != directory.StatusPending {
		t.Fatalf("re-invite after expiry: %+v", again)
	}
	wantInvitation(t, e.invitation(inv.ID), want)
}

func (s *suite) testExpiryCustomTTL(t *testing.T) {
	e := s.enabled(t, func(o *simulation.Options) { o.InvitationTTL = time.Hour })
	inv := e.invite(uid(1))
	if !inv.ExpireTime.Equal(inv.CreateTime.Add(time.Hour)) {
		t.Fatalf("ExpireTime %s, want CreateTime + 1h", inv.ExpireTime)
	}
	e.clock.Advance(time.Hour + time.Second)
	if got := e.invitation(inv.ID).Status; got != directory.StatusExpired {
		t.Fatalf("status after TTL = %s, want Expired", got)
	}
}

func (s *suite) testListInvitationsNewestFirst(t *testing.T) {
	e := s.enabled(t)
	i1 := e.invite(uid(1))
	i2 := e.invite(uid(2)) // same second: creation order still decides
	e.clock.Advance(time.Second)
	i3 := e.invite(uid(3))
	list := e.invitations()
	if len(list) != 3 || list[0].ID != i3.ID || list[1].ID != i2.ID || list[2].ID != i1.ID {
		t.Fatalf("ListInvitations order %+v, want newest first", list)
	}
}
