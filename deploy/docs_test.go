package deploy

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/sase-multiaccount/backend/shared/endpoints"
)

// The project's documents are README.md and docs/*.md. Someone who clones
// the repository has nothing else: every relative link in them must point at
// a file or folder of the repository (and at a heading that exists, when it
// names one), and none may refer to a folder beside the repository.

// docFiles returns the documents, relative to the module root.
func docFiles(t *testing.T, root string) []string {
	t.Helper()
	files := []string{"README.md"}
	more, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range more {
		rel, err := filepath.Rel(root, f)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, filepath.ToSlash(rel))
	}
	return files
}

// outsideRefs are mentions that point outside the repository.
var outsideRefs = []string{"../shared", "/work/shared"}

func TestDocsDoNotReferOutsideTheRepository(t *testing.T) {
	root, err := Root(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range docFiles(t, root) {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			for _, ref := range outsideRefs {
				if strings.Contains(line, ref) {
					t.Errorf("%s:%d mentions %q, which is not part of the repository (a clone does not have it); "+
						"link to docs/API.md or docs/DESIGN.md, and write code paths as plain text (shared/...): %s",
						f, i+1, ref, strings.TrimSpace(line))
				}
			}
		}
	}
}

func TestDocsRelativeLinksResolve(t *testing.T) {
	root, err := Root(".")
	if err != nil {
		t.Fatal(err)
	}
	anchors := map[string]map[string]bool{} // document path -> its heading anchors
	anchorsOf := func(path string) (map[string]bool, error) {
		if a, ok := anchors[path]; ok {
			return a, nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		a := headingAnchors(string(b))
		anchors[path] = a
		return a, nil
	}

	total := 0
	for _, f := range docFiles(t, root) {
		path := filepath.Join(root, f)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range markdownLinks(string(b)) {
			total++
			where := fmt.Sprintf("%s:%d: link %q", f, l.line, l.target)
			target, frag, _ := strings.Cut(l.target, "#")
			if target == "" { // #fragment: a heading of this document
				if a, err := anchorsOf(path); err != nil {
					t.Fatal(err)
				} else if !a[frag] {
					t.Errorf("%s: %s has no heading with anchor #%s", where, f, frag)
				}
				continue
			}
			if u, err := url.PathUnescape(target); err == nil {
				target = u
			}
			var abs string
			if strings.HasPrefix(target, "/") { // GitHub: relative to the repository root
				abs = filepath.Join(root, filepath.FromSlash(target))
			} else {
				abs = filepath.Join(filepath.Dir(path), filepath.FromSlash(target))
			}
			rel, err := filepath.Rel(root, abs)
			if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
				t.Errorf("%s points outside the repository (%s); a clone does not have it", where, abs)
				continue
			}
			fi, err := os.Stat(abs)
			if err != nil {
				t.Errorf("%s: %s does not exist in the repository", where, filepath.ToSlash(rel))
				continue
			}
			if frag == "" || fi.IsDir() || !strings.HasSuffix(strings.ToLower(abs), ".md") {
				continue
			}
			a, err := anchorsOf(abs)
			if err != nil {
				t.Fatal(err)
			}
			if !a[frag] {
				t.Errorf("%s: %s has no heading with anchor #%s", where, filepath.ToSlash(rel), frag)
			}
		}
	}
	if total == 0 {
		t.Fatal("no links found in README.md and docs/*.md; is the link scanner broken?")
	}
}

// link is one link target of a document, with its line number.
type link struct {
	line   int
	target string
}

var (
	// [text](target "title") and ![alt](target); text may hold one level of brackets.
	inlineLink = regexp.MustCompile(`!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^\s()<>]*)>?(?:\s+(?:"[^"]*"|'[^']*'))?\s*\)`)
	// [label]: target
	refDefinition = regexp.MustCompile(`^ {0,3}\[[^\]]+\]:\s*<?([^\s<>]+)>?`)
	// a URL scheme (https:, mailto:, …) or a protocol-relative URL.
	external = regexp.MustCompile(`^(?:[a-zA-Z][a-zA-Z0-9+.-]*:|//)`)
)

// markdownLinks returns the relative link targets of a Markdown document,
// outside code blocks and code spans.
func markdownLinks(doc string) []link {
	var out []link
	for i, line := range proseLines(doc) {
		var targets []string
		for _, m := range inlineLink.FindAllStringSubmatch(line, -1) {
			targets = append(targets, m[1])
		}
		if m := refDefinition.FindStringSubmatch(line); m != nil {
			targets = append(targets, m[1])
		}
		for _, tg := range targets {
			if tg == "" || external.MatchString(tg) {
				continue
			}
			out = append(out, link{line: i + 1, target: tg})
		}
	}
	return out
}

// proseLines returns the document's lines with fenced code blocks blanked
// and code spans removed, so that neither is read as a link or a heading.
// Line numbers are kept.
func proseLines(doc string) []string {
	lines := strings.Split(doc, "\n")
	out := make([]string, len(lines))
	fence := ""
	for i, line := range lines {
		trimmed := strings.TrimLeft(line, " ")
		if fence != "" {
			if strings.HasPrefix(trimmed, fence) && strings.Trim(trimmed, fence[:1]) == "" {
				fence = ""
			}
			continue
		}
		if strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~") {
			fence = trimmed[:3]
			for _, c := range trimmed[3:] {
				if string(c) != fence[:1] {
					break
				}
				fence += fence[:1]
			}
			continue
		}
		out[i] = stripCodeSpans(line)
	}
	return out
}

