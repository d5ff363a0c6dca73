package dirsync_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/sase-multiaccount/backend/shared/adapter/cloudcreds"
	"github.com/sase-multiaccount/backend/shared/adapter/resourcemanager"
	"github.com/sase-multiaccount/backend/shared/adapter/tablestore"
	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/local/rdwire"
	"github.com/sase-multiaccount/backend/shared/local/simulation"
	"github.com/sase-multiaccount/backend/shared/port/directory"
	"github.com/sase-multiaccount/backend/shared/port/store"
	"github.com/sase-multiaccount/backend/shared/testkit/otsfake"
	"github.com/sase-multiaccount/backend/shared/usecase/audit"
	"github.com/sase-multiaccount/backend/shared/usecase/dirsync"
)

func reconcile(t *testing.T, e *env) dirsync.Counts {
	t.Helper()
	n, err := e.svc.Reconcile(e.ctx, "req-1")
	if err != nil {
		t.Fatalf("Reconcile: %v", err)
	}
	return n
}

func TestReconcileRemovesAndRenames(t *testing.T) {
	e := newEnv(t)
	e.addMembers(t0.Add(time.Minute), delegate, member1, member2, member3)
	// Changes the events never delivered.
	if err := e.sim.RemoveAccount(e.ctx, member1); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.RemoveAccount(e.ctx, member2); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sim.RenameAccount(e.ctx, member3, "renamed"); err != nil {
		t.Fatal(err)
	}
	if n := reconcile(t, e); n != (dirsync.Counts{Checked: 4, Removed: 2, Renamed: 1}) {
		t.Fatalf("counts %+v", n)
	}
	for id, want := range map[string]bool{delegate: true, member1: false, member2: false, member3: true} {
		if _, ok := e.member(id); ok != want {
			t.Fatalf("member %s present %v, want %v", id, ok, want)
		}
	}
	if m, _ := e.member(member3); m.AccountName != "renamed" {
		t.Fatalf("name %q", m.AccountName)
	}
	if e.roles.count() == 0 {
		t.Fatal("removals did not invalidate the role cache")
	}
	trail := e.audit(e.d.ID)
	results := map[string]string{}
	for _, a := range trail {
		if a.ActorRole != "System" || a.Action != "reconcile-members" || a.RequestID != "req-1" {
			t.Fatalf("audit record %+v", a)
		}
		results[a.Target] = a.Result
	}
	if len(trail) != 3 || results[member1] != "Removed" || results[member2] != "Removed" || results[member3] != "Renamed" {
		t.Fatalf("audit: %+v", trail)
	}
	// Nothing left to do.
	if n := reconcile(t, e); n != (dirsync.Counts{Checked: 2}) {
		t.Fatalf("second run: %+v", n)
	}
	if len(e.audit(e.d.ID)) != 3 {
		t.Fatal("second run audited something")
	}
}

func TestReconcileWithoutDirectory(t *testing.T) {
	e := newEnv(t)
	e.dir.failOn("GetDirectory", apperr.NotFound(apperr.CodeNoDirectory, "none"))
	if n := reconcile(t, e); n != (dirsync.Counts{}) {
		t.Fatalf("counts %+v", n)
	}
}

// A member added while the run lists is not removed: its account may have
// joined after the listing.
func TestReconcileKeepsMembersAddedDuringTheRun(t *testing.T) {
	e := newEnv(t)
	e.addMembers(time.Now().UTC().Add(time.Minute), member1) // "after" the run starts
	e.dir.listings = []func([]directory.Account) []directory.Account{without(member1)}
	if n := reconcile(t, e); n.Removed != 0 || n.Checked != 1 {
		t.Fatalf("counts %+v", n)
	}
	if _, ok := e.member(member1); !ok {
		t.Fatal("a member added during the run was removed")
	}
}

