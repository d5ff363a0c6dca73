package deploy

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// localOnlyPackages are the packages that exist for `make run` and the tests: the
// Resource Directory simulation, the RD wire server in front of it, and the
// local signing key. shared/local/server builds them; no function links them.
var localOnlyPackages = []string{
	"github.com/sase-multiaccount/backend/shared/local/",   // simulation, RD wire server, embedded store, local key, local server
	"github.com/sase-multiaccount/backend/shared/testkit/", // contract suites and wire fakes
	"go.etcd.io/bbolt", // the embedded store's database
}

// TestFunctionsLinkNoLocalOnlyCode lists the dependencies of every function
// as `make build` builds it (linux/amd64, no cgo) and checks that none of
// the local-only packages is among them.
func TestFunctionsLinkNoLocalOnlyCode(t *testing.T) {
	r := root(t)
	fns, err := Functions(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(fns) == 0 {
		t.Fatal("no functions found")
	}
	for _, f := range fns {
		t.Run(f.Name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", f.Dir)
			cmd.Dir = r
			cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0")
			out, err := cmd.Output()
			if err != nil {
				var stderr string
				if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
					stderr = string(ee.Stderr)
				}
				t.Fatalf("go list -deps %s: %v\n%s", f.Dir, err, stderr)
			}
			deps := map[string]bool{}
			for _, p := range strings.Fields(string(out)) {
				deps[p] = true
			}
			if !deps["github.com/sase-multiaccount/backend/shared/app"] {
				t.Fatalf("%s: shared/app is not among its dependencies; is the listing right?\n%s", f.Dir, out)
			}
			for dep := range deps {
				for _, p := range localOnlyPackages {
					if strings.HasPrefix(dep, p) {
						t.Errorf("%s links %s, which only make run (shared/local/server) and tests may build", f.Dir, dep)
					}
				}
			}
		})
	}
}

// layerRules are the import rules of docs/DESIGN.md's layers: the use cases
// and ports know no SDK, no HTTP edge, no role check and no adapter; the HTTP
// edge knows no adapter. A rule holds for every package under the prefix,
// through every dependency (go list -deps), test files excluded.
var layerRules = []struct {
	pkgs      string   // package pattern for go list
	forbidden []string // import path prefixes
}{
	{"./shared/usecase/...", []string{"github.com/aliyun/", module + "/shared/httpapi", module + "/shared/rolecheck", module + "/shared/adapter/", module + "/shared/local/", module + "/shared/testkit/"}},
	{"./shared/port/...", []string{"github.com/aliyun/", module + "/shared/httpapi", module + "/shared/rolecheck", module + "/shared/adapter/", module + "/shared/local/", module + "/shared/testkit/", module + "/shared/usecase/"}},
	{"./shared/httpapi/...", []string{module + "/shared/adapter/", module + "/shared/local/", module + "/shared/testkit/"}},
}

const module = "github.com/sase-multiaccount/backend"

func TestLayerRules(t *testing.T) {
	r := root(t)
	for _, rule := range layerRules {
		t.Run(strings.Trim(rule.pkgs, "./"), func(t *testing.T) {
			cmd := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", rule.pkgs)
			cmd.Dir = r
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("go list -deps %s: %v", rule.pkgs, err)
			}
			deps := strings.Fields(string(out))
			if len(deps) < 2 {
				t.Fatalf("go list -deps %s listed %d packages; is the pattern right?", rule.pkgs, len(deps))
			}
			for _, dep := range deps {
				for _, f := range rule.forbidden {
					if strings.HasPrefix(dep, f) {
						t.Errorf("%s depends on %s (forbidden: %s); find which with: go list -deps -f '{{.ImportPath}}: {{.Imports}}' %s | grep %s", rule.pkgs, dep, f, rule.pkgs, f)
					}
				}
			}
		})
	}
}
