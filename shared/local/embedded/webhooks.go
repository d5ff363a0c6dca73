package embedded

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/sase-multiaccount/backend/shared/port/store"
)

// Webhooks (store.Webhooks): webhooks/<dirID>/<webhookID> holds one
// webhook, its settings and its progress, as webhookRec.

var bucketWebhooks = []byte("webhooks")

type webhookRec struct {
	Owner            string             `json:"owner"`
	URL              string             `json:"url"`
	Description      string             `json:"desc,omitempty"`
	Types            []store.ChangeType `json:"types"`
	Enabled          bool               `json:"enabled"`
	CreateTime       int64              `json:"created"`
	UpdateTime       int64              `json:"updated"`
	Secret           string             `json:"secret"`
	OldSecret        string             `json:"old_secret,omitempty"`
	OldSecretExpires int64              `json:"old_secret_expires,omitempty"`
	Version          int64              `json:"version"`
	Cursor           int64              `json:"cursor"`
	LastDelivery     int64              `json:"last_delivery,omitempty"`
	LastStatus       string             `json:"last_status,omitempty"`
	LastError        string             `json:"last_error,omitempty"`
	Attempts         int                `json:"attempts,omitempty"`
	NextAttempt      int64              `json:"next_attempt,omitempty"`
	FailingSince     int64              `json:"failing_since,omitempty"`
	LeaseOwner       string             `json:"lease_owner,omitempty"`
	LeaseUntil       int64              `json:"lease_until,omitempty"`
	AttemptSeq       int64              `json:"attempt_seq,omitempty"`
	Recent           []attemptRec       `json:"recent,omitempty"` // newest first
	Tests            []attemptRec       `json:"tests,omitempty"`  // newest first
}

// attemptRec is a store.Attempt.
type attemptRec struct {
	Time       int64  `json:"t"`
	ChangeID   string `json:"c"`
	StatusCode int    `json:"s,omitempty"`
	Error      string `json:"e,omitempty"`
	DurationMs int64  `json:"d"`
}

func toAttemptRecs(as []store.Attempt) []attemptRec {
	out := make([]attemptRec, len(as))
	for i, a := range as {
		out[i] = attemptRec{Time: toMs(a.Time), ChangeID: a.ChangeID, StatusCode: a.StatusCode, Error: a.Error,
			DurationMs: a.Duration.Milliseconds()}
	}
	return out
}

func fromAttemptRecs(rs []attemptRec) []store.Attempt {
	out := make([]store.Attempt, len(rs))
	for i, r := range rs {
		out[i] = store.Attempt{Time: fromMs(r.Time), ChangeID: r.ChangeID, StatusCode: r.StatusCode, Error: r.Error,
			Duration: time.Duration(r.DurationMs) * time.Millisecond}
	}
	return out
}

func toRec(w store.Webhook) webhookRec {
	d := w.Delivery
	return webhookRec{Owner: w.Owner, URL: w.URL, Description: w.Description, Types: w.Types, Enabled: w.Enabled,
		CreateTime: msOrZero(w.CreateTime), UpdateTime: msOrZero(w.UpdateTime), Secret: w.Secret, OldSecret: w.OldSecret,
		OldSecretExpires: msOrZero(w.OldSecretExpires), Version: w.Version, Cursor: d.Cursor,
		LastDelivery: msOrZero(d.LastDeliveryTime), LastStatus: d.LastStatus, LastError: d.LastError, Attempts: d.Attempts,
		NextAttempt: msOrZero(d.NextAttempt), FailingSince: msOrZero(d.FailingSince), LeaseOwner: d.LeaseOwner,
		LeaseUntil: msOrZero(d.LeaseUntil), AttemptSeq: d.AttemptSeq, Recent: toAttemptRecs(w.Recent), Tests: toAttemptRecs(w.Tests)}
}

func (r webhookRec) webhook(dirID, id string) store.Webhook {
	return store.Webhook{DirectoryID: dirID, ID: id, Owner: r.Owner, URL: r.URL, Description: r.Description, Types: r.Types,
		Enabled: r.Enabled, CreateTime: timeOrZero(r.CreateTime), UpdateTime: timeOrZero(r.UpdateTime), Secret: r.Secret,
		OldSecret: r.OldSecret, OldSecretExpires: timeOrZero(r.OldSecretExpires), Version: r.Version,
		Delivery: store.Delivery{Cursor: r.Cursor, LastDeliveryTime: timeOrZero(r.LastDelivery), LastStatus: r.LastStatus,
			LastError: r.LastError, Attempts: r.Attempts, NextAttempt: timeOrZero(r.NextAttempt),
			FailingSince: timeOrZero(r.FailingSince), LeaseOwner: r.LeaseOwner, LeaseUntil: timeOrZero(r.LeaseUntil),
			AttemptSeq: r.AttemptSeq},
		Recent: fromAttemptRecs(r.Recent), Tests: fromAttemptRecs(r.Tests)}
}

