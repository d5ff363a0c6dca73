package app_test

// The test kit of the HTTP-level suite: an App wired to the embedded store
// (in t.TempDir()), the in-memory RD simulation on a controllable clock and a
// verifier over a throw-away local signing key. Requests are FC3 HTTP trigger
// event JSON, invoked through
// fc.NewHandler(...).Invoke, exactly the path the FC runtime takes; the
// response JSON is decoded and checked against the invariants every response
// must keep (X-Request-Id equals the body's RequestId, the error envelope,
// never a 5xx) before a test looks at it.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/fc"
	"github.com/aliyun/fc-runtime-go-sdk/fccontext"

	"github.com/sase-multiaccount/backend/shared/app"
	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/auth"
	"github.com/sase-multiaccount/backend/shared/config"
	"github.com/sase-multiaccount/backend/shared/events"
	"github.com/sase-multiaccount/backend/shared/local/embedded"
	"github.com/sase-multiaccount/backend/shared/local/localkey"
	"github.com/sase-multiaccount/backend/shared/local/simulation"
	"github.com/sase-multiaccount/backend/shared/port/directory"
	"github.com/sase-multiaccount/backend/shared/port/store"
	"github.com/sase-multiaccount/backend/shared/role"
	"github.com/sase-multiaccount/backend/shared/testkit/logbuf"
	"github.com/sase-multiaccount/backend/shared/usecase/audit"
	"github.com/sase-multiaccount/backend/shared/validate"
)

// Accounts of the standard fixture. The owner is the deployment's account
// and, after step 1, the management account.
const (
	ownerID    = "1000000000000001"
	daID       = "2000000000000002" // delegated administrator ("Delta Admin")
	memberID   = "3000000000000003" // RD member, not a SASE member ("Mike Member")
	member2ID  = "3000000000000033" // RD member, not a SASE member ("Mona Member")
	strangerID = "9000000000000009" // not in the directory
	saseID     = "5000000000000005" // RD member and SASE member ("Sierra SASE")
	candID     = "4000000000000004" // RD member, candidate ("Charlie Candidate")
	cand2ID    = "4000000000000044" // RD member, candidate ("Carla Candidate")
	freshID    = "7000000000000007" // a standalone account that can be invited
)

// t0 is the kit clock's start.
var t0 = time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)

// clock is the controllable clock of the simulation and the use cases.
type clock struct {
	mu   sync.Mutex
	t    time.Time
	real bool // tell the wall-clock time instead (withRealClock)
}

