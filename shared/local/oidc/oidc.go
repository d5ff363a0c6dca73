// Package oidc is the OpenID Connect provider of `make run`: the stand-in
// for Alibaba Cloud OAuth that speaks the same protocol — discovery, an
// authorization endpoint with authorization code + PKCE (S256 only), a token
// endpoint that checks the client secret, the code's binding and the PKCE
// verifier, and a JWKS. Its ID tokens are signed by the local key
// (shared/local/localkey), so the functions' own JWT verifier checks them.
// The sign-in page asks for an `Account UID` and, optionally, a `RAM user`
// name (with quick picks for the owner, a RAM user of the owner and the
// simulated directory's accounts): locally anyone may be anyone. Its ID
// tokens carry the claims of Alibaba Cloud OAuth's (docs/API.md "People"):
// aid, uid, upn, login_name, name and an opaque sub. Never built into a
// function.
package oidc

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/sase-multiaccount/backend/shared/auth"
	"github.com/sase-multiaccount/backend/shared/local/localkey"
	"github.com/sase-multiaccount/backend/shared/role"
)

// Paths of the provider's endpoints on the local server.
const (
	DiscoveryPath = "/.well-known/openid-configuration"
	AuthorizePath = "/oidc/authorize"
	TokenPath     = "/oidc/token"
	JWKSPath      = "/oidc/jwks"
	stylePath     = "/oidc/style.css"
)

// Defaults of the local OAuth application.
const (
	DefaultClientID = "sase-console-local"
	DefaultTTL      = time.Hour
	codeTTL         = time.Minute
)

// Pick is one quick-pick button of the sign-in page: an account's root
// identity, or one of its RAM users when RAMUser is set.
type Pick struct{ AccountID, RAMUser, Label string }

// UserID is the UID the pick signs in with.
func (p Pick) UserID() string { return RAMUserID(p.AccountID, p.RAMUser) }

// Value is the pick's form value: "<account>" or "<account>/<RAM user>".
func (p Pick) Value() string {
	if p.RAMUser == "" {
		return p.AccountID
	}
	return p.AccountID + "/" + p.RAMUser
}

// RAMUserID is the UID of the RAM user named name in account (the account
// itself when name is empty): 16 digits derived from both, so that a name
// signs in as the same person every time, and the same name in two accounts
// is two people.
func RAMUserID(account, name string) string {
	if name == "" {
		return account
	}
	sum := sha256.Sum256([]byte("sase-local-ram-user|" + account + "|" + name))
	return fmt.Sprintf("2%015d", binary.BigEndian.Uint64(sum[:8])%1_000_000_000_000_000)
}

// Options configure the provider.
type Options struct {
	Issuer       string // e.g. http://127.0.0.1:9000: the base URL the endpoints are served on
	ClientID     string // default DefaultClientID
	ClientSecret string // when set, the token endpoint requires it (like Alibaba Cloud web applications)
	AccountClaim string // claim that carries the account UID; default auth.DefaultAccountClaim
	UserClaim    string // claim that carries the person's UID; default auth.DefaultUserClaim; auth.NoUserClaim: the verifier ignores it
	TTL          time.Duration
	// Picks lists the quick picks of the sign-in page (the owner and the
	// simulated directory's accounts).
	Picks func(ctx context.Context) []Pick
	Now   func() time.Time
}

// Provider is the local OpenID Connect provider.
type Provider struct {
	opts   Options
	signer *localkey.Signer

	mu    sync.Mutex
	codes map[string]grant
}

// grant is what an authorization code stands for, until redeemed once.
type grant struct {
	person                                  role.Person
	clientID, redirectURI, challenge, nonce string
	expires                                 time.Time
}

