package browser

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestRoleViews: each account's root identity sees what its role allows
// (DESIGN §2; the root identity is always an Administrator), and says so.
func TestRoleViews(t *testing.T) {
	s := startServer(t)
	ctx := tab(t)

	// The owner before step 1: only Setup, with the enable action.
	do(t, ctx, signIn(s, owner), view("setup"), visible("#enable"), count(".tabs a", 1), signOut())

	ids := seedDirectory(t, s, 2, delegate)
	// The delegated administrator: Setup read-only, the member tabs, Access
	// and Integrations (its root identity is an Administrator).
	do(t, ctx, signInFromButton(delegate), view("members"), count(".tabs a", 6), visible("#tab-access"), visible("#tab-integrations"),
		click("#tab-setup"), view("setup"), hasText("main", "Steps 1 to 3 are done by the management account"),
		count("#enable, #invite, #set-da, #remove-da", 0), signOut())

	// A member sees who manages its account, read-only.
	do(t, ctx, signInFromButton(ids[0]), view("member"), hasText("#who-role", "Member"),
		hasText("#managed-by", owner), count(".tabs a", 0), count("main button", 0), signOut())

	// An outsider is told why, with the error's Code and RequestId.
	do(t, ctx, signInFromButton("9999999999999999"), view("outsider"),
		hasText("#outsider-text", "9999999999999999"), hasText("main .error .code", "Forbidden.Role"),
		until("a RequestId", `document.querySelector('main .error input.rid').value.length > 0`))
}

// TestPagingOver45Members pages through 45 members with the total count,
// sorts by Account UID and searches.
func TestPagingOver45Members(t *testing.T) {
	s := startServer(t)
	ctx := tab(t)
	ids := seedDirectory(t, s, 45, delegate)
	var members []map[string]string
	for _, id := range ids {
		members = append(members, map[string]string{"AccountId": id})
	}
	s.api(owner, "POST", "/add-members", map[string]any{"Members": members})

	do(t, ctx, signIn(s, delegate), view("members"),
		count("table.members tbody tr", 20), hasText(".pager .total", "Total 45"), hasText(".pager .pageno", "Page 1 of 3"),
		click(".pager .next"), hasText(".pager .pageno", "Page 2 of 3"), count("table.members tbody tr", 20),
		click(".pager .next"), hasText(".pager .pageno", "Page 3 of 3"), count("table.members tbody tr", 5),
		until("Next disabled on the last page", `document.querySelector('.pager .next').disabled`),
		click(".pager .prev"), hasText(".pager .pageno", "Page 2 of 3"), count("table.members tbody tr", 20),
		// Sort by Account UID: back to page 1, smallest first after two clicks (Desc, then Asc).
		click("#sort-AccountId"), hasText(".pager .pageno", "Page 1 of 3"),
		hasText("table.members tbody tr:first-child td.uid", ids[44]),
		click("#sort-AccountId"), hasText("table.members tbody tr:first-child td.uid", ids[0]),
		// Search narrows the total.
		typeIn("form.search input", "team-2"), click("#search-members"),
		hasText(".pager .total", "Total 10"), count("table.members tbody tr", 10))

	// Multi-select delete of a whole page, with per-item results.
	do(t, ctx, click("#select-all"), hasText("#delete-selected", "Delete selected (10)"), click("#delete-selected"),
		hasText("dialog[open]", "Delete these 10 members"), click("#confirm-ok"),
		count("#delete-results li", 10), hasText("#delete-results", "10 member(s) deleted"))
}

