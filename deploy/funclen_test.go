package deploy

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// maxFuncLines is the longest a production function may be, counted from the
// line of its signature to the line of its closing brace.
const maxFuncLines = 80

// TestNoLongFunctions parses every Go file outside tests and testdata and
// names each function, and each function literal measured on its own, longer
// than maxFuncLines.
func TestNoLongFunctions(t *testing.T) {
	r := root(t)
	var long []string
	err := filepath.WalkDir(r, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); n == "testdata" || strings.HasPrefix(n, ".") && path != r {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, err := filepath.Rel(r, path)
		if err != nil {
			return err
		}
		found, err := longFunctions(path, filepath.ToSlash(rel))
		long = append(long, found...)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(long)
	for _, l := range long {
		t.Errorf("%s is longer than %d lines; split it by meaning", l, maxFuncLines)
	}
}

// longFunctions parses one file and describes each over-long function in it.
func longFunctions(path, rel string) ([]string, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	var out []string
	check := func(name string, from, to token.Pos) {
		start, end := fset.Position(from), fset.Position(to)
		lines := end.Line - start.Line + 1
		if lines > maxFuncLines {
			out = append(out, fmt.Sprintf("%s:%d %s (%d lines)", rel, start.Line, name, lines))
		}
	}
	for _, decl := range f.Decls {
		name := "package-level declaration"
		if fn, ok := decl.(*ast.FuncDecl); ok {
			name = fn.Name.Name
			if fn.Body != nil {
				check(name, fn.Pos(), fn.End())
			}
		}
		ast.Inspect(decl, func(n ast.Node) bool {
			if lit, ok := n.(*ast.FuncLit); ok {
				check("func literal in "+name, lit.Pos(), lit.End())
			}
			return true
		})
	}
	return out, nil
}
