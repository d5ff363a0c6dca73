// Package deploy is the deployment model of the bundle: which functions
// exist (read from functions/), how their s.yaml (Serverless Devs, fc3) and
// template.yaml (ROS) descriptions resolve, and the function role's policy.
// scripts/build and scripts/deploy use it; its tests cross-check s.yaml and
// template.yaml against the code offline (docs/DEPLOY.md).
package deploy

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Kind is how a function is triggered.
type Kind string

// Trigger kinds.
const (
	HTTP        Kind = "http"        // FC3 HTTP trigger, one per API.md function
	EventBridge Kind = "eventbridge" // Resource Directory changes (ActionTrail ApiCall events)
	Timer       Kind = "timer"       // periodic reconciliation
)

// Handler is the handler of every function: the name of the binary in the
// code zip (runtime go1).
const Handler = "main"

// Runtime is the FC3 runtime of every function.
const Runtime = "go1"

// EventFunctions are the functions that are not HTTP functions, with their
// trigger kind (API.md "Event and timer functions"). An HTTP function is
// recognised by its main.go calling app.RunHTTPFunction; any other function
// must be listed here, so that a new one cannot be deployed without a
// trigger.
var EventFunctions = map[string]Kind{
	"directory-events":  EventBridge,
	"reconcile-members": Timer,
}

// Function is one deployable function: a main package under functions/.
type Function struct {
	Name string // the folder name, also the FC function name after the prefix
	Kind Kind
	Dir  string // import-path-style directory, e.g. ./functions/list-members
}

// Functions lists the functions under root/functions, sorted by name. A
// folder whose main.go calls RunHTTPFunction is an HTTP function and must
// name itself; any other folder must be listed in EventFunctions.
func Functions(root string) ([]Function, error) {
	entries, err := os.ReadDir(filepath.Join(root, "functions"))
	if err != nil {
		return nil, fmt.Errorf("list functions: %w", err)
	}
	var out []Function
	var errs []error
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		name := e.Name()
		dir := filepath.Join(root, "functions", name)
		if _, err := os.Stat(filepath.Join(dir, "main.go")); err != nil {
			continue // not (yet) a main package
		}
		kind, err := kindOf(dir, name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, Function{Name: name, Kind: kind, Dir: "./functions/" + name})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no functions under %s", filepath.Join(root, "functions"))
	}
	slices.SortFunc(out, func(a, b Function) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// kindOf reads the package in dir: a call of RunHTTPFunction("<name>")
// makes it an HTTP function; any other function (RunEventFunction) takes
// its kind from EventFunctions.
func kindOf(dir, name string) (Kind, error) {
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return "", err
	}
	var httpNames, eventNames []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			return "", fmt.Errorf("function %s: %w", name, err)
		}
		if file.Name.Name != "main" {
			return "", fmt.Errorf("function %s: %s is package %s, want main", name, f, file.Name.Name)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || len(call.Args) != 1 || (sel.Sel.Name != "RunHTTPFunction" && sel.Sel.Name != "RunEventFunction") {
				return true
			}
			arg := "<not a string literal>"
			if lit, ok := call.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
				arg, _ = strconv.Unquote(lit.Value)
			}
			if sel.Sel.Name == "RunHTTPFunction" {
				httpNames = append(httpNames, arg)
			} else {
				eventNames = append(eventNames, arg)
			}
			return true
		})
	}
	switch {
	case len(httpNames)+len(eventNames) > 1:
		return "", fmt.Errorf("function %s starts %d functions", name, len(httpNames)+len(eventNames))
	case len(eventNames) == 1 && eventNames[0] != name:
		return "", fmt.Errorf("function %s runs the event function %q: the folder and the function must have the same name", name, eventNames[0])
	case len(httpNames) == 1 && httpNames[0] != name:
		return "", fmt.Errorf("function %s runs the HTTP function %q: the folder and the function must have the same name", name, httpNames[0])
	case len(httpNames) == 1:
		if k, ok := EventFunctions[name]; ok {
			return "", fmt.Errorf("function %s is an HTTP function but deploy.EventFunctions lists it as %s", name, k)
		}
		return HTTP, nil
	}
	if k, ok := EventFunctions[name]; ok {
		return k, nil
	}
	return "", fmt.Errorf("function %s is neither an HTTP function (app.RunHTTPFunction) nor listed in deploy.EventFunctions: add its trigger kind there and its trigger to s.yaml and template.yaml", name)
}

// LogicalID is the ROS logical ID stem of a function: list-members ->
// ListMembers (ROS logical IDs are alphanumeric).
func LogicalID(name string) string {
	var b strings.Builder
	for _, part := range strings.Split(name, "-") {
		if part == "" {
			continue
		}
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

// Root finds the module root (the folder with go.mod) from dir upwards.
func Root(dir string) (string, error) {
	d, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("no go.mod above %s", dir)
		}
		d = parent
	}
}

// DistDir is where scripts/build writes the binaries and zips.
const DistDir = "dist"

// CodeZip is the code package of a function, relative to the module root:
// a zip with the binary named Handler at its root, executable.
func CodeZip(name string) string { return DistDir + "/" + name + ".zip" }

// RequiredEnv are the variables an operator must set for `make deploy`
// (s.yaml has no default for them), sorted.
var RequiredEnv = []string{
	"JWT_AUDIENCE", "JWT_ISSUER", "PAGE_TOKEN_KEY", "SASE_FUNCTION_ROLE_ARN", "TABLESTORE_ENDPOINT", "TABLESTORE_INSTANCE",
}
