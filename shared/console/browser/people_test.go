package browser

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/golang-jwt/jwt/v5"

	"github.com/sase-multiaccount/backend/shared/local/localkey"
	"github.com/sase-multiaccount/backend/shared/local/oidc"
)

// People sign in as RAM users of an account (the local provider derives
// each one's UID from the account and the name); what each sees follows
// describe-setup's AllowedActions.

// TestOperator: a RAM user of the management account granted Operator adds
// a member and remarks it, sees the setup steps' status but none of their
// actions, reads the enrollment policy without controls to change it, has
// no Access tab, and the audit trail names them.
func TestOperator(t *testing.T) {
	s := startServer(t)
	ctx := tab(t)
	ids := seedDirectory(t, s, 2, delegate)
	const alice = "alice@owner.onaliyun.com"
	aliceID := oidc.RAMUserID(owner, alice)
	s.api(owner, "POST", "/grant-access", map[string]any{"AccountId": owner, "UserId": aliceID, "AccessRole": "Operator"})
	row := fmt.Sprintf(`tr[data-account=%q]`, ids[0])

	do(t, ctx, chromedp.Navigate(s.base+"/"), signInAs(owner, alice), view("members"),
		hasText("#who-person", aliceID), hasText("#who-role", "Management account"), hasText("#who-access", "Operator"),
		count(".tabs a", 4), count("#tab-access", 0),
		click("#added-member"), visible("dialog[open]"), click(fmt.Sprintf(`#candidates input[value=%q]`, ids[0])),
		click("#move-selected"), click("#transfer-ok"), count("dialog[open]", 0), count("table.members tbody tr", 1),
		click(row+" button.remarks"), visible("#remark-ok"), typeIn("dialog[open] input[name=remark]", "added by alice"),
		click("#remark-ok"), hasText(row+" td.remark", "added by alice"))

	do(t, ctx, click("#tab-setup"), view("setup"), hasText("main", "Steps 1 to 3 are done by the management account"),
		visible("#pending"), count("#enable, #invite, #set-da, #remove-da, #pending button", 0), visible("#go-members"))

	do(t, ctx, click("#tab-policy"), view("policy"), visible("#policy-read-only"),
		count("#policy-save, #policy-preview, #policy-add-exclusion, #policy-apply", 0),
		until("the policy's controls disabled", `document.querySelector('#policy-mode-Off').matches(':disabled')`))

	do(t, ctx, click("#tab-audit"), view("audit"),
		hasText(`table.audit tbody tr[data-action="update-member-remark"] td.actor`, alice+" (Operator) of "+owner),
		hasText(`table.audit tbody tr[data-action="add-members"] td.actor`, alice+" (Operator) of "+owner))
}

// TestViewer: a Viewer of the delegated administrator reads the member
// table without Added Member, Remarks, Delete or selection.
func TestViewer(t *testing.T) {
	s := startServer(t)
	ctx := tab(t)
	ids := seedDirectory(t, s, 1, delegate)
	s.api(owner, "POST", "/add-members", map[string]any{"Members": []map[string]string{{"AccountId": ids[0], "Remark": "read me"}}})
	const bob = "bob@delegate.onaliyun.com"
	s.api(delegate, "POST", "/grant-access", map[string]any{"AccountId": delegate, "UserId": oidc.RAMUserID(delegate, bob), "AccessRole": "Viewer"})

	do(t, ctx, chromedp.Navigate(s.base+"/"), signInAs(delegate, bob), view("members"), hasText("#who-access", "Viewer"),
		count("table.members tbody tr", 1), hasText("table.members td.remark", "read me"), visible("#export-csv"),
		count("#added-member", 0),
		count("#delete-selected, #select-all, table.members input[type=checkbox], table.members button.remarks, table.members button.delete", 0),
		count(".tabs a", 4), count("#tab-access", 0))
}

// TestNoAccess: a RAM user nobody granted anything sees who they are,
// that they have no access yet and who can grant it, and nothing else.
func TestNoAccess(t *testing.T) {
	s := startServer(t)
	ctx := tab(t)
	seedDirectory(t, s, 1, delegate)
	const carol, dan = "carol@owner.onaliyun.com", "dan@delegate.onaliyun.com"

	do(t, ctx, chromedp.Navigate(s.base+"/"), signInAs(owner, carol), view("noaccess"),
		hasText("#noaccess-who", carol), hasText("#noaccess-who", oidc.RAMUserID(owner, carol)), hasText("#noaccess-who", owner),
		hasText("#noaccess-text", "None"), hasText("#noaccess-grant", "management account "+owner),
		hasText("#who-access", "None"), count(".tabs a", 0), count("main button", 0), signOut())
	// A person of the delegated administrator: its Administrators can grant too.
	do(t, ctx, signInAs(delegate, dan), view("noaccess"),
		hasText("#noaccess-grant", "account "+delegate+" (the delegated administrator)"), hasText("#noaccess-grant", owner))
}

