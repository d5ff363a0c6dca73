package embedded

import (
	"bytes"
	"context"

	bolt "go.etcd.io/bbolt"

	"github.com/sase-multiaccount/backend/shared/port/store"
)

// AppendAudit implements store.Audit. Every event is validated before
// anything is written, and all are written in one transaction, so the call
// writes all events or none. An event whose ID already exists replaces it
// (IDs are unique by construction; a retried append is then harmless).
func (s *Store) AppendAudit(ctx context.Context, events []store.AuditEvent) error {
	if err := store.CheckAuditEvents(events); err != nil {
		return err
	}
	if len(events) == 0 {
		return nil
	}
	return s.update(ctx, func(tx *bolt.Tx) error { return putAudit(tx, events...) })
}

// putAudit writes audit events inside tx: AppendAudit, and every member
// change together with its record.
func putAudit(tx *bolt.Tx, events ...store.AuditEvent) error {
	root := tx.Bucket(bucketAudit)
	if root == nil {
		return corrupt("bucket %s missing", bucketAudit)
	}
	for _, e := range events {
		b, err := root.CreateBucketIfNotExists([]byte(e.DirectoryID))
		if err != nil {
			return err
		}
		v, err := encodeAudit(e)
		if err != nil {
			return err
		}
		if err := b.Put([]byte(e.ID), v); err != nil {
			return err
		}
		if err := indexTarget(tx, e); err != nil {
			return err
		}
	}
	return nil
}

// indexTarget adds e to its target's timeline (audit_by_target/<dir>/
// <target>|<id>, an empty value: the record itself stays in audit/).
func indexTarget(tx *bolt.Tx, e store.AuditEvent) error {
	if e.Target == "" {
		return nil
	}
	b, err := tx.Bucket(bucketTarget).CreateBucketIfNotExists([]byte(e.DirectoryID))
	if err != nil {
		return err
	}
	return b.Put([]byte(e.Target+"|"+e.ID), nil)
}

// ListAuditByTarget implements store.Audit: a backwards cursor walk over
// the target's keys from before, each record read from audit/.
func (s *Store) ListAuditByTarget(ctx context.Context, dirID, target string, limit int, before string) (events []store.AuditEvent, more bool, err error) {
	if err := store.CheckMemberKey(dirID, target); err != nil {
		return nil, false, err
	}
	if err := store.CheckLimit(limit); err != nil {
		return nil, false, err
	}
	err = s.view(ctx, func(tx *bolt.Tx) error {
		idx, recs := tx.Bucket(bucketTarget).Bucket([]byte(dirID)), tx.Bucket(bucketAudit).Bucket([]byte(dirID))
		if idx == nil || recs == nil {
			return nil
		}
		prefix := []byte(target + "|")
		upper := []byte(target + "}") // just past every key of the prefix
		if before != "" {
			upper = append(prefix[:len(prefix):len(prefix)], before...)
		}
		c := idx.Cursor()
		k, _ := c.Seek(upper)
		if k == nil {
			k, _ = c.Last()
		} else {
			k, _ = c.Prev()
		}
		for ; k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Prev() {
			if len(events) == limit {
				more = true
				return nil
			}
			id := string(k[len(prefix):])
			v := recs.Get([]byte(id))
			if v == nil {
				return corrupt("audit_by_target %s: record %s missing", dirID, id)
			}
			e, err := decodeAudit(dirID, id, v)
			if err != nil {
				return err
			}
			events = append(events, e)
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return events, more, nil
}

// record writes the audit record of one change inside the change's
// transaction; audit nil records nothing.
func record(tx *bolt.Tx, audit store.AuditOf, before, after store.Member) error {
	if audit == nil {
		return nil
	}
	ev := audit(before, after)
	if err := store.CheckAuditEvents([]store.AuditEvent{ev}); err != nil {
		return err
	}
	if err := putAudit(tx, ev); err != nil {
		return err
	}
	if t, m := store.ChangeOf(before, after); t != "" {
		return putChange(tx, ev, t, m) // the feed entry, in the same transaction (feed.go)
	}
	return nil
}

// ListAudit implements store.Audit: a backwards cursor walk from before.
func (s *Store) ListAudit(ctx context.Context, dirID string, limit int, before string) (events []store.AuditEvent, more bool, err error) {
	if err := store.CheckDir(dirID); err != nil {
		return nil, false, err
	}
	if err := store.CheckLimit(limit); err != nil {
		return nil, false, err
	}
	err = s.view(ctx, func(tx *bolt.Tx) error {
		root := tx.Bucket(bucketAudit)
		if root == nil {
			return corrupt("bucket %s missing", bucketAudit)
		}
		b := root.Bucket([]byte(dirID))
		if b == nil {
			return nil
		}
		var bound []byte
		if before != "" {
			bound = []byte(before)
		}
		events = make([]store.AuditEvent, 0, min(limit, 64))
		more, err = walk(b.Cursor(), true, bound, false, limit, func(k, v []byte) error {
			e, err := decodeAudit(dirID, string(k), v)
			events = append(events, e)
			return err
		})
		return err
	})
	if err != nil {
		return nil, false, err
	}
	return events, more, nil
}
