package browser

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestMemberTableAt390: on a 390 px wide screen each member row stacks its
// cells, labelled by column, so Remarks and Delete are inside the viewport
// and nothing scrolls sideways; they work from there.
func TestMemberTableAt390(t *testing.T) {
	s := startServer(t)
	ctx := tab(t)
	ids := seedDirectory(t, s, 2, delegate)
	s.api(owner, "POST", "/add-members", map[string]any{"Members": []map[string]string{
		{"AccountId": ids[0], "Remark": "a remark long enough to need more than one line on a phone screen, production"},
		{"AccountId": ids[1]}}})
	do(t, ctx, chromedp.EmulateViewport(390, 844), signIn(s, delegate), view("members"), count("table.members tbody tr", 2))

	type box struct {
		Sel                 string
		Left, Right, Height float64
	}
	boxes := get(t, ctx, eval[[]box](`[...document.querySelectorAll('table.members tbody tr')].flatMap(tr =>
		['button.remarks', 'button.delete'].map(b => {
			const r = tr.querySelector(b).getBoundingClientRect();
			return {Sel: tr.dataset.account + ' ' + b, Left: r.left, Right: r.right, Height: r.height};
		}))`))
	if len(boxes) != 4 {
		t.Fatalf("found %d Remarks/Delete buttons, want 4", len(boxes))
	}
	for _, b := range boxes {
		if b.Height == 0 || b.Left < 0 || b.Right > 390 {
			t.Errorf("at 390 px %s spans x %.0f–%.0f (height %.0f), want inside 0–390", b.Sel, b.Left, b.Right, b.Height)
		}
	}
	for _, el := range []string{"document.documentElement", "document.querySelector('.table-wrap')"} {
		if w := get(t, ctx, eval[[]int](fmt.Sprintf(`[%[1]s.scrollWidth, %[1]s.clientWidth]`, el))); w[0] > w[1] {
			t.Errorf("at 390 px %s scrolls sideways: scrollWidth %d > clientWidth %d", el, w[0], w[1])
		}
	}
	// Each cell says which column it is.
	label := get(t, ctx, eval[string](`getComputedStyle(document.querySelector('table.members tbody td.uid'), '::before').content`))
	if label != `"Account UID"` {
		t.Errorf("the Account UID cell's label is %s, want \"Account UID\"", label)
	}
	// The actions work where they are.
	row := fmt.Sprintf(`tr[data-account=%q]`, ids[1])
	do(t, ctx, click(row+" button.remarks"), visible("#remark-ok"), typeIn("dialog[open] input[name=remark]", "phone"),
		click("#remark-ok"), hasText(row+" td.remark", "phone"),
		click(row+" button.delete"), click("#confirm-ok"), count("table.members tbody tr", 1))

	// A wide screen keeps the table.
	do(t, ctx, chromedp.EmulateViewport(1280, 900),
		until("table cells at 1280 px", `getComputedStyle(document.querySelector('table.members tbody td.uid')).display === 'table-cell'`))
}
