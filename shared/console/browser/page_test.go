package browser

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// TestFirstLoad measures the first load of a signed-in page: its weight
// (every resource, uncompressed) stays under 200 KB, every request goes to
// the console's origin (the provider is only navigated to), the page is
// interactive quickly, and it is usable 390 px wide.
func TestFirstLoad(t *testing.T) {
	s := startServer(t)
	ctx := tab(t)
	seedDirectory(t, s, 3, delegate)
	// A first visit: no HTTP cache, or reloaded resources would count 0 bytes.
	do(t, ctx, chromedp.Func(func(c context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(c, tg, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: true})
		return err
	}), signIn(s, owner), view("setup"), chromedp.Reload(), view("setup"))

	type res struct {
		Name string
		Size float64
	}
	entries := get(t, ctx, eval[[]res](`[performance.getEntriesByType('navigation')[0], ...performance.getEntriesByType('resource')]
		.map(e => ({Name: e.name, Size: e.decodedBodySize}))`))
	total := 0.0
	for _, e := range entries {
		total += e.Size
		if u, err := url.Parse(e.Name); err != nil || u.Scheme+"://"+u.Host != s.base {
			t.Errorf("request to another host: %s", e.Name)
		}
	}
	if total == 0 || total > 200_000 {
		t.Errorf("first load is %.0f bytes uncompressed, want 0 < size ≤ 200 KB", total)
	}
	ready := get(t, ctx, eval[float64](`performance.getEntriesByName('console-ready')[0]?.startTime || -1`))
	if ready < 0 || ready > 3000 {
		t.Errorf("console-ready at %.0f ms after navigation start", ready)
	}
	t.Logf("first load: %d requests, %.0f bytes uncompressed; interactive at %.0f ms", len(entries), total, ready)

	// 390 px wide: nothing overflows the viewport but the tables' own scroll.
	do(t, ctx, chromedp.EmulateViewport(390, 844), click("#tab-members"), view("members"))
	if w := get(t, ctx, eval[int](`document.documentElement.scrollWidth`)); w > 390 {
		t.Errorf("at 390 px the page is %d px wide", w)
	}
	do(t, ctx, click("#added-member"), visible("dialog[open]"))
	if w := get(t, ctx, eval[int](`Math.ceil(document.querySelector('dialog[open]').getBoundingClientRect().right)`)); w > 390 {
		t.Errorf("at 390 px the Added Member dialog ends at %d px", w)
	}
}

// TestSecurityHeaders checks the headers of the page the browser loaded.
func TestSecurityHeaders(t *testing.T) {
	s := startServer(t)
	for _, path := range []string{"/", "/assets/js/main.js", "/config.json"} {
		resp, err := http.Get(s.base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		csp := resp.Header.Get("Content-Security-Policy")
		for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'", "default-src 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %s", path, csp, want)
			}
		}
		for _, bad := range []string{"unsafe-inline", "unsafe-eval"} {
			if strings.Contains(csp, bad) {
				t.Errorf("%s: CSP %q allows %s", path, csp, bad)
			}
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("%s: headers %v", path, resp.Header)
		}
	}
}
