package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Checks of configurations that deploy but cannot work: the console without
// a custom domain, sign-in settings that contradict each other, and keys
// that Alibaba Cloud rotates held in a static copy. Each problem says why,
// so that the operator need not find out from a failed sign-in.

// aliyunSite is one site of Alibaba Cloud OAuth: the issuer of its ID
// tokens, its JWKS (the discovery document's jwks_uri) and its sign-in
// host (RAM, "Obtain user information with OIDC").
type aliyunSite struct{ name, issuer, jwks, signin string }

var aliyunSites = []aliyunSite{
	{"China (aliyun.com)", "https://oauth.aliyun.com", "https://oauth.aliyun.com/v1/keys", "signin.aliyun.com"},
	{"international (alibabacloud.com)", "https://oauth.alibabacloud.com", "https://oauth.alibabacloud.com/v1/keys", "signin.alibabacloud.com"},
}

// siteOf is the Alibaba Cloud OAuth site whose issuer or sign-in host raw
// names, if any.
func siteOf(raw string) (aliyunSite, bool) {
	u, err := url.Parse(raw)
	if err != nil {
		return aliyunSite{}, false
	}
	host := strings.ToLower(u.Hostname())
	for _, s := range aliyunSites {
		if host == strings.TrimPrefix(s.issuer, "https://") || host == s.signin {
			return s, true
		}
	}
	return aliyunSite{}, false
}

// issuerProblems checks that the issuer, its keys and the trigger's
// authentication fit together.
func (t *tool) issuerProblems(s settings) []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	iss, jwksURL := t.env("JWT_ISSUER", ""), t.env("JWKS_URL", "")
	site, aliyun := siteOf(iss)
	switch {
	case aliyun && strings.Contains(iss, site.signin):
		add("JWT_ISSUER %q is the sign-in page of Alibaba Cloud's %s site; its ID tokens' issuer is %s", iss, site.name, site.issuer)
	case aliyun && iss != site.issuer:
		add("JWT_ISSUER %q: the ID tokens of Alibaba Cloud's %s site carry iss %q, compared exactly", iss, site.name, site.issuer)
	}
	if jwksURL != "" {
		keySite, aliyunKeys := siteOf(jwksURL)
		switch {
		case aliyunKeys && (!aliyun || keySite != site):
			add("JWKS_URL %q holds the keys of Alibaba Cloud's %s site, which do not sign the tokens of JWT_ISSUER %q: take the issuer and its keys from the same site", jwksURL, keySite.name, iss)
		case aliyun && !aliyunKeys:
			add("JWT_ISSUER is Alibaba Cloud's %s site, whose keys are at %s, not %q", site.name, site.jwks, jwksURL)
		case aliyun && jwksURL != site.jwks:
			add("JWKS_URL %q: the keys of Alibaba Cloud's %s site are at %s (jwks_uri of %s/.well-known/openid-configuration)", jwksURL, site.name, site.jwks, site.issuer)
		}
	}
	if !aliyun {
		return problems
	}
	// Alibaba Cloud rotates its signing keys ("they are rotated regularly",
	// RAM's OIDC page): only a JWKS fetched by URL follows a rotation.
	if t.env("JWKS_JSON", "") != "" {
		add("JWKS_JSON is a static copy of keys Alibaba Cloud rotates: every sign-in fails from the next rotation on; set JWKS_URL=%s instead (the functions fetch a new key when a token names it)", site.jwks)
	}
	if s.triggerAuth == "jwt" {
		add("SASE_TRIGGER_AUTH=jwt with Alibaba Cloud OAuth: the trigger holds one static key, so FC refuses every token with 401 from the next key rotation until a redeploy; keep the default anonymous trigger with JWKS_URL (docs/DEPLOY.md \"Trigger-side JWT\")")
	}
	return problems
}

// scopeNames are OAuth scopes that are not claims of an ID token.
var scopeNames = []string{"openid", "aliuid", "profile", "offline_access"}

// claimProblems refuses a claim variable set to a scope's name, and scopes
// that would leave the ID token without the UIDs.
func (t *tool) claimProblems(s settings) []string {
	var problems []string
	for _, name := range []string{"JWT_ACCOUNT_CLAIM", "JWT_USER_CLAIM"} {
		if v := t.env(name, ""); slices.Contains(scopeNames, v) {
			problems = append(problems, fmt.Sprintf("%s=%s names an OAuth scope, not a claim: a scope asks for claims (Alibaba Cloud's scope aliuid puts the account's UID in aid, JWT_ACCOUNT_CLAIM, and the person's in uid, JWT_USER_CLAIM); the refusal of the first sign-in lists the token's claims (docs/DEPLOY.md)", name, v))
		}
	}
	scopes := strings.Fields(t.env("OIDC_SCOPES", "openid aliuid profile"))
	if _, aliyun := siteOf(t.env("JWT_ISSUER", "")); aliyun && !s.skipConsole && !slices.Contains(scopes, "aliuid") {
		problems = append(problems, fmt.Sprintf("OIDC_SCOPES %q lacks aliuid: without it Alibaba Cloud's ID token carries no UID", strings.Join(scopes, " ")))
	}
	return problems
}