// TestRemarkVersionConflict: someone else changes the remark while the
// editor is open; the editor shows their remark and lets the user keep it
// or overwrite it.
func TestRemarkVersionConflict(t *testing.T) {
	s := startServer(t)
	ctx := tab(t)
	ids := seedDirectory(t, s, 1, delegate)
	s.api(owner, "POST", "/add-members", map[string]any{"Members": []map[string]string{{"AccountId": ids[0], "Remark": "first"}}})
	row := fmt.Sprintf(`tr[data-account="%s"]`, ids[0])

	do(t, ctx, signIn(s, delegate), view("members"), hasText(row+" td.remark", "first"),
		click(row+" button.remarks"), visible("#remark-ok"))
	s.api(owner, "POST", "/update-member-remark", map[string]any{"AccountId": ids[0], "Remark": "changed elsewhere"})
	do(t, ctx, chromedp.Clear(chromedp.CSS("dialog[open] input[name=remark]")), typeIn("dialog[open] input[name=remark]", "mine"),
		click("#remark-ok"), visible("#remark-conflict"),
		hasText("#their-remark", "changed elsewhere"), hasText("#your-remark", "mine"), hasText("#remark-conflict", "version 2"),
		click("#conflict-overwrite"), count("dialog[open]", 0), hasText(row+" td.remark", "mine"))

	// Again, and this time keep theirs.
	do(t, ctx, click(row+" button.remarks"), visible("#remark-ok"))
	s.api(owner, "POST", "/update-member-remark", map[string]any{"AccountId": ids[0], "Remark": "theirs"})
	do(t, ctx, typeIn("dialog[open] input[name=remark]", " again"), click("#remark-ok"), visible("#remark-conflict"),
		click("#conflict-keep"), count("dialog[open]", 0), hasText(row+" td.remark", "theirs"))
}

// TestMarkupInRemarkShownAsText: a remark that is markup is shown as the
// characters it is, from the API and from the editor, and runs nothing
// (tab() fails the test on any JavaScript dialog).
func TestMarkupInRemarkShownAsText(t *testing.T) {
	s := startServer(t)
	ctx := tab(t)
	const xss = `<img src=x onerror=alert(1)>`
	ids := seedDirectory(t, s, 2, delegate)
	s.api(owner, "POST", "/add-members", map[string]any{"Members": []map[string]string{{"AccountId": ids[0], "Remark": xss}, {"AccountId": ids[1]}}})
	row0, row1 := fmt.Sprintf(`tr[data-account="%s"]`, ids[0]), fmt.Sprintf(`tr[data-account="%s"]`, ids[1])

	do(t, ctx, signIn(s, delegate), view("members"), count("table.members tbody tr", 2),
		click(row1+" button.remarks"), visible("#remark-ok"), typeIn("dialog[open] input[name=remark]", `"><script>alert(2)</script>`),
		click("#remark-ok"), hasText(row1+" td.remark", "<script>"))
	if got := get(t, ctx, text(row0+" td.remark")); got != xss {
		t.Errorf("remark cell text = %q, want %q literally", got, xss)
	}
	if n := get(t, ctx, eval[int](`document.querySelectorAll('main img, main script').length`)); n != 0 {
		t.Errorf("the page has %d img/script elements made from remarks", n)
	}
	// The audit trail renders the remark as text too.
	do(t, ctx, click("#tab-audit"), view("audit"), hasText("table.audit", "<script>alert(2)</script>"))
	if n := get(t, ctx, eval[int](`document.querySelectorAll('main img, main script').length`)); n != 0 {
		t.Errorf("the audit trail has %d img/script elements", n)
	}
}

