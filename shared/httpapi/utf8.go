package httpapi

import (
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/sase-multiaccount/backend/shared/apperr"
)

// checkUTF8 refuses a body whose strings are not valid UTF-8: encoding/json
// would silently turn invalid bytes (and lone \u surrogate escapes) into
// U+FFFD, so "ok\xff" would be stored as "ok\uFFFD". The error names the
// field, as a path like Members[2].Remark; a bad byte outside any string is
// left to the JSON decoder, which refuses it as malformed.
func checkUTF8(body []byte) error {
	if utf8.Valid(body) && !strings.Contains(string(body), `\u`) {
		return nil // the common case: nothing to look at
	}
	var path []string // one entry per open object/array: key or index
	var arrays []int  // -1 for an object, else the current index
	expectKey := false
	for i := 0; i < len(body); i++ {
		switch c := body[i]; c {
		case '{':
			arrays = append(arrays, -1)
			path = append(path, "")
			expectKey = true
		case '[':
			arrays = append(arrays, 0)
			path = append(path, "[0]")
		case '}', ']':
			if n := len(arrays); n > 0 {
				arrays, path = arrays[:n-1], path[:n-1]
			}
			expectKey = false
		case ',':
			if n := len(arrays); n > 0 {
				if arrays[n-1] >= 0 {
					arrays[n-1]++
					path[n-1] = "[" + strconv.Itoa(arrays[n-1]) + "]"
				} else {
					expectKey = true
				}
			}
		case '"':
			end, ok := stringEnd(body, i)
			if !ok {
				return nil // unterminated: the decoder says so
			}
			raw := body[i+1 : end]
			if expectKey {
				path[len(path)-1] = string(raw)
				expectKey = false
			} else if !validLiteral(raw) {
				return apperr.Invalid(fieldPath(path), "%s is not valid UTF-8 text.", fieldPath(path))
			}
			i = end
		}
	}
	return nil
}

// stringEnd returns the index of the quote that closes the string literal
// opening at start.
func stringEnd(b []byte, start int) (int, bool) {
	for j := start + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j, true
		}
	}
	return 0, false
}

// validLiteral reports whether a string literal's raw bytes are UTF-8 and
// its \u escapes pair their surrogates.
func validLiteral(raw []byte) bool {
	if !utf8.Valid(raw) {
		return false
	}
	for j := 0; j < len(raw); j++ {
		if raw[j] != '\\' {
			continue
		}
		if j+1 < len(raw) && raw[j+1] != 'u' {
			j++
			continue
		}
		r, ok := hex4(raw, j+2)
		if !ok {
			return true // malformed escape: the decoder refuses it
		}
		switch {
		case utf16.IsSurrogate(r) && r < 0xDC00: // high: a low one must follow
			lo, ok := rune(0), false
			if j+7 < len(raw) && raw[j+6] == '\\' && raw[j+7] == 'u' {
				lo, ok = hex4(raw, j+8)
			}
			if !ok || lo < 0xDC00 || lo > 0xDFFF {
				return false
			}
			j += 11
		case utf16.IsSurrogate(r): // a low surrogate alone
			return false
		default:
			j += 5
		}
	}
	return true
}

func hex4(b []byte, at int) (rune, bool) {
	if at+4 > len(b) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(b[at:at+4]), 16, 32)
	return rune(n), err == nil
}

// fieldPath joins object keys and array indexes: Members[2].Remark.
func fieldPath(path []string) string {
	var b strings.Builder
	for _, p := range path {
		switch {
		case p == "":
		case strings.HasPrefix(p, "["):
			b.WriteString(p)
		default:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(p)
		}
	}
	if b.Len() == 0 {
		return "Body"
	}
	return b.String()
}