// hostnameRE is a lower-case DNS name of two labels or more.
var hostnameRE = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)

// consoleProblems checks that the console, unless skipped, has what a
// browser needs: its custom domain over HTTPS with a certificate for it,
// and the redirect URI of that domain.
func (t *tool) consoleProblems(s settings) []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	switch {
	case s.skipConsole && s.domain != "":
		add("SASE_SKIP_CONSOLE with SASE_CUSTOM_DOMAIN: the domain routes every path but /<function-name> to the console; unset one of them")
		return problems
	case s.skipConsole:
		return nil
	case s.domain == "":
		add("the console needs a custom domain: FC's own trigger domain (*.fcapp.run) makes browsers download the page instead of showing it. " +
			"Set SASE_CUSTOM_DOMAIN with SASE_CUSTOM_DOMAIN_CERT and SASE_CUSTOM_DOMAIN_KEY (docs/DEPLOY.md \"The console's custom domain\"), " +
			"or SASE_SKIP_CONSOLE=true to deploy the API only (JSON calls work on the trigger URLs)")
		return problems
	case !hostnameRE.MatchString(s.domain):
		add("SASE_CUSTOM_DOMAIN %q is not a domain name such as console.example.com (no scheme, no path, lower case)", s.domain)
	}
	if !slices.Contains([]string{"HTTPS", "HTTP,HTTPS"}, s.domainProtocol) {
		add("SASE_CUSTOM_DOMAIN_PROTOCOL %q must be HTTPS or HTTP,HTTPS: the console signs in over HTTPS only (PKCE uses Web Crypto, which browsers offer to secure pages only)", s.domainProtocol)
	}
	if r := t.env("OIDC_REDIRECT_URI", ""); r != "" && r != "https://"+s.domain+"/" {
		add("OIDC_REDIRECT_URI %q is not the console's URL https://%s/ (the page lives on its custom domain only); unset it or register that URL", r, s.domain)
	}
	return append(problems, t.certProblems(s.domain)...)
}

// certProblems checks the custom domain's certificate and key, when they
// are on this machine: present, a pair, for the domain, and valid now.
func (t *tool) certProblems(domain string) []string {
	certRef, keyRef := t.env("SASE_CUSTOM_DOMAIN_CERT", ""), t.env("SASE_CUSTOM_DOMAIN_KEY", "")
	if certRef == "" || keyRef == "" {
		return []string{"SASE_CUSTOM_DOMAIN needs SASE_CUSTOM_DOMAIN_CERT and SASE_CUSTOM_DOMAIN_KEY (PEM files of its certificate chain and private key): the console signs in over HTTPS only"}
	}
	certPEM, cerr := t.pem(certRef)
	keyPEM, kerr := t.pem(keyRef)
	switch {
	case cerr != nil:
		return []string{"SASE_CUSTOM_DOMAIN_CERT: " + cerr.Error()}
	case kerr != nil:
		return []string{"SASE_CUSTOM_DOMAIN_KEY: " + kerr.Error()}
	case certPEM == nil || keyPEM == nil: // a URL or oss://: the component fetches it
		return nil
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return []string{fmt.Sprintf("SASE_CUSTOM_DOMAIN_CERT and SASE_CUSTOM_DOMAIN_KEY are not a certificate and its key: %v", err)}
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return []string{fmt.Sprintf("SASE_CUSTOM_DOMAIN_CERT: %v", err)}
	}
	var problems []string
	if err := leaf.VerifyHostname(domain); err != nil {
		problems = append(problems, fmt.Sprintf("SASE_CUSTOM_DOMAIN_CERT does not cover %s: %v", domain, err))
	}
	if now := time.Now(); now.After(leaf.NotAfter) || now.Before(leaf.NotBefore) {
		problems = append(problems, fmt.Sprintf("SASE_CUSTOM_DOMAIN_CERT is valid from %s to %s only", leaf.NotBefore.Format(time.DateOnly), leaf.NotAfter.Format(time.DateOnly)))
	}
	return problems
}

// pem reads a certificate or key the way the fc3-domain component takes
// it: the PEM text itself, or a file (relative to the module root, where s
// runs); nil for a URL or an oss:// object, which only the component reads.
func (t *tool) pem(ref string) ([]byte, error) {
	switch {
	case strings.HasPrefix(ref, "-"):
		return []byte(ref), nil
	case strings.HasPrefix(ref, "http://"), strings.HasPrefix(ref, "https://"), strings.HasPrefix(ref, "oss://"):
		return nil, nil
	}
	path := ref
	if !filepath.IsAbs(path) {
		path = filepath.Join(t.root, path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read the PEM file: %w", err)
	}
	return b, nil
}
