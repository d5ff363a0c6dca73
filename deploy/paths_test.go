package deploy

import (
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// A path named in a comment or a document is a claim about the repository:
// it must exist. Paths are read as the code writes them: from the module
// root (shared/app/run.go), from shared/ (adapter/tablestore), or from the
// commenting file's own directory.

// modulePath prefixes the repository's import paths.
const modulePath = "github.com/sase-multiaccount/backend/"

var (
	// pathCandidate is a slash-separated word not preceded by a character
	// that would make it part of a URL, a route or a larger path.
	pathCandidate = regexp.MustCompile(`(?:^|[^\w./:<>*{}$~@%#-])((?:\.\.?/)?[\w][\w.-]*(?:/[\w.-]+)+/?)`)
	// researchRef is a reference to the team's notes that lived beside the
	// repository, in any of the forms they were cited.
	researchRef = regexp.MustCompile(`(?i)\bresearch(?:/|:|\s*§|\s+[\w.-]+\.md)`)
	// sectionRef names a section of a document: DESIGN.md §4,
	// API.md "Console", or (inside a document) section "Data".
	sectionRef = regexp.MustCompile(`(?:\b(README|API|DESIGN|DEPLOY)\.md,? +|\bsection +)(?:§ ?(\d+)|"([^"]+)")`)
	// numberedHeading is a heading "## 4. Data".
	numberedHeading = regexp.MustCompile(`^#{1,6} +(\d+)\. `)
)

// repoTree lists the repository: every file and directory relative to
// the root, and the names its directories have anywhere.
type repoTree struct {
	root     string
	paths    map[string]bool
	dirNames map[string]bool
}

func walkRepo(t *testing.T, root string) repoTree {
	t.Helper()
	tr := repoTree{root: root, paths: map[string]bool{}, dirNames: map[string]bool{}}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return nil
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || rel == "dist" || rel == "bin" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		tr.paths[rel] = true
		if d.IsDir() {
			tr.dirNames[d.Name()] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// stalePaths returns the repository paths named in text that do not exist,
// and how many it named; dir is the directory (relative to the root) of the
// file text is from.
func (tr repoTree) stalePaths(text, dir string) (bad []string, named int) {
	for _, m := range pathCandidate.FindAllStringSubmatchIndex(text, -1) {
		p := text[m[2]:m[3]]
		if next := text[m[3]:]; next != "" && strings.ContainsAny(next[:1], "<*{$") {
			continue // a placeholder or a glob: functions/<name>, docs/*.md
		}
		if strings.HasPrefix(p, "../") {
			bad = append(bad, p+" (outside the repository)")
			continue
		}
		p = strings.TrimPrefix(strings.TrimPrefix(p, "./"), modulePath)
		if i := strings.Index(p, "..."); i >= 0 { // go test ./shared/...
			p = p[:i]
		}
		p = strings.TrimRight(p, "/.,:;-")
		first, _, ok := strings.Cut(p, "/")
		if !ok || !tr.dirNames[first] {
			continue // not a repository path: a/b prose, an upstream path
		}
		named++
		if !tr.exists(p, dir) {
			bad = append(bad, p)
		}
	}
	return bad, named
}

// exists reports whether p names a file or directory from the root, from
// shared/ or from dir. A trailing Go identifier (shared/app.Run,
// port/store.Store) is allowed.
func (tr repoTree) exists(p, dir string) bool {
	for _, c := range []string{p, strings.TrimSuffix(p, path.Ext(p))} {
		for _, base := range []string{"", "shared", dir} {
			if tr.paths[path.Join(base, c)] {
				return true
			}
		}
	}
	return false
}

// goComments returns the comments of every Go file outside testdata, by
// file (relative to the root) and line.
func goComments(t *testing.T, tr repoTree) []textAt {
	t.Helper()
	var out []textAt
	fset := token.NewFileSet()
	for _, rel := range slices.Sorted(maps.Keys(tr.paths)) {
		if !strings.HasSuffix(rel, ".go") || slices.Contains(strings.Split(rel, "/"), "testdata") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(tr.root, rel), nil, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range f.Comments {
			for _, c := range g.List {
				line := fset.Position(c.Pos()).Line
				for i, l := range strings.Split(c.Text, "\n") {
					out = append(out, textAt{file: rel, line: line + i, text: l})
				}
			}
		}
	}
	return out
}

// docAndConfigText returns the lines of README.md and docs/*.md, and the
// comment lines (from #) of the top-level YAML files and the Makefile.
func docAndConfigText(t *testing.T, tr repoTree) []textAt {
	t.Helper()
	var out []textAt
	files := docFiles(t, tr.root)
	for rel := range tr.paths {
		if !strings.Contains(rel, "/") && (strings.HasSuffix(rel, ".yaml") || rel == "Makefile") {
			files = append(files, rel)
		}
	}
	slices.Sort(files)
	for _, rel := range files {
		b, err := os.ReadFile(filepath.Join(tr.root, rel))
		if err != nil {
			t.Fatal(err)
		}
		doc := strings.HasSuffix(rel, ".md")
		for i, l := range strings.Split(string(b), "\n") {
			if !doc {
				_, c, ok := strings.Cut(l, "#")
				if !ok {
					continue
				}
				l = c
			}
			out = append(out, textAt{file: rel, line: i + 1, text: l})
		}
	}
	return out
}

type textAt struct {
	file string
	line int
	text string
}

func TestCommentsAndDocsNamePathsThatExist(t *testing.T) {
	root, err := Root(".")
	if err != nil {
		t.Fatal(err)
	}
	tr := walkRepo(t, root)
	texts := append(goComments(t, tr), docAndConfigText(t, tr)...)
	if len(texts) < 1000 {
		t.Fatalf("only %d comment and document lines found; is the scanner broken?", len(texts))
	}
	named := 0
	headings := docHeadings(t, root)
	for _, l := range texts {
		for _, e := range staleSections(l.text, l.file, headings) {
			t.Errorf("%s:%d names %s: %s", l.file, l.line, e, strings.TrimSpace(l.text))
		}
		bad, n := tr.stalePaths(l.text, path.Dir(l.file))
		named += n
		for _, p := range bad {
			t.Errorf("%s:%d names %s, which is not in the repository: %s", l.file, l.line, p, strings.TrimSpace(l.text))
		}
		if m := researchRef.FindString(l.text); m != "" {
			t.Errorf("%s:%d cites %q, notes a clone does not have; say what the code relies on, or move it to docs/DESIGN.md: %s",
				l.file, l.line, m, strings.TrimSpace(l.text))
		}
	}
	if named < 100 {
		t.Errorf("only %d repository paths found in comments and documents; is the scanner broken?", named)
	}
	t.Logf("%d lines, %d repository paths checked", len(texts), named)
}

// docHeadings returns the headings of README.md and docs/*.md by file name
// (API.md, README.md).
func docHeadings(t *testing.T, root string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, f := range docFiles(t, root) {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range proseLines(string(b)) {
			if m := atxHeading.FindStringSubmatch(l); m != nil {
				out[path.Base(f)] = append(out[path.Base(f)], strings.TrimLeft(l, " "))
			}
		}
	}
	return out
}

// staleSections returns the section references of text (from file) that
// name no heading: a number must be a numbered heading ("## 4. Data"), a
// quoted name the start of a heading's text (case aside).
func staleSections(text, file string, headings map[string][]string) []string {
	var bad []string
	for _, m := range sectionRef.FindAllStringSubmatch(text, -1) {
		doc := m[1] + ".md"
		if m[1] == "" { // section "X": this document's own
			doc = path.Base(file)
			if !strings.HasSuffix(doc, ".md") {
				continue
			}
		}
		found := false
		for _, h := range headings[doc] {
			if m[2] != "" {
				if n := numberedHeading.FindStringSubmatch(h); n != nil && n[1] == m[2] {
					found = true
				}
				continue
			}
			title := strings.TrimLeft(h, "# ")
			if n := numberedHeading.FindString(h); n != "" {
				title = h[len(n):]
			}
			if strings.HasPrefix(strings.ToLower(title), strings.ToLower(m[3])) {
				found = true
			}
		}
		if !found {
			bad = append(bad, fmt.Sprintf("%s, which %s has no heading for", m[0], doc))
		}
	}
	return bad
}

func TestPathScanner(t *testing.T) {
	tr := repoTree{
		paths:    map[string]bool{"shared": true, "shared/app": true, "shared/app/run.go": true, "docs": true, "docs/DESIGN.md": true, "functions": true},
		dirNames: map[string]bool{"shared": true, "app": true, "docs": true, "functions": true, "store": true},
	}
	for text, want := range map[string]string{
		"see shared/app/run.go and app/run.go, app.Run":        "",
		"in docs/DESIGN.md. Also ./shared/... and shared/app/": "",
		"the module's " + modulePath + "shared/app":            "",
		"functions/<name>, docs/*.md, https://x.com/shared/no": "",
		"a/b prose, /_local/token, read/write":                 "",
		"the suite in store/storetest and shared/app/gone.go":  "store/storetest shared/app/gone.go",
		"the old docs/design.md":                               "docs/design.md",
		"(../shared/x)":                                        "../shared/x (outside the repository)",
	} {
		bad, _ := tr.stalePaths(text, "shared/app")
		got := strings.Join(bad, " ")
		if got != want {
			t.Errorf("stalePaths(%q) = %q, want %q", text, got, want)
		}
	}
	// The notes' folder name is spelt in parts so that this file does not
	// itself name it.
	for text, want := range map[string]bool{
		"(research" + "/tablestore.md §3)": true, "research §2.1": true, "(research: UNCONFIRMED)": true,
		"research resource-directory.md": true, "more research is needed": false,
	} {
		if got := researchRef.MatchString(text); got != want {
			t.Errorf("researchRef.MatchString(%q) = %v, want %v", text, got, want)
		}
	}
	headings := map[string][]string{"DESIGN.md": {"# Design", "## 4. Data", "## 7. Integrity: what holds now"}}
	for text, want := range map[string]int{
		`DESIGN.md §4, DESIGN.md "Integrity", docs/DESIGN.md "data"`: 0,
		`DESIGN.md §8, DESIGN.md "Events", API.md "Console"`:         3,
	} {
		if got := staleSections(text, "shared/x.go", headings); len(got) != want {
			t.Errorf("staleSections(%q) = %q, want %d", text, got, want)
		}
	}
	if got := staleSections(`see section "Data"; section "Roles"`, "docs/DESIGN.md", headings); len(got) != 1 {
		t.Errorf("staleSections of a document = %q, want section \"Roles\" only", got)
	}
}
