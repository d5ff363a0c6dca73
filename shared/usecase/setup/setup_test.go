package setup_test

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/sase-multiaccount/backend/shared/action"
	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/port/directory"
	"github.com/sase-multiaccount/backend/shared/port/store"
	"github.com/sase-multiaccount/backend/shared/role"
	"github.com/sase-multiaccount/backend/shared/testkit/usecasetest"
	"github.com/sase-multiaccount/backend/shared/usecase/audit"
	"github.com/sase-multiaccount/backend/shared/usecase/setup"
)

const owner = "1100000000000001"

var (
	uid      = usecasetest.UID
	wantCode = usecasetest.WantCode
)

// env is the setup use cases over the simulation (owner without a
// directory at first) and the embedded store.
type env struct {
	*usecasetest.Env
	svc     *setup.Service
	changed int // calls of Service.Changed
	actor   audit.Actor
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{Env: usecasetest.New(t, owner),
		actor: audit.Actor{AccountID: owner, Role: string(role.Management), RequestID: "req-1"}}
	e.svc = &setup.Service{Directory: e.Sim, Members: e.Store, Mirror: e.Store, Tokens: e.Tokens, Audit: e.Recorder,
		Changed: func(context.Context) error { e.changed++; return nil }}
	return e
}

// enable runs step 1 as the owner and returns the directory.
func (e *env) enable() directory.Directory {
	e.T.Helper()
	if _, err := e.svc.Enable(e.Ctx, setup.Subject{AccountID: owner, Role: role.Owner}, e.actor); err != nil {
		e.T.Fatal(err)
	}
	d, err := e.Sim.GetDirectory(e.Ctx)
	if err != nil {
		e.T.Fatal(err)
	}
	return d
}

// join invites accountID and accepts the invitation.
func (e *env) join(accountID, name string) {
	e.T.Helper()
	inv, err := e.Sim.Invite(e.Ctx, accountID, directory.TargetAccount, "")
	if err == nil {
		_, err = e.Sim.AcceptInvitation(e.Ctx, inv.ID, name)
	}
	if err != nil {
		e.T.Fatal(err)
	}
}

// actions returns the audit trail of dirID as "action target result", oldest first.
func (e *env) actions(dirID string) []string {
	e.T.Helper()
	var got []string
	for _, ev := range slices.Backward(e.Trail(dirID)) {
		got = append(got, ev.Action+" "+ev.Target+" "+ev.Result)
	}
	return got
}