func (c *clock) Now() time.Time {
	if c.real {
		return time.Now().UTC()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// ---- counting decorators ----------------------------------------------------

// counter counts calls by method name.
type counter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counter) add(name string) {
	c.mu.Lock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[name]++
	c.mu.Unlock()
}

// take returns the counts since the last take and resets them.
func (c *counter) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.n
	c.n = map[string]int{}
	if out == nil {
		out = map[string]int{}
	}
	return out
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// countingDir is a directory.Service that counts the calls it forwards,
// and the RD OpenAPI calls they would cost through the SDK adapter, whose
// List* calls page 100 items at a time (resourcemanager.pageSize).
type countingDir struct {
	inner directory.Service
	counter
	apiCalls atomic.Int64
}

// rdPageSize is the SDK adapter's page size for RD List* calls.
const rdPageSize = 100

func (c *countingDir) pages(n int) {
	c.apiCalls.Add(int64(max(1, (n+rdPageSize-1)/rdPageSize)))
}

// takeAPICalls returns the RD OpenAPI calls since the last take.
func (c *countingDir) takeAPICalls() int64 { return c.apiCalls.Swap(0) }

var _ directory.Service = (*countingDir)(nil)

func (c *countingDir) GetDirectory(ctx context.Context) (directory.Directory, error) {
	c.add("GetDirectory")
	c.pages(1)
	return c.inner.GetDirectory(ctx)
}

func (c *countingDir) EnableDirectory(ctx context.Context) (directory.Directory, error) {
	c.add("EnableDirectory")
	c.pages(1)
	return c.inner.EnableDirectory(ctx)
}

func (c *countingDir) GetAccount(ctx context.Context, id string) (directory.Account, error) {
	c.add("GetAccount")
	c.pages(1)
	return c.inner.GetAccount(ctx, id)
}

func (c *countingDir) ListAccounts(ctx context.Context) ([]directory.Account, error) {
	c.add("ListAccounts")
	out, err := c.inner.ListAccounts(ctx)
	c.pages(len(out))
	return out, err
}

func (c *countingDir) CountAccounts(ctx context.Context) (int, error) {
	c.add("CountAccounts")
	c.pages(1)
	return c.inner.CountAccounts(ctx)
}

func (c *countingDir) Invite(ctx context.Context, entity, kind, note string) (directory.Invitation, error) {
	c.add("Invite")
	c.pages(1)
	return c.inner.Invite(ctx, entity, kind, note)
}

func (c *countingDir) ListInvitations(ctx context.Context) ([]directory.Invitation, error) {
	c.add("ListInvitations")
	out, err := c.inner.ListInvitations(ctx)
	c.pages(len(out))
	return out, err
}

func (c *countingDir) CancelInvitation(ctx context.Context, id string) (directory.Invitation, error) {
	c.add("CancelInvitation")
	c.pages(1)
	return c.inner.CancelInvitation(ctx, id)
}

func (c *countingDir) ListDelegatedAdmins(ctx context.Context) ([]directory.DelegatedAdmin, error) {
	c.add("ListDelegatedAdmins")
	out, err := c.inner.ListDelegatedAdmins(ctx)
	c.pages(len(out))
	return out, err
}

func (c *countingDir) RegisterDelegatedAdmin(ctx context.Context, id string) error {
	c.add("RegisterDelegatedAdmin")
	c.pages(1)
	return c.inner.RegisterDelegatedAdmin(ctx, id)
}

func (c *countingDir) DeregisterDelegatedAdmin(ctx context.Context, id string) error {
	c.add("DeregisterDelegatedAdmin")
	c.pages(1)
	return c.inner.DeregisterDelegatedAdmin(ctx, id)
}

// ListFolders costs one ListFoldersForParent per folder (each is asked for
// its children) plus GetResourceDirectory for the root.
func (c *countingDir) ListFolders(ctx context.Context) ([]directory.Folder, error) {
	c.add("ListFolders")
	out, err := c.inner.ListFolders(ctx)
	c.apiCalls.Add(int64(1 + len(out)))
	return out, err
}

func (c *countingDir) GetFolder(ctx context.Context, id string) (directory.Folder, error) {
	c.add("GetFolder")
	c.pages(1)
	return c.inner.GetFolder(ctx, id)
}

// countingStore is a store.Store that counts the member and audit calls.
type countingStore struct {
	store.Store
	counter
}

func (c *countingStore) AddMembers(ctx context.Context, dirID string, ms []store.Member, audit store.AuditOf) ([]store.AddResult, error) {
	c.add("AddMembers")
	return c.Store.AddMembers(ctx, dirID, ms, audit)
}

func (c *countingStore) GetMember(ctx context.Context, dirID, id string) (store.Member, error) {
	c.add("GetMember")
	return c.Store.GetMember(ctx, dirID, id)
}

func (c *countingStore) UpdateRemark(ctx context.Context, dirID, id, remark string, v int64, now time.Time, audit store.AuditOf) (store.Member, store.Member, error) {
	c.add("UpdateRemark")
	return c.Store.UpdateRemark(ctx, dirID, id, remark, v, now, audit)
}

func (c *countingStore) DeleteMembers(ctx context.Context, dirID string, ids []string, audit store.AuditOf) ([]store.DeleteResult, error) {
	c.add("DeleteMembers")
	return c.Store.DeleteMembers(ctx, dirID, ids, audit)
}

func (c *countingStore) ListMembers(ctx context.Context, dirID string, q store.ListQuery) ([]store.Member, bool, error) {
	c.add("ListMembers")
	return c.Store.ListMembers(ctx, dirID, q)
}

func (c *countingStore) CountMembers(ctx context.Context, dirID string) (int, error) {
	c.add("CountMembers")
	return c.Store.CountMembers(ctx, dirID)
}

func (c *countingStore) AppendAudit(ctx context.Context, evs []store.AuditEvent) error {
	c.add("AppendAudit")
	return c.Store.AppendAudit(ctx, evs)
}

func (c *countingStore) ListAudit(ctx context.Context, dirID string, limit int, before string) ([]store.AuditEvent, bool, error) {
	c.add("ListAudit")
	return c.Store.ListAudit(ctx, dirID, limit, before)
}

func (c *countingStore) ListChanges(ctx context.Context, dirID string, after int64, limit int) ([]store.Change, int64, bool, error) {
	c.add("ListChanges")
	return c.Store.ListChanges(ctx, dirID, after, limit)
}

func (c *countingStore) FeedHead(ctx context.Context, dirID string) (int64, error) {
	c.add("FeedHead")
	return c.Store.FeedHead(ctx, dirID)
}

func (c *countingStore) MemberState(ctx context.Context, dirID string) (int, int64, error) {
	c.add("MemberState")
	return c.Store.MemberState(ctx, dirID)
}

func (c *countingStore) ListAuditByTarget(ctx context.Context, dirID, target string, limit int, before string) ([]store.AuditEvent, bool, error) {
	c.add("ListAuditByTarget")
	return c.Store.ListAuditByTarget(ctx, dirID, target, limit, before)
}

func (c *countingStore) Generation(ctx context.Context) (int64, error) {
	c.add("Generation")
	return c.Store.Generation(ctx)
}

func (c *countingStore) ListGrants(ctx context.Context, dirID string) ([]store.Grant, error) {
	c.add("ListGrants")
	return c.Store.ListGrants(ctx, dirID)
}

func (c *countingStore) TouchGrant(ctx context.Context, dirID, accountID, userID, name string, at, staleBefore time.Time) error {
	c.add("TouchGrant")
	return c.Store.TouchGrant(ctx, dirID, accountID, userID, name, at, staleBefore)
}

// ---- the kit ------------------------------------------------------------------

// kitConfig tunes newKit.
type kitConfig struct {
	env          map[string]string // extra environment for config.Load
	maxAccounts  int
	maxPending   int
	maxDelegated int
	wrapDir      func(directory.Service) directory.Service
	logs         io.Writer // default: the kit's buffer
	// eventInvalidation drops cached roles on every simulation event.
	eventInvalidation bool
	realClock         bool
	openStore         func(tb testing.TB) store.Store // default: embedded under DATA_DIR
}

type kitOption func(*kitConfig)

func withEnv(k, v string) kitOption { return func(c *kitConfig) { c.env[k] = v } }
func withOwner(id string) kitOption { return withEnv("OWNER_ACCOUNT_ID", id) }
func withOrigins(o string) kitOption {
	return withEnv("CORS_ALLOWED_ORIGINS", o)
}
func withMaxAccounts(n int) kitOption  { return func(c *kitConfig) { c.maxAccounts = n } }
func withMaxPending(n int) kitOption   { return func(c *kitConfig) { c.maxPending = n } }
func withMaxDelegated(n int) kitOption { return func(c *kitConfig) { c.maxDelegated = n } }
func withRealClock() kitOption         { return func(c *kitConfig) { c.realClock = true } }
func withStore(open func(tb testing.TB) store.Store) kitOption {
	return func(c *kitConfig) { c.openStore = open }
}
func withEventInvalidation() kitOption {
	return func(c *kitConfig) { c.eventInvalidation = true }
}
func withLogs(w io.Writer) kitOption { return func(c *kitConfig) { c.logs = w } }
func withDirectoryWrapper(w func(directory.Service) directory.Service) kitOption {
	return func(c *kitConfig) { c.wrapDir = w }
}

// kit is one wired deployment under test.
type kit struct {
	tb       testing.TB
	ctx      context.Context
	owner    string
	clock    *clock
	app      *app.App
	sim      *simulation.Sim
	dir      *countingDir
	store    *countingStore
	raw      store.Store // the embedded store itself, for snapshots and seeding
	signer   *localkey.Signer
	verifier *auth.JWTVerifier
	logs     *logbuf.Buffer
	handlers map[string]fc.Handler
	methods  map[string]string

	reqSeq atomic.Int64
	tokMu  sync.Mutex
	tokens map[string]string
}

func newKit(tb testing.TB, opts ...kitOption) *kit {
	tb.Helper()
	cfg := kitConfig{env: map[string]string{
		"DATA_DIR":         tb.TempDir(),
		"OWNER_ACCOUNT_ID": ownerID,
		"PAGE_TOKEN_KEY":   "app-test-page-token-key-32-bytes-long",
		"LOG_LEVEL":        "info",
	}}
	for _, o := range opts {
		o(&cfg)
	}
	conf, err := config.Load(func(k string) string { return cfg.env[k] })
	if err != nil {
		tb.Fatalf("config.Load: %v", err)
	}
	ctx := context.Background()
	k := &kit{tb: tb, ctx: ctx, owner: conf.OwnerAccountID, clock: &clock{t: t0, real: cfg.realClock}, logs: &logbuf.Buffer{}, tokens: map[string]string{}}

	var appPtr atomic.Pointer[app.App]
	k.sim, err = simulation.Open(simulation.Options{
		OwnerAccountID:        conf.OwnerAccountID,
		MaxAccounts:           cfg.maxAccounts,
		MaxPendingInvitations: cfg.maxPending,
		MaxDelegatedAdmins:    cfg.maxDelegated,
		Now:                   k.clock.Now,
		// In FC, directory events reach the directory-events function, not
		// the instance serving HTTP; only withEventInvalidation wires them
		// to this instance's role cache, as the local server (shared/local/server) does.
		Publish: func(events.CloudEvent) {
			if a := appPtr.Load(); a != nil && cfg.eventInvalidation {
				a.Invalidate()
			}
		},
	})
	if err != nil {
		tb.Fatalf("simulation.Open: %v", err)
	}
	var dir directory.Service = k.sim
	if cfg.wrapDir != nil {
		dir = cfg.wrapDir(dir)
	}
	k.dir = &countingDir{inner: dir}

	k.raw = openKitStore(tb, conf, cfg)
	k.store = &countingStore{Store: k.raw}

	if k.signer, err = localkey.New(); err != nil {
		tb.Fatalf("localkey.New: %v", err)
	}
	if k.verifier, err = auth.NewVerifier(ctx, k.signer.VerifierConfig()); err != nil {
		tb.Fatalf("auth.NewVerifier: %v", err)
	}
	tb.Cleanup(k.verifier.Close)

	var logs io.Writer = k.logs
	if cfg.logs != nil {
		logs = cfg.logs
	}
	k.app, err = app.New(ctx, conf, app.Options{
		Store: k.store, Directory: k.dir, Verifier: k.verifier, LogOutput: logs, Now: k.clock.Now,
	})
	if err != nil {
		tb.Fatalf("app.New: %v", err)
	}
	appPtr.Store(k.app)
	tb.Cleanup(func() {
		if err := k.app.Close(); err != nil {
			tb.Errorf("app Close: %v", err)
		}
	})

	k.handlers, k.methods = map[string]fc.Handler{}, map[string]string{}
	for _, ep := range k.app.Endpoints() {
		k.handlers[ep.Name] = fc.NewHandler(k.app.HTTP.Handler(ep))
		k.methods[ep.Name] = ep.Method
	}
	return k
}

// openKitStore opens the kit's store (closed when the test ends).
func openKitStore(tb testing.TB, conf config.Config, cfg kitConfig) store.Store {
	tb.Helper()
	var s store.Store
	if cfg.openStore != nil {
		s = cfg.openStore(tb)
	} else {
		emb, err := embedded.Open(conf.DataDir + "/store.db")
		if err != nil {
			tb.Fatalf("embedded.Open: %v", err)
		}
		s = emb
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("store Close: %v", err)
		}
	})
	return s
}

