// Package validate holds the input rules of API.md, shared by every use case,
// so that one rule has one implementation and one wording.
package validate

import (
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/sase-multiaccount/backend/shared/apperr"
)

// MaxRemarkLen is the remark limit in Unicode code points.
const MaxRemarkLen = 256

// IsAccountID reports whether s is an Alibaba Cloud account UID: 16 ASCII digits.
func IsAccountID(s string) bool {
	if len(s) != 16 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// AccountID checks one UID parameter.
func AccountID(param, s string) error {
	if s == "" {
		return apperr.Missing(param)
	}
	if !IsAccountID(s) {
		return apperr.Invalid(param, "%s %q is not an account UID: it must be 16 digits.", param, Clip(s))
	}
	return nil
}

// AccountIDs checks a list of UIDs (1..max entries) and returns it without
// repeats, in first-seen order.
func AccountIDs(param string, ids []string, max int) ([]string, error) {
	if len(ids) == 0 {
		return nil, apperr.Missing(param)
	}
	if len(ids) > max {
		return nil, apperr.Invalid(param, "%s has %d entries; at most %d are allowed per request.", param, len(ids), max)
	}
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for i, id := range ids {
		if !IsAccountID(id) {
			return nil, apperr.Invalid(param, "%s[%d] %q is not an account UID: it must be 16 digits.", param, i, Clip(id))
		}
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out, nil
}

// Remark checks a remark: the free-text rules (FreeText) and at most
// MaxRemarkLen code points.
func Remark(param, s string) error { return FreeText(param, s, MaxRemarkLen) }

// FreeText checks text a person wrote that others will read (a remark, an
// invitation note, a token's subject in the audit trail): valid UTF-8, at
// most max code points, and none of the characters that hide or disguise
// text: control characters (NUL, ESC, CR, LF, ...), line and paragraph
// separators, bidirectional controls (U+202E ...), invisible zero-width
// characters (U+200B, U+2060, U+FEFF) and tag characters (U+E0000-U+E007F).
// Zero-width joiner and non-joiner (U+200C, U+200D) stay allowed: scripts
// such as Persian and emoji sequences need them.
func FreeText(param, s string, max int) error {
	if !utf8.ValidString(s) {
		return apperr.Invalid(param, "%s is not valid UTF-8.", param)
	}
	if n := utf8.RuneCountInString(s); n > max {
		return apperr.Invalid(param, "%s has %d characters; at most %d are allowed.", param, n, max)
	}
	if i, r, bad := firstHidden(s); bad {
		return apperr.Invalid(param, "%s contains the invisible or control character U+%04X at byte %d; remove it.", param, r, i)
	}
	return nil
}

// firstHidden finds the first character FreeText refuses.
func firstHidden(s string) (int, rune, bool) {
	for i, r := range s {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || isBidiControl(r) ||
			r == '\u200B' || r == '\u2060' || r == '\uFEFF' || (r >= 0xE0000 && r <= 0xE007F) {
			return i, r, true
		}
	}
	return 0, 0, false
}

// IsFreeText reports whether s passes FreeText with at most max bytes.
func IsFreeText(s string, maxBytes int) bool {
	if len(s) > maxBytes || !utf8.ValidString(s) {
		return false
	}
	_, _, bad := firstHidden(s)
	return !bad
}

func isBidiControl(r rune) bool {
	return r == '\u061C' || r == '\u200E' || r == '\u200F' || (r >= '\u202A' && r <= '\u202E') || (r >= '\u2066' && r <= '\u2069')
}

// Text checks a search keyword or similar: valid UTF-8 and at most max
// code points (nobody else reads it, so other characters are allowed).
func Text(param, s string, max int) error {
	if !utf8.ValidString(s) {
		return apperr.Invalid(param, "%s is not valid UTF-8.", param)
	}
	if n := utf8.RuneCountInString(s); n > max {
		return apperr.Invalid(param, "%s has %d characters; at most %d are allowed.", param, n, max)
	}
	return nil
}

// Email checks an invitation email address as Resource Directory would
// accept it: a bare ASCII address (no display name), a dot-atom local
// part, and a domain of at least two DNS labels (letters, digits, inner
// hyphens; no IP literal) ending in an alphabetic top-level label.
func Email(param, s string) error {
	bad := apperr.Invalid(param, "%q is not a valid email address.", Clip(s))
	if len(s) > 254 || strings.IndexFunc(s, func(r rune) bool { return r > unicode.MaxASCII }) >= 0 {
		return bad
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return bad
	}
	at := strings.LastIndexByte(s, '@')
	local, domain := s[:at], s[at+1:]
	if local == "" || len(local) > 64 || strings.HasPrefix(local, "\"") {
		return bad
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return bad
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' || strings.IndexFunc(l, func(r rune) bool {
			return !(r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
		}) >= 0 {
			return bad
		}
	}
	if tld := labels[len(labels)-1]; len(tld) < 2 || strings.IndexFunc(tld, func(r rune) bool { return !unicode.IsLetter(r) }) >= 0 {
		return bad
	}
	return nil
}

// MaxResults parses a page size: "" gives def; otherwise 1..max.
func MaxResults(s string, def, max int) (int, error) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > max {
		return 0, apperr.Invalid("MaxResults", "MaxResults %q must be a whole number from 1 to %d.", Clip(s), max)
	}
	return n, nil
}

// OneOf checks an enumerated parameter; "" gives def.
func OneOf(param, s, def string, allowed ...string) (string, error) {
	if s == "" {
		return def, nil
	}
	for _, a := range allowed {
		if s == a {
			return s, nil
		}
	}
	return "", apperr.Invalid(param, "%s %q is not one of %s.", param, Clip(s), strings.Join(allowed, ", "))
}

// ClipLen is how many bytes of a value Clip keeps.
const ClipLen = 64

// Clip keeps values echoed in messages and logs short: ClipTo(s, ClipLen).
func Clip(s string) string { return ClipTo(s, ClipLen) }

// ClipTo returns s when it has at most max bytes. Otherwise it returns the
// longest prefix of s of at most max bytes that ends at a rune boundary, so
// that a multi-byte character is never cut in two, followed by "…" and the
// original length ("…(300 bytes)").
func ClipTo(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s…(%d bytes)", s[:cut], len(s))
}
