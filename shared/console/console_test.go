package console_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aliyun/fc-runtime-go-sdk/events"

	"github.com/sase-multiaccount/backend/shared/config"
	"github.com/sase-multiaccount/backend/shared/console"
	"github.com/sase-multiaccount/backend/shared/local/localkey"
	"github.com/sase-multiaccount/backend/shared/local/oidc"
	"github.com/sase-multiaccount/backend/shared/testkit/doctest"
)

const verifier = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"

// stack is a local OIDC provider and a console configured for it, as the
// local server wires them (and as production wires Alibaba Cloud OAuth).
type stack struct {
	provider *httptest.Server
	console  *httptest.Server
}

func newStack(t *testing.T, consoleSecret string) stack {
	t.Helper()
	signer, err := localkey.New()
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	ps := httptest.NewServer(mux)
	t.Cleanup(ps.Close)
	oidc.New(signer, oidc.Options{Issuer: ps.URL, ClientSecret: "right"}).Mount(mux)
	cfg, err := console.Load(env(map[string]string{"OIDC_ISSUER": ps.URL, "OIDC_CLIENT_ID": oidc.DefaultClientID,
		"OIDC_CLIENT_SECRET": consoleSecret}))
	if err != nil {
		t.Fatal(err)
	}
	h, err := console.New(cfg, console.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cs := httptest.NewServer(h)
	t.Cleanup(cs.Close)
	return stack{provider: ps, console: cs}
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// authorize signs in at the provider like the browser does and returns the code.
func (s stack) authorize(t *testing.T, redirect string) string {
	t.Helper()
	sum := sha256.Sum256([]byte(verifier))
	form := url.Values{"response_type": {"code"}, "client_id": {oidc.DefaultClientID}, "redirect_uri": {redirect},
		"scope": {console.DefaultScopes}, "state": {"s"}, "nonce": {"n"}, "account": {"1000000000000001"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.PostForm(s.provider.URL+oidc.AuthorizePath, form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if loc == nil || loc.Query().Get("code") == "" {
		t.Fatalf("authorize: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	return loc.Query().Get("code")
}

func postJSON(t *testing.T, u string, body any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(u, "application/json", strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func TestCodeExchangeAddsTheClientSecret(t *testing.T) {
	s := newStack(t, "right")
	redirect := s.console.URL + "/"
	status, out := postJSON(t, s.console.URL+"/oauth/token", console.TokenRequest{Code: s.authorize(t, redirect), CodeVerifier: verifier, RedirectUri: redirect})
	if status != 200 || out["IdToken"] == nil || out["RequestId"] == nil {
		t.Fatalf("exchange: %d %v", status, out)
	}
	if _, leaked := out["AccessToken"]; leaked {
		t.Error("the access token reached the browser")
	}
	// A tampered PKCE verifier is refused by the provider, and the console says so.
	status, out = postJSON(t, s.console.URL+"/oauth/token", console.TokenRequest{Code: s.authorize(t, redirect),
		CodeVerifier: strings.Repeat("z", 43), RedirectUri: redirect})
	if status != 400 || out["Code"] != "OAuth.invalid_grant" {
		t.Errorf("tampered verifier: %d %v", status, out)
	}
	// Malformed requests never reach the provider.
	for _, in := range []any{console.TokenRequest{CodeVerifier: verifier, RedirectUri: redirect},
		console.TokenRequest{Code: "c", CodeVerifier: "short", RedirectUri: redirect}, map[string]string{"code": "c"}} {
		if status, out := postJSON(t, s.console.URL+"/oauth/token", in); status != 400 {
			t.Errorf("%v: %d %v", in, status, out)
		}
	}
}

func TestCodeExchangeWithTheWrongSecret(t *testing.T) {
	s := newStack(t, "wrong")
	redirect := s.console.URL + "/"
	status, out := postJSON(t, s.console.URL+"/oauth/token", console.TokenRequest{Code: s.authorize(t, redirect), CodeVerifier: verifier, RedirectUri: redirect})
	if status != 401 || out["Code"] != "OAuth.invalid_client" {
		t.Errorf("wrong secret: %d %v", status, out)
	}
}

func TestConfigAndHeaders(t *testing.T) {
	s := newStack(t, "right")
	resp, err := http.Get(s.console.URL + "/config.json")
	if err != nil {
		t.Fatal(err)
	}
	var cfg console.PublicConfig
	_ = json.NewDecoder(resp.Body).Decode(&cfg)
	resp.Body.Close()
	if cfg.Issuer != s.provider.URL || cfg.ClientId != oidc.DefaultClientID || cfg.AuthorizationEndpoint != s.provider.URL+oidc.AuthorizePath ||
		cfg.Functions["list-members"] != "/list-members" || cfg.Scopes != "openid aliuid profile" || cfg.AccountClaim != "aid" {
		t.Errorf("config.json = %+v", cfg)
	}
	raw, _ := json.Marshal(cfg)
	if strings.Contains(string(raw), "right") {
		t.Error("config.json carries the client secret")
	}
	for _, p := range []string{"/", "/config.json", "/assets/js/main.js", "/nope"} {
		resp, err := http.Get(s.console.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		csp := resp.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") ||
			strings.Contains(csp, "unsafe") || resp.Header.Get("X-Content-Type-Options") != "nosniff" ||
			resp.Header.Get("Referrer-Policy") != "no-referrer" || resp.Header.Get("X-Request-Id") == "" {
			t.Errorf("%s: headers %v", p, resp.Header)
		}
	}
	// Methods: GET for the page, POST only for the exchange.
	if resp, _ := http.Post(s.console.URL+"/", "text/plain", nil); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /: %d", resp.StatusCode)
	}
	if resp, _ := http.Get(s.console.URL + "/oauth/token"); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /oauth/token: %d", resp.StatusCode)
	}
}

func TestDiscoveryOfAnotherIssuerIsRefused(t *testing.T) {
	// A discovery document that names another issuer (OIDC Discovery §4.3).
	ps := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": "https://evil.example", "authorization_endpoint": "https://evil.example/a",
			"token_endpoint": "https://evil.example/t"})
	}))
	defer ps.Close()
	cfg, err := console.Load(env(map[string]string{"OIDC_ISSUER": ps.URL, "OIDC_CLIENT_ID": "c"}))
	if err != nil {
		t.Fatal(err)
	}
	h, _ := console.New(cfg, console.Options{})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/config.json", nil))
	if rec.Code != http.StatusServiceUnavailable || strings.Contains(rec.Body.String(), "evil.example/a") {
		t.Errorf("config.json with a foreign discovery document: %d %s", rec.Code, rec.Body)
	}
}

func TestLoad(t *testing.T) {
	fc := map[string]string{"FC_RUNTIME_API": "x", "OIDC_ISSUER": "https://oauth.aliyun.com", "OIDC_CLIENT_ID": "4071151845732613353"}
	c, err := console.Load(env(fc))
	if err != nil || c.Scopes != "openid aliuid profile" || c.Functions["add-members"] != "/add-members" {
		t.Fatalf("%+v %v", c, err)
	}
	for name, change := range map[string][2]string{
		"OIDC_ISSUER is required":    {"OIDC_ISSUER", ""},
		"OIDC_CLIENT_ID is required": {"OIDC_CLIENT_ID", ""},
		"must use https":             {"OIDC_ISSUER", "http://oauth.aliyun.com"},
		"must include openid":        {"OIDC_SCOPES", "profile"},
		"CONSOLE_FUNCTION_URLS":      {"CONSOLE_FUNCTION_URLS", `{"no-such-function":"https://x.example"}`},
		"CONSOLE_API_BASE":           {"CONSOLE_API_BASE", "http://api.example.com"},
	} {
		m := map[string]string{}
		for k, v := range fc {
			m[k] = v
		}
		m[change[0]] = change[1]
		if _, err := console.Load(env(m)); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%q: %v, want an error naming %q", change[0], change[1], err, name)
		}
	}
	fc["CONSOLE_API_BASE"] = "https://api.example.com/"
	fc["CONSOLE_FUNCTION_URLS"] = `{"list-members":"https://lm.fcapp.run"}`
	c, err = console.Load(env(fc))
	if err != nil || c.Functions["add-members"] != "https://api.example.com/add-members" || c.Functions["list-members"] != "https://lm.fcapp.run" {
		t.Errorf("function URLs %v %v", c.Functions, err)
	}
	// The CSP lets the page call those origins, and no other.
	h, _ := console.New(c, console.Options{})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "connect-src 'self' https://api.example.com https://lm.fcapp.run;") {
		t.Errorf("CSP %q", csp)
	}
}

func TestFCHandlerServesTheTriggerEvent(t *testing.T) {
	cfg, _ := console.Load(env(map[string]string{"OIDC_ISSUER": "https://oauth.aliyun.com", "OIDC_CLIENT_ID": "c"}))
	h, _ := console.New(cfg, console.Options{})
	method, path := "GET", "/assets/css/console.css"
	e := events.HTTPTriggerEvent{RawPath: &path}
	e.TriggerContext.Http.Method = &method
	resp, err := console.FCHandler(h)(context.Background(), e)
	if err != nil || resp.StatusCode != 200 || !strings.Contains(resp.Body, ":root") || resp.Headers["Content-Type"] != "text/css; charset=utf-8" ||
		!strings.Contains(resp.Headers["Content-Security-Policy"], "frame-ancestors 'none'") {
		t.Errorf("FC response %d %v %.40q %v", resp.StatusCode, resp.Headers, resp.Body, err)
	}
}

// The page's own code: text only (no HTML sinks, no eval), no other host,
// strings in one module, and a first load under 200 KB.
func TestPageSourceRules(t *testing.T) {
	sinks := regexp.MustCompile(`innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|setTimeout\(['"]`)
	hosts := regexp.MustCompile(`https?://`)
	total := 0
	err := filepath.WalkDir("web", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		total += len(b)
		src := string(b)
		if strings.HasSuffix(p, ".js") {
			if m := sinks.FindString(src); m != "" {
				t.Errorf("%s uses %s: render API text with textContent", p, m)
			}
		}
		// The SVG namespace is a name, not a request.
		if m := hosts.FindString(strings.ReplaceAll(src, "http://www.w3.org/2000/svg", "")); m != "" {
			t.Errorf("%s names a URL (%s…): the page loads nothing from elsewhere", p, m)
		}
		if strings.HasSuffix(p, ".html") && strings.Contains(src, "<script>") {
			t.Errorf("%s has an inline script", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if total > 200_000 {
		t.Errorf("the page's files weigh %d bytes, over the 200 KB first-load budget", total)
	}
	t.Logf("page files: %d bytes", total)
}

// README's console configuration table is rendered from Vars.
func TestREADME(t *testing.T) {
	doctest.Section(t, "../../README.md", "shared/console.Vars", config.Markdown(console.Vars))
}
