// Package config reads the environment once at start-up into a Config and
// validates it, naming the variable at fault. Vars declares every variable
// once: its default, its meaning and how it is parsed; Load reads them from
// it, and README's configuration table is rendered from it (TestREADME).
package config

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sase-multiaccount/backend/shared/auth"
	"github.com/sase-multiaccount/backend/shared/port/directory"
	"github.com/sase-multiaccount/backend/shared/role"
	"github.com/sase-multiaccount/backend/shared/validate"
)

// MinPageTokenKey is the shortest PAGE_TOKEN_KEY accepted (scripts/deploy
// asks the same).
const MinPageTokenKey = 32

// Config is the validated configuration.
type Config struct {
	InFC             bool // FC_RUNTIME_API is set
	Port             int
	DataDir          string
	OwnerAccountID   string
	Store            string // "embedded" | "tablestore"
	Directory        string // "simulated" | "resourcemanager"
	ServicePrincipal string
	RDEndpoint       string
	Tablestore       Tablestore
	JWT              JWT
	AllowedOrigins   []string
	RoleCacheTTL     time.Duration
	AccountsCacheTTL time.Duration
	// Administrators are the people who are always Administrator
	// (SASE_ADMINISTRATORS); NewUserAccess is everyone else's access role
	// until an administrator grants another.
	Administrators []role.Person
	NewUserAccess  role.Access
	// HandshakeCheckInterval is how often the local server runs
	// check-handshakes (0: never on its own).
	HandshakeCheckInterval time.Duration
	Webhooks               Webhooks
	PageTokenKey           []byte // nil outside FC when unset: see app.Options.PageTokenKey
	LogLevel               string
	SimMaxAccounts         int
	SimMaxPending          int
	// SimOwnerConditions and SimTargetConditions configure the simulation's
	// refusals (RD codes; see directory.EnableRefusals / InviteRefusals).
	SimOwnerConditions  []string
	SimTargetConditions map[string]string
}

// Webhooks are the settings of webhook delivery (docs/DESIGN.md §13).
type Webhooks struct {
	PollInterval time.Duration   // how often the delivery loop polls
	Session      time.Duration   // how long one deliver-webhooks invocation polls
	Retry        []time.Duration // the backoff after each failed attempt; the last repeats
	DisableAfter time.Duration   // failing this long disables a webhook
}

// Tablestore settings.
type Tablestore struct {
	Endpoint, Instance, TablePrefix string
}

// JWT settings. Empty Issuer means "use the local signer" (make run only).
type JWT struct {
	Issuer, Audience, AccountClaim, UserClaim string
	JWKSURL, JWKSFile, JWKSJSON               string
}

