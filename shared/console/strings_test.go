package console_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// languageNeutral are the English strings Chinese shows as they are: a
// name, and texts of digits and punctuation only.
var languageNeutral = []string{"product", "selectedCount", "selectCandidate", "remarkCount"}

// The Chinese console says everything the English one says: strings.zh.js
// has every key of strings.js (but the language-neutral ones) and no key
// strings.js lacks; a label table (access roles, modes, ...) that English
// fills is filled in Chinese for the same keys.
func TestChineseStringsForEveryKey(t *testing.T) {
	en := stringTable(t, "strings.js", "const EN = {")
	zh := stringTable(t, "strings.zh.js", "export const ZH = {")
	if len(en) < 100 {
		t.Fatalf("read %d keys from strings.js; is the parser broken?", len(en))
	}
	for k, v := range en {
		z, ok := zh[k]
		switch {
		case !ok && !slices.Contains(languageNeutral, k):
			t.Errorf("strings.zh.js has no %q", k)
		case ok && strings.HasPrefix(v, "{") && v != "{}":
			if a, b := tableKeys(v), tableKeys(z); !slices.Equal(a, b) {
				t.Errorf("%s: strings.js labels %v, strings.zh.js %v", k, a, b)
			}
		}
	}
	for k := range zh {
		if _, ok := en[k]; !ok {
			t.Errorf("strings.zh.js has %q, which strings.js does not", k)
		}
	}
}

// stringTable reads the object literal that starts at the line start in
// file: each top-level key (two spaces in) and its value's text.
func stringTable(t *testing.T, file, start string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("web", "assets", "js", file))
	if err != nil {
		t.Fatal(err)
	}
	src := string(b)
	i := strings.Index(src, start)
	j := strings.Index(src[i+1:], "\n};")
	if i < 0 || j < 0 {
		t.Fatalf("%s: no object starting %q", file, start)
	}
	body := src[i+len(start) : i+1+j]
	key := regexp.MustCompile(`(?m)^  (\w+): `)
	comment := regexp.MustCompile(`(?m)^\s*//.*$`)
	locs := key.FindAllStringSubmatchIndex(body, -1)
	out := map[string]string{}
	for n, l := range locs {
		end := len(body)
		if n+1 < len(locs) {
			end = locs[n+1][0]
		}
		out[body[l[2]:l[3]]] = strings.TrimSuffix(strings.TrimSpace(comment.ReplaceAllString(body[l[1]:end], "")), ",")
	}
	return out
}

// tableKeys are the keys of an object literal's text, sorted.
func tableKeys(v string) []string {
	var keys []string
	for _, m := range regexp.MustCompile(`(?:[{,]|^)\s*'?([\w-]+)'?:`).FindAllStringSubmatch(v, -1) {
		keys = append(keys, m[1])
	}
	slices.Sort(keys)
	return keys
}