// TestKeyboardOnlyAdd adds a member without the mouse: Tab to Added
// Member, Enter, Tab and Space through the transfer list, Enter on OK; the
// dialog keeps the focus inside and Esc closes it.
func TestKeyboardOnlyAdd(t *testing.T) {
	s := startServer(t)
	ctx := tab(t)
	ids := seedDirectory(t, s, 2, delegate)
	do(t, ctx, signIn(s, delegate), view("members"), visible("#members-empty"))

	tabTo := func(id string) step {
		return func(c context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			for range 40 {
				if _, err := chromedp.KeyEvent("\t")(c, tg); err != nil {
					return chromedp.Void{}, err
				}
				if v, err := chromedp.Evaluate[string](`document.activeElement?.id || ''`)(c, tg); err == nil && v == id {
					return chromedp.Void{}, nil
				}
			}
			return chromedp.Void{}, fmt.Errorf("40 presses of Tab never reached #%s", id)
		}
	}
	inDialog := `!!document.activeElement && !!document.activeElement.closest('dialog[open]')`
	do(t, ctx, tabTo("added-member"), chromedp.KeyEvent("\r"), visible("dialog[open]"),
		count("#candidates input[type=checkbox]", 3),
		until("focus in the dialog", inDialog))
	// Esc closes and gives the focus back to Added Member.
	do(t, ctx, chromedp.KeyEvent("\u001b"), count("dialog[open]", 0), focused("added-member"),
		chromedp.KeyEvent("\r"), count("#candidates input[type=checkbox]", 3))
	// Tab 30 times: the focus never leaves the dialog.
	for range 30 {
		do(t, ctx, chromedp.KeyEvent("\t"), until("focus kept in the dialog", inDialog))
	}
	// Tick the first candidate with Space, move it, OK.
	first := get(t, ctx, eval[string](`document.querySelector('#candidates input').id`))
	// Moving the only ticked account disables Move selected: the focus goes on to OK.
	do(t, ctx, tabTo(first), chromedp.KeyEvent(" "), tabTo("move-selected"), chromedp.KeyEvent("\r"),
		count("#selected input[type=checkbox]", 1), focused("transfer-ok"), chromedp.KeyEvent("\r"),
		count("dialog[open]", 0), focused("added-member"), count("table.members tbody tr", 1), visible("#added-notice"))
	got := get(t, ctx, text("table.members tbody"))
	if !strings.Contains(got, ids[0]) && !strings.Contains(got, ids[1]) && !strings.Contains(got, delegate) {
		t.Errorf("table after the keyboard add: %q", got)
	}
	// Focus is visible: the focused element has an outline.
	outline := get(t, ctx, eval[string](`(() => { document.querySelector('#added-member').focus(); return getComputedStyle(document.activeElement).outlineStyle; })()`))
	if outline == "none" || outline == "" {
		t.Errorf("focused button outline style %q: focus is not visible", outline)
	}
}

// TestAddedMemberByFolder: the Added Member dialog filters candidates by
// folder (subfolders included) and shows each one's folder path.
func TestAddedMemberByFolder(t *testing.T) {
	s := startServer(t)
	ctx := tab(t)
	seedDirectory(t, s, 2, delegate)
	prod := s.api("", "POST", "/_local/create-folder", map[string]any{"FolderName": "Production"})["Folder"].(map[string]any)
	web := s.api("", "POST", "/_local/create-folder", map[string]any{"FolderName": "Web", "ParentFolderId": prod["FolderId"]})["Folder"].(map[string]any)
	acc := s.api("", "POST", "/_local/create-account", map[string]any{"DisplayName": "web-prod", "FolderId": web["FolderId"]})["Account"].(map[string]any)

	do(t, ctx, signIn(s, delegate), view("members"), click("#added-member"), visible("dialog[open]"),
		count("#candidates input[type=checkbox]", 4), // the two seeded, the delegate, the new one
		until("the folders in the filter", `[...document.querySelectorAll('select[name=candidate-folder] option')].map(o => o.textContent).join() == "All folders,/,/Production,/Production/Web"`),
		chromedp.SetValue(chromedp.CSS("select[name=candidate-folder]"), prod["FolderId"].(string)),
		until("the change event", `(document.querySelector('select[name=candidate-folder]').dispatchEvent(new Event('change')), true)`),
		count("#candidates input[type=checkbox]", 1),
		hasText("#candidates li", acc["AccountId"].(string)), hasText("#candidates .folder-path", "/Production/Web"))
}

// TestSimplifiedChinese: the language switch reloads the page in Simplified
// Chinese, still signed in and on the same page, and back.
func TestSimplifiedChinese(t *testing.T) {
	s := startServer(t)
	ctx := tab(t)
	seedDirectory(t, s, 1, delegate)
	do(t, ctx, signIn(s, delegate), view("members"), hasText("#language", "中文"),
		click("#language"), view("members"), hasText("main h1", "多账号管理"), hasText("#added-member", "添加成员"),
		hasText("#who-role", "委派管理员"), hasText("#who-access", "管理员"), hasText("#tab-access", "访问权限"),
		until("html lang", `document.documentElement.lang === "zh-CN"`),
		// The audit trail names actions and results in Chinese too.
		click("#tab-audit"), view("audit"), hasText("table.audit", "邀请成员"), hasText("table.audit", "已邀请"),
		click("#tab-members"), view("members"),
		click("#language"), view("members"), hasText("main h1", "Multi-account Management"), hasText("#language", "中文"))
}
