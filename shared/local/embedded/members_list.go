package embedded

import (
	"bytes"
	"context"

	bolt "go.etcd.io/bbolt"

	"github.com/sase-multiaccount/backend/shared/port/store"
)

// ListMembers implements store.Members: one cursor walk of q.Limit+1 keys.
func (s *Store) ListMembers(ctx context.Context, dirID string, q store.ListQuery) (ms []store.Member, more bool, err error) {
	if err := store.CheckDir(dirID); err != nil {
		return nil, false, err
	}
	if err := store.CheckListQuery(q); err != nil {
		return nil, false, err
	}
	err = s.view(ctx, func(tx *bolt.Tx) error {
		d, ok, err := openDir(tx, dirID)
		if err != nil || !ok {
			return err
		}
		ms = make([]store.Member, 0, min(q.Limit, 64))
		if q.SortBy == store.SortByAccountID {
			var bound []byte
			if q.After != nil {
				bound = []byte(q.After.AccountID)
			}
			more, err = walk(d.rows.Cursor(), q.Desc, bound, false, q.Limit, func(k, v []byte) error {
				m, err := decodeMember(dirID, string(k), v)
				ms = append(ms, m)
				return err
			})
			return err
		}
		var bound []byte
		inclusive := false
		if p := q.After; p != nil {
			at := toMs(p.AddTime)
			if fromMs(at).Equal(p.AddTime) {
				bound = timeKey(at, p.AccountID)
			} else {
				// The position falls between two milliseconds: it is after
				// every key of ms and before every key of ms+1, whatever its
				// AccountID.
				bound, inclusive = msBound(at), !q.Desc
			}
		}
		more, err = walk(d.byTime.Cursor(), q.Desc, bound, inclusive, q.Limit, func(k, _ []byte) error {
			if len(k) <= 8 {
				return corrupt("directory %s: index key of %d bytes", dirID, len(k))
			}
			id := string(k[8:])
			m, ok, err := getMember(d, dirID, id)
			if err == nil && !ok {
				err = corrupt("directory %s: index names missing member %s", dirID, id)
			}
			ms = append(ms, m)
			return err
		})
		return err
	})
	if err != nil {
		return nil, false, err
	}
	return ms, more, nil
}

// walk visits up to limit entries of c in the given direction, starting
// strictly after bound (at bound when inclusive), or at the first entry when
// bound is nil; more reports whether another entry follows.
func walk(c *bolt.Cursor, desc bool, bound []byte, inclusive bool, limit int, visit func(k, v []byte) error) (more bool, err error) {
	var k, v []byte
	switch {
	case bound == nil && !desc:
		k, v = c.First()
	case bound == nil:
		k, v = c.Last()
	case !desc:
		k, v = c.Seek(bound)
		if !inclusive && k != nil && bytes.Equal(k, bound) {
			k, v = c.Next()
		}
	default:
		// Seek lands on the first key >= bound; in descending order the
		// walk starts at the key before it, unless it is bound itself and
		// bound is included.
		k, v = c.Seek(bound)
		if k == nil {
			k, v = c.Last()
		} else if !inclusive || !bytes.Equal(k, bound) {
			k, v = c.Prev()
		}
	}
	step := c.Next
	if desc {
		step = c.Prev
	}
	for n := 0; k != nil; k, v = step() {
		if n == limit {
			return true, nil
		}
		if err := visit(k, v); err != nil {
			return false, err
		}
		n++
	}
	return false, nil
}

// CountMembers implements store.Members from the per-directory counter.
func (s *Store) CountMembers(ctx context.Context, dirID string) (int, error) {
	n, _, err := s.MemberState(ctx, dirID)
	return n, err
}

// MemberState implements store.Members: one read transaction.
func (s *Store) MemberState(ctx context.Context, dirID string) (int, int64, error) {
	if err := store.CheckDir(dirID); err != nil {
		return 0, 0, err
	}
	var n uint64
	var v int64
	err := s.view(ctx, func(tx *bolt.Tx) error {
		d, ok, err := openDir(tx, dirID)
		if err != nil || !ok {
			return err
		}
		if n, err = readCount(d); err != nil {
			return err
		}
		v, err = readVersion(d)
		return err
	})
	return int(n), v, err
}
