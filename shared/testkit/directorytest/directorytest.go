// Package directorytest is the contract suite of the Resource Directory port.
// Every directory.Service adapter runs it: the simulation directly, and the
// SDK adapter through the RD wire server that wraps a simulation. The Sim in
// the fixture plays the other accounts (accept, decline, leave, rename) and
// seeds data, because the port is only what the owner account can do.
package directorytest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sase-multiaccount/backend/shared/validate"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/local/simulation"
	"github.com/sase-multiaccount/backend/shared/port/directory"
)

// Fixture is one fresh directory as a test sees it.
type Fixture struct {
	Service        directory.Service
	OwnerAccountID string
	Sim            *simulation.Sim // the simulation behind Service, to drive invitee-side actions (accept, remove, rename) and seeding
}

// OwnerAccountID is the owner the suite asks for in every Options.
const OwnerAccountID = "1100000000000001"

// Start is the suite clock's initial time (whole seconds: RD's precision).
var Start = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

// Run runs the contract suite. newFixture must build a fresh Sim from opts
// exactly as given (quotas, clock, owner) and return the Service under test
// in front of it. The suite leaves Path empty; a fixture may set it.
func Run(t *testing.T, newFixture func(t *testing.T, opts simulation.Options) Fixture) {
	s := &suite{newFixture: newFixture}
	tests := []struct {
		name string
		fn   func(t *testing.T)
	}{
		{"NoDirectory", s.testNoDirectory},
		{"EnableDirectory", s.testEnableDirectory},
		{"EnableDirectoryOwnerName", s.testEnableDirectoryOwnerName},
		{"EnableRefused", s.testEnableRefused},
		{"InviteAcceptList", s.testInviteAcceptList},
		{"AcceptDefaultDisplayName", s.testAcceptDefaultDisplayName},
		{"EmailInvitation", s.testEmailInvitation},
		{"InviteInvalidParameters", s.testInviteInvalidParameters},
		{"InvitePerTargetConflicts", s.testInvitePerTargetConflicts},
		{"InviteRefused", s.testInviteRefused},
		{"CancelInvitation", s.testCancelInvitation},
		{"DeclineInvitation", s.testDeclineInvitation},
		{"Expiry", s.testExpiry},
		{"ExpiryCustomTTL", s.testExpiryCustomTTL},
		{"QuotaAccounts", s.testQuotaAccounts},
		{"QuotaPendingFreed", s.testQuotaPendingFreed},
		{"DelegatedAdmin", s.testDelegatedAdmin},
		{"DelegatedAdminLimit", s.testDelegatedAdminLimit},
		{"DelegatedAdminOtherPrincipal", s.testDelegatedAdminOtherPrincipal},
		{"RemoveAccount", s.testRemoveAccount},
		{"RenameAccount", s.testRenameAccount},
		{"ListAccountsOrder", s.testListAccountsOrder},
		{"ListInvitationsNewestFirst", s.testListInvitationsNewestFirst},
		{"ManyAccountsAndInvitations", s.testManyAccountsAndInvitations},
		{"SeedAccounts", s.testSeedAccounts},
		{"DestroyDirectory", s.testDestroyDirectory},
		{"ConcurrentInvites", s.testConcurrentInvites},
		{"ConcurrentSameTarget", s.testConcurrentSameTarget},
		{"ConcurrentAcceptAndRegister", s.testConcurrentAcceptAndRegister},
	}
	for _, tc := range tests {
		t.Run(tc.name, tc.fn)
	}
}

type suite struct {
	newFixture func(t *testing.T, opts simulation.Options) Fixture
}

// Clock is a controllable clock for Options.Now.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a Clock reading start.
func NewClock(start time.Time) *Clock { return &Clock{t: start} }

// Now returns the current fake time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

// env is one test's fixture plus its clock.
type env struct {
	t     *testing.T
	ctx   context.Context
	f     Fixture
	svc   directory.Service
	sim   *simulation.Sim
	clock *Clock
	opts  simulation.Options
}

