package dirsync_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/events"
	"github.com/sase-multiaccount/backend/shared/local/embedded"
	"github.com/sase-multiaccount/backend/shared/local/simulation"
	"github.com/sase-multiaccount/backend/shared/port/directory"
	"github.com/sase-multiaccount/backend/shared/port/store"
	"github.com/sase-multiaccount/backend/shared/testkit/logbuf"
	"github.com/sase-multiaccount/backend/shared/usecase/audit"
	"github.com/sase-multiaccount/backend/shared/usecase/dirsync"
)

const (
	owner    = "1000000000000001" // deployment account = management account
	delegate = "1000000000000002"
	member1  = "1000000000000003"
	member2  = "1000000000000004"
	member3  = "1000000000000005"
	stranger = "2000000000000009" // management account of another directory
)

// t0 is the fixture epoch: an hour ago, so that every fixture time lies in
// the past of the real clock the store's expiry checks use.
var t0 = time.Now().UTC().Truncate(time.Second).Add(-time.Hour)

// env is a deployment: embedded store, simulated directory, a role cache
// that counts invalidations, and the real audit recorder.
type env struct {
	t     *testing.T
	ctx   context.Context
	store *faultyStore
	sim   *simulation.Sim
	dir   *faultyDirectory
	roles *countingRoles
	deps  dirsync.Deps // what svc was built from (see rebuild)
	svc   *dirsync.Service
	d     directory.Directory
	log   *logbuf.Buffer
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "store.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	sim, err := simulation.Open(simulation.Options{OwnerAccountID: owner, Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	d, err := sim.EnableDirectory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.SeedAccounts(ctx, []directory.Account{
		{AccountID: delegate, DisplayName: "security"},
		{AccountID: member1, DisplayName: "team-1"},
		{AccountID: member2, DisplayName: "team-2"},
		{AccountID: member3, DisplayName: "team-3"},
	}); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, ctx: ctx, store: &faultyStore{Store: st}, sim: sim, roles: &countingRoles{}, d: d, log: &logbuf.Buffer{}}
	e.dir = &faultyDirectory{Directory: sim}
	logger := zerolog.New(e.log)
	rec := &audit.Recorder{Store: e.store, Now: time.Now, Log: logger}
	e.deps = dirsync.Deps{Store: e.store, Mirror: e.store, Policies: e.store, Generations: e.store, Directory: e.dir, Roles: e.roles,
		Audit: rec, Owner: owner, ServicePrincipal: directory.DefaultServicePrincipal, Now: time.Now}
	e.svc = dirsync.New(e.deps)
	return e
}

// rebuild replaces the service with one whose dependencies change altered.
func (e *env) rebuild(change func(*dirsync.Deps)) {
	change(&e.deps)
	e.svc = dirsync.New(e.deps)
}

// addMembers writes member rows added at the given time, named as in the
// directory.
func (e *env) addMembers(at time.Time, ids ...string) {
	e.t.Helper()
	names := map[string]string{delegate: "security", member1: "team-1", member2: "team-2", member3: "team-3"}
	ms := make([]store.Member, len(ids))
	for i, id := range ids {
		ms[i] = store.Member{DirectoryID: e.d.ID, AccountID: id, AccountName: names[id], AddTime: at, AddedBy: owner,
			Version: 1, UpdateTime: at, NameTime: at}
	}
	res, err := e.store.Store.AddMembers(e.ctx, e.d.ID, ms, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, r := range res {
		if r.Status != store.Added {
			e.t.Fatalf("add %s: %v %v", r.AccountID, r.Status, r.Err)
		}
	}
}

// rdRemove removes the account from the simulated directory, so that RD
// confirms a removal event.
func (e *env) rdRemove(id string) {
	e.t.Helper()
	if err := e.sim.RemoveAccount(e.ctx, id); err != nil {
		e.t.Fatal(err)
	}
}

// rdRename renames the account in the simulated directory, so that RD
// confirms a rename event.
func (e *env) rdRename(id, name string) {
	e.t.Helper()
	if _, err := e.sim.RenameAccount(e.ctx, id, name); err != nil {
		e.t.Fatal(err)
	}
}

// rdRegister registers SASE's delegated administrator in the simulated
// directory, so that RD confirms a registration event.
func (e *env) rdRegister(id string) {
	e.t.Helper()
	if err := e.sim.RegisterDelegatedAdmin(e.ctx, id); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) member(id string) (store.Member, bool) {
	e.t.Helper()
	m, err := e.store.Store.GetMember(e.ctx, e.d.ID, id)
	if apperr.IsCode(err, apperr.CodeMemberNotFound) {
		return m, false
	}
	if err != nil {
		e.t.Fatal(err)
	}
	return m, true
}

func (e *env) audit(dirID string) []store.AuditEvent {
	e.t.Helper()
	evs, _, err := e.store.Store.ListAudit(e.ctx, dirID, 1000, "")
	if err != nil {
		e.t.Fatal(err)
	}
	return evs
}

func (e *env) handle(ev events.CloudEvent) dirsync.Summary {
	e.t.Helper()
	sum, err := e.svc.HandleEvent(e.ctx, ev)
	if err != nil {
		e.t.Fatalf("HandleEvent(%s %s): %v", ev.ID, ev.Type, err)
	}
	return sum
}

func wantResult(t *testing.T, sum dirsync.Summary, result, reason string) {
	t.Helper()
	if sum.Result != result || sum.Reason != reason {
		t.Fatalf("summary %+v: want Result %q Reason %q", sum, result, reason)
	}
}

// event is an RD ActionTrail event as EventBridge delivers it.
func event(caller, name string, at time.Time, kv ...string) events.CloudEvent {
	params := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		params[kv[i]] = kv[i+1]
	}
	return events.NewActionTrailEvent(caller, name, params, at)
}