// Vars is every environment variable the functions read; README's
// configuration table is rendered from it, in this order.
var Vars = []Var[Config]{
	{Name: "PORT", Default: "9000", Doc: "Local server port (`make run`); it listens on 127.0.0.1.",
		Set: func(c *Config, v string) (err error) { c.Port, err = port(v); return err }},
	{Name: "DATA_DIR", Default: ".local", Doc: "Local data: embedded store, simulated directory, signing key.",
		Set: func(c *Config, v string) error { c.DataDir = v; return nil }},
	{Name: "OWNER_ACCOUNT_ID", Default: "1000000000000001", FromFC: "FC_ACCOUNT_ID",
		Doc: "The account the deployment runs in.",
		Set: func(c *Config, v string) error { c.OwnerAccountID = v; return accountID(v) }},
	{Name: "STORE", Default: "embedded", DefaultFC: "tablestore",
		Doc: "Store adapter: `embedded` (bbolt under `DATA_DIR`) or `tablestore`.",
		Set: func(c *Config, v string) error { c.Store = v; return oneOf(v, "embedded", "tablestore") }},
	{Name: "DIRECTORY", Default: "simulated", DefaultFC: "resourcemanager",
		Doc: "`simulated`, or `resourcemanager` (the real RD through alibaba-cloud-sdk-go).",
		Set: func(c *Config, v string) error { c.Directory = v; return oneOf(v, "simulated", "resourcemanager") }},
	{Name: "SASE_SERVICE_PRINCIPAL", Default: directory.DefaultServicePrincipal,
		Doc: "Trusted-service principal whose delegated administrator is SASE's.",
		Set: func(c *Config, v string) error { c.ServicePrincipal = v; return nil }},
	{Name: "RD_ENDPOINT", Unset: "`resourcemanager.aliyuncs.com`",
		Doc: "RD endpoint for `DIRECTORY=resourcemanager` (host, or `http://127.0.0.1:port`). Locally, leave it unset to serve the simulation over the RD wire protocol on a loopback port and drive it through the SDK.",
		Set: func(c *Config, v string) error { c.RDEndpoint = v; return nil }},
	{Name: "TABLESTORE_ENDPOINT", Doc: "e.g. `https://<instance>.<region>.ots.aliyuncs.com` (the functions run without a VPC; the VPC endpoint `https://<instance>.<region>.vpc.tablestore.aliyuncs.com` only with `vpcConfig`: docs/DEPLOY.md); required with `STORE=tablestore`.",
		Set: func(c *Config, v string) error { c.Tablestore.Endpoint = v; return nil }},
	{Name: "TABLESTORE_INSTANCE", Doc: "Tablestore instance; required with `STORE=tablestore`.",
		Set: func(c *Config, v string) error { c.Tablestore.Instance = v; return nil }},
	{Name: "TABLESTORE_TABLE_PREFIX", Default: "sase_",
		Doc: "Table names: `<prefix>members` (+ index `<prefix>members_by_time`), `<prefix>counters`, `<prefix>audit`, `<prefix>audit_by_target`, `<prefix>processed_events`, `<prefix>directory_mirror`, `<prefix>webhooks`, `<prefix>member_changes`. Create them with `go run ./scripts/create-tables`.",
		Set: func(c *Config, v string) error { c.Tablestore.TablePrefix = v; return nil }},
	{Name: "JWT_ISSUER", Unset: "local key", Doc: "Accepted token issuer (`iss`). Required in FC; unset locally means the local signing key.",
		Set: func(c *Config, v string) error { c.JWT.Issuer = v; return nil }},
	{Name: "JWT_AUDIENCE", Unset: "local key", Doc: "Accepted audience (`aud`). Required with `JWT_ISSUER`.",
		Set: func(c *Config, v string) error { c.JWT.Audience = v; return nil }},
	{Name: "JWT_ACCOUNT_CLAIM", Default: auth.DefaultAccountClaim,
		Doc: "Claim that holds the 16-digit UID of the caller's account (Alibaba Cloud OAuth, scope `aliuid`: `aid`; confirm it on the first deploy: [docs/DEPLOY.md](docs/DEPLOY.md#sign-in-with-alibaba-cloud-oauth)).",
		Set: func(c *Config, v string) error { c.JWT.AccountClaim = v; return nil }},
	{Name: "JWT_USER_CLAIM", Default: auth.DefaultUserClaim,
		Doc: "Claim that holds the UID of the person who signs in (a RAM user or role; the account's own UID for its root identity). `" + auth.NoUserClaim + "`: tokens name no person, every caller is its account's root identity.",
		Set: func(c *Config, v string) error { c.JWT.UserClaim = v; return nil }},
	{Name: "JWKS_URL", Doc: "HTTPS URL of the signing JWKS (cached; refreshed on an unknown `kid`).",
		Set: func(c *Config, v string) error { c.JWT.JWKSURL = v; return nil }},
	{Name: "JWKS_FILE", Doc: "Path of a JWKS file.",
		Set: func(c *Config, v string) error { c.JWT.JWKSFile = v; return nil }},
	{Name: "JWKS_JSON", Doc: "The JWKS itself. Exactly one of the three is required with `JWT_ISSUER`.",
		Set: func(c *Config, v string) error { c.JWT.JWKSJSON = v; return nil }},
	{Name: "CORS_ALLOWED_ORIGINS", Unset: "none", Doc: "Comma-separated origins allowed from a browser (the console's); `*` for any.",
		Set: func(c *Config, v string) error { c.AllowedOrigins = list(v); return nil }},
	{Name: "ROLE_CACHE_TTL", Default: "60s",
		Doc: "How long a resolved role is cached per instance (`0` disables). A role change still reaches every warm instance within about a second (the directory generation in the store).",
		Set: func(c *Config, v string) (err error) { c.RoleCacheTTL, err = duration(v); return err }},
	{Name: "ACCOUNTS_CACHE_TTL", Default: "30s",
		Doc: "How long an instance reuses the directory's account list (RD lists 100 per call); `0` disables. Changes made here and directory events drop it at once.",
		Set: func(c *Config, v string) (err error) { c.AccountsCacheTTL, err = duration(v); return err }},
	{Name: "SASE_ADMINISTRATORS", Unset: "none",
		Doc: "Comma-separated `<AccountId>:<UserId>` pairs of people who are always `Administrator` (besides each account's root identity): how a deployment whose root identity never signs in gets its first administrator. Only entries of the management account and the delegated administrator count.",
		Set: func(c *Config, v string) (err error) { c.Administrators, err = role.ParsePeople(v); return err }},
	{Name: "NEW_USER_ACCESS", Default: string(role.NoAccess),
		Doc: "Access role of a person nobody granted one (`Administrator`, `Operator`, `Viewer` or `None`; [docs/API.md](docs/API.md#people-who-signs-in-and-what-each-person-may-do)).",
		Set: func(c *Config, v string) (err error) { c.NewUserAccess, err = role.ParseAccess(v); return err }},
	{Name: "HANDSHAKE_CHECK_INTERVAL", Default: "1m",
		Doc: "`make run`: how often the local server runs `check-handshakes` (`0` disables; `POST /check-handshakes` runs it at once). In the cloud its timer's cron sets it (`s.yaml` `handshakeCron`, template `HandshakeCron`).",
		Set: func(c *Config, v string) (err error) { c.HandshakeCheckInterval, err = duration(v); return err }},
	{Name: "WEBHOOK_POLL_INTERVAL", Default: "1s",
		Doc: "How often webhook delivery reads the webhooks and the feed head (one store read): all the time under `make run`, during each `deliver-webhooks` session in the cloud.",
		Set: func(c *Config, v string) (err error) { c.Webhooks.PollInterval, err = above(v, 0); return err }},
	{Name: "WEBHOOK_SESSION", Default: "59s",
		Doc: "Cloud: how long one `deliver-webhooks` invocation keeps polling (its timer starts one a minute, `s.yaml` `deliveryCron`); `0` polls once per invocation (deliveries within a minute, no instance time in between). At most 5m.",
		Set: func(c *Config, v string) (err error) { c.Webhooks.Session, err = upTo(v, 5*time.Minute); return err }},
	{Name: "WEBHOOK_RETRY_SCHEDULE", Default: "5s,30s,2m,10m,1h",
		Doc: "Waits after each failed webhook delivery attempt, comma-separated; the last repeats.",
		Set: func(c *Config, v string) (err error) { c.Webhooks.Retry, err = durations(v); return err }},
	{Name: "WEBHOOK_DISABLE_AFTER", Default: "24h",
		Doc: "A webhook that keeps failing this long is disabled (and audited) until it is enabled again.",
		Set: func(c *Config, v string) (err error) { c.Webhooks.DisableAfter, err = above(v, 0); return err }},
	{Name: "PAGE_TOKEN_KEY", Unset: "random, kept in `DATA_DIR` (`make run`); required in FC",
		Doc: "Key that signs `NextToken` values: a random secret of at least 32 characters shared by all functions.",
		Set: setPageTokenKey},
	{Name: "LOG_LEVEL", Default: "info", Doc: "`debug`, `info`, `warn`, `error`.",
		Set: func(c *Config, v string) error {
			c.LogLevel = strings.ToLower(v)
			return oneOf(c.LogLevel, "debug", "info", "warn", "error")
		}},
	{Name: "SIM_MAX_ACCOUNTS", Default: "10000", Doc: "Simulation: accounts per directory (real RD default: 20).",
		Set: func(c *Config, v string) (err error) { c.SimMaxAccounts, err = positive(v); return err }},
	{Name: "SIM_MAX_PENDING_INVITATIONS", Default: "1000", Doc: "Simulation: pending invitations.",
		Set: func(c *Config, v string) (err error) { c.SimMaxPending, err = positive(v); return err }},
	{Name: "SIM_OWNER_CONDITIONS", Unset: "none",
		Doc: "Simulation: comma-separated Resource Directory codes that enabling the directory is refused with, to rehearse a first run on an ineligible account (e.g. `EnterpriseRealNameVerificationError`, `MissingSecureMobilePhone`; see [docs/API.md](docs/API.md#resource-directory-refusals)).",
		Set: func(c *Config, v string) (err error) { c.SimOwnerConditions, err = ownerConditions(v); return err }},
	{Name: "SIM_TARGET_CONDITIONS", Unset: "none",
		Doc: "Simulation: comma-separated `target=Code` pairs (account UID or login email) that invitations are refused with, e.g. `2000000000000009=LegalEntityMismatch`.",
		Set: func(c *Config, v string) (err error) { c.SimTargetConditions, err = targetConditions(v); return err }},
}

