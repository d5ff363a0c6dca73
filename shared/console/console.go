// Package console is the console function (DESIGN.md §9): the
// Multi-account Management page — HTML, CSS and plain ES modules embedded in
// the binary, no build step — its runtime configuration, and the server side
// of its OpenID Connect sign-in (discovery and the code exchange, which
// needs the OAuth client secret). The browser code is the same locally and
// in production; only this package's configuration differs.
package console

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/sase-multiaccount/backend/shared/httpapi"
)

//go:embed web
var webFS embed.FS

// Options are what tests and the local server may override.
type Options struct {
	HTTPClient *http.Client // for discovery and the code exchange; default: 10 s timeout
	Now        func() time.Time
}

// Handler serves the console. It is an http.Handler; FCHandler adapts it
// to an FC3 HTTP trigger.
type Handler struct {
	cfg    Config
	prov   *provider
	assets map[string]asset // by URL path
	csp    string
}

type asset struct {
	body        []byte
	contentType string
	etag        string
}

// New builds the console for cfg.
func New(cfg Config, opts Options) (*Handler, error) {
	if cfg.Issuer == "" || cfg.ClientID == "" {
		return nil, errors.New("console: OIDC_ISSUER and OIDC_CLIENT_ID are required")
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	h := &Handler{cfg: cfg, assets: map[string]asset{},
		prov: &provider{issuer: cfg.Issuer, clientID: cfg.ClientID, secret: cfg.ClientSecret, http: opts.HTTPClient, now: opts.Now}}
	err := fs.WalkDir(webFS, "web", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := webFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		urlPath := strings.TrimPrefix(p, "web")
		h.assets[urlPath] = asset{body: b, contentType: contentType(p), etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("console: reading embedded page: %w", err)
	}
	h.assets["/"] = h.assets["/index.html"]
	h.csp = contentSecurityPolicy(cfg.Functions)
	return h, nil
}

func contentType(p string) string {
	switch path.Ext(p) {
	case ".html":
		return "text/html; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	default:
		return "text/plain; charset=utf-8"
	}
}

// contentSecurityPolicy allows scripts and styles from the console's origin
// only (no inline script, no eval), API calls to the console's origin and
// the functions' origins, and no framing. The provider is only ever reached
// by top-level navigation, which connect-src does not govern.
func contentSecurityPolicy(functions map[string]string) string {
	connect := []string{"'self'"}
	for _, u := range functions {
		if p, err := url.Parse(u); err == nil && p.Host != "" {
			if o := p.Scheme + "://" + p.Host; !slices.Contains(connect, o) {
				connect = append(connect, o)
			}
		}
	}
	slices.Sort(connect[1:])
	return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"connect-src " + strings.Join(connect, " ") + "; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
}

type requestIDKey struct{}

// WithRequestID makes id the request ID of requests served under ctx (FC's
// request ID, set by FCHandler).
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id, _ := r.Context().Value(requestIDKey{}).(string)
	if id == "" {
		id = httpapi.NewRequestID()
	}
	hd := w.Header()
	hd.Set("X-Request-Id", id)
	hd.Set("Content-Security-Policy", h.csp)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")

	switch p := r.URL.Path; {
	case p == "/config.json":
		if h.method(w, r, id, http.MethodGet) {
			h.serveConfig(w, r, id)
		}
	case p == "/oauth/token":
		if h.method(w, r, id, http.MethodPost) {
			h.serveToken(w, r, id)
		}
	default:
		a, ok := h.assets[p]
		if !ok {
			writeError(w, id, http.StatusNotFound, "NotFound", "Nothing at "+clip(p)+"; the console is at /.")
			return
		}
		if h.method(w, r, id, http.MethodGet) {
			serveAsset(w, r, a)
		}
	}
}

func (h *Handler) method(w http.ResponseWriter, r *http.Request, id, want string) bool {
	if r.Method == want || (want == http.MethodGet && r.Method == http.MethodHead) {
		return true
	}
	w.Header().Set("Allow", want)
	writeError(w, id, http.StatusMethodNotAllowed, "MethodNotAllowed", fmt.Sprintf("%s accepts %s, not %s.", clip(r.URL.Path), want, clip(r.Method)))
	return false
}

func serveAsset(w http.ResponseWriter, r *http.Request, a asset) {
	// No build step means no content-hashed file names: revalidate every
	// time (a 304 costs one small round trip) so a deploy is seen at once.
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("ETag", a.etag)
	if r.Header.Get("If-None-Match") == a.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", a.contentType)
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(a.body)
	}
}

