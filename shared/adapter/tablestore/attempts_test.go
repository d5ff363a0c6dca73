package tablestore

import (
	"testing"
	"time"

	"github.com/sase-multiaccount/backend/shared/port/store"
	"github.com/sase-multiaccount/backend/shared/testkit/otsfake"
)

// The poll reads every webhook once a second, so it leaves the recent
// requests (up to 20 small JSON columns and one list a row) out; the
// console's list reads them. Recording a delivery attempt is no extra
// request; a test is one BatchWriteRow with its audit record.
func TestPollLeavesAttemptsOut(t *testing.T) {
	e := newEnv(t, otsfake.Options{})
	s := e.open(t, nil)
	ctx, dir := t.Context(), "rd-attempts"
	w := store.Webhook{DirectoryID: dir, ID: "wh", Owner: acct(0), URL: "https://h.example.com/", Enabled: true,
		Types: store.ChangeTypes, CreateTime: t0, UpdateTime: t0, Secret: "sealed"}
	rec := store.AuditEvent{DirectoryID: dir, ID: "0000000000001-00001", Time: t0, Action: "put-webhook", Target: "wh"}
	if _, err := s.PutWebhook(ctx, store.WebhookWrite{Webhook: w, Record: rec}); err != nil {
		t.Fatal(err)
	}
	if err := s.AcquireWebhook(ctx, dir, "wh", "me", 0, 0, t0, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	e.counts()
	a := store.Attempt{Time: t0, ChangeID: "c-1", StatusCode: 204}
	d := store.Delivery{Cursor: 1, AttemptSeq: 1, LeaseOwner: "me", LeaseUntil: t0.Add(time.Minute)}
	if err := s.AdvanceWebhook(ctx, dir, "wh", store.Advance{Owner: "me", Version: 1, Delivery: d, Attempt: &a}); err != nil {
		t.Fatal(err)
	}
	if reads, writes := e.counts(); reads != 0 || writes != 1 {
		t.Errorf("an advance with its attempt made %d reads and %d writes, want 0 and 1", reads, writes)
	}
	hooks, _, err := s.AllWebhooks(ctx)
	if err != nil || len(hooks) != 1 {
		t.Fatalf("AllWebhooks = %+v, %v", hooks, err)
	}
	if h := hooks[0]; len(h.Recent) != 0 || h.Delivery.AttemptSeq != 1 || h.Secret != "sealed" || h.Delivery.Cursor != 1 {
		t.Errorf("the poll read %+v: want the settings and progress, not the attempts", h)
	}
	e.counts()
	rec.ID = "0000000000002-00001"
	if err := s.RecordWebhookTest(ctx, dir, "wh", []store.Attempt{{Time: t0, ChangeID: "test", StatusCode: 202}}, rec); err != nil {
		t.Fatal(err)
	}
	if reads, writes := e.counts(); reads != 0 || writes != 1 {
		t.Errorf("a test with its record made %d reads and %d writes, want 0 and 1", reads, writes)
	}
	list, err := s.ListWebhooks(ctx, dir)
	if err != nil || len(list) != 1 || len(list[0].Recent) != 1 || list[0].Recent[0].StatusCode != 204 || len(list[0].Tests) != 1 {
		t.Errorf("ListWebhooks = %+v, %v: want the attempt and the test", list, err)
	}
}
