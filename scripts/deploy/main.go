// Command deploy deploys the bundle with Serverless Devs (`s deploy`), the
// way `make deploy` runs it, and prepares the ROS route. Subcommands:
//
//	check        validate the environment, resolve s.yaml and load every
//	             function's configuration as Function Compute would
//	deploy       check, ensure the function role (unless
//	             SASE_FUNCTION_ROLE_ARN is given), create or check the
//	             tables (scripts/create-tables), then s deploy and the
//	             console's custom domain (SASE_CUSTOM_DOMAIN), or every
//	             function but the console (SASE_SKIP_CONSOLE=true)
//	role-policy  print the function role's trust and permission policies
//	ensure-role  create or update the function role and its policy (RAM)
//	ros-upload   upload dist/<function>.zip to OSS for template.yaml
//
// Run `go run ./scripts/deploy <subcommand> --help`; docs/DEPLOY.md has the
// whole procedure.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/sase-multiaccount/backend/deploy"
	"github.com/sase-multiaccount/backend/shared/config"
	"github.com/sase-multiaccount/backend/shared/console"
	"github.com/sase-multiaccount/backend/shared/endpoints"
)

const usage = `Usage: go run ./scripts/deploy <subcommand> [flags]

Subcommands:
  check        validate the environment and resolve s.yaml as s deploy would
  deploy       check, ensure the role, create/check the tables, then s deploy
  role-policy  print the function role's trust and permission policies
  ensure-role  create or update the function role and its policy in RAM
  ros-upload   upload the function zips to OSS for template.yaml (ROS)

Environment (docs/DEPLOY.md): TABLESTORE_ENDPOINT, TABLESTORE_INSTANCE,
JWT_ISSUER, JWT_AUDIENCE, JWKS_URL or JWKS_JSON, PAGE_TOKEN_KEY are required;
SASE_FUNCTION_ROLE_ARN (else ensure-role makes <prefix>functions-role),
SASE_REGION, SASE_FUNCTION_PREFIX, SASE_ACCESS, SASE_TRIGGER_AUTH (anonymous
or jwt), the optional function variables of s.yaml, and for the console its
custom domain: SASE_CUSTOM_DOMAIN, SASE_CUSTOM_DOMAIN_CERT and
SASE_CUSTOM_DOMAIN_KEY (or SASE_SKIP_CONSOLE=true: the API only).
The RAM, Tablestore and OSS steps use the operator's credentials from
ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET (/ ALIBABA_CLOUD_SECURITY_TOKEN).
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	t := &tool{getenv: os.Getenv, stdout: os.Stdout, stderr: os.Stderr, run: runCommand, ram: newRAM}
	code := t.main(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

// tool is the command with its outside world replaceable (tests).
type tool struct {
	getenv         func(string) string
	stdout, stderr io.Writer
	root           string
	// run executes a command in the module root with extra environment.
	run func(ctx context.Context, dir string, env []string, name string, args ...string) error
	// ram builds the RAM/STS client of ensure-role.
	ram func(o ramOptions) (ramAPI, error)
}

func runCommand(ctx context.Context, dir string, env []string, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	return cmd.Run()
}

func (t *tool) main(ctx context.Context, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(t.stdout, usage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	if t.root == "" {
		r, err := deploy.Root(".")
		if err != nil {
			fmt.Fprintln(t.stderr, "deploy:", err)
			return 1
		}
		t.root = r
	}
	var err error
	switch args[0] {
	case "check":
		err = t.check(args[1:])
	case "deploy":
		err = t.deploy(ctx, args[1:])
	case "role-policy":
		err = t.rolePolicy(args[1:])
	case "ensure-role":
		err = t.ensureRoleCmd(ctx, args[1:])
	case "ros-upload":
		err = t.rosUpload(ctx, args[1:])
	default:
		fmt.Fprintf(t.stderr, "deploy: unknown subcommand %q\n\n%s", args[0], usage)
		return 2
	}
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	case err != nil:
		fmt.Fprintln(t.stderr, "deploy:", err)
		return 1
	}
	return 0
}

var errUsage = errors.New("usage")

func (t *tool) flags(name, help string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(t.stderr)
	fs.Usage = func() {
		fs.SetOutput(t.stdout)
		fmt.Fprintf(t.stdout, "Usage: go run ./scripts/deploy %s [flags]\n\n%s\n", name, help)
		fs.PrintDefaults()
	}
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "unexpected arguments: %v\n", fs.Args())
		return errUsage
	}
	return nil
}

func (t *tool) env(name, def string) string {
	if v := strings.TrimSpace(t.getenv(name)); v != "" {
		return v
	}
	return def
}

// settings are the deployment settings read from the environment.
type settings struct {
	region, prefix, access, triggerAuth, domain, domainProtocol string
	roleARN                                                     string // "" = ensure-role provides it
	skipConsole                                                 bool   // deploy every function but the console
}

func (t *tool) settings() settings {
	skip, _ := strconv.ParseBool(t.env("SASE_SKIP_CONSOLE", "false")) // envProblems reports a bad value
	return settings{
		region: t.env("SASE_REGION", "cn-hangzhou"), prefix: t.env("SASE_FUNCTION_PREFIX", "sase-"),
		access: t.env("SASE_ACCESS", ""), triggerAuth: t.env("SASE_TRIGGER_AUTH", "anonymous"),
		domain: t.env("SASE_CUSTOM_DOMAIN", ""), domainProtocol: t.env("SASE_CUSTOM_DOMAIN_PROTOCOL", "HTTPS"),
		roleARN: t.env("SASE_FUNCTION_ROLE_ARN", ""), skipConsole: skip,
	}
}

// specFile is the spec `s deploy` runs for the trigger authentication.
func (s settings) specFile() string {
	if s.triggerAuth == "jwt" {
		return "s.jwt.yaml"
	}
	return "s.yaml"
}

var (
	roleARNRE  = regexp.MustCompile(`^acs:ram::(\d{16}):role/[A-Za-z0-9.-]{1,64}$`)
	regionRE   = regexp.MustCompile(`^[a-z]{2}-[a-z0-9-]+$`)
	prefixRE   = regexp.MustCompile(`^[a-z][a-z0-9-]{0,20}$`)
	instanceRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{1,14}[A-Za-z0-9]$`)
)

