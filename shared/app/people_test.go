package app_test

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/sase-multiaccount/backend/shared/adapter/cloudcreds"
	"github.com/sase-multiaccount/backend/shared/adapter/tablestore"
	"github.com/sase-multiaccount/backend/shared/port/store"
	"github.com/sase-multiaccount/backend/shared/role"
	"github.com/sase-multiaccount/backend/shared/rolecheck"
	"github.com/sase-multiaccount/backend/shared/testkit/otsfake"
)

// People of the standard fixture's accounts (RAM users).
const (
	aliceID = "2100000000000001" // of the MA
	bobID   = "2200000000000002" // of the DA
	carolID = "2100000000000003" // of the MA, in SASE_ADMINISTRATORS
	daveID  = "2200000000000004" // of the DA
	aliceN  = "alice@owner.onaliyun.com"
	bobN    = "bob@delta.onaliyun.com"
)

// as is a request of a person.
func as(fn, account, user string, body any) request {
	return request{Fn: fn, As: account, User: user, Name: nameOf(user), Body: body}
}

func nameOf(user string) string {
	switch user {
	case aliceID:
		return aliceN
	case bobID:
		return bobN
	}
	return "person-" + user + "@example.onaliyun.com"
}

func grant(account, user, access string) map[string]any {
	return map[string]any{"AccountId": account, "UserId": user, "AccessRole": access}
}

// The walk of the contract: a RAM user of the MA is refused, granted
// Operator, adds a member; the grant, the person's name and sign-in, and
// the audit records of the person show; a revocation takes effect at once.
func TestGrantThenAct(t *testing.T) {
	k := newKit(t)
	k.standard()
	add := map[string]any{"Members": []map[string]string{{"AccountId": candID}}}
	r := k.do(t, as("add-members", ownerID, aliceID, add))
	wantErr(t, r, 403, "Forbidden.AccessRole", aliceN, aliceID, "None", "add-members", "Administrator of the management account "+ownerID)

	var d struct {
		Caller struct {
			UserId, UserName, AccessRole string
			AllowedActions               []string
		}
		ResourceDirectory *struct{ ManagementAccountId string }
		Steps             *struct{}
	}
	k.do(t, as("describe-setup", ownerID, aliceID, nil)).decode(t, &d)
	if d.Caller.UserId != aliceID || d.Caller.UserName != aliceN || d.Caller.AccessRole != "None" ||
		!slices.Equal(d.Caller.AllowedActions, []string{"describe-setup"}) || d.ResourceDirectory == nil || d.Steps != nil {
		t.Fatalf("describe-setup of a person without access: %+v", d)
	}

	var g struct {
		Grant struct {
			AccessRole, GrantedBy string
			Version               int64
		}
	}
	k.do(t, request{Fn: "grant-access", As: ownerID, Body: grant(ownerID, aliceID, "Operator")}).decode(t, &g)
	if g.Grant.AccessRole != "Operator" || g.Grant.GrantedBy != ownerID || g.Grant.Version != 1 {
		t.Fatalf("grant-access: %+v", g)
	}
	wantOK(t, k.do(t, as("add-members", ownerID, aliceID, add)))
	k.do(t, as("describe-setup", ownerID, aliceID, nil)).decode(t, &d)
	if d.Caller.AccessRole != "Operator" || !slices.Contains(d.Caller.AllowedActions, "delete-members") ||
		slices.Contains(d.Caller.AllowedActions, "list-access") || d.Steps == nil {
		t.Fatalf("describe-setup of an Operator: %+v", d)
	}

	var l struct {
		Grants []struct{ AccountId, UserId, UserName, AccessRole, LastSignInTime string }
	}
	k.do(t, request{Fn: "list-access", As: ownerID}).decode(t, &l)
	if len(l.Grants) != 1 || l.Grants[0].UserName != aliceN || l.Grants[0].LastSignInTime != "2026-11-24T08:00:00Z" {
		t.Fatalf("list-access: %+v", l)
	}
	var trail struct {
		Events []struct{ Action, ActorUserId, ActorUserName, ActorAccessRole, Target string }
	}
	k.do(t, request{Fn: "list-audit-events", As: ownerID}).decode(t, &trail)
	if e := trail.Events[0]; e.Action != "add-members" || e.ActorUserId != aliceID || e.ActorUserName != aliceN || e.ActorAccessRole != "Operator" {
		t.Errorf("the add's record: %+v", e)
	}
	if e := trail.Events[1]; e.Action != "grant-access" || e.Target != aliceID || e.ActorUserId != ownerID || e.ActorAccessRole != "Administrator" {
		t.Errorf("the grant's record: %+v", e)
	}

	wantOK(t, k.do(t, request{Fn: "revoke-access", As: ownerID, Body: map[string]string{"AccountId": ownerID, "UserId": aliceID}}))
	wantErr(t, k.do(t, as("list-members", ownerID, aliceID, nil)), 403, "Forbidden.AccessRole")
	wantErr(t, k.do(t, request{Fn: "revoke-access", As: ownerID, Body: map[string]string{"AccountId": ownerID, "UserId": aliceID}}),
		404, "EntityNotExists.Grant")
}