func (s *suite) setup(t *testing.T, mods ...func(*simulation.Options)) *env {
	t.Helper()
	clock := NewClock(Start)
	opts := simulation.Options{OwnerAccountID: OwnerAccountID, Now: clock.Now}
	for _, m := range mods {
		m(&opts)
	}
	f := s.newFixture(t, opts)
	if f.Service == nil || f.Sim == nil {
		t.Fatal("fixture: Service and Sim are required")
	}
	if f.OwnerAccountID != OwnerAccountID {
		t.Fatalf("fixture: OwnerAccountID = %q, want the one in Options %q", f.OwnerAccountID, OwnerAccountID)
	}
	return &env{t: t, ctx: t.Context(), f: f, svc: f.Service, sim: f.Sim, clock: clock, opts: opts}
}

// enabled is setup plus EnableDirectory.
func (s *suite) enabled(t *testing.T, mods ...func(*simulation.Options)) *env {
	t.Helper()
	e := s.setup(t, mods...)
	if _, err := e.svc.EnableDirectory(e.ctx); err != nil {
		t.Fatalf("EnableDirectory: %v", err)
	}
	return e
}

// uid returns a distinct member UID for n.
func uid(n int) string { return fmt.Sprintf("2%015d", n) }

func (e *env) invite(target string) directory.Invitation {
	e.t.Helper()
	typ := directory.TargetAccount
	if strings.Contains(target, "@") {
		typ = directory.TargetEmail
	}
	inv, err := e.svc.Invite(e.ctx, target, typ, "")
	if err != nil {
		e.t.Fatalf("Invite(%s): %v", target, err)
	}
	return inv
}

func (e *env) accept(invitationID, name string) directory.Account {
	e.t.Helper()
	a, err := e.sim.AcceptInvitation(e.ctx, invitationID, name)
	if err != nil {
		e.t.Fatalf("AcceptInvitation(%s): %v", invitationID, err)
	}
	return a
}

// join invites accountID and has it accept under name.
func (e *env) join(accountID, name string) directory.Account {
	e.t.Helper()
	return e.accept(e.invite(accountID).ID, name)
}

func (e *env) accounts() []directory.Account {
	e.t.Helper()
	as, err := e.svc.ListAccounts(e.ctx)
	if err != nil {
		e.t.Fatalf("ListAccounts: %v", err)
	}
	return as
}

func (e *env) invitations() []directory.Invitation {
	e.t.Helper()
	is, err := e.svc.ListInvitations(e.ctx)
	if err != nil {
		e.t.Fatalf("ListInvitations: %v", err)
	}
	return is
}

func (e *env) delegates() []directory.DelegatedAdmin {
	e.t.Helper()
	ds, err := e.svc.ListDelegatedAdmins(e.ctx)
	if err != nil {
		e.t.Fatalf("ListDelegatedAdmins: %v", err)
	}
	return ds
}

func (e *env) invitation(id string) directory.Invitation {
	e.t.Helper()
	for _, inv := range e.invitations() {
		if inv.ID == id {
			return inv
		}
	}
	e.t.Fatalf("invitation %s not in ListInvitations", id)
	return directory.Invitation{}
}

func (e *env) ma() directory.Account {
	return directory.Account{AccountID: OwnerAccountID, DisplayName: simulation.DefaultOwnerDisplayName, JoinTime: Start, JoinMethod: "created"}
}

// wantErr checks err is an *apperr.Error of kind and code with a message a
// console user can read, and returns it for further checks.
func wantErr(t *testing.T, what string, err error, kind apperr.Kind, code string) *apperr.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: got nil error, want %s", what, code)
	}
	ae, ok := apperr.As(err)
	if !ok {
		t.Fatalf("%s: error %v (%T) is not an *apperr.Error", what, err, err)
	}
	if ae.Kind != kind || ae.Code != code {
		t.Fatalf("%s: got kind %d code %q (%v), want kind %d code %q", what, ae.Kind, ae.Code, err, kind, code)
	}
	if strings.TrimSpace(ae.Message) == "" {
		t.Fatalf("%s: %s has an empty message", what, code)
	}
	return ae
}

