package embedded

import (
	"fmt"
	"testing"
	"time"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/port/store"
)

// Entries older than the retention and a day go when a newer change is
// written; a cursor whose entry went while later ones were gone too is
// refused, one whose next entry is kept is not.
func TestFeedDropsExpiredEntries(t *testing.T) {
	s := openTemp(t)
	ctx, dir := t.Context(), "rd-feed"
	n := 0
	at := func(when time.Time) store.AuditOf {
		return func(before, after store.Member) store.AuditEvent {
			n++
			return store.AuditEvent{DirectoryID: dir, ID: fmt.Sprintf("%013d-%03d", when.UnixMilli(), n), Time: when,
				Action: "add-members", Target: after.AccountID}
		}
	}
	old := t0.Add(-store.FeedRetention - 48*time.Hour)
	for i := range 3 { // seq 1..3, expired by the time of seq 4
		if _, err := s.AddMembers(ctx, dir, []store.Member{testMember(fmt.Sprintf("10000000000000%02d", i), old)}, at(old)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.AddMembers(ctx, dir, []store.Member{testMember("1000000000000099", t0)}, at(t0)); err != nil {
		t.Fatal(err)
	}
	chs, next, _, err := s.ListChanges(ctx, dir, 0, 10)
	if err != nil || len(chs) != 1 || chs[0].Seq != 4 || next != 4 {
		t.Fatalf("from the oldest kept: %+v, %d, %v", chs, next, err)
	}
	_, _, _, err = s.ListChanges(ctx, dir, 1, 10)
	if e, ok := apperr.As(err); !ok || e.Code != apperr.InvalidParameter("Cursor") {
		t.Errorf("a cursor at an expired entry with lost ones after it: %v", err)
	}
	if chs, _, _, err := s.ListChanges(ctx, dir, 3, 10); err != nil || len(chs) != 1 {
		t.Errorf("a cursor whose next entry is kept: %+v, %v", chs, err)
	}
	if head, _ := s.FeedHead(ctx, dir); head != 4 {
		t.Errorf("head %d", head)
	}
}
