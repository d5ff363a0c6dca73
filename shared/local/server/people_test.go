package server_test

import (
	"fmt"
	"testing"
)

// People of the walk: RAM users of the management account and of the
// delegated administrator.
const (
	alice = "2000000000000101" // of the owner (the management account)
	bob   = "2000000000000202" // of the delegated administrator
	carol = "2000000000000203" // of the delegated administrator
)

// person is a client signed in as a RAM user of account.
func (c *client) person(account, user, name string) *client {
	c.t.Helper()
	anon := &client{t: c.t, base: c.base}
	tok := anon.call("POST", "/_local/token", map[string]string{"AccountId": account, "UserId": user, "UserName": name}, 200)["Token"].(string)
	return &client{t: c.t, base: c.base, token: tok}
}

func TestPeopleOverHTTP(t *testing.T) {
	base, stop := start(t, t.TempDir(), nil)
	defer stop()
	walkPeople(t, base)
}

// The same on both production adapters over their wire fakes.
func TestPeopleOnProductionAdaptersOverWireFakes(t *testing.T) {
	base, _, stop := startOnWireFakes(t)
	defer stop()
	walkPeople(t, base)
}

// walkPeople goes through API.md "People": a RAM user refused, granted,
// acting; the delegated administrator's people managed by its own
// Administrator, within the DA only; the refusals; the DA's people losing
// everything at its deregistration.
func walkPeople(t *testing.T, base string) {
	anon := &client{t: t, base: base}
	ma := anon.as(owner)
	ma.call("POST", "/enable-directory", map[string]any{}, 200)
	inv := ma.call("POST", "/invite-accounts", map[string]any{"Targets": []map[string]string{{"AccountId": delegate}, {"AccountId": member1}}}, 200)
	for i, r := range inv["Results"].([]any) {
		anon.call("POST", "/_local/accept-invitation", map[string]string{
			"InvitationId": r.(map[string]any)["InvitationId"].(string), "DisplayName": fmt.Sprintf("team-%d", i)}, 200)
	}
	ma.call("POST", "/register-delegated-admin", map[string]string{"AccountId": delegate}, 200)

	a := anon.person(owner, alice, "alice@owner.onaliyun.com")
	caller := a.call("GET", "/describe-setup", nil, 200)["Caller"].(map[string]any)
	if caller["UserId"] != alice || caller["AccessRole"] != "None" || fmt.Sprint(caller["AllowedActions"]) != "[describe-setup]" {
		t.Fatalf("a RAM user without access: %v", caller)
	}
	add := map[string]any{"Members": []map[string]string{{"AccountId": member1}}}
	if e := a.call("POST", "/add-members", add, 403); e["Code"] != "Forbidden.AccessRole" {
		t.Fatalf("add before the grant: %v", e)
	}
	ma.call("POST", "/grant-access", map[string]any{"AccountId": owner, "UserId": alice, "AccessRole": "Operator"}, 200)
	if n := a.call("POST", "/add-members", add, 200)["AddedCount"]; n != 1.0 {
		t.Fatalf("add after the grant: %v", n)
	}
	a.call("GET", "/list-access", nil, 403)
	grants := ma.call("GET", "/list-access", nil, 200)["Grants"].([]any)
	if g := grants[0].(map[string]any); len(grants) != 1 || g["UserName"] != "alice@owner.onaliyun.com" || g["LastSignInTime"] == "" || g["Version"] != 1.0 {
		t.Fatalf("list-access: %v", grants)
	}
	ev := ma.call("GET", "/list-audit-events?MaxResults=1", nil, 200)["Events"].([]any)[0].(map[string]any)
	if ev["Action"] != "add-members" || ev["ActorUserId"] != alice || ev["ActorAccessRole"] != "Operator" {
		t.Fatalf("the add's record: %v", ev)
	}
	walkDAPeople(t, anon, ma)
}

func walkDAPeople(t *testing.T, anon, ma *client) {
	anon.as(delegate).call("POST", "/grant-access", map[string]any{"AccountId": delegate, "UserId": bob, "AccessRole": "Administrator"}, 200)
	b := anon.person(delegate, bob, "bob@delta.onaliyun.com")
	b.call("POST", "/grant-access", map[string]any{"AccountId": delegate, "UserId": carol, "AccessRole": "Viewer", "Version": 0}, 200)
	for _, r := range []struct {
		body   map[string]any
		status int
		code   string
	}{
		{map[string]any{"AccountId": owner, "UserId": carol, "AccessRole": "Viewer"}, 403, "Forbidden.AccessRole"},
		{map[string]any{"AccountId": member1, "UserId": carol, "AccessRole": "Viewer"}, 400, "InvalidParameter.AccountId"},
		{map[string]any{"AccountId": delegate, "UserId": bob, "AccessRole": "Viewer"}, 400, "InvalidParameter.UserId"},
		{map[string]any{"AccountId": delegate, "UserId": delegate, "AccessRole": "Viewer"}, 409, "Conflict.PermanentAdministrator"},
		{map[string]any{"AccountId": delegate, "UserId": carol, "AccessRole": "Operator", "Version": 5}, 409, "Conflict.Version"},
	} {
		if e := b.call("POST", "/grant-access", r.body, r.status); e["Code"] != r.code {
			t.Fatalf("grant %v: %v, want %s", r.body, e, r.code)
		}
	}
	if gs := b.call("GET", "/list-access", nil, 200)["Grants"].([]any); len(gs) != 2 {
		t.Fatalf("the DA's Administrator sees %v; want its two people only", gs)
	}
	if gs := ma.call("GET", "/list-access", nil, 200)["Grants"].([]any); len(gs) != 3 {
		t.Fatalf("the MA's Administrator sees %v; want all three", gs)
	}
	b.call("POST", "/revoke-access", map[string]any{"AccountId": delegate, "UserId": carol}, 200)
	b.call("POST", "/revoke-access", map[string]any{"AccountId": delegate, "UserId": carol}, 404)
	b.call("GET", "/list-members", nil, 200)

	ma.call("POST", "/deregister-delegated-admin", map[string]string{"AccountId": delegate}, 200)
	if e := b.call("GET", "/list-members", nil, 403); e["Code"] != "Forbidden.Role" {
		t.Fatalf("the DA's Administrator after the deregistration: %v", e)
	}
}