// The refusals of the contract's security section; none writes anything.
func TestGrantRefusals(t *testing.T) {
	k := newKit(t, withEnv("SASE_ADMINISTRATORS", ownerID+":"+carolID))
	k.standard()
	wantOK(t, k.do(t, request{Fn: "grant-access", As: ownerID, Body: grant(daID, bobID, "Administrator")}))
	wantOK(t, k.do(t, request{Fn: "grant-access", As: ownerID, Body: grant(ownerID, aliceID, "Administrator")}))
	before := k.snapshot()
	cases := []struct {
		name   string
		rq     request
		status int
		code   string
		say    []string
	}{
		{"a member's person", request{Fn: "grant-access", As: ownerID, Body: grant(memberID, "7", "Viewer")}, 400, "InvalidParameter.AccountId", []string{memberID, daID}},
		{"a stranger's person", request{Fn: "grant-access", As: ownerID, Body: grant(strangerID, "7", "Viewer")}, 400, "InvalidParameter.AccountId", nil},
		{"the DA's administrator in the MA", as("grant-access", daID, bobID, grant(ownerID, "7", "Viewer")), 403, "Forbidden.AccessRole", []string{ownerID}},
		{"oneself, granted", as("grant-access", ownerID, aliceID, grant(ownerID, aliceID, "Viewer")), 400, "InvalidParameter.UserId", []string{"own grant"}},
		{"oneself, revoked", as("revoke-access", ownerID, aliceID, map[string]string{"AccountId": ownerID, "UserId": aliceID}), 400, "InvalidParameter.UserId", nil},
		{"oneself, the root", request{Fn: "grant-access", As: ownerID, Body: grant(ownerID, ownerID, "Viewer")}, 400, "InvalidParameter.UserId", nil},
		{"a root identity", as("revoke-access", ownerID, aliceID, map[string]string{"AccountId": daID, "UserId": daID}), 409, "Conflict.PermanentAdministrator", []string{"root identity"}},
		{"a SASE_ADMINISTRATORS entry", as("grant-access", ownerID, aliceID, grant(ownerID, carolID, "Viewer")), 409, "Conflict.PermanentAdministrator", []string{"SASE_ADMINISTRATORS"}},
		{"access role None", request{Fn: "grant-access", As: ownerID, Body: grant(daID, "7", "None")}, 400, "InvalidParameter.AccessRole", []string{"revoke-access"}},
		{"a UserId of letters", request{Fn: "grant-access", As: ownerID, Body: grant(daID, "bob", "Viewer")}, 400, "InvalidParameter.UserId", nil},
		{"a stale Version", request{Fn: "grant-access", As: ownerID, Body: map[string]any{"AccountId": daID, "UserId": bobID, "AccessRole": "Viewer", "Version": 0}}, 409, "Conflict.Version", nil},
		{"a person without access granting", as("grant-access", daID, daveID, grant(daID, "7", "Viewer")), 403, "Forbidden.AccessRole", nil},
	}
	for _, tc := range cases {
		wantErr(t, k.do(t, tc.rq), tc.status, tc.code, tc.say...)
	}
	if after := k.snapshot(); after != before {
		t.Fatalf("refused grant changes wrote:\n%s", diff(before, after))
	}
	// The DA's administrator sees the DA's grants only, and is refused the MA's.
	var l struct{ Grants []struct{ AccountId string } }
	k.do(t, as("list-access", daID, bobID, nil)).decode(t, &l)
	if len(l.Grants) != 1 || l.Grants[0].AccountId != daID {
		t.Errorf("the DA's administrator lists %+v", l.Grants)
	}
	wantErr(t, k.do(t, request{Fn: "list-access", As: daID, User: bobID, Query: map[string]string{"AccountId": ownerID}}), 403, "Forbidden.AccessRole")
}

