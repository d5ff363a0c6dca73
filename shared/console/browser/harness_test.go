package browser

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/sase-multiaccount/backend/shared/app"
	"github.com/sase-multiaccount/backend/shared/config"
	"github.com/sase-multiaccount/backend/shared/local/server"
)

const (
	owner    = "1000000000000001"
	delegate = "1000000000000002"
	member1  = "1000000000000003"
	member2  = "1000000000000004"
)

// browserCtx is the one browser every scenario opens its tabs in; nil when
// no browser is installed (and CI is not set).
var (
	browserCtx context.Context
	noBrowser  string
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	bin := findChromium()
	if bin == "" {
		noBrowser = "no Chromium found (apt-get install chromium, or set CHROMIUM to its path)"
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "console-browser-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	// chromedp's defaults (headless, no first run, no background
	// networking, no sync, ...) plus what a container needs.
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin), chromedp.UserDataDir(dir), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-component-update", true), chromedp.WindowSize(1280, 900))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	if err := chromedp.Do(bctx); err != nil { // starts the browser once
		fmt.Fprintf(os.Stderr, "starting %s: %v\n", bin, err)
		return 1
	}
	browserCtx = bctx
	return m.Run()
}

func findChromium() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// needBrowser skips (locally) or fails (CI=true) a test without a browser.
func needBrowser(t *testing.T) {
	t.Helper()
	if browserCtx != nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("browser tests need Chromium in CI: %s", noBrowser)
	}
	t.Skip(noBrowser)
}

// srv is a fresh local server (make run) on its own port: the local OIDC
// issuer is http://127.0.0.1:PORT, so the server must listen on PORT.
type srv struct {
	t    *testing.T
	base string
	dir  string // DATA_DIR: the local signing key is there
}

func startServer(t *testing.T) *srv {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	dir := t.TempDir()
	vars := map[string]string{"DATA_DIR": dir, "LOG_LEVEL": "error", "PORT": strconv.Itoa(port)}
	cfg, err := config.Load(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	s, err := server.Open(context.Background(), cfg, app.Options{LogOutput: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() {
		_ = hs.Close()
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return &srv{t: t, base: fmt.Sprintf("http://127.0.0.1:%d", port), dir: dir}
}

// person is who calls: an account's root identity (UserID empty) or one of
// its RAM users.
type person struct{ Account, UserID, UserName string }

// api calls a function (or a /_local helper) as account's root identity
// (empty: no token) and returns the decoded answer, failing the test on a
// non-200.
func (s *srv) api(account, method, path string, body any) map[string]any {
	s.t.Helper()
	return s.apiAs(person{Account: account}, method, path, body)
}

// apiAs is api as a person.
func (s *srv) apiAs(p person, method, path string, body any) map[string]any {
	s.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.base+path, rd)
	if p.Account != "" {
		req.Header.Set("Authorization", "Bearer "+s.token(p))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil || resp.StatusCode != http.StatusOK {
		s.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	return out
}

func (s *srv) token(p person) string {
	s.t.Helper()
	b, _ := json.Marshal(map[string]string{"AccountId": p.Account, "UserId": p.UserID, "UserName": p.UserName})
	resp, err := http.Post(s.base+"/_local/token", "application/json", bytes.NewReader(b))
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Token string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Token == "" {
		s.t.Fatalf("/_local/token: %v", err)
	}
	return out.Token
}

// tab opens a new tab (its own sessionStorage) for one scenario. On
// failure the tab's screenshot goes to dist/browser-failures/<test>.png.
func tab(t *testing.T) context.Context {
	t.Helper()
	needBrowser(t)
	ctx, cancel := chromedp.NewContext(browserCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	// A JavaScript dialog (alert) would be injected script running: fail.
	if err := chromedp.Do(ctx); err != nil { // opens the tab
		t.Fatal(err)
	}
	if err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			t.Errorf("the page opened a JavaScript %s dialog: %q", e.Type, e.Message)
			go func() {
				_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
			}()
		}
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			screenshotOnFailure(t, ctx)
		}
		cancelTimeout()
		cancel()
	})
	return ctx
}

func screenshotOnFailure(t *testing.T, ctx context.Context) {
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(sctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("no failure screenshot: %v", err)
		return
	}
	dir := filepath.Join(repoRoot(t), "dist", "browser-failures")
	_ = os.MkdirAll(dir, 0o755)
	name := filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_")+".png")
	if err := os.WriteFile(name, png, 0o644); err == nil {
		t.Logf("failure screenshot: %s", name)
	}
}

func repoRoot(t *testing.T) string {
	d, _ := filepath.Abs(".")
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		parent := filepath.Dir(d)
		if parent == d {
			t.Fatal("no go.mod above the test")
		}
		d = parent
	}
}

// do runs steps in the tab, failing the test at the first that fails.
func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

// get runs an action that returns a value.
func get[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