// RD's page-number pagination can skip an account when another leaves in
// the middle of a listing; a removal is confirmed by a second listing.
func TestReconcileConfirmsRemovalsWithASecondListing(t *testing.T) {
	e := newEnv(t)
	e.addMembers(t0.Add(time.Minute), member1, member2)
	if err := e.sim.RemoveAccount(e.ctx, member2); err != nil {
		t.Fatal(err)
	}
	e.dir.listings = []func([]directory.Account) []directory.Account{without(member1)} // member1 skipped once
	if n := reconcile(t, e); n != (dirsync.Counts{Checked: 2, Removed: 1}) {
		t.Fatalf("counts %+v", n)
	}
	if _, ok := e.member(member1); !ok {
		t.Fatal("a member skipped by one listing was removed")
	}
	if e.dir.listCalls() != 2 {
		t.Fatalf("%d listings, want 2", e.dir.listCalls())
	}
	// Without removal candidates there is one listing only.
	if n := reconcile(t, e); n.Removed != 0 || e.dir.listCalls() != 3 {
		t.Fatalf("counts %+v after %d listings", n, e.dir.listCalls())
	}
}

// A listing without the management account is incomplete: nothing is removed.
func TestReconcileRefusesAnIncompleteListing(t *testing.T) {
	e := newEnv(t)
	e.addMembers(t0.Add(time.Minute), member1)
	e.dir.listings = []func([]directory.Account) []directory.Account{func([]directory.Account) []directory.Account { return nil }}
	n, err := e.svc.Reconcile(e.ctx, "req")
	if !apperr.IsKind(err, apperr.KindUnavailable) || n.Removed != 0 {
		t.Fatalf("counts %+v, error %v", n, err)
	}
	if _, ok := e.member(member1); !ok {
		t.Fatal("an empty listing removed members")
	}
}

// A newer rename (an event) is not overwritten by a run whose listing was
// read before it.
func TestReconcileNeverOverwritesANewerName(t *testing.T) {
	e := newEnv(t)
	e.addMembers(t0.Add(time.Minute), member1)
	future := time.Now().UTC().Add(time.Minute) // the event's rename happened after the run started
	if _, err := e.store.Store.RenameMember(e.ctx, e.d.ID, member1, "from-event", future, nil); err != nil {
		t.Fatal(err)
	}
	if n := reconcile(t, e); n.Renamed != 0 {
		t.Fatalf("counts %+v", n)
	}
	if m, _ := e.member(member1); m.AccountName != "from-event" {
		t.Fatalf("name %q", m.AccountName)
	}
}

func TestReconcileStoreFailure(t *testing.T) {
	for _, method := range []string{"ListMembers", "DeleteMembers", "RenameMember"} {
		t.Run(method, func(t *testing.T) {
			e := newEnv(t)
			e.addMembers(t0.Add(time.Minute), member1, member2)
			if err := e.sim.RemoveAccount(e.ctx, member1); err != nil {
				t.Fatal(err)
			}
			if _, err := e.sim.RenameAccount(e.ctx, member2, "renamed"); err != nil {
				t.Fatal(err)
			}
			e.store.failOn(method, unavailable(method))
			if _, err := e.svc.Reconcile(e.ctx, "req"); !apperr.IsKind(err, apperr.KindUnavailable) {
				t.Fatalf("error %v", err)
			}
			e.store.failOn(method, nil)
			n := reconcile(t, e)
			total := len(e.audit(e.d.ID))
			if _, ok := e.member(member1); ok || total != 2 {
				t.Fatalf("after the next run (%+v): member1 present %v, %d audit records", n, ok, total)
			}
		})
	}
	t.Run("ListAccounts", func(t *testing.T) {
		e := newEnv(t)
		e.addMembers(t0.Add(time.Minute), member1)
		e.dir.failOn("ListAccounts", apperr.Throttled("Resource Directory", nil))
		if _, err := e.svc.Reconcile(e.ctx, "req"); !apperr.IsKind(err, apperr.KindThrottled) {
			t.Fatalf("error %v", err)
		}
		if _, ok := e.member(member1); !ok {
			t.Fatal("a failed listing removed a member")
		}
	})
}