// placeholderAccount stands for the deploying account while it is unknown.
const placeholderAccount = "1000000000000001"

// validate checks the environment for s deploy and resolves the spec. With
// needRole false a missing SASE_FUNCTION_ROLE_ARN is allowed (ensure-role
// provides it).
func (t *tool) validate(s settings, needRole bool) (*deploy.Spec, []string) {
	problems, account := t.envProblems(s, needRole)
	problems = append(problems, t.authProblems(s)...)
	problems = append(problems, t.issuerProblems(s)...)
	problems = append(problems, t.claimProblems(s)...)
	problems = append(problems, t.consoleProblems(s)...)
	if len(problems) > 0 {
		return nil, problems
	}

	// Resolve the spec as s deploy would, then load each function's
	// environment as the function will in FC.
	lookup := func(name string) (string, bool) {
		if name == "SASE_FUNCTION_ROLE_ARN" && s.roleARN == "" {
			return "acs:ram::" + account + ":role/" + s.prefix + "functions-role", true
		}
		v := t.getenv(name)
		return v, v != ""
	}
	spec, err := deploy.LoadSpec(filepath.Join(t.root, s.specFile()), lookup, map[string]string{"AccountID": account})
	if err != nil {
		return nil, []string{err.Error()}
	}
	fns, err := deploy.Functions(t.root)
	if err != nil {
		return nil, []string{err.Error()}
	}
	if !s.skipConsole { // make deploy deploys s.domain.yaml next: it must resolve too
		if _, err := deploy.LoadSpec(filepath.Join(t.root, "s.domain.yaml"), lookup, nil); err != nil {
			problems = append(problems, err.Error())
		}
	}
	res := spec.Resources()
	for _, f := range fns {
		if s.skipConsole && f.Name == endpoints.Console.Name() {
			continue // not deployed: its settings do not matter
		}
		r, ok := res[f.Name]
		if !ok {
			problems = append(problems, fmt.Sprintf("%s has no resource for function %s", s.specFile(), f.Name))
			continue
		}
		problems = append(problems, functionEnvProblems(f, r, account)...)
	}
	return spec, problems
}