func noErr(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func equalAccount(a, b directory.Account) bool {
	return a.AccountID == b.AccountID && a.DisplayName == b.DisplayName && a.JoinMethod == b.JoinMethod && a.JoinTime.Equal(b.JoinTime)
}

func wantAccounts(t *testing.T, got, want []directory.Account) {
	t.Helper()
	if !slices.EqualFunc(got, want, equalAccount) {
		t.Fatalf("accounts:\n got  %+v\n want %+v", got, want)
	}
}

func equalInvitation(a, b directory.Invitation) bool {
	return a.ID == b.ID && a.TargetEntity == b.TargetEntity && a.TargetType == b.TargetType && a.Status == b.Status &&
		a.Note == b.Note && a.CreateTime.Equal(b.CreateTime) && a.ExpireTime.Equal(b.ExpireTime)
}

func wantInvitation(t *testing.T, got, want directory.Invitation) {
	t.Helper()
	if !equalInvitation(got, want) {
		t.Fatalf("invitation:\n got  %+v\n want %+v", got, want)
	}
}

func equalDelegate(a, b directory.DelegatedAdmin) bool {
	return a.AccountID == b.AccountID && a.DisplayName == b.DisplayName && a.EnabledTime.Equal(b.EnabledTime)
}

func wantDelegates(t *testing.T, got, want []directory.DelegatedAdmin) {
	t.Helper()
	if !slices.EqualFunc(got, want, equalDelegate) {
		t.Fatalf("delegated admins:\n got  %+v\n want %+v", got, want)
	}
}

// ---- tests -----------------------------------------------------------------

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
	member := directory.Account{AccountID: uid(1), DisplayName: "Dev Team", JoinTime: t2, JoinMethod: "invited"}
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
	wantErr(t, "re-invite lower-case email", err, apperr.KindConflict, directory.CodeInvitationPending)
	_, err = e.svc.Invite(e.ctx, derived, directory.TargetAccount, "")
	wantErr(t, "invite the email's UID", err, apperr.KindConflict, directory.CodeInvitationPending)

	acc := e.accept(inv.ID, "")
	if acc.AccountID != derived || acc.DisplayName != email || acc.JoinMethod != "invited" {
		t.Fatalf("joined %+v, want UID %s named %s", acc, derived, email)
	}
	wantAccounts(t, e.accounts(), []directory.Account{e.ma(), acc})
	_, err = e.svc.Invite(e.ctx, email, directory.TargetEmail, "")
	wantErr(t, "invite a joined email", err, apperr.KindConflict, directory.CodeAlreadyInDirectory)
	_, err = e.svc.Invite(e.ctx, derived, directory.TargetAccount, "")
	wantErr(t, "invite a joined email's UID", err, apperr.KindConflict, directory.CodeAlreadyInDirectory)

	// Deterministic: a different directory sees the same account for the email.
	e2 := s.enabled(t)
	if got := e2.accept(e2.invite("alice@example.com").ID, "").AccountID; got != derived {
		t.Fatalf("second directory: email joined as %s, first as %s", got, derived)
	}
}

