package embedded

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/port/store"
	"github.com/sase-multiaccount/backend/shared/testkit/storetest"
)

func openTemp(t testing.TB) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "store.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t) })
}

func BenchmarkStore(b *testing.B) {
	storetest.RunBenchmarks(b, func(b *testing.B) store.Store { return openTemp(b) })
}

var t0 = time.Date(2026, 11, 24, 8, 15, 16, 0, time.UTC)

func testMember(id string, add time.Time) store.Member {
	return store.Member{AccountID: id, AccountName: "n-" + id, AddTime: add, AddedBy: "1000000000000001",
		Remark: "r-" + id, Version: 1, UpdateTime: add, NameTime: add}
}

func mustAdd(t *testing.T, s *Store, dir string, ms ...store.Member) {
	t.Helper()
	res, err := s.AddMembers(t.Context(), dir, ms, nil)
	if err != nil {
		t.Fatalf("AddMembers: %v", err)
	}
	for _, r := range res {
		if r.Status != store.Added {
			t.Fatalf("AddMembers: %+v", r)
		}
	}
}

func wantKind(t *testing.T, what string, err error, kind apperr.Kind) {
	t.Helper()
	if !apperr.IsKind(err, kind) {
		t.Errorf("%s: error %v, want an *apperr.Error of kind %d", what, err, kind)
	}
}

func TestReopenKeepsData(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "store.db")
	s, err := Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	mustAdd(t, s, "rd-1", testMember("1000000000000002", t0), testMember("1000000000000003", t0.Add(time.Second)))
	_, after, err := s.UpdateRemark(ctx, "rd-1", "1000000000000002", "kept", 1, t0.Add(time.Minute), nil)
	if err != nil {
		t.Fatalf("UpdateRemark: %v", err)
	}
	if err := s.AppendAudit(ctx, []store.AuditEvent{{DirectoryID: "rd-1", ID: "a1", Time: t0, Action: "add-members"}}); err != nil {
		t.Fatalf("AppendAudit: %v", err)
	}
	if err := s.MarkEventProcessed(ctx, "k", time.Now().Add(time.Hour)); err != nil {
		t.Fatalf("MarkEventProcessed: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s, err = Open(path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	got, err := s.GetMember(ctx, "rd-1", "1000000000000002")
	if err != nil || got.Remark != "kept" || got.Version != 2 || !got.UpdateTime.Equal(after.UpdateTime) {
		t.Errorf("member after reopen = %+v, %v; want %+v", got, err, after)
	}
	if n, err := s.CountMembers(ctx, "rd-1"); n != 2 || err != nil {
		t.Errorf("CountMembers after reopen = %d, %v; want 2", n, err)
	}
	ms, _, err := s.ListMembers(ctx, "rd-1", store.ListQuery{SortBy: store.SortByAddTime, Desc: true, Limit: 10})
	if err != nil || len(ms) != 2 || ms[0].AccountID != "1000000000000003" {
		t.Errorf("ListMembers after reopen = %+v, %v", ms, err)
	}
	if es, _, err := s.ListAudit(ctx, "rd-1", 10, ""); err != nil || len(es) != 1 || es[0].Action != "add-members" {
		t.Errorf("ListAudit after reopen = %+v, %v", es, err)
	}
	if ok, err := s.EventProcessed(ctx, "k"); !ok || err != nil {
		t.Errorf("EventProcessed after reopen = %v, %v; want true (still marked)", ok, err)
	}
}

func TestOpenCreatesPrivateFile(t *testing.T) {
	root := t.TempDir()
	path := filepath.Join(root, "a", "b", "store.db")
	s, err := Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	if s.Path() != path {
		t.Errorf("Path() = %q, want %q", s.Path(), path)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("stat: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode = %v, want 0600", fi.Mode().Perm())
	}
	di, err := os.Stat(filepath.Join(root, "a"))
	if err != nil {
		t.Fatalf("stat parent: %v", err)
	}
	if di.Mode().Perm()&0o077 != 0 {
		t.Errorf("created parent mode = %v, want no group/other access", di.Mode().Perm())
	}
}

func TestSecondOpenFailsOnLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	s, err := Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	// flock locks belong to the open file, so a second Open in the same
	// process contends exactly like a second process would.
	s2, err := Open(path)
	if err == nil {
		s2.Close()
		t.Fatal("second Open of a locked file succeeded")
	}
	if !errors.Is(err, bolterrors.ErrTimeout) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "locked") {
		t.Errorf("second Open error = %q; want a timeout naming %s and the lock", err, path)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	s2, err = Open(path)
	if err != nil {
		t.Fatalf("Open after the holder closed: %v", err)
	}
	s2.Close()
}

