package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/port/store"
)

func hook(dir, id string) store.Webhook {
	return store.Webhook{DirectoryID: dir, ID: id, Owner: acct(0), URL: "https://hooks.example.com/" + id, Description: "d " + id,
		Types: []store.ChangeType{store.MemberAdded, store.MemberRemoved}, Enabled: true, CreateTime: base, UpdateTime: base,
		Secret: "sealed-" + id}
}

func hookRecord(dir, action string, i int) store.AuditEvent {
	e := auditEvent(dir, i)
	e.Action, e.Target = action, "wh"
	return e
}

func putHook(t *testing.T, s store.Store, w store.Webhook, expect int64, rec store.AuditEvent) store.Webhook {
	t.Helper()
	got, err := s.PutWebhook(t.Context(), store.WebhookWrite{Webhook: w, ExpectVersion: expect, Record: rec})
	if err != nil {
		t.Fatalf("PutWebhook %s at %d: %v", w.ID, expect, err)
	}
	return got
}

func testWebhooks(t *testing.T, s store.Store) {
	ctx, dir := t.Context(), newDir()
	w := hook(dir, "wh-b")
	w.Delivery.Cursor = 5 // where delivery starts
	got := putHook(t, s, w, 0, hookRecord(dir, "put-webhook", 1))
	if got.Version != 1 || got.Delivery.Cursor != 5 || got.URL != w.URL || got.Owner != acct(0) || !slices.Equal(got.Types, w.Types) || got.Secret != w.Secret {
		t.Fatalf("created %+v", got)
	}
	_, err := s.PutWebhook(ctx, store.WebhookWrite{Webhook: w, Record: hookRecord(dir, "put-webhook", 2)})
	wantErr(t, "create an existing ID", err, apperr.KindConflict, apperr.CodeVersionConflict)
	putHook(t, s, hook(dir, "wh-a"), 0, hookRecord(dir, "put-webhook", 3))

	// The deliverer's progress survives a change of settings.
	if err := s.AcquireWebhook(ctx, dir, "wh-b", "me", 5, 0, base, base.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	prog := store.Delivery{Cursor: 9, LastStatus: "500", Attempts: 2, FailingSince: base, NextAttempt: base.Add(time.Minute), LeaseOwner: "me", LeaseUntil: base.Add(time.Minute)}
	if err := s.AdvanceWebhook(ctx, dir, "wh-b", store.Advance{Owner: "me", Version: 1, Delivery: prog}); err != nil {
		t.Fatal(err)
	}
	w.URL, w.Enabled = "https://other.example.com/x", false
	got = putHook(t, s, w, 1, hookRecord(dir, "put-webhook", 4))
	if got.Version != 2 || got.Delivery.Cursor != 9 || got.Delivery.Attempts != 2 || got.Enabled || got.URL != w.URL {
		t.Errorf("after an update: %+v", got)
	}
	_, err = s.PutWebhook(ctx, store.WebhookWrite{Webhook: w, ExpectVersion: 1, Record: hookRecord(dir, "put-webhook", 5)})
	wantErr(t, "update at a stale version", err, apperr.KindConflict, apperr.CodeVersionConflict)
	w.Enabled = true
	got, err = s.PutWebhook(ctx, store.WebhookWrite{Webhook: w, ExpectVersion: 2, ClearFailure: true, Record: hookRecord(dir, "put-webhook", 6)})
	if err != nil || got.Delivery.Attempts != 0 || !got.Delivery.FailingSince.IsZero() || !got.Delivery.NextAttempt.IsZero() || got.Delivery.Cursor != 9 {
		t.Errorf("enabled again: %+v, %v", got.Delivery, err)
	}

	list, err := s.ListWebhooks(ctx, dir)
	if err != nil || len(list) != 2 || list[0].ID != "wh-a" || list[1].ID != "wh-b" || list[1].Version != 3 {
		t.Fatalf("ListWebhooks = %+v, %v", list, err)
	}
	if err := s.DeleteWebhook(ctx, dir, "wh-a", hookRecord(dir, "delete-webhook", 7)); err != nil {
		t.Fatal(err)
	}
	err = s.DeleteWebhook(ctx, dir, "wh-a", hookRecord(dir, "delete-webhook", 8))
	wantErr(t, "delete a missing webhook", err, apperr.KindNotFound, apperr.CodeWebhookNotFound)
	_, err = s.PutWebhook(ctx, store.WebhookWrite{Webhook: hook(dir, "wh-a"), ExpectVersion: 1, Record: hookRecord(dir, "put-webhook", 9)})
	wantErr(t, "update a missing webhook", err, apperr.KindNotFound, apperr.CodeWebhookNotFound)
	if list, _ := s.ListWebhooks(ctx, dir); len(list) != 1 {
		t.Errorf("after delete: %+v", list)
	}
	// Each change wrote its record (the failed ones none).
	trail, _, err := s.ListAudit(ctx, dir, 100, "")
	if err != nil {
		t.Fatal(err)
	}
	var recs []string
	for _, e := range trail {
		recs = append(recs, e.RequestID)
	}
	slices.Sort(recs)
	if want := []string{"req-1", "req-3", "req-4", "req-6", "req-7"}; !slices.Equal(recs, want) {
		t.Errorf("records %v, want %v", recs, want)
	}
}

func testWebhookLease(t *testing.T, s store.Store) {
	ctx, dir := t.Context(), newDir()
	putHook(t, s, hook(dir, "wh"), 0, hookRecord(dir, "put-webhook", 1))
	t0 := base
	if err := s.AcquireWebhook(ctx, dir, "wh", "a", 0, 0, t0, t0.Add(30*time.Second)); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "acquire a held lease", s.AcquireWebhook(ctx, dir, "wh", "b", 0, 0, t0.Add(time.Second), t0.Add(time.Minute)),
		apperr.KindConflict, apperr.CodeWebhookBusy)
	if err := s.AcquireWebhook(ctx, dir, "wh", "a", 0, 0, t0.Add(time.Second), t0.Add(time.Minute)); err != nil {
		t.Errorf("the owner renews: %v", err)
	}
	step := store.Delivery{Cursor: 1, LastStatus: "200", LastDeliveryTime: t0, LeaseOwner: "a", LeaseUntil: t0.Add(time.Minute)}
	if err := s.AdvanceWebhook(ctx, dir, "wh", store.Advance{Owner: "a", Version: 1, Delivery: step}); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "advance by another", s.AdvanceWebhook(ctx, dir, "wh", store.Advance{Owner: "b", Version: 1, Delivery: step}),
		apperr.KindConflict, apperr.CodeWebhookBusy)
	wantErr(t, "advance at a stale version", s.AdvanceWebhook(ctx, dir, "wh", store.Advance{Owner: "a", Version: 7, Delivery: step}),
		apperr.KindConflict, apperr.CodeWebhookBusy)
	// Expired: b takes over at the cursor it read; a's late advance fails.
	wantErr(t, "acquire at a stale cursor", s.AcquireWebhook(ctx, dir, "wh", "b", 0, 0, t0.Add(2*time.Minute), t0.Add(3*time.Minute)),
		apperr.KindConflict, apperr.CodeWebhookBusy)
	if err := s.AcquireWebhook(ctx, dir, "wh", "b", 1, 0, t0.Add(2*time.Minute), t0.Add(3*time.Minute)); err != nil {
		t.Fatalf("acquire an expired lease: %v", err)
	}
	wantErr(t, "advance after losing the lease", s.AdvanceWebhook(ctx, dir, "wh", store.Advance{Owner: "a", Version: 1, Delivery: step}),
		apperr.KindConflict, apperr.CodeWebhookBusy)
	// b's attempt fails and gives the lease up: a deliverer whose poll read
	// the webhook before that failure may not take it (it would resend at
	// once, skipping the backoff); one that read the failure may.
	failed := store.Delivery{Cursor: 1, LastStatus: "503", LastDeliveryTime: t0.Add(2 * time.Minute), Attempts: 1,
		NextAttempt: t0.Add(2*time.Minute + 5*time.Second)}
	if err := s.AdvanceWebhook(ctx, dir, "wh", store.Advance{Owner: "b", Version: 1, Delivery: failed}); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "acquire with the attempts of a stale poll", s.AcquireWebhook(ctx, dir, "wh", "c", 1, 0, t0.Add(4*time.Minute), t0.Add(5*time.Minute)),
		apperr.KindConflict, apperr.CodeWebhookBusy)
	if err := s.AcquireWebhook(ctx, dir, "wh", "b", 1, 1, t0.Add(4*time.Minute), t0.Add(5*time.Minute)); err != nil {
		t.Fatalf("acquire after the failure it read: %v", err)
	}
	// Disabled by the deliverer, with its record, in one unit.
	rec := hookRecord(dir, "deliver-webhooks", 2)
	off := store.Delivery{Cursor: 1, FailingSince: t0, LastStatus: "Timeout"}
	if err := s.AdvanceWebhook(ctx, dir, "wh", store.Advance{Owner: "b", Version: 1, Delivery: off, Disable: true, Record: &rec}); err != nil {
		t.Fatal(err)
	}
	list, err := s.ListWebhooks(ctx, dir)
	if err != nil || len(list) != 1 || list[0].Enabled || list[0].Version != 2 || list[0].Delivery.LastStatus != "Timeout" || list[0].Delivery.LeaseOwner != "" {
		t.Errorf("disabled: %+v, %v", list, err)
	}
	if trail, _, _ := s.ListAudit(ctx, dir, 10, ""); len(trail) != 2 || trail[0].ID != rec.ID {
		t.Errorf("trail %+v: want the disable record", trail)
	}
	wantErr(t, "acquire a missing webhook", s.AcquireWebhook(ctx, dir, "nope", "a", 0, 0, t0, t0),
		apperr.KindNotFound, apperr.CodeWebhookNotFound)
}