// A token whose uid differs but whose aid matches never inherits another
// person's grant, whatever name it carries; nor does the same uid of
// another account.
func TestAnotherPersonInheritsNothing(t *testing.T) {
	k := newKit(t)
	k.standard()
	wantOK(t, k.do(t, request{Fn: "grant-access", As: ownerID, Body: grant(ownerID, aliceID, "Operator")}))
	add := map[string]any{"Members": []map[string]string{{"AccountId": candID}}}
	for _, rq := range []request{
		{Fn: "add-members", As: ownerID, User: "2100000000000099", Name: aliceN, Body: add}, // alice's name, another uid
		{Fn: "add-members", As: daID, User: aliceID, Name: aliceN, Body: add},               // alice's uid, another account
	} {
		wantErr(t, k.do(t, rq), 403, "Forbidden.AccessRole", "None")
	}
	wantOK(t, k.do(t, as("add-members", ownerID, aliceID, add)))
}

// The DA's people lose everything the moment the DA is deregistered: its
// root identity and its granted Administrator alike, on this instance at
// once; their grants count again only if it is registered again.
func TestDeregisteringTheDATakesItsPeoplesAccess(t *testing.T) {
	k := newKit(t, withEnv("ROLE_CACHE_TTL", "1h"))
	k.standard()
	wantOK(t, k.do(t, request{Fn: "grant-access", As: ownerID, Body: grant(daID, bobID, "Administrator")}))
	for _, fn := range []string{"list-members", "list-access"} {
		wantOK(t, k.do(t, as(fn, daID, bobID, nil)))
	}
	wantOK(t, k.post(t, "deregister-delegated-admin", ownerID, map[string]string{"AccountId": daID}))
	for _, rq := range []request{as("list-members", daID, bobID, nil), as("list-access", daID, bobID, nil),
		{Fn: "list-members", As: daID}, as("add-members", daID, bobID, map[string]any{"Members": []map[string]string{{"AccountId": candID}}})} {
		wantErr(t, k.do(t, rq), 403, "Forbidden.Role")
	}
	var l struct{ Grants []struct{ AccountId string } }
	k.do(t, request{Fn: "list-access", As: ownerID}).decode(t, &l)
	if len(l.Grants) != 0 {
		t.Errorf("the MA still lists the former DA's grants: %+v", l.Grants)
	}
	wantErr(t, k.do(t, request{Fn: "grant-access", As: ownerID, Body: grant(daID, bobID, "Viewer")}), 400, "InvalidParameter.AccountId")
}

