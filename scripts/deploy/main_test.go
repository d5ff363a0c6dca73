package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/sase-multiaccount/backend/deploy"
)

const account = "1234567890123456"

func baseEnv() map[string]string {
	return map[string]string{
		"TABLESTORE_ENDPOINT":             "https://sase-test.cn-hangzhou.ots.aliyuncs.com",
		"TABLESTORE_INSTANCE":             "sase-test",
		"JWT_ISSUER":                      "https://login.example.com",
		"JWT_AUDIENCE":                    "sase-console",
		"JWKS_URL":                        "https://login.example.com/jwks.json",
		"PAGE_TOKEN_KEY":                  strings.Repeat("ab", 32),
		"ALIBABA_CLOUD_ACCESS_KEY_ID":     "operator-key",
		"ALIBABA_CLOUD_ACCESS_KEY_SECRET": "operator-secret",
		// The console on its custom domain, with the certificate inline.
		"SASE_CUSTOM_DOMAIN":      testDomain,
		"SASE_CUSTOM_DOMAIN_CERT": consoleCert().cert,
		"SASE_CUSTOM_DOMAIN_KEY":  consoleCert().key,
	}
}

type call struct {
	env  []string
	name string
	args []string
}

type harness struct {
	t              *testing.T
	tool           *tool
	stdout, stderr bytes.Buffer
	mu             sync.Mutex
	calls          []call
}