// PublicConfig is GET /config.json: what the page needs to sign in and to
// find the functions. It holds nothing secret.
type PublicConfig struct {
	Issuer                string
	ClientId              string
	Scopes                string
	RedirectUri           string `json:",omitempty"` // empty: the page's own URL
	AccountClaim          string
	AuthorizationEndpoint string
	EndSessionEndpoint    string `json:",omitempty"`
	TokenPath             string // the console's own code-exchange endpoint
	Functions             map[string]string
}

func (h *Handler) serveConfig(w http.ResponseWriter, r *http.Request, id string) {
	m, err := h.prov.metadata(r.Context())
	if err != nil {
		writeError(w, id, http.StatusServiceUnavailable, "ServiceUnavailable",
			"The sign-in provider's discovery document could not be read; try again in a moment. ("+clip(err.Error())+")")
		return
	}
	writeJSON(w, id, http.StatusOK, PublicConfig{Issuer: h.cfg.Issuer, ClientId: h.cfg.ClientID, Scopes: h.cfg.Scopes,
		RedirectUri: h.cfg.RedirectURI, AccountClaim: h.cfg.AccountClaim, AuthorizationEndpoint: m.AuthorizationEndpoint,
		EndSessionEndpoint: m.EndSessionEndpoint, TokenPath: "oauth/token", Functions: h.cfg.Functions})
}

// TokenRequest is the body of POST /oauth/token: what the page got back
// from the provider, and the PKCE verifier only it knows.
type TokenRequest struct {
	Code         string
	CodeVerifier string
	RedirectUri  string
}

func (h *Handler) serveToken(w http.ResponseWriter, r *http.Request, id string) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 16<<10+1))
	if err != nil || len(body) > 16<<10 {
		writeError(w, id, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "The token request is larger than 16 KiB.")
		return
	}
	var in TokenRequest
	if err := httpapi.DecodeJSON(body, &in); err != nil {
		status, e := httpapi.Classify(err)
		writeError(w, id, status, string(e.Code), e.Message)
		return
	}
	switch {
	case in.Code == "" || len(in.Code) > 2048:
		writeError(w, id, http.StatusBadRequest, "InvalidParameter.Code", "Code must be the authorization code the provider returned.")
		return
	case len(in.CodeVerifier) < 43 || len(in.CodeVerifier) > 128:
		writeError(w, id, http.StatusBadRequest, "InvalidParameter.CodeVerifier", "CodeVerifier must be 43 to 128 characters (RFC 7636).")
		return
	case in.RedirectUri == "" || (h.cfg.RedirectURI != "" && in.RedirectUri != h.cfg.RedirectURI):
		writeError(w, id, http.StatusBadRequest, "InvalidParameter.RedirectUri", "RedirectUri must be the console's registered redirect URI.")
		return
	}
	tok, exp, err := h.prov.exchange(r.Context(), in.Code, in.CodeVerifier, in.RedirectUri)
	var te *tokenError
	switch {
	case errors.As(err, &te):
		status := http.StatusBadRequest
		if te.Status == http.StatusUnauthorized {
			status = http.StatusUnauthorized
		}
		msg := te.Description
		if msg == "" {
			msg = "The sign-in provider refused the authorization code; sign in again."
		}
		writeError(w, id, status, "OAuth."+clip(te.Code), clip(msg))
	case err != nil:
		writeError(w, id, http.StatusServiceUnavailable, "ServiceUnavailable", "The sign-in provider could not be reached; try again. ("+clip(err.Error())+")")
	default:
		writeJSON(w, id, http.StatusOK, struct {
			IdToken   string
			ExpiresIn int
		}{tok, exp})
	}
}

func writeJSON(w http.ResponseWriter, id string, status int, v any) {
	b, err := httpapi.Envelope(id, v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"Code":"InternalError","Message":"encoding failed"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func writeError(w http.ResponseWriter, id string, status int, code, msg string) {
	writeJSON(w, id, status, struct{ Code, Message string }{code, msg})
}

// clip bounds text that came from outside before it is echoed.
func clip(s string) string {
	if len(s) > 300 {
		return strings.ToValidUTF8(s[:300], "") + "…"
	}
	return s
}
