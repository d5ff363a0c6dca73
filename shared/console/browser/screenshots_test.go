package browser

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/sase-multiaccount/backend/shared/local/oidc"
)

// TestScreenshots writes the images README shows (make screenshots sets
// SCREENSHOTS_DIR=docs/images): the setup page, the member table with its
// Folder column, the Added Member dialog, the Auto-enrollment page, the
// Access tab, the audit trail naming people and the Integrations tab, at
// 1280 px wide. Without SCREENSHOTS_DIR it still drives the same screens,
// so the target cannot rot unnoticed.
func TestScreenshots(t *testing.T) {
	s := startServer(t)
	ctx := tab(t)
	dir := os.Getenv("SCREENSHOTS_DIR")
	shot := func(name string, sel string) {
		t.Helper()
		png := get(t, ctx, chromedp.Screenshot(chromedp.CSS(sel)))
		if dir == "" {
			return
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ids := seedDirectory(t, s, 6, delegate)
	folder := func(name string) string {
		return s.api("", "POST", "/_local/create-folder", map[string]any{"FolderName": name})["Folder"].(map[string]any)["FolderId"].(string)
	}
	prod, staging := folder("Production"), folder("Staging")
	for id, f := range map[string]string{ids[0]: prod, ids[1]: staging, ids[2]: prod, ids[3]: prod, ids[4]: staging} {
		s.api("", "POST", "/_local/move-account", map[string]any{"AccountId": id, "FolderId": f})
	}
	s.api(owner, "POST", "/add-members", map[string]any{"Members": []map[string]string{
		{"AccountId": ids[0], "Remark": "production"}, {"AccountId": ids[1], "Remark": "staging"},
		{"AccountId": ids[2]}}})
	// The mirror's first full sync (the hourly timer), so the table knows each member's folder.
	s.api("", "POST", "/reconcile-members", map[string]any{"triggerName": "reconcile-hourly", "payload": "reconcile-members"})

	do(t, ctx, chromedp.EmulateViewport(1280, 900), signIn(s, owner), click("#tab-setup"), view("setup"), count("#pending", 1))
	shot("setup.png", "body")
	do(t, ctx, click("#tab-members"), view("members"), count("table.members tbody tr", 3),
		hasText("table.members tbody", "/Production"))
	shot("member-table.png", "body")
	do(t, ctx, click("#added-member"), count("#candidates input[type=checkbox]", 4),
		click(fmt.Sprintf(`#candidates input[value=%q]`, ids[3])), click("#move-selected"), count("#selected input", 1))
	shot("added-member-dialog.png", "body")
	// Auto-enrollment: new accounts of /Production join on their own; the
	// preview lists the one there that is not a member yet.
	do(t, ctx, click("#transfer-cancel"), count("dialog[open]", 0), click("#tab-policy"), view("policy"),
		click("#policy-mode-Folders"), click(fmt.Sprintf(`input.policy-folder[value=%q]`, prod)),
		click("#policy-add-exclusion"), typeIn("#policy-exclusions li:last-child .excl-id", ids[5]),
		typeIn("#policy-exclusions li:last-child .excl-reason", "sandbox account"),
		click("#policy-preview"), hasText("#policy-would-add", "covers 1 account(s)"),
		hasText(fmt.Sprintf(`#policy-preview-result tr[data-account=%q]`, ids[3]), "/Production"))
	shot("auto-enrollment.png", "body")

	// Access: an Operator and a Viewer of the management account; the
	// Operator has made a change since (so the list knows their name and
	// last sign-in), and the audit trail names them.
	const alice, bob = "alice@example.onaliyun.com", "bob@example.onaliyun.com"
	aliceP := person{Account: owner, UserID: oidc.RAMUserID(owner, alice), UserName: alice}
	s.api(owner, "POST", "/grant-access", map[string]any{"AccountId": owner, "UserId": aliceP.UserID, "AccessRole": "Operator"})
	s.api(owner, "POST", "/grant-access", map[string]any{"AccountId": owner, "UserId": oidc.RAMUserID(owner, bob), "AccessRole": "Viewer"})
	s.apiAs(aliceP, "POST", "/update-member-remark", map[string]any{"AccountId": ids[2], "Remark": "web tier"})
	do(t, ctx, click("#tab-access"), view("access"), count("#access-table tbody tr", 2),
		hasText(fmt.Sprintf(`#access-table tr[data-user=%q] td.last-sign-in`, aliceP.UserID), "UTC"))
	shot("access.png", "body")
	// One member's timeline, so the image stays short.
	do(t, ctx, click("#tab-audit"), view("audit"), typeIn("#audit-target", ids[2]), click("#audit-show"), hasText("#audit-scope", ids[2]),
		hasText("table.audit tbody tr:first-child td.actor", alice+" (Operator) of "+owner))
	shot("audit-trail.png", "body")

	// Integrations: a webhook to a local receiver after a test event and
	// one delivered change.
	rx := newHookReceiver(t)
	s.api(owner, "POST", "/put-webhook", map[string]any{"Url": rx.url + "/cmdb", "Description": "CMDB sync",
		"Types": []string{"MemberAdded", "MemberRemoved", "MemberRemarkUpdated"}, "Enabled": true})
	hook := s.api(owner, "GET", "/list-webhooks", nil)["Webhooks"].([]any)[0].(map[string]any)["WebhookId"].(string)
	s.api(owner, "POST", "/test-webhook", map[string]any{"WebhookId": hook})
	s.api(owner, "POST", "/update-member-remark", map[string]any{"AccountId": ids[1], "Remark": "staging, EU"})
	s.api("", "POST", "/deliver-webhooks", map[string]any{})
	do(t, ctx, click("#tab-integrations"), view("integrations"), hasText("table.webhooks tbody tr td.last-status", "200"),
		hasText("table.webhooks tbody tr td.pending", "0"))
	shot("integrations.png", "body")
}

// seedDirectory enables the directory, invites n accounts
// 10000000000000(11...) and has them accept (names team-NN), and designates
// da (also invited) as delegated administrator, through the API.
func seedDirectory(t *testing.T, s *srv, n int, da string) []string {
	t.Helper()
	s.api(owner, "POST", "/enable-directory", map[string]any{})
	var ids []string
	for i := range n {
		ids = append(ids, fmt.Sprintf("10000000000%05d", 11+i))
	}
	invite := append([]string{da}, ids...)
	for start := 0; start < len(invite); start += 20 {
		var targets []map[string]string
		for _, id := range invite[start:min(start+20, len(invite))] {
			targets = append(targets, map[string]string{"AccountId": id})
		}
		s.api(owner, "POST", "/invite-accounts", map[string]any{"Targets": targets, "Note": "Join our SASE"})
	}
	for token := ""; ; {
		res := s.api(owner, "GET", "/list-invitations?Status=Pending&MaxResults=100&NextToken="+token, nil)
		for _, i := range res["Invitations"].([]any) {
			m := i.(map[string]any)
			id := m["TargetEntity"].(string)
			s.api("", "POST", "/_local/accept-invitation", map[string]any{"InvitationId": m["InvitationId"], "DisplayName": "team-" + id[len(id)-2:]})
		}
		if token, _ = res["NextToken"].(string); token == "" {
			break
		}
	}
	s.api(owner, "POST", "/register-delegated-admin", map[string]any{"AccountId": da})
	return ids
}