// New returns the provider; its tokens are signed by signer.
func New(signer *localkey.Signer, opts Options) *Provider {
	opts.Issuer = strings.TrimSuffix(opts.Issuer, "/")
	if opts.ClientID == "" {
		opts.ClientID = DefaultClientID
	}
	if opts.AccountClaim == "" {
		opts.AccountClaim = auth.DefaultAccountClaim
	}
	if opts.UserClaim == "" {
		opts.UserClaim = auth.DefaultUserClaim
	}
	if opts.TTL <= 0 {
		opts.TTL = DefaultTTL
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Picks == nil {
		opts.Picks = func(context.Context) []Pick { return nil }
	}
	return &Provider{opts: opts, signer: signer, codes: map[string]grant{}}
}

// Issuer is the provider's issuer identifier.
func (p *Provider) Issuer() string { return p.opts.Issuer }

// ClientID is the local OAuth application's ID (the ID tokens' aud).
func (p *Provider) ClientID() string { return p.opts.ClientID }

// VerifierConfig is the configuration under which the functions accept
// this provider's ID tokens: JWT_ISSUER, JWT_AUDIENCE, JWT_ACCOUNT_CLAIM,
// JWT_USER_CLAIM and the JWKS, as an operator would set them for Alibaba
// Cloud OAuth.
func (p *Provider) VerifierConfig() auth.Config {
	return auth.Config{Issuer: p.opts.Issuer, Audience: p.opts.ClientID, AccountClaim: p.opts.AccountClaim,
		UserClaim: p.opts.UserClaim, JWKSJSON: p.signer.JWKS()}
}

// userClaim is the claim the ID tokens carry the person's UID in (with
// auth.NoUserClaim configured, the default one: the verifier ignores it).
func (p *Provider) userClaim() string {
	if p.opts.UserClaim == auth.NoUserClaim {
		return auth.DefaultUserClaim
	}
	return p.opts.UserClaim
}

// Mount serves the provider's endpoints on mux.
func (p *Provider) Mount(mux *http.ServeMux) {
	mux.HandleFunc(DiscoveryPath, p.discovery)
	mux.HandleFunc(AuthorizePath, p.authorize)
	mux.HandleFunc(TokenPath, p.token)
	mux.HandleFunc(JWKSPath, p.jwks)
	mux.HandleFunc(stylePath, serveStyle)
}

func (p *Provider) discovery(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                p.opts.Issuer,
		"authorization_endpoint":                p.opts.Issuer + AuthorizePath,
		"token_endpoint":                        p.opts.Issuer + TokenPath,
		"jwks_uri":                              p.opts.Issuer + JWKSPath,
		"response_types_supported":              []string{"code"},
		"grant_types_supported":                 []string{"authorization_code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{p.signer.Alg()},
		"scopes_supported":                      []string{"openid", "aliuid", "profile"},
		"code_challenge_methods_supported":      []string{"S256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "client_secret_basic", "none"},
		"claims_supported": []string{"iss", "aud", "sub", "exp", "iat", "auth_time", "nonce", p.opts.AccountClaim, p.userClaim(),
			"upn", "login_name", "name"},
	})
}

func (p *Provider) jwks(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(p.signer.JWKS())
}

// ---- authorization codes ----

var challengeRE = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

func (p *Provider) issueCode(g grant) string {
	code := rand.Text()
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.opts.Now()
	for c, old := range p.codes { // drop expired codes: the map stays small
		if now.After(old.expires) {
			delete(p.codes, c)
		}
	}
	g.expires = now.Add(codeTTL)
	p.codes[code] = g
	return code
}

// redeem returns the grant of code and forgets it: a code works once.
func (p *Provider) redeem(code string) (grant, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	g, ok := p.codes[code]
	delete(p.codes, code)
	if !ok || p.opts.Now().After(g.expires) {
		return grant{}, false
	}
	return g, true
}

// ---- token endpoint ----

func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		oauthError(w, http.StatusMethodNotAllowed, "invalid_request", "The token endpoint accepts POST.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "The body must be application/x-www-form-urlencoded.")
		return
	}
	f := r.PostForm
	clientID, secret, basic := r.BasicAuth()
	if basic {
		clientID, _ = url.QueryUnescape(clientID)
		secret, _ = url.QueryUnescape(secret)
	} else {
		clientID, secret = f.Get("client_id"), f.Get("client_secret")
	}
	if clientID != p.opts.ClientID {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "Unknown client_id.")
		return
	}
	if p.opts.ClientSecret != "" && subtle.ConstantTimeCompare([]byte(secret), []byte(p.opts.ClientSecret)) != 1 {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "The client secret is missing or wrong.")
		return
	}
	if f.Get("grant_type") != "authorization_code" {
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "Only authorization_code is supported.")
		return
	}
	g, ok := p.redeem(f.Get("code"))
	switch {
	case !ok:
		oauthError(w, http.StatusBadRequest, "invalid_grant", "The code is unknown, expired or already used.")
		return
	case g.clientID != clientID || g.redirectURI != f.Get("redirect_uri"):
		oauthError(w, http.StatusBadRequest, "invalid_grant", "The code was issued to another client or redirect_uri.")
		return
	case !verifierMatches(f.Get("code_verifier"), g.challenge):
		oauthError(w, http.StatusBadRequest, "invalid_grant", "PKCE verification failed: code_verifier does not match code_challenge.")
		return
	}
	claims := p.idClaims(g)
	idToken, err := p.signer.MintClaims(claims)
	if err != nil {
		oauthError(w, http.StatusInternalServerError, "server_error", "Could not sign the ID token.")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": rand.Text(), // opaque; the console uses the ID token only
		"token_type":   "Bearer",
		"expires_in":   int(p.opts.TTL.Seconds()),
		"id_token":     idToken,
	})
}

// idClaims are the claims of the ID token of g: those of Alibaba Cloud
// OAuth with the scopes openid, aliuid and profile.
func (p *Provider) idClaims(g grant) jwt.MapClaims {
	now := p.opts.Now()
	name := cmp.Or(g.person.UserName, g.person.AccountID)
	return jwt.MapClaims{
		"iss":               p.opts.Issuer,
		"aud":               p.opts.ClientID,
		"sub":               localkey.Subject(g.person),
		p.opts.AccountClaim: g.person.AccountID,
		p.userClaim():       g.person.UserID,
		"upn":               name,
		"login_name":        name,
		"name":              name,
		"nonce":             g.nonce,
		"iat":               jwt.NewNumericDate(now),
		"auth_time":         jwt.NewNumericDate(now),
		"exp":               jwt.NewNumericDate(now.Add(p.opts.TTL)),
	}
}

// verifierMatches is RFC 7636 §4.6 for S256.
func verifierMatches(verifier, challenge string) bool {
	if len(verifier) < 43 || len(verifier) > 128 {
		return false
	}
	sum := sha256.Sum256([]byte(verifier))
	got := base64.RawURLEncoding.EncodeToString(sum[:])
	return subtle.ConstantTimeCompare([]byte(got), []byte(challenge)) == 1
}

// loopbackRedirect accepts the console's redirect URIs of `make run`: http
// or https on a loopback host, no fragment. Anything else could leak a code
// off this machine.
func loopbackRedirect(s string) (*url.URL, bool) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Fragment != "" || u.User != nil {
		return nil, false
	}
	return u, slices.Contains([]string{"127.0.0.1", "localhost", "::1"}, u.Hostname())
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}
