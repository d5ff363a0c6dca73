// Package config reads the environment once at start-up into a Config and
// validates it, naming the variable at fault. Every variable is listed in
// Vars (README's configuration table is checked against it by a test).
package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sase-multiaccount/backend/shared/port/directory"
	"github.com/sase-multiaccount/backend/shared/validate"
)

// Var documents one environment variable.
type Var struct {
	Name, Default, Doc string
}

// MinPageTokenKey is the shortest PAGE_TOKEN_KEY accepted (scripts/deploy
// asks the same).
const MinPageTokenKey = 32

// Vars is every environment variable the bundle reads.
var Vars = []Var{
	{"PORT", "9000", "Local server port (make run); it listens on 127.0.0.1."},
	{"DATA_DIR", ".local", "Local data: embedded store, simulated directory, signing key (make run)."},
	{"OWNER_ACCOUNT_ID", "1000000000000001", "The account the deployment runs in, locally. In Function Compute FC_ACCOUNT_ID is used instead."},
	{"STORE", "embedded (locally), tablestore (in FC)", "Store adapter: embedded (bbolt file under DATA_DIR) or tablestore. Inside FC only tablestore is accepted."},
	{"DIRECTORY", "simulated (locally), resourcemanager (in FC)", "Directory adapter: simulated (local RD simulation) or resourcemanager (the real RD through alibaba-cloud-sdk-go). Inside FC only resourcemanager is accepted."},
	{"SASE_SERVICE_PRINCIPAL", directory.DefaultServicePrincipal, "Trusted-service principal whose delegated administrator is SASE's."},
	{"RD_ENDPOINT", "resourcemanager.aliyuncs.com", "Resource Directory endpoint for DIRECTORY=resourcemanager (host, or http://127.0.0.1:port). Locally, leaving it unset serves the simulation over the RD wire protocol on a loopback port and drives it through the SDK."},
	{"TABLESTORE_ENDPOINT", "", "Tablestore endpoint, e.g. https://<instance>.<region>.vpc.tablestore.aliyuncs.com (required with STORE=tablestore)."},
	{"TABLESTORE_INSTANCE", "", "Tablestore instance name (required with STORE=tablestore)."},
	{"TABLESTORE_TABLE_PREFIX", "sase_", "Prefix of the table names: <prefix>members (+ index <prefix>members_by_time), <prefix>counters, <prefix>audit, <prefix>processed_events."},
	{"JWT_ISSUER", "sase-local (locally)", "Accepted token issuer (iss). Required in FC."},
	{"JWT_AUDIENCE", "sase-multi-account (locally)", "Accepted token audience (aud). Required in FC."},
	{"JWT_ACCOUNT_CLAIM", "aid", "Claim that holds the caller's 16-digit account UID."},
	{"JWKS_URL", "", "HTTPS URL of the JWKS that signs tokens (cached, refreshed on unknown kid). One of JWKS_URL, JWKS_FILE, JWKS_JSON is required in FC."},
	{"JWKS_FILE", "", "Path of a JWKS JSON file."},
	{"JWKS_JSON", "", "The JWKS JSON itself."},
	{"CORS_ALLOWED_ORIGINS", "", "Comma-separated origins allowed to call from a browser (the console's origin); * for any. None by default."},
	{"ROLE_CACHE_TTL", "60s", "How long a resolved role is cached per instance (0 disables)."},
	{"ACCOUNTS_CACHE_TTL", "30s", "How long an instance reuses the directory's account list (RD lists 100 accounts per call); 0 disables. Changes made here and directory events drop it at once."},
	{"HANDSHAKE_CHECK_INTERVAL", "1m", "make run: how often the local server runs check-handshakes (0 disables; POST /check-handshakes runs it at once). In the cloud its timer's cron sets it (s.yaml handshakeCron, template HandshakeCron)."},
	{"PAGE_TOKEN_KEY", "random, kept in DATA_DIR (make run); required in FC", "Key that signs NextToken values: a random secret of at least 32 characters shared by all functions."},
	{"LOG_LEVEL", "info", "debug, info, warn or error."},
	{"SIM_MAX_ACCOUNTS", "10000", "Simulation: accounts per directory (RD's real default is 20)."},
	{"SIM_MAX_PENDING_INVITATIONS", "1000", "Simulation: pending invitations."},
	{"SIM_OWNER_CONDITIONS", "", "Simulation: comma-separated Resource Directory codes the owner account is refused with when it enables the directory, to rehearse a first run on an ineligible account, e.g. EnterpriseRealNameVerificationError or MissingSecureMobilePhone (docs/API.md, section Resource Directory refusals, lists them)."},
	{"SIM_TARGET_CONDITIONS", "", "Simulation: comma-separated target=Code pairs (target an account UID or login email) that invitations are refused with, e.g. 2000000000000009=LegalEntityMismatch."},
}

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
	// HandshakeCheckInterval is how often the local server runs
	// check-handshakes (0: never on its own).
	HandshakeCheckInterval time.Duration
	PageTokenKey           []byte // nil outside FC when unset: see app.Options.PageTokenKey
	LogLevel               string
	SimMaxAccounts         int
	SimMaxPending          int
	// SimOwnerConditions and SimTargetConditions configure the simulation's
	// refusals (RD codes; see directory.EnableRefusals / InviteRefusals).
	SimOwnerConditions  []string
	SimTargetConditions map[string]string
}

