package rdmeta_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/sase-multiaccount/backend/shared/local/rdwire"
	"github.com/sase-multiaccount/backend/shared/local/rdwire/rdmeta"
)

// TestExtractCoversTheFake: every action the RD wire fake speaks (and so
// every action the adapter calls) is in the extract, with its errors.
func TestExtractCoversTheFake(t *testing.T) {
	meta, err := rdmeta.Load()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := meta.ActionNames(), rdwire.Actions(); !slices.Equal(got, want) {
		t.Fatalf("extract actions %v, the fake speaks %v", got, want)
	}
	if n := len(meta.Actions["CreateResourceAccount"].Errors); n < 27 {
		t.Fatalf("CreateResourceAccount has %d documented errors; the 2020-03-31 metadata lists 27", n)
	}
}

// TestChecksCatch: the checks the watch applies find what they are for.
func TestChecksCatch(t *testing.T) {
	meta, err := rdmeta.Load()
	if err != nil {
		t.Fatal(err)
	}
	common := map[string]string{"Action": "CreateFolder", "Version": "2020-03-31", "Signature": "x", "SignatureType": ""}
	with := func(kv ...string) map[string]string {
		p := map[string]string{}
		for k, v := range common {
			p[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			p[kv[i]] = kv[i+1]
		}
		return p
	}
	accepted := []struct {
		action string
		params map[string]string
		want   string // "" = no violation
	}{
		{"CreateFolder", with("FolderName", "Prod"), ""},
		{"CreateFolder", with("FolderName", "研发_1.a-b", "ParentFolderId", "fd-1"), ""},
		{"CreateFolder", with(), "required parameter FolderName is missing"},
		{"CreateFolder", with("FolderName", strings.Repeat("n", 25)), "25 characters"},
		{"CreateFolder", with("FolderName", "a/b"), "character rule"},
		{"CreateFolder", with("FolderName", "a", "Tag.1.Key", "k"), "parameter Tag.1.Key is not documented"},
		{"CreateResourceAccount", with("DisplayName", "Web", "Tag.1.Key", "k", "Tag.1.Value", "v"), ""},
		{"CreateResourceAccount", with("DisplayName", "Web", "AccountNamePrefix", "a--b"), "character rule"},
		{"CreateResourceAccount", with("DisplayName", "Web", "Tag.1.Colour", "k"), "has no such field"},
		{"ListAccounts", with("PageSize", "101"), "outside the documented range"},
		{"ListAccounts", with("IncludeTags", "yes"), "not true or false"},
		{"EnableResourceDirectory", with("EnableMode", "Other"), "not one of"},
		{"GetAccount", with("AccountId", "1", "AccountId.1", "2"), "is not a list"},
	}
	for _, c := range accepted {
		got := strings.Join(meta.CheckAccepted(c.action, c.params), "; ")
		if c.want == "" && got != "" || c.want != "" && !strings.Contains(got, c.want) {
			t.Errorf("CheckAccepted(%s, %v) = %q, want %q", c.action, c.params, got, c.want)
		}
	}
	answers := []struct {
		action string
		status int
		body   string
		want   string
	}{
		{"CreateFolder", 200, `{"RequestId":"r","Folder":{"FolderId":"fd-1","FolderName":"A","ParentFolderId":"r-1","CreateTime":"t"}}`, ""},
		{"CreateFolder", 200, `{"RequestId":"r","Folder":{"FolderId":"fd-1","ResourceDirectoryPath":"p"}}`, "ResourceDirectoryPath: field not documented"},
		{"ListAccounts", 200, `{"RequestId":"r","TotalCount":"2"}`, "string where integer is documented"},
		{"ListAccounts", 200, `{"Accounts":{"Account":[{"AccountId":"1","Tags":{"Tag":[{"Key":"k","Value":1}]}}]}}`, "Tag[0].Value: float64 where string"},
		{"CreateFolder", 400, `{"Code":"InvalidParameter.Folder.Name.AlreadyUsed"}`, ""},
		{"CreateFolder", 409, `{"Code":"InvalidParameter.Folder.Name.AlreadyUsed"}`, "not documented"},
		{"CreateFolder", 409, `{"Code":"EntityAlreadyExists.Folder"}`, "not documented"},
		{"CreateFolder", 429, `{"Code":"ConcurrentCallNotSupported"}`, ""},
		{"CreateFolder", 400, `{"Code":"MissingSignatureNonce"}`, ""},
		{"CreateFolder", 400, `{"Code":"MissingFolderName"}`, "not documented"},
		{"CreateFolder", 403, `{"Code":"NoPermission"}`, ""},
	}
	for _, c := range answers {
		got := strings.Join(meta.CheckAnswer(c.action, c.status, []byte(c.body)), "; ")
		if c.want == "" && got != "" || c.want != "" && !strings.Contains(got, c.want) {
			t.Errorf("CheckAnswer(%s, %d, %s) = %q, want %q", c.action, c.status, c.body, got, c.want)
		}
	}
}