func TestDescribeFollowsTheSteps(t *testing.T) {
	e := newEnv(t)
	ownerSub := setup.Subject{AccountID: owner, Role: role.Owner, UserID: owner, Access: role.Administrator,
		Allowed: []action.Action{action.DescribeSetup, action.EnableDirectory}}
	out, err := e.svc.Describe(e.Ctx, ownerSub)
	if err != nil {
		t.Fatal(err)
	}
	wantCaller := setup.Caller{AccountID: owner, Role: role.Owner, UserID: owner, AccessRole: role.Administrator,
		AllowedActions: []action.Action{action.DescribeSetup, action.EnableDirectory}}
	if !reflect.DeepEqual(out.Caller, wantCaller) || out.ResourceDirectory != nil ||
		out.Status == nil || out.Steps != (setup.Steps{}) || out.DelegatedAdministrator != nil {
		t.Fatalf("before step 1: %+v", out)
	}

	d := e.enable()
	e.join(uid(1), "Alpha")
	e.join(uid(2), "Beta")
	if _, err := e.svc.Register(e.Ctx, d, e.actor, setup.DelegatedInput{AccountID: uid(1)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Store.AddMembers(e.Ctx, d.ID, []store.Member{{DirectoryID: d.ID, AccountID: uid(2), AddTime: e.Now, Version: 1}}, nil); err != nil {
		t.Fatal(err)
	}
	maSub := setup.Subject{AccountID: owner, Role: role.Management, Directory: &d, UserID: owner, Access: role.Administrator}
	if out, err = e.svc.Describe(e.Ctx, maSub); err != nil {
		t.Fatal(err)
	}
	wantSteps := setup.Steps{DirectoryEnabled: true, MembersInvited: true, DelegatedAdministratorAdded: true, MembersAdded: true}
	if out.Status == nil || out.Steps != wantSteps || out.DirectoryAccountCount != 3 || out.MemberCount != 1 ||
		out.DelegatedAdministrator == nil || out.DelegatedAdministrator.AccountID != uid(1) || out.DelegatedAdministrator.DisplayName != "Alpha" {
		t.Fatalf("after every step: %+v", out)
	}
	if rd := out.ResourceDirectory; rd == nil || rd.DirectoryID != d.ID || rd.ManagementAccountID != owner || rd.CreateTime != "2026-03-01T08:00:00Z" {
		t.Fatalf("directory view %+v", rd)
	}

	// A member sees only its role and the directory.
	if out, err = e.svc.Describe(e.Ctx, setup.Subject{AccountID: uid(2), Role: role.Member, Directory: &d}); err != nil {
		t.Fatal(err)
	}
	if out.Status != nil || out.ResourceDirectory == nil || out.Caller.Role != role.Member {
		t.Fatalf("member: %+v", out)
	}

	// So does a person of the MA with access role None: who can grant.
	none := maSub
	none.UserID, none.UserName, none.Access, none.Allowed = "2000000000000009", "bob", role.NoAccess, []action.Action{action.DescribeSetup}
	if out, err = e.svc.Describe(e.Ctx, none); err != nil {
		t.Fatal(err)
	}
	if out.Status != nil || out.ResourceDirectory == nil || out.ResourceDirectory.ManagementAccountID != owner ||
		out.Caller.AccessRole != role.NoAccess || out.Caller.UserName != "bob" {
		t.Fatalf("a person without access: %+v", out)
	}
}

func TestEnableIsIdempotent(t *testing.T) {
	e := newEnv(t)
	out, err := e.svc.Enable(e.Ctx, setup.Subject{AccountID: owner, Role: role.Owner}, e.actor)
	if err != nil {
		t.Fatal(err)
	}
	d := out.ResourceDirectory
	if d == nil || d.ManagementAccountID != owner || e.changed != 1 {
		t.Fatalf("enable: %+v, %d role invalidations", out, e.changed)
	}
	// The management account again: the same directory, nothing recorded twice.
	dir, _ := e.Sim.GetDirectory(e.Ctx)
	again, err := e.svc.Enable(e.Ctx, setup.Subject{AccountID: owner, Role: role.Management, Directory: &dir}, e.actor)
	if err != nil || *again.ResourceDirectory != *d {
		t.Fatalf("again: %+v, %v", again, err)
	}
	// An owner role cached from before step 1: the directory is read back.
	stale, err := e.svc.Enable(e.Ctx, setup.Subject{AccountID: owner, Role: role.Owner}, e.actor)
	if err != nil || *stale.ResourceDirectory != *d {
		t.Fatalf("stale owner role: %+v, %v", stale, err)
	}
	if got, want := e.actions(d.DirectoryID), []string{"enable-directory " + d.DirectoryID + " Enabled"}; !slices.Equal(got, want) {
		t.Fatalf("audit %v, want %v", got, want)
	}
}

func TestInviteReportsEachTarget(t *testing.T) {
	e := newEnv(t)
	d := e.enable()
	e.join(uid(1), "Alpha")
	out, err := e.svc.Invite(e.Ctx, d, e.actor, setup.InviteInput{Note: "Join us", Targets: []setup.Target{
		{AccountID: uid(2)}, {Email: "Ops@Example.com"}, {AccountID: uid(2)}, // a repeat counts once
		{AccountID: uid(1)}, // already in the directory
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Results) != 3 {
		t.Fatalf("results %+v", out.Results)
	}
	r := out.Results
	if r[0].Target != uid(2) || r[0].Status != "Invited" || r[0].InvitationID == "" ||
		r[1].Target != "ops@example.com" || r[1].Status != "Invited" ||
		r[2].Target != uid(1) || r[2].Status != "Failed" || r[2].Code != apperr.CodeAlreadyInDirectory || r[2].Message == "" {
		t.Fatalf("results %+v", r)
	}
	// A second invitation of a pending target fails for that target only.
	again, err := e.svc.Invite(e.Ctx, d, e.actor, setup.InviteInput{Targets: []setup.Target{{AccountID: uid(2)}, {AccountID: uid(3)}}})
	if err != nil {
		t.Fatal(err)
	}
	if again.Results[0].Code != apperr.CodeInvitationPending || again.Results[1].Status != "Invited" {
		t.Fatalf("again: %+v", again.Results)
	}
	got := e.actions(d.ID)
	if len(got) != 4 || got[1] != "invite-accounts "+uid(2)+" Invited" || got[2] != "invite-accounts ops@example.com Invited" {
		t.Fatalf("audit %v", got)
	}

	for _, tc := range []struct {
		name string
		in   setup.InviteInput
		code apperr.Code
	}{
		{"no targets", setup.InviteInput{}, "MissingParameter.Targets"},
		{"both kinds", setup.InviteInput{Targets: []setup.Target{{AccountID: uid(4), Email: "a@example.com"}}}, "InvalidParameter.Targets"},
		{"neither kind", setup.InviteInput{Targets: []setup.Target{{}}}, "MissingParameter.Targets[0].AccountId"},
		{"bad email", setup.InviteInput{Targets: []setup.Target{{Email: "nobody"}}}, "InvalidParameter.Targets"},
		{"too many", setup.InviteInput{Targets: make([]setup.Target, setup.MaxTargets+1)}, "InvalidParameter.Targets"},
	} {
		_, err := e.svc.Invite(e.Ctx, d, e.actor, tc.in)
		wantCode(t, tc.name, err, apperr.KindInvalid, tc.code)
	}
}

func TestListAndCancelInvitations(t *testing.T) {
	e := newEnv(t)
	d := e.enable()
	var sent []string
	for i := 1; i <= 3; i++ {
		inv, err := e.Sim.Invite(e.Ctx, uid(i), directory.TargetAccount, "")
		if err != nil {
			t.Fatal(err)
		}
		sent = append(sent, inv.ID)
		e.Now = e.Now.Add(time.Minute)
	}
	out, err := e.svc.Cancel(e.Ctx, d, e.actor, setup.CancelInput{InvitationID: sent[0]})
	if err != nil || out.Invitation.Status != directory.StatusCancelled || out.Invitation.TargetEntity != uid(1) {
		t.Fatalf("cancel: %+v, %v", out, err)
	}
	_, err = e.svc.Cancel(e.Ctx, d, e.actor, setup.CancelInput{InvitationID: sent[0]})
	wantCode(t, "cancel twice", err, apperr.KindConflict, apperr.CodeInvitationStatus)
	_, err = e.svc.Cancel(e.Ctx, d, e.actor, setup.CancelInput{InvitationID: "h-doesnotexist"})
	wantCode(t, "unknown", err, apperr.KindNotFound, apperr.CodeInvitationNotFound)
	_, err = e.svc.Cancel(e.Ctx, d, e.actor, setup.CancelInput{InvitationID: "x-1"})
	wantCode(t, "not an invitation ID", err, apperr.KindInvalid, "InvalidParameter.InvitationId")
	_, err = e.svc.Cancel(e.Ctx, d, e.actor, setup.CancelInput{})
	wantCode(t, "no ID", err, apperr.KindInvalid, "MissingParameter.InvitationId")

	// Newest first, in pages.
	got := usecasetest.Pages(t, 3, func(token string) ([]string, int, string, error) {
		page, err := e.svc.ListInvitations(e.Ctx, d, setup.ListInvitationsInput{MaxResults: "2", NextToken: token})
		var ids []string
		for _, inv := range page.Invitations {
			ids = append(ids, inv.InvitationID)
		}
		return ids, page.TotalCount, page.NextToken, err
	})
	if want := []string{sent[2], sent[1], sent[0]}; !slices.Equal(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
	pending, err := e.svc.ListInvitations(e.Ctx, d, setup.ListInvitationsInput{Status: directory.StatusPending})
	if err != nil || pending.TotalCount != 2 {
		t.Fatalf("pending: %+v, %v", pending, err)
	}
	_, err = e.svc.ListInvitations(e.Ctx, d, setup.ListInvitationsInput{Status: "Lost"})
	wantCode(t, "bad status", err, apperr.KindInvalid, "InvalidParameter.Status")

	if got := e.actions(d.ID); len(got) != 2 || got[1] != "cancel-invitation "+sent[0]+" Cancelled" {
		t.Fatalf("audit %v", got)
	}
}

func TestDelegatedAdministrator(t *testing.T) {
	e := newEnv(t)
	d := e.enable()
	e.join(uid(1), "Alpha")
	e.join(uid(2), "Beta")
	e.changed = 0

	_, err := e.svc.Register(e.Ctx, d, e.actor, setup.DelegatedInput{AccountID: owner})
	wantCode(t, "the management account", err, apperr.KindInvalid, "InvalidParameter.AccountId")
	_, err = e.svc.Register(e.Ctx, d, e.actor, setup.DelegatedInput{AccountID: uid(9)})
	wantCode(t, "not in the directory", err, apperr.KindNotFound, apperr.CodeAccountNotFound)

	out, err := e.svc.Register(e.Ctx, d, e.actor, setup.DelegatedInput{AccountID: uid(1)})
	if err != nil || out.DelegatedAdministrator.AccountID != uid(1) || out.DelegatedAdministrator.DelegationEnabledTime == "" || e.changed != 1 {
		t.Fatalf("register: %+v, %v, %d invalidations", out, err, e.changed)
	}
	// The same account again is a success that changes nothing.
	if out, err = e.svc.Register(e.Ctx, d, e.actor, setup.DelegatedInput{AccountID: uid(1)}); err != nil || out.DelegatedAdministrator.AccountID != uid(1) || e.changed != 1 {
		t.Fatalf("again: %+v, %v", out, err)
	}
	_, err = e.svc.Register(e.Ctx, d, e.actor, setup.DelegatedInput{AccountID: uid(2)})
	wantCode(t, "another account", err, apperr.KindConflict, apperr.CodeDelegatedExists)

	if _, err := e.svc.Deregister(e.Ctx, d, e.actor, setup.DelegatedInput{AccountID: uid(1)}); err != nil || e.changed != 2 {
		t.Fatalf("deregister: %v, %d invalidations", err, e.changed)
	}
	_, err = e.svc.Deregister(e.Ctx, d, e.actor, setup.DelegatedInput{AccountID: uid(1)})
	wantCode(t, "deregister twice", err, apperr.KindNotFound, apperr.CodeDelegatedNotFound)
	_, err = e.svc.Deregister(e.Ctx, d, e.actor, setup.DelegatedInput{AccountID: "1"})
	wantCode(t, "malformed", err, apperr.KindInvalid, "InvalidParameter.AccountId")

	want := []string{
		string(action.EnableDirectory) + " " + d.ID + " Enabled",
		string(action.RegisterDelegatedAdmin) + " " + uid(1) + " Registered",
		string(action.DeregisterDelegatedAdmin) + " " + uid(1) + " Deregistered",
	}
	if got := e.actions(d.ID); !slices.Equal(got, want) {
		t.Fatalf("audit %v, want %v", got, want)
	}
}

// A new directory has its mirror at once (the management account in the
// root folder, synced), so candidates and folder paths never wait for the
// first reconciliation; the mirror is what RD lists.
func TestEnableWritesTheFirstMirror(t *testing.T) {
	e := newEnv(t)
	d := e.enable()
	m, err := e.Store.ReadMirror(e.Ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if m.Marks.SyncTime.IsZero() {
		t.Fatal("the mirror of a new directory is not marked synced")
	}
	accs, err := e.Sim.ListAccounts(e.Ctx)
	if err != nil {
		t.Fatal(err)
	}
	folders, err := e.Sim.ListFolders(e.Ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(accs) != 1 || len(m.Accounts) != 1 || m.Accounts[0].AccountID != accs[0].AccountID ||
		m.Accounts[0].DisplayName != accs[0].DisplayName || m.Accounts[0].FolderID != accs[0].FolderID {
		t.Fatalf("mirror accounts %+v, RD lists %+v", m.Accounts, accs)
	}
	if len(folders) != 1 || len(m.Folders) != 1 || m.Folders[0].ID != folders[0].ID || m.Folders[0].Name != folders[0].Name || m.Folders[0].ParentID != "" {
		t.Fatalf("mirror folders %+v, RD lists %+v", m.Folders, folders)
	}
}