// token returns a valid bearer token for account (cached per kit).
func (k *kit) token(account string) string {
	k.tokMu.Lock()
	defer k.tokMu.Unlock()
	if t, ok := k.tokens[account]; ok {
		return t
	}
	t, err := k.signer.Mint(account, "user@"+account, time.Hour)
	if err != nil {
		k.tb.Fatalf("Mint(%s): %v", account, err)
	}
	k.tokens[account] = t
	return t
}

// personToken returns a valid bearer token for the person p (a RAM user
// of p.AccountID), with the claims of Alibaba Cloud OAuth's ID tokens.
func (k *kit) personToken(p role.Person) string {
	t, err := k.signer.MintPerson(p, localkey.Subject(p), time.Hour)
	if err != nil {
		k.tb.Fatalf("MintPerson(%+v): %v", p, err)
	}
	return t
}

// ---- fixtures ---------------------------------------------------------------

// enable makes the owner the management account (step 1), directly.
func (k *kit) enable() directory.Directory {
	k.tb.Helper()
	d, err := k.sim.EnableDirectory(k.ctx)
	if err != nil {
		k.tb.Fatalf("EnableDirectory: %v", err)
	}
	return d
}

// seedAccounts puts accounts into the directory: id → display name ("" = the UID).
func (k *kit) seedAccounts(names map[string]string) {
	k.tb.Helper()
	ids := slices.Sorted(maps.Keys(names))
	accs := make([]directory.Account, len(ids))
	for i, id := range ids {
		accs[i] = directory.Account{AccountID: id, DisplayName: names[id]}
	}
	if err := k.sim.SeedAccounts(k.ctx, accs); err != nil {
		k.tb.Fatalf("SeedAccounts: %v", err)
	}
}

