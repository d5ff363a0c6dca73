package storetest

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/port/store"
)

func mirrorAccount(i int, folder string) store.MirrorAccount {
	return store.MirrorAccount{AccountID: acct(i), DisplayName: fmt.Sprintf("Account %d", i), FolderID: folder, JoinTime: base.Add(ms(i))}
}

func readMirror(t *testing.T, s store.Store, dirID string) store.Mirror {
	t.Helper()
	m, err := s.ReadMirror(t.Context(), dirID)
	if err != nil {
		t.Fatalf("ReadMirror: %v", err)
	}
	return m
}

func checkMirror(t *testing.T, what string, got store.Mirror, want store.Mirror) {
	t.Helper()
	norm := func(m store.Mirror) store.Mirror {
		if len(m.Accounts) == 0 {
			m.Accounts = nil
		}
		if len(m.Folders) == 0 {
			m.Folders = nil
		}
		return m
	}
	got, want = norm(got), norm(want)
	if !reflect.DeepEqual(got.Accounts, want.Accounts) {
		t.Errorf("%s: accounts\n got %+v\nwant %+v", what, got.Accounts, want.Accounts)
	}
	if !reflect.DeepEqual(got.Folders, want.Folders) {
		t.Errorf("%s: folders\n got %+v\nwant %+v", what, got.Folders, want.Folders)
	}
	if !got.Marks.SyncTime.Equal(want.Marks.SyncTime) || !got.Marks.HandshakeTime.Equal(want.Marks.HandshakeTime) {
		t.Errorf("%s: marks %+v, want %+v", what, got.Marks, want.Marks)
	}
}

