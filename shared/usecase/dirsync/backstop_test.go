package dirsync_test

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/events"
	"github.com/sase-multiaccount/backend/shared/local/embedded"
	"github.com/sase-multiaccount/backend/shared/local/simulation"
	"github.com/sase-multiaccount/backend/shared/port/directory"
	"github.com/sase-multiaccount/backend/shared/port/store"
	"github.com/sase-multiaccount/backend/shared/testkit/directorytest"
	"github.com/sase-multiaccount/backend/shared/usecase/audit"
	"github.com/sase-multiaccount/backend/shared/usecase/dirsync"
	"github.com/sase-multiaccount/backend/shared/usecase/enroll"
)

// twin is one simulated Resource Directory followed by two deployments:
// "events" is told of every change (directory-events, and check-handshakes
// for an accepted invitation, whose event never reaches the management
// account's bus), "lost" of none; it only runs reconcile-members.
type twin struct {
	t      *testing.T
	ctx    context.Context
	clock  *directorytest.Clock
	sim    *simulation.Sim
	d      directory.Directory
	events *deployment
	lost   *deployment
}

// deployment is one store (with injectable failures) and the dirsync
// service over it.
type deployment struct {
	st  *faultyStore
	svc *dirsync.Service
}

func newTwin(t *testing.T) *twin {
	t.Helper()
	ctx := context.Background()
	clock := directorytest.NewClock(time.Now().UTC().Truncate(time.Second).Add(-time.Hour))
	sim, err := simulation.Open(simulation.Options{OwnerAccountID: owner, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	d, err := sim.EnableDirectory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tw := &twin{t: t, ctx: ctx, clock: clock, sim: sim, d: d}
	tw.events, tw.lost = tw.deploy("events"), tw.deploy("lost")
	return tw
}

func (tw *twin) deploy(name string) *deployment {
	st, err := embedded.Open(filepath.Join(tw.t.TempDir(), name+".db"))
	if err != nil {
		tw.t.Fatal(err)
	}
	tw.t.Cleanup(func() { _ = st.Close() })
	fs := &faultyStore{Store: st}
	rec := &audit.Recorder{Store: fs, Now: tw.clock.Now, Log: zerolog.Nop()}
	svc := dirsync.New(dirsync.Deps{Store: fs, Mirror: fs, Policies: fs, Generations: fs, Directory: tw.sim, Roles: &countingRoles{},
		Audit: rec, Owner: owner, ServicePrincipal: directory.DefaultServicePrincipal, Now: tw.clock.Now})
	return &deployment{st: fs, svc: svc}
}

// both runs fn on each deployment.
func (tw *twin) both(fn func(dep *deployment)) {
	fn(tw.events)
	fn(tw.lost)
}

// change makes one change in RD two seconds after the last, and delivers
// its events to the events deployment only.
func (tw *twin) change(what string, fn func(ctx context.Context) error) {
	tw.t.Helper()
	tw.clock.Advance(2 * time.Second)
	cctx, capture := simulation.CaptureEvents(tw.ctx)
	if err := fn(cctx); err != nil {
		tw.t.Fatalf("%s: %v", what, err)
	}
	for _, ev := range capture.Events() {
		tw.deliver(what, ev)
	}
}

func (tw *twin) deliver(what string, ev events.CloudEvent) {
	tw.t.Helper()
	if _, err := tw.events.svc.HandleEvent(tw.ctx, ev); err != nil {
		tw.t.Fatalf("%s: event %s: %v", what, ev.ID, err)
	}
}

// view is what a deployment shows of the directory: the members (UID,
// name, who added them, folder path), the mirror's accounts and folders,
// and the accounts the enrollment policy enrolled.
type view struct {
	members  map[string]string // UID -> "name|AddedBy|folder path"
	accounts []store.MirrorAccount
	folders  []store.MirrorFolder
	enrolled []string // targets of Enrolled records, sorted
}

func (tw *twin) view(dep *deployment) view {
	tw.t.Helper()
	m, err := dep.st.ReadMirror(tw.ctx, tw.d.ID)
	if err != nil {
		tw.t.Fatal(err)
	}
	tree := directory.NewFolderTree(enroll.Folders(m.Folders))
	folderOf := map[string]string{}
	for _, a := range m.Accounts {
		folderOf[a.AccountID] = a.FolderID
	}
	ms, _, err := dep.st.ListMembers(tw.ctx, tw.d.ID, store.ListQuery{SortBy: store.SortByAccountID, Limit: 1000})
	if err != nil {
		tw.t.Fatal(err)
	}
	v := view{members: map[string]string{}, accounts: m.Accounts, folders: m.Folders}
	for _, mb := range ms {
		v.members[mb.AccountID] = fmt.Sprintf("%s|%s|%s", mb.AccountName, mb.AddedBy, tree.Path(folderOf[mb.AccountID]))
	}
	trail, _, err := dep.st.ListAudit(tw.ctx, tw.d.ID, 1000, "")
	if err != nil {
		tw.t.Fatal(err)
	}
	for _, r := range trail {
		if r.Result == dirsync.ResultEnrolled {
			v.enrolled = append(v.enrolled, r.Target)
		}
	}
	slices.Sort(v.enrolled)
	return v
}

// The accounts of the twin's directory besides the members.
const (
	old1, old2, old3 = "3000000000000001", "3000000000000002", "3000000000000003" // in the directory before the policy, no members
	sandbox          = "3000000000000004"                                         // excluded by the policy
	leaver           = "3000000000000005"                                         // a member that leaves
	joiner           = "3000000000000006"                                         // invited after the policy
)

// setup builds the directory (folders /Prod, /Prod/Web and /Dev, four
// members, three accounts that are none, an excluded one), gives both
// deployments the members and the policy (Folders /Prod with subfolders,
// sandbox excluded) and runs reconcile-members once on each: the last run
// before the changes.
func (tw *twin) setup() (prod, web, dev directory.Folder) {
	t, ctx := tw.t, tw.ctx
	var err error
	if prod, err = tw.sim.CreateFolder(ctx, "Prod", ""); err != nil {
		t.Fatal(err)
	}
	if web, err = tw.sim.CreateFolder(ctx, "Web", prod.ID); err != nil {
		t.Fatal(err)
	}
	if dev, err = tw.sim.CreateFolder(ctx, "Dev", ""); err != nil {
		t.Fatal(err)
	}
	if err := tw.sim.SeedAccounts(ctx, []directory.Account{
		{AccountID: member1, DisplayName: "team-1"},
		{AccountID: member2, DisplayName: "team-2", FolderID: prod.ID},
		{AccountID: member3, DisplayName: "team-3", FolderID: dev.ID},
		{AccountID: leaver, DisplayName: "leaver", FolderID: prod.ID},
		{AccountID: old1, DisplayName: "old-1"},
		{AccountID: old2, DisplayName: "old-2", FolderID: dev.ID},
		{AccountID: old3, DisplayName: "old-3"},
		{AccountID: sandbox, DisplayName: "sandbox"},
	}); err != nil {
		t.Fatal(err)
	}
	added := tw.clock.Advance(time.Second)
	policyTime := tw.clock.Advance(time.Minute)
	tw.both(func(dep *deployment) {
		var ms []store.Member
		for id, name := range map[string]string{member1: "team-1", member2: "team-2", member3: "team-3", leaver: "leaver"} {
			ms = append(ms, store.Member{DirectoryID: tw.d.ID, AccountID: id, AccountName: name, AddTime: added, AddedBy: owner,
				Version: 1, UpdateTime: added, NameTime: added})
		}
		if _, err := dep.st.AddMembers(ctx, tw.d.ID, ms, nil); err != nil {
			t.Fatal(err)
		}
		rec := store.AuditEvent{DirectoryID: tw.d.ID, ID: audit.NewID(policyTime), Time: policyTime, Action: "update-enrollment-policy", Result: "Success"}
		if _, err := dep.st.PutPolicy(ctx, tw.d.ID, store.EnrollmentPolicy{Mode: store.PolicyFolders, FolderIDs: []string{prod.ID},
			IncludeSubfolders: true, Excluded: []store.Exclusion{{AccountID: sandbox, Reason: "sandbox"}},
			UpdateTime: policyTime, UpdatedBy: owner}, 0, rec); err != nil {
			t.Fatal(err)
		}
		// The last run before the changes: the baseline of both.
		if n, err := dep.svc.Reconcile(ctx, "baseline"); err != nil || n.Enrolled != 0 || n.Removed != 0 {
			t.Fatalf("baseline run: %+v, %v", n, err)
		}
	})
	return prod, web, dev
}

// The backstop: one deployment receives every event, the other none and
// then runs reconcile-members; afterwards both show the same members
// (UIDs, names, folder paths), the same mirror and the same enrollments.
// The changes: accounts created in and out of scope, invited and joined,
// left, renamed, moved into a covered folder (also into a subfolder created
// since the last run) and out of it, an excluded account and the
// management account moved into scope, and a folder renamed.
func TestReconciliationIsACompleteBackstop(t *testing.T) {
	tw := newTwin(t)
	ctx := tw.ctx
	prod, web, dev := tw.setup()
	var created, createdDev, gone string
	tw.change("create in a covered subfolder", func(ctx context.Context) error {
		a, err := tw.sim.CreateResourceAccount(ctx, directory.NewAccount{DisplayName: "new-web", FolderID: web.ID})
		created = a.AccountID
		return err
	})
	tw.change("create out of scope", func(ctx context.Context) error {
		a, err := tw.sim.CreateResourceAccount(ctx, directory.NewAccount{DisplayName: "new-dev", FolderID: dev.ID})
		createdDev = a.AccountID
		return err
	})
	tw.change("create, then leave", func(ctx context.Context) error {
		a, err := tw.sim.CreateResourceAccount(ctx, directory.NewAccount{DisplayName: "short-lived"})
		gone = a.AccountID
		return err
	})
	tw.change("the short-lived account leaves", func(ctx context.Context) error { return tw.sim.RemoveAccount(ctx, gone) })
	tw.change("move into the covered folder", func(ctx context.Context) error { return tw.sim.MoveAccount(ctx, old1, prod.ID) })
	tw.change("move into a covered subfolder", func(ctx context.Context) error { return tw.sim.MoveAccount(ctx, old2, web.ID) })
	var ops directory.Folder
	tw.change("a new covered subfolder", func(ctx context.Context) error {
		var err error
		ops, err = tw.sim.CreateFolder(ctx, "Ops", prod.ID)
		return err
	})
	tw.change("move into the new subfolder", func(ctx context.Context) error { return tw.sim.MoveAccount(ctx, old3, ops.ID) })
	tw.change("a member moves out of scope", func(ctx context.Context) error { return tw.sim.MoveAccount(ctx, member2, dev.ID) })
	tw.change("the excluded account moves in", func(ctx context.Context) error { return tw.sim.MoveAccount(ctx, sandbox, prod.ID) })
	tw.change("the management account moves in", func(ctx context.Context) error { return tw.sim.MoveAccount(ctx, owner, prod.ID) })
	tw.change("a member is renamed", func(ctx context.Context) error {
		_, err := tw.sim.RenameAccount(ctx, member1, "team-1b")
		return err
	})
	tw.change("an account out of scope is renamed", func(ctx context.Context) error {
		_, err := tw.sim.RenameAccount(ctx, createdDev, "new-dev-2")
		return err
	})
	tw.change("a member leaves", func(ctx context.Context) error { return tw.sim.RemoveAccount(ctx, leaver) })
	tw.change("a folder is renamed", func(ctx context.Context) error {
		_, err := tw.sim.RenameFolder(ctx, dev.ID, "Development")
		return err
	})
	tw.change("an invited account joins", func(ctx context.Context) error {
		inv, err := tw.sim.Invite(ctx, joiner, directory.TargetAccount, "")
		if err != nil {
			return err
		}
		_, err = tw.sim.AcceptInvitation(ctx, inv.ID, "joiner")
		return err
	})
	if n, err := tw.events.svc.CheckHandshakes(ctx, "handshakes"); err != nil || n.Mirrored != 1 {
		t.Fatalf("check-handshakes of the events deployment: %+v, %v", n, err)
	}
	tw.change("the joiner moves into scope", func(ctx context.Context) error { return tw.sim.MoveAccount(ctx, joiner, web.ID) })
	tw.change("the new account is renamed", func(ctx context.Context) error {
		_, err := tw.sim.RenameAccount(ctx, created, "new-web-1")
		return err
	})

	tw.clock.Advance(2 * time.Second)
	if _, err := tw.lost.svc.Reconcile(ctx, "backstop"); err != nil {
		t.Fatal(err)
	}
	want, got := tw.view(tw.events), tw.view(tw.lost)

	// What the events did: the reference the backstop must reach.
	wantMembers := map[string]string{
		member1: "team-1b|" + owner + "|/",
		member2: "team-2|" + owner + "|/Development",
		member3: "team-3|" + owner + "|/Development",
		created: "new-web-1|System|/Prod/Web",
		old1:    "old-1|System|/Prod",
		old2:    "old-2|System|/Prod/Web",
		old3:    "old-3|System|/Prod/Ops",
		joiner:  "joiner|System|/Prod/Web",
	}
	if !maps.Equal(want.members, wantMembers) {
		t.Fatalf("the events deployment's members:\n %v\nwant\n %v", want.members, wantMembers)
	}
	if !maps.Equal(got.members, want.members) {
		t.Errorf("members after reconciliation:\n %v\nwith every event:\n %v", got.members, want.members)
	}
	if !slices.Equal(got.accounts, want.accounts) {
		t.Errorf("mirror accounts after reconciliation:\n %v\nwith every event:\n %v", got.accounts, want.accounts)
	}
	if !slices.Equal(got.folders, want.folders) {
		t.Errorf("mirror folders after reconciliation:\n %v\nwith every event:\n %v", got.folders, want.folders)
	}
	if !slices.Equal(got.enrolled, want.enrolled) {
		t.Errorf("enrolled after reconciliation %v, with every event %v", got.enrolled, want.enrolled)
	}
	// A second run changes nothing.
	if n, err := tw.lost.svc.Reconcile(ctx, "again"); err != nil || n.Enrolled+n.Removed+n.Renamed != 0 {
		t.Errorf("second run: %+v, %v", n, err)
	}
}

// held makes one change in RD two seconds after the last and returns its
// events undelivered.
func (tw *twin) held(what string, fn func(ctx context.Context) error) []events.CloudEvent {
	tw.t.Helper()
	tw.clock.Advance(2 * time.Second)
	cctx, capture := simulation.CaptureEvents(tw.ctx)
	if err := fn(cctx); err != nil {
		tw.t.Fatalf("%s: %v", what, err)
	}
	return capture.Events()
}

func (tw *twin) mirrorFolder(dep *deployment, id string) string {
	tw.t.Helper()
	a, ok, err := dep.st.ReadMirrorAccount(tw.ctx, tw.d.ID, id)
	if err != nil || !ok {
		tw.t.Fatalf("mirror account %s: %+v, %v, %v", id, a, ok, err)
	}
	return a.FolderID
}

func (tw *twin) isMember(dep *deployment, id string) bool {
	tw.t.Helper()
	_, err := dep.st.Store.GetMember(tw.ctx, tw.d.ID, id)
	if err != nil && !apperr.IsCode(err, apperr.CodeMemberNotFound) {
		tw.t.Fatal(err)
	}
	return err == nil
}

// The policy is applied before the mirror takes an account's new place, by
// directory-events, check-handshakes and reconcile-members alike: when the
// enrollment fails, the mirror still shows the old place, so that the next
// run (of reconciliation, or of the handshake check) sees the arrival and
// enrolls it, retried or not.
func TestAFailedEnrollmentLeavesTheArrivalToTheNextRun(t *testing.T) {
	tw := newTwin(t)
	prod, web, _ := tw.setup()
	dep, root := tw.events, tw.d.RootFolderID
	down := unavailable("AddMembers")

	// directory-events: the MoveAccount event fails and is never retried.
	dep.st.failOn("AddMembers", down)
	for _, ev := range tw.held("move into scope", func(ctx context.Context) error { return tw.sim.MoveAccount(ctx, old1, prod.ID) }) {
		if _, err := dep.svc.HandleEvent(tw.ctx, ev); !apperr.IsKind(err, apperr.KindUnavailable) {
			t.Fatalf("event with the store down: %v", err)
		}
	}
	if f := tw.mirrorFolder(dep, old1); f != root {
		t.Fatalf("the mirror took the move (%s) although the policy was not applied", f)
	}

	// reconcile-members: fails in the same place, leaves the mirror.
	tw.held("a second move, lost", func(ctx context.Context) error { return tw.sim.MoveAccount(ctx, old3, web.ID) })
	if _, err := dep.svc.Reconcile(tw.ctx, "down"); !apperr.IsKind(err, apperr.KindUnavailable) {
		t.Fatalf("run with the store down: %v", err)
	}
	if f := tw.mirrorFolder(dep, old3); f != root {
		t.Fatalf("a failed run rebuilt the mirror (%s)", f)
	}

	// check-handshakes: the joiner is in scope when the check reads it.
	tw.held("an invited account joins and moves into scope", func(ctx context.Context) error {
		inv, err := tw.sim.Invite(ctx, joiner, directory.TargetAccount, "")
		if err != nil {
			return err
		}
		if _, err := tw.sim.AcceptInvitation(ctx, inv.ID, "joiner"); err != nil {
			return err
		}
		return tw.sim.MoveAccount(ctx, joiner, web.ID)
	})
	if _, err := dep.svc.CheckHandshakes(tw.ctx, "down"); !apperr.IsKind(err, apperr.KindUnavailable) {
		t.Fatalf("handshake check with the store down: %v", err)
	}
	if a, ok, err := dep.st.ReadMirrorAccount(tw.ctx, tw.d.ID, joiner); ok || err != nil {
		t.Fatalf("the mirror took the joiner (%+v, %v) although the policy was not applied", a, err)
	}

	dep.st.failOn("AddMembers", nil)
	tw.clock.Advance(2 * time.Second)
	if n, err := dep.svc.CheckHandshakes(tw.ctx, "up"); err != nil || n.Enrolled != 1 {
		t.Fatalf("next handshake check: %+v, %v", n, err)
	}
	if n, err := dep.svc.Reconcile(tw.ctx, "up"); err != nil || n.Enrolled != 2 {
		t.Fatalf("next run: %+v, %v", n, err)
	}
	for _, id := range []string{old1, old3, joiner} {
		if !tw.isMember(dep, id) {
			t.Errorf("%s is no member", id)
		}
	}
}

// A MoveAccount event lost, then an UpdateAccount event of the same
// account delivered: the rename would write the new folder into the
// mirror, hiding the move from reconciliation, so the rename's handler
// applies the policy first (one more store read, of the account's mirror
// row). An account whose place the mirror shows is not enrolled by a
// rename.
func TestARenameAfterALostMoveEnrolls(t *testing.T) {
	tw := newTwin(t)
	prod, _, _ := tw.setup()
	tw.held("move into scope, lost", func(ctx context.Context) error { return tw.sim.MoveAccount(ctx, old1, prod.ID) })
	for _, ev := range tw.held("rename", func(ctx context.Context) error {
		_, err := tw.sim.RenameAccount(ctx, old1, "old-1b")
		return err
	}) {
		sum, err := tw.events.svc.HandleEvent(tw.ctx, ev)
		if err != nil || sum.Result != dirsync.ResultEnrolled || sum.Message == "" {
			t.Fatalf("rename after a lost move: %+v, %v", sum, err)
		}
	}
	if m, err := tw.events.st.Store.GetMember(tw.ctx, tw.d.ID, old1); err != nil || m.AccountName != "old-1b" || m.AddedBy != "System" {
		t.Fatalf("member %+v, %v", m, err)
	}
	for _, ev := range tw.held("rename of an account the mirror has in place", func(ctx context.Context) error {
		_, err := tw.sim.RenameAccount(ctx, old2, "old-2b")
		return err
	}) {
		if sum, err := tw.events.svc.HandleEvent(tw.ctx, ev); err != nil || sum.Reason != dirsync.ReasonNotMember {
			t.Fatalf("rename of a seen account: %+v, %v", sum, err)
		}
	}
	if tw.isMember(tw.events, old2) {
		t.Fatal("a rename enrolled an account whose place the mirror showed")
	}
}

// An account the policy enrolled and someone then removed from SASE stays
// removed: no event would add it again, so reconciliation does not either
// (it enrolls only arrivals the mirror has not seen).
func TestReconciliationDoesNotReenrollARemovedMember(t *testing.T) {
	tw := newTwin(t)
	_, web, _ := tw.setup()
	var created string
	tw.held("create in scope, lost", func(ctx context.Context) error {
		a, err := tw.sim.CreateResourceAccount(ctx, directory.NewAccount{DisplayName: "new-web", FolderID: web.ID})
		created = a.AccountID
		return err
	})
	dep := tw.lost
	if n, err := dep.svc.Reconcile(tw.ctx, "first"); err != nil || n.Enrolled != 1 {
		t.Fatalf("first run: %+v, %v", n, err)
	}
	if res, err := dep.st.DeleteMembers(tw.ctx, tw.d.ID, []string{created}, nil); err != nil || res[0].Status != store.Deleted {
		t.Fatalf("delete: %+v, %v", res, err)
	}
	tw.clock.Advance(2 * time.Second)
	if n, err := dep.svc.Reconcile(tw.ctx, "second"); err != nil || n.Enrolled != 0 || tw.isMember(dep, created) {
		t.Fatalf("second run: %+v, %v: the removed member came back", n, err)
	}
}