// newHarness runs the tool on a copy of the repository's specs, with the
// real functions/ and a dist/ of placeholder zips.
func newHarness(t *testing.T, env map[string]string) *harness {
	t.Helper()
	repo, err := deploy.Root(".")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, f := range []string{"s.yaml", "s.jwt.yaml", "s.domain.yaml", "template.yaml"} {
		b, err := os.ReadFile(filepath.Join(repo, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(repo, "functions"), filepath.Join(dir, "functions")); err != nil {
		t.Fatal(err)
	}
	fns, err := deploy.Functions(repo)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, deploy.DistDir), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range fns {
		if err := os.WriteFile(filepath.Join(dir, deploy.CodeZip(f.Name)), []byte("zip"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	h := &harness{t: t}
	h.tool = &tool{
		getenv: func(k string) string { return env[k] },
		root:   dir, ram: newRAM,
		run: func(_ context.Context, d string, e []string, name string, args ...string) error {
			h.mu.Lock()
			defer h.mu.Unlock()
			if d != dir {
				t.Errorf("command runs in %s, want the module root", d)
			}
			h.calls = append(h.calls, call{e, name, args})
			return nil
		},
	}
	h.tool.stdout, h.tool.stderr = &h.stdout, &h.stderr
	return h
}

func (h *harness) main(args ...string) int {
	return h.tool.main(context.Background(), args)
}

func TestHelp(t *testing.T) {
	h := newHarness(t, baseEnv())
	if code := h.main("--help"); code != 0 || !strings.Contains(h.stdout.String(), "Subcommands") {
		t.Errorf("--help: %d %s", code, h.stdout.String())
	}
	for _, sub := range []string{"check", "deploy", "role-policy", "ensure-role", "ros-upload"} {
		h.stdout.Reset()
		if code := h.main(sub, "--help"); code != 0 || !strings.Contains(h.stdout.String(), "Usage: go run ./scripts/deploy "+sub) {
			t.Errorf("%s --help: exit %d, %q", sub, code, h.stdout.String())
		}
	}
	if code := h.main("frobnicate"); code != 2 {
		t.Errorf("unknown subcommand: exit %d", code)
	}
}

func TestCheck(t *testing.T) {
	h := newHarness(t, baseEnv())
	if code := h.main("check"); code != 0 {
		t.Fatalf("check: exit %d\n%s%s", code, h.stdout.String(), h.stderr.String())
	}
	out := h.stdout.String()
	if !strings.Contains(out, "spec s.yaml") || !strings.Contains(out, "ensure-role: sase-functions-role") ||
		strings.Contains(out, strings.Repeat("ab", 32)) || !strings.Contains(out, "(set, 64 bytes)") {
		t.Errorf("check printed:\n%s", out)
	}

	for name, tc := range map[string]struct {
		mod  func(map[string]string)
		want string
	}{
		"missing":          {func(e map[string]string) { delete(e, "JWT_ISSUER") }, "JWT_ISSUER is not set"},
		"two jwks":         {func(e map[string]string) { e["JWKS_JSON"] = `{"keys":[{}]}` }, "exactly one of JWKS_URL and JWKS_JSON"},
		"bad role":         {func(e map[string]string) { e["SASE_FUNCTION_ROLE_ARN"] = "role/x" }, "SASE_FUNCTION_ROLE_ARN"},
		"short key":        {func(e map[string]string) { e["PAGE_TOKEN_KEY"] = "short" }, "PAGE_TOKEN_KEY is 5 characters"},
		"jwt without keys": {func(e map[string]string) { e["SASE_TRIGGER_AUTH"] = "jwt" }, "SASE_TRIGGER_AUTH=jwt needs JWKS_JSON"},
		"bad log level":    {func(e map[string]string) { e["LOG_LEVEL"] = "loud" }, "LOG_LEVEL"},
		"bad endpoint":     {func(e map[string]string) { e["TABLESTORE_ENDPOINT"] = "ots.example" }, "TABLESTORE_ENDPOINT"},
	} {
		t.Run(name, func(t *testing.T) {
			env := baseEnv()
			tc.mod(env)
			h := newHarness(t, env)
			if code := h.main("check"); code != 1 || !strings.Contains(h.stderr.String(), tc.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant it to mention %q", code, h.stderr.String(), tc.want)
			}
		})
	}
}

func TestDeployRunsTheSteps(t *testing.T) {
	env := baseEnv()
	env["SASE_FUNCTION_ROLE_ARN"] = "acs:ram::" + account + ":role/my-role"
	env["SASE_ACCESS"] = "prod"
	h := newHarness(t, env)
	if code := h.main("deploy"); code != 0 {
		t.Fatalf("deploy: exit %d\n%s%s", code, h.stdout.String(), h.stderr.String())
	}
	var got []string
	for _, c := range h.calls {
		got = append(got, c.name+" "+strings.Join(c.args, " "))
		if !slices.Contains(c.env, "SASE_FUNCTION_ROLE_ARN="+env["SASE_FUNCTION_ROLE_ARN"]) {
			t.Errorf("%s runs without the role ARN", c.name)
		}
	}
	want := []string{
		"go run ./scripts/create-tables",
		"s deploy -y -t s.yaml -a prod",
		"s deploy -y -t s.domain.yaml -a prod",
	}
	if !slices.Equal(got, want) {
		t.Errorf("deploy ran\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}

	if out := h.stdout.String(); !strings.Contains(out, "The console: https://"+testDomain+"/") {
		t.Errorf("deploy does not say where the console is:\n%s", out)
	}

	// JWT triggers (an issuer of one's own), no tables.
	env = baseEnv()
	env["SASE_FUNCTION_ROLE_ARN"] = "acs:ram::" + account + ":role/my-role"
	delete(env, "JWKS_URL")
	env["JWKS_JSON"] = `{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"}]}`
	env["SASE_TRIGGER_AUTH"] = "jwt"
	h = newHarness(t, env)
	if code := h.main("deploy", "--skip-tables"); code != 0 {
		t.Fatalf("deploy: exit %d\n%s%s", code, h.stdout.String(), h.stderr.String())
	}
	if len(h.calls) != 2 || strings.Join(h.calls[0].args, " ") != "deploy -y -t s.jwt.yaml" || strings.Join(h.calls[1].args, " ") != "deploy -y -t s.domain.yaml" {
		t.Errorf("deploy ran %+v", h.calls)
	}
}

func TestDeployNeedsTheZips(t *testing.T) {
	env := baseEnv()
	env["SASE_FUNCTION_ROLE_ARN"] = "acs:ram::" + account + ":role/my-role"
	h := newHarness(t, env)
	if err := os.Remove(filepath.Join(h.tool.root, deploy.CodeZip("list-members"))); err != nil {
		t.Fatal(err)
	}
	if code := h.main("deploy"); code != 1 || !strings.Contains(h.stderr.String(), "dist/list-members.zip") || len(h.calls) != 0 {
		t.Errorf("exit %d, calls %v, stderr %s", code, h.calls, h.stderr.String())
	}
}

// fakeRAM answers the RAM and STS RPC actions ensure-role uses.
type fakeRAM struct {
	mu       sync.Mutex
	roles    map[string]string // name -> trust
	policies map[string]string // name -> default document
	attached map[string]bool
	actions  []string
}

func (f *fakeRAM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f.mu.Lock()
	defer f.mu.Unlock()
	action := r.Form.Get("Action")
	f.actions = append(f.actions, action)
	reply := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	arn := func(name string) string { return "acs:ram::" + account + ":role/" + strings.ToLower(name) }
	switch action {
	case "GetCallerIdentity":
		reply(200, map[string]any{"RequestId": "r", "AccountId": account, "IdentityType": "RAMUser"})
	case "GetRole":
		name := r.Form.Get("RoleName")
		if trust, ok := f.roles[name]; ok {
			reply(200, map[string]any{"Role": map[string]any{"RoleName": name, "Arn": arn(name), "AssumeRolePolicyDocument": trust}})
		} else {
			reply(404, map[string]any{"Code": "EntityNotExist.Role", "Message": "The role does not exist."})
		}
	case "CreateRole":
		name := r.Form.Get("RoleName")
		f.roles[name] = r.Form.Get("AssumeRolePolicyDocument")
		reply(200, map[string]any{"Role": map[string]any{"RoleName": name, "Arn": arn(name)}})
	case "UpdateRole":
		f.roles[r.Form.Get("RoleName")] = r.Form.Get("NewAssumeRolePolicyDocument")
		reply(200, map[string]any{"RequestId": "r"})
	case "GetPolicy":
		if doc, ok := f.policies[r.Form.Get("PolicyName")]; ok && r.Form.Get("PolicyType") == "Custom" {
			reply(200, map[string]any{"DefaultPolicyVersion": map[string]any{"PolicyDocument": doc, "IsDefaultVersion": true}})
		} else {
			reply(404, map[string]any{"Code": "EntityNotExist.Policy", "Message": "The policy does not exist."})
		}
	case "CreatePolicy":
		f.policies[r.Form.Get("PolicyName")] = r.Form.Get("PolicyDocument")
		reply(200, map[string]any{"RequestId": "r"})
	case "CreatePolicyVersion":
		if r.Form.Get("SetAsDefault") != "true" {
			reply(400, map[string]any{"Code": "Test.NotDefault"})
			return
		}
		f.policies[r.Form.Get("PolicyName")] = r.Form.Get("PolicyDocument")
		reply(200, map[string]any{"RequestId": "r"})
	case "AttachPolicyToRole":
		key := r.Form.Get("PolicyName") + "@" + r.Form.Get("RoleName")
		if f.attached[key] {
			reply(409, map[string]any{"Code": "EntityAlreadyExists.Role.Policy"})
			return
		}
		f.attached[key] = true
		reply(200, map[string]any{"RequestId": "r"})
	default:
		reply(400, map[string]any{"Code": "Test.UnknownAction", "Message": action})
	}
}

func (f *fakeRAM) take() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	a := f.actions
	f.actions = nil
	return a
}

func TestEnsureRole(t *testing.T) {
	fake := &fakeRAM{roles: map[string]string{}, policies: map[string]string{}, attached: map[string]bool{}}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	h := newHarness(t, baseEnv())
	args := []string{"ensure-role", "--ram-endpoint", srv.URL, "--sts-endpoint", srv.URL}

	if code := h.main(args...); code != 0 {
		t.Fatalf("ensure-role: exit %d\n%s%s", code, h.stdout.String(), h.stderr.String())
	}
	if got := strings.Join(fake.take(), " "); got != "GetCallerIdentity GetRole CreateRole GetPolicy CreatePolicy AttachPolicyToRole" {
		t.Errorf("first run: %s", got)
	}
	if !strings.HasSuffix(strings.TrimSpace(h.stdout.String()), "acs:ram::"+account+":role/sase-functions-role") {
		t.Errorf("ensure-role printed %s", h.stdout.String())
	}
	// What RAM got is template.yaml's role for these values.
	spec, err := deploy.FunctionRoleSpec(h.tool.root, deploy.RoleValues{Prefix: "sase-", Region: "cn-hangzhou", AccountID: account, Instance: "sase-test", TablePrefix: "sase_"})
	if err != nil {
		t.Fatal(err)
	}
	if !samePolicy(fake.policies["sase-functions-policy"], spec.Policy) {
		t.Errorf("policy sent %s, want %+v", fake.policies["sase-functions-policy"], spec.Policy)
	}
	if !strings.Contains(fake.roles["sase-functions-role"], "fc.aliyuncs.com") {
		t.Errorf("trust sent %s", fake.roles["sase-functions-role"])
	}

	// Idempotent.
	if code := h.main(args...); code != 0 {
		t.Fatalf("second run: exit %d\n%s", code, h.stderr.String())
	}
	if got := strings.Join(fake.take(), " "); got != "GetCallerIdentity GetRole GetPolicy AttachPolicyToRole" {
		t.Errorf("second run: %s", got)
	}

	// Drift is corrected.
	fake.mu.Lock()
	fake.policies["sase-functions-policy"] = `{"Version":"1","Statement":[{"Effect":"Allow","Action":"ots:*","Resource":"*"}]}`
	fake.roles["sase-functions-role"] = `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Service":["ecs.aliyuncs.com"]}}]}`
	fake.mu.Unlock()
	if code := h.main(args...); code != 0 {
		t.Fatalf("third run: exit %d\n%s", code, h.stderr.String())
	}
	if got := strings.Join(fake.take(), " "); got != "GetCallerIdentity GetRole UpdateRole GetPolicy CreatePolicyVersion AttachPolicyToRole" {
		t.Errorf("third run: %s", got)
	}
	if !samePolicy(fake.policies["sase-functions-policy"], spec.Policy) {
		t.Errorf("policy after drift %s", fake.policies["sase-functions-policy"])
	}

	// deploy without SASE_FUNCTION_ROLE_ARN ensures the role first.
	h.calls = nil
	h.stdout.Reset()
	if code := h.main("deploy", "--skip-tables", "--ram-endpoint", srv.URL, "--sts-endpoint", srv.URL); code != 0 {
		t.Fatalf("deploy: exit %d\n%s", code, h.stderr.String())
	}
	if len(h.calls) != 2 || !slices.Contains(h.calls[0].env, "SASE_FUNCTION_ROLE_ARN=acs:ram::"+account+":role/sase-functions-role") {
		t.Errorf("deploy ran %+v", h.calls)
	}

	// Without operator credentials it says what to do.
	env := baseEnv()
	delete(env, "ALIBABA_CLOUD_ACCESS_KEY_SECRET")
	h2 := newHarness(t, env)
	if code := h2.main(args...); code != 1 || !strings.Contains(h2.stderr.String(), "SASE_FUNCTION_ROLE_ARN") {
		t.Errorf("exit %d: %s", code, h2.stderr.String())
	}
}

func TestRolePolicyAndROSUpload(t *testing.T) {
	env := baseEnv()
	env["SASE_FUNCTION_ROLE_ARN"] = "acs:ram::" + account + ":role/my-role"
	h := newHarness(t, env)
	if code := h.main("role-policy"); code != 0 {
		t.Fatalf("role-policy: exit %d\n%s", code, h.stderr.String())
	}
	out := h.stdout.String()
	for _, want := range []string{"# role sase-functions-role", "fc.aliyuncs.com", "resourcemanager:ListAccounts",
		"acs:ots:cn-hangzhou:" + account + ":instance/sase-test/table/sase_*"} {
		if !strings.Contains(out, want) {
			t.Errorf("role-policy output lacks %q:\n%s", want, out)
		}
	}

	h.stdout.Reset()
	if code := h.main("ros-upload", "--bucket", "code-bucket"); code != 0 {
		t.Fatalf("ros-upload: exit %d\n%s", code, h.stderr.String())
	}
	fns, _ := deploy.Functions(h.tool.root)
	if len(h.calls) != len(fns) {
		t.Fatalf("ros-upload ran %d commands for %d functions", len(h.calls), len(fns))
	}
	c := h.calls[0]
	if want := fmt.Sprintf("aliyun oss cp dist/%s.zip oss://code-bucket/sase-multiaccount/%s.zip -f", fns[0].Name, fns[0].Name); c.name+" "+strings.Join(c.args, " ") != want {
		t.Errorf("ran %s %v, want %s", c.name, c.args, want)
	}
	if code := h.main("ros-upload"); code != 1 {
		t.Errorf("ros-upload without a bucket: exit %d", code)
	}
}