// Two warm instances over one store, caches for an hour: a grant or a
// revocation made through instance A reaches instance B within a second
// (the directory generation, as for a delegated administrator). No sleeps:
// B's clock is moved.
func TestGrantChangeReachesAnotherInstanceWithinASecond(t *testing.T) {
	a := newKit(t, withEnv("ROLE_CACHE_TTL", "1h"))
	a.standard()
	bClock := &clock{t: t0}
	b := a.twin(t, bClock)
	read := as("list-members", daID, bobID, nil)
	wantErr(t, b.do(t, read), 403, "Forbidden.AccessRole")

	wantOK(t, a.do(t, request{Fn: "grant-access", As: ownerID, Body: grant(daID, bobID, "Viewer")}))
	wantOK(t, a.do(t, read)) // at once on the instance that made it
	bClock.Advance(1100 * time.Millisecond)
	wantOK(t, b.do(t, read))

	// B caches it; A revokes; within the second B may still answer from
	// its copy, after it B refuses.
	wantOK(t, b.do(t, read))
	wantOK(t, a.do(t, request{Fn: "revoke-access", As: daID, Body: map[string]string{"AccountId": daID, "UserId": bobID}}))
	wantErr(t, a.do(t, read), 403, "Forbidden.AccessRole")
	bClock.Advance(1100 * time.Millisecond)
	wantErr(t, b.do(t, read), 403, "Forbidden.AccessRole")
}

// On a warm instance a person's request costs no store call for the access
// check: the grants are read once per directory generation, the generation
// at most once a second, and the person's sign-in is written at most once
// an hour.
func TestAccessCheckCostsNothingWarm(t *testing.T) {
	k := newKit(t)
	fx := k.standard()
	wantOK(t, k.do(t, request{Fn: "grant-access", As: ownerID, Body: grant(ownerID, aliceID, "Viewer")}))
	read := as("get-enrollment-policy", ownerID, aliceID, nil)
	// Warm up: the instance's own grant moved the generation, which it
	// reads (and drops its copies for, once) within a second.
	k.do(t, read)
	k.clock.Advance(time.Second)
	k.do(t, read)
	k.store.take()
	for range 10 {
		wantOK(t, k.do(t, read))
	}
	if got := k.store.take(); !maps.Equal(got, map[string]int{"GetPolicy": 10}) {
		t.Errorf("10 warm requests: store calls %v, want the function's own only (GetPolicy 10)", got)
	}
	k.clock.Advance(time.Second)
	wantOK(t, k.do(t, read))
	if got := k.store.take(); !maps.Equal(got, map[string]int{"GetPolicy": 1, "Generation": 1}) {
		t.Errorf("a second later: store calls %v, want one generation read more", got)
	}
	k.clock.Advance(rolecheck.TouchEvery)
	wantOK(t, k.do(t, read))
	wantOK(t, k.do(t, read))
	got := k.store.take()
	if got["TouchGrant"] != 1 || got["ListGrants"] != 1 {
		t.Errorf("an hour later: store calls %v, want one TouchGrant (the hourly sign-in) and one ListGrants (the role cache expired)", got)
	}
	g, err := k.raw.GetGrant(k.ctx, fx.dir.ID, ownerID, aliceID)
	if err != nil || !g.LastSignInTime.Equal(k.clock.Now()) || g.UserName != aliceN || g.Version != 1 {
		t.Errorf("grant after the hourly touch: %+v, %v", g, err)
	}
}

// Older audit records (without the person) still list, with empty person
// fields, beside new ones.
func TestOldAuditRecordsStillList(t *testing.T) {
	k := newKit(t)
	fx := k.standard()
	old := store.AuditEvent{DirectoryID: fx.dir.ID, ID: "0000000000001-000000-old", Time: t0.Add(-time.Hour), ActorAccountID: ownerID,
		ActorPrincipal: "legacy", ActorRole: "ManagementAccount", Action: "add-members", Target: saseID, Result: "Added"}
	if err := k.raw.AppendAudit(k.ctx, []store.AuditEvent{old}); err != nil {
		t.Fatal(err)
	}
	var trail struct {
		Events []map[string]any
	}
	k.do(t, request{Fn: "list-audit-events", As: ownerID, Query: map[string]string{"Target": saseID}}).decode(t, &trail)
	if len(trail.Events) != 1 || trail.Events[0]["ActorPrincipal"] != "legacy" || trail.Events[0]["ActorUserId"] != "" ||
		trail.Events[0]["ActorAccessRole"] != "" {
		t.Fatalf("the old record lists as %+v", trail.Events)
	}
}

