package browser

import (
	"fmt"
	"strings"
	"testing"
)

// disabled waits until the button with id is disabled (want) or enabled.
func disabled(id string, want bool) step {
	return until(fmt.Sprintf("#%s disabled=%v", id, want),
		fmt.Sprintf(`document.getElementById(%s)?.disabled === %v`, q(id), want))
}

// TestAddedMemberOutcome: the move buttons work only when they have
// something to move; OK with every account added closes the dialog onto
// the member table with a short notice; OK with one failure keeps the
// dialog, listing the failure first.
func TestAddedMemberOutcome(t *testing.T) {
	s := startServer(t)
	ctx := tab(t)
	ids := seedDirectory(t, s, 3, delegate)
	cand := func(id string) string { return fmt.Sprintf(`#candidates input[value=%q]`, id) }
	sel := func(id string) string { return fmt.Sprintf(`#selected input[value=%q]`, id) }

	// Nothing ticked, nothing selected: only Move all has work to do.
	do(t, ctx, signIn(s, delegate), view("members"), click("#added-member"), count("#candidates input[type=checkbox]", 4),
		disabled("move-selected", true), disabled("remove-selected", true), disabled("remove-all", true), disabled("move-all", false),
		disabled("transfer-ok", true),
		click(cand(ids[0])), disabled("move-selected", false),
		click(cand(ids[0])), disabled("move-selected", true), // unticked again
		click(cand(ids[0])), click(cand(ids[1])), click("#move-selected"), count("#selected input[type=checkbox]", 2),
		disabled("move-selected", true), disabled("remove-selected", true), disabled("remove-all", false),
		click(sel(ids[1])), disabled("remove-selected", false), click("#remove-selected"),
		count("#selected input[type=checkbox]", 1), disabled("remove-selected", true),
		click(cand(ids[1])), click("#move-selected"), count("#selected input[type=checkbox]", 2))

	// Every account added: the dialog closes, the table shows them, with a notice.
	do(t, ctx, click("#transfer-ok"), count("dialog[open]", 0), count("table.members tbody tr", 2),
		visible("#added-notice"), hasText("#added-notice", "2 member(s) added."),
		hasText("table.members tbody", ids[0]), hasText("table.members tbody", ids[1]))

	// One fails: ids[2] leaves the directory after it was selected, second
	// of two; the per-item view lists it first.
	do(t, ctx, click("#added-member"), count("#candidates input[type=checkbox]", 2),
		click(cand(delegate)), click("#move-selected"), count("#selected input[type=checkbox]", 1),
		click(cand(ids[2])), click("#move-selected"), count("#selected input[type=checkbox]", 2))
	s.api("", "POST", "/_local/remove-account", map[string]any{"AccountId": ids[2]})
	do(t, ctx, click("#transfer-ok"), count("#add-results li", 2), visible("dialog[open]"),
		hasText("#add-results", "1 account(s) could not be added; 1 added."))
	items := get(t, ctx, eval[[]string](`[...document.querySelectorAll('#add-results li')].map(li => li.className + ' ' + li.textContent)`))
	if !strings.HasPrefix(items[0], "failed "+ids[2]) || !strings.Contains(items[0], "NotInDirectory") ||
		!strings.HasPrefix(items[1], "ok "+delegate) || !strings.Contains(items[1], "Added") {
		t.Errorf("per-item results = %q, want the failure of %s first, then %s Added", items, ids[2], delegate)
	}
	do(t, ctx, click("#add-close"), count("dialog[open]", 0), count("table.members tbody tr", 3), count("#added-notice", 0))
}