// seedMembers adds SASE members straight to the store (no audit).
func (k *kit) seedMembers(dirID string, ms ...store.Member) {
	k.tb.Helper()
	for i := range ms {
		if ms[i].AddTime.IsZero() {
			ms[i].AddTime = k.clock.Now()
		}
		ms[i].DirectoryID, ms[i].Version = dirID, 1
		if ms[i].AddedBy == "" {
			ms[i].AddedBy = k.owner
		}
		ms[i].UpdateTime, ms[i].NameTime = ms[i].AddTime, ms[i].AddTime
	}
	res, err := k.raw.AddMembers(k.ctx, dirID, ms, nil)
	if err != nil {
		k.tb.Fatalf("AddMembers: %v", err)
	}
	for _, r := range res {
		if r.Status != store.Added {
			k.tb.Fatalf("seed member %s: %s %v", r.AccountID, r.Status, r.Err)
		}
	}
}

// fixture is the standard directory of most tests.
type fixture struct {
	dir     directory.Directory
	pending directory.Invitation // a pending invitation of freshID+1
}

// standard builds: RD enabled by the owner; accounts DA, member, member2,
// sase, cand, cand2; DA registered; sase is a SASE member; one pending
// invitation. The role cache is left cold.
func (k *kit) standard() fixture {
	k.tb.Helper()
	d := k.enable()
	k.seedAccounts(map[string]string{
		daID: "Delta Admin", memberID: "Mike Member", member2ID: "Mona Member",
		saseID: "Sierra SASE", candID: "Charlie Candidate", cand2ID: "Carla Candidate",
	})
	if err := k.sim.RegisterDelegatedAdmin(k.ctx, daID); err != nil {
		k.tb.Fatalf("RegisterDelegatedAdmin: %v", err)
	}
	k.seedMembers(d.ID, store.Member{AccountID: saseID, AccountName: "Sierra SASE", Remark: "seeded"})
	inv, err := k.sim.Invite(k.ctx, "7000000000000077", directory.TargetAccount, "join us")
	if err != nil {
		k.tb.Fatalf("Invite: %v", err)
	}
	k.app.Invalidate()
	k.dir.take()
	k.store.take()
	return fixture{dir: d, pending: inv}
}