// envProblems checks the deployment's own variables and returns the
// account the role ARN names (placeholderAccount without one).
func (t *tool) envProblems(s settings, needRole bool) (problems []string, account string) {
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	for _, name := range deploy.RequiredEnv {
		if name == "SASE_FUNCTION_ROLE_ARN" && !needRole {
			continue
		}
		if t.env(name, "") == "" {
			add("%s is not set", name)
		}
	}
	account = placeholderAccount
	if s.roleARN != "" {
		m := roleARNRE.FindStringSubmatch(s.roleARN)
		if m == nil {
			add("SASE_FUNCTION_ROLE_ARN %q is not acs:ram::<16-digit account>:role/<name>", s.roleARN)
		} else {
			account = m[1]
		}
	}
	if !regionRE.MatchString(s.region) {
		add("SASE_REGION %q is not a region ID such as cn-hangzhou", s.region)
	}
	if !prefixRE.MatchString(s.prefix) {
		add("SASE_FUNCTION_PREFIX %q: lower-case letters, digits and hyphens, starting with a letter, at most 21", s.prefix)
	}
	if ep := t.env("TABLESTORE_ENDPOINT", ""); ep != "" {
		if u, err := url.Parse(ep); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			add("TABLESTORE_ENDPOINT %q is not an https URL", ep)
		}
	}
	if in := t.env("TABLESTORE_INSTANCE", ""); in != "" && !instanceRE.MatchString(in) {
		add("TABLESTORE_INSTANCE %q is not a Tablestore instance name (3-16 letters, digits, hyphens)", in)
	}
	if k := t.env("PAGE_TOKEN_KEY", ""); k != "" && len(k) < 32 {
		add("PAGE_TOKEN_KEY is %d characters: use at least 32 random ones (openssl rand -hex 32)", len(k))
	}
	if _, err := strconv.ParseBool(t.env("SASE_SKIP_CONSOLE", "false")); err != nil {
		add("SASE_SKIP_CONSOLE %q must be true or false", t.env("SASE_SKIP_CONSOLE", ""))
	}
	return problems, account
}

// authProblems checks how callers are authenticated: the JWKS and the
// trigger's authentication.
func (t *tool) authProblems(s settings) []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	jwksURL, jwksJSON := t.env("JWKS_URL", ""), t.env("JWKS_JSON", "")
	if (jwksURL == "") == (jwksJSON == "") {
		add("set exactly one of JWKS_URL and JWKS_JSON")
	}
	if jwksJSON != "" {
		var v struct{ Keys []json.RawMessage }
		if err := json.Unmarshal([]byte(jwksJSON), &v); err != nil || len(v.Keys) == 0 {
			add("JWKS_JSON is not a JWKS ({\"keys\":[...]})")
		}
	}
	switch s.triggerAuth {
	case "anonymous":
	case "jwt":
		if jwksJSON == "" {
			add("SASE_TRIGGER_AUTH=jwt needs JWKS_JSON: the trigger keeps a static copy of the keys")
		}
	default:
		add("SASE_TRIGGER_AUTH %q must be anonymous or jwt", s.triggerAuth)
	}
	return problems
}

// functionEnvProblems loads function f's environment, as the spec resolves
// it in resource r, the way f will in FC, and checks its size.
func functionEnvProblems(f deploy.Function, r map[string]any, account string) []string {
	var problems []string
	envMap, _ := deploy.Get(r, "props", "environmentVariables")
	m, _ := envMap.(map[string]any)
	vars := map[string]string{"FC_RUNTIME_API": "127.0.0.1:9000", "FC_ACCOUNT_ID": account}
	size := 0
	for k, v := range m {
		vars[k] = fmt.Sprint(v)
		size += len(k) + len(fmt.Sprint(v))
	}
	if size > 4096 {
		problems = append(problems, fmt.Sprintf("%s: the environment variables take %d bytes; FC allows 4 KB", f.Name, size))
	}
	load := func(get func(string) string) error { _, err := config.Load(get); return err }
	if f.Name == endpoints.Console.Name() { // the console reads its own variables
		load = func(get func(string) string) error { _, err := console.Load(get); return err }
	}
	if err := load(func(k string) string { return vars[k] }); err != nil {
		problems = append(problems, fmt.Sprintf("%s: %v", f.Name, err))
	}
	return problems
}

