package browser

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestExpiredSession: a token the functions no longer accept (401) and a
// token past its exp both lead back to sign-in, and signing in again
// returns to the page the user was on.
func TestExpiredSession(t *testing.T) {
	s := startServer(t)
	ctx := tab(t)
	seedDirectory(t, s, 1, delegate)
	do(t, ctx, signIn(s, owner), click("#tab-audit"), view("audit"))

	// The server refuses the token (here: its signature no longer matches).
	do(t, ctx, chromedp.Evaluate[chromedp.Void](`(() => {
		const s = JSON.parse(sessionStorage.getItem('sase.session'));
		const [h, p, sig] = s.token.split('.');
		s.token = [h, p, sig.slice(0, -4) + (sig.endsWith('AAAA') ? 'BBBB' : 'AAAA')].join('.');
		sessionStorage.setItem('sase.session', JSON.stringify(s));
	})()`), click("#audit-refresh"), view("signin"), hasText("#signin-note", "session has expired"),
		signInFromButton(owner), view("audit"))
	if loc := get(t, ctx, chromedp.Location()); !strings.HasSuffix(loc, "#/audit") || strings.Contains(loc, "code=") {
		t.Errorf("after signing in again the page is %s, want the audit trail with no code in the URL", loc)
	}

	// The token's exp has passed: a reload shows sign-in, not the page.
	do(t, ctx, chromedp.Evaluate[chromedp.Void](`(() => {
		const s = JSON.parse(sessionStorage.getItem('sase.session'));
		s.exp = Math.floor(Date.now() / 1000) - 1;
		sessionStorage.setItem('sase.session', JSON.stringify(s));
	})()`), chromedp.Reload(), view("signin"), hasText("#signin-note", "session has expired"))

	// The token lives in sessionStorage only.
	if n := get(t, ctx, eval[int](`localStorage.length`)); n != 0 {
		t.Errorf("localStorage has %d entries; the token must never go there", n)
	}
}

// TestSignInTampering: a tampered state, nonce or PKCE challenge on the
// way through the provider signs nobody in, and says why.
func TestSignInTampering(t *testing.T) {
	s := startServer(t)
	ctx := tab(t)
	for _, c := range []struct{ field, code string }{
		{"state", "StateMismatch"},
		{"nonce", "NonceMismatch"},
		{"code_challenge", "OAuth.invalid_grant"},
	} {
		t.Run(c.field, func(t *testing.T) {
			do(t, ctx, chromedp.Navigate(s.base+"/"), view("signin"), click("#sign-in"), visible("#account"),
				chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
					const f = document.querySelector('input[name=%q]');
					f.value = f.value.slice(0, -2) + (f.value.endsWith('AA') ? 'BB' : 'AA');
				})()`, c.field)),
				typeIn("#account", owner), click("#sign-in"),
				view("signin"), hasText("main .error .code", c.code))
			if n := get(t, ctx, eval[int](`document.querySelectorAll('#sign-out').length`)); n != 0 {
				t.Errorf("signed in despite a tampered %s", c.field)
			}
			if loc := get(t, ctx, chromedp.Location()); strings.Contains(loc, "code=") || strings.Contains(loc, "state=") {
				t.Errorf("the callback parameters stayed in the address bar: %s", loc)
			}
		})
	}
	// And an untampered sign-in still works in the same tab.
	do(t, ctx, chromedp.Navigate(s.base+"/"), signInFromButton(owner))
}