// Runs of reconciliation and event deliveries at the same time: every
// change happens and is audited exactly once.
func TestReconcileConcurrentWithItselfAndEvents(t *testing.T) {
	e := newEnv(t)
	var ids []string
	var accounts []directory.Account
	for i := range 300 {
		id := fmt.Sprintf("3%015d", i)
		ids = append(ids, id)
		accounts = append(accounts, directory.Account{AccountID: id, DisplayName: "acct"})
	}
	if err := e.sim.SeedAccounts(e.ctx, accounts); err != nil {
		t.Fatal(err)
	}
	ms := make([]store.Member, len(ids))
	for i, id := range ids {
		at := t0.Add(time.Minute)
		ms[i] = store.Member{DirectoryID: e.d.ID, AccountID: id, AccountName: "acct", AddTime: at, Version: 1, UpdateTime: at, NameTime: at}
	}
	if _, err := e.store.Store.AddMembers(e.ctx, e.d.ID, ms, nil); err != nil {
		t.Fatal(err)
	}
	// Every third account leaves, every third other is renamed.
	gone := map[string]bool{}
	for i, id := range ids {
		switch i % 3 {
		case 0:
			if err := e.sim.RemoveAccount(e.ctx, id); err != nil {
				t.Fatal(err)
			}
			gone[id] = true
		case 1:
			if _, err := e.sim.RenameAccount(e.ctx, id, "new-name"); err != nil {
				t.Fatal(err)
			}
		}
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var total dirsync.Counts
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := e.svc.Reconcile(context.Background(), "req")
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			total.Removed += n.Removed
			total.Renamed += n.Renamed
			mu.Unlock()
		}()
	}
	for i := 0; i < len(ids); i += 3 { // the removal events, concurrently
		wg.Add(1)
		go func() {
			defer wg.Done()
			sum, err := e.svc.HandleEvent(context.Background(), event(owner, dirsync.EventRemoveCloudAccount, t0.Add(10*time.Minute), "AccountId", ids[i]))
			if err != nil {
				t.Error(err)
			}
			if sum.Result == dirsync.ResultRemoved {
				mu.Lock()
				total.Removed++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if total.Removed != len(gone) || total.Renamed != 100 {
		t.Fatalf("removed %d (want %d), renamed %d (want 100)", total.Removed, len(gone), total.Renamed)
	}
	trail := e.audit(e.d.ID)
	per := map[string]int{}
	for _, a := range trail {
		per[a.Target+" "+a.Result]++
	}
	for k, n := range per {
		if n != 1 {
			t.Fatalf("%s audited %d times", k, n)
		}
	}
	if len(trail) != len(gone)+100 {
		t.Fatalf("%d audit records, want %d", len(trail), len(gone)+100)
	}
	for i, id := range ids {
		m, ok := e.member(id)
		want := "acct"
		if i%3 == 1 {
			want = "new-name"
		}
		if ok == gone[id] || (ok && m.AccountName != want) {
			t.Fatalf("member %s: present %v, %+v", id, ok, m)
		}
	}
}

// TestReconcileCostAt10000Accounts measures the remote calls of one run on
// the scale envelope (DESIGN.md §4: 10,000 RD accounts, 10,000 members),
// with the production RD adapter reading every page over the RD wire
// protocol: one GetResourceDirectory, ⌈10,000/100⌉ = 100 ListAccounts pages,
// the folder tree for the mirror (GetResourceDirectory and one
// ListFoldersForParent per folder) and ⌈10,000/1,000⌉ = 10 member pages; a run that removes members lists the
// accounts a second time (confirmation) and deletes in batches of 100.
func TestReconcileCostAt10000Accounts(t *testing.T) {
	e := newEnv(t)
	const n = 10000 - 5 // the fixture directory already holds the MA and four accounts
	accounts := make([]directory.Account, n)
	ms := make([]store.Member, 0, n)
	for i := range accounts {
		id := fmt.Sprintf("4%015d", i)
		accounts[i] = directory.Account{AccountID: id, DisplayName: "acct"}
		at := t0.Add(time.Minute)
		ms = append(ms, store.Member{DirectoryID: e.d.ID, AccountID: id, AccountName: "acct", AddTime: at, Version: 1, UpdateTime: at, NameTime: at})
	}
	if err := e.sim.SeedAccounts(e.ctx, accounts); err != nil {
		t.Fatal(err)
	}
	e.addMembers(t0.Add(time.Minute), delegate, member1, member2, member3)
	if _, err := e.store.Store.AddMembers(e.ctx, e.d.ID, ms, nil); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Prod", "Dev"} {
		if _, err := e.sim.CreateFolder(e.ctx, name, ""); err != nil {
			t.Fatal(err)
		}
	}
	rd := overWire(t, e.sim)
	e.rebuild(func(d *dirsync.Deps) { d.Directory = rd })

	got := reconcile(t, e)
	if got != (dirsync.Counts{Checked: 9999}) {
		t.Fatalf("counts %+v", got)
	}
	calls := rd.Calls()
	// GetResourceDirectory twice: the run's, and ListFolders' (the root's
	// ID); one ListFoldersForParent per folder, the root's included. In
	// all 1 + 100 + 1 + 3 = 105 RD calls: 102 plus one per folder (docs/DEPLOY.md).
	if calls["GetResourceDirectory"] != 2 || calls["ListAccounts"] != 100 || calls["ListFoldersForParent"] != 3 || len(calls) != 3 ||
		e.store.count("ListMembers") != 10 || e.store.count("DeleteMembers")+e.store.count("RenameMember")+e.store.count("AppendAudit") != 0 {
		t.Fatalf("steady state: RD %v, store %v", calls, e.store.calls)
	}

	// 150 accounts leave, 20 are renamed.
	for i := range 150 {
		if err := e.sim.RemoveAccount(e.ctx, accounts[i].AccountID); err != nil {
			t.Fatal(err)
		}
	}
	for i := 150; i < 170; i++ {
		if _, err := e.sim.RenameAccount(e.ctx, accounts[i].AccountID, "renamed"); err != nil {
			t.Fatal(err)
		}
	}
	before, store0 := rd.Calls(), map[string]int{}
	for _, m := range []string{"ListMembers", "DeleteMembers", "RenameMember", "AppendAudit"} {
		store0[m] = e.store.count(m)
	}
	got = reconcile(t, e)
	if got != (dirsync.Counts{Checked: 9999, Removed: 150, Renamed: 20}) {
		t.Fatalf("counts %+v", got)
	}
	after := rd.Calls()
	delta := func(m string) int { return e.store.count(m) - store0[m] }
	// ListAccounts: 9,850 accounts now, 99 pages, twice. The audit records
	// are written by DeleteMembers and RenameMember, in the same unit as the
	// change: no AppendAudit.
	if after["GetResourceDirectory"]-before["GetResourceDirectory"] != 2 || after["ListAccounts"]-before["ListAccounts"] != 2*99 ||
		delta("ListMembers") != 10 || delta("DeleteMembers") != 2 || delta("RenameMember") != 20 || delta("AppendAudit") != 0 {
		t.Fatalf("with changes: RD %v -> %v, store deltas ListMembers %d DeleteMembers %d RenameMember %d AppendAudit %d",
			before, after, delta("ListMembers"), delta("DeleteMembers"), delta("RenameMember"), delta("AppendAudit"))
	}
}

// overWire serves sim over the RD wire protocol and returns the production
// adapter pointed at it.
func overWire(t *testing.T, sim *simulation.Sim) *resourcemanager.Client {
	t.Helper()
	srv := rdwire.NewServer(sim, rdwire.TestCredentials)
	endpoint, stop, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stop(context.Background()) })
	rd, err := resourcemanager.New(resourcemanager.Config{Endpoint: endpoint, Scheme: "HTTP",
		ServicePrincipal: directory.DefaultServicePrincipal, Credentials: cloudcreds.Static(rdwire.TestCredentials)})
	if err != nil {
		t.Fatal(err)
	}
	return rd
}

