package oidc_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/sase-multiaccount/backend/shared/auth"
	"github.com/sase-multiaccount/backend/shared/local/localkey"
	"github.com/sase-multiaccount/backend/shared/local/oidc"
)

const (
	account  = "1000000000000003"
	secret   = "s3cret"
	verifier = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"
)

type fixture struct {
	t        *testing.T
	p        *oidc.Provider
	base     string
	redirect string
	now      time.Time
	signer   *localkey.Signer
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	signer, err := localkey.New()
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, signer: signer, now: time.Now()}
	mux := http.NewServeMux()
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	f.base = hs.URL
	f.redirect = hs.URL + "/"
	f.p = oidc.New(signer, oidc.Options{Issuer: hs.URL, ClientSecret: secret, Now: func() time.Time { return f.now },
		Picks: func(context.Context) []oidc.Pick {
			return []oidc.Pick{{AccountID: "1000000000000001", Label: "Owner"}, {AccountID: "1000000000000001", RAMUser: "bob", Label: "RAM user"}}
		}})
	f.p.Mount(mux)
	return f
}

func challenge(v string) string {
	sum := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func (f *fixture) authParams() url.Values {
	return url.Values{"response_type": {"code"}, "client_id": {oidc.DefaultClientID}, "redirect_uri": {f.redirect},
		"scope": {"openid aliuid profile"}, "state": {"st-1"}, "nonce": {"no-1"},
		"code_challenge": {challenge(verifier)}, "code_challenge_method": {"S256"}}
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// signIn posts the sign-in form with params and returns the response.
func (f *fixture) signIn(params url.Values, acct string) *http.Response {
	f.t.Helper()
	form := url.Values{}
	for k, v := range params {
		form[k] = v
	}
	form.Set("account", acct)
	resp, err := noRedirect.PostForm(f.base+oidc.AuthorizePath, form)
	if err != nil {
		f.t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// code signs in and returns the code from the redirect, checking state.
func (f *fixture) code() string {
	f.t.Helper()
	resp := f.signIn(f.authParams(), account)
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || err != nil || !strings.HasPrefix(loc.String(), f.redirect) {
		f.t.Fatalf("sign-in answered %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if loc.Query().Get("state") != "st-1" || loc.Query().Get("code") == "" {
		f.t.Fatalf("redirect %s: want the code and the same state", loc)
	}
	return loc.Query().Get("code")
}

func (f *fixture) token(form url.Values) (int, map[string]any) {
	f.t.Helper()
	resp, err := http.PostForm(f.base+oidc.TokenPath, form)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func (f *fixture) tokenForm(code string) url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {f.redirect},
		"client_id": {oidc.DefaultClientID}, "client_secret": {secret}, "code_verifier": {verifier}}
}

func TestSignInIssuesAnIDTokenTheFunctionsAccept(t *testing.T) {
	f := newFixture(t)
	resp, err := http.Get(f.base + oidc.AuthorizePath + "?" + f.authParams().Encode())
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`<label for="account">Account UID</label>`, `>Sign in</button>`, `value="1000000000000001"`,
		`<label for="ram_user">RAM user`, `value="1000000000000001/bob"`, oidc.RAMUserID("1000000000000001", "bob")} {
		if !strings.Contains(string(page), want) {
			t.Errorf("sign-in page lacks %s", want)
		}
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "script-src") {
		t.Errorf("sign-in page CSP %q", csp)
	}

	status, out := f.token(f.tokenForm(f.code()))
	if status != http.StatusOK {
		t.Fatalf("token: %d %v", status, out)
	}
	idToken, _ := out["id_token"].(string)
	v, err := auth.NewVerifier(context.Background(), f.p.VerifierConfig())
	if err != nil {
		t.Fatal(err)
	}
	caller, err := v.Verify(context.Background(), idToken)
	if err != nil || caller.AccountID != account {
		t.Fatalf("the functions' verifier: %+v, %v", caller, err)
	}
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(idToken, claims); err != nil {
		t.Fatal(err)
	}
	if claims["nonce"] != "no-1" || claims["aud"] != oidc.DefaultClientID || claims["iss"] != f.base || claims["aid"] != account ||
		claims["uid"] != account || caller.UserID != account {
		t.Errorf("ID token claims %v (the root identity: uid = aid)", claims)
	}
	if _, ok := claims["aliuid"]; ok {
		t.Error("aliuid is a scope, not a claim: the ID token must not carry it")
	}
	if sub, _ := claims["sub"].(string); sub == "" || strings.Contains(sub, account) {
		t.Errorf("sub %q is not opaque", sub)
	}

	// Discovery names this issuer and its endpoints.
	resp, err = http.Get(f.base + oidc.DiscoveryPath)
	if err != nil {
		t.Fatal(err)
	}
	var meta map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&meta)
	resp.Body.Close()
	if meta["issuer"] != f.base || meta["token_endpoint"] != f.base+oidc.TokenPath {
		t.Errorf("discovery %v", meta)
	}
}

// A RAM user signs in with the Account UID and a name: the UID derived from
// both is shown before signing in and is the ID token's uid; the name is
// its upn, login_name and name.
func TestRAMUserSignIn(t *testing.T) {
	f := newFixture(t)
	uid := oidc.RAMUserID(account, "alice")
	if uid == account || len(uid) != 16 || uid != oidc.RAMUserID(account, "alice") || uid == oidc.RAMUserID("1000000000000001", "alice") {
		t.Fatalf("RAMUserID = %q: want 16 digits, stable, distinct per account", uid)
	}
	form := f.authParams()
	form.Set("account", account)
	form.Set("ram_user", "alice")
	form.Set("preview", "1")
	resp, err := noRedirect.PostForm(f.base+oidc.AuthorizePath, form)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "UID "+uid) || !strings.Contains(string(page), `value="alice"`) {
		t.Fatalf("Show UID: %d, page without the UID %s:\n%s", resp.StatusCode, uid, page)
	}
	form.Del("preview")
	resp, err = noRedirect.PostForm(f.base+oidc.AuthorizePath, form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	_, out := f.token(f.tokenForm(loc.Query().Get("code")))
	v, err := auth.NewVerifier(context.Background(), f.p.VerifierConfig())
	if err != nil {
		t.Fatal(err)
	}
	caller, err := v.Verify(context.Background(), out["id_token"].(string))
	if err != nil || caller != (auth.Caller{AccountID: account, UserID: uid, UserName: "alice", Principal: caller.Principal}) {
		t.Fatalf("RAM user's ID token: %+v, %v", caller, err)
	}
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(out["id_token"].(string), claims); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"upn", "login_name", "name"} {
		if claims[c] != "alice" {
			t.Errorf("claim %s = %v, want alice", c, claims[c])
		}
	}
}

func TestTokenEndpointRefusesTamperedExchanges(t *testing.T) {
	f := newFixture(t)
	cases := map[string]struct {
		change func(url.Values)
		status int
		code   string
	}{
		"wrong PKCE verifier": {func(v url.Values) { v.Set("code_verifier", strings.Repeat("x", 43)) }, 400, "invalid_grant"},
		"short PKCE verifier": {func(v url.Values) { v.Set("code_verifier", "short") }, 400, "invalid_grant"},
		"no PKCE verifier":    {func(v url.Values) { v.Del("code_verifier") }, 400, "invalid_grant"},
		"other redirect_uri":  {func(v url.Values) { v.Set("redirect_uri", f.redirect+"x") }, 400, "invalid_grant"},
		"wrong client secret": {func(v url.Values) { v.Set("client_secret", "guess") }, 401, "invalid_client"},
		"no client secret":    {func(v url.Values) { v.Del("client_secret") }, 401, "invalid_client"},
		"other client":        {func(v url.Values) { v.Set("client_id", "other") }, 401, "invalid_client"},
		"unknown code":        {func(v url.Values) { v.Set("code", "made-up") }, 400, "invalid_grant"},
		"other grant type":    {func(v url.Values) { v.Set("grant_type", "password") }, 400, "unsupported_grant_type"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			form := f.tokenForm(f.code())
			c.change(form)
			status, out := f.token(form)
			if status != c.status || out["error"] != c.code || out["id_token"] != nil {
				t.Errorf("answer %d %v, want %d %s and no token", status, out, c.status, c.code)
			}
		})
	}

	t.Run("a code works once", func(t *testing.T) {
		code := f.code()
		if status, out := f.token(f.tokenForm(code)); status != 200 {
			t.Fatalf("first use: %d %v", status, out)
		}
		if status, out := f.token(f.tokenForm(code)); status != 400 || out["error"] != "invalid_grant" {
			t.Errorf("replayed code: %d %v", status, out)
		}
	})
	t.Run("a code expires", func(t *testing.T) {
		code := f.code()
		f.now = f.now.Add(2 * time.Minute)
		defer func() { f.now = time.Now() }()
		if status, out := f.token(f.tokenForm(code)); status != 400 || out["error"] != "invalid_grant" {
			t.Errorf("expired code: %d %v", status, out)
		}
	})
	t.Run("a failed verifier burns the code", func(t *testing.T) {
		code := f.code()
		bad := f.tokenForm(code)
		bad.Set("code_verifier", strings.Repeat("y", 43))
		f.token(bad)
		if status, _ := f.token(f.tokenForm(code)); status != 400 {
			t.Errorf("the code still worked after a wrong verifier: %d", status)
		}
	})
}

