package browser

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
)

// Steps a person takes, as chromedp actions. Every wait is on a condition
// of the page (an element, a text), never on time.

type step = chromedp.Action[chromedp.Void]

const waitLimit = 20 * time.Second

// until waits for a JavaScript condition to hold. A navigation while it
// polls (a sign-in redirect) is not a failure: it polls the new page.
func until(what, js string) step {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		deadline := time.Now().Add(waitLimit)
		for {
			left := time.Until(deadline)
			if left <= 0 {
				left = time.Millisecond
			}
			_, err := chromedp.Poll[bool](js, chromedp.WithPollingInterval(25*time.Millisecond), chromedp.WithPollingTimeout(left))(ctx, t)
			if err == nil {
				return chromedp.Void{}, nil
			}
			if navigating(err) && time.Now().Before(deadline) && ctx.Err() == nil {
				continue
			}
			state, _ := chromedp.Evaluate[string](`location.href + ' | ' + (document.body ? document.body.dataset.view + ' | ' + document.body.innerText.slice(0, 800) : '')`)(ctx, t)
			return chromedp.Void{}, fmt.Errorf("waiting for %s: %w\npage: %s", what, err, state)
		}
	}
}

func navigating(err error) bool {
	s := err.Error()
	return strings.Contains(s, "navigated or closed") || strings.Contains(s, "context was destroyed") || strings.Contains(s, "Cannot find context")
}

// q quotes a Go string as a JavaScript string literal.
func q(s string) string { return strconv.Quote(s) }

// hasText waits until the element sel contains text.
func hasText(sel, text string) step {
	return until(fmt.Sprintf("%s to contain %q", sel, text),
		fmt.Sprintf(`(() => { const e = document.querySelector(%s); return !!e && e.textContent.includes(%s); })()`, q(sel), q(text)))
}

// view waits until the console shows view (data-view on body).
func view(name string) step {
	return until("view "+name, fmt.Sprintf(`!!document.body && document.body.dataset.view === %s`, q(name)))
}

// count waits until sel matches n elements.
func count(sel string, n int) step {
	return until(fmt.Sprintf("%d × %s", n, sel), fmt.Sprintf(`document.querySelectorAll(%s).length === %d`, q(sel), n))
}

// focused waits until the element with id has the focus.
func focused(id string) step {
	return until("focus on #"+id, fmt.Sprintf(`document.activeElement && document.activeElement.id === %s`, q(id)))
}

func click(sel string) step { return chromedp.Click(chromedp.CSS(sel)) }

func typeIn(sel, text string) step { return chromedp.SendKeys(chromedp.CSS(sel), text) }

func visible(sel string) step { return chromedp.WaitVisible(chromedp.CSS(sel)) }

// signIn goes to the console and signs in as account on the provider's
// page, as a person would: Sign in, type the Account UID, Sign in.
func signIn(s *srv, account string) step {
	return chromedp.Steps(chromedp.Navigate(s.base+"/"), signInFromButton(account))
}

// signInFromButton signs in from the console's sign-in screen.
func signInFromButton(account string) step {
	return chromedp.Steps(
		view("signin"),
		click("#sign-in"),
		visible("#account"),
		typeIn("#account", account),
		click("#sign-in"),
		visible("#sign-out"),
		hasText("#who-account", account),
		until("a signed-in view", `!!document.body.dataset.view && !['signin', 'error'].includes(document.body.dataset.view)`),
	)
}

// signInAs signs in from the console's sign-in screen as the RAM user
// named user of account: the header then names them.
func signInAs(account, user string) step {
	return chromedp.Steps(
		view("signin"),
		click("#sign-in"),
		visible("#ram_user"),
		typeIn("#account", account),
		typeIn("#ram_user", user),
		click("#sign-in"),
		visible("#sign-out"),
		hasText("#who-person", user),
		hasText("#who-account", account),
		until("a signed-in view", `!!document.body.dataset.view && !['signin', 'error'].includes(document.body.dataset.view)`),
	)
}

func signOut() step { return chromedp.Steps(click("#sign-out"), view("signin")) }

// choose picks value in the select sel, as a person would (a change event).
func choose(sel, value string) step {
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
		const s = document.querySelector(%s);
		s.value = %s;
		s.dispatchEvent(new Event('change'));
	})()`, q(sel), q(value)))
}

// text reads the text content of sel.
func text(sel string) chromedp.Action[string] { return chromedp.TextContent(chromedp.CSS(sel)) }

// eval evaluates js.
func eval[T any](js string) chromedp.Action[T] { return chromedp.Evaluate[T](js) }