func testAllWebhooks(t *testing.T, s store.Store) {
	ctx := t.Context()
	d1, d2 := newDir(), newDir()
	putHook(t, s, hook(d1, "x"), 0, hookRecord(d1, "put-webhook", 1))
	putHook(t, s, hook(d2, "y"), 0, hookRecord(d2, "put-webhook", 2))
	putHook(t, s, hook(d2, "z"), 0, hookRecord(d2, "put-webhook", 3))
	if _, err := s.AddMembers(ctx, d2, []store.Member{member(1, base), member(2, base)}, feedRecorder(d2, "add-members")); err != nil {
		t.Fatal(err)
	}
	hooks, heads, err := s.AllWebhooks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var mine []string
	for _, h := range hooks {
		if h.DirectoryID == d1 || h.DirectoryID == d2 {
			mine = append(mine, h.DirectoryID+"/"+h.ID)
		}
	}
	slices.Sort(mine)
	want := []string{d1 + "/x", d2 + "/y", d2 + "/z"}
	slices.Sort(want)
	if !slices.Equal(mine, want) {
		t.Errorf("AllWebhooks = %v, want %v", mine, want)
	}
	head, _ := s.FeedHead(ctx, d2)
	if heads[d2] != head || head < 2 || heads[d1] != 0 {
		t.Errorf("heads %v (d2 head %d)", heads, head)
	}
}
