package dirsync_test

import (
	"testing"
	"time"

	"github.com/sase-multiaccount/backend/shared/events"
	"github.com/sase-multiaccount/backend/shared/port/directory"
	"github.com/sase-multiaccount/backend/shared/port/store"
	"github.com/sase-multiaccount/backend/shared/usecase/dirsync"
)

func (e *env) mirror() store.Mirror {
	e.t.Helper()
	m, err := e.store.ReadMirror(e.ctx, e.d.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return m
}

func (e *env) mirrored(id string) (store.MirrorAccount, bool) {
	e.t.Helper()
	for _, a := range e.mirror().Accounts {
		if a.AccountID == id {
			return a, true
		}
	}
	return store.MirrorAccount{}, false
}

func created(caller, name string, at time.Time, params, response map[string]string) events.CloudEvent {
	return events.NewActionTrailEventWithResponse(caller, name, params, response, at)
}

// Reconciliation rebuilds the mirror and records the sync time; events keep
// it fresh, each checked against RD first.
func TestMirrorKeptByReconcileAndEvents(t *testing.T) {
	e := newEnv(t)
	if m := e.mirror(); !m.Marks.SyncTime.IsZero() || len(m.Accounts) != 0 {
		t.Fatalf("mirror before any sync: %+v", m)
	}
	reconcile(t, e)
	m := e.mirror()
	if m.Marks.SyncTime.IsZero() || len(m.Accounts) != 5 || len(m.Folders) != 1 || m.Folders[0].ID != e.d.RootFolderID {
		t.Fatalf("mirror after reconcile: %+v", m)
	}

	// A folder and an account created in it.
	f, err := e.sim.CreateFolder(e.ctx, "Production", "")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now()
	sum := e.handle(created(owner, dirsync.EventCreateFolder, at, map[string]string{"FolderName": "Production"}, map[string]string{"FolderId": f.ID}))
	wantResult(t, sum, dirsync.ResultMirrored, "")
	if m := e.mirror(); len(m.Folders) != 2 {
		t.Fatalf("folders after CreateFolder: %+v", m.Folders)
	}
	acc, err := e.sim.CreateResourceAccount(e.ctx, directory.NewAccount{DisplayName: "web-prod", FolderID: f.ID})
	if err != nil {
		t.Fatal(err)
	}
	sum = e.handle(created(owner, dirsync.EventCreateResourceAccount, at, map[string]string{"DisplayName": "web-prod"},
		map[string]string{"AccountId": acc.AccountID}))
	wantResult(t, sum, dirsync.ResultMirrored, dirsync.ReasonNotInScope) // no policy
	if a, ok := e.mirrored(acc.AccountID); !ok || a.FolderID != f.ID || a.DisplayName != "web-prod" {
		t.Fatalf("mirror of the created account: %+v, %v", a, ok)
	}

	// Moved back to the root: the mirror follows RD.
	if err := e.sim.MoveAccount(e.ctx, acc.AccountID, e.d.RootFolderID); err != nil {
		t.Fatal(err)
	}
	e.handle(event(owner, dirsync.EventMoveAccount, at, "AccountId", acc.AccountID, "DestinationFolderId", e.d.RootFolderID))
	if a, _ := e.mirrored(acc.AccountID); a.FolderID != e.d.RootFolderID {
		t.Fatalf("after MoveAccount: %+v", a)
	}
	// Renamed, then removed.
	e.rdRename(member1, "renamed-1")
	e.handle(event(owner, dirsync.EventUpdateAccount, at, "AccountId", member1, "NewDisplayName", "renamed-1"))
	if a, _ := e.mirrored(member1); a.DisplayName != "renamed-1" {
		t.Fatalf("after UpdateAccount: %+v", a)
	}
	e.rdRemove(member2)
	e.handle(event(owner, dirsync.EventRemoveCloudAccount, at, "AccountId", member2))
	if _, ok := e.mirrored(member2); ok {
		t.Fatalf("removed account still mirrored")
	}

	// A forged creation of an account RD does not list changes nothing.
	sum = e.handle(created(owner, dirsync.EventCreateResourceAccount, at, nil, map[string]string{"AccountId": "1999999999999999"}))
	wantResult(t, sum, dirsync.ResultNoChange, dirsync.ReasonNotConfirmed)
	if _, ok := e.mirrored("1999999999999999"); ok {
		t.Fatalf("forged account mirrored")
	}
	// A forged DeleteFolder of a folder RD still lists keeps it; a deleted
	// folder RD no longer lists leaves the mirror.
	sum = e.handle(event(owner, dirsync.EventDeleteFolder, at, "FolderId", f.ID))
	wantResult(t, sum, dirsync.ResultNoChange, dirsync.ReasonNotConfirmed)
	if err := e.store.PutMirrorFolder(e.ctx, e.d.ID, store.MirrorFolder{ID: "fd-gone", Name: "Gone", ParentID: e.d.RootFolderID}); err != nil {
		t.Fatal(err)
	}
	sum = e.handle(event(owner, dirsync.EventDeleteFolder, at, "FolderId", "fd-gone"))
	wantResult(t, sum, dirsync.ResultMirrored, "")
	if m := e.mirror(); len(m.Folders) != 2 {
		t.Fatalf("folders after DeleteFolder: %+v", m.Folders)
	}
	// One RD read per account event: GetAccount.
	if n := e.dir.count("GetAccount"); n != 5 {
		t.Errorf("GetAccount calls %d, want 5 (one per account event)", n)
	}
}

// Before the first reconciliation the mirror has no folders: an account
// created in a subfolder of a covered folder is still enrolled (the tree
// comes from RD).
func TestEnrollmentBeforeTheFirstSync(t *testing.T) {
	e := newEnv(t)
	prod, err := e.sim.CreateFolder(e.ctx, "Production", "")
	if err != nil {
		t.Fatal(err)
	}
	web, err := e.sim.CreateFolder(e.ctx, "Web", prod.ID)
	if err != nil {
		t.Fatal(err)
	}
	rec := store.AuditEvent{DirectoryID: e.d.ID, ID: "0001", Time: t0, Action: "update-enrollment-policy", Result: "Success"}
	if _, err := e.store.PutPolicy(e.ctx, e.d.ID, store.EnrollmentPolicy{Mode: store.PolicyFolders, FolderIDs: []string{prod.ID},
		IncludeSubfolders: true, UpdateTime: t0, UpdatedBy: owner}, 0, rec); err != nil {
		t.Fatal(err)
	}
	acc, err := e.sim.CreateResourceAccount(e.ctx, directory.NewAccount{DisplayName: "web-1", FolderID: web.ID})
	if err != nil {
		t.Fatal(err)
	}
	sum := e.handle(created(owner, dirsync.EventCreateResourceAccount, time.Now(), nil, map[string]string{"AccountId": acc.AccountID}))
	wantResult(t, sum, dirsync.ResultEnrolled, "")
	if m, ok := e.member(acc.AccountID); !ok || m.AddedBy != "System" {
		t.Fatalf("member %+v, %v", m, ok)
	}
}
