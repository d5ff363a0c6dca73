package simulation_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/events"
	"github.com/sase-multiaccount/backend/shared/local/simulation"
	"github.com/sase-multiaccount/backend/shared/port/directory"
	"github.com/sase-multiaccount/backend/shared/testkit/directorytest"
)

const owner = directorytest.OwnerAccountID

func uid(n int) string { return fmt.Sprintf("2%015d", n) }

func open(t *testing.T, opts simulation.Options) *simulation.Sim {
	t.Helper()
	s, err := simulation.Open(opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

// TestContract runs the port's contract suite on the in-memory Sim.
func TestContract(t *testing.T) {
	directorytest.Run(t, func(t *testing.T, opts simulation.Options) directorytest.Fixture {
		s := open(t, opts)
		return directorytest.Fixture{Service: s, OwnerAccountID: opts.OwnerAccountID, Sim: s}
	})
}

// TestContractPersisted runs the suite again with a state file and, after
// every scenario, checks that a Sim reopened from the file sees exactly what
// the live one does: every kind of change survives a restart.
func TestContractPersisted(t *testing.T) {
	directorytest.Run(t, func(t *testing.T, opts simulation.Options) directorytest.Fixture {
		opts.Path = filepath.Join(t.TempDir(), "rd.json")
		s := open(t, opts)
		t.Cleanup(func() {
			if t.Failed() {
				return
			}
			reopened := open(t, opts)
			wantSameState(t, s, reopened, opts.ServicePrincipal)
		})
		return directorytest.Fixture{Service: s, OwnerAccountID: opts.OwnerAccountID, Sim: s}
	})
}

// wantSameState compares everything the port and the local actions expose.
func wantSameState(t *testing.T, a, b *simulation.Sim, principal string) {
	t.Helper()
	ctx := context.Background()
	if principal == "" {
		principal = directory.DefaultServicePrincipal
	}
	da, errA := a.GetDirectory(ctx)
	db, errB := b.GetDirectory(ctx)
	if fmt.Sprint(errA) != fmt.Sprint(errB) || da.ID != db.ID || da.ManagementAccountName != db.ManagementAccountName || !da.CreateTime.Equal(db.CreateTime) {
		t.Fatalf("directory after reopen: %+v %v, live %+v %v", db, errB, da, errA)
	}
	if errA != nil {
		return
	}
	same := func(what string, x, y any, ex, ey error) {
		t.Helper()
		if ex != nil || ey != nil {
			t.Fatalf("%s: live %v, reopened %v", what, ex, ey)
		}
		jx, _ := json.Marshal(x)
		jy, _ := json.Marshal(y)
		if string(jx) != string(jy) {
			t.Fatalf("%s differs after reopen:\n live     %s\n reopened %s", what, jx, jy)
		}
	}
	accA, e1 := a.ListAccounts(ctx)
	accB, e2 := b.ListAccounts(ctx)
	same("accounts", accA, accB, e1, e2)
	invA, e1 := a.ListInvitations(ctx)
	invB, e2 := b.ListInvitations(ctx)
	same("invitations", invA, invB, e1, e2)
	for _, p := range []string{principal, directory.DefaultServicePrincipal, "config.aliyuncs.com"} {
		dA, e1 := a.ListDelegatedAdminsFor(ctx, p)
		dB, e2 := b.ListDelegatedAdminsFor(ctx, p)
		same("delegated admins of "+p, dA, dB, e1, e2)
	}
}

func TestOpenValidatesOptions(t *testing.T) {
	cases := []struct {
		opts simulation.Options
		code apperr.Code
	}{
		{simulation.Options{}, "MissingParameter.OwnerAccountId"},
		{simulation.Options{OwnerAccountID: "123"}, "InvalidParameter.OwnerAccountId"},
		{simulation.Options{OwnerAccountID: "11000000000000x1"}, "InvalidParameter.OwnerAccountId"},
		{simulation.Options{OwnerAccountID: owner, MaxAccounts: -1}, "InvalidParameter.MaxAccounts"},
		{simulation.Options{OwnerAccountID: owner, MaxPendingInvitations: -1}, "InvalidParameter.MaxPendingInvitations"},
		{simulation.Options{OwnerAccountID: owner, MaxDelegatedAdmins: -1}, "InvalidParameter.MaxDelegatedAdmins"},
		{simulation.Options{OwnerAccountID: owner, InvitationTTL: -time.Hour}, "InvalidParameter.InvitationTTL"},
	}
	for _, c := range cases {
		_, err := simulation.Open(c.opts)
		if !apperr.IsKind(err, apperr.KindInvalid) || !apperr.IsCode(err, c.code) {
			t.Errorf("Open(%+v) = %v, want %s", c.opts, err, c.code)
		}
	}
}

// TestDefaults checks the defaults that are not visible in the suite,
// which always passes a clock: times are real, UTC and whole milliseconds
// (RD's precision for directory and account times; handshakes have seconds).
func TestDefaults(t *testing.T) {
	s := open(t, simulation.Options{OwnerAccountID: owner})
	ctx := context.Background()
	before := time.Now().Add(-time.Second)
	d, err := s.EnableDirectory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d.CreateTime.Before(before) || d.CreateTime.After(time.Now()) || d.CreateTime.Location() != time.UTC || d.CreateTime.Nanosecond()%int(time.Millisecond) != 0 {
		t.Fatalf("CreateTime %v: want now, UTC, whole milliseconds", d.CreateTime)
	}
	inv, err := s.Invite(ctx, uid(1), directory.TargetAccount, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := inv.ExpireTime.Sub(inv.CreateTime); got != 14*24*time.Hour {
		t.Fatalf("default TTL %s, want 14 days", got)
	}
	if _, err := s.AcceptInvitation(ctx, inv.ID, "m"); err != nil {
		t.Fatal(err)
	}
	if err := s.RegisterDelegatedAdmin(ctx, uid(1)); err != nil {
		t.Fatal(err)
	}
	ds, err := s.ListDelegatedAdminsFor(ctx, directory.DefaultServicePrincipal)
	if err != nil || len(ds) != 1 {
		t.Fatalf("default principal is not %s: %+v %v", directory.DefaultServicePrincipal, ds, err)
	}
}

func TestPersistenceAcrossReopen(t *testing.T) {
	dir := t.TempDir()
	clock := directorytest.NewClock(directorytest.Start)
	opts := simulation.Options{Path: filepath.Join(dir, "state", "rd.json"), OwnerAccountID: owner, OwnerDisplayName: "Acme", Now: clock.Now}
	ctx := context.Background()

	s := open(t, opts)
	d, err := s.EnableDirectory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	accepted, _ := s.Invite(ctx, uid(1), directory.TargetAccount, "joins")
	pending, _ := s.Invite(ctx, "bob@example.com", directory.TargetEmail, "stays pending")
	cancelled, _ := s.Invite(ctx, uid(3), directory.TargetAccount, "")
	if _, err := s.CancelInvitation(ctx, cancelled.ID); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	if _, err := s.AcceptInvitation(ctx, accepted.ID, "Security"); err != nil {
		t.Fatal(err)
	}
	if err := s.RegisterDelegatedAdmin(ctx, uid(1)); err != nil {
		t.Fatal(err)
	}

	info, err := os.Stat(opts.Path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("state file mode %v, want 0600", info.Mode().Perm())
	}
	entries, _ := os.ReadDir(filepath.Dir(opts.Path))
	if len(entries) != 2 {
		t.Fatalf("state folder holds %d entries, want only the state file and its log (no temp files left)", len(entries))
	}
	if info, err := os.Stat(opts.Path + ".log"); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("log: %v %v, want mode 0600", info, err)
	}

	r := open(t, opts)
	wantSameState(t, s, r, "")
	got, err := r.GetDirectory(ctx)
	if err != nil || got.ID != d.ID || got.ManagementAccountName != "Acme" {
		t.Fatalf("reopened directory %+v %v", got, err)
	}
	// The derived state is rebuilt too: the pending index and the DA rule.
	_, err = r.Invite(ctx, "Bob@example.com", directory.TargetEmail, "")
	if !apperr.IsCode(err, apperr.CodeInvitationPending) {
		t.Fatalf("re-invite a pending target after reopen: %v", err)
	}
	if err := r.RegisterDelegatedAdmin(ctx, uid(1)); err != nil {
		t.Fatalf("idempotent register after reopen: %v", err)
	}
	if err := r.RemoveAccount(ctx, uid(1)); !apperr.IsCode(err, apperr.CodeDenyTrustedService) {
		t.Fatalf("remove DA after reopen: %v", err)
	}
	// Expiry is derived from the clock, so it holds across restarts too.
	clock.Advance(simulation.DefaultInvitationTTL)
	r2 := open(t, opts)
	inv, err := r2.GetInvitation(ctx, pending.ID)
	if err != nil || inv.Status != directory.StatusExpired {
		t.Fatalf("pending invitation after TTL and reopen: %+v %v", inv, err)
	}

	// Destroying is persisted as well.
	if err := r2.DeregisterDelegatedAdmin(ctx, uid(1)); err != nil {
		t.Fatal(err)
	}
	if err := r2.RemoveAccount(ctx, uid(1)); err != nil {
		t.Fatal(err)
	}
	if err := r2.DestroyDirectory(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := open(t, opts).GetDirectory(ctx); !apperr.IsCode(err, apperr.CodeNoDirectory) {
		t.Fatalf("destroyed directory after reopen: %v", err)
	}
}

func TestReopenWithAnotherOwner(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rd.json")
	s := open(t, simulation.Options{Path: path, OwnerAccountID: owner})
	if _, err := s.EnableDirectory(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, err := simulation.Open(simulation.Options{Path: path, OwnerAccountID: "1999999999999999"})
	if err == nil || !strings.Contains(err.Error(), owner) || !strings.Contains(err.Error(), path) {
		t.Fatalf("Open with another owner = %v, want an error naming the file and its owner", err)
	}
}

func TestCorruptStateFile(t *testing.T) {
	// A valid file to mutate, so each case breaks exactly one thing.
	validPath := filepath.Join(t.TempDir(), "rd.json")
	s := open(t, simulation.Options{Path: validPath, OwnerAccountID: owner})
	ctx := context.Background()
	if _, err := s.EnableDirectory(ctx); err != nil {
		t.Fatal(err)
	}
	inv, _ := s.Invite(ctx, uid(1), directory.TargetAccount, "")
	if _, err := s.AcceptInvitation(ctx, inv.ID, "m"); err != nil {
		t.Fatal(err)
	}
	if err := s.RegisterDelegatedAdmin(ctx, uid(1)); err != nil {
		t.Fatal(err)
	}
	open(t, simulation.Options{Path: validPath, OwnerAccountID: owner}) // compacts the log into the file
	valid, err := os.ReadFile(validPath)
	if err != nil {
		t.Fatal(err)
	}
	edit := func(f func(m map[string]any)) []byte {
		var m map[string]any
		if err := json.Unmarshal(valid, &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		b, _ := json.Marshal(m)
		return b
	}
	accounts := func(m map[string]any) []any { return m["Accounts"].([]any) }
	invitations := func(m map[string]any) []any { return m["Invitations"].([]any) }

	cases := map[string][]byte{
		"empty":          {},
		"garbage":        []byte("not json at all"),
		"truncated":      valid[:len(valid)/2],
		"trailing data":  append(slices.Clone(valid), []byte(`{}`)...),
		"unknown field":  edit(func(m map[string]any) { m["Surprise"] = 1 }),
		"format version": edit(func(m map[string]any) { m["FormatVersion"] = 99 }),
		"duplicate account": edit(func(m map[string]any) {
			m["Accounts"] = append(accounts(m), accounts(m)[1])
		}),
		"malformed account": edit(func(m map[string]any) { accounts(m)[1].(map[string]any)["AccountId"] = "42" }),
		"no MA account":     edit(func(m map[string]any) { m["Accounts"] = accounts(m)[1:] }),
		"stored Expired":    edit(func(m map[string]any) { invitations(m)[0].(map[string]any)["Status"] = "Expired" }),
		"bad invitation id": edit(func(m map[string]any) { invitations(m)[0].(map[string]any)["Id"] = "x-1" }),
		"DA not a member": edit(func(m map[string]any) {
			m["DelegatedAdmins"].(map[string]any)[directory.DefaultServicePrincipal].([]any)[0].(map[string]any)["AccountId"] = uid(9)
		}),
		"members without directory": edit(func(m map[string]any) { m["Directory"] = nil }),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "rd.json")
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := simulation.Open(simulation.Options{Path: path, OwnerAccountID: owner})
			if err == nil {
				t.Fatal("Open accepted a corrupt state file")
			}
			ae, ok := apperr.As(err)
			if !ok || !strings.Contains(ae.Message, path) || !strings.Contains(ae.Message, "corrupt") {
				t.Fatalf("error %v: want an *apperr.Error whose message names the file and says it is corrupt", err)
			}
			after, _ := os.ReadFile(path)
			if string(after) != string(data) {
				t.Fatal("Open modified the corrupt file; the developer's data must be left for inspection")
			}
		})
	}
	// The untouched file still loads: the cases above fail for their edit.
	if _, err := simulation.Open(simulation.Options{Path: validPath, OwnerAccountID: owner}); err != nil {
		t.Fatalf("valid file: %v", err)
	}
}

// TestFailedSaveChangesNothing: when the state cannot be written, the call
// fails, memory stays as saved last and nothing is published.
func TestFailedSaveChangesNothing(t *testing.T) {
	folder := filepath.Join(t.TempDir(), "state")
	var published []events.CloudEvent
	opts := simulation.Options{
		Path: filepath.Join(folder, "rd.json"), OwnerAccountID: owner,
		Publish: func(ev events.CloudEvent) { published = append(published, ev) },
	}
	s := open(t, opts)
	ctx := context.Background()
	if _, err := s.EnableDirectory(ctx); err != nil {
		t.Fatal(err)
	}
	inv, _ := s.Invite(ctx, uid(1), directory.TargetAccount, "")
	if _, err := s.AcceptInvitation(ctx, inv.ID, "m"); err != nil {
		t.Fatal(err)
	}
	writes := s.Writes()
	if err := os.RemoveAll(folder); err != nil {
		t.Fatal(err)
	}
	nEvents := len(published)

	_, err := s.Invite(ctx, uid(2), directory.TargetAccount, "")
	if !apperr.IsKind(err, apperr.KindInternal) {
		t.Fatalf("Invite with an unwritable state = %v, want an internal error", err)
	}
	if _, err := s.RenameAccount(ctx, uid(1), "renamed"); err == nil {
		t.Fatal("RenameAccount succeeded without saving")
	}
	if err := s.RegisterDelegatedAdmin(ctx, uid(1)); err == nil {
		t.Fatal("RegisterDelegatedAdmin succeeded without saving")
	}
	if invs, _ := s.ListInvitations(ctx); len(invs) != 1 {
		t.Fatalf("failed invite is visible: %+v", invs)
	}
	if a, _ := s.GetAccount(ctx, uid(1)); a.DisplayName != "m" {
		t.Fatalf("failed rename is visible: %+v", a)
	}
	if ds, _ := s.ListDelegatedAdmins(ctx); len(ds) != 0 {
		t.Fatalf("failed registration is visible: %+v", ds)
	}
	if len(published) != nEvents || s.Writes() != writes {
		t.Fatalf("failed saves published %d events and counted %d writes", len(published)-nEvents, s.Writes()-writes)
	}

	// Once the folder is back, the next change saves everything.
	if err := os.MkdirAll(folder, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Invite(ctx, uid(2), directory.TargetAccount, ""); err != nil {
		t.Fatal(err)
	}
	wantSameState(t, s, open(t, opts), "")
}

// recorder collects published events; Publish may be called from many
// goroutines.
type recorder struct {
	mu     sync.Mutex
	events []events.CloudEvent
}

func (r *recorder) publish(ev events.CloudEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
}

func (r *recorder) take() []events.CloudEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.events
	r.events = nil
	return out
}

func TestPublishedEvents(t *testing.T) {
	clock := directorytest.NewClock(directorytest.Start)
	rec := &recorder{}
	s := open(t, simulation.Options{OwnerAccountID: owner, Now: clock.Now, Publish: rec.publish})
	ctx := context.Background()
	const email = "carol@example.com"
	emailUID := simulation.EmailAccountID(email)

	// expect checks that exactly one event was published since the last
	// check, with RD's name, caller and request parameters.
	expect := func(step, name, caller string, params map[string]string) {
		t.Helper()
		evs := rec.take()
		if len(evs) != 1 {
			t.Fatalf("%s: %d events published, want 1", step, len(evs))
		}
		ev := evs[0]
		if ev.Type != events.TypeResourceManagerAPICall || ev.Source != events.SourceResourceManager || ev.SpecVersion != "1.0" || ev.ID == "" {
			t.Fatalf("%s: envelope %+v", step, ev)
		}
		if ev.AliyunAccountID != caller {
			t.Fatalf("%s: event delivered to account %s, want %s", step, ev.AliyunAccountID, caller)
		}
		var rec events.ActionTrailRecord
		if err := json.Unmarshal(ev.Data, &rec); err != nil {
			t.Fatalf("%s: data: %v", step, err)
		}
		if rec.EventName != name || rec.ServiceName != events.ServiceResourceManager || rec.EventType != "ApiCall" {
			t.Fatalf("%s: record %+v, want event %s", step, rec, name)
		}
		if rec.UserIdentity.AccountID != caller {
			t.Fatalf("%s: userIdentity.accountId %s, want %s", step, rec.UserIdentity.AccountID, caller)
		}
		if rec.EventTime != clock.Now().UTC().Format(time.RFC3339) {
			t.Fatalf("%s: eventTime %s, want %s", step, rec.EventTime, clock.Now().UTC().Format(time.RFC3339))
		}
		if !maps.Equal(rec.RequestParameters, params) {
			t.Fatalf("%s: requestParameters %v, want %v", step, rec.RequestParameters, params)
		}
	}
	none := func(step string, err error) {
		t.Helper()
		if err == nil {
			t.Fatalf("%s: want a failure", step)
		}
		if evs := rec.take(); len(evs) != 0 {
			t.Fatalf("%s: a failed call published %d events", step, len(evs))
		}
	}
	nothing := func(step string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		if evs := rec.take(); len(evs) != 0 {
			t.Fatalf("%s: a call that changed nothing published %d events", step, len(evs))
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	_, err := s.Invite(ctx, uid(1), directory.TargetAccount, "")
	none("invite before enable", err)
	_, err = s.EnableDirectory(ctx)
	must(err)
	expect("enable", "EnableResourceDirectory", owner, map[string]string{"EnableMode": "CurrentAccount"})
	_, err = s.EnableDirectory(ctx)
	none("enable twice", err)

	clock.Advance(time.Minute)
	i1, err := s.Invite(ctx, uid(1), directory.TargetAccount, "hello")
	must(err)
	expect("invite account", "InviteAccountToResourceDirectory", owner,
		map[string]string{"TargetEntity": uid(1), "TargetType": directory.TargetAccount})
	i2, err := s.Invite(ctx, email, directory.TargetEmail, "")
	must(err)
	expect("invite email", "InviteAccountToResourceDirectory", owner,
		map[string]string{"TargetEntity": email, "TargetType": directory.TargetEmail})
	_, err = s.Invite(ctx, uid(1), directory.TargetAccount, "")
	none("invite pending", err)
	_, err = s.Invite(ctx, "42", directory.TargetAccount, "")
	none("invite malformed", err)

	clock.Advance(time.Minute)
	// RD records AcceptHandshake and DeclineHandshake in the invitee's
	// account: nothing reaches the owner's bus, but a
	// capturing caller gets the record.
	cctx, captured := simulation.CaptureEvents(ctx)
	_, err = s.AcceptInvitation(cctx, i1.ID, "Security")
	nothing("accept", err)
	if evs := captured.Events(); len(evs) != 1 || evs[0].AliyunAccountID != uid(1) {
		t.Fatalf("captured accept events %+v, want one AcceptHandshake in the invitee's account", evs)
	}
	_, err = s.AcceptInvitation(ctx, i1.ID, "Security")
	none("accept twice", err)
	nothing("decline email invitation", s.DeclineInvitation(ctx, i2.ID))
	_ = emailUID

	i3, err := s.Invite(ctx, uid(3), directory.TargetAccount, "")
	must(err)
	rec.take()
	_, err = s.CancelInvitation(ctx, i3.ID)
	must(err)
	expect("cancel", "CancelHandshake", owner, map[string]string{"HandshakeId": i3.ID})
	_, err = s.CancelInvitation(ctx, i3.ID)
	none("cancel twice", err)

	_, err = s.RenameAccount(ctx, uid(1), "SecOps")
	must(err)
	expect("rename", "UpdateAccount", owner, map[string]string{"AccountId": uid(1), "NewDisplayName": "SecOps"})
	_, err = s.RenameAccount(ctx, uid(1), "SecOps")
	nothing("rename to the same name", err)
	_, err = s.RenameAccount(ctx, uid(9), "x")
	none("rename non-member", err)

	must(s.RegisterDelegatedAdmin(ctx, uid(1)))
	expect("register", "RegisterDelegatedAdministrator", owner,
		map[string]string{"AccountId": uid(1), "ServicePrincipal": directory.DefaultServicePrincipal})
	nothing("register again", s.RegisterDelegatedAdmin(ctx, uid(1)))
	none("register MA", s.RegisterDelegatedAdmin(ctx, owner))
	none("remove DA", s.RemoveAccount(ctx, uid(1)))
	must(s.RegisterDelegatedAdminFor(ctx, uid(1), "config.aliyuncs.com"))
	expect("register other principal", "RegisterDelegatedAdministrator", owner,
		map[string]string{"AccountId": uid(1), "ServicePrincipal": "config.aliyuncs.com"})
	must(s.DeregisterDelegatedAdminFor(ctx, uid(1), "config.aliyuncs.com"))
	expect("deregister other principal", "DeregisterDelegatedAdministrator", owner,
		map[string]string{"AccountId": uid(1), "ServicePrincipal": "config.aliyuncs.com"})
	must(s.DeregisterDelegatedAdmin(ctx, uid(1)))
	expect("deregister", "DeregisterDelegatedAdministrator", owner,
		map[string]string{"AccountId": uid(1), "ServicePrincipal": directory.DefaultServicePrincipal})
	none("deregister again", s.DeregisterDelegatedAdmin(ctx, uid(1)))

	nothing("seed", s.SeedAccounts(ctx, []directory.Account{{AccountID: uid(50)}}))
	none("destroy with members", s.DestroyDirectory(ctx))
	must(s.RemoveAccount(ctx, uid(50)))
	expect("remove seeded", "RemoveCloudAccount", owner, map[string]string{"AccountId": uid(50)})
	must(s.RemoveAccount(ctx, uid(1)))
	expect("remove", "RemoveCloudAccount", owner, map[string]string{"AccountId": uid(1)})
	none("remove twice", s.RemoveAccount(ctx, uid(1)))
	must(s.DestroyDirectory(ctx))
	expect("destroy", "DestroyResourceDirectory", owner, nil)
	none("destroy twice", s.DestroyDirectory(ctx))
}

// TestPublishOutsideLock: a subscriber that calls back into the Sim, reading
// and writing, must not deadlock, and sees the change already applied.
func TestPublishOutsideLock(t *testing.T) {
	var s *simulation.Sim
	ctx := context.Background()
	var seen []string
	var publishErr error
	s = open(t, simulation.Options{OwnerAccountID: owner, Publish: func(ev events.CloudEvent) {
		var rec events.ActionTrailRecord
		_ = json.Unmarshal(ev.Data, &rec)
		seen = append(seen, rec.EventName)
		if rec.EventName != "MoveAccount" {
			return
		}
		// What the local event function does on a join: read the account,
		// then change the directory in turn.
		a, err := s.GetAccount(ctx, uid(1))
		if err != nil {
			publishErr = err
			return
		}
		if _, err := s.RenameAccount(ctx, a.AccountID, "renamed by subscriber"); err != nil {
			publishErr = err
		}
	}})

	done := make(chan error, 1)
	go func() {
		if _, err := s.EnableDirectory(ctx); err != nil {
			done <- err
			return
		}
		inv, err := s.Invite(ctx, uid(1), directory.TargetAccount, "")
		if err != nil {
			done <- err
			return
		}
		if _, err = s.AcceptInvitation(ctx, inv.ID, "m"); err != nil {
			done <- err
			return
		}
		f, err := s.CreateFolder(ctx, "Prod", "")
		if err != nil {
			done <- err
			return
		}
		done <- s.MoveAccount(ctx, uid(1), f.ID)
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("deadlock: Publish was called while the Sim held its lock")
	}
	if publishErr != nil {
		t.Fatalf("subscriber: %v", publishErr)
	}
	if a, _ := s.GetAccount(ctx, uid(1)); a.DisplayName != "renamed by subscriber" {
		t.Fatalf("subscriber's rename lost: %+v", a)
	}
	want := []string{"EnableResourceDirectory", "InviteAccountToResourceDirectory", "CreateFolder", "MoveAccount", "UpdateAccount"}
	if !slices.Equal(seen, want) {
		t.Fatalf("events %v, want %v", seen, want)
	}
}

// TestSeedTenThousand fills a directory to the default quota of 10,000
// accounts in one write and checks listing stays cheap at that size.
func TestSeedTenThousand(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rd.json")
	s := open(t, simulation.Options{Path: path, OwnerAccountID: owner})
	ctx := context.Background()
	d, err := s.EnableDirectory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	base := d.CreateTime.Add(time.Second)
	seed := make([]directory.Account, simulation.DefaultMaxAccounts-1)
	for i := range seed {
		// IDs descend while join times ascend, so the sort must use time first.
		seed[i] = directory.Account{AccountID: uid(20000 - i), DisplayName: fmt.Sprintf("Account %d", i), JoinTime: base.Add(time.Duration(i) * time.Second)}
	}
	writes := s.Writes()
	start := time.Now()
	if err := s.SeedAccounts(ctx, seed); err != nil {
		t.Fatal(err)
	}
	seedTook := time.Since(start)
	if got := s.Writes() - writes; got != 1 {
		t.Fatalf("SeedAccounts of %d accounts made %d writes, want 1", len(seed), got)
	}

	start = time.Now()
	const lists = 20
	var all []directory.Account
	for i := 0; i < lists; i++ {
		var err error
		if all, err = s.ListAccounts(ctx); err != nil {
			t.Fatal(err)
		}
	}
	listTook := time.Since(start) / lists
	if len(all) != simulation.DefaultMaxAccounts {
		t.Fatalf("%d accounts, want %d", len(all), simulation.DefaultMaxAccounts)
	}
	if all[0].AccountID != owner {
		t.Fatalf("first account %s, want the MA (joined first)", all[0].AccountID)
	}
	for i := 1; i < len(all); i++ {
		if want := seed[i-1].AccountID; all[i].AccountID != want {
			t.Fatalf("account %d is %s, want %s", i, all[i].AccountID, want)
		}
	}
	// Generous bounds (race detector, shared CI cores): they catch a
	// quadratic algorithm, not a slow machine.
	if seedTook > 10*time.Second || listTook > time.Second {
		t.Fatalf("SeedAccounts took %s, ListAccounts %s per call", seedTook, listTook)
	}
	t.Logf("SeedAccounts(%d) %s, ListAccounts %s per call", len(seed), seedTook, listTook)

	err = s.SeedAccounts(ctx, []directory.Account{{AccountID: uid(1)}})
	if !apperr.IsCode(err, apperr.CodeLimitExceeded) {
		t.Fatalf("seeding past the default quota: %v", err)
	}
	inv, err := s.Invite(ctx, uid(1), directory.TargetAccount, "")
	if !apperr.IsCode(err, apperr.CodeLimitExceeded) {
		t.Fatalf("inviting into a full directory: %+v %v", inv, err)
	}
	reopened := open(t, simulation.Options{Path: path, OwnerAccountID: owner})
	if got, _ := reopened.ListAccounts(ctx); len(got) != simulation.DefaultMaxAccounts {
		t.Fatalf("reopened directory has %d accounts", len(got))
	}
}

// TestResultsAreCopies: callers may modify what they get back.
func TestResultsAreCopies(t *testing.T) {
	s := open(t, simulation.Options{OwnerAccountID: owner})
	ctx := context.Background()
	if _, err := s.EnableDirectory(ctx); err != nil {
		t.Fatal(err)
	}
	inv, _ := s.Invite(ctx, uid(1), directory.TargetAccount, "")
	if _, err := s.AcceptInvitation(ctx, inv.ID, "m"); err != nil {
		t.Fatal(err)
	}
	if err := s.RegisterDelegatedAdmin(ctx, uid(1)); err != nil {
		t.Fatal(err)
	}
	as, _ := s.ListAccounts(ctx)
	as[1].DisplayName = "mutated"
	is, _ := s.ListInvitations(ctx)
	is[0].Status = "mutated"
	ds, _ := s.ListDelegatedAdmins(ctx)
	ds[0].AccountID = "mutated"
	if a, _ := s.GetAccount(ctx, uid(1)); a.DisplayName != "m" {
		t.Fatal("ListAccounts returned shared state")
	}
	if i, _ := s.GetInvitation(ctx, inv.ID); i.Status != directory.StatusAccepted {
		t.Fatal("ListInvitations returned shared state")
	}
	if d, _ := s.ListDelegatedAdmins(ctx); d[0].AccountID != uid(1) {
		t.Fatal("ListDelegatedAdmins returned shared state")
	}
}

func TestGetInvitationAndAccountErrors(t *testing.T) {
	s := open(t, simulation.Options{OwnerAccountID: owner})
	ctx := context.Background()
	if _, err := s.EnableDirectory(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetInvitation(ctx, ""); !apperr.IsCode(err, "MissingParameter.InvitationId") {
		t.Errorf("GetInvitation(\"\") = %v", err)
	}
	if _, err := s.GetInvitation(ctx, "h-nope"); !apperr.IsCode(err, apperr.CodeInvitationNotFound) {
		t.Errorf("GetInvitation unknown = %v", err)
	}
	if _, err := s.GetAccount(ctx, ""); !apperr.IsCode(err, "MissingParameter.AccountId") {
		t.Errorf("GetAccount(\"\") = %v", err)
	}
	if _, err := s.GetAccount(ctx, "abc"); !apperr.IsCode(err, apperr.InvalidParameter("AccountId")) {
		t.Errorf("GetAccount malformed = %v", err)
	}
	if a, err := s.GetAccount(ctx, owner); err != nil || a.JoinMethod != "created" {
		t.Errorf("GetAccount(MA) = %+v %v", a, err)
	}
	if err := s.RegisterDelegatedAdminFor(ctx, uid(1), ""); !apperr.IsCode(err, "MissingParameter.ServicePrincipal") {
		t.Errorf("register without principal = %v", err)
	}
	if err := s.RegisterDelegatedAdmin(ctx, "x"); !apperr.IsCode(err, apperr.InvalidParameter("AccountId")) {
		t.Errorf("register malformed = %v", err)
	}
	if err := s.DeregisterDelegatedAdmin(ctx, "x"); !apperr.IsCode(err, apperr.InvalidParameter("AccountId")) {
		t.Errorf("deregister malformed = %v", err)
	}
}

func BenchmarkListAccounts10k(b *testing.B) {
	s, err := simulation.Open(simulation.Options{OwnerAccountID: owner})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := s.EnableDirectory(ctx); err != nil {
		b.Fatal(err)
	}
	seed := make([]directory.Account, simulation.DefaultMaxAccounts-1)
	for i := range seed {
		seed[i] = directory.Account{AccountID: uid(i + 1)}
	}
	if err := s.SeedAccounts(ctx, seed); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.ListAccounts(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// RenameFolder is RD's UpdateFolder: it publishes the event directory-events
// follows, keeps sibling names distinct, and survives a reopen.
func TestRenameFolder(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "rd.json")
	var published []string
	s := open(t, simulation.Options{Path: path, OwnerAccountID: owner, Publish: func(ev events.CloudEvent) {
		var rec struct{ EventName string }
		_ = json.Unmarshal(ev.Data, &rec)
		published = append(published, rec.EventName)
	}})
	d, err := s.EnableDirectory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	prod, err := s.CreateFolder(ctx, "Prod", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateFolder(ctx, "Dev", ""); err != nil {
		t.Fatal(err)
	}
	published = nil
	if f, err := s.RenameFolder(ctx, prod.ID, "Production"); err != nil || f.Name != "Production" || f.ParentID != d.RootFolderID {
		t.Fatalf("rename: %+v, %v", f, err)
	}
	if _, err := s.RenameFolder(ctx, prod.ID, "Dev"); !apperr.IsCode(err, apperr.CodeFolderExists) {
		t.Fatalf("rename onto a sibling's name: %v", err)
	}
	if _, err := s.RenameFolder(ctx, "fd-nosuchfolder", "X"); !apperr.IsCode(err, apperr.CodeFolderNotFound) {
		t.Fatalf("rename of a missing folder: %v", err)
	}
	if _, err := s.RenameFolder(ctx, d.RootFolderID, "X"); !apperr.IsCode(err, apperr.CodeFolderNotFound) {
		t.Fatalf("rename of the root: %v", err)
	}
	if _, err := s.RenameFolder(ctx, prod.ID, "Production"); err != nil {
		t.Fatalf("rename to the same name: %v", err)
	}
	if !slices.Equal(published, []string{"UpdateFolder"}) {
		t.Fatalf("events %v, want one UpdateFolder", published)
	}
	again := open(t, simulation.Options{Path: path, OwnerAccountID: owner})
	if f, err := again.GetFolder(ctx, prod.ID); err != nil || f.Name != "Production" {
		t.Fatalf("after reopen: %+v, %v", f, err)
	}
}
