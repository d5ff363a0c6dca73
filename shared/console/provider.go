package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Metadata is the part of the provider's OpenID Connect discovery document
// the console uses.
type Metadata struct {
	Issuer                string   `json:"issuer"`
	AuthorizationEndpoint string   `json:"authorization_endpoint"`
	TokenEndpoint         string   `json:"token_endpoint"`
	EndSessionEndpoint    string   `json:"end_session_endpoint,omitempty"`
	TokenAuthMethods      []string `json:"token_endpoint_auth_methods_supported,omitempty"`
}

// provider talks to the OpenID Connect provider from the server: discovery
// (so the browser needs no CORS access to the provider) and the code
// exchange (so the client secret stays here).
type provider struct {
	issuer, clientID, secret string
	http                     *http.Client
	now                      func() time.Time

	mu       sync.Mutex
	meta     *Metadata
	failedAt time.Time // last failed discovery: retried after retryAfter
}

// retryAfter spaces discovery attempts after a failure, so a provider that
// is down is not asked again on every page load.
const retryAfter = 10 * time.Second

// errUnavailable marks failures to reach the provider (503 to the browser).
var errUnavailable = errors.New("identity provider unavailable")

// metadata returns the cached discovery document, fetching it on first use.
func (p *provider) metadata(ctx context.Context) (Metadata, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.meta != nil {
		return *p.meta, nil
	}
	if !p.failedAt.IsZero() && p.now().Sub(p.failedAt) < retryAfter {
		return Metadata{}, fmt.Errorf("%w: discovery failed less than %s ago", errUnavailable, retryAfter)
	}
	m, err := p.discover(ctx)
	if err != nil {
		p.failedAt = p.now()
		return Metadata{}, err
	}
	p.meta = &m
	return m, nil
}

func (p *provider) discover(ctx context.Context) (Metadata, error) {
	u := p.issuer + "/.well-known/openid-configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return Metadata{}, fmt.Errorf("discovery request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := p.http.Do(req)
	if err != nil {
		return Metadata{}, fmt.Errorf("%w: GET %s: %w", errUnavailable, u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return Metadata{}, fmt.Errorf("%w: GET %s: %w", errUnavailable, u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return Metadata{}, fmt.Errorf("%w: GET %s: status %d", errUnavailable, u, resp.StatusCode)
	}
	var m Metadata
	if err := json.Unmarshal(body, &m); err != nil {
		return Metadata{}, fmt.Errorf("%w: %s is not a discovery document: %w", errUnavailable, u, err)
	}
	// OpenID Connect Discovery §4.3: the document must name the issuer it
	// was fetched for, or its endpoints cannot be trusted for it.
	if strings.TrimSuffix(m.Issuer, "/") != p.issuer {
		return Metadata{}, fmt.Errorf("%w: %s names issuer %q, want %q", errUnavailable, u, m.Issuer, p.issuer)
	}
	if m.AuthorizationEndpoint == "" || m.TokenEndpoint == "" {
		return Metadata{}, fmt.Errorf("%w: %s lacks authorization_endpoint or token_endpoint", errUnavailable, u)
	}
	return m, nil
}

// tokenError is an OAuth error answer of the token endpoint (RFC 6749 §5.2).
type tokenError struct {
	Status      int
	Code        string `json:"error"`
	Description string `json:"error_description"`
}

func (e *tokenError) Error() string {
	return fmt.Sprintf("token endpoint: %s: %s", e.Code, e.Description)
}

// exchange redeems an authorization code for an ID token (RFC 6749 §4.1.3
// with RFC 7636's code_verifier), authenticating the client with its secret
// when one is configured. It returns only the ID token and its lifetime:
// the access and refresh tokens are never handed to the browser.
func (p *provider) exchange(ctx context.Context, code, verifier, redirectURI string) (idToken string, expiresIn int, err error) {
	m, err := p.metadata(ctx)
	if err != nil {
		return "", 0, err
	}
	form := url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"code_verifier": {verifier},
		"redirect_uri":  {redirectURI},
		"client_id":     {p.clientID},
	}
	basic := false
	if p.secret != "" {
		// RFC 6749 §2.3.1: basic is the default; use the form when the
		// provider says it takes it (Alibaba Cloud's token endpoint does).
		if slices.Contains(m.TokenAuthMethods, "client_secret_post") {
			form.Set("client_secret", p.secret)
		} else {
			basic = true
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.TokenEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return "", 0, fmt.Errorf("token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if basic {
		req.SetBasicAuth(url.QueryEscape(p.clientID), url.QueryEscape(p.secret))
	}
	resp, err := p.http.Do(req)
	if err != nil {
		return "", 0, fmt.Errorf("%w: POST token endpoint: %w", errUnavailable, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return "", 0, fmt.Errorf("%w: reading the token answer: %w", errUnavailable, err)
	}
	if resp.StatusCode != http.StatusOK {
		te := &tokenError{Status: resp.StatusCode}
		if json.Unmarshal(body, te) != nil || te.Code == "" {
			return "", 0, fmt.Errorf("%w: token endpoint answered status %d", errUnavailable, resp.StatusCode)
		}
		return "", 0, te
	}
	var out struct {
		IDToken   string `json:"id_token"`
		ExpiresIn int    `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &out); err != nil || out.IDToken == "" {
		return "", 0, fmt.Errorf("%w: the token answer has no id_token (is openid among the scopes?)", errUnavailable)
	}
	return out.IDToken, out.ExpiresIn, nil
}