// testMirror: an empty mirror, a full replace, incremental changes, a
// second replace that writes only the differences, marks, and isolation
// between directories.
func testMirror(t *testing.T, s store.Store) {
	ctx := t.Context()
	dirID, other := newDir(), newDir()
	checkMirror(t, "fresh", readMirror(t, s, dirID), store.Mirror{})
	if m, err := s.MirrorMarks(ctx, dirID); err != nil || !m.SyncTime.IsZero() || !m.HandshakeTime.IsZero() {
		t.Fatalf("MirrorMarks of a fresh mirror = %+v, %v", m, err)
	}
	root := store.MirrorFolder{ID: "r-root", Name: "Root"}
	prod := store.MirrorFolder{ID: "fd-prod", Name: "Production", ParentID: "r-root"}
	full := store.Mirror{
		Accounts: []store.MirrorAccount{mirrorAccount(3, "fd-prod"), mirrorAccount(1, "r-root"), mirrorAccount(2, "r-root")},
		Folders:  []store.MirrorFolder{root, prod},
		Marks:    store.MirrorMarks{SyncTime: base},
	}
	if err := s.ReplaceMirror(ctx, dirID, full); err != nil {
		t.Fatalf("ReplaceMirror: %v", err)
	}
	want := store.Mirror{
		Accounts: []store.MirrorAccount{mirrorAccount(1, "r-root"), mirrorAccount(2, "r-root"), mirrorAccount(3, "fd-prod")},
		Folders:  []store.MirrorFolder{prod, root}, // ID order
		Marks:    store.MirrorMarks{SyncTime: base},
	}
	checkMirror(t, "after replace", readMirror(t, s, dirID), want)
	checkMirror(t, "other directory", readMirror(t, s, other), store.Mirror{})

	// Incremental changes.
	moved := mirrorAccount(2, "fd-prod")
	moved.DisplayName = "Renamed"
	if err := s.PutMirrorAccounts(ctx, dirID, []store.MirrorAccount{moved, mirrorAccount(4, "r-root")}); err != nil {
		t.Fatalf("PutMirrorAccounts: %v", err)
	}
	if err := s.DeleteMirrorAccount(ctx, dirID, acct(1)); err != nil {
		t.Fatalf("DeleteMirrorAccount: %v", err)
	}
	if err := s.DeleteMirrorAccount(ctx, dirID, acct(99)); err != nil {
		t.Fatalf("DeleteMirrorAccount of a missing account: %v", err)
	}
	dev := store.MirrorFolder{ID: "fd-dev", Name: "Dev", ParentID: "r-root"}
	if err := s.PutMirrorFolder(ctx, dirID, dev); err != nil {
		t.Fatalf("PutMirrorFolder: %v", err)
	}
	if err := s.DeleteMirrorFolder(ctx, dirID, "fd-prod"); err != nil {
		t.Fatalf("DeleteMirrorFolder: %v", err)
	}
	if err := s.DeleteMirrorFolder(ctx, dirID, "fd-none"); err != nil {
		t.Fatalf("DeleteMirrorFolder of a missing folder: %v", err)
	}
	hs := base.Add(ms(5000))
	if err := s.SetHandshakeTime(ctx, dirID, hs); err != nil {
		t.Fatalf("SetHandshakeTime: %v", err)
	}
	want = store.Mirror{
		Accounts: []store.MirrorAccount{moved, mirrorAccount(3, "fd-prod"), mirrorAccount(4, "r-root")},
		Folders:  []store.MirrorFolder{dev, root},
		Marks:    store.MirrorMarks{SyncTime: base, HandshakeTime: hs},
	}
	checkMirror(t, "after changes", readMirror(t, s, dirID), want)
	checkMirrorAccount(t, s, dirID, other, moved)
	if fs, err := s.ReadMirrorFolders(ctx, dirID); err != nil || !reflect.DeepEqual(fs, want.Folders) {
		t.Errorf("ReadMirrorFolders = %+v, %v; want %+v", fs, err, want.Folders)
	}
	if m, err := s.MirrorMarks(ctx, dirID); err != nil || !m.SyncTime.Equal(base) || !m.HandshakeTime.Equal(hs) {
		t.Errorf("MirrorMarks = %+v, %v; want sync %v, handshake %v", m, err, base, hs)
	}

	// A second full sync replaces everything but keeps the handshake mark.
	sync2 := base.Add(ms(9000))
	second := store.Mirror{Accounts: []store.MirrorAccount{mirrorAccount(4, "fd-prod"), mirrorAccount(5, "r-root")},
		Folders: []store.MirrorFolder{root, prod}, Marks: store.MirrorMarks{SyncTime: sync2, HandshakeTime: base}}
	if err := s.ReplaceMirror(ctx, dirID, second); err != nil {
		t.Fatalf("second ReplaceMirror: %v", err)
	}
	want = store.Mirror{Accounts: second.Accounts, Folders: []store.MirrorFolder{prod, root}, Marks: store.MirrorMarks{SyncTime: sync2, HandshakeTime: hs}}
	checkMirror(t, "after second replace", readMirror(t, s, dirID), want)
}

// checkMirrorAccount: ReadMirrorAccount finds want in dirID, and neither
// an account deleted from dirID (acct(1)) nor one of another directory.
func checkMirrorAccount(t *testing.T, s store.Store, dirID, other string, want store.MirrorAccount) {
	t.Helper()
	if a, ok, err := s.ReadMirrorAccount(t.Context(), dirID, want.AccountID); err != nil || !ok || !reflect.DeepEqual(a, want) {
		t.Errorf("ReadMirrorAccount = %+v, %v, %v; want %+v", a, ok, err, want)
	}
	for _, missing := range []struct{ dir, id string }{{dirID, acct(1)}, {other, want.AccountID}} {
		if a, ok, err := s.ReadMirrorAccount(t.Context(), missing.dir, missing.id); err != nil || ok {
			t.Errorf("ReadMirrorAccount of %s in %s = %+v, %v, %v; want not found", missing.id, missing.dir, a, ok, err)
		}
	}
}