// ---- requests -----------------------------------------------------------------

// request is one HTTP call of a function.
type request struct {
	Fn      string
	Method  string            // default: the function's method; noMethod: none
	As      string            // account whose token is sent; "" = none
	User    string            // the person of As who sends it; "" = the account's root identity
	Name    string            // the person's name (upn, login_name, name claims)
	Auth    *string           // explicit Authorization header (overrides As)
	Body    any               // string or []byte: raw; nil: empty; else JSON-encoded
	Base64  bool              // send the body base64-encoded, isBase64Encoded true
	Query   map[string]string // queryParameters
	Headers map[string]string // extra headers
	// CtxAccount is requestContext.accountId (FC puts the function owner's
	// account there); default the deployment owner.
	CtxAccount string
	// NoFCContext invokes without an fccontext, so the request ID must come
	// from requestContext.requestId.
	NoFCContext bool
	// Allow5xx lets a test that injects an upstream failure see a 5xx.
	Allow5xx bool
}

// noMethod as request.Method sends an event without an HTTP method.
const noMethod = "(none)"

// response is a decoded HTTPTriggerResponse.
type response struct {
	Status    int
	Headers   map[string]string
	Body      string
	RequestID string                     // the ID the kit sent
	Obj       map[string]json.RawMessage // the body's top-level keys (nil for 204)
}

func (r response) Code() string    { return r.str("Code") }
func (r response) Message() string { return r.str("Message") }

func (r response) str(key string) string {
	var s string
	_ = json.Unmarshal(r.Obj[key], &s)
	return s
}

func (r response) String() string { return fmt.Sprintf("%d %s", r.Status, r.Body) }

// decode unmarshals the body into v.
func (r response) decode(tb testing.TB, v any) {
	tb.Helper()
	if err := json.Unmarshal([]byte(r.Body), v); err != nil {
		tb.Fatalf("decode %T from %s: %v", v, r.Body, err)
	}
}

// keys returns the body's top-level keys, sorted.
func (r response) keys() []string { return slices.Sorted(maps.Keys(r.Obj)) }

