package browser

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestDocumentFlow is the product document from a fresh server, clicked
// through: the owner enables the directory and invites three accounts,
// each accepts (the local helper stands in for the invitee's console), the
// owner designates the delegated administrator, who signs in, adds two
// members in the Added Member dialog (OK closes it onto the table), remarks one and deletes the other;
// the audit trail shows every step.
func TestDocumentFlow(t *testing.T) {
	s := startServer(t)
	ctx := tab(t)
	invitees := []string{delegate, member1, member2}

	// Step 1 as the owner.
	do(t, ctx, signIn(s, owner), view("setup"),
		hasText("#who-role", "Owner"),
		hasText("#step-1", "To do"),
		click("#enable"),
		until("step 1 done", `document.querySelector('#step-1')?.dataset.done === 'true'`),
		hasText("#who-role", "Management account"),
		hasText("#rd-info", owner))

	// Step 2: invite three, see one result per target and three pending.
	do(t, ctx,
		typeIn("#step-2 textarea", strings.Join(invitees, ", ")),
		typeIn("#step-2 input[name=note]", "Join our SASE"),
		click("#invite"),
		count("#invite-results li", 3),
		count("#pending tbody tr", 3))
	results := get(t, ctx, text("#invite-results"))
	if strings.Count(results, "Invited") != 3 {
		t.Fatalf("invite results: %q", results)
	}

	// Each invitee accepts in its own console.
	inv := s.api(owner, "GET", "/list-invitations?Status=Pending", nil)["Invitations"].([]any)
	if len(inv) != 3 {
		t.Fatalf("pending invitations: %v", inv)
	}
	for _, i := range inv {
		m := i.(map[string]any)
		s.api("", "POST", "/_local/accept-invitation", map[string]any{"InvitationId": m["InvitationId"], "DisplayName": "team-" + m["TargetEntity"].(string)[12:]})
	}

	// Step 3: the owner reloads, sees the accounts and designates one.
	do(t, ctx, chromedp.Reload(), view("setup"),
		until("step 2 done", `document.querySelector('#step-2')?.dataset.done === 'true'`),
		count("#step-3 input[type=radio]", 3),
		click(fmt.Sprintf(`#step-3 input[value="%s"]`, delegate)),
		click("#set-da"),
		hasText("#da-info", delegate),
		until("step 3 done", `document.querySelector('#step-3')?.dataset.done === 'true'`),
		signOut())

	// Step 4 as the delegated administrator: the member table is empty.
	do(t, ctx, signInFromButton(delegate), view("members"),
		hasText("#who-role", "Delegated administrator"),
		visible("#members-empty"))

	// Added Member: move two to The member is selected, OK.
	do(t, ctx,
		click("#added-member"),
		visible("dialog[open]"),
		hasText("dialog[open] h2", "Added Member"),
		hasText("dialog[open]", "The member is selected"),
		count("#candidates input[type=checkbox]", 3),
		click(fmt.Sprintf(`#candidates input[value="%s"]`, member1)),
		click(fmt.Sprintf(`#candidates input[value="%s"]`, member2)),
		click("#move-selected"),
		count("#selected input[type=checkbox]", 2),
		count("#candidates input[type=checkbox]", 1),
		hasText("#selected-count", "2 / 100"),
		click("#transfer-ok"),
		// OK: the member list displays the members.
		count("dialog[open]", 0),
		count("table.members tbody tr", 2),
		hasText("#added-notice", "2 member(s) added"))

	// The table shows Account UID, Account Name and Add Time.
	head := get(t, ctx, text("table.members thead"))
	row := get(t, ctx, text(fmt.Sprintf(`tr[data-account="%s"]`, member1)))
	for _, col := range []string{"Account UID", "Account Name", "Add Time", "Actions"} {
		if !strings.Contains(head, col) {
			t.Errorf("table header %q lacks %s", head, col)
		}
	}
	if !strings.Contains(row, member1) || !strings.Contains(row, "team-"+member1[12:]) || !strings.Contains(row, "UTC") ||
		!strings.Contains(row, "Remarks") || !strings.Contains(row, "Delete") {
		t.Errorf("member row %q: want Account UID, Account Name, Add Time, Remarks, Delete", row)
	}

	// Remarks, then Delete.
	do(t, ctx,
		click(fmt.Sprintf(`tr[data-account="%s"] button.remarks`, member1)),
		visible("#remark-ok"),
		typeIn("dialog[open] input[name=remark]", "production"),
		hasText("dialog[open] .count", "10 / 256"),
		click("#remark-ok"),
		hasText(fmt.Sprintf(`tr[data-account="%s"] td.remark`, member1), "production"),
		click(fmt.Sprintf(`tr[data-account="%s"] button.delete`, member2)),
		hasText("dialog[open]", "no longer manages"),
		click("#confirm-ok"),
		count("table.members tbody tr", 1),
		hasText("#members-status", "1 member(s) deleted"))

	// The audit trail shows every step.
	do(t, ctx, click("#tab-audit"), view("audit"), until("audit rows", `document.querySelectorAll("table.audit tbody tr").length >= 10`))
	actions := get(t, ctx, eval[[]string](`[...document.querySelectorAll('table.audit tbody td.action')].map(e => e.textContent)`))
	// The simulation announces the new delegated administrator as RD's
	// ActionTrail event would: directory-events records it as System.
	want := []string{"delete-members", "update-member-remark", "add-members", "add-members", "register-delegated-admin",
		"directory-events", "invite-accounts", "invite-accounts", "invite-accounts", "enable-directory"}
	if strings.Join(actions, ",") != strings.Join(want, ",") {
		t.Errorf("audit actions (newest first) = %v, want %v", actions, want)
	}

	// One account's timeline: click its UID in the trail.
	do(t, ctx,
		click(`table.audit button.link[title="Show timeline"]`),
		until("timeline", `!!document.querySelector("#audit-scope")`))
	shown := get(t, ctx, eval[string](`document.querySelector("#audit-target").value`))
	targets := get(t, ctx, eval[[]string](`[...document.querySelectorAll('table.audit tbody tr td:nth-child(4)')].map(e => e.textContent)`))
	if len(targets) == 0 {
		t.Fatal("the timeline is empty")
	}
	for _, tg := range targets {
		if tg != shown {
			t.Errorf("the timeline of %s shows an event of %q", shown, tg)
		}
	}
	// Typed in: member1's timeline is its invitation, add and remark.
	do(t, ctx,
		until("target cleared", `(document.querySelector("#audit-target").value = "") === ""`), typeIn("#audit-target", member1), click("#audit-show"),
		hasText("#audit-scope", member1),
		until("member1 timeline", `[...document.querySelectorAll('table.audit tbody td.action')].map(e => e.textContent).join() == "update-member-remark,add-members,invite-accounts"`),
		click("#audit-all"), until("all events", `!document.querySelector("#audit-scope") && document.querySelectorAll("table.audit tbody tr").length >= 10`))
}