// withData replaces the event's data (garbage tests).
func withData(ev events.CloudEvent, data string) events.CloudEvent {
	ev.Data = json.RawMessage(data)
	return ev
}

// ---- fakes -------------------------------------------------------------------

// faultyStore is the embedded store with injectable failures and call counts.
type faultyStore struct {
	*embedded.Store
	mu    sync.Mutex
	fail  map[string]error
	calls map[string]int
}

func (f *faultyStore) failOn(method string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail == nil {
		f.fail = map[string]error{}
	}
	if err == nil {
		delete(f.fail, method)
	} else {
		f.fail[method] = err
	}
}

func (f *faultyStore) enter(method string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[method]++
	return f.fail[method]
}

func (f *faultyStore) count(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[method]
}

// writes counts every call that could change the store.
func (f *faultyStore) writes() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls["MarkEventProcessed"] + f.calls["RenameMember"] + f.calls["DeleteMembers"] + f.calls["AppendAudit"] + f.calls["BumpGeneration"]
}

func unavailable(what string) error {
	return apperr.Unavailable("Tablestore", fmt.Errorf("%s: connection reset", what))
}

func (f *faultyStore) GetMember(ctx context.Context, dirID, id string) (store.Member, error) {
	if err := f.enter("GetMember"); err != nil {
		return store.Member{}, err
	}
	return f.Store.GetMember(ctx, dirID, id)
}

func (f *faultyStore) RenameMember(ctx context.Context, dirID, id, name string, asOf time.Time, audit store.AuditOf) (bool, error) {
	if err := f.enter("RenameMember"); err != nil {
		return false, err
	}
	return f.Store.RenameMember(ctx, dirID, id, name, asOf, audit)
}

func (f *faultyStore) DeleteMembers(ctx context.Context, dirID string, ids []string, audit store.AuditOf) ([]store.DeleteResult, error) {
	if err := f.enter("DeleteMembers"); err != nil {
		return nil, err
	}
	return f.Store.DeleteMembers(ctx, dirID, ids, audit)
}

func (f *faultyStore) ListMembers(ctx context.Context, dirID string, q store.ListQuery) ([]store.Member, bool, error) {
	if err := f.enter("ListMembers"); err != nil {
		return nil, false, err
	}
	return f.Store.ListMembers(ctx, dirID, q)
}

func (f *faultyStore) EventProcessed(ctx context.Context, key string) (bool, error) {
	if err := f.enter("EventProcessed"); err != nil {
		return false, err
	}
	return f.Store.EventProcessed(ctx, key)
}

func (f *faultyStore) MarkEventProcessed(ctx context.Context, key string, exp time.Time) error {
	if err := f.enter("MarkEventProcessed"); err != nil {
		return err
	}
	return f.Store.MarkEventProcessed(ctx, key, exp)
}