// event builds the FC3 HTTP trigger event JSON of §1.3.
func (k *kit) event(rq request, rid string) ([]byte, error) {
	method := rq.Method
	switch method {
	case "":
		method = k.methods[rq.Fn]
	case noMethod:
		method = ""
	}
	headers := map[string]string{"User-Agent": "apptest/1.0", "Accept": "application/json"}
	var body string
	switch b := rq.Body.(type) {
	case nil:
	case string:
		body = b
	case []byte:
		body = string(b)
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			return nil, err
		}
		body = string(enc)
	}
	if body != "" {
		headers["Content-Type"] = "application/json"
	}
	if rq.Base64 {
		body = base64.StdEncoding.EncodeToString([]byte(body))
	}
	switch {
	case rq.Auth != nil:
		headers["Authorization"] = *rq.Auth
	case rq.As != "" && rq.User != "":
		headers["Authorization"] = "Bearer " + k.personToken(role.Person{AccountID: rq.As, UserID: rq.User, UserName: rq.Name})
	case rq.As != "":
		headers["Authorization"] = "Bearer " + k.token(rq.As)
	}
	maps.Copy(headers, rq.Headers)
	query := rq.Query
	if query == nil {
		query = map[string]string{}
	}
	ctxAccount := rq.CtxAccount
	if ctxAccount == "" {
		ctxAccount = k.owner
	}
	now := time.Now().UTC()
	path := "/" + rq.Fn
	ev := map[string]any{
		"version":         "v1",
		"rawPath":         path,
		"body":            body,
		"isBase64Encoded": rq.Base64,
		"headers":         headers,
		"queryParameters": query,
		"requestContext": map[string]any{
			"accountId":    ctxAccount,
			"domainName":   "sase-test.cn-hangzhou.fcapp.run",
			"domainPrefix": "sase-test",
			"requestId":    rid,
			"time":         now.Format(time.RFC3339),
			"timeEpoch":    strconv.FormatInt(now.UnixMilli(), 10),
			"http": map[string]any{
				"method": method, "path": path, "protocol": "HTTP/1.1",
				"sourceIp": "203.0.113.7", "userAgent": "apptest/1.0",
			},
		},
	}
	return json.Marshal(ev)
}

// invoke runs rq and checks the response invariants; it is safe to call
// from many goroutines and reports problems as an error.
func (k *kit) invoke(rq request) (response, error) {
	h, ok := k.handlers[rq.Fn]
	if !ok {
		return response{}, fmt.Errorf("no function %q", rq.Fn)
	}
	rid := fmt.Sprintf("REQ-%06d-%s", k.reqSeq.Add(1), rq.Fn)
	payload, err := k.event(rq, rid)
	if err != nil {
		return response{}, err
	}
	ctx := k.ctx
	if !rq.NoFCContext {
		ctx = fccontext.NewContext(ctx, &fccontext.FcContext{RequestID: rid, AccountId: k.owner, Region: "cn-hangzhou"})
	}
	out, err := h.Invoke(ctx, payload)
	if err != nil {
		return response{}, fmt.Errorf("%s: the function returned an error (FC would answer 502): %v", rq.Fn, err)
	}
	var raw struct {
		StatusCode      int               `json:"statusCode"`
		Headers         map[string]string `json:"headers"`
		IsBase64Encoded bool              `json:"isBase64Encoded"`
		Body            string            `json:"body"`
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return response{}, fmt.Errorf("%s: response %s is not an HTTPTriggerResponse: %v", rq.Fn, out, err)
	}
	r := response{Status: raw.StatusCode, Headers: raw.Headers, Body: raw.Body, RequestID: rid}
	if raw.IsBase64Encoded {
		return r, fmt.Errorf("%s: JSON response marked base64", rq.Fn)
	}
	return r, k.check(rq, &r)
}

