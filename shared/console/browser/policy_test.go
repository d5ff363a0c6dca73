package browser

import (
	"fmt"
	"testing"
)

// TestEnrollmentPolicyPage: the delegated administrator opens
// Auto-enrollment, picks a folder, previews (the account already in it),
// adds an excluded account with a reason, saves; an account created in the
// folder afterwards becomes a member on its own; a save over someone
// else's change shows Conflict.Version and offers to reload.
func TestEnrollmentPolicyPage(t *testing.T) {
	s := startServer(t)
	ctx := tab(t)
	seedDirectory(t, s, 1, delegate)
	prod := s.api("", "POST", "/_local/create-folder", map[string]any{"FolderName": "Production"})["Folder"].(map[string]any)["FolderId"].(string)
	before := s.api("", "POST", "/_local/create-account", map[string]any{"DisplayName": "old-prod", "FolderId": prod})["Account"].(map[string]any)["AccountId"].(string)
	folderBox := fmt.Sprintf(`input.policy-folder[value=%q]`, prod)

	do(t, ctx, signIn(s, delegate), view("members"), click("#tab-policy"), view("policy"),
		hasText("#policy-mode", "Off"), hasText("#policy-version", "0"),
		until("folders hidden while Off", `document.querySelector('#policy-folders').hidden`),
		click("#policy-mode-Folders"), visible(folderBox), click(folderBox),
		click("#policy-preview"), hasText("#policy-would-add", "covers 1 account(s)"),
		hasText(fmt.Sprintf(`#policy-preview-result tr[data-account=%q]`, before), "/Production"),
		click("#policy-add-exclusion"), typeIn("#policy-exclusions li:last-child .excl-id", "1999999999999999"),
		typeIn("#policy-exclusions li:last-child .excl-reason", "sandbox"),
		click("#policy-save"), hasText("#policy-version", "1"), hasText("#policy-mode", "Selected folders"),
		hasText("#policy-would-add", "Saved as version 1"))

	// Saved as the page showed it.
	p := s.api(owner, "GET", "/get-enrollment-policy", nil)["Policy"].(map[string]any)
	if p["Mode"] != "Folders" || len(p["FolderIds"].([]any)) != 1 || p["ExcludedAccounts"].([]any)[0].(map[string]any)["Reason"] != "sandbox" {
		t.Fatalf("stored policy: %v", p)
	}
	// A new account in the folder joins SASE on its own; the old one did not.
	created := s.api("", "POST", "/_local/create-account", map[string]any{"DisplayName": "new-prod", "FolderId": prod})["Account"].(map[string]any)["AccountId"].(string)
	members := map[string]string{}
	for _, m := range s.api(owner, "GET", "/list-members", nil)["Members"].([]any) {
		members[m.(map[string]any)["AccountId"].(string)] = m.(map[string]any)["AddedBy"].(string)
	}
	if members[created] != "System" || members[before] != "" {
		t.Fatalf("members after the policy: %v", members)
	}

	// Someone else saves meanwhile: the page says so and reloads.
	s.api(owner, "POST", "/update-enrollment-policy", map[string]any{"Mode": "AllAccounts", "Version": 1})
	do(t, ctx, click("#policy-mode-Off"), click("#policy-save"),
		hasText("#policy-result .error .code", "Conflict.Version"), visible("#policy-reload"),
		click("#policy-reload"), hasText("#policy-mode", "All accounts"), hasText("#policy-version", "2"))
}