// hooksOf is the directory's webhook bucket (nil when absent and !create).
func hooksOf(tx *bolt.Tx, dirID string, create bool) (*bolt.Bucket, error) {
	if !create {
		return bucketOf(tx.Bucket(bucketWebhooks), dirID), nil
	}
	root, err := tx.CreateBucketIfNotExists(bucketWebhooks)
	if err != nil {
		return nil, err
	}
	return root.CreateBucketIfNotExists([]byte(dirID))
}

func getHook(b *bolt.Bucket, dirID, id string) (webhookRec, bool, error) {
	var r webhookRec
	if b == nil {
		return r, false, nil
	}
	v := b.Get([]byte(id))
	if v == nil {
		return r, false, nil
	}
	if err := json.Unmarshal(v, &r); err != nil {
		return r, false, corrupt("webhook %s/%s: %v", dirID, id, err)
	}
	return r, true, nil
}

func putHook(b *bolt.Bucket, id string, r webhookRec) error {
	v, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return b.Put([]byte(id), v)
}

// ListWebhooks implements store.Webhooks.
func (s *Store) ListWebhooks(ctx context.Context, dirID string) (out []store.Webhook, err error) {
	if err := store.CheckDir(dirID); err != nil {
		return nil, err
	}
	err = s.view(ctx, func(tx *bolt.Tx) error {
		b, _ := hooksOf(tx, dirID, false)
		out, err = listHooks(b, dirID)
		return err
	})
	return out, err
}

func listHooks(b *bolt.Bucket, dirID string) ([]store.Webhook, error) {
	var out []store.Webhook
	if b == nil {
		return nil, nil
	}
	err := b.ForEach(func(k, v []byte) error {
		var r webhookRec
		if err := json.Unmarshal(v, &r); err != nil {
			return corrupt("webhook %s/%s: %v", dirID, k, err)
		}
		out = append(out, r.webhook(dirID, string(k)))
		return nil
	})
	return out, err
}

// AllWebhooks implements store.Webhooks.
func (s *Store) AllWebhooks(ctx context.Context) (hooks []store.Webhook, heads map[string]int64, err error) {
	heads = map[string]int64{}
	err = s.view(ctx, func(tx *bolt.Tx) error {
		if feed := tx.Bucket(bucketFeed); feed != nil {
			_ = feed.ForEachBucket(func(k []byte) error {
				heads[string(k)] = int64(feed.Bucket(k).Sequence())
				return nil
			})
		}
		root := tx.Bucket(bucketWebhooks)
		if root == nil {
			return nil
		}
		return root.ForEachBucket(func(k []byte) error {
			hs, err := listHooks(root.Bucket(k), string(k))
			hooks = append(hooks, hs...)
			return err
		})
	})
	if err != nil {
		return nil, nil, err
	}
	slices.SortFunc(hooks, func(a, b store.Webhook) int {
		return strings.Compare(a.DirectoryID+"\x00"+a.ID, b.DirectoryID+"\x00"+b.ID)
	})
	return hooks, heads, nil
}

// PutWebhook implements store.Webhooks: one transaction with the record.
func (s *Store) PutWebhook(ctx context.Context, w store.WebhookWrite) (out store.Webhook, err error) {
	h := w.Webhook
	if err := store.CheckWebhookKey(h.DirectoryID, h.ID); err != nil {
		return out, err
	}
	if err := store.CheckAuditEvents([]store.AuditEvent{w.Record}); err != nil {
		return out, err
	}
	err = s.update(ctx, func(tx *bolt.Tx) error {
		b, err := hooksOf(tx, h.DirectoryID, true)
		if err != nil {
			return err
		}
		cur, found, err := getHook(b, h.DirectoryID, h.ID)
		switch {
		case err != nil:
			return err
		case w.ExpectVersion == 0 && found:
			return store.WebhookConflict(h.ID, 0, cur.Version)
		case w.ExpectVersion != 0 && !found:
			return store.WebhookNotFound(h.DirectoryID, h.ID)
		case w.ExpectVersion != 0 && cur.Version != w.ExpectVersion:
			return store.WebhookConflict(h.ID, w.ExpectVersion, cur.Version)
		}
		next := toRec(h)
		next.Version = w.ExpectVersion + 1
		if found {
			keep := cur // the progress is the deliverer's
			next.CreateTime = keep.CreateTime
			next.Cursor, next.LastDelivery, next.LastStatus, next.LastError = keep.Cursor, keep.LastDelivery, keep.LastStatus, keep.LastError
			next.Attempts, next.NextAttempt, next.FailingSince = keep.Attempts, keep.NextAttempt, keep.FailingSince
			next.LeaseOwner, next.LeaseUntil = keep.LeaseOwner, keep.LeaseUntil
			next.AttemptSeq, next.Recent, next.Tests = keep.AttemptSeq, keep.Recent, keep.Tests
		}
		if w.ClearFailure {
			next.Attempts, next.NextAttempt, next.FailingSince = 0, 0, 0
		}
		if err := putHook(b, h.ID, next); err != nil {
			return err
		}
		out = next.webhook(h.DirectoryID, h.ID)
		return putAudit(tx, w.Record)
	})
	return out, err
}