func (t *tool) check(args []string) error {
	fs := t.flags("check", "Validates the environment for `make deploy`, resolves the spec (s.yaml or s.jwt.yaml)\nand loads every function's configuration as Function Compute would. Reaches nothing.")
	if err := parse(fs, args); err != nil {
		return err
	}
	s := t.settings()
	spec, problems := t.validate(s, false)
	if len(problems) > 0 {
		return fmt.Errorf("the environment is not ready:\n  - %s", strings.Join(problems, "\n  - "))
	}
	t.summary(s, spec)
	fmt.Fprintln(t.stdout, "ok")
	return nil
}

func (t *tool) summary(s settings, spec *deploy.Spec) {
	fmt.Fprintf(t.stdout, "region %s, functions %s<name>, spec %s\n", s.region, s.prefix, s.specFile())
	switch {
	case s.skipConsole:
		fmt.Fprintln(t.stdout, "console skipped (SASE_SKIP_CONSOLE): the API only, on the trigger URLs")
	default:
		fmt.Fprintf(t.stdout, "console https://%s/ (%s): %s\n", s.domain, s.domainProtocol, domainNeeds(s.region))
	}
	role := s.roleARN
	if role == "" {
		role = "(ensure-role: " + s.prefix + "functions-role)"
	}
	fmt.Fprintf(t.stdout, "role %s\n", role)
	for _, name := range []string{"TABLESTORE_ENDPOINT", "TABLESTORE_INSTANCE", "TABLESTORE_TABLE_PREFIX", "JWT_ISSUER", "JWT_AUDIENCE", "JWKS_URL", "JWKS_JSON", "PAGE_TOKEN_KEY", "CORS_ALLOWED_ORIGINS", "LOG_LEVEL"} {
		v := t.env(name, "")
		switch {
		case v == "":
			v = "(default)"
		case name == "PAGE_TOKEN_KEY" || name == "JWKS_JSON":
			v = fmt.Sprintf("(set, %d bytes)", len(v))
		}
		fmt.Fprintf(t.stdout, "  %-24s %s\n", name, v)
	}
	fmt.Fprintf(t.stdout, "%d functions\n", len(t.deployed(s, spec)))
}

// domainNeeds says what the custom domain needs outside this repository:
// DNS, and in mainland China regions an ICP filing (cn-hongkong is not
// mainland).
func domainNeeds(region string) string {
	needs := "CNAME to <account-id>." + region + ".fc.aliyuncs.com"
	if strings.HasPrefix(region, "cn-") && region != "cn-hongkong" {
		needs += "; mainland China region: the domain needs an ICP filing that names Alibaba Cloud"
	}
	return needs
}

// deployed are the spec's resources s deploy creates, sorted: every
// function, but the console when it is skipped.
func (t *tool) deployed(s settings, spec *deploy.Spec) []string {
	var out []string
	for _, name := range slices.Sorted(maps.Keys(spec.Resources())) {
		if !(s.skipConsole && name == endpoints.Console.Name()) {
			out = append(out, name)
		}
	}
	return out
}

