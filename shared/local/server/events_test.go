package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/sase-multiaccount/backend/shared/events"
)

// post sends a raw body to an event or timer function; it checks the status.
func post(t *testing.T, base, path string, body []byte, wantStatus int) map[string]any {
	t.Helper()
	resp, err := http.Post(base+path, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != wantStatus {
		t.Fatalf("POST %s: status %d, want %d: %s", path, resp.StatusCode, wantStatus, raw)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("POST %s: body is not JSON: %s", path, raw)
	}
	return out
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// systemEvents returns the audit trail's System records, newest first.
func systemEvents(c *client) []map[string]any {
	var out []map[string]any
	for _, e := range c.call("GET", "/list-audit-events?MaxResults=100", nil, 200)["Events"].([]any) {
		if e := e.(map[string]any); e["ActorRole"] == "System" {
			out = append(out, e)
		}
	}
	return out
}

// setupMembers walks the four steps: member1 and member2 become SASE members.
func setupMembers(t *testing.T, base string) (anon, ma *client) {
	t.Helper()
	anon = &client{t: t, base: base}
	ma = anon.as(owner)
	ma.call("POST", "/enable-directory", map[string]any{}, 200)
	inv := ma.call("POST", "/invite-accounts", map[string]any{"Targets": []map[string]string{
		{"AccountId": member1}, {"AccountId": member2}, {"AccountId": delegate}}}, 200)
	for i, name := range []string{"team-a", "team-b", "security"} {
		id := inv["Results"].([]any)[i].(map[string]any)["InvitationId"].(string)
		anon.call("POST", "/_local/accept-invitation", map[string]string{"InvitationId": id, "DisplayName": name}, 200)
	}
	add := ma.call("POST", "/add-members", map[string]any{"Members": []map[string]string{{"AccountId": member1}, {"AccountId": member2}}}, 200)
	if add["AddedCount"] != 2.0 {
		t.Fatalf("add: %v", add)
	}
	return anon, ma
}

// The whole loop on `make run`: a change in the (simulated) directory
// reaches directory-events as EventBridge would deliver it, and the member
// list and the audit trail follow without anyone clicking.
func TestDirectoryChangesReachMembersEndToEnd(t *testing.T) {
	base, stop := start(t, t.TempDir(), nil)
	defer stop()
	anon, ma := setupMembers(t, base)

	// POST /directory-events takes a CloudEvent exactly as EventBridge
	// delivers it. An event is a hint: a rename RD does not report changes
	// nothing.
	forged := events.NewActionTrailEvent(owner, "UpdateAccount",
		map[string]string{"AccountId": member2, "NewDisplayName": "from-event"}, time.Now())
	if out := post(t, base, "/directory-events", mustJSON(forged), 200); out["Result"] != "NoChange" || out["Reason"] != "NotConfirmedByDirectory" {
		t.Fatalf("forged event: %v", out)
	}
	if len(systemEvents(ma)) != 0 {
		t.Fatal("a forged rename was audited")
	}
	// The real rename reaches directory-events through the local bus; the
	// same event delivered again by hand changes nothing, twice.
	anon.call("POST", "/_local/rename-account", map[string]string{"AccountId": member2, "DisplayName": "from-event"}, 200)
	rename := events.NewActionTrailEvent(owner, "UpdateAccount",
		map[string]string{"AccountId": member2, "NewDisplayName": "from-event"}, time.Now())
	if out := post(t, base, "/directory-events", mustJSON(rename), 200); out["Result"] != "NoChange" || out["EventId"] != rename.ID {
		t.Fatalf("event: %v", out)
	}
	if out := post(t, base, "/directory-events", mustJSON(rename), 200); out["Result"] != "Duplicate" {
		t.Fatalf("same event again: %v", out)
	}

	// An account leaves the directory.
	anon.call("POST", "/_local/remove-account", map[string]string{"AccountId": member2}, 200)
	list := ma.call("GET", "/list-members", nil, 200)
	if list["TotalCount"] != 1.0 || list["Members"].([]any)[0].(map[string]any)["AccountId"] != member1 {
		t.Fatalf("members after the account left: %v", list)
	}
	sys := systemEvents(ma)
	if len(sys) != 2 || sys[1]["Result"] != "Renamed" {
		t.Fatalf("system audit records: %v", sys)
	}
	removal := sys[0]
	if removal["Action"] != "directory-events" || removal["Target"] != member2 || removal["Result"] != "Removed" ||
		removal["RequestId"] == "" || removal["Detail"].(map[string]any)["EventName"] != "RemoveCloudAccount" ||
		removal["Detail"].(map[string]any)["AccountName"] != "from-event" || removal["ActorAccountId"] != owner {
		t.Fatalf("audit record: %v", removal)
	}

	// An account is renamed.
	anon.call("POST", "/_local/rename-account", map[string]string{"AccountId": member1, "DisplayName": "renamed"}, 200)
	m := ma.call("GET", "/list-members", nil, 200)["Members"].([]any)[0].(map[string]any)
	if m["AccountName"] != "renamed" {
		t.Fatalf("member after rename: %v", m)
	}
	if e := systemEvents(ma)[0]; e["Result"] != "Renamed" || e["Detail"].(map[string]any)["NewName"] != "renamed" {
		t.Fatalf("audit record: %v", e)
	}

	// The delegated administrator changes: recorded as seen by the directory.
	ma.call("POST", "/register-delegated-admin", map[string]string{"AccountId": delegate}, 200)
	if e := systemEvents(ma)[0]; e["Result"] != "Registered" || e["Target"] != delegate {
		t.Fatalf("audit record: %v", e)
	}

	// reconcile-members finds nothing left to do.
	timer := []byte(`{"triggerTime":"2026-11-24T09:00:00Z","triggerName":"reconcile-hourly","payload":""}`)
	if n := post(t, base, "/reconcile-members", timer, 200); n["Checked"] != 1.0 || n["Removed"] != 0.0 || n["Renamed"] != 0.0 {
		t.Fatalf("reconcile: %v", n)
	}

	// EventBridge redelivers the removal (same source and id).
	again := events.NewActionTrailEvent(owner, "RemoveCloudAccount", map[string]string{"AccountId": member2}, time.Now())
	again.ID = removal["RequestId"].(string)
	if out := post(t, base, "/directory-events", mustJSON(again), 200); out["Result"] != "Duplicate" {
		t.Fatalf("redelivery: %v", out)
	}
	foreign := events.NewActionTrailEvent("2000000000000009", "RemoveCloudAccount", map[string]string{"AccountId": member1}, time.Now())
	if out := post(t, base, "/directory-events", mustJSON(foreign), 200); out["Result"] != "Ignored" || out["Reason"] != "OtherDirectory" {
		t.Fatalf("foreign event: %v", out)
	}
	if out := post(t, base, "/directory-events", []byte(`garbage`), 200); out["Result"] != "Ignored" || out["Reason"] != "Malformed" {
		t.Fatalf("garbage: %v", out)
	}
	if out := (&client{t: t, base: base}).call("GET", "/directory-events", nil, 405); out["Code"] != "MethodNotAllowed" {
		t.Fatalf("GET: %v", out)
	}
	list = ma.call("GET", "/list-members", nil, 200)
	if list["TotalCount"] != 1.0 || list["Members"].([]any)[0].(map[string]any)["AccountName"] != "renamed" || len(systemEvents(ma)) != 4 {
		t.Fatalf("at the end: %v", list)
	}
}

// The same loop on both production adapters: Tablestore through its SDK
// against the wire-level fake, and the directory behind the RD wire protocol
// through alibaba-cloud-sdk-go. The simulation publishes from inside a wire
// request the SDK client is waiting on; delivery must not wait on that
// client.
func TestDirectoryChangesEndToEndOnProductionAdapters(t *testing.T) {
	base, _, stop := startOnWireFakes(t)
	defer stop()
	anon, ma := setupMembers(t, base)
	ma.call("POST", "/register-delegated-admin", map[string]string{"AccountId": delegate}, 200)
	ma.call("POST", "/deregister-delegated-admin", map[string]string{"AccountId": delegate}, 200)
	anon.call("POST", "/_local/remove-account", map[string]string{"AccountId": member1}, 200)
	anon.call("POST", "/_local/rename-account", map[string]string{"AccountId": member2, "DisplayName": "renamed"}, 200)
	list := ma.call("GET", "/list-members", nil, 200)
	m := list["Members"].([]any)[0].(map[string]any)
	if list["TotalCount"] != 1.0 || m["AccountId"] != member2 || m["AccountName"] != "renamed" {
		t.Fatalf("members: %v", list)
	}
	var results []string
	for _, e := range systemEvents(ma) {
		results = append(results, e["Result"].(string))
	}
	if fmt.Sprint(results) != "[Renamed Removed Deregistered Registered]" {
		t.Fatalf("system audit results newest first: %v", results)
	}
	timer := []byte(`{"triggerTime":"2026-11-24T09:00:00Z","triggerName":"reconcile-hourly","payload":""}`)
	if n := post(t, base, "/reconcile-members", timer, 200); n["Checked"] != 1.0 || n["Removed"] != 0.0 || n["Renamed"] != 0.0 {
		t.Fatalf("reconcile: %v", n)
	}
}
