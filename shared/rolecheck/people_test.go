package rolecheck

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sase-multiaccount/backend/shared/action"
	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/port/store"
	"github.com/sase-multiaccount/backend/shared/role"
)

// fakeGrants is a grant store that counts its calls.
type fakeGrants struct {
	mu      sync.Mutex
	grants  []store.Grant
	lists   int
	touches []string // "<account>:<user> <name>" per TouchGrant that wrote
	calls   int      // TouchGrant calls, written or not
	gen     int64
}

func (f *fakeGrants) ListGrants(_ context.Context, dirID string) ([]store.Grant, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lists++
	return append([]store.Grant(nil), f.grants...), nil
}

func (f *fakeGrants) TouchGrant(_ context.Context, dirID, accountID, userID, userName string, at, staleBefore time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	for i, g := range f.grants {
		if g.AccountID == accountID && g.UserID == userID && g.LastSignInTime.Before(staleBefore) {
			f.grants[i].UserName, f.grants[i].LastSignInTime = userName, at
			f.touches = append(f.touches, accountID+":"+userID+" "+userName)
		}
	}
	return nil
}

func (f *fakeGrants) Generation(context.Context) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.gen, nil
}

func (f *fakeGrants) set(gs ...store.Grant) {
	f.mu.Lock()
	f.grants = gs
	f.gen++
	f.mu.Unlock()
}

const (
	alice = "2000000000000001" // RAM user of the MA
	bob   = "2000000000000002" // RAM user of the DA
	carol = "2000000000000003" // RAM user of the MA, in SASE_ADMINISTRATORS
	dave  = "2000000000000004" // RAM user of the member, "in" SASE_ADMINISTRATORS
)

func person(acct, user, name string) role.Person {
	return role.Person{AccountID: acct, UserID: user, UserName: name}
}

type peopleEnv struct {
	dir    *countingDir
	grants *fakeGrants
	c      *Checker
	now    time.Time
}

func newPeople(t *testing.T, newUser role.Access) *peopleEnv {
	e := &peopleEnv{dir: newDir(), grants: &fakeGrants{}, now: time.Unix(1_795_000_000, 0)}
	e.c = NewChecker(e.dir, e.grants, owner, time.Minute, WithClock(func() time.Time { return e.now }))
	e.c.UsePeople(People{Grants: e.grants, NewUser: newUser,
		Administrators: []role.Person{{AccountID: owner, UserID: carol}, {AccountID: mem, UserID: dave}},
		Logf:           func(f string, args ...any) { t.Errorf("unexpected log: "+f, args...) }})
	e.grants.set(
		store.Grant{AccountID: owner, UserID: alice, AccessRole: role.Operator},
		store.Grant{AccountID: da, UserID: bob, AccessRole: role.Viewer},
		// A grant for a member's person (the use case refuses to make one)
		// gives nothing: only the MA's and the DA's people have grants.
		store.Grant{AccountID: mem, UserID: alice, AccessRole: role.Administrator},
	)
	return e
}

func (e *peopleEnv) access(t *testing.T, p role.Person) role.Access {
	t.Helper()
	s, err := e.c.Authorize(context.Background(), p, action.DescribeSetup)
	if err != nil {
		t.Fatalf("describe-setup by %s: %v", p.Key(), err)
	}
	return s.Access
}

func TestAccessRoles(t *testing.T) {
	e := newPeople(t, role.NoAccess)
	for _, tc := range []struct {
		who  role.Person
		want role.Access
	}{
		{root(owner), role.Administrator},
		{root(da), role.Administrator},
		{root(mem), role.Administrator},
		{person(owner, carol, "carol"), role.Administrator},
		{person(owner, alice, "alice"), role.Operator},
		{person(da, bob, "bob"), role.Viewer},
		{person(da, alice, "alice"), role.NoAccess},   // alice's grant is in the MA only
		{person(owner, bob, "bob"), role.NoAccess},    // bob's grant is in the DA only
		{person(owner, "42", "alice"), role.NoAccess}, // the same name is not the same person
		{person(mem, alice, "alice"), role.NoAccess},  // a member's people have no grants
		{person(mem, dave, "dave"), role.NoAccess},    // nor SASE_ADMINISTRATORS entries
	} {
		if got := e.access(t, tc.who); got != tc.want {
			t.Errorf("%s (%s): access %s, want %s", tc.who.Key(), tc.who.UserName, got, tc.want)
		}
	}
	viewers := newPeople(t, role.Viewer)
	if got := viewers.access(t, person(owner, "42", "x")); got != role.Viewer {
		t.Errorf("NEW_USER_ACCESS Viewer: a person without a grant has %s", got)
	}
	if got := viewers.access(t, person(owner, alice, "alice")); got != role.Operator {
		t.Errorf("a grant beats NEW_USER_ACCESS: %s", got)
	}
}

// Before step 1 the owner's root identity and its SASE_ADMINISTRATORS
// entries may enable the directory; its other people may not.
func TestAccessBeforeTheDirectory(t *testing.T) {
	e := newPeople(t, role.NoAccess)
	e.dir.dir = nil
	for _, p := range []role.Person{root(owner), person(owner, carol, "carol")} {
		if _, err := e.c.Authorize(context.Background(), p, action.EnableDirectory); err != nil {
			t.Errorf("enable-directory by %s: %v", p.Key(), err)
		}
	}
	_, err := e.c.Authorize(context.Background(), person(owner, alice, "alice"), action.EnableDirectory)
	if !apperr.IsCode(err, apperr.CodeForbiddenAccess) || !strings.Contains(err.Error(), "root identity of account "+owner) {
		t.Errorf("enable-directory by a RAM user of the owner: %v", err)
	}
}

