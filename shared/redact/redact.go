// Package redact removes credentials from the text of errors before anything
// can print them. Cloud SDK errors carry the signed request: the RPC SDK's
// transport error quotes the whole URL (AccessKeyId, SecurityToken,
// Signature in the query string), and a service may quote the string to sign
// in its answer. The adapters pass every SDK error through Error at the
// point it enters this code.
package redact

import (
	"net/url"
	"regexp"
	"strings"
)

// Marker replaces a secret value.
const Marker = "[redacted]"

// Error returns err with its message cleaned by Text; errors.Is and
// errors.As still see err's chain (the adapters classify on it), only the
// message changes. secrets are values known to be secret (the credentials
// the request was signed with), removed wherever they appear. nil stays nil.
func Error(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	clean := Text(msg, secrets...)
	if clean == msg {
		return err
	}
	return &redacted{msg: clean, err: err}
}

type redacted struct {
	msg string
	err error
}

func (e *redacted) Error() string { return e.msg }
func (e *redacted) Unwrap() error { return e.err }

// Text returns s with every URL cut to scheme://host/path (no user info,
// query or fragment), every secret parameter (AccessKeyId, SecurityToken,
// Signature, ...) outside a URL replaced by a marker naming it, bearer
// tokens dropped, and each of secrets (as is or URL-encoded once or twice)
// replaced by Marker.
func Text(s string, secrets ...string) string {
	s = urlRE.ReplaceAllStringFunc(s, cleanURL)
	s = bearerRE.ReplaceAllString(s, "Bearer "+Marker)
	s = params(s)
	for _, v := range secrets {
		if len(v) < 8 { // too short to be a credential, too likely to be a word
			continue
		}
		once := url.QueryEscape(v)
		for _, f := range []string{v, once, url.QueryEscape(once)} {
			s = strings.ReplaceAll(s, f, Marker)
		}
	}
	return s
}

// urlRE matches an absolute URL up to a space, quote or angle bracket.
var urlRE = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^\s"'<>\\]+`)

// cleanURL keeps scheme, host and path.
func cleanURL(u string) string {
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		u = u[:i]
	}
	scheme, rest, _ := strings.Cut(u, "://")
	host, path, hasPath := strings.Cut(rest, "/")
	if i := strings.LastIndex(host, "@"); i >= 0 {
		host = host[i+1:]
	}
	if hasPath {
		path = "/" + path
	}
	return scheme + "://" + host + path
}

var bearerRE = regexp.MustCompile(`(?i)\bbearer\s+[A-Za-z0-9._~+/=-]+`)

// paramRE matches the name of a secret parameter and its "=", as is or
// URL-encoded once (a query string in a string to sign) or twice.
var paramRE = regexp.MustCompile(`(?i)(access_?key_?id|access_?key_?secret|security_?token|security-token|sts_?token|access_token|signature)(=|%3D|%253D)`)

// params replaces each secret parameter, name and value, with a marker that
// names it: "[redacted SecurityToken]".
func params(s string) string {
	locs := paramRE.FindAllStringSubmatchIndex(s, -1)
	if locs == nil {
		return s
	}
	var b strings.Builder
	last := 0
	for _, loc := range locs {
		if loc[0] < last { // inside the value of the previous parameter
			continue
		}
		b.WriteString(s[last:loc[0]])
		b.WriteString("[redacted " + s[loc[2]:loc[3]] + "]")
		last = valueEnd(s, loc[1])
	}
	b.WriteString(s[last:])
	return b.String()
}

// valueEnd is where the parameter value starting at i ends: at a separator
// of parameters (& or its encodings), a space, a quote or a bracket.
func valueEnd(s string, i int) int {
	for j := i; j < len(s); j++ {
		if strings.IndexByte("&\"'<>\\,;()[]{} \t\r\n", s[j]) >= 0 {
			return j
		}
		if s[j] == '%' {
			rest := strings.ToUpper(s[j:min(len(s), j+5)])
			if strings.HasPrefix(rest, "%26") || strings.HasPrefix(rest, "%2526") {
				return j
			}
		}
	}
	return len(s)
}