func (t *tool) deploy(ctx context.Context, args []string) error {
	fs := t.flags("deploy", "Checks the environment, ensures the function role (when SASE_FUNCTION_ROLE_ARN is unset),\ncreates or checks the tables, then runs s deploy and deploys the console's custom domain\n(SASE_CUSTOM_DOMAIN), or every function but the console (SASE_SKIP_CONSOLE=true).\nRun make build first (make deploy does).")
	skipTables := fs.Bool("skip-tables", false, "do not run scripts/create-tables")
	dryRun := fs.Bool("dry-run", false, "print the steps instead of running them")
	ramEndpoint := fs.String("ram-endpoint", "ram.aliyuncs.com", "RAM endpoint (tests point it at a fake)")
	stsEndpoint := fs.String("sts-endpoint", "sts.aliyuncs.com", "STS endpoint (tests point it at a fake)")
	if err := parse(fs, args); err != nil {
		return err
	}
	s := t.settings()
	spec, problems := t.validate(s, false)
	if len(problems) > 0 {
		return fmt.Errorf("the environment is not ready (go run ./scripts/deploy check):\n  - %s", strings.Join(problems, "\n  - "))
	}
	if err := t.zipsPresent(); err != nil {
		return err
	}
	t.summary(s, spec)
	if s.roleARN == "" {
		fmt.Fprintf(t.stdout, "==> function role %sfunctions-role (RAM)\n", s.prefix)
		if *dryRun {
			fmt.Fprintln(t.stdout, "(dry run) ensure-role")
			s.roleARN = "acs:ram::" + placeholderAccount + ":role/" + s.prefix + "functions-role"
		} else {
			arn, err := t.ensureRole(ctx, s, ramOptions{ramEndpoint: *ramEndpoint, stsEndpoint: *stsEndpoint})
			if err != nil {
				return err
			}
			s.roleARN = arn
		}
	}
	return t.deploySteps(ctx, s, spec, *skipTables, *dryRun)
}