// TestReconcileCostOnTablestore measures the same run on the production
// store: Tablestore through its SDK against the wire-level fake, 10,000
// members. Steady state is 10 GetRange calls for the members, 3 for the
// mirror as the last run left it (what it has seen), 3 more for the
// rebuild's comparison and one UpdateRow for its sync mark; removals cost one BatchGetRow
// and one BatchWriteRow per 100 members, renames a GetRow and an UpdateRow
// each, and the audit one BatchWriteRow per batch of up to 100 changes.
func TestReconcileCostOnTablestore(t *testing.T) {
	ctx := context.Background()
	fake := otsfake.New(otsfake.Options{})
	defer fake.Close()
	creds := cloudcreds.Credentials{AccessKeyID: "LTAI-dirsync", AccessKeySecret: "dirsync-secret"}
	fake.AddCredentials(creds.AccessKeyID, creds.AccessKeySecret, "")
	cfg := tablestore.Config{Endpoint: fake.URL(), Instance: fake.Instance(), Credentials: cloudcreds.Static(creds)}
	if err := tablestore.EnsureTables(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	ts, err := tablestore.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ts.Close()

	sim, err := simulation.Open(simulation.Options{OwnerAccountID: owner, Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	d, err := sim.EnableDirectory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const n = 10000 - 1 // with the management account: 10,000 accounts
	accounts := make([]directory.Account, n)
	ms := make([]store.Member, n)
	for i := range accounts {
		id := fmt.Sprintf("4%015d", i)
		at := t0.Add(time.Minute)
		accounts[i] = directory.Account{AccountID: id, DisplayName: "acct"}
		ms[i] = store.Member{DirectoryID: d.ID, AccountID: id, AccountName: "acct", AddTime: at, Version: 1, UpdateTime: at, NameTime: at}
	}
	if err := sim.SeedAccounts(ctx, accounts); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.AddMembers(ctx, d.ID, ms, nil); err != nil {
		t.Fatal(err)
	}
	// No enrollment policy: its read is not among the calls counted here.
	svc := dirsync.New(dirsync.Deps{Store: ts, Mirror: ts, Policies: noPolicy{}, Generations: ts, Directory: sim,
		Roles: &countingRoles{}, Audit: &audit.Recorder{Store: ts, Now: time.Now, Log: zerolog.Nop()},
		Owner: owner, ServicePrincipal: directory.DefaultServicePrincipal, Now: time.Now})

	// The first run builds the mirror: 10,001 rows (accounts and the root
	// folder) in batches of 200, and the sync mark.
	fake.ResetCounts()
	got, err := svc.Reconcile(ctx, "req")
	if err != nil || got != (dirsync.Counts{Checked: n}) {
		t.Fatalf("counts %+v, %v", got, err)
	}
	if c := fake.Counts(); c["GetRange"] != 10+1+1 || c["BatchWriteRow"] != 51 || c["UpdateRow"] != 1 {
		t.Fatalf("first run: Tablestore calls %v", c)
	}
	// Steady state: the member pages, the mirror twice (10,002 rows: 3
	// GetRange responses of at most 5,000 rows each time) and the sync
	// mark; no mirror row is rewritten.
	fake.ResetCounts()
	got, err = svc.Reconcile(ctx, "req")
	if err != nil || got != (dirsync.Counts{Checked: n}) {
		t.Fatalf("counts %+v, %v", got, err)
	}
	if c := fake.Counts(); c["GetRange"] != 10+3+3 || fake.Writes() != 1 || fake.Reads() != 16 {
		t.Fatalf("steady state: Tablestore calls %v", c)
	}

	for i := range 150 {
		if err := sim.RemoveAccount(ctx, accounts[i].AccountID); err != nil {
			t.Fatal(err)
		}
	}
	for i := 150; i < 170; i++ {
		if _, err := sim.RenameAccount(ctx, accounts[i].AccountID, "renamed"); err != nil {
			t.Fatal(err)
		}
	}
	fake.ResetCounts()
	got, err = svc.Reconcile(ctx, "req")
	if err != nil || got != (dirsync.Counts{Checked: n, Removed: 150, Renamed: 20}) {
		t.Fatalf("counts %+v, %v", got, err)
	}
	c := fake.Counts()
	// Each change is written with its audit record and its feed entry in
	// one BatchWriteRow, after one UpdateRow that takes the batch's feed
	// positions: the deletes of 100 + 50 members take 3 + 2 batches (49
	// members with their records, entries and the counter fit one batch);
	// each rename (an internal feed entry) one UpdateRow and one batch
	// after its GetRow.
	// The mirror takes the 170 changed accounts in one more BatchWriteRow,
	// and the sync mark one UpdateRow.
	want := map[string]int{"GetRange": 10 + 3 + 3, "BatchGetRow": 2, "BatchWriteRow": 5 + 20 + 1, "GetRow": 20, "UpdateRow": 5 + 20 + 1}
	for action, w := range want {
		if c[action] != w {
			t.Fatalf("with 150 removals and 20 renames: Tablestore calls %v, want %v", c, want)
		}
	}
}
