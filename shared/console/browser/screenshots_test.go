package browser

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestScreenshots writes the images README shows (make screenshots sets
// SCREENSHOTS_DIR=docs/images): the setup page, the member table and the
// Added Member dialog, at 1280 px wide. Without SCREENSHOTS_DIR it still
// drives the same screens, so the target cannot rot unnoticed.
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
	seedDirectory(t, s, 6, delegate)
	s.api(owner, "POST", "/add-members", map[string]any{"Members": []map[string]string{
		{"AccountId": "1000000000000011", "Remark": "production"}, {"AccountId": "1000000000000012", "Remark": "staging"},
		{"AccountId": "1000000000000013"}}})

	do(t, ctx, chromedp.EmulateViewport(1280, 900), signIn(s, owner), click("#tab-setup"), view("setup"), count("#pending", 1))
	shot("setup.png", "body")
	do(t, ctx, click("#tab-members"), view("members"), count("table.members tbody tr", 3))
	shot("member-table.png", "body")
	do(t, ctx, click("#added-member"), count("#candidates input[type=checkbox]", 4),
		click(`#candidates input[value="1000000000000014"]`), click("#move-selected"), count("#selected input", 1))
	shot("added-member-dialog.png", "body")
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