// testMirrorLarge: 2,500 accounts in one replace come back whole and in
// order (adapters that page internally must follow every page).
func testMirrorLarge(t *testing.T, s store.Store) {
	dirID := newDir()
	const n = 2500
	m := store.Mirror{Marks: store.MirrorMarks{SyncTime: base}}
	for i := n - 1; i >= 0; i-- {
		m.Accounts = append(m.Accounts, mirrorAccount(i, "r-x"))
	}
	if err := s.ReplaceMirror(t.Context(), dirID, m); err != nil {
		t.Fatalf("ReplaceMirror: %v", err)
	}
	got := readMirror(t, s, dirID)
	if len(got.Accounts) != n {
		t.Fatalf("ReadMirror: %d accounts, want %d", len(got.Accounts), n)
	}
	if !slices.IsSortedFunc(got.Accounts, func(a, b store.MirrorAccount) int { return strings.Compare(a.AccountID, b.AccountID) }) {
		t.Errorf("ReadMirror: accounts not in AccountID order")
	}
	if got.Accounts[7] != mirrorAccount(7, "r-x") {
		t.Errorf("account 7 = %+v", got.Accounts[7])
	}
}

// testMirrorInvalid: bad keys are refused before anything is written.
func testMirrorInvalid(t *testing.T, s store.Store) {
	ctx := t.Context()
	dirID := newDir()
	wantErr(t, "ReadMirror without a directory", func() error { _, err := s.ReadMirror(ctx, ""); return err }(), apperr.KindInvalid, "MissingParameter.DirectoryId")
	err := s.PutMirrorAccounts(ctx, dirID, []store.MirrorAccount{mirrorAccount(1, "r"), {AccountID: ""}})
	wantErr(t, "PutMirrorAccounts with an empty ID", err, apperr.KindInvalid, "MissingParameter.AccountId")
	checkMirror(t, "after a refused put", readMirror(t, s, dirID), store.Mirror{})
	wantErr(t, "PutMirrorFolder without ID", s.PutMirrorFolder(ctx, dirID, store.MirrorFolder{}), apperr.KindInvalid, "MissingParameter.FolderId")
}

