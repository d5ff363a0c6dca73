package server_test

import "testing"

// A new directory has its mirror from the first second: candidates and
// members show folder paths (the root as "/") without waiting for a
// reconciliation or a handshake check, and an account whose folder's event
// was never delivered still gets its path (the event fills the mirror's
// folders from RD).
func TestNewDirectoryShowsFolderPathsAtOnce(t *testing.T) {
	base, stop := start(t, t.TempDir(), map[string]string{"HANDSHAKE_CHECK_INTERVAL": "0"})
	defer stop()
	anon := &client{t: t, base: base}
	ma := anon.as(owner)
	ma.call("POST", "/enable-directory", map[string]any{}, 200)

	prod := anon.call("POST", "/_local/create-folder", map[string]any{"FolderName": "Prod"}, 200)["Folder"].(map[string]any)["FolderId"].(string)
	hidden := anon.call("POST", "/_local/create-folder", map[string]any{"FolderName": "Quiet", "DeliverEvent": false}, 200)["Folder"].(map[string]any)["FolderId"].(string)
	id := func(r map[string]any) string { return r["Account"].(map[string]any)["AccountId"].(string) }
	inRoot := id(anon.call("POST", "/_local/create-account", map[string]any{"DisplayName": "root-app"}, 200))
	inProd := id(anon.call("POST", "/_local/create-account", map[string]any{"DisplayName": "prod-app", "FolderId": prod}, 200))
	inQuiet := id(anon.call("POST", "/_local/create-account", map[string]any{"DisplayName": "quiet-app", "FolderId": hidden}, 200))

	paths := map[string]any{}
	for _, a := range ma.call("GET", "/list-candidates", nil, 200)["Accounts"].([]any) {
		paths[a.(map[string]any)["AccountId"].(string)] = a.(map[string]any)["FolderPath"]
	}
	want := map[string]any{inRoot: "/", inProd: "/Prod", inQuiet: "/Quiet"}
	for acc, p := range want {
		if paths[acc] != p {
			t.Errorf("candidate %s: FolderPath %v, want %v (all: %v)", acc, paths[acc], p, paths)
		}
	}

	// Auto-enrollment: the enrolled member shows its folder at once.
	ma.call("POST", "/update-enrollment-policy", map[string]any{"Mode": "AllAccounts", "Version": 0}, 200)
	joiner := id(anon.call("POST", "/_local/create-account", map[string]any{"DisplayName": "joiner", "FolderId": prod}, 200))
	m := memberSet(ma)[joiner]
	if m == nil || m["FolderPath"] != "/Prod" || m["AddedBy"] != "System" {
		t.Fatalf("auto-enrolled member: %v, want FolderPath /Prod", m)
	}
	// update-member-remark answers the member as list-members shows it.
	got := ma.call("POST", "/update-member-remark", map[string]any{"AccountId": joiner, "Remark": "web"}, 200)["Member"].(map[string]any)
	if got["FolderPath"] != "/Prod" || got["Remark"] != "web" {
		t.Errorf("update-member-remark answered %v, want FolderPath /Prod as list-members shows", got)
	}
}