// Load reads the configuration through getenv (os.Getenv in production).
func Load(getenv func(string) string) (Config, error) {
	c := Config{InFC: getenv("FC_RUNTIME_API") != ""}
	errs := Read(&c, Vars, getenv, c.InFC)
	errs = append(errs, c.checkAdapters()...)
	errs = append(errs, c.checkJWT()...)
	if c.InFC && c.PageTokenKey == nil {
		// Every instance must share the key; outside FC the local server
		// keeps a random one under DATA_DIR (see app.Options).
		errs = append(errs, errors.New("PAGE_TOKEN_KEY is required in Function Compute: a random secret of at least 32 characters shared by all functions (openssl rand -hex 32)"))
	}
	if len(errs) > 0 {
		return Config{}, fmt.Errorf("configuration: %w", errors.Join(errs...))
	}
	return c, nil
}

// checkAdapters refuses, inside Function Compute, the adapters whose data
// would vanish with the instance, and requires Tablestore's endpoint and
// instance with STORE=tablestore.
func (c Config) checkAdapters() []error {
	var errs []error
	if c.InFC && c.Store == "embedded" {
		errs = append(errs, errors.New("STORE=embedded is refused inside Function Compute: its data would vanish with the instance; use STORE=tablestore"))
	}
	if c.Store == "tablestore" && c.Tablestore.Endpoint == "" {
		errs = append(errs, errors.New("TABLESTORE_ENDPOINT is required with STORE=tablestore"))
	}
	if c.Store == "tablestore" && c.Tablestore.Instance == "" {
		errs = append(errs, errors.New("TABLESTORE_INSTANCE is required with STORE=tablestore"))
	}
	if c.InFC && c.Directory == "simulated" {
		errs = append(errs, errors.New("DIRECTORY=simulated is refused inside Function Compute: use DIRECTORY=resourcemanager"))
	}
	return errs
}

