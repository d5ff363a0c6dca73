package server_test

import (
	"strings"
	"testing"
	"time"
)

const (
	joiner   = "3000000000000001" // invited after the policy: enrolled by the handshake check
	excluded = "3000000000000002" // invited, moved into scope, excluded by the policy
)

// The enrollment policy end to end over HTTP on the embedded store and the
// simulation.
func TestEnrollmentPolicyEndToEnd(t *testing.T) {
	base, stop := start(t, t.TempDir(), nil)
	defer stop()
	enrollmentWalk(t, base)
}

// The same walk on Tablestore (SDK against the wire fake) and Resource
// Directory (SDK against the RD wire server).
func TestEnrollmentPolicyOnProductionAdaptersOverWireFakes(t *testing.T) {
	base, _, stop := startOnWireFakes(t)
	defer stop()
	enrollmentWalk(t, base)
}

func memberSet(ma *client) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, m := range ma.call("GET", "/list-members?MaxResults=100", nil, 200)["Members"].([]any) {
		mm := m.(map[string]any)
		out[mm["AccountId"].(string)] = mm
	}
	return out
}

// enrollmentWalk: folders → policy with preview → an account created in
// scope is a member within its event → an invited account that accepts is
// a member after one handshake check → moved out, it stays a member → an
// excluded account is never enrolled → an event that is lost: the next
// reconciliation enrolls the account.
func enrollmentWalk(t *testing.T, base string) {
	anon, ma := setupMembers(t, base)                      // member1, member2 members; delegate ("security") is not
	post(t, base, "/reconcile-members", []byte(`{}`), 200) // the mirror's first full sync

	prod := anon.call("POST", "/_local/create-folder", map[string]any{"FolderName": "Production"}, 200)["Folder"].(map[string]any)["FolderId"].(string)
	web := anon.call("POST", "/_local/create-folder", map[string]any{"FolderName": "Web", "ParentFolderId": prod}, 200)["Folder"].(map[string]any)["FolderId"].(string)
	anon.call("POST", "/_local/move-account", map[string]any{"AccountId": delegate, "FolderId": prod}, 200)

	// Before any update: Off, version 0.
	got := ma.call("GET", "/get-enrollment-policy", nil, 200)["Policy"].(map[string]any)
	if got["Mode"] != "Off" || got["Version"] != 0.0 || len(got["FolderIds"].([]any)) != 0 {
		t.Fatalf("initial policy: %v", got)
	}
	policy := map[string]any{"Mode": "Folders", "FolderIds": []string{prod}, "IncludeSubfolders": true,
		"ExcludedAccounts": []map[string]string{{"AccountId": excluded, "Reason": "sandbox, never SASE"}}}
	// Bad input names the field.
	for _, bad := range []struct {
		body   map[string]any
		status int
		code   string
	}{
		{map[string]any{"Mode": "Folders", "FolderIds": []string{"fd-nosuchfolder"}}, 404, "EntityNotExists.Folder"},
		{map[string]any{"Mode": "AllAccounts", "FolderIds": []string{prod}}, 400, "InvalidParameter.FolderIds"},
		{map[string]any{"Mode": "Folders"}, 400, "MissingParameter.FolderIds"},
		{map[string]any{"Mode": "Sometimes"}, 400, "InvalidParameter.Mode"},
		{map[string]any{"Mode": "Off", "ExcludedAccounts": []map[string]string{{"AccountId": "12345"}}}, 400, "InvalidParameter.ExcludedAccounts"},
		{map[string]any{"Mode": "Off", "ExcludedAccounts": []map[string]string{{"AccountId": excluded, "Reason": "bad\u202Ereason"}}}, 400, "InvalidParameter.ExcludedAccounts[0].Reason"},
		{map[string]any{"Mode": "Off", "Version": 7}, 409, "Conflict.Version"},
	} {
		if e := ma.call("POST", "/update-enrollment-policy", bad.body, bad.status); e["Code"] != bad.code {
			t.Fatalf("%v: %v, want %s", bad.body, e, bad.code)
		}
	}
	tooMany := make([]string, 21)
	for i := range tooMany {
		tooMany[i] = prod + strings.Repeat("x", i)
	}
	if e := ma.call("POST", "/update-enrollment-policy", map[string]any{"Mode": "Folders", "FolderIds": tooMany}, 400); e["Code"] != "InvalidParameter.FolderIds" {
		t.Fatalf("21 folders: %v", e)
	}

	// A dry run previews: "security" sits in /Production and is no member.
	dry := ma.call("POST", "/update-enrollment-policy", withKeys(policy, "DryRun", true), 200)
	pv := dry["Preview"].(map[string]any)
	if dry["DryRun"] != true || pv["WouldAddCount"] != 1.0 || pv["WouldAdd"].([]any)[0].(map[string]any)["FolderPath"] != "/Production" {
		t.Fatalf("dry run: %v", dry)
	}
	if v := ma.call("GET", "/get-enrollment-policy", nil, 200)["Policy"].(map[string]any)["Version"]; v != 0.0 {
		t.Fatalf("a dry run changed the policy to version %v", v)
	}
	// Set it without ApplyToExisting: nobody is added now.
	set := ma.call("POST", "/update-enrollment-policy", withKeys(policy, "Version", 0), 200)
	if set["AddedCount"] != 0.0 || set["Policy"].(map[string]any)["Version"] != 1.0 {
		t.Fatalf("update: %v", set)
	}
	if _, ok := memberSet(ma)[delegate]; ok {
		t.Fatal("the policy enrolled an account that was in scope before it (no ApplyToExisting)")
	}

	// Created in scope: a member within its event, added by System.
	a := anon.call("POST", "/_local/create-account", map[string]any{"DisplayName": "web-1", "FolderId": web}, 200)["Account"].(map[string]any)["AccountId"].(string)
	if m := memberSet(ma)[a]; m == nil || m["AddedBy"] != "System" || m["AccountName"] != "web-1" {
		t.Fatalf("created account in scope: member %v", m)
	}
	trail := ma.call("GET", "/list-audit-events?Target="+a, nil, 200)["Events"].([]any)
	if len(trail) != 1 || trail[0].(map[string]any)["Result"] != "Enrolled" || trail[0].(map[string]any)["ActorRole"] != "System" ||
		trail[0].(map[string]any)["Detail"].(map[string]any)["PolicyVersion"] != "1" {
		t.Fatalf("timeline of the enrolled account: %v", trail)
	}
	// Moved out of scope: still a member.
	folders := ma.call("GET", "/list-folders", nil, 200)["Folders"].([]any)
	rootID := folders[0].(map[string]any)["FolderId"].(string)
	anon.call("POST", "/_local/move-account", map[string]any{"AccountId": a, "FolderId": rootID}, 200)
	if _, ok := memberSet(ma)[a]; !ok {
		t.Fatal("moving out of scope removed the member")
	}

	// Excluded: invited, accepts, moved into scope: never enrolled.
	invite := func(id string) string {
		r := ma.call("POST", "/invite-accounts", map[string]any{"Targets": []map[string]string{{"AccountId": id}}}, 200)
		return r["Results"].([]any)[0].(map[string]any)["InvitationId"].(string)
	}
	anon.call("POST", "/_local/accept-invitation", map[string]string{"InvitationId": invite(excluded), "DisplayName": "sandbox"}, 200)
	anon.call("POST", "/_local/move-account", map[string]any{"AccountId": excluded, "FolderId": prod}, 200)
	if _, ok := memberSet(ma)[excluded]; ok {
		t.Fatal("an excluded account was enrolled")
	}

	// Every account, from now on (a stale version first).
	all := map[string]any{"Mode": "AllAccounts", "ExcludedAccounts": policy["ExcludedAccounts"]}
	if e := ma.call("POST", "/update-enrollment-policy", withKeys(all, "Version", 0), 409); e["Code"] != "Conflict.Version" {
		t.Fatalf("stale version: %v", e)
	}
	ma.call("POST", "/update-enrollment-policy", withKeys(all, "Version", 1), 200)
	time.Sleep(5 * time.Millisecond) // the acceptance lies after the policy's update time

	// Invited, accepts: no event reaches the MA's bus; one handshake check.
	anon.call("POST", "/_local/accept-invitation", map[string]any{"InvitationId": invite(joiner), "DisplayName": "joiner", "DeliverEvent": false}, 200)
	if _, ok := memberSet(ma)[joiner]; ok {
		t.Fatal("an acceptance reached the management account's bus")
	}
	hs := post(t, base, "/check-handshakes", []byte(`{}`), 200)
	if hs["Enrolled"] != 1.0 {
		t.Fatalf("handshake check: %v", hs)
	}
	if m := memberSet(ma)[joiner]; m == nil || m["AddedBy"] != "System" {
		t.Fatalf("after the handshake check: %v", m)
	}

	// An event lost: the account is created, its event never delivered.
	lost := anon.call("POST", "/_local/create-account", map[string]any{"DisplayName": "lost", "FolderId": web, "DeliverEvent": false}, 200)["Account"].(map[string]any)["AccountId"].(string)
	if _, ok := memberSet(ma)[lost]; ok {
		t.Fatal("enrolled without its event")
	}
	rec := post(t, base, "/reconcile-members", []byte(`{}`), 200)
	if rec["Enrolled"] != 1.0 {
		t.Fatalf("reconciliation: %v", rec)
	}
	ms := memberSet(ma)
	if _, ok := ms[lost]; !ok {
		t.Fatal("reconciliation did not enroll the account whose event was lost")
	}
	if _, ok := ms[excluded]; ok {
		t.Fatal("reconciliation enrolled the excluded account")
	}
	if _, ok := ms[delegate]; ok {
		t.Fatal("reconciliation enrolled an account that was in the directory before the policy")
	}
	if _, ok := ms[owner]; ok {
		t.Fatal("the management account was enrolled")
	}

	// Folders again. A move into scope whose event is lost: the next
	// reconciliation enrolls the account, as the event would have (it was
	// in the directory before the policy, so only the move brings it in).
	ma.call("POST", "/update-enrollment-policy", withKeys(policy, "Version", 2), 200)
	anon.call("POST", "/_local/move-account", map[string]any{"AccountId": delegate, "FolderId": rootID}, 200)
	anon.call("POST", "/_local/move-account", map[string]any{"AccountId": delegate, "FolderId": web, "DeliverEvent": false}, 200)
	if _, ok := memberSet(ma)[delegate]; ok {
		t.Fatal("enrolled without its event")
	}
	if rec := post(t, base, "/reconcile-members", []byte(`{}`), 200); rec["Enrolled"] != 1.0 {
		t.Fatalf("reconciliation after a lost move: %v", rec)
	}
	if m := memberSet(ma)[delegate]; m == nil || m["AddedBy"] != "System" || m["FolderPath"] != "/Production/Web" {
		t.Fatalf("after a lost move and a reconciliation: %v", m)
	}
}

func withKeys(m map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}
