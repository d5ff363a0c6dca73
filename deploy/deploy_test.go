package deploy

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sase-multiaccount/backend/shared/config"
	"github.com/sase-multiaccount/backend/shared/console"
	"github.com/sase-multiaccount/backend/shared/endpoints"
	"github.com/sase-multiaccount/backend/shared/events"
	"github.com/sase-multiaccount/backend/shared/usecase/dirsync"
)

// These tests read s.yaml, s.jwt.yaml, s.domain.yaml and template.yaml the
// way `s deploy` and ROS would see them and check them against functions/
// and the code. They build nothing and reach nothing outside the process.

const testAccount = "1234567890123456"

// operatorEnv are the values an operator sets for `make deploy`.
func operatorEnv() map[string]string {
	return map[string]string{
		"SASE_FUNCTION_ROLE_ARN": "acs:ram::" + testAccount + ":role/sase-functions-role",
		"TABLESTORE_ENDPOINT":    "https://sase-test.cn-hangzhou.ots.aliyuncs.com",
		"TABLESTORE_INSTANCE":    "sase-test",
		"JWT_ISSUER":             "https://login.example.com",
		"JWT_AUDIENCE":           "sase-console",
		"JWKS_URL":               "https://login.example.com/.well-known/jwks.json",
		"PAGE_TOKEN_KEY":         strings.Repeat("5a", 32),
	}
}

// requiredOperatorEnv are the variables s.yaml has no default for.
var requiredOperatorEnv = []string{
	"JWT_AUDIENCE", "JWT_ISSUER", "PAGE_TOKEN_KEY", "SASE_FUNCTION_ROLE_ARN", "TABLESTORE_ENDPOINT", "TABLESTORE_INSTANCE",
}

// rosParams are the values an operator gives the ROS template.
func rosParams() map[string]string {
	return map[string]string{
		"CodeBucket":             "sase-code",
		"TablestoreInstanceName": "sase-test",
		"JwtIssuer":              "https://login.example.com",
		"JwtAudience":            "sase-console",
		"JwksUrl":                "https://login.example.com/.well-known/jwks.json",
		"PageTokenKey":           strings.Repeat("5a", 32),
		// The console comes with its custom domain (docs/DEPLOY.md).
		"CustomDomainName":        testDomain,
		"CustomDomainCertificate": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
		"CustomDomainPrivateKey":  "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n",
	}
}

// testDomain is the console's custom domain in the tests.
const testDomain = "console.example.com"

var rosPseudo = Pseudo{Region: "cn-hangzhou", AccountID: testAccount, StackName: "sase"}

