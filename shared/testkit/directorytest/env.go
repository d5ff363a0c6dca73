package directorytest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/local/simulation"
	"github.com/sase-multiaccount/backend/shared/port/directory"
)

// env is one test's fixture plus its clock.
type env struct {
	t     *testing.T
	ctx   context.Context
	f     Fixture
	svc   directory.Service
	org   directory.Organizer
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
	org := f.Organizer
	if org == nil {
		org = f.Sim
	}
	return &env{t: t, ctx: t.Context(), f: f, svc: f.Service, org: org, sim: f.Sim, clock: clock, opts: opts}
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
	return directory.Account{AccountID: OwnerAccountID, DisplayName: simulation.DefaultOwnerDisplayName, JoinTime: Start, JoinMethod: "created", FolderID: e.root()}
}

// root is the directory's root folder ID.
func (e *env) root() string {
	e.t.Helper()
	d, err := e.svc.GetDirectory(e.ctx)
	if err != nil {
		e.t.Fatalf("GetDirectory: %v", err)
	}
	if d.RootFolderID == "" {
		e.t.Fatalf("GetDirectory: no RootFolderID in %+v", d)
	}
	return d.RootFolderID
}

// wantErr checks err is an *apperr.Error of kind and code with a message a
// console user can read, and returns it for further checks.
func wantErr(t *testing.T, what string, err error, kind apperr.Kind, code apperr.Code) *apperr.Error {
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
	return a.AccountID == b.AccountID && a.DisplayName == b.DisplayName && a.JoinMethod == b.JoinMethod && a.JoinTime.Equal(b.JoinTime) &&
		a.FolderID == b.FolderID
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