// zipsPresent checks that make build wrote every function's code package.
func (t *tool) zipsPresent() error {
	fns, err := deploy.Functions(t.root)
	if err != nil {
		return err
	}
	var missing []string
	for _, f := range fns {
		if _, err := os.Stat(filepath.Join(t.root, deploy.CodeZip(f.Name))); err != nil {
			missing = append(missing, deploy.CodeZip(f.Name))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing code packages (run make build): %s", strings.Join(missing, ", "))
	}
	return nil
}

// deploySteps runs the tables, s deploy and the custom domain, with the
// function role's ARN in their environment.
func (t *tool) deploySteps(ctx context.Context, s settings, spec *deploy.Spec, skipTables, dryRun bool) error {
	step := func(what string) { fmt.Fprintf(t.stdout, "==> %s\n", what) }
	run := func(name string, args ...string) error {
		fmt.Fprintf(t.stdout, "$ %s %s\n", name, strings.Join(args, " "))
		if dryRun {
			return nil
		}
		if err := t.run(ctx, t.root, []string{"SASE_FUNCTION_ROLE_ARN=" + s.roleARN}, name, args...); err != nil {
			return fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
		}
		return nil
	}
	if !skipTables {
		step("Tablestore tables (idempotent)")
		if err := run("go", "run", "./scripts/create-tables"); err != nil {
			return err
		}
	}
	sArgs := func(pre []string, file string) []string {
		a := append(pre, "deploy", "-y", "-t", file)
		if s.access != "" {
			a = append(a, "-a", s.access)
		}
		return a
	}
	if s.skipConsole {
		// s deploy has no way to leave a resource out: deploy the others one by one.
		step("functions and triggers but the console, one by one (" + s.specFile() + ")")
		for _, name := range t.deployed(s, spec) {
			if err := run("s", sArgs([]string{name}, s.specFile())...); err != nil {
				return err
			}
		}
		fmt.Fprintln(t.stdout, "deployed, without the console. The trigger URLs: s info -t "+s.specFile())
		return nil
	}
	step("functions and triggers (" + s.specFile() + ")")
	if err := run("s", sArgs(nil, s.specFile())...); err != nil {
		return err
	}
	step("the console's custom domain " + s.domain)
	if err := run("s", sArgs(nil, "s.domain.yaml")...); err != nil {
		return err
	}
	fmt.Fprintf(t.stdout, "deployed. The console: https://%s/ (every function at https://%s/<function-name>)\n", s.domain, s.domain)
	return nil
}

func (t *tool) roleValues(s settings, account string) deploy.RoleValues {
	return deploy.RoleValues{Prefix: s.prefix, Region: s.region, AccountID: account,
		Instance: t.env("TABLESTORE_INSTANCE", ""), TablePrefix: t.env("TABLESTORE_TABLE_PREFIX", "sase_")}
}

func (t *tool) rolePolicy(args []string) error {
	fs := t.flags("role-policy", "Prints the function role's name, trust policy and permission policy (from template.yaml)\nfor TABLESTORE_INSTANCE, TABLESTORE_TABLE_PREFIX, SASE_REGION and SASE_FUNCTION_PREFIX.")
	account := fs.String("account", "", "the deploying account's UID (default: from SASE_FUNCTION_ROLE_ARN)")
	if err := parse(fs, args); err != nil {
		return err
	}
	s := t.settings()
	if *account == "" {
		if m := roleARNRE.FindStringSubmatch(s.roleARN); m != nil {
			*account = m[1]
		}
	}
	if *account == "" || t.env("TABLESTORE_INSTANCE", "") == "" {
		return errors.New("needs --account (or SASE_FUNCTION_ROLE_ARN) and TABLESTORE_INSTANCE")
	}
	spec, err := deploy.FunctionRoleSpec(t.root, t.roleValues(s, *account))
	if err != nil {
		return err
	}
	trust, _ := json.MarshalIndent(spec.Trust, "", "  ")
	pol, _ := json.MarshalIndent(spec.Policy, "", "  ")
	fmt.Fprintf(t.stdout, "# role %s\n# trust policy\n%s\n# permission policy %s\n%s\n", spec.RoleName, trust, spec.PolicyName, pol)
	return nil
}

func (t *tool) ensureRoleCmd(ctx context.Context, args []string) error {
	fs := t.flags("ensure-role", "Creates the function role <prefix>functions-role trusted by Function Compute, and its\npolicy <prefix>functions-policy (template.yaml), or updates them to match. Uses the\noperator's credentials (ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET); prints the role ARN.")
	ramEndpoint := fs.String("ram-endpoint", "ram.aliyuncs.com", "RAM endpoint")
	stsEndpoint := fs.String("sts-endpoint", "sts.aliyuncs.com", "STS endpoint")
	if err := parse(fs, args); err != nil {
		return err
	}
	if t.env("TABLESTORE_INSTANCE", "") == "" {
		return errors.New("TABLESTORE_INSTANCE is not set: the policy names the instance")
	}
	arn, err := t.ensureRole(ctx, t.settings(), ramOptions{ramEndpoint: *ramEndpoint, stsEndpoint: *stsEndpoint})
	if err != nil {
		return err
	}
	fmt.Fprintln(t.stdout, arn)
	return nil
}

func (t *tool) rosUpload(ctx context.Context, args []string) error {
	fs := t.flags("ros-upload", "Uploads dist/<function>.zip to oss://<bucket>/<prefix><function>.zip for template.yaml\n(parameters CodeBucket and CodePrefix) with the aliyun CLI (aliyun oss cp).")
	bucket := fs.String("bucket", t.env("SASE_CODE_BUCKET", ""), "OSS bucket in the stack's region (default $SASE_CODE_BUCKET)")
	prefix := fs.String("prefix", t.env("SASE_CODE_PREFIX", "sase-multiaccount/"), "object name prefix (template parameter CodePrefix)")
	dryRun := fs.Bool("dry-run", false, "print the commands only")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *bucket == "" {
		return errors.New("--bucket (or SASE_CODE_BUCKET) is required")
	}
	fns, err := deploy.Functions(t.root)
	if err != nil {
		return err
	}
	for _, f := range fns {
		src := deploy.CodeZip(f.Name)
		if _, err := os.Stat(filepath.Join(t.root, src)); err != nil {
			return fmt.Errorf("%s is missing: run make build", src)
		}
		args := []string{"oss", "cp", src, "oss://" + *bucket + "/" + *prefix + f.Name + ".zip", "-f"}
		fmt.Fprintf(t.stdout, "$ aliyun %s\n", strings.Join(args, " "))
		if !*dryRun {
			if err := t.run(ctx, t.root, nil, "aliyun", args...); err != nil {
				return fmt.Errorf("upload %s: %w", src, err)
			}
		}
	}
	return nil
}