func root(t testing.TB) string {
	t.Helper()
	r, err := Root(".")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// deployment is what s.yaml must deploy: every declared function.
type deployment struct {
	fns []Function
}

func (d deployment) names() []string {
	var out []string
	for _, f := range d.fns {
		out = append(out, f.Name)
	}
	return out
}

func (d deployment) byName(name string) (Function, bool) {
	i := slices.IndexFunc(d.fns, func(f Function) bool { return f.Name == name })
	if i < 0 {
		return Function{}, false
	}
	return d.fns[i], true
}

func loadDeployment(t *testing.T) deployment {
	t.Helper()
	fns, err := Functions(root(t))
	if err != nil {
		t.Fatal(err)
	}
	return deployment{fns: fns}
}

// methods are the HTTP functions' methods, from their declarations.
func methods() map[string]string {
	out := map[string]string{}
	for _, h := range endpoints.HTTPFunctions {
		out[h.Name()] = h.Method
	}
	return out
}

// isConsole: the console function serves a public page, holds the OAuth
// client secret and nothing else: its own environment, no role, no tables,
// GET and POST without CORS preflight (it is its own origin).
func isConsole(name string) bool { return name == endpoints.Console.Name() }

// triggerMethods are the methods of an HTTP function's trigger.
func triggerMethods(name string) []any {
	if isConsole(name) {
		var out []any
		for _, m := range endpoints.Console.Methods {
			out = append(out, m)
		}
		return out
	}
	return []any{methods()[name], "OPTIONS"}
}

// TestFunctionsMatchTheCode checks the list against the declarations: one
// HTTP function per declared HTTP function, the event and timer functions
// with their triggers.
func TestFunctionsMatchTheCode(t *testing.T) {
	d := loadDeployment(t)
	var httpFns, want []string
	for _, f := range d.fns {
		if f.Kind == HTTP {
			httpFns = append(httpFns, f.Name)
		}
	}
	for _, h := range endpoints.HTTPFunctions {
		want = append(want, h.Name())
	}
	want = append(want, endpoints.Console.Name())
	if slices.Sort(want); !slices.Equal(httpFns, want) {
		t.Errorf("HTTP functions = %v, want the HTTP declarations %v", httpFns, want)
	}
	for name, kind := range map[string]Kind{endpoints.DirectoryEvents.Action.String(): EventBridge,
		endpoints.ReconcileMembers.Action.String(): Timer} {
		if f, ok := d.byName(name); !ok || f.Kind != kind {
			t.Errorf("%s: %+v, want kind %s", name, f, kind)
		}
	}
	if LogicalID("deregister-delegated-admin") != "DeregisterDelegatedAdmin" {
		t.Errorf("LogicalID = %s", LogicalID("deregister-delegated-admin"))
	}
}

// TestFunctionsRefuseFolderWithoutDeclaration builds a copy of functions/
// with one folder too many and one missing, and expects both named.
func TestFunctionsRefuseFolderWithoutDeclaration(t *testing.T) {
	tmp := t.TempDir()
	fns, err := Functions(root(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fns[1:] { // the first declared function has no folder
		dir := filepath.Join(tmp, "functions", f.Name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(tmp, "functions", "rogue-function"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err = Functions(tmp)
	if err == nil {
		t.Fatal("Functions accepted a folder without declaration and a declaration without folder")
	}
	for _, want := range []string{"functions/rogue-function has no declaration", "declares " + fns[0].Name + " but functions/" + fns[0].Name + " does not exist"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

func loadSpec(t *testing.T, file string, env map[string]string) *Spec {
	t.Helper()
	s, err := LoadSpec(filepath.Join(root(t), file), MapLookup(env), map[string]string{"AccountID": testAccount})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// onlyTrigger returns the single trigger of a fc3 resource.
func onlyTrigger(t *testing.T, name string, props any) map[string]any {
	t.Helper()
	trs, _ := Get(props, "triggers")
	l, _ := trs.([]any)
	if len(l) != 1 {
		t.Fatalf("%s: %d triggers, want 1", name, len(l))
	}
	m, _ := l[0].(map[string]any)
	return m
}

func TestServerlessDevsSpec(t *testing.T) {
	d := loadDeployment(t)
	env := operatorEnv()
	s := loadSpec(t, "s.yaml", env)
	if s.Doc["edition"] != "3.0.0" {
		t.Errorf("edition = %v, want 3.0.0", s.Doc["edition"])
	}
	res := s.Resources()
	if got, want := slices.Sorted(maps.Keys(res)), d.names(); !slices.Equal(got, want) {
		t.Fatalf("s.yaml resources = %v, want one per function %v", got, want)
	}
	wantEnv := functionEnv(env)
	for _, f := range d.fns {
		r := res[f.Name]
		p := r["props"]
		check := func(key string, want any) {
			t.Helper()
			if got, _ := Get(p, key); !reflect.DeepEqual(got, want) {
				t.Errorf("%s: props.%s = %#v, want %#v", f.Name, key, got, want)
			}
		}
		if r["component"] != "fc3" {
			t.Errorf("%s: component = %v, want fc3", f.Name, r["component"])
		}
		check("region", "cn-hangzhou")
		check("functionName", "sase-"+f.Name)
		check("runtime", Runtime)
		check("handler", Handler)
		check("code", "./"+CodeZip(f.Name))
		check("internetAccess", true)
		if isConsole(f.Name) {
			check("role", nil)
			check("environmentVariables", consoleEnv(env))
		} else {
			check("role", env["SASE_FUNCTION_ROLE_ARN"])
			check("environmentVariables", wantEnv)
		}
		if lc, _ := Get(p, "logConfig"); lc == nil {
			t.Errorf("%s: no logConfig", f.Name)
		}
		mem, _ := Get(p, "memorySize")
		to, _ := Get(p, "timeout")
		if m, ok := mem.(int); !ok || m < 128 || m%64 != 0 {
			t.Errorf("%s: memorySize = %v, want a multiple of 64 MB", f.Name, mem)
		}
		if s, ok := to.(int); !ok || s < 1 || s > 600 {
			t.Errorf("%s: timeout = %v, want 1-600 s", f.Name, to)
		}
		tr := onlyTrigger(t, f.Name, p)
		if tr["triggerType"] != string(f.Kind) {
			t.Errorf("%s: trigger type %v, want %s", f.Name, tr["triggerType"], f.Kind)
			continue
		}
		cfg, _ := tr["triggerConfig"].(map[string]any)
		switch f.Kind {
		case HTTP:
			if got, want := cfg["methods"], triggerMethods(f.Name); !reflect.DeepEqual(got, want) {
				t.Errorf("%s: methods = %v, want %v (API.md: the function's method and the CORS preflight)", f.Name, got, want)
			}
			if cfg["authType"] != "anonymous" {
				t.Errorf("%s: authType = %v: s.yaml lets the function verify the token (s.jwt.yaml adds jwt)", f.Name, cfg["authType"])
			}
		case EventBridge:
			checkEventBridge(t, f.Name, cfg)
			// A failed asynchronous invocation is retried (docs/DEPLOY.md "Retries").
			if n, _ := Get(p, "asyncInvokeConfig", "maxAsyncRetryAttempts"); n != 8 {
				t.Errorf("%s: asyncInvokeConfig.maxAsyncRetryAttempts = %v, want 8 (FC's most)", f.Name, n)
			}
		case Timer:
			checkTimer(t, f.Name, cfg)
			checkTimerDefault(t, f.Name, cfg)
		}
	}
}

// functionEnv is the environment every function must get for env.
func functionEnv(env map[string]string) map[string]any {
	get := func(name, def string) string {
		if v := env[name]; v != "" {
			return v
		}
		return def
	}
	return map[string]any{
		"STORE":                   "tablestore",
		"DIRECTORY":               "resourcemanager",
		"TABLESTORE_ENDPOINT":     env["TABLESTORE_ENDPOINT"],
		"TABLESTORE_INSTANCE":     env["TABLESTORE_INSTANCE"],
		"TABLESTORE_TABLE_PREFIX": get("TABLESTORE_TABLE_PREFIX", "sase_"),
		"SASE_SERVICE_PRINCIPAL":  get("SASE_SERVICE_PRINCIPAL", "csas.aliyuncs.com"),
		"RD_ENDPOINT":             get("RD_ENDPOINT", "resourcemanager.aliyuncs.com"),
		"JWT_ISSUER":              env["JWT_ISSUER"],
		"JWT_AUDIENCE":            env["JWT_AUDIENCE"],
		"JWT_ACCOUNT_CLAIM":       get("JWT_ACCOUNT_CLAIM", "aid"),
		"JWT_USER_CLAIM":          get("JWT_USER_CLAIM", "uid"),
		"JWKS_URL":                env["JWKS_URL"],
		"JWKS_JSON":               env["JWKS_JSON"],
		"CORS_ALLOWED_ORIGINS":    env["CORS_ALLOWED_ORIGINS"],
		"ROLE_CACHE_TTL":          get("ROLE_CACHE_TTL", "60s"),
		"ACCOUNTS_CACHE_TTL":      get("ACCOUNTS_CACHE_TTL", "30s"),
		"SASE_ADMINISTRATORS":     env["SASE_ADMINISTRATORS"],
		"NEW_USER_ACCESS":         get("NEW_USER_ACCESS", "None"),
		"PAGE_TOKEN_KEY":          env["PAGE_TOKEN_KEY"],
		"LOG_LEVEL":               get("LOG_LEVEL", "info"),
		"WEBHOOK_POLL_INTERVAL":   get("WEBHOOK_POLL_INTERVAL", "1s"),
		"WEBHOOK_SESSION":         get("WEBHOOK_SESSION", "59s"),
		"WEBHOOK_RETRY_SCHEDULE":  get("WEBHOOK_RETRY_SCHEDULE", "5s,30s,2m,10m,1h"),
		"WEBHOOK_DISABLE_AFTER":   get("WEBHOOK_DISABLE_AFTER", "24h"),
	}
}

// consoleEnv is the console function's environment for env: the OAuth
// client of the provider that issues the functions' tokens.
func consoleEnv(env map[string]string) map[string]any {
	get := func(name, def string) string {
		if v := env[name]; v != "" {
			return v
		}
		return def
	}
	return map[string]any{
		"OIDC_ISSUER":           env["JWT_ISSUER"],
		"OIDC_CLIENT_ID":        env["JWT_AUDIENCE"],
		"OIDC_CLIENT_SECRET":    env["OIDC_CLIENT_SECRET"],
		"OIDC_SCOPES":           get("OIDC_SCOPES", "openid aliuid profile"),
		"OIDC_REDIRECT_URI":     env["OIDC_REDIRECT_URI"],
		"JWT_ACCOUNT_CLAIM":     get("JWT_ACCOUNT_CLAIM", "aid"),
		"CONSOLE_API_BASE":      env["CONSOLE_API_BASE"],
		"CONSOLE_FUNCTION_URLS": env["CONSOLE_FUNCTION_URLS"],
	}
}

func checkEventBridge(t *testing.T, name string, cfg map[string]any) {
	t.Helper()
	if GetString(cfg, "eventSourceConfig", "eventSourceType") != "Default" {
		t.Errorf("%s: eventSourceType = %v, want Default (cloud-service events)", name, GetString(cfg, "eventSourceConfig", "eventSourceType"))
	}
	if cfg["triggerEnable"] != true {
		t.Errorf("%s: triggerEnable = %v", name, cfg["triggerEnable"])
	}
	if GetString(cfg, "runOptions", "mode") != "event-driven" || GetString(cfg, "eventSinkConfig", "deliveryOption", "eventSchema") != "CloudEvents" {
		t.Errorf("%s: want one CloudEvent per invocation (event-driven, CloudEvents)", name)
	}
	// deliveryOption.mode is discouraged: runOptions.mode says it.
	if m, ok := Get(cfg, "eventSinkConfig", "deliveryOption", "mode"); ok {
		t.Errorf("%s: eventSinkConfig.deliveryOption.mode = %v; leave it out", name, m)
	}
	if GetString(cfg, "runOptions", "retryStrategy", "PushRetryStrategy") != "EXPONENTIAL_DECAY_RETRY" {
		t.Errorf("%s: a failed push must be retried for about a day (EXPONENTIAL_DECAY_RETRY)", name)
	}
	raw, _ := cfg["eventRuleFilterPattern"].(string)
	var pattern map[string]any
	if err := json.Unmarshal([]byte(raw), &pattern); err != nil {
		t.Fatalf("%s: eventRuleFilterPattern is not a JSON object string: %v", name, err)
	}
	// The rule passes exactly the events directory-events acts on.
	names, _ := Get(pattern, "data", "eventName")
	var got []string
	for _, n := range names.([]any) {
		got = append(got, fmt.Sprint(n))
	}
	if want := slices.Sorted(slices.Values(dirsync.HandledEvents)); !slices.Equal(slices.Sorted(slices.Values(got)), want) {
		t.Errorf("%s: the rule passes eventName %v; dirsync.HandledEvents is %v", name, got, want)
	}
	at := time.Date(2026, 11, 24, 8, 15, 16, 0, time.UTC)
	for _, ev := range dirsync.HandledEvents {
		e := events.NewActionTrailEvent(testAccount, ev, map[string]string{"AccountId": "2234567890123456"}, at)
		if !matches(t, pattern, e) {
			t.Errorf("%s: the filter drops %s events, which the function handles", name, ev)
		}
	}
	other := events.NewActionTrailEvent(testAccount, "InviteAccountToResourceDirectory", nil, at)
	if matches(t, pattern, other) {
		t.Errorf("%s: the filter passes InviteAccountToResourceDirectory, which the function ignores", name)
	}
	ecs := events.NewActionTrailEvent(testAccount, "RemoveCloudAccount", nil, at)
	ecs.Type = "ecs:ActionTrail:ApiCall"
	var data map[string]any
	_ = json.Unmarshal(ecs.Data, &data)
	data["serviceName"] = "Ecs"
	ecs.Data, _ = json.Marshal(data)
	if matches(t, pattern, ecs) {
		t.Errorf("%s: the filter passes events of another service", name)
	}
	// The source is pinned (the handler refuses other sources as well).
	forged := events.NewActionTrailEvent(testAccount, "RemoveCloudAccount", map[string]string{"AccountId": "2234567890123456"}, at)
	forged.Source = "evil.source"
	if matches(t, pattern, forged) {
		t.Errorf("%s: the filter passes events whose source is not %s", name, events.SourceResourceManager)
	}
	var want map[string]any
	if err := json.Unmarshal([]byte(dirsync.RulePattern()), &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(pattern, want) {
		t.Errorf("%s: eventRuleFilterPattern %s differs from dirsync.RulePattern() %s", name, raw, dirsync.RulePattern())
	}
}

// matches applies an EventBridge event pattern: every pattern key must
// match; a list matches when any element does (a value, or {prefix: ...} /
// {suffix: ...}); a map descends into the event's object.
func matches(t *testing.T, pattern map[string]any, ev events.CloudEvent) bool {
	t.Helper()
	b, _ := json.Marshal(ev)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return matchObject(t, pattern, m)
}

func matchObject(t *testing.T, pattern, obj map[string]any) bool {
	for k, p := range pattern {
		v := obj[k]
		switch pt := p.(type) {
		case map[string]any:
			sub, ok := v.(map[string]any)
			if !ok || !matchObject(t, pt, sub) {
				return false
			}
		case []any:
			s := fmt.Sprint(v)
			if !slices.ContainsFunc(pt, func(x any) bool {
				if rule, ok := x.(map[string]any); ok {
					if pre, ok := rule["prefix"].(string); ok {
						return strings.HasPrefix(s, pre)
					}
					if suf, ok := rule["suffix"].(string); ok {
						return strings.HasSuffix(s, suf)
					}
					t.Fatalf("unsupported pattern rule %v", rule)
				}
				return v != nil && fmt.Sprint(x) == s
			}) {
				return false
			}
		default:
			t.Fatalf("pattern %s: %v is neither a list nor an object", k, p)
		}
	}
	return true
}

var cronRE = regexp.MustCompile(`^(@every \d+[mh]|(CRON_TZ=\S+ )?(\S+ ){5}\S+)$`)

func checkTimer(t *testing.T, name string, cfg map[string]any) {
	t.Helper()
	if c, _ := cfg["cronExpression"].(string); !cronRE.MatchString(c) {
		t.Errorf("%s: cronExpression %q is neither @every nor a 6-field cron (seconds first)", name, c)
	}
	if cfg["enable"] != true {
		t.Errorf("%s: the timer is not enabled", name)
	}
}

// checkTimerDefault: without an operator's schedule, the timer runs on its
// declaration's (endpoints.Scheduled.Cron), the one source of the default;
// template.yaml's trigger must equal s.yaml's (TestROSTemplate), and
// docs/DEPLOY.md names it.
func checkTimerDefault(t *testing.T, name string, cfg map[string]any) {
	t.Helper()
	timers := append(slices.Clone(endpoints.Timers), endpoints.DeliverWebhooks)
	i := slices.IndexFunc(timers, func(s endpoints.Scheduled) bool { return s.Name() == name })
	if i < 0 {
		t.Errorf("%s: a timer trigger without a declaration in endpoints.Timers", name)
		return
	}
	want := timers[i].Cron
	if got, _ := cfg["cronExpression"].(string); got != want {
		t.Errorf("%s: default cronExpression %q, want the declaration's %q (endpoints.Scheduled.Cron)", name, got, want)
	}
	doc, err := os.ReadFile(filepath.Join(root(t), "docs", "DEPLOY.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), "`"+want+"`") {
		t.Errorf("docs/DEPLOY.md does not name %s's default schedule `%s`", name, want)
	}
}

func TestServerlessDevsNeedsOperatorValues(t *testing.T) {
	env := map[string]string{}
	var missing []string
	for range 20 {
		_, err := LoadSpec(filepath.Join(root(t), "s.yaml"), MapLookup(env), map[string]string{"AccountID": testAccount})
		if err == nil {
			break
		}
		m := MissingEnv(err)
		if len(m) == 0 {
			t.Fatalf("s.yaml: %v", err)
		}
		missing = append(missing, m...)
		for _, name := range m {
			env[name] = "x"
		}
	}
	slices.Sort(missing)
	if !slices.Equal(missing, requiredOperatorEnv) {
		t.Errorf("s.yaml needs %v from the operator, want %v (keep docs/DEPLOY.md and scripts/deploy in step)", missing, requiredOperatorEnv)
	}
	if !slices.Equal(RequiredEnv, requiredOperatorEnv) {
		t.Errorf("deploy.RequiredEnv = %v, want %v", RequiredEnv, requiredOperatorEnv)
	}
}

// localOnly are the configuration variables a deployment leaves unset, and
// why. A variable added to config.Vars must be set by the specs or listed
// here.
var localOnly = map[string]string{
	"PORT":                        "local server only (make run)",
	"DATA_DIR":                    "embedded store and simulation only; refused in FC",
	"OWNER_ACCOUNT_ID":            "FC sets FC_ACCOUNT_ID, which the code reads instead",
	"JWKS_FILE":                   "no file in the code zip: JWKS_URL or JWKS_JSON",
	"SIM_MAX_ACCOUNTS":            "RD simulation only; refused in FC",
	"SIM_MAX_PENDING_INVITATIONS": "RD simulation only; refused in FC",
	"SIM_OWNER_CONDITIONS":        "RD simulation only (rehearses RD's refusals locally)",
	"SIM_TARGET_CONDITIONS":       "RD simulation only (rehearses RD's refusals locally)",
	"HANDSHAKE_CHECK_INTERVAL":    "local server's ticker only; in the cloud the check-handshakes timer's cron (handshakeCron, HandshakeCron) sets it",
}

func TestEnvironmentCoversTheConfiguration(t *testing.T) {
	declared := map[string]bool{}
	for _, v := range config.Vars {
		declared[v.Name] = true
	}
	env := functionEnv(operatorEnv())
	for name := range env {
		if !declared[name] {
			t.Errorf("the specs set %s, which config.Vars does not declare (a typo, or the code stopped reading it)", name)
		}
		if strings.HasPrefix(name, "FC_") || strings.HasPrefix(name, "ALIBABA_CLOUD_") {
			t.Errorf("the specs set %s: FC reserves and sets it", name)
		}
	}
	for _, v := range config.Vars {
		_, set := env[v.Name]
		_, local := localOnly[v.Name]
		switch {
		case set && local:
			t.Errorf("%s is both set by the specs and listed as local-only", v.Name)
		case !set && !local:
			t.Errorf("config.Vars has %s, which neither s.yaml nor template.yaml sets: set it (or default it) in both, or list it in localOnly with the reason", v.Name)
		}
	}

	// What the code reads: literal names passed to get/getenv in the
	// config package and os.Getenv anywhere in shared/ and functions/.
	read := envReads(t)
	fcProvided := []string{"FC_RUNTIME_API", "FC_ACCOUNT_ID", "ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_SECURITY_TOKEN"}
	for _, name := range read {
		if !declared[name] && !slices.Contains(fcProvided, name) {
			t.Errorf("the code reads %s, which is neither in config.Vars nor set by FC", name)
		}
	}

	// The deployed environment loads as an FC configuration.
	vars := map[string]string{"FC_RUNTIME_API": "127.0.0.1:9000", "FC_ACCOUNT_ID": testAccount}
	size := 0
	for k, v := range env {
		vars[k] = v.(string)
		size += len(k) + len(v.(string))
	}
	cfg, err := config.Load(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatalf("the deployed environment does not load: %v", err)
	}
	if !cfg.InFC || cfg.Store != "tablestore" || cfg.Directory != "resourcemanager" || cfg.OwnerAccountID != testAccount ||
		cfg.Tablestore.Instance != "sase-test" || cfg.JWT.JWKSURL == "" {
		t.Errorf("loaded configuration %+v", cfg)
	}
	// FC: user environment variables total at most 4 KB.
	if size > 3000 {
		t.Errorf("the environment takes %d bytes of FC's 4 KB (JWKS_JSON must still fit)", size)
	}
}

func TestJWTTriggerVariant(t *testing.T) {
	d := loadDeployment(t)
	env := operatorEnv()
	delete(env, "JWKS_URL")
	jwks := `{"keys":[{"kty":"RSA","alg":"RS256","use":"sig","kid":"k1","e":"AQAB","n":"u1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0_IzW7yWR7QkrmBL7jTKEn5u-qKhbwKfBstIs-bMY2Zkp18gnTxKLxoS2tFczGkPLPgizskuemMghRniWaoLcyehkd3qqGElvW_VDL5AaWTg0nLVkjRo9z-40RQzuVaE8AkAFmxZzow3x-VJYKdjykkJ0iT9wCS0DRTXu269V264Vf_3jvredZiKRkgwlL9xNAwxXFg0x_XFw005UWVRIkdgcKWTjpBP2dPwVZ4WWC-9aGVd-Gyn1o0CLelf4rEjGoXbAAEgAqeGUxrcIlbjXfbcmw"}]}`
	env["JWKS_JSON"] = jwks
	base := loadSpec(t, "s.yaml", env)
	s := loadSpec(t, "s.jwt.yaml", env)
	res := s.Resources()
	if got, want := slices.Sorted(maps.Keys(res)), d.names(); !slices.Equal(got, want) {
		t.Fatalf("s.jwt.yaml resources = %v, want %v", got, want)
	}
	var wantJWKS any
	_ = json.Unmarshal([]byte(jwks), &wantJWKS)
	for _, f := range d.fns {
		p, bp := res[f.Name]["props"], base.Resources()[f.Name]["props"]
		for _, k := range []string{"functionName", "runtime", "handler", "code", "role", "environmentVariables", "memorySize", "timeout"} {
			if got, want := must(Get(p, k)), must(Get(bp, k)); !reflect.DeepEqual(got, want) {
				t.Errorf("%s: s.jwt.yaml props.%s = %v, s.yaml has %v", f.Name, k, got, want)
			}
		}
		tr, btr := onlyTrigger(t, f.Name, p), onlyTrigger(t, f.Name, bp)
		if f.Kind != HTTP || isConsole(f.Name) { // the console's page is public: no token to check
			if !reflect.DeepEqual(tr, btr) {
				t.Errorf("%s: s.jwt.yaml changes a trigger that takes no token", f.Name)
			}
			continue
		}
		cfg, _ := tr["triggerConfig"].(map[string]any)
		bcfg, _ := btr["triggerConfig"].(map[string]any)
		if cfg["authType"] != "jwt" {
			t.Errorf("%s: authType = %v, want jwt", f.Name, cfg["authType"])
		}
		if !reflect.DeepEqual(cfg["methods"], bcfg["methods"]) || tr["triggerName"] != btr["triggerName"] {
			t.Errorf("%s: s.jwt.yaml trigger %v/%v differs from s.yaml %v/%v", f.Name, tr["triggerName"], cfg["methods"], btr["triggerName"], bcfg["methods"])
		}
		if got := must(Get(cfg, "authConfig", "jwks")); !reflect.DeepEqual(got, wantJWKS) {
			t.Errorf("%s: authConfig.jwks = %v, want JWKS_JSON", f.Name, got)
		}
		if got := GetString(cfg, "authConfig", "tokenLookup"); got != "header:Authorization:Bearer " {
			t.Errorf("%s: tokenLookup = %q, want the bearer token of the Authorization header", f.Name, got)
		}
		// Claims must not be added to the query: the functions reject
		// unknown query parameters (API.md MalformedRequest).
		for _, cp := range strings.Split(GetString(cfg, "authConfig", "claimPassBy"), ",") {
			if parts := strings.Split(cp, ":"); len(parts) != 3 || parts[0] != "header" || parts[1] != "aid" {
				t.Errorf("%s: claimPassBy %q: want header:<JWT_ACCOUNT_CLAIM>:<header>", f.Name, cp)
			}
		}
	}
}

func must(v any, _ bool) any { return v }

func evaluate(t *testing.T, values map[string]string) (*Evaluator, map[string]Resource) {
	t.Helper()
	tpl, err := LoadTemplate(filepath.Join(root(t), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	e, err := tpl.Evaluate(values, rosPseudo)
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Resources()
	if err != nil {
		t.Fatal(err)
	}
	return e, res
}

func TestROSTemplate(t *testing.T) {
	d := loadDeployment(t)
	e, res := evaluate(t, rosParams())
	spec := loadSpec(t, "s.yaml", operatorEnv())
	specRes := spec.Resources()

	var fnRes, trRes []string
	for name, r := range res {
		switch r.Type {
		case "ALIYUN::FC3::Function":
			fnRes = append(fnRes, name)
		case "ALIYUN::FC3::Trigger":
			trRes = append(trRes, name)
		}
	}
	var wantFns, wantTrs []string
	kindID := map[Kind]string{HTTP: "HttpTrigger", EventBridge: "EventBridgeTrigger", Timer: "TimerTrigger"}
	for _, f := range d.fns {
		wantFns = append(wantFns, LogicalID(f.Name)+"Function")
		wantTrs = append(wantTrs, LogicalID(f.Name)+kindID[f.Kind])
	}
	slices.Sort(fnRes)
	slices.Sort(trRes)
	slices.Sort(wantFns)
	slices.Sort(wantTrs)
	if !slices.Equal(fnRes, wantFns) {
		t.Errorf("ALIYUN::FC3::Function resources = %v, want %v", fnRes, wantFns)
	}
	if !slices.Equal(trRes, wantTrs) {
		t.Errorf("ALIYUN::FC3::Trigger resources = %v, want %v", trRes, wantTrs)
	}

	// The functions get the environment s.yaml gives them, for the same
	// operator values.
	wantEnv := functionEnv(operatorEnv())
	wantEnv["TABLESTORE_INSTANCE"] = "<TablestoreInstance.InstanceName>"
	outputs, err := e.Outputs()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range d.fns {
		id := LogicalID(f.Name)
		fr, ok := res[id+"Function"]
		if !ok {
			continue
		}
		p := fr.Properties
		sp := specRes[f.Name]["props"]
		check := func(key string, want any) {
			t.Helper()
			if got := p[key]; !reflect.DeepEqual(got, want) {
				t.Errorf("%s: %s = %#v, want %#v", fr.Name, key, got, want)
			}
		}
		check("FunctionName", "sase-"+f.Name)
		check("Runtime", Runtime)
		check("Handler", Handler)
		check("Code", map[string]any{"OssBucketName": "sase-code", "OssObjectName": "sase-multiaccount/" + f.Name + ".zip"})
		check("InternetAccess", true)
		check("MemorySize", must(Get(sp, "memorySize")))
		check("Timeout", must(Get(sp, "timeout")))
		if isConsole(f.Name) {
			check("Role", nil)
			// The page has one URL, on the custom domain.
			env := operatorEnv()
			env["OIDC_REDIRECT_URI"] = "https://" + testDomain + "/"
			check("EnvironmentVariables", consoleEnv(env))
			if len(fr.DependsOn) != 0 {
				t.Errorf("%s: DependsOn %v: the console uses no table", fr.Name, fr.DependsOn)
			}
		} else {
			check("Role", "<FunctionRole.Arn>")
			check("EnvironmentVariables", wantEnv)
		}
		if !isConsole(f.Name) && !slices.Equal(slices.Sorted(slices.Values(fr.DependsOn)), []string{"AuditByTargetTable", "AuditTable", "CountersTable", "DirectoryMirrorTable", "MemberChangesTable", "MembersTable", "ProcessedEventsTable", "WebhooksTable"}) {
			t.Errorf("%s: DependsOn %v, want the tables", fr.Name, fr.DependsOn)
		}
		if _, ok := p["LogConfig"]; ok {
			t.Errorf("%s: LogConfig without LogProject", fr.Name)
		}

		tr, ok := res[id+kindID[f.Kind]]
		if !ok {
			continue
		}
		if tr.Properties["TriggerType"] != string(f.Kind) || tr.Properties["FunctionName"] != "<"+id+"Function.FunctionName>" {
			t.Errorf("%s: TriggerType %v, FunctionName %v", tr.Name, tr.Properties["TriggerType"], tr.Properties["FunctionName"])
		}
		// Same trigger as s.yaml's.
		st := onlyTrigger(t, f.Name, sp)
		if got, want := tr.Properties["TriggerConfig"], st["triggerConfig"]; !reflect.DeepEqual(got, want) {
			t.Errorf("%s: TriggerConfig differs from s.yaml's triggerConfig:\n ros:   %v\n s.yaml: %v", tr.Name, got, want)
		}
		if tr.Properties["TriggerName"] != st["triggerName"] || tr.Properties["Qualifier"] != st["qualifier"] {
			t.Errorf("%s: TriggerName/Qualifier %v/%v, s.yaml %v/%v", tr.Name, tr.Properties["TriggerName"], tr.Properties["Qualifier"], st["triggerName"], st["qualifier"])
		}
		url, hasURL := outputs[id+"Url"]
		switch {
		case isConsole(f.Name): // on its custom domain (TestROSCustomDomain)
		case f.Kind == HTTP && url != "<"+id+"HttpTrigger.UrlInternet>":
			t.Errorf("output %sUrl = %v, want the trigger's UrlInternet", id, url)
		case f.Kind != HTTP && hasURL:
			t.Errorf("output %sUrl for a non-HTTP function", id)
		}
	}

	// A failed asynchronous invocation of directory-events is retried.
	var async bool
	for name, raw := range tplResources(t) {
		if GetString(raw, "Type") == "ALIYUN::FC3::AsyncInvokeConfig" {
			fn, _ := Get(raw, "Properties", "FunctionName", "Fn::GetAtt")
			n, _ := Get(raw, "Properties", "MaxAsyncRetryAttempts")
			async = fmt.Sprint(fn) == "[DirectoryEventsFunction FunctionName]" && fmt.Sprint(n) == "8"
			if !async {
				t.Errorf("%s: %v retries for %v, want 8 for DirectoryEventsFunction", name, n, fn)
			}
		}
	}
	if !async {
		t.Error("template.yaml has no ALIYUN::FC3::AsyncInvokeConfig for directory-events")
	}

	// The data outlives the stack.
	for name, raw := range tplResources(t) {
		if typ := GetString(raw, "Type"); strings.HasPrefix(typ, "ALIYUN::OTS::") && GetString(raw, "DeletionPolicy") != "Retain" {
			t.Errorf("%s (%s): DeletionPolicy %q, want Retain: deleting the stack must not drop the tables", name, typ, GetString(raw, "DeletionPolicy"))
		}
	}

	// Optional log configuration.
	p := rosParams()
	p["LogProject"], p["LogStore"] = "sase-logs", "functions"
	_, res2 := evaluate(t, p)
	for _, name := range wantFns {
		if got := res2[name].Properties["LogConfig"]; GetString(got, "Project") != "sase-logs" || GetString(got, "Logstore") != "functions" {
			t.Errorf("%s: LogConfig = %v", name, got)
		}
	}

	// What an operator must give.
	tpl, _ := LoadTemplate(filepath.Join(root(t), "template.yaml"))
	_, err = tpl.Evaluate(nil, rosPseudo)
	for _, name := range []string{"CodeBucket", "TablestoreInstanceName", "JwtIssuer", "JwtAudience", "PageTokenKey"} {
		if err == nil || !strings.Contains(err.Error(), "parameter "+name+" has no default") {
			t.Errorf("template: %s should be required: %v", name, err)
		}
	}
	bad := rosParams()
	bad["TablestoreInstanceName"] = "Bad_Name"
	if _, err := tpl.Evaluate(bad, rosPseudo); err == nil {
		t.Error("an invalid instance name passed the template's AllowedPattern")
	}
}

func tplResources(t *testing.T) map[string]any {
	t.Helper()
	tpl, err := LoadTemplate(filepath.Join(root(t), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return tpl.Section("Resources")
}

func TestTemplateIsPlainYAML(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "t.yaml")
	writeFile(t, path, "ROSTemplateFormatVersion: '2015-09-01'\nResources:\n  X:\n    Type: A\n    Properties:\n      Name: !Ref P\n")
	if _, err := LoadTemplate(path); err == nil || !strings.Contains(err.Error(), "short-form tag !Ref") {
		t.Errorf("a short-form tag was accepted: %v", err)
	}
}

// TestConsoleEnvironmentCoversItsConfiguration: the specs give the console
// exactly the variables console.Vars declares, and they load as an FC
// configuration.
func TestConsoleEnvironmentCoversItsConfiguration(t *testing.T) {
	env := consoleEnv(operatorEnv())
	var declared []string
	for _, v := range console.Vars {
		declared = append(declared, v.Name)
	}
	if got := slices.Sorted(maps.Keys(env)); !slices.Equal(got, slices.Sorted(slices.Values(declared))) {
		t.Errorf("the console's environment sets %v, console.Vars declares %v", got, declared)
	}
	vars := map[string]string{"FC_RUNTIME_API": "127.0.0.1:9000"}
	for k, v := range env {
		vars[k] = v.(string)
	}
	cfg, err := console.Load(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatalf("the console's deployed environment does not load: %v", err)
	}
	if cfg.Issuer != "https://login.example.com" || cfg.ClientID != "sase-console" || cfg.Functions["list-members"] != "/list-members" {
		t.Errorf("console configuration %+v", cfg)
	}
}