// testMemberIDs: every member's ID, in order, and nothing of another
// directory.
func testMemberIDs(t *testing.T, s store.Store) {
	dirID, other := newDir(), newDir()
	var ms []store.Member
	var want []string
	for i := 1200; i > 0; i-- {
		ms = append(ms, member(i, base))
	}
	for i := 1; i <= 1200; i++ {
		want = append(want, acct(i))
	}
	mustAdd(t, s, dirID, ms...)
	mustAdd(t, s, other, member(5000, base))
	got, err := s.MemberIDs(t.Context(), dirID)
	if err != nil {
		t.Fatalf("MemberIDs: %v", err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("MemberIDs: %d IDs, want %d in order", len(got), len(want))
	}
	if got, err := s.MemberIDs(t.Context(), newDir()); err != nil || len(got) != 0 {
		t.Errorf("MemberIDs of an empty directory = %v, %v", got, err)
	}
}

// testPolicy: the zero policy, a first write, a stale version, an update;
// each write carries its audit record, and a refused one none.
func testPolicy(t *testing.T, s store.Store) {
	ctx := t.Context()
	dirID := newDir()
	p, err := s.GetPolicy(ctx, dirID)
	if err != nil || p.Version != 0 || p.Mode != "" {
		t.Fatalf("GetPolicy before any update = %+v, %v", p, err)
	}
	rec := func(id string) store.AuditEvent {
		return store.AuditEvent{DirectoryID: dirID, ID: id, Time: base, ActorAccountID: acct(0), ActorRole: "ManagementAccount",
			Action: "update-enrollment-policy", Result: "Success", Detail: map[string]string{"Version": id}}
	}
	want := store.EnrollmentPolicy{Mode: store.PolicyFolders, FolderIDs: []string{"fd-a", "fd-b"}, IncludeSubfolders: true,
		Excluded: []store.Exclusion{{AccountID: acct(7), Reason: "sandbox"}}, UpdateTime: base, UpdatedBy: acct(0)}
	got, err := s.PutPolicy(ctx, dirID, want, 0, rec("0001"))
	if err != nil || got.Version != 1 {
		t.Fatalf("first PutPolicy = %+v, %v", got, err)
	}
	want.Version = 1
	if p, err := s.GetPolicy(ctx, dirID); err != nil || !reflect.DeepEqual(p, want) {
		t.Fatalf("GetPolicy = %+v, %v; want %+v", p, err, want)
	}
	_, err = s.PutPolicy(ctx, dirID, store.EnrollmentPolicy{Mode: store.PolicyOff}, 0, rec("0002"))
	wantErr(t, "PutPolicy at a stale version", err, apperr.KindConflict, apperr.CodeVersionConflict)
	off := store.EnrollmentPolicy{Mode: store.PolicyAllAccounts, UpdateTime: base.Add(ms(5)), UpdatedBy: acct(1)}
	if got, err := s.PutPolicy(ctx, dirID, off, 1, rec("0003")); err != nil || got.Version != 2 {
		t.Fatalf("second PutPolicy = %+v, %v", got, err)
	}
	if p, _ := s.GetPolicy(ctx, dirID); p.Version != 2 || p.Mode != store.PolicyAllAccounts || len(p.FolderIDs) != 0 || len(p.Excluded) != 0 {
		t.Fatalf("GetPolicy after the update = %+v", p)
	}
	evs, _, err := s.ListAudit(ctx, dirID, 10, "")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range evs {
		ids = append(ids, e.ID)
	}
	if !slices.Equal(ids, []string{"0003", "0001"}) {
		t.Fatalf("audit records %v, want the two applied updates only", ids)
	}
}

// The mirror's version moves with every write of the mirror, and only
// then: a reader's copy is checked with one MirrorMarks read.
func testMirrorVersion(t *testing.T, s store.Store) {
	ctx, dir := t.Context(), newDir()
	version := func() int64 {
		t.Helper()
		m, err := s.MirrorMarks(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		return m.Version
	}
	acc := store.MirrorAccount{AccountID: acct(1), DisplayName: "a", FolderID: "r-root", JoinTime: base}
	writes := []struct {
		what string
		do   func() error
	}{
		{"ReplaceMirror", func() error {
			return s.ReplaceMirror(ctx, dir, store.Mirror{Accounts: []store.MirrorAccount{acc},
				Folders: []store.MirrorFolder{{ID: "r-root", Name: "Root"}}, Marks: store.MirrorMarks{SyncTime: base}})
		}},
		{"PutMirrorAccounts", func() error {
			return s.PutMirrorAccounts(ctx, dir, []store.MirrorAccount{{AccountID: acct(2), FolderID: "r-root", JoinTime: base}})
		}},
		{"DeleteMirrorAccount", func() error { return s.DeleteMirrorAccount(ctx, dir, acct(2)) }},
		{"PutMirrorFolder", func() error {
			return s.PutMirrorFolder(ctx, dir, store.MirrorFolder{ID: "fd-1", Name: "Prod", ParentID: "r-root"})
		}},
		{"DeleteMirrorFolder", func() error { return s.DeleteMirrorFolder(ctx, dir, "fd-1") }},
		{"SetHandshakeTime", func() error { return s.SetHandshakeTime(ctx, dir, base) }},
	}
	prev := version()
	for _, w := range writes {
		if err := w.do(); err != nil {
			t.Fatalf("%s: %v", w.what, err)
		}
		v := version()
		if v <= prev {
			t.Errorf("after %s the mirror version is %d (was %d); want it newer", w.what, v, prev)
		}
		prev = v
	}
	m, err := s.ReadMirror(ctx, dir)
	if err != nil || m.Marks.Version != prev {
		t.Errorf("ReadMirror: version %d, %v; want %d (reads move nothing)", m.Marks.Version, err, prev)
	}
}