// checkJWT: an issuer (required in FC) needs an audience and one JWKS.
func (c Config) checkJWT() []error {
	var errs []error
	if c.JWT.Issuer == "" && c.InFC {
		errs = append(errs, errors.New("JWT_ISSUER is required in Function Compute"))
	}
	if c.JWT.Issuer == "" {
		return errs
	}
	if c.JWT.Audience == "" {
		errs = append(errs, errors.New("JWT_AUDIENCE is required when JWT_ISSUER is set"))
	}
	n := 0
	for _, s := range []string{c.JWT.JWKSURL, c.JWT.JWKSFile, c.JWT.JWKSJSON} {
		if s != "" {
			n++
		}
	}
	if n != 1 {
		errs = append(errs, errors.New("exactly one of JWKS_URL, JWKS_FILE, JWKS_JSON is required when JWT_ISSUER is set"))
	}
	return errs
}

// setPageTokenKey: a NextToken is signed with this key, so one anybody can
// guess would let anybody forge tokens. Unset stays nil (see Load).
func setPageTokenKey(c *Config, v string) error {
	if v == "" {
		return nil
	}
	c.PageTokenKey = []byte(v)
	if len(v) < MinPageTokenKey {
		return fmt.Errorf("is %d characters: use at least %d random ones (openssl rand -hex 32)", len(v), MinPageTokenKey)
	}
	return nil
}

