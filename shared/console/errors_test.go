package console_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// The Chinese console explains every error Code the service can answer:
// each apperr.Code constant has an entry in errors.zh.js, and each code
// family built by a function (apperr.MissingParameter(name), ...) has its
// "<prefix>.*" entry.
func TestChineseTextForEveryErrorCode(t *testing.T) {
	codes, prefixes := apperrCodes(t)
	if len(codes) < 20 || len(prefixes) < 2 {
		t.Fatalf("found %d codes and %d code families in shared/apperr; is the parser broken?", len(codes), len(prefixes))
	}
	entries := errorsZH(t)
	for _, c := range codes {
		if entries[c] == "" {
			t.Errorf("errors.zh.js has no Chinese text for %q (shared/apperr)", c)
		}
	}
	for _, p := range prefixes {
		if entries[p+"*"] == "" {
			t.Errorf("errors.zh.js has no Chinese text for the code family %q (shared/apperr)", p+"<Name>")
		}
	}
	for k, v := range entries {
		if !regexp.MustCompile(`\p{Han}`).MatchString(v) {
			t.Errorf("errors.zh.js: %q is not Chinese: %q", k, v)
		}
	}
}

// apperrCodes reads shared/apperr's source: the value of every constant of
// type Code, and the literal prefix of every function that builds a Code
// ("MissingParameter." + name).
func apperrCodes(t *testing.T) (codes, prefixes []string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "apperr", "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no shared/apperr sources: %v", err)
	}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range file.Decls {
			switch d := decl.(type) {
			case *ast.GenDecl:
				codes = append(codes, codeConstants(t, d)...)
			case *ast.FuncDecl:
				if p := codePrefix(d); p != "" {
					prefixes = append(prefixes, p)
				}
			}
		}
	}
	sort.Strings(codes)
	return codes, prefixes
}

func codeConstants(t *testing.T, d *ast.GenDecl) []string {
	var out []string
	if d.Tok != token.CONST {
		return nil
	}
	for _, spec := range d.Specs {
		vs := spec.(*ast.ValueSpec)
		if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Code" {
			continue
		}
		for _, v := range vs.Values {
			lit, ok := v.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				t.Fatalf("a Code constant that is not a string literal: %#v", v)
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, s)
		}
	}
	return out
}

// codePrefix is "X." when fn returns Code and its body has the literal "X.".
func codePrefix(fn *ast.FuncDecl) string {
	res := fn.Type.Results
	if res == nil || len(res.List) != 1 {
		return ""
	}
	if id, ok := res.List[0].Type.(*ast.Ident); !ok || id.Name != "Code" || fn.Body == nil {
		return ""
	}
	prefix := ""
	ast.Inspect(fn.Body, func(n ast.Node) bool {
		if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
			if s, err := strconv.Unquote(lit.Value); err == nil && strings.HasSuffix(s, ".") {
				prefix = s
			}
		}
		return prefix == ""
	})
	return prefix
}

// errorsZH reads the entries of errors.zh.js as text: one
// 'Code': 'text', per line.
func errorsZH(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("web", "assets", "js", "errors.zh.js"))
	if err != nil {
		t.Fatal(err)
	}
	entry := regexp.MustCompile(`(?m)^\s*'([^']+)':\s*'([^']*)',\s*$`)
	out := map[string]string{}
	for _, m := range entry.FindAllStringSubmatch(string(b), -1) {
		if _, dup := out[m[1]]; dup {
			t.Errorf("errors.zh.js lists %q twice", m[1])
		}
		out[m[1]] = m[2]
	}
	if len(out) == 0 {
		t.Fatal("no entries read from errors.zh.js; is its format still one 'Code': 'text', per line?")
	}
	return out
}