// stripCodeSpans replaces every `code span` (any run length of backticks)
// by the word "code".
func stripCodeSpans(line string) string {
	var b strings.Builder
	for i := 0; i < len(line); {
		if line[i] != '`' {
			b.WriteByte(line[i])
			i++
			continue
		}
		n := 0
		for i+n < len(line) && line[i+n] == '`' {
			n++
		}
		open := line[i : i+n]
		end := -1
		for j := i + n; j < len(line); {
			k := strings.Index(line[j:], open)
			if k < 0 {
				break
			}
			k += j
			m := 0
			for k+m < len(line) && line[k+m] == '`' {
				m++
			}
			if m == n {
				end = k
				break
			}
			j = k + m
		}
		if end < 0 { // an unmatched run is literal text
			b.WriteString(open)
			i += n
			continue
		}
		b.WriteString("code")
		i = end + n
	}
	return b.String()
}

var (
	atxHeading = regexp.MustCompile(`^ {0,3}#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$`)
	htmlAnchor = regexp.MustCompile(`<a\s+(?:name|id)="([^"]+)"`)
	linkText   = regexp.MustCompile(`!?\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\([^)]*\)`)
)

// headingAnchors returns the anchors GitHub gives the document's headings
// (and explicit <a name|id="…"> anchors).
func headingAnchors(doc string) map[string]bool {
	anchors := map[string]bool{}
	seen := map[string]int{}
	lines := strings.Split(doc, "\n")
	prose := proseLines(doc)
	for i, line := range prose {
		for _, m := range htmlAnchor.FindAllStringSubmatch(lines[i], -1) {
			anchors[m[1]] = true
		}
		m := atxHeading.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		// The heading's text as rendered: code spans keep their content.
		raw := atxHeading.FindStringSubmatch(lines[i])[1]
		s := slug(raw)
		if n := seen[s]; n > 0 {
			anchors[fmt.Sprintf("%s-%d", s, n)] = true
		} else {
			anchors[s] = true
		}
		seen[s]++
	}
	return anchors
}

// slug is GitHub's heading anchor: the rendered text, lower-cased, without
// punctuation and symbols, spaces turned into hyphens.
func slug(heading string) string {
	text := linkText.ReplaceAllString(heading, "$1")
	text = strings.NewReplacer("`", "", "*", "").Replace(text)
	var b strings.Builder
	for _, r := range strings.ToLower(text) {
		switch {
		case unicode.IsLetter(r), unicode.IsNumber(r), unicode.IsMark(r), r == '-', r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	return b.String()
}

func TestDocsLinkScanner(t *testing.T) {
	doc := strings.Join([]string{
		"# Title",
		"See [API](docs/API.md#roles), [`code`](../x.md), ![img](a%20b.png \"t\") and [ext](https://example.com).",
		"Not a link: `[x](y.md)`, nor ``a ` [x](z.md)``.",
		"```sh",
		"curl [x](inside.md)",
		"```",
		"[ref]: ./ref.md",
		"## 2. Roles and `make run` (local)",
		"## Roles",
		"## Roles",
		`<a name="custom"></a>`,
	}, "\n")
	var got []string
	for _, l := range markdownLinks(doc) {
		got = append(got, fmt.Sprintf("%d:%s", l.line, l.target))
	}
	want := []string{"2:docs/API.md#roles", "2:../x.md", "2:a%20b.png", "7:./ref.md"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("markdownLinks = %v, want %v", got, want)
	}
	a := headingAnchors(doc)
	for _, want := range []string{"title", "2-roles-and-make-run-local", "roles", "roles-1", "custom"} {
		if !a[want] {
			t.Errorf("headingAnchors lacks %q: %v", want, a)
		}
	}
}

// countClaim is a count the documents state about the bundle: "25 HTTP
// functions", "30 functions", "26 routes" (code spans and blocks aside).
var countClaim = regexp.MustCompile(`\b(\d+) (HTTP functions|(?:Go )?functions|routes)\b`)

// TestDocsCountsMatchTheCode: the documents avoid counting functions, but a
// count they state must be the declarations' (shared/endpoints), so that it
// cannot go stale when a function is added.
func TestDocsCountsMatchTheCode(t *testing.T) {
	root, err := Root(".")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{
		"HTTP functions": len(endpoints.HTTPFunctions), // the API's; the console is named apart
		"functions":      len(endpoints.All()),
		"Go functions":   len(endpoints.All()),
		"routes":         len(endpoints.HTTPFunctions) + 1, // the custom domain's, /* the console
	}
	for _, f := range docFiles(t, root) {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range proseLines(string(b)) {
			for _, m := range countClaim.FindAllStringSubmatch(line, -1) {
				if n, _ := strconv.Atoi(m[1]); n != want[m[2]] {
					t.Errorf("%s:%d says %q; shared/endpoints declares %d %s: write the count from the code, or none", f, i+1, m[0], want[m[2]], m[2])
				}
			}
		}
	}
	if m := countClaim.FindStringSubmatch("the bundle is 23 Go functions"); m == nil || m[2] != "Go functions" {
		t.Errorf("countClaim does not read a stale count: %v", m)
	}
}