// check enforces what API.md promises for every response.
func (k *kit) check(rq request, r *response) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%s %s: %s\nresponse: %s", rq.Method, rq.Fn, fmt.Sprintf(format, args...), r)
	}
	if r.Status >= 500 && !rq.Allow5xx {
		return fail("status %d: no input may make a function answer 5xx", r.Status)
	}
	if r.Status < 200 || r.Status > 599 {
		return fail("status %d is not an HTTP status", r.Status)
	}
	hdr := r.Headers["X-Request-Id"]
	if hdr == "" {
		return fail("no X-Request-Id header")
	}
	if !rq.NoFCContext && hdr != r.RequestID {
		return fail("X-Request-Id %q, want the FC request ID %q", hdr, r.RequestID)
	}
	if r.Status == 204 {
		if r.Body != "" {
			return fail("204 with a body")
		}
		return nil
	}
	if ct := r.Headers["Content-Type"]; !strings.HasPrefix(ct, "application/json") {
		return fail("Content-Type %q", ct)
	}
	if err := json.Unmarshal([]byte(r.Body), &r.Obj); err != nil || r.Obj == nil {
		return fail("body is not a JSON object: %v", err)
	}
	if got := r.str("RequestId"); got != hdr {
		return fail("body RequestId %q != X-Request-Id %q", got, hdr)
	}
	if r.Status < 400 {
		if _, ok := r.Obj["Code"]; ok {
			return fail("a success carries an error Code")
		}
		return nil
	}
	if got := r.keys(); !slices.Equal(got, []string{"Code", "Message", "RequestId"}) {
		return fail("error envelope has keys %v, want exactly Code, Message, RequestId", got)
	}
	code, msg := r.Code(), r.Message()
	if code == "" || msg == "" {
		return fail("error without Code or Message")
	}
	for _, leak := range []string{"goroutine ", "panic", ".go:", "runtime error", "\n"} {
		if strings.Contains(msg, leak) {
			return fail("error message leaks %q", leak)
		}
	}
	if tok := headerToken(rq); tok != "" && len(tok) > 8 && strings.Contains(r.Body, tok) {
		return fail("the response echoes the token")
	}
	return nil
}

func headerToken(rq request) string {
	if rq.Auth != nil {
		return strings.TrimSpace(strings.TrimPrefix(*rq.Auth, "Bearer"))
	}
	return ""
}