// TestAdministratorGrants: the management account's root identity grants a
// RAM user Operator on the Access tab; the grantee's next page load shows
// Added Member. A change to Viewer and a revocation, each confirmed, show
// on the grantee's next load likewise; a cancelled revocation changes
// nothing; the list shows the grantee's name and last sign-in once they
// have signed in.
func TestAdministratorGrants(t *testing.T) {
	s := startServer(t)
	admin, grantee := tab(t), tab(t)
	seedDirectory(t, s, 1, delegate)
	const dave = "dave@owner.onaliyun.com"
	daveID := oidc.RAMUserID(owner, dave)
	row := fmt.Sprintf(`#access-table tr[data-user=%q]`, daveID)

	do(t, grantee, chromedp.Navigate(s.base+"/"), signInAs(owner, dave), view("noaccess"))
	do(t, admin, signIn(s, owner), click("#tab-access"), view("access"), visible("#access-empty"),
		typeIn("#grant-user", daveID), click("#grant-role-Operator"), click("#grant"),
		hasText("#grant-result", "Operator"), hasText(row+" td.access-role", "Operator"),
		hasText(row+" td.granted-by", owner), hasText(row+" td.last-sign-in", "not since the grant"))
	do(t, grantee, chromedp.Reload(), view("members"), visible("#added-member"), hasText("#who-access", "Operator"))
	do(t, admin, click("#access-refresh"), hasText(row+" td.person", dave), hasText(row+" td.last-sign-in", "UTC"))

	do(t, admin, choose(row+" select.role-select", "Viewer"), click(row+" button.change"),
		hasText("dialog[open]", "from Operator to Viewer"), click("#confirm-ok"), count("dialog[open]", 0),
		hasText(row+" td.access-role", "Viewer"), hasText("#access-notice", "Viewer"))
	do(t, grantee, chromedp.Reload(), view("members"), count("#added-member", 0), hasText("#who-access", "Viewer"))

	do(t, admin, click(row+" button.revoke"), hasText("dialog[open]", "Revoke the access of "+dave),
		chromedp.KeyEvent("\u001b"), count("dialog[open]", 0), hasText(row+" td.access-role", "Viewer"),
		click(row+" button.revoke"), click("#confirm-ok"), visible("#access-empty"), hasText("#access-notice", "revoked"))
	do(t, grantee, chromedp.Reload(), view("noaccess"))

	// The audit trail names the administrator who granted, changed and revoked.
	do(t, admin, click("#tab-audit"), view("audit"),
		count(`table.audit tbody tr[data-action="grant-access"]`, 2), count(`table.audit tbody tr[data-action="revoke-access"]`, 1),
		hasText(`table.audit tbody tr[data-action="revoke-access"] td.actor`, owner+" (Administrator) of "+owner))
}

// TestTokenWithoutAccountClaim: the console does not judge a token's
// claims. A token the functions refuse for lacking the account claim
// brings back sign-in with the server's 401, which names the claims the
// token carries.
func TestTokenWithoutAccountClaim(t *testing.T) {
	s := startServer(t)
	ctx := tab(t)
	signer, err := localkey.LoadOrCreate(s.dir)
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(time.Hour).Unix()
	tok, err := signer.MintClaims(jwt.MapClaims{"iss": localkey.Issuer, "aud": localkey.Audience, "exp": exp,
		"uid": "2000000000000001", "login_name": "erin@owner.onaliyun.com"})
	if err != nil {
		t.Fatal(err)
	}
	do(t, ctx, chromedp.Navigate(s.base+"/"), view("signin"),
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`sessionStorage.setItem('sase.session', JSON.stringify({token: %s, exp: %d, account: '', name: 'erin'}))`, q(tok), exp)),
		chromedp.Reload(), view("signin"), hasText("main .error .code", "Unauthenticated"),
		hasText("main .error .message", `"aid"`), hasText("main .error .message", `"login_name"`), count("#signin-note", 0))
}