func (f *faultyStore) AddMembers(ctx context.Context, dirID string, ms []store.Member, audit store.AuditOf) ([]store.AddResult, error) {
	if err := f.enter("AddMembers"); err != nil {
		return nil, err
	}
	return f.Store.AddMembers(ctx, dirID, ms, audit)
}

func (f *faultyStore) PutMirrorAccounts(ctx context.Context, dirID string, accounts []store.MirrorAccount) error {
	if err := f.enter("PutMirrorAccounts"); err != nil {
		return err
	}
	return f.Store.PutMirrorAccounts(ctx, dirID, accounts)
}

func (f *faultyStore) AppendAudit(ctx context.Context, evs []store.AuditEvent) error {
	if err := f.enter("AppendAudit"); err != nil {
		return err
	}
	return f.Store.AppendAudit(ctx, evs)
}

// faultyDirectory is the simulation with injectable failures and, for
// reconciliation, replaceable listings.
type faultyDirectory struct {
	dirsync.Directory
	mu       sync.Mutex
	fail     map[string]error
	listings []func([]directory.Account) []directory.Account // applied to successive ListAccounts results
	lists    int
	calls    map[string]int
}

// enter counts a call and returns its injected failure.
func (f *faultyDirectory) enter(method string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[method]++
	return f.fail[method]
}

func (f *faultyDirectory) count(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[method]
}

func (f *faultyDirectory) GetAccount(ctx context.Context, id string) (directory.Account, error) {
	if err := f.enter("GetAccount"); err != nil {
		return directory.Account{}, err
	}
	return f.Directory.GetAccount(ctx, id)
}

func (f *faultyDirectory) ListDelegatedAdmins(ctx context.Context) ([]directory.DelegatedAdmin, error) {
	if err := f.enter("ListDelegatedAdmins"); err != nil {
		return nil, err
	}
	return f.Directory.ListDelegatedAdmins(ctx)
}

func (f *faultyDirectory) failOn(method string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail == nil {
		f.fail = map[string]error{}
	}
	f.fail[method] = err
}

func (f *faultyDirectory) GetDirectory(ctx context.Context) (directory.Directory, error) {
	if err := f.enter("GetDirectory"); err != nil {
		return directory.Directory{}, err
	}
	return f.Directory.GetDirectory(ctx)
}

func (f *faultyDirectory) ListAccounts(ctx context.Context) ([]directory.Account, error) {
	f.mu.Lock()
	err := f.fail["ListAccounts"]
	var edit func([]directory.Account) []directory.Account
	if f.lists < len(f.listings) {
		edit = f.listings[f.lists]
	}
	f.lists++
	f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	as, err := f.Directory.ListAccounts(ctx)
	if err == nil && edit != nil {
		as = edit(as)
	}
	return as, err
}

func (f *faultyDirectory) listCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lists
}

// without drops accounts from a listing.
func without(ids ...string) func([]directory.Account) []directory.Account {
	return func(as []directory.Account) []directory.Account {
		var out []directory.Account
		for _, a := range as {
			keep := true
			for _, id := range ids {
				keep = keep && a.AccountID != id
			}
			if keep {
				out = append(out, a)
			}
		}
		return out
	}
}

type countingRoles struct {
	mu sync.Mutex
	n  int
}

func (r *countingRoles) Changed(context.Context) error { r.mu.Lock(); r.n++; r.mu.Unlock(); return nil }
func (r *countingRoles) count() int                    { r.mu.Lock(); defer r.mu.Unlock(); return r.n }

// changedFunc adapts a function to dirsync.Roles.
type changedFunc func(context.Context) error

func (f changedFunc) Changed(ctx context.Context) error { return f(ctx) }

// noPolicy is a directory whose enrollment policy was never set (the zero
// policy, Off), answered without a store read.
type noPolicy struct{}

func (noPolicy) GetPolicy(context.Context, string) (store.EnrollmentPolicy, error) {
	return store.EnrollmentPolicy{}, nil
}

// A missing dependency is a wiring mistake New names at once, not a nil
// dereference in the middle of a run.
func TestNewNamesMissingDependencies(t *testing.T) {
	e := newEnv(t)
	d := e.deps
	d.Mirror, d.Now = nil, nil
	defer func() {
		if got := fmt.Sprint(recover()); got != "dirsync.New: missing Mirror, Now" {
			t.Fatalf("panic %q", got)
		}
	}()
	dirsync.New(d)
}
