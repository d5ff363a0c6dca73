// Package doctest keeps generated sections of the documentation in step
// with the code: a test renders a section and Section compares it with the
// file, or rewrites the file when the test runs with -update.
package doctest

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the documentation sections the tests generate")

// Section checks that the lines of the file at path between
// "<!-- BEGIN name" and "<!-- END name -->" are want; with -update it
// writes want there instead.
func Section(t *testing.T, path, name, want string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got, i, j, err := section(string(b), name)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	switch {
	case got == want:
	case *update:
		if err := os.WriteFile(path, []byte(string(b[:i])+want+string(b[j:])), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("rewrote %s's section %s", path, name)
	default:
		t.Errorf("%s's section %s differs from the code; to rewrite it from the code, run\n\tgo test %s -run '^%s$' -update\n%s",
			path, name, pkg(), t.Name(), diff(got, want))
	}
}

// section finds the lines between the markers: doc[i:j].
func section(doc, name string) (text string, i, j int, err error) {
	begin, end := "<!-- BEGIN "+name, "<!-- END "+name+" -->"
	i = strings.Index(doc, begin)
	j = strings.Index(doc, end)
	if i < 0 || j < i || strings.Count(doc, begin) != 1 {
		return "", 0, 0, fmt.Errorf("no single section %q … %q", begin, end)
	}
	i += strings.Index(doc[i:], "\n") + 1
	if i > j {
		return "", 0, 0, fmt.Errorf("%q must end its line", begin)
	}
	return doc[i:j], i, j, nil
}

// diff lists the lines only the file has (-) and those only the code has (+).
func diff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	var b strings.Builder
	for _, l := range g {
		if !slices.Contains(w, l) {
			fmt.Fprintf(&b, "- %s\n", l)
		}
	}
	for _, l := range w {
		if !slices.Contains(g, l) {
			fmt.Fprintf(&b, "+ %s\n", l)
		}
	}
	if b.Len() == 0 {
		return "(the same lines in another order)"
	}
	return b.String()
}

// pkg is the test's package as go test names it from the module root.
func pkg() string {
	wd, err := os.Getwd()
	if err != nil {
		return "."
	}
	for dir := wd; dir != filepath.Dir(dir); dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			rel, err := filepath.Rel(dir, wd)
			if err != nil {
				return "."
			}
			return "./" + filepath.ToSlash(rel)
		}
	}
	return "."
}
