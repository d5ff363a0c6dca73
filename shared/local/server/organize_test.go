package server_test

import (
	"testing"
)

// "DeliverEvent": false makes the change in the directory and hands the
// event back instead of delivering it: nothing follows until the caller
// delivers it, and delivering it twice changes nothing more.
func TestHeldBackEventIsDeliveredByTheCaller(t *testing.T) {
	base, stop := start(t, t.TempDir(), nil)
	defer stop()
	anon, ma := setupMembers(t, base)

	held := anon.call("POST", "/_local/remove-account", map[string]any{"AccountId": member1, "DeliverEvent": false}, 200)
	ev, ok := held["Event"].(map[string]any)
	if !ok || ev["source"] != "acs.resourcemanager" {
		t.Fatalf("held-back removal: %v", held)
	}
	if n := ma.call("GET", "/list-members", nil, 200)["TotalCount"]; n != 2.0 {
		t.Fatalf("before the event is delivered the member count is %v, want 2", n)
	}
	first := post(t, base, "/directory-events", mustJSON(ev), 200)
	again := post(t, base, "/directory-events", mustJSON(ev), 200)
	if first["Result"] != "Removed" || again["Result"] != "Duplicate" {
		t.Fatalf("delivered: %v, then %v; want Removed, then Duplicate", first, again)
	}
	if n := ma.call("GET", "/list-members", nil, 200)["TotalCount"]; n != 1.0 {
		t.Fatalf("after the event the member count is %v, want 1", n)
	}
	// Delivered by default, as before.
	anon.call("POST", "/_local/remove-account", map[string]any{"AccountId": member2}, 200)
	if n := ma.call("GET", "/list-members", nil, 200)["TotalCount"]; n != 0.0 {
		t.Fatalf("a delivered removal left %v members", n)
	}
}

// The management account's folder work, as the RD console would do it:
// create folders, create an account in one, move another into it; each
// emits its ActionTrail event; candidates show the folder paths.
func TestFoldersThroughTheLocalHelpers(t *testing.T) {
	base, stop := start(t, t.TempDir(), nil)
	defer stop()
	anon, ma := setupMembers(t, base)

	prod := anon.call("POST", "/_local/create-folder", map[string]any{"FolderName": "Production"}, 200)["Folder"].(map[string]any)
	if prod["FolderPath"] != "/Production" || prod["FolderId"] == "" {
		t.Fatalf("create-folder: %v", prod)
	}
	web := anon.call("POST", "/_local/create-folder", map[string]any{"FolderName": "Web", "ParentFolderId": prod["FolderId"], "DeliverEvent": false}, 200)
	if web["Folder"].(map[string]any)["FolderPath"] != "/Production/Web" {
		t.Fatalf("subfolder: %v", web)
	}
	if ev, _ := web["Event"].(map[string]any); ev == nil || ev["data"].(map[string]any)["eventName"] != "CreateFolder" {
		t.Fatalf("held-back CreateFolder event: %v", web["Event"])
	}
	webID := web["Folder"].(map[string]any)["FolderId"]

	acc := anon.call("POST", "/_local/create-account", map[string]any{"DisplayName": "web-prod", "FolderId": webID}, 200)["Account"].(map[string]any)
	if acc["FolderPath"] != "/Production/Web" || len(acc["AccountId"].(string)) != 16 {
		t.Fatalf("create-account: %v", acc)
	}
	moved := anon.call("POST", "/_local/move-account", map[string]any{"AccountId": member1, "FolderId": prod["FolderId"], "DeliverEvent": false}, 200)
	if moved["Account"].(map[string]any)["FolderPath"] != "/Production" {
		t.Fatalf("move-account: %v", moved)
	}
	if ev, _ := moved["Event"].(map[string]any); ev == nil || ev["data"].(map[string]any)["eventName"] != "MoveAccount" {
		t.Fatalf("held-back MoveAccount event: %v", moved["Event"])
	}

	// Candidates under /Production (subfolders included): the new account.
	cands := ma.call("GET", "/list-candidates?FolderId="+prod["FolderId"].(string), nil, 200)
	var paths []string
	for _, c := range cands["Accounts"].([]any) {
		paths = append(paths, c.(map[string]any)["AccountId"].(string)+" "+c.(map[string]any)["FolderPath"].(string))
	}
	if len(paths) != 1 || paths[0] != acc["AccountId"].(string)+" /Production/Web" {
		t.Errorf("candidates under /Production = %v, want the created account in /Production/Web", paths)
	}

	// Members show where their account is, from the directory mirror.
	post(t, base, "/reconcile-members", []byte(`{}`), 200)
	folderOf := map[string]any{}
	for _, m := range ma.call("GET", "/list-members", nil, 200)["Members"].([]any) {
		folderOf[m.(map[string]any)["AccountId"].(string)] = m.(map[string]any)["FolderPath"]
	}
	if folderOf[member1] != "/Production" || folderOf[member2] != "/" {
		t.Errorf("member folder paths = %v, want %s in /Production and %s in the root", folderOf, member1, member2)
	}

	// Bad input is answered like a function's.
	if e := anon.call("POST", "/_local/move-account", map[string]any{"AccountId": member1, "FolderId": "fd-nope"}, 404); e["Code"] != "EntityNotExists.Folder" {
		t.Errorf("move to an unknown folder: %v", e)
	}
	anon.call("POST", "/_local/create-folder", map[string]any{}, 400)
}
