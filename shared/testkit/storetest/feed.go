package storetest

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/port/store"
)

// The feed part of the contract (store.Feed, docs/DESIGN.md §13): every
// audited add, removal and remark update has exactly one feed entry, in
// commit order, and a reader that follows the feed while writers run
// misses nothing and sees nothing twice.

var feedTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"FeedRecordsMembershipChanges", testFeedRecords},
	{"FeedPaging", testFeedPaging},
	{"FeedFollowedDuringConcurrentWrites", testFeedConcurrent},
	{"FeedInvalid", testFeedInvalid},
	{"Webhooks", testWebhooks},
	{"WebhookLease", testWebhookLease},
	{"AllWebhooks", testAllWebhooks},
	{"WebhookAttempts", testWebhookAttempts},
}

var recSeq atomic.Int64

// feedRecorder is an AuditOf with IDs unique across goroutines.
func feedRecorder(dir, action string) store.AuditOf {
	return func(before, after store.Member) store.AuditEvent {
		target := cmpOr(after.AccountID, before.AccountID)
		now := time.Now().UTC().Truncate(time.Millisecond)
		return store.AuditEvent{DirectoryID: dir, ID: fmt.Sprintf("%013d-%08d", now.UnixMilli(), recSeq.Add(1)),
			Time: now, ActorAccountID: acct(0), ActorRole: "ManagementAccount", Action: action, Target: target, Result: "Success",
			RequestID: "req-" + action}
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// readFeed reads the whole feed from after, page by page.
func readFeed(t *testing.T, s store.Store, dir string, after int64, page int) ([]store.Change, int64) {
	t.Helper()
	var all []store.Change
	for range 10_000 {
		chs, next, more, err := s.ListChanges(t.Context(), dir, after, page)
		if err != nil {
			t.Fatalf("ListChanges(%d): %v", after, err)
		}
		if next < after {
			t.Fatalf("ListChanges(%d) moved back to %d", after, next)
		}
		all, after = append(all, chs...), next
		if !more {
			return all, after
		}
	}
	t.Fatal("the feed does not end")
	return nil, 0
}

func testFeedRecords(t *testing.T, s store.Store) {
	ctx, dir := t.Context(), newDir()
	if _, err := s.AddMembers(ctx, dir, []store.Member{member(1, base), member(2, base), member(3, base)}, feedRecorder(dir, "add-members")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.UpdateRemark(ctx, dir, acct(2), "new remark", 1, base, feedRecorder(dir, "update-member-remark")); err != nil {
		t.Fatal(err)
	}
	// No change, no entry: the same remark again. A rename has an entry
	// (internal: the public feed leaves it out).
	if _, _, err := s.UpdateRemark(ctx, dir, acct(2), "new remark", 0, base, feedRecorder(dir, "update-member-remark")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RenameMember(ctx, dir, acct(1), "renamed", base.Add(time.Hour), feedRecorder(dir, "directory-events")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteMembers(ctx, dir, []string{acct(3), acct(9)}, feedRecorder(dir, "delete-members")); err != nil {
		t.Fatal(err)
	}
	chs, next := readFeed(t, s, dir, 0, 100)
	type entry struct {
		typ     store.ChangeType
		account string
		remark  string
		version int64
	}
	want := []entry{{store.MemberAdded, acct(1), "remark 1", 1}, {store.MemberAdded, acct(2), "remark 2", 1},
		{store.MemberAdded, acct(3), "remark 3", 1}, {store.MemberRemarkUpdated, acct(2), "new remark", 2},
		{store.MemberRenamed, acct(1), "remark 1", 2}, {store.MemberRemoved, acct(3), "remark 3", 1}}
	var got []entry
	for _, c := range chs {
		got = append(got, entry{c.Type, c.Member.AccountID, c.Member.Remark, c.Member.Version})
	}
	// The three adds of one call may be in any order among themselves.
	slices.SortFunc(got[:min(3, len(got))], func(a, b entry) int { return cmpStr(a.account, b.account) })
	if !slices.Equal(got, want) {
		t.Fatalf("feed = %+v\nwant %+v", got, want)
	}
	trail, _, err := s.ListAudit(ctx, dir, 100, "")
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]store.AuditEvent{}
	for _, e := range trail {
		byID[e.ID] = e
	}
	for i, c := range chs {
		if i > 0 && c.Seq <= chs[i-1].Seq {
			t.Errorf("Seq %d after %d", c.Seq, chs[i-1].Seq)
		}
		rec, ok := byID[c.Record.ID]
		if !ok {
			t.Errorf("change %d: record %s is not in the audit trail", c.Seq, c.Record.ID)
		} else if d := diffAudit(c.Record, rec); d != "" {
			t.Errorf("change %d: record differs from the trail's: %s", c.Seq, d)
		}
		if c.Member.AccountName == "" || c.Member.AddTime.IsZero() {
			t.Errorf("change %d: member %+v", c.Seq, c.Member)
		}
	}
	if last := chs[len(chs)-1].Seq; next != last {
		t.Errorf("next = %d, want the last Seq %d", next, last)
	}
	if head, err := s.FeedHead(ctx, dir); err != nil || head < next {
		t.Errorf("FeedHead = %d, %v; want at least %d", head, err, next)
	}
	// Changes without a record (AuditOf nil) have no entry either.
	if _, err := s.AddMembers(ctx, dir, []store.Member{member(7, base)}, nil); err != nil {
		t.Fatal(err)
	}
	if more, _ := readFeed(t, s, dir, next, 10); len(more) != 0 {
		t.Errorf("an unaudited add has feed entries: %+v", more)
	}
}

func cmpStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func testFeedPaging(t *testing.T, s store.Store) {
	ctx, dir := t.Context(), newDir()
	for i := range 7 {
		if _, err := s.AddMembers(ctx, dir, []store.Member{member(i, base)}, feedRecorder(dir, "add-members")); err != nil {
			t.Fatal(err)
		}
	}
	var after int64
	var sizes []int
	var accounts []string
	for {
		chs, next, more, err := s.ListChanges(ctx, dir, after, 3)
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(chs))
		for _, c := range chs {
			accounts = append(accounts, c.Member.AccountID)
		}
		after = next
		if !more {
			break
		}
	}
	if !slices.Equal(sizes, []int{3, 3, 1}) {
		t.Errorf("pages of %v, want [3 3 1]", sizes)
	}
	if want := []string{acct(0), acct(1), acct(2), acct(3), acct(4), acct(5), acct(6)}; !slices.Equal(accounts, want) {
		t.Errorf("order %v, want %v (commit order)", accounts, want)
	}
	// At the end: nothing, and the position stays (poll with it later).
	chs, next, more, err := s.ListChanges(ctx, dir, after, 3)
	if err != nil || len(chs) != 0 || more || next != after {
		t.Errorf("at the end: %d changes, next %d (want %d), more %v, %v", len(chs), next, after, more, err)
	}
	// An unknown directory has an empty feed.
	if chs, next, _, err := s.ListChanges(ctx, newDir(), 0, 3); err != nil || len(chs) != 0 || next != 0 {
		t.Errorf("empty feed: %v, %d, %v", chs, next, err)
	}
}

// testFeedConcurrent runs writers that add, remark and remove members
// while a reader follows the feed; at the end the reader has every change
// of the trail exactly once, in an order that replays to the member table.
func testFeedConcurrent(t *testing.T, s store.Store) {
	ctx, dir := t.Context(), newDir()
	const writers, rounds = 4, 6
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				i := w*100 + r
				_, _ = s.AddMembers(ctx, dir, []store.Member{member(i, base), member(i+50, base)}, feedRecorder(dir, "add-members"))
				_, _, _ = s.UpdateRemark(ctx, dir, acct(i), fmt.Sprintf("r%d", r), 0, base, feedRecorder(dir, "update-member-remark"))
				if r%2 == 1 {
					_, _ = s.DeleteMembers(ctx, dir, []string{acct(i + 50)}, feedRecorder(dir, "delete-members"))
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	var followed []store.Change
	var after int64
	for finished := false; !finished; {
		select {
		case <-done:
			finished = true
		default:
		}
		chs, next, _, err := s.ListChanges(ctx, dir, after, 7)
		if err != nil {
			t.Fatalf("ListChanges: %v", err)
		}
		followed, after = append(followed, chs...), next
	}
	rest, _ := readFeed(t, s, dir, after, 50)
	followed = append(followed, rest...)
	checkFeedMatchesTrail(t, s, dir, followed)
}

func checkFeedMatchesTrail(t *testing.T, s store.Store, dir string, feed []store.Change) {
	t.Helper()
	trail, _, err := s.ListAudit(t.Context(), dir, store.MaxListLimit, "")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, e := range trail {
		if e.Action != "directory-events" {
			want = append(want, e.ID)
		}
	}
	members := map[string]string{}
	var got []string
	for i, c := range feed {
		got = append(got, c.Record.ID)
		if i > 0 && c.Seq <= feed[i-1].Seq {
			t.Errorf("Seq %d follows %d", c.Seq, feed[i-1].Seq)
		}
		_, in := members[c.Member.AccountID]
		switch c.Type {
		case store.MemberAdded:
			if in {
				t.Errorf("change %d adds %s, already a member", c.Seq, c.Member.AccountID)
			}
			members[c.Member.AccountID] = c.Member.Remark
		case store.MemberRemarkUpdated:
			if !in {
				t.Errorf("change %d remarks %s, not a member", c.Seq, c.Member.AccountID)
			}
			members[c.Member.AccountID] = c.Member.Remark
		case store.MemberRemoved:
			if !in {
				t.Errorf("change %d removes %s, not a member", c.Seq, c.Member.AccountID)
			}
			delete(members, c.Member.AccountID)
		}
	}
	slices.Sort(want)
	sorted := slices.Clone(got)
	slices.Sort(sorted)
	if !slices.Equal(sorted, want) {
		t.Errorf("the feed has %d entries, the trail %d membership records; they differ", len(got), len(want))
	}
	page, _, err := s.ListMembers(t.Context(), dir, store.ListQuery{SortBy: store.SortByAccountID, Limit: store.MaxListLimit})
	if err != nil {
		t.Fatal(err)
	}
	table := map[string]string{}
	for _, m := range page {
		table[m.AccountID] = m.Remark
	}
	if fmt.Sprint(table) != fmt.Sprint(members) {
		t.Errorf("replaying the feed gives %v, the member table is %v", members, table)
	}
}

func testFeedInvalid(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, c := range []struct {
		dir   string
		after int64
		limit int
	}{{"", 0, 10}, {newDir(), -1, 10}, {newDir(), 0, 0}, {newDir(), 0, store.MaxListLimit + 1}} {
		_, _, _, err := s.ListChanges(ctx, c.dir, c.after, c.limit)
		if !apperr.IsKind(err, apperr.KindInvalid) {
			t.Errorf("ListChanges(%q, %d, %d) = %v, want a 400", c.dir, c.after, c.limit, err)
		}
	}
}
