package console

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/sase-multiaccount/backend/shared/auth"
	"github.com/sase-multiaccount/backend/shared/config"
	"github.com/sase-multiaccount/backend/shared/endpoints"
)

// Vars is every environment variable the console function reads, in the
// order Load reads them (CONSOLE_FUNCTION_URLS overrides CONSOLE_API_BASE).
// The console reads its own variables, not shared/config's: it needs
// neither the store nor the directory, and the other functions never see
// its OAuth client secret. README's console table is rendered from Vars.
var Vars = []config.Var[Config]{
	{Name: "OIDC_ISSUER", Unset: "the local server",
		Doc: "OpenID Connect issuer, e.g. `https://oauth.aliyun.com` (discovery at `<issuer>/.well-known/openid-configuration`). Required in FC; `s.yaml` sets it to `JWT_ISSUER`.",
		Set: func(c *Config, v string) error {
			c.Issuer = strings.TrimSuffix(v, "/")
			return optionalURL(c.Issuer, c.InFC)
		}},
	{Name: "OIDC_CLIENT_ID", Unset: "the local client",
		Doc: "OAuth application ID, the ID tokens' `aud`. Required in FC; `s.yaml` sets it to `JWT_AUDIENCE`.",
		Set: func(c *Config, v string) error { c.ClientID = v; return nil }},
	{Name: "OIDC_CLIENT_SECRET",
		Doc: "OAuth application secret (Alibaba Cloud web applications have one); the console function adds it to the code exchange. Never sent to the browser.",
		Set: func(c *Config, v string) error { c.ClientSecret = v; return nil }},
	{Name: "OIDC_SCOPES", Default: DefaultScopes, Doc: "Scopes asked for (space-separated; must include `openid`).",
		Set: setScopes},
	{Name: "OIDC_REDIRECT_URI", Unset: "the page's own URL", Doc: "Redirect URI registered with the OAuth application.",
		Set: func(c *Config, v string) error { c.RedirectURI = v; return optionalURL(v, c.InFC) }},
	{Name: "JWT_ACCOUNT_CLAIM", Default: auth.DefaultAccountClaim,
		Doc: "Claim of the ID token holding the account UID (`aid` for Alibaba Cloud with the scope `aliuid`, to be confirmed on the first deploy), as for the functions.",
		Set: func(c *Config, v string) error { c.AccountClaim = v; return nil }},
	{Name: "CONSOLE_API_BASE", Unset: "the console's origin",
		Doc: "Base URL where `/<function-name>` reaches each function (the custom domain of `s.domain.yaml`).",
		Set: setAPIBase},
	{Name: "CONSOLE_FUNCTION_URLS",
		Doc: "JSON object `{\"<function-name>\":\"<trigger URL>\"}`, for functions without a common base (each FC trigger URL); overrides `CONSOLE_API_BASE` per function.",
		Set: setFunctionURLs},
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
	c := Config{InFC: getenv("FC_RUNTIME_API") != ""}
	errs := config.Read(&c, Vars, getenv, c.InFC)
	if c.InFC && c.Issuer == "" {
		errs = append(errs, errors.New("OIDC_ISSUER is required in Function Compute (e.g. https://oauth.aliyun.com)"))
	}
	if c.InFC && c.ClientID == "" {
		errs = append(errs, errors.New("OIDC_CLIENT_ID is required in Function Compute (the OAuth application ID)"))
	}
	if len(errs) > 0 {
		return Config{}, fmt.Errorf("console configuration: %w", errors.Join(errs...))
	}
	return c, nil
}

func setScopes(c *Config, v string) error {
	c.Scopes = v
	if !slices.Contains(strings.Fields(v), "openid") {
		return fmt.Errorf("%q must include openid", v)
	}
	return nil
}

// setAPIBase points every HTTP function at base + "/<name>" (base empty:
// the console's origin).
func setAPIBase(c *Config, v string) error {
	base := strings.TrimSuffix(v, "/")
	c.Functions = map[string]string{}
	for _, h := range endpoints.HTTPFunctions {
		c.Functions[h.Name()] = base + "/" + h.Name()
	}
	return optionalURL(base, c.InFC)
}

// setFunctionURLs overrides setAPIBase's URL of the functions it names.
func setFunctionURLs(c *Config, v string) error {
	if v == "" {
		return nil
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(v), &m); err != nil {
		return fmt.Errorf("must be a JSON object of function name to URL: %w", err)
	}
	for name, u := range m {
		if _, ok := c.Functions[name]; !ok {
			return fmt.Errorf("names %q, which is not an HTTP function", name)
		}
		if err := absoluteURL(u, c.InFC); err != nil {
			return fmt.Errorf("for %s: %w", name, err)
		}
		c.Functions[name] = strings.TrimSuffix(u, "/")
	}
	return nil
}

// optionalURL is absoluteURL for a variable that may be left unset.
func optionalURL(s string, inFC bool) error {
	if s == "" {
		return nil
	}
	return absoluteURL(s, inFC)
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