func TestAuthorizeRefusesBadRequests(t *testing.T) {
	f := newFixture(t)
	// Errors about the client or the redirect URI never redirect.
	for name, change := range map[string]func(url.Values){
		"unknown client":       func(v url.Values) { v.Set("client_id", "evil") },
		"redirect off machine": func(v url.Values) { v.Set("redirect_uri", "https://evil.example/") },
		"redirect javascript":  func(v url.Values) { v.Set("redirect_uri", "javascript:alert(1)") },
	} {
		p := f.authParams()
		change(p)
		if resp := f.signIn(p, account); resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
			t.Errorf("%s: %d, Location %q; want 400 and no redirect", name, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	// The others go back with an error and the state.
	for name, c := range map[string]struct {
		change func(url.Values)
		code   string
	}{
		"no PKCE":         {func(v url.Values) { v.Del("code_challenge") }, "invalid_request"},
		"plain PKCE":      {func(v url.Values) { v.Set("code_challenge_method", "plain") }, "invalid_request"},
		"no nonce":        {func(v url.Values) { v.Del("nonce") }, "invalid_request"},
		"no openid scope": {func(v url.Values) { v.Set("scope", "profile") }, "invalid_scope"},
		"implicit flow":   {func(v url.Values) { v.Set("response_type", "id_token") }, "unsupported_response_type"},
	} {
		p := f.authParams()
		c.change(p)
		resp := f.signIn(p, account)
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusSeeOther || loc == nil || loc.Query().Get("error") != c.code || loc.Query().Get("code") != "" ||
			loc.Query().Get("state") != "st-1" {
			t.Errorf("%s: %d %q, want a redirect with error=%s and the state", name, resp.StatusCode, resp.Header.Get("Location"), c.code)
		}
	}
	// A malformed Account UID shows the form again, with the error.
	if resp := f.signIn(f.authParams(), "12ab"); resp.StatusCode != http.StatusOK || resp.Header.Get("Location") != "" {
		t.Errorf("malformed UID: %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestByIssuerRoutesEachIssuerToItsVerifier(t *testing.T) {
	f := newFixture(t)
	ov, err := auth.NewVerifier(context.Background(), f.p.VerifierConfig())
	if err != nil {
		t.Fatal(err)
	}
	local, err := localkey.New()
	if err != nil {
		t.Fatal(err)
	}
	lv, err := auth.NewVerifier(context.Background(), local.VerifierConfig())
	if err != nil {
		t.Fatal(err)
	}
	v := oidc.ByIssuer{Verifiers: map[string]auth.Verifier{f.base: ov}, Default: lv}
	_, out := f.token(f.tokenForm(f.code()))
	if c, err := v.Verify(context.Background(), out["id_token"].(string)); err != nil || c.AccountID != account {
		t.Errorf("console ID token: %+v %v", c, err)
	}
	tok, _ := local.Mint(account, "", time.Hour)
	if c, err := v.Verify(context.Background(), tok); err != nil || c.AccountID != account {
		t.Errorf("/_local/token token: %+v %v", c, err)
	}
	// A token that claims the console's issuer but is signed by another key.
	forged, _ := local.MintClaims(jwt.MapClaims{"iss": f.base, "aud": oidc.DefaultClientID, "aid": account,
		"iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()})
	if _, err := v.Verify(context.Background(), forged); err == nil {
		t.Error("a token with the console's issuer signed by another key was accepted")
	}
}