func (s *suite) testInviteInvalidParameters(t *testing.T) {
	e := s.enabled(t)
	cases := []struct {
		target, typ, note, code string
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
	ae := wantErr(t, "invite the MA", err, apperr.KindConflict, directory.CodeAlreadyInDirectory)
	if !strings.Contains(ae.Message, OwnerAccountID) {
		t.Errorf("message %q should name %s", ae.Message, OwnerAccountID)
	}
	_, err = e.svc.Invite(e.ctx, uid(1), directory.TargetAccount, "")
	wantErr(t, "invite a member", err, apperr.KindConflict, directory.CodeAlreadyInDirectory)
	_, err = e.svc.Invite(e.ctx, uid(2), directory.TargetAccount, "")
	ae = wantErr(t, "invite a pending target", err, apperr.KindConflict, directory.CodeInvitationPending)
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
	wantErr(t, "re-invite at ExpireTime", err, apperr.KindConflict, directory.CodeInvitationPending)

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

func (s *suite) testQuotaAccounts(t *testing.T) {
	e := s.enabled(t, func(o *simulation.Options) { o.MaxAccounts = 3; o.MaxPendingInvitations = 2 })
	i1, i2 := e.invite(uid(1)), e.invite(uid(2))
	_, err := e.svc.Invite(e.ctx, uid(3), directory.TargetAccount, "")
	wantErr(t, "third pending invitation", err, apperr.KindConflict, directory.CodeLimitExceeded)

	e.accept(i1.ID, "one")
	i3 := e.invite(uid(3)) // a pending seat was freed; 2 accounts < 3
	e.accept(i2.ID, "two") // now 3 accounts: full
	_, err = e.sim.AcceptInvitation(e.ctx, i3.ID, "three")
	wantErr(t, "accept into a full directory", err, apperr.KindConflict, directory.CodeLimitExceeded)
	if got := e.invitation(i3.ID).Status; got != directory.StatusPending {
		t.Fatalf("refused accept changed status to %s", got)
	}
	if n := len(e.accounts()); n != 3 {
		t.Fatalf("%d accounts, want 3", n)
	}
	_, err = e.svc.Invite(e.ctx, uid(4), directory.TargetAccount, "")
	wantErr(t, "invite into a full directory", err, apperr.KindConflict, directory.CodeLimitExceeded)

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
	wantErr(t, "pending quota", err, apperr.KindConflict, directory.CodeLimitExceeded)
	_, err = e.svc.CancelInvitation(e.ctx, i1.ID)
	noErr(t, "cancel", err)
	e.invite(uid(3))
	_, err = e.svc.Invite(e.ctx, uid(4), directory.TargetAccount, "")
	wantErr(t, "pending quota after cancel", err, apperr.KindConflict, directory.CodeLimitExceeded)
	noErr(t, "decline", e.sim.DeclineInvitation(e.ctx, i2.ID))
	e.invite(uid(4))
	_, err = e.svc.Invite(e.ctx, uid(5), directory.TargetAccount, "")
	wantErr(t, "pending quota after decline", err, apperr.KindConflict, directory.CodeLimitExceeded)
	e.clock.Advance(simulation.DefaultInvitationTTL + time.Second)
	e.invite(uid(5)) // expired invitations hold no seat
	e.invite(uid(6))
	_, err = e.svc.Invite(e.ctx, uid(7), directory.TargetAccount, "")
	wantErr(t, "pending quota after expiry", err, apperr.KindConflict, directory.CodeLimitExceeded)
}

func (s *suite) testDelegatedAdmin(t *testing.T) {
	e := s.enabled(t)
	e.join(uid(1), "Security")
	e.join(uid(2), "Operations")
	wantDelegates(t, e.delegates(), nil)

	wantErr(t, "register the MA", e.svc.RegisterDelegatedAdmin(e.ctx, OwnerAccountID), apperr.KindInvalid, "InvalidParameter.AccountId")
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

	ae = wantErr(t, "remove the DA", e.sim.RemoveAccount(e.ctx, uid(1)), apperr.KindConflict, simulation.CodeDenyTrustedService)
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
	ae := wantErr(t, "remove another principal's DA", e.sim.RemoveAccount(e.ctx, uid(1)), apperr.KindConflict, simulation.CodeDenyTrustedService)
	if !strings.Contains(ae.Message, other) {
		t.Errorf("message %q should name %s", ae.Message, other)
	}
	noErr(t, "deregister for the other principal", e.sim.DeregisterDelegatedAdminFor(e.ctx, uid(1), other))
	noErr(t, "remove", e.sim.RemoveAccount(e.ctx, uid(1)))
	wantErr(t, "ListDelegatedAdminsFor without principal",
		func() error { _, err := e.sim.ListDelegatedAdminsFor(e.ctx, ""); return err }(), apperr.KindInvalid, "MissingParameter.ServicePrincipal")
}

func (s *suite) testRemoveAccount(t *testing.T) {
	e := s.enabled(t)
	first := e.join(uid(1), "Leaver")
	wantErr(t, "remove the MA", e.sim.RemoveAccount(e.ctx, OwnerAccountID), apperr.KindInvalid, "InvalidParameter.AccountId")
	wantErr(t, "remove a non-member", e.sim.RemoveAccount(e.ctx, uid(9)), apperr.KindNotFound, apperr.CodeAccountNotFound)
	wantErr(t, "remove a malformed UID", e.sim.RemoveAccount(e.ctx, "123"), apperr.KindInvalid, "InvalidParameter.AccountId")
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
		want = append(want, seed[i])
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
	defaults := directory.Account{AccountID: uid(1), DisplayName: uid(1), JoinTime: t1, JoinMethod: "invited"}
	wantAccounts(t, e.accounts(), []directory.Account{e.ma(), defaults})

	bad := []struct {
		what  string
		batch []directory.Account
		kind  apperr.Kind
		code  string
	}{
		{"malformed UID", []directory.Account{{AccountID: uid(2)}, {AccountID: "42"}}, apperr.KindInvalid, "InvalidParameter.AccountId"},
		{"the MA", []directory.Account{{AccountID: uid(2)}, {AccountID: OwnerAccountID}}, apperr.KindConflict, directory.CodeAlreadyInDirectory},
		{"a member", []directory.Account{{AccountID: uid(2)}, {AccountID: uid(1)}}, apperr.KindConflict, directory.CodeAlreadyInDirectory},
		{"a duplicate", []directory.Account{{AccountID: uid(2)}, {AccountID: uid(2)}}, apperr.KindConflict, directory.CodeAlreadyInDirectory},
		{"over quota", []directory.Account{{AccountID: uid(2)}, {AccountID: uid(3)}, {AccountID: uid(4)}, {AccountID: uid(5)}}, apperr.KindConflict, directory.CodeLimitExceeded},
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

func (s *suite) testDestroyDirectory(t *testing.T) {
	e := s.enabled(t)
	old, err := e.svc.GetDirectory(e.ctx)
	noErr(t, "GetDirectory", err)
	e.join(uid(1), "member")
	e.invite(uid(2))
	wantErr(t, "destroy with a member", e.sim.DestroyDirectory(e.ctx), apperr.KindConflict, simulation.CodeDirectoryNotEmpty)
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

func (s *suite) testConcurrentInvites(t *testing.T) {
	e := s.enabled(t)
	const n = 64
	var wg sync.WaitGroup
	ids := make([]string, n)
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Go(func() {
			inv, err := e.svc.Invite(e.ctx, uid(100+i), directory.TargetAccount, fmt.Sprintf("note %d", i))
			ids[i], errs[i] = inv.ID, err
		})
	}
	for i := 0; i < 8; i++ { // readers interleaved with the writers
		wg.Go(func() {
			if _, err := e.svc.ListInvitations(e.ctx); err != nil {
				t.Errorf("concurrent ListInvitations: %v", err)
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Invite %d: %v", i, err)
		}
	}
	list := e.invitations()
	if len(list) != n {
		t.Fatalf("%d invitations, want %d", len(list), n)
	}
	byID := map[string]directory.Invitation{}
	for _, inv := range list {
		if inv.Status != directory.StatusPending {
			t.Fatalf("invitation %+v not pending", inv)
		}
		byID[inv.ID] = inv
	}
	for i, id := range ids {
		inv, ok := byID[id]
		if !ok {
			t.Fatalf("invitation %s of invite %d lost", id, i)
		}
		if inv.TargetEntity != uid(100+i) || inv.Note != fmt.Sprintf("note %d", i) {
			t.Fatalf("invitation %s mixed up: %+v", id, inv)
		}
	}
}

func (s *suite) testConcurrentSameTarget(t *testing.T) {
	e := s.enabled(t)
	const n = 16
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Go(func() { _, errs[i] = e.svc.Invite(e.ctx, uid(1), directory.TargetAccount, "") })
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
			continue
		}
		wantErr(t, "concurrent duplicate invite", err, apperr.KindConflict, directory.CodeInvitationPending)
	}
	if ok != 1 {
		t.Fatalf("%d of %d concurrent invitations of one target succeeded, want exactly 1", ok, n)
	}
	if got := len(e.invitations()); got != 1 {
		t.Fatalf("%d invitations, want 1", got)
	}
}

func (s *suite) testConcurrentAcceptAndRegister(t *testing.T) {
	e := s.enabled(t)
	const n = 24
	invs := make([]directory.Invitation, n)
	for i := range invs {
		invs[i] = e.invite(uid(i + 1))
	}
	var wg sync.WaitGroup
	for i := range invs {
		wg.Go(func() {
			if _, err := e.sim.AcceptInvitation(e.ctx, invs[i].ID, fmt.Sprintf("m%d", i)); err != nil {
				t.Errorf("accept %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if got := len(e.accounts()); got != n+1 {
		t.Fatalf("%d accounts after %d concurrent accepts, want %d", got, n, n+1)
	}

	// Racing registrations for a one-holder role: exactly one wins.
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Go(func() { errs[i] = e.svc.RegisterDelegatedAdmin(e.ctx, uid(i+1)) })
	}
	wg.Wait()
	winners := 0
	for _, err := range errs {
		if err == nil {
			winners++
			continue
		}
		wantErr(t, "racing registration", err, apperr.KindConflict, apperr.CodeDelegatedExists)
	}
	if winners != 1 || len(e.delegates()) != 1 {
		t.Fatalf("%d registrations won, %d delegated admins; want 1 and 1", winners, len(e.delegates()))
	}
}