func port(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("%q must be a port number (1-65535)", s)
	}
	return n, nil
}

func accountID(s string) error {
	if !validate.IsAccountID(s) {
		return fmt.Errorf("%q must be a 16-digit account UID", s)
	}
	return nil
}

func oneOf(s string, allowed ...string) error {
	if !slices.Contains(allowed, s) {
		return fmt.Errorf("%q must be %s or %s", s, strings.Join(allowed[:len(allowed)-1], ", "), allowed[len(allowed)-1])
	}
	return nil
}

// duration accepts 0 and positive Go durations (60s, 1m30s).
func duration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q must be a duration such as 60s, 1m or 0", s)
	}
	return d, nil
}

// above is a duration greater than min.
func above(s string, min time.Duration) (time.Duration, error) {
	d, err := duration(s)
	if err == nil && d <= min {
		err = fmt.Errorf("%q must be longer than %s", s, min)
	}
	return d, err
}

// upTo is a duration of at most max.
func upTo(s string, max time.Duration) (time.Duration, error) {
	d, err := duration(s)
	if err == nil && d > max {
		err = fmt.Errorf("%q must be at most %s", s, max)
	}
	return d, err
}

// durations parses a comma-separated list of positive durations.
func durations(s string) ([]time.Duration, error) {
	var out []time.Duration
	for _, p := range list(s) {
		d, err := above(p, 0)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%q must list at least one duration", s)
	}
	return out, nil
}

// list splits a comma-separated value, dropping blanks (nil when empty).
func list(s string) []string {
	var out []string
	for _, o := range strings.Split(s, ",") {
		if o = strings.TrimSpace(o); o != "" {
			out = append(out, o)
		}
	}
	return out
}

func positive(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%q must be a positive whole number", s)
	}
	return n, nil
}

// inAnotherDirectory is the one owner condition that is not an
// EnableRefusals entry (the port reports it as a directory that exists).
const inAnotherDirectory = "NotSupport.AccountInAnotherResourceDirectory"

// ownerConditions parses SIM_OWNER_CONDITIONS; an unknown code is an error
// here rather than an eligible owner later.
func ownerConditions(v string) ([]string, error) {
	var out []string
	for _, c := range strings.Split(v, ",") {
		c = strings.TrimSpace(c)
		if c == "" {
			continue
		}
		if _, ok := directory.EnableRefusalByRDCode(c); !ok && c != inAnotherDirectory {
			known := []string{inAnotherDirectory}
			for _, r := range directory.EnableRefusals {
				known = append(known, r.RDCode)
			}
			return nil, fmt.Errorf("%q is not a condition the simulation knows; use %s", c, strings.Join(known, ", "))
		}
		out = append(out, c)
	}
	return out, nil
}

// targetConditions parses SIM_TARGET_CONDITIONS (target=Code,...); the
// simulation checks that each target is a UID or an email.
func targetConditions(v string) (map[string]string, error) {
	out := map[string]string{}
	for _, pair := range strings.Split(v, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		target, code, ok := strings.Cut(pair, "=")
		target, code = strings.TrimSpace(target), strings.TrimSpace(code)
		if !ok || target == "" {
			return nil, fmt.Errorf("%q is not target=Code", pair)
		}
		if _, known := directory.InviteRefusalByRDCode(code); !known {
			var codes []string
			for _, r := range directory.InviteRefusals {
				codes = append(codes, r.RDCode)
			}
			return nil, fmt.Errorf("%q is not a condition the simulation knows; use %s", code, strings.Join(codes, ", "))
		}
		out[target] = code
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}
