package rdwire_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/sase-multiaccount/backend/shared/local/simulation"
)

// keys returns the sorted keys of a JSON object.
func keys(t *testing.T, v any) []string {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%v is not an object", v)
	}
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestFolderShapes: the folder actions answer with RD's field names and
// nesting (ListFoldersForParent's Folders.Folder without a parent,
// GetFolder's path, CreateResourceAccount's Account), and accounts report
// the folder they are in.
func TestFolderShapes(t *testing.T) {
	srv, sim := enabledServer(t, simulation.Options{})
	d, _ := sim.GetDirectory(t.Context())

	created := call(t, srv, "CreateFolder", map[string]string{"FolderName": "Prod"})
	if created.Status != 200 {
		t.Fatalf("CreateFolder: %s", created.Raw)
	}
	f := created.Body["Folder"].(map[string]any)
	if got := keys(t, f); !slices.Equal(got, []string{"CreateTime", "FolderId", "FolderName", "ParentFolderId"}) {
		t.Fatalf("CreateFolder Folder keys %v", got)
	}
	if f["ParentFolderId"] != d.RootFolderID {
		t.Fatalf("CreateFolder without a parent: parent %v, want the root %s", f["ParentFolderId"], d.RootFolderID)
	}
	id := f["FolderId"].(string)

	list := call(t, srv, "ListFoldersForParent", map[string]string{"ParentFolderId": d.RootFolderID, "PageSize": "100"})
	items := list.Body["Folders"].(map[string]any)["Folder"].([]any)
	if len(items) != 1 || list.Body["TotalCount"] != json.Number("1") && list.Body["TotalCount"] != float64(1) {
		t.Fatalf("ListFoldersForParent: %s", list.Raw)
	}
	if got := keys(t, items[0]); !slices.Equal(got, []string{"CreateTime", "FolderId", "FolderName"}) {
		t.Fatalf("ListFoldersForParent Folder keys %v", got)
	}

	get := call(t, srv, "GetFolder", map[string]string{"FolderId": id})
	gf := get.Body["Folder"].(map[string]any)
	if gf["ResourceDirectoryPath"] != d.ID+"/"+d.RootFolderID+"/"+id || gf["FolderName"] != "Prod" {
		t.Fatalf("GetFolder: %s", get.Raw)
	}
	root := call(t, srv, "GetFolder", map[string]string{"FolderId": d.RootFolderID})
	if rf := root.Body["Folder"].(map[string]any); rf["FolderName"] != "Root" || rf["ParentFolderId"] != "" {
		t.Fatalf("GetFolder root: %s", root.Raw)
	}
	wantCode(t, "GetFolder unknown", call(t, srv, "GetFolder", map[string]string{"FolderId": "fd-nope"}), 404, "EntityNotExists.Folder")
	createFolder := func(name string) answer {
		return call(t, srv, "CreateFolder", map[string]string{"FolderName": name})
	}
	wantCode(t, "CreateFolder twice", createFolder("Prod"), 400, "InvalidParameter.Folder.Name.AlreadyUsed")
	wantCode(t, "CreateFolder without a name", call(t, srv, "CreateFolder", nil), 400, "MissingParameter.Folder.Name")
	wantCode(t, "CreateFolder 25 characters", createFolder(strings.Repeat("n", 25)), 400, "InvalidParameter.Folder.Name.Length")
	wantCode(t, "CreateFolder with a slash", createFolder("a/b"), 400, "InvalidParameter.Folder.Name")
	wantOK(t, "CreateFolder in Chinese", createFolder("研发_1.a-b"))

	create := func(p map[string]string) answer { return call(t, srv, "CreateResourceAccount", p) }
	wantCode(t, "no display name", create(nil), 400, "MissingParameter.Account.DisplayName")
	wantCode(t, "display name of 1", create(map[string]string{"DisplayName": "W"}), 400, "InvalidParameter.Account.DisplayName.Length")
	wantCode(t, "display name with a slash", create(map[string]string{"DisplayName": "W/b"}), 400, "InvalidParameter.Account.DisplayName")
	wantCode(t, "prefix of 38", create(map[string]string{"DisplayName": "Web", "AccountNamePrefix": strings.Repeat("a", 38)}), 400, "InvalidParameter.Account.AccountNamePrefix.Length")
	wantCode(t, "prefix a..b", create(map[string]string{"DisplayName": "Web", "AccountNamePrefix": "a..b"}), 400, "InvalidParameter.Account.AccountNamePrefix")
	acc := create(map[string]string{"DisplayName": "Web", "AccountNamePrefix": "web", "ParentFolderId": id, "Tag.1.Key": "env", "Tag.1.Value": "prod"})
	a := acc.Body["Account"].(map[string]any)
	uid := a["AccountId"].(string)
	if a["Type"] != "ResourceAccount" || a["JoinMethod"] != "created" || a["FolderId"] != id ||
		a["AccountName"] != "web@"+d.ID+".aliyunid.com" || a["ResourceDirectoryPath"] != nil {
		t.Fatalf("CreateResourceAccount: %s (want web@<directory>.aliyunid.com, no path)", acc.Raw)
	}
	if g := call(t, srv, "GetAccount", map[string]string{"AccountId": uid, "IncludeTags": "true"}); !strings.Contains(g.Raw, `"Tags":[{"Key":"env","Value":"prod"}]`) ||
		!strings.Contains(g.Raw, `"AccountName":"web@`+d.ID+`.aliyunid.com"`) {
		t.Fatalf("GetAccount of the created account: %s (want its tags and login name)", g.Raw)
	}
	wantCode(t, "display name in use", create(map[string]string{"DisplayName": "Web"}), 409, "InvalidParameter.Account.DisplayName.AlreadyUsed")
	wantCode(t, "prefix in use", create(map[string]string{"DisplayName": "Web 2", "AccountNamePrefix": "WEB"}), 409, "EntityAlreadyExists.ResourceDirectory.Account")
	chosen := create(map[string]string{"DisplayName": "No prefix"})
	if name, _ := chosen.Body["Account"].(map[string]any)["AccountName"].(string); !strings.HasSuffix(name, "@"+d.ID+".aliyunid.com") || len(name) < len("ab@") {
		t.Fatalf("without a prefix RD chooses one: %s", chosen.Raw)
	}

	if mv := call(t, srv, "MoveAccount", map[string]string{"AccountId": uid, "DestinationFolderId": d.RootFolderID}); mv.Status != 200 || len(mv.Body) != 1 {
		t.Fatalf("MoveAccount: %s (want only RequestId)", mv.Raw)
	}
	wantCode(t, "MoveAccount to unknown", call(t, srv, "MoveAccount", map[string]string{"AccountId": uid, "DestinationFolderId": "fd-nope"}), 404, "EntityNotExists.Folder")
	got := call(t, srv, "GetAccount", map[string]string{"AccountId": uid})
	if got.Body["Account"].(map[string]any)["FolderId"] != d.RootFolderID {
		t.Fatalf("GetAccount after move: %s", got.Raw)
	}
}