// do runs rq and fails the test on a broken invariant.
func (k *kit) do(tb testing.TB, rq request) response {
	tb.Helper()
	r, err := k.invoke(rq)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

// post and get are the common shapes.
func (k *kit) post(tb testing.TB, fn, as string, body any) response {
	tb.Helper()
	return k.do(tb, request{Fn: fn, As: as, Body: body})
}

func (k *kit) get(tb testing.TB, fn, as string, query map[string]string) response {
	tb.Helper()
	return k.do(tb, request{Fn: fn, As: as, Query: query})
}

// ---- assertions ---------------------------------------------------------------

func wantOK(tb testing.TB, r response) {
	tb.Helper()
	if r.Status != 200 {
		tb.Fatalf("want 200, got %s", r)
	}
}

// wantErr checks status and code, and that the message mentions each of
// mention (case-insensitively): the message says what is wrong.
func wantErr(tb testing.TB, r response, status int, code string, mention ...string) {
	tb.Helper()
	if r.Status != status || r.Code() != code {
		tb.Fatalf("want %d %s, got %s", status, code, r)
	}
	for _, m := range mention {
		if !strings.Contains(strings.ToLower(r.Message()), strings.ToLower(m)) {
			tb.Errorf("message %q does not mention %q", r.Message(), m)
		}
	}
}

// ---- state snapshots ----------------------------------------------------------

// snapshot renders everything a request could have written: the directory
// (simulation state) and, for the directory, the member rows, the member
// count and the audit trail. Equal snapshots mean nothing was written.
func (k *kit) snapshot() string {
	k.tb.Helper()
	var b strings.Builder
	put := func(name string, v any, err error) {
		if err != nil {
			if e, ok := apperr.As(err); ok {
				fmt.Fprintf(&b, "%s: error %s\n", name, e.Code)
				return
			}
			k.tb.Fatalf("snapshot %s: %v", name, err)
		}
		j, jerr := json.Marshal(v)
		if jerr != nil {
			k.tb.Fatalf("snapshot %s: %v", name, jerr)
		}
		fmt.Fprintf(&b, "%s: %s\n", name, j)
	}
	d, err := k.sim.GetDirectory(k.ctx)
	put("directory", d, err)
	accs, err := k.sim.ListAccounts(k.ctx)
	put("accounts", accs, err)
	invs, err := k.sim.ListInvitations(k.ctx)
	put("invitations", invs, err)
	das, err := k.sim.ListDelegatedAdmins(k.ctx)
	put("delegated", das, err)
	if d.ID == "" {
		return b.String()
	}
	ms := k.allMembers(d.ID, store.SortByAccountID)
	put("members", ms, nil)
	n, err := k.raw.CountMembers(k.ctx, d.ID)
	put("count", n, err)
	put("audit", k.allAudit(d.ID), nil)
	grants, err := k.raw.ListGrants(k.ctx, d.ID)
	for i := range grants {
		// A request records its person's sign-in; that is no change.
		grants[i].UserName, grants[i].LastSignInTime = "", time.Time{}
	}
	put("grants", grants, err)
	return b.String()
}

// seedGrant gives a person an access role straight in the store.
func (k *kit) seedGrant(dirID, accountID, userID string, access role.Access) {
	k.tb.Helper()
	cur, err := k.raw.GetGrant(k.ctx, dirID, accountID, userID)
	if err != nil && !apperr.IsCode(err, apperr.CodeGrantNotFound) {
		k.tb.Fatal(err)
	}
	rec := store.AuditEvent{DirectoryID: dirID, ID: audit.NewID(k.clock.Now()), Time: k.clock.Now(), ActorAccountID: ownerID,
		ActorRole: "ManagementAccount", Action: "grant-access", Target: userID, Result: "Seeded"}
	g := store.Grant{AccountID: accountID, UserID: userID, AccessRole: access, GrantedBy: ownerID, GrantTime: k.clock.Now()}
	if err := k.raw.PutGrant(k.ctx, dirID, g, cur.Version, rec); err != nil {
		k.tb.Fatalf("seed grant %s:%s: %v", accountID, userID, err)
	}
}

// allMembers reads every member row of the directory from the store.
func (k *kit) allMembers(dirID string, by store.SortBy) []store.Member {
	k.tb.Helper()
	var out []store.Member
	q := store.ListQuery{SortBy: by, Limit: 1000}
	for {
		ms, more, err := k.raw.ListMembers(k.ctx, dirID, q)
		if err != nil {
			k.tb.Fatalf("ListMembers: %v", err)
		}
		out = append(out, ms...)
		if !more || len(ms) == 0 {
			return out
		}
		last := ms[len(ms)-1]
		q.After = &store.Position{AddTime: last.AddTime, AccountID: last.AccountID}
	}
}

// allAudit reads the directory's whole audit trail, newest first.
func (k *kit) allAudit(dirID string) []store.AuditEvent {
	k.tb.Helper()
	var out []store.AuditEvent
	before := ""
	for {
		evs, more, err := k.raw.ListAudit(k.ctx, dirID, 1000, before)
		if err != nil {
			k.tb.Fatalf("ListAudit: %v", err)
		}
		out = append(out, evs...)
		if !more || len(evs) == 0 {
			return out
		}
		before = evs[len(evs)-1].ID
	}
}

// member reads one member row; ok false when absent.
func (k *kit) member(dirID, id string) (store.Member, bool) {
	k.tb.Helper()
	m, err := k.raw.GetMember(k.ctx, dirID, id)
	if apperr.IsCode(err, apperr.CodeMemberNotFound) {
		return store.Member{}, false
	}
	if err != nil {
		k.tb.Fatalf("GetMember: %v", err)
	}
	return m, true
}

// diff returns the lines that differ between two snapshots.
func diff(before, after string) string {
	a, b := strings.Split(before, "\n"), strings.Split(after, "\n")
	var out []string
	for i := range max(len(a), len(b)) {
		var x, y string
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			out = append(out, "- "+validate.ClipTo(x, 400), "+ "+validate.ClipTo(y, 400))
		}
	}
	return strings.Join(out, "\n")
}

// ---- small helpers ---------------------------------------------------------------

// uid returns a 16-digit account UID from a prefix digit and a number.
func uid(prefix, n int) string { return fmt.Sprintf("%d%015d", prefix, n) }

// runParallel runs fn n times at once, released together by a barrier, and
// returns the results in call order.
func runParallel[T any](n int, fn func(i int) T) []T {
	out := make([]T, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i] = fn(i)
		}()
	}
	close(start)
	wg.Wait()
	return out
}

// errorsJoin collects invariant failures from goroutines.
type errorsJoin struct {
	mu   sync.Mutex
	errs []error
}

func (e *errorsJoin) add(err error) {
	if err != nil {
		e.mu.Lock()
		e.errs = append(e.errs, err)
		e.mu.Unlock()
	}
}

func (e *errorsJoin) err() error { return errors.Join(e.errs...) }

// sortedCopy returns a sorted copy of ss.
func sortedCopy(ss []string) []string {
	out := slices.Clone(ss)
	sort.Strings(out)
	return out
}

// jsonDecode is json.Unmarshal for goroutines that may not call t.Fatal.
func jsonDecode(s string, v any) error { return json.Unmarshal([]byte(s), v) }
