package tablestore

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/port/store"
	"github.com/sase-multiaccount/backend/shared/testkit/otsfake"
)

// clock is a settable clock shared by the fake (cell timestamps, TTL) and
// the adapter (FeedSettle).
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func clocked(t *testing.T) (*env, *Store, *clock) {
	clk := &clock{t: time.Now().UTC().Truncate(time.Millisecond)}
	e := newEnv(t, otsfake.Options{Now: clk.Now})
	s := e.open(t, func(c *Config) { c.Now = clk.Now })
	return e, s, clk
}

var auditN int

func audited(dir string) store.AuditOf {
	return func(before, after store.Member) store.AuditEvent {
		auditN++
		return store.AuditEvent{DirectoryID: dir, ID: fmt.Sprintf("%013d-%05d", t0.UnixMilli(), auditN), Time: t0,
			Action: "add-members", Target: cmpOr(after.AccountID, before.AccountID)}
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func feedSeqs(t *testing.T, s *Store, dir string, after int64) ([]int64, int64) {
	t.Helper()
	chs, next, _, err := s.ListChanges(t.Context(), dir, after, 50)
	if err != nil {
		t.Fatalf("ListChanges(%d): %v", after, err)
	}
	var out []int64
	for _, c := range chs {
		out = append(out, c.Seq)
	}
	return out, next
}

// A position taken by a writer that never wrote it (it died) holds readers
// back until the row after it is FeedSettle old; then a tombstone fills
// it. A writer that comes late finds the tombstone and writes its change
// at a new position: nothing is skipped, nothing seen twice.
func TestFeedHoleIsFilledOnceSettled(t *testing.T) {
	_, s, clk := clocked(t)
	ctx, dir := t.Context(), "rd-hole"
	mustAddAudited(t, s, dir, 1)         // seq 1
	lost, err := s.allocate(ctx, dir, 1) // seq 2: a writer that dies
	if err != nil || lost != 2 {
		t.Fatalf("allocate = %d, %v", lost, err)
	}
	mustAddAudited(t, s, dir, 2) // seq 3
	if got, next := feedSeqs(t, s, dir, 0); fmt.Sprint(got) != "[1]" || next != 1 {
		t.Fatalf("before the hole settles: %v next %d; want [1] next 1", got, next)
	}
	clk.add(s.cfg.FeedSettle)
	if got, next := feedSeqs(t, s, dir, 1); fmt.Sprint(got) != "[3]" || next != 3 {
		t.Fatalf("once settled: %v next %d; want [3] next 3", got, next)
	}
	// The late writer: its row at 2 loses to the tombstone; it is written
	// again at 4.
	late := &auditRec{AuditEvent: audited(dir)(store.Member{}, testMember(9)), change: store.MemberAdded, member: testMember(9), seq: lost}
	s.rewriteFeed(ctx, "test", late)
	if late.seq != 4 {
		t.Errorf("the late change went to %d, want 4", late.seq)
	}
	clk.add(s.cfg.FeedSettle)
	if got, _ := feedSeqs(t, s, dir, 3); fmt.Sprint(got) != "[4]" {
		t.Errorf("after the late write: %v; want [4]", got)
	}
	if got, _ := feedSeqs(t, s, dir, 0); fmt.Sprint(got) != "[1 3 4]" {
		t.Errorf("the whole feed: %v; want [1 3 4]", got)
	}
}

func mustAddAudited(t *testing.T, s *Store, dir string, i int) {
	t.Helper()
	res, err := s.AddMembers(t.Context(), dir, []store.Member{testMember(i)}, audited(dir))
	if err != nil || res[0].Status != store.Added {
		t.Fatalf("AddMembers: %+v, %v", res, err)
	}
}

// A batch that fails outright gives its positions up at once: the reader
// behind it does not wait FeedSettle.
func TestFailedBatchLeavesNoHole(t *testing.T) {
	e, s, _ := clocked(t)
	dir := "rd-fail"
	mustAddAudited(t, s, dir, 1)
	e.fake.Inject(otsfake.Fault{Action: "BatchWriteRow", Kind: otsfake.FaultError, Status: 400, Code: "OTSParameterInvalid", Times: 1})
	if res, err := s.AddMembers(t.Context(), dir, []store.Member{testMember(2)}, audited(dir)); err == nil {
		t.Fatalf("the add should fail: %+v", res)
	}
	mustAddAudited(t, s, dir, 3)
	if got, _ := feedSeqs(t, s, dir, 0); fmt.Sprint(got) != "[1 3]" {
		t.Errorf("feed %v; want [1 3] at once (2 given up)", got)
	}
}

// Rows expire with the table's TTL: a cursor whose row is gone while later
// ones are missing too is refused; the oldest kept change is where a
// reader without a cursor starts.
func TestFeedCursorExpires(t *testing.T) {
	_, s, clk := clocked(t)
	dir := "rd-ttl"
	for i := range 3 {
		mustAddAudited(t, s, dir, i) // seq 1..3
	}
	clk.add(feedKeep + time.Hour)
	mustAddAudited(t, s, dir, 10) // seq 4
	_, _, _, err := s.ListChanges(t.Context(), dir, 1, 10)
	if e, ok := apperr.As(err); !ok || e.Code != apperr.InvalidParameter("Cursor") {
		t.Errorf("an expired cursor: %v", err)
	}
	if got, _ := feedSeqs(t, s, dir, 3); fmt.Sprint(got) != "[4]" {
		t.Errorf("a cursor whose next row is kept: %v", got)
	}
	if got, _ := feedSeqs(t, s, dir, 0); len(got) != 0 {
		t.Errorf("from the start, before the first kept row settles: %v", got)
	}
	clk.add(s.cfg.FeedSettle)
	if got, _ := feedSeqs(t, s, dir, 0); fmt.Sprint(got) != "[4]" {
		t.Errorf("from the start: %v; want [4]", got)
	}
}

// The remote calls of the feed (docs/DESIGN.md §8): an audited change
// costs one UpdateRow more (its position); a feed page is one GetRange;
// the delivery poll one GetRange for every webhook and head.
func TestFeedRemoteCalls(t *testing.T) {
	e := newEnv(t, otsfake.Options{})
	s := e.open(t, nil)
	ctx, dir := t.Context(), "rd-feed-calls"
	want := func(what string, reads, writes int) {
		t.Helper()
		if r, w := e.counts(); r != reads || w != writes {
			t.Errorf("%s: %d reads, %d writes; want %d, %d", what, r, w, reads, writes)
		}
	}
	if _, err := s.AddMembers(ctx, dir, members(1, 100), audited(dir)); err != nil {
		t.Fatal(err)
	}
	want("audited add of 100 (49 per batch)", 1, 6)
	if _, _, err := s.UpdateRemark(ctx, dir, acct(5), "r", 0, t0, audited(dir)); err != nil {
		t.Fatal(err)
	}
	want("audited remark", 1, 2)
	if _, _, _, err := s.ListChanges(ctx, dir, 0, 100); err != nil {
		t.Fatal(err)
	}
	want("a feed page of 100", 1, 0)
	if _, _, err := s.AllWebhooks(ctx); err != nil {
		t.Fatal(err)
	}
	want("the delivery poll", 1, 0)
}
