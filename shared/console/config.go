package console

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/sase-multiaccount/backend/shared/endpoints"
)

// Var documents one environment variable of the console function. The
// console reads its own variables, not shared/config's: it needs neither
// the store nor the directory, and the other functions never see its OAuth
// client secret. README's console table is checked against Vars.
type Var struct{ Name, Default, Doc string }

// Vars is every environment variable the console function reads.
var Vars = []Var{
	{"OIDC_ISSUER", "the local server (make run)", "OpenID Connect issuer the console signs in with, e.g. https://oauth.aliyun.com; its discovery document is <issuer>/.well-known/openid-configuration. Required in FC; s.yaml sets it to JWT_ISSUER."},
	{"OIDC_CLIENT_ID", "the local server's client", "OAuth application (client) ID; the ID tokens' aud. Required in FC; s.yaml sets it to JWT_AUDIENCE."},
	{"OIDC_CLIENT_SECRET", "", "OAuth application secret, added by the console function to the code exchange (Alibaba Cloud web applications have one); never sent to the browser."},
	{"OIDC_SCOPES", DefaultScopes, "Scopes the console asks for."},
	{"OIDC_REDIRECT_URI", "the console's own URL", "Redirect URI registered with the OAuth application; unset, the page's own origin and path are used."},
	{"JWT_ACCOUNT_CLAIM", "aid", "Claim of the ID token that holds the caller's account UID (aliuid for Alibaba Cloud); the same value the functions use."},
	{"CONSOLE_API_BASE", "the console's origin", "Base URL where /<function-name> reaches each function (the custom domain of s.domain.yaml); unset, the functions are on the console's own origin."},
	{"CONSOLE_FUNCTION_URLS", "", "JSON object {\"<function-name>\":\"<trigger URL>\"} for functions without a common base (each FC trigger URL); overrides CONSOLE_API_BASE per function."},
}

// DefaultScopes are Alibaba Cloud OAuth's scopes for an ID token that
// carries the account UID (aliuid) and a display name (profile).
const DefaultScopes = "openid aliuid profile"

// Config is the console's validated configuration.
type Config struct {
	InFC         bool
	Issuer       string
	ClientID     string
	ClientSecret string
	Scopes       string
	RedirectURI  string
	AccountClaim string
	// Functions maps every HTTP function's name to its URL: a path on the
	// console's origin ("/list-members") or an absolute URL.
	Functions map[string]string
}

// Load reads the console's configuration through getenv.
func Load(getenv func(string) string) (Config, error) {
	get := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	c := Config{
		InFC:         getenv("FC_RUNTIME_API") != "",
		Issuer:       strings.TrimSuffix(get("OIDC_ISSUER", ""), "/"),
		ClientID:     get("OIDC_CLIENT_ID", ""),
		ClientSecret: get("OIDC_CLIENT_SECRET", ""),
		Scopes:       get("OIDC_SCOPES", DefaultScopes),
		RedirectURI:  get("OIDC_REDIRECT_URI", ""),
		AccountClaim: get("JWT_ACCOUNT_CLAIM", "aid"),
	}
	var errs []error
	if c.InFC && c.Issuer == "" {
		errs = append(errs, errors.New("OIDC_ISSUER is required in Function Compute (e.g. https://oauth.aliyun.com)"))
	}
	if c.InFC && c.ClientID == "" {
		errs = append(errs, errors.New("OIDC_CLIENT_ID is required in Function Compute (the OAuth application ID)"))
	}
	if c.Issuer != "" {
		if err := absoluteURL(c.Issuer, c.InFC); err != nil {
			errs = append(errs, fmt.Errorf("OIDC_ISSUER: %w", err))
		}
	}
	if c.RedirectURI != "" {
		if err := absoluteURL(c.RedirectURI, c.InFC); err != nil {
			errs = append(errs, fmt.Errorf("OIDC_REDIRECT_URI: %w", err))
		}
	}
	if !slices.Contains(strings.Fields(c.Scopes), "openid") {
		errs = append(errs, fmt.Errorf("OIDC_SCOPES %q must include openid", c.Scopes))
	}
	var err error
	if c.Functions, err = functionURLs(get("CONSOLE_API_BASE", ""), get("CONSOLE_FUNCTION_URLS", ""), c.InFC); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return Config{}, fmt.Errorf("console configuration: %w", errors.Join(errs...))
	}
	return c, nil
}

// functionURLs is where the browser finds each HTTP function: base +
// "/<name>" (base empty: the console's origin), overridden per function.
func functionURLs(base, perFunction string, inFC bool) (map[string]string, error) {
	base = strings.TrimSuffix(base, "/")
	if base != "" {
		if err := absoluteURL(base, inFC); err != nil {
			return nil, fmt.Errorf("CONSOLE_API_BASE: %w", err)
		}
	}
	out := map[string]string{}
	for _, h := range endpoints.HTTPFunctions {
		out[h.Name()] = base + "/" + h.Name()
	}
	if perFunction == "" {
		return out, nil
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(perFunction), &m); err != nil {
		return nil, fmt.Errorf("CONSOLE_FUNCTION_URLS must be a JSON object of function name to URL: %w", err)
	}
	for name, u := range m {
		if _, ok := out[name]; !ok {
			return nil, fmt.Errorf("CONSOLE_FUNCTION_URLS names %q, which is not an HTTP function", name)
		}
		if err := absoluteURL(u, inFC); err != nil {
			return nil, fmt.Errorf("CONSOLE_FUNCTION_URLS[%s]: %w", name, err)
		}
		out[name] = strings.TrimSuffix(u, "/")
	}
	return out, nil
}

// absoluteURL accepts https URLs, and http ones outside FC only for
// loopback hosts (make run) — an ID token must never travel in clear text.
func absoluteURL(s string, inFC bool) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%q is not an absolute URL without query or fragment", s)
	}
	switch {
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && !inFC && isLoopback(u.Hostname()):
		return nil
	default:
		return fmt.Errorf("%q must use https (http only for 127.0.0.1 or localhost outside Function Compute)", s)
	}
}

func isLoopback(host string) bool {
	return host == "127.0.0.1" || host == "localhost" || host == "::1"
}