// Tablestore settings.
type Tablestore struct {
	Endpoint, Instance, TablePrefix string
}

// JWT settings. Empty Issuer means "use the local signer" (make run only).
type JWT struct {
	Issuer, Audience, AccountClaim string
	JWKSURL, JWKSFile, JWKSJSON    string
}

// Load reads the configuration through getenv (os.Getenv in production).
func Load(getenv func(string) string) (Config, error) {
	get := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	var errs []error
	c := Config{
		InFC:             getenv("FC_RUNTIME_API") != "",
		DataDir:          get("DATA_DIR", ".local"),
		ServicePrincipal: get("SASE_SERVICE_PRINCIPAL", directory.DefaultServicePrincipal),
		RDEndpoint:       get("RD_ENDPOINT", ""),
		Tablestore: Tablestore{
			Endpoint: get("TABLESTORE_ENDPOINT", ""), Instance: get("TABLESTORE_INSTANCE", ""),
			TablePrefix: get("TABLESTORE_TABLE_PREFIX", "sase_"),
		},
		JWT: JWT{
			Issuer: get("JWT_ISSUER", ""), Audience: get("JWT_AUDIENCE", ""), AccountClaim: get("JWT_ACCOUNT_CLAIM", "aid"),
			JWKSURL: get("JWKS_URL", ""), JWKSFile: get("JWKS_FILE", ""), JWKSJSON: get("JWKS_JSON", ""),
		},
		LogLevel: strings.ToLower(get("LOG_LEVEL", "info")),
	}
	var err error
	if c.Port, err = strconv.Atoi(get("PORT", "9000")); err != nil || c.Port < 1 || c.Port > 65535 {
		errs = append(errs, fmt.Errorf("PORT %q must be a port number (1-65535)", getenv("PORT")))
	}
	if c.InFC {
		c.OwnerAccountID = get("FC_ACCOUNT_ID", "")
		c.Store = get("STORE", "tablestore")
		c.Directory = get("DIRECTORY", "resourcemanager")
	} else {
		c.OwnerAccountID = get("OWNER_ACCOUNT_ID", "1000000000000001")
		c.Store = get("STORE", "embedded")
		c.Directory = get("DIRECTORY", "simulated")
	}
	if !validate.IsAccountID(c.OwnerAccountID) {
		name := "OWNER_ACCOUNT_ID"
		if c.InFC {
			name = "FC_ACCOUNT_ID"
		}
		errs = append(errs, fmt.Errorf("%s %q must be a 16-digit account UID", name, c.OwnerAccountID))
	}
	switch c.Store {
	case "embedded":
		if c.InFC {
			errs = append(errs, errors.New("STORE=embedded is refused inside Function Compute: its data would vanish with the instance; use STORE=tablestore"))
		}
	case "tablestore":
		if c.Tablestore.Endpoint == "" {
			errs = append(errs, errors.New("TABLESTORE_ENDPOINT is required with STORE=tablestore"))
		}
		if c.Tablestore.Instance == "" {
			errs = append(errs, errors.New("TABLESTORE_INSTANCE is required with STORE=tablestore"))
		}
	default:
		errs = append(errs, fmt.Errorf("STORE %q must be embedded or tablestore", c.Store))
	}
	switch c.Directory {
	case "simulated":
		if c.InFC {
			errs = append(errs, errors.New("DIRECTORY=simulated is refused inside Function Compute: use DIRECTORY=resourcemanager"))
		}
	case "resourcemanager":
	default:
		errs = append(errs, fmt.Errorf("DIRECTORY %q must be simulated or resourcemanager", c.Directory))
	}
	if c.JWT.Issuer == "" && c.InFC {
		errs = append(errs, errors.New("JWT_ISSUER is required in Function Compute"))
	}
	if c.JWT.Issuer != "" {
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
	}
	for _, o := range strings.Split(get("CORS_ALLOWED_ORIGINS", ""), ",") {
		if o = strings.TrimSpace(o); o != "" {
			c.AllowedOrigins = append(c.AllowedOrigins, o)
		}
	}
	if c.RoleCacheTTL, err = time.ParseDuration(get("ROLE_CACHE_TTL", "60s")); err != nil || c.RoleCacheTTL < 0 {
		errs = append(errs, fmt.Errorf("ROLE_CACHE_TTL %q must be a duration such as 60s", getenv("ROLE_CACHE_TTL")))
	}
	if c.AccountsCacheTTL, err = time.ParseDuration(get("ACCOUNTS_CACHE_TTL", "30s")); err != nil || c.AccountsCacheTTL < 0 {
		errs = append(errs, fmt.Errorf("ACCOUNTS_CACHE_TTL %q must be a duration such as 30s", getenv("ACCOUNTS_CACHE_TTL")))
	}
	if c.HandshakeCheckInterval, err = time.ParseDuration(get("HANDSHAKE_CHECK_INTERVAL", "1m")); err != nil || c.HandshakeCheckInterval < 0 {
		errs = append(errs, fmt.Errorf("HANDSHAKE_CHECK_INTERVAL %q must be a duration such as 1m", getenv("HANDSHAKE_CHECK_INTERVAL")))
	}
	// A NextToken is signed with this key; one anybody can derive would let
	// anybody forge tokens. In Function Compute it is required (every
	// instance must share it); outside, a missing key is left nil and the
	// local server keeps a random one under DATA_DIR (see app.Options).
	switch k := get("PAGE_TOKEN_KEY", ""); {
	case k != "" && len(k) < MinPageTokenKey:
		errs = append(errs, fmt.Errorf("PAGE_TOKEN_KEY is %d characters: use at least %d random ones (openssl rand -hex 32)", len(k), MinPageTokenKey))
	case k != "":
		c.PageTokenKey = []byte(k)
	case c.InFC:
		errs = append(errs, errors.New("PAGE_TOKEN_KEY is required in Function Compute: a random secret of at least 32 characters shared by all functions (openssl rand -hex 32)"))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("LOG_LEVEL %q must be debug, info, warn or error", c.LogLevel))
	}
	if c.SimMaxAccounts, err = positive(get("SIM_MAX_ACCOUNTS", "10000")); err != nil {
		errs = append(errs, fmt.Errorf("SIM_MAX_ACCOUNTS: %w", err))
	}
	if c.SimMaxPending, err = positive(get("SIM_MAX_PENDING_INVITATIONS", "1000")); err != nil {
		errs = append(errs, fmt.Errorf("SIM_MAX_PENDING_INVITATIONS: %w", err))
	}
	if c.SimOwnerConditions, err = ownerConditions(get("SIM_OWNER_CONDITIONS", "")); err != nil {
		errs = append(errs, fmt.Errorf("SIM_OWNER_CONDITIONS: %w", err))
	}
	if c.SimTargetConditions, err = targetConditions(get("SIM_TARGET_CONDITIONS", "")); err != nil {
		errs = append(errs, fmt.Errorf("SIM_TARGET_CONDITIONS: %w", err))
	}
	if len(errs) > 0 {
		return Config{}, fmt.Errorf("configuration: %w", errors.Join(errs...))
	}
	return c, nil
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