func TestAccessDenialNamesPersonRoleActionAndGranter(t *testing.T) {
	e := newPeople(t, role.NoAccess)
	_, err := e.c.Authorize(context.Background(), person(da, bob, "bob@example.onaliyun.com"), action.AddMembers)
	ae, ok := apperr.As(err)
	if !ok || ae.Kind != apperr.KindForbidden || ae.Code != apperr.CodeForbiddenAccess {
		t.Fatalf("Viewer adding members: %v", err)
	}
	for _, want := range []string{"bob@example.onaliyun.com", bob, da, "Viewer", "add-members", "Operator", "Administrator of account " + da, "management account " + owner} {
		if !strings.Contains(ae.Message, want) {
			t.Errorf("message %q lacks %q", ae.Message, want)
		}
	}
	_, err = e.c.Authorize(context.Background(), person(owner, alice, "alice"), action.ListAccess)
	if ae, _ := apperr.As(err); ae == nil || ae.Code != apperr.CodeForbiddenAccess || !strings.Contains(ae.Message, "management account "+owner) ||
		strings.Contains(ae.Message, "delegated") {
		t.Errorf("Operator listing access: %v", err)
	}
	// The account's role is checked first: a member's Administrator is
	// still a member.
	if _, err := e.c.Authorize(context.Background(), root(mem), action.AddMembers); !apperr.IsCode(err, apperr.CodeForbiddenRole) {
		t.Errorf("member root adding members: %v", err)
	}
}

// On a warm instance the access check costs no store call: the grants are
// read once per directory generation; a grant change (the generation moves)
// is seen within a second; a person's sign-in is written at most hourly.
func TestGrantsAreCachedPerGeneration(t *testing.T) {
	e := newPeople(t, role.NoAccess)
	alicePerson := person(owner, alice, "alice")
	for range 5 {
		e.access(t, alicePerson)
		e.access(t, person(da, bob, "bob"))
	}
	if e.grants.lists != 1 {
		t.Errorf("%d ListGrants for 10 requests on a warm instance, want 1", e.grants.lists)
	}
	if want := []string{owner + ":" + alice + " alice", da + ":" + bob + " bob"}; strings.Join(e.grants.touches, ",") != strings.Join(want, ",") || e.grants.calls != 2 {
		t.Errorf("touches %v (%d calls), want one per person: %v", e.grants.touches, e.grants.calls, want)
	}

	e.grants.set(store.Grant{AccountID: owner, UserID: alice, AccessRole: role.Viewer, LastSignInTime: e.now})
	e.now = e.now.Add(500 * time.Millisecond)
	if got := e.access(t, alicePerson); got != role.Operator {
		t.Errorf("within the second the cached grant may serve: %s", got)
	}
	e.now = e.now.Add(600 * time.Millisecond)
	if got := e.access(t, alicePerson); got != role.Viewer {
		t.Errorf("1.1 s after the change: %s, want Viewer", got)
	}
	if got := e.access(t, person(da, bob, "bob")); got != role.NoAccess {
		t.Errorf("bob's grant was revoked: %s", got)
	}
	if e.grants.lists != 2 {
		t.Errorf("%d ListGrants, want 2 (one per generation)", e.grants.lists)
	}

	e.now = e.now.Add(TouchEvery - 2*time.Second)
	e.access(t, person(owner, alice, "alice v2"))
	if e.grants.calls != 2 {
		t.Errorf("a touch within the hour: %d calls", e.grants.calls)
	}
	e.now = e.now.Add(2 * time.Second)
	e.access(t, person(owner, alice, "alice v2"))
	e.access(t, person(owner, alice, "alice v2"))
	if e.grants.calls != 3 || e.grants.touches[len(e.grants.touches)-1] != owner+":"+alice+" alice v2" {
		t.Errorf("after an hour: %d calls, touches %v; want one more, with the new name", e.grants.calls, e.grants.touches)
	}
}

func TestAllowedFollowsThePolicy(t *testing.T) {
	got := Allowed(RoleDelegated, role.Viewer)
	want := []action.Action{action.DescribeSetup, action.GetEnrollmentPolicy, action.GetMember, action.ListAuditEvents,
		action.ListCandidates, action.ListFolders, action.ListMemberChanges, action.ListMembers}
	if strings.Join(strs(got), ",") != strings.Join(strs(want), ",") {
		t.Errorf("Allowed(DA, Viewer) = %v, want %v", got, want)
	}
	if got := Allowed(RoleMember, role.Administrator); len(got) != 1 || got[0] != action.DescribeSetup {
		t.Errorf("Allowed(member, Administrator) = %v", got)
	}
	if got := Allowed(RoleManagement, role.NoAccess); len(got) != 1 || got[0] != action.DescribeSetup {
		t.Errorf("Allowed(MA, None) = %v", got)
	}
}

func strs(as []action.Action) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = string(a)
	}
	return out
}