// DeleteWebhook implements store.Webhooks.
func (s *Store) DeleteWebhook(ctx context.Context, dirID, id string, record store.AuditEvent) error {
	if err := store.CheckWebhookKey(dirID, id); err != nil {
		return err
	}
	if err := store.CheckAuditEvents([]store.AuditEvent{record}); err != nil {
		return err
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
		b, _ := hooksOf(tx, dirID, false)
		if _, found, err := getHook(b, dirID, id); err != nil || !found {
			if err == nil {
				err = store.WebhookNotFound(dirID, id)
			}
			return err
		}
		if err := b.Delete([]byte(id)); err != nil {
			return err
		}
		return putAudit(tx, record)
	})
}

// AcquireWebhook implements store.Webhooks.
func (s *Store) AcquireWebhook(ctx context.Context, dirID, id, owner string, cursor int64, attempts int, now, until time.Time) error {
	if err := store.CheckWebhookKey(dirID, id); err != nil {
		return err
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
		b, r, err := existingHook(tx, dirID, id)
		switch {
		case err != nil:
			return err
		case (r.LeaseOwner != owner && r.LeaseUntil >= toMs(now)) || r.Cursor != cursor || r.Attempts != attempts:
			return store.LeaseConflict(id)
		}
		r.LeaseOwner, r.LeaseUntil = owner, toMs(until)
		return putHook(b, id, r)
	})
}

// AdvanceWebhook implements store.Webhooks.
func (s *Store) AdvanceWebhook(ctx context.Context, dirID, id string, a store.Advance) error {
	if err := store.CheckWebhookKey(dirID, id); err != nil {
		return err
	}
	if a.Record != nil {
		if err := store.CheckAuditEvents([]store.AuditEvent{*a.Record}); err != nil {
			return err
		}
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
		b, r, err := existingHook(tx, dirID, id)
		switch {
		case err != nil:
			return err
		case r.LeaseOwner != a.Owner || r.Version != a.Version:
			return store.LeaseConflict(id)
		}
		w := r.webhook(dirID, id)
		w.Delivery = a.Delivery
		if a.Attempt != nil {
			w.Recent = append([]store.Attempt{*a.Attempt}, w.Recent[:min(len(w.Recent), store.RecentAttempts-1)]...)
		}
		if a.Disable {
			w.Enabled, w.Version = false, w.Version+1
			if a.Record != nil {
				w.UpdateTime = a.Record.Time
			}
		}
		if err := putHook(b, id, toRec(w)); err != nil {
			return err
		}
		if a.Record != nil {
			return putAudit(tx, *a.Record)
		}
		return nil
	})
}

// RecordWebhookTest implements store.Webhooks.
func (s *Store) RecordWebhookTest(ctx context.Context, dirID, id string, tests []store.Attempt, record store.AuditEvent) error {
	if err := store.CheckWebhookKey(dirID, id); err != nil {
		return err
	}
	if err := store.CheckAuditEvents([]store.AuditEvent{record}); err != nil {
		return err
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
		b, r, err := existingHook(tx, dirID, id)
		if err != nil {
			return err
		}
		r.Tests = toAttemptRecs(tests[:min(len(tests), store.RecentTests)])
		if err := putHook(b, id, r); err != nil {
			return err
		}
		return putAudit(tx, record)
	})
}

// existingHook reads a webhook a deliverer or test writes to: NotFound
// EntityNotExists.Webhook when absent.
func existingHook(tx *bolt.Tx, dirID, id string) (*bolt.Bucket, webhookRec, error) {
	b, _ := hooksOf(tx, dirID, false)
	r, found, err := getHook(b, dirID, id)
	if err == nil && !found {
		err = store.WebhookNotFound(dirID, id)
	}
	return b, r, err
}
