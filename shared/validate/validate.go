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

// Remark checks a member remark: at most 256 code points, valid UTF-8, no
// control characters (they break console rendering and log lines) and no
// bidirectional overrides (they make the console show text in another order
// than stored, a known spoofing trick). Other format characters such as the
// zero-width joiner of emoji sequences stay allowed.
func Remark(param, s string) error {
	if !utf8.ValidString(s) {
		return apperr.Invalid(param, "%s is not valid UTF-8.", param)
	}
	if n := utf8.RuneCountInString(s); n > MaxRemarkLen {
		return apperr.Invalid(param, "%s has %d characters; at most %d are allowed.", param, n, MaxRemarkLen)
	}
	for i, r := range s {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || isBidiControl(r) {
			return apperr.Invalid(param, "%s contains control character U+%04X at byte %d; remove it.", param, r, i)
		}
	}
	return nil
}

func isBidiControl(r rune) bool {
	return r == '\u061C' || r == '\u200E' || r == '\u200F' || (r >= '\u202A' && r <= '\u202E') || (r >= '\u2066' && r <= '\u2069')
}

// Text checks a free-text field: valid UTF-8 and at most max code points.
func Text(param, s string, max int) error {
	if !utf8.ValidString(s) {
		return apperr.Invalid(param, "%s is not valid UTF-8.", param)
	}
	if n := utf8.RuneCountInString(s); n > max {
		return apperr.Invalid(param, "%s has %d characters; at most %d are allowed.", param, n, max)
	}
	return nil
}

// Email checks an invitation email address (a bare address, no display name).
func Email(param, s string) error {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" || len(s) > 254 || !strings.Contains(s[strings.LastIndexByte(s, '@')+1:], ".") {
		return apperr.Invalid(param, "%q is not a valid email address.", Clip(s))
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