func TestOpenRejectsOtherFiles(t *testing.T) {
	dir := t.TempDir()
	notBolt := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(notBolt, bytes.Repeat([]byte("not a bolt file "), 2048), 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := Open(notBolt); err == nil {
		s.Close()
		t.Error("Open of a non-bbolt file succeeded")
	} else if !strings.Contains(err.Error(), notBolt) {
		t.Errorf("error %q does not name the file", err)
	}

	// A file of another schema version is refused, not misread.
	path := filepath.Join(dir, "future.db")
	s := mustOpen(t, path)
	if err := s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keySchema, []byte("2")) }); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err := Open(path); err == nil {
		s.Close()
		t.Error("Open of a schema-2 file succeeded")
	} else if !strings.Contains(err.Error(), "schema version") {
		t.Errorf("error %q does not mention the schema version", err)
	}

	if _, err := Open(""); err == nil {
		t.Error("Open(\"\") succeeded")
	}
}

func mustOpen(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

// TestCorruptValues damages stored bytes directly: every read path reports
// an Internal error instead of panicking or returning garbage.
func TestCorruptValues(t *testing.T) {
	ctx := t.Context()
	s := openTemp(t)
	defer s.Close()
	const dir = "rd-corrupt"
	good, bad := "1000000000000002", "1000000000000003"
	mustAdd(t, s, dir, testMember(good, t0), testMember(bad, t0.Add(time.Second)))
	if err := s.AppendAudit(ctx, []store.AuditEvent{{DirectoryID: dir, ID: "a1"}}); err != nil {
		t.Fatal(err)
	}
	damage := func(fn func(d dirBuckets, tx *bolt.Tx) error) {
		t.Helper()
		err := s.db.Update(func(tx *bolt.Tx) error {
			d, _, err := openDir(tx, dir)
			if err != nil {
				return err
			}
			return fn(d, tx)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	damage(func(d dirBuckets, tx *bolt.Tx) error {
		if err := d.rows.Put([]byte(bad), []byte(`{"account_id":`)); err != nil {
			return err
		}
		if err := tx.Bucket(bucketAudit).Bucket([]byte(dir)).Put([]byte("a1"), []byte{0xff}); err != nil {
			return err
		}
		return tx.Bucket(bucketProcessed).Put([]byte("k"), []byte("xyz"))
	})

	_, err := s.GetMember(ctx, dir, bad)
	wantKind(t, "GetMember of a corrupt row", err, apperr.KindInternal)
	if _, err := s.GetMember(ctx, dir, good); err != nil {
		t.Errorf("GetMember of an intact row: %v", err)
	}
	for _, by := range []store.SortBy{store.SortByAddTime, store.SortByAccountID} {
		_, _, err = s.ListMembers(ctx, dir, store.ListQuery{SortBy: by, Limit: 10})
		wantKind(t, "ListMembers over a corrupt row", err, apperr.KindInternal)
	}
	_, _, err = s.UpdateRemark(ctx, dir, bad, "x", 0, t0, nil)
	wantKind(t, "UpdateRemark of a corrupt row", err, apperr.KindInternal)
	_, err = s.RenameMember(ctx, dir, bad, "x", t0.Add(time.Hour), nil)
	wantKind(t, "RenameMember of a corrupt row", err, apperr.KindInternal)
	_, _, err = s.ListAudit(ctx, dir, 10, "")
	wantKind(t, "ListAudit over a corrupt event", err, apperr.KindInternal)
	_, err = s.EventProcessed(ctx, "k")
	wantKind(t, "EventProcessed over a corrupt record", err, apperr.KindInternal)

	// Delete reports the corrupt row per item and still deletes the rest.
	res, err := s.DeleteMembers(ctx, dir, []string{bad, good}, nil)
	if err != nil || len(res) != 2 {
		t.Fatalf("DeleteMembers = %+v, %v", res, err)
	}
	if res[0].Status != store.DeleteFailed || !apperr.IsKind(res[0].Err, apperr.KindInternal) || res[1].Status != store.Deleted {
		t.Errorf("DeleteMembers results = %+v; want Failed (internal), Deleted", res)
	}
	if n, err := s.CountMembers(ctx, dir); n != 1 || err != nil {
		t.Errorf("CountMembers = %d, %v; want 1 (the corrupt row remains)", n, err)
	}

	// An index entry without its row, and a damaged counter.
	damage(func(d dirBuckets, _ *bolt.Tx) error {
		if err := d.rows.Delete([]byte(bad)); err != nil {
			return err
		}
		return d.dir.Put(keyCount, []byte{1, 2, 3})
	})
	_, _, err = s.ListMembers(ctx, dir, store.ListQuery{SortBy: store.SortByAddTime, Limit: 10})
	wantKind(t, "ListMembers over a dangling index entry", err, apperr.KindInternal)
	_, err = s.CountMembers(ctx, dir)
	wantKind(t, "CountMembers of a damaged counter", err, apperr.KindInternal)
	_, err = s.AddMembers(ctx, dir, []store.Member{testMember("1000000000000009", t0)}, nil)
	wantKind(t, "AddMembers with a damaged counter", err, apperr.KindInternal)
}

func TestClosedStore(t *testing.T) {
	s := openTemp(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	_, err := s.GetMember(ctx, "rd-1", "1000000000000002")
	wantKind(t, "GetMember after Close", err, apperr.KindUnavailable)
	_, err = s.AddMembers(ctx, "rd-1", []store.Member{testMember("1000000000000002", t0)}, nil)
	wantKind(t, "AddMembers after Close", err, apperr.KindUnavailable)
	_, err = s.EventProcessed(ctx, "k")
	wantKind(t, "EventProcessed after Close", err, apperr.KindUnavailable)
}

func TestInvalidArguments(t *testing.T) {
	ctx := t.Context()
	s := openTemp(t)
	defer s.Close()
	_, err := s.AddMembers(ctx, "", []store.Member{testMember("1000000000000002", t0)}, nil)
	wantKind(t, "AddMembers with no directory", err, apperr.KindInvalid)
	_, err = s.GetMember(ctx, "rd-1", "")
	wantKind(t, "GetMember with no account", err, apperr.KindInvalid)
	_, _, err = s.UpdateRemark(ctx, "rd-1", "1000000000000002", "x", -1, t0, nil)
	wantKind(t, "UpdateRemark with a negative version", err, apperr.KindInvalid)
	_, err = s.EventProcessed(ctx, "")
	wantKind(t, "EventProcessed with no key", err, apperr.KindInvalid)
	err = s.MarkEventProcessed(ctx, "", t0)
	wantKind(t, "MarkEventProcessed with no key", err, apperr.KindInvalid)
	_, err = s.CountMembers(ctx, strings.Repeat("x", store.MaxKeyLen+1))
	wantKind(t, "CountMembers with an oversized directory ID", err, apperr.KindInvalid)
}

// TestSubMillisecondPosition: a position need not come from the store; one
// between two milliseconds still splits the list correctly whatever its
// AccountID.
func TestSubMillisecondPosition(t *testing.T) {
	s := openTemp(t)
	defer s.Close()
	mustAdd(t, s, "rd-1",
		testMember("1000000000000001", t0), testMember("1000000000000009", t0),
		testMember("1000000000000002", t0.Add(time.Millisecond)), testMember("1000000000000008", t0.Add(time.Millisecond)))
	p := store.Position{AddTime: t0.Add(500 * time.Microsecond), AccountID: "1000000000000005"}
	for _, c := range []struct {
		desc bool
		want []string
	}{
		{false, []string{"1000000000000002", "1000000000000008"}},
		{true, []string{"1000000000000009", "1000000000000001"}},
	} {
		ms, more, err := s.ListMembers(t.Context(), "rd-1", store.ListQuery{SortBy: store.SortByAddTime, Desc: c.desc, Limit: 10, After: &p})
		var got []string
		for _, m := range ms {
			got = append(got, m.AccountID)
		}
		if err != nil || more || !slices.Equal(got, c.want) {
			t.Errorf("desc=%v: got %v more=%v err=%v, want %v", c.desc, got, more, err, c.want)
		}
	}
}

func TestOrderedMsPreservesOrder(t *testing.T) {
	vals := []int64{math.MinInt64, time.Time{}.UnixMilli(), -86_400_000, -1, 0, 1, 1_700_000_000_000, math.MaxInt64}
	for i := 1; i < len(vals); i++ {
		a, b := orderedMs(vals[i-1]), orderedMs(vals[i])
		if bytes.Compare(a, b) >= 0 {
			t.Errorf("orderedMs(%d) >= orderedMs(%d)", vals[i-1], vals[i])
		}
		if got := parseOrderedMs(b); got != vals[i] {
			t.Errorf("parseOrderedMs(orderedMs(%d)) = %d", vals[i], got)
		}
	}
	if bytes.Compare(timeKey(5, "9"), msBound(5)) >= 0 || bytes.Compare(msBound(5), timeKey(6, "")) > 0 {
		t.Error("msBound(5) is not between the keys of ms 5 and ms 6")
	}
}
