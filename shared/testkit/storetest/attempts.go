package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/port/store"
)

func attempt(i int) store.Attempt {
	a := store.Attempt{Time: base.Add(time.Duration(i) * time.Second), ChangeID: fmt.Sprintf("c-%d", i), StatusCode: 200,
		Duration: time.Duration(i) * time.Millisecond}
	if i%3 == 0 {
		a.StatusCode, a.Error = 0, "Timeout: no answer"
	}
	return a
}

func wantAttempts(t *testing.T, what string, got []store.Attempt, from, to int) {
	t.Helper()
	var want []store.Attempt
	for i := from; i >= to; i-- {
		want = append(want, attempt(i))
	}
	if len(got) != len(want) {
		t.Fatalf("%s: %d attempts, want %d: %+v", what, len(got), len(want), got)
	}
	for i := range want {
		if !got[i].Time.Equal(want[i].Time) || got[i].ChangeID != want[i].ChangeID || got[i].StatusCode != want[i].StatusCode ||
			got[i].Error != want[i].Error || got[i].Duration != want[i].Duration {
			t.Errorf("%s[%d] = %+v, want %+v", what, i, got[i], want[i])
		}
	}
}

func advanceWithAttempt(t *testing.T, s store.Store, dir string, i int, version int64) {
	t.Helper()
	d := store.Delivery{Cursor: int64(i), AttemptSeq: int64(i), LeaseOwner: "me", LeaseUntil: base.Add(time.Hour)}
	a := attempt(i)
	if err := s.AdvanceWebhook(t.Context(), dir, "wh", store.Advance{Owner: "me", Version: version, Delivery: d, Attempt: &a}); err != nil {
		t.Fatalf("advance %d: %v", i, err)
	}
}

func onlyHook(t *testing.T, s store.Store, dir string) store.Webhook {
	t.Helper()
	list, err := s.ListWebhooks(t.Context(), dir)
	if err != nil || len(list) != 1 {
		t.Fatalf("ListWebhooks = %+v, %v", list, err)
	}
	return list[0]
}

// The last RecentAttempts deliveries are kept, newest first, written with
// the progress; tests apart, by RecordWebhookTest; settings writes keep
// both.
func testWebhookAttempts(t *testing.T, s store.Store) {
	ctx, dir := t.Context(), newDir()
	putHook(t, s, hook(dir, "wh"), 0, hookRecord(dir, "put-webhook", 1))
	if err := s.AcquireWebhook(ctx, dir, "wh", "me", 0, 0, base, base.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= store.RecentAttempts+5; i++ {
		advanceWithAttempt(t, s, dir, i, 1)
	}
	last := store.RecentAttempts + 5
	w := onlyHook(t, s, dir)
	wantAttempts(t, "Recent", w.Recent, last, 6)
	if w.Delivery.AttemptSeq != int64(last) || len(w.Tests) != 0 {
		t.Errorf("AttemptSeq %d, Tests %+v", w.Delivery.AttemptSeq, w.Tests)
	}
	hooks, _, err := s.AllWebhooks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hooks {
		if h.DirectoryID == dir && h.Delivery.AttemptSeq != int64(last) {
			t.Errorf("AllWebhooks: AttemptSeq %d, want %d (the deliverer numbers on from it)", h.Delivery.AttemptSeq, last)
		}
	}
	// An advance without an attempt leaves them.
	d := w.Delivery
	d.Cursor++
	if err := s.AdvanceWebhook(ctx, dir, "wh", store.Advance{Owner: "me", Version: 1, Delivery: d}); err != nil {
		t.Fatal(err)
	}
	wantAttempts(t, "Recent after an advance without attempt", onlyHook(t, s, dir).Recent, last, 6)

	testWebhookTests(t, s, dir, last)
}

func testWebhookTests(t *testing.T, s store.Store, dir string, last int) {
	ctx := t.Context()
	var tests []store.Attempt
	for i := 107; i >= 100; i-- {
		tests = append(tests, attempt(i))
	}
	if err := s.RecordWebhookTest(ctx, dir, "wh", tests, hookRecord(dir, "test-webhook", 2)); err != nil {
		t.Fatal(err)
	}
	w := onlyHook(t, s, dir)
	wantAttempts(t, "Tests", w.Tests, 107, 107-store.RecentTests+1)
	if w.Version != 1 {
		t.Errorf("a test moved the version to %d", w.Version)
	}
	// Settings change: both kept, in the answer and in the store.
	w.Description = "changed"
	got := putHook(t, s, w, 1, hookRecord(dir, "put-webhook", 3))
	wantAttempts(t, "Recent after put", got.Recent, last, 6)
	wantAttempts(t, "Tests after put", got.Tests, 107, 103)
	// A delivery after a test keeps the test.
	advanceWithAttempt(t, s, dir, last+1, 2)
	w = onlyHook(t, s, dir)
	wantAttempts(t, "Recent after one more", w.Recent, last+1, 7)
	wantAttempts(t, "Tests after a delivery", w.Tests, 107, 103)
	err := s.RecordWebhookTest(ctx, dir, "none", tests, hookRecord(dir, "test-webhook", 4))
	wantErr(t, "record a test of a missing webhook", err, apperr.KindNotFound, apperr.CodeWebhookNotFound)
	trail, _, err := s.ListAudit(ctx, dir, 10, "")
	if err != nil || len(trail) != 3 {
		t.Errorf("trail %+v, %v: want the two puts and the test", trail, err)
	}
}