// SASE_ADMINISTRATORS makes a person an Administrator in the MA (and
// before the directory, in the owner: the first administrator of a
// deployment whose root identity never signs in); NEW_USER_ACCESS is
// everyone else's access role.
func TestPermanentAdministratorsAndNewUsers(t *testing.T) {
	k := newKit(t, withEnv("SASE_ADMINISTRATORS", ownerID+":"+carolID), withEnv("NEW_USER_ACCESS", "Viewer"))
	wantOK(t, k.do(t, as("enable-directory", ownerID, carolID, map[string]any{})))
	wantErr(t, k.do(t, as("invite-accounts", ownerID, aliceID, map[string]any{"Targets": []map[string]string{{"AccountId": freshID}}})),
		403, "Forbidden.AccessRole", "Viewer")
	wantOK(t, k.do(t, as("list-invitations", ownerID, aliceID, nil)))
	var d struct{ Caller struct{ AccessRole string } }
	k.do(t, as("describe-setup", ownerID, carolID, nil)).decode(t, &d)
	if d.Caller.AccessRole != string(role.Administrator) {
		t.Errorf("carol: %+v", d)
	}
}

// tablestoreOverFake opens the production store adapter against the
// wire-level Tablestore fake (the tables as scripts/create-tables makes them).
func tablestoreOverFake(tb testing.TB) store.Store {
	tb.Helper()
	fake := otsfake.New(otsfake.Options{})
	tb.Cleanup(fake.Close)
	fake.AddCredentials("STS.people", "secret", "token")
	cfg := tablestore.Config{Endpoint: fake.URL(), Instance: fake.Instance(),
		Credentials: cloudcreds.Static(cloudcreds.Credentials{AccessKeyID: "STS.people", AccessKeySecret: "secret", SecurityToken: "token"})}
	if err := tablestore.EnsureTables(context.Background(), cfg); err != nil {
		tb.Fatal(err)
	}
	s, err := tablestore.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// The revocation time measured in wall-clock time: two instances over the
// Tablestore adapter and its wire fake, real clocks, caches for an hour.
// Instance B answers from its cached grant until it reads the directory
// generation (at most once a second), so a revocation made through A is
// refused by B within about a second. B is asked every 20 ms.
func TestRevocationTimeAcrossInstances(t *testing.T) {
	if testing.Short() {
		t.Skip("waits up to a second of wall-clock time (make test runs it)")
	}
	a := newKit(t, withEnv("ROLE_CACHE_TTL", "1h"), withRealClock(), withStore(tablestoreOverFake))
	a.standard()
	b := a.twin(t, &clock{real: true})
	read := as("list-members", daID, bobID, nil)
	wantOK(t, a.do(t, request{Fn: "grant-access", As: ownerID, Body: grant(daID, bobID, "Viewer")}))
	grantSeen := until(t, func() bool { return b.do(t, read).Status == 200 })
	wantOK(t, b.do(t, read)) // cached on B now

	wantOK(t, a.do(t, request{Fn: "revoke-access", As: ownerID, Body: map[string]string{"AccountId": daID, "UserId": bobID}}))
	revokeSeen := until(t, func() bool { return b.do(t, read).Status == 403 })
	t.Logf("across two instances over Tablestore: a grant reached B after %s, a revocation after %s", grantSeen, revokeSeen)
	if revokeSeen > 1500*time.Millisecond {
		t.Errorf("the revocation reached instance B after %s; want within a second (plus a poll and a request: 1.5 s)", revokeSeen)
	}
}

// until asks ok every 20 ms until it holds, and returns how long that took
// (failing after 5 s).
func until(t *testing.T, ok func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !ok() {
		if time.Since(start) > 5*time.Second {
			t.Fatal("still not after 5 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Since(start)
}
