// Package deploy is the deployment model of the bundle: which functions
// exist (declared in shared/endpoints, one folder each under functions/), how their s.yaml (Serverless Devs, fc3) and
// template.yaml (ROS) descriptions resolve, and the function role's policy.
// scripts/build and scripts/deploy use it; its tests cross-check s.yaml and
// template.yaml against the code offline (docs/DEPLOY.md).
package deploy

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/sase-multiaccount/backend/shared/endpoints"
)

// Kind is how a function is triggered (declared in shared/endpoints).
type Kind = endpoints.Trigger

// Trigger kinds.
const (
	HTTP        = endpoints.HTTPTrigger // FC3 HTTP trigger, one per HTTP function
	EventBridge = endpoints.EventBridge // Resource Directory changes (ActionTrail ApiCall events)
	Timer       = endpoints.Timer       // periodic reconciliation
)

// Handler is the handler of every function: the name of the binary in the
// code zip (runtime go1).
const Handler = "main"

// Runtime is the FC3 runtime of every function.
const Runtime = "go1"

// Function is one deployable function: a main package under functions/.
type Function struct {
	Name string // the folder name, also the FC function name after the prefix
	Kind Kind
	Dir  string // import-path-style directory, e.g. ./functions/list-members
}

// Functions lists the functions of the bundle, sorted by name: every
// declaration of shared/endpoints, each of which must have its folder
// functions/<name> under root with a main.go, and no folder without a
// declaration.
func Functions(root string) ([]Function, error) {
	declared := map[string]Kind{}
	for _, f := range endpoints.All() {
		declared[f.Name()] = f.Trigger
	}
	entries, err := os.ReadDir(filepath.Join(root, "functions"))
	if err != nil {
		return nil, fmt.Errorf("list functions: %w", err)
	}
	var errs []error
	folders := map[string]bool{}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		name := e.Name()
		folders[name] = true
		if _, ok := declared[name]; !ok {
			errs = append(errs, fmt.Errorf("functions/%s has no declaration in shared/endpoints: declare it there (name, trigger, handler)", name))
		} else if _, err := os.Stat(filepath.Join(root, "functions", name, "main.go")); err != nil {
			errs = append(errs, fmt.Errorf("functions/%s has no main.go", name))
		}
	}
	out := make([]Function, 0, len(declared))
	for name, kind := range declared {
		if !folders[name] {
			errs = append(errs, fmt.Errorf("shared/endpoints declares %s but functions/%s does not exist", name, name))
		}
		out = append(out, Function{Name: name, Kind: kind, Dir: "./functions/" + name})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b Function) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
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
