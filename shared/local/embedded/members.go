package embedded

import (
	"context"
	"encoding/binary"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/port/store"
)

// dirBuckets are the buckets of one directory's members.
type dirBuckets struct {
	dir, rows, byTime *bolt.Bucket
}

// openDir finds the directory's buckets; ok is false when the directory has
// never had a member, which readers treat as empty.
func openDir(tx *bolt.Tx, dirID string) (d dirBuckets, ok bool, err error) {
	root := tx.Bucket(bucketMembers)
	if root == nil {
		return d, false, corrupt("bucket %s missing", bucketMembers)
	}
	d.dir = root.Bucket([]byte(dirID))
	if d.dir == nil {
		return d, false, nil
	}
	d.rows, d.byTime = d.dir.Bucket(bucketRows), d.dir.Bucket(bucketByTime)
	if d.rows == nil || d.byTime == nil {
		return d, false, corrupt("directory %s: member buckets missing", dirID)
	}
	return d, true, nil
}

func createDir(tx *bolt.Tx, dirID string) (dirBuckets, error) {
	d, ok, err := openDir(tx, dirID)
	if err != nil || ok {
		return d, err
	}
	var e error
	if d.dir, e = tx.Bucket(bucketMembers).CreateBucketIfNotExists([]byte(dirID)); e != nil {
		return d, e
	}
	if d.rows, e = d.dir.CreateBucketIfNotExists(bucketRows); e != nil {
		return d, e
	}
	if d.byTime, e = d.dir.CreateBucketIfNotExists(bucketByTime); e != nil {
		return d, e
	}
	return d, nil
}

func readCount(d dirBuckets) (uint64, error) {
	v := d.dir.Get(keyCount)
	if v == nil {
		return 0, nil
	}
	if len(v) != 8 {
		return 0, corrupt("member count has %d bytes", len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}

// getMember reads and decodes one row; ok is false when it does not exist.
func getMember(d dirBuckets, dirID, accountID string) (m store.Member, ok bool, err error) {
	v := d.rows.Get([]byte(accountID))
	if v == nil {
		return m, false, nil
	}
	m, err = decodeMember(dirID, accountID, v)
	return m, err == nil, err
}

func putMember(d dirBuckets, m store.Member) error {
	v, err := encodeMember(m)
	if err != nil {
		return err
	}
	return d.rows.Put([]byte(m.AccountID), v)
}

// AddMembers implements store.Members. All items are written in one
// transaction: either every Added is durable or the call returns an error.
// The stored Version is 1 and DirectoryID is dirID whatever the input says;
// times are kept to the millisecond.
func (s *Store) AddMembers(ctx context.Context, dirID string, ms []store.Member, audit store.AuditOf) ([]store.AddResult, error) {
	if err := store.CheckDir(dirID); err != nil {
		return nil, err
	}
	results := make([]store.AddResult, len(ms))
	if len(ms) == 0 {
		return results, nil
	}
	err := s.update(ctx, func(tx *bolt.Tx) error {
		d, err := createDir(tx, dirID)
		if err != nil {
			return err
		}
		n, err := readCount(d)
		if err != nil {
			return err
		}
		for i, m := range ms {
			results[i] = store.AddResult{AccountID: m.AccountID}
			if err := store.CheckAccount(m.AccountID); err != nil {
				results[i].Status, results[i].Err = store.AddFailed, err
				continue
			}
			if d.rows.Get([]byte(m.AccountID)) != nil {
				results[i].Status = store.AlreadyExists
				continue
			}
			m.DirectoryID, m.Version = dirID, 1
			if err := putMember(d, m); err != nil {
				return err
			}
			if err := d.byTime.Put(timeKey(toMs(m.AddTime), m.AccountID), nil); err != nil {
				return err
			}
			if err := record(tx, audit, store.Member{}, m); err != nil {
				return err
			}
			results[i].Status = store.Added
			n++
		}
		if err := bumpVersion(d); err != nil {
			return err
		}
		return d.dir.Put(keyCount, encodeCount(n))
	})
	if err != nil {
		return nil, err
	}
	return results, nil
}

// GetMember implements store.Members.
func (s *Store) GetMember(ctx context.Context, dirID, accountID string) (store.Member, error) {
	if err := store.CheckMemberKey(dirID, accountID); err != nil {
		return store.Member{}, err
	}
	var m store.Member
	err := s.view(ctx, func(tx *bolt.Tx) error {
		d, ok, err := openDir(tx, dirID)
		if err != nil {
			return err
		}
		if ok {
			m, ok, err = getMember(d, dirID, accountID)
		}
		if err != nil {
			return err
		}
		if !ok {
			return store.MemberNotFound(dirID, accountID)
		}
		return nil
	})
	return m, err
}

// UpdateRemark implements store.Members.
func (s *Store) UpdateRemark(ctx context.Context, dirID, accountID, remark string, expectVersion int64, now time.Time, audit store.AuditOf) (before, after store.Member, err error) {
	if err := store.CheckMemberKey(dirID, accountID); err != nil {
		return before, after, err
	}
	if expectVersion < 0 {
		return before, after, apperr.Invalid("Version", "Version must be a positive number; got %d.", expectVersion)
	}
	err = s.update(ctx, func(tx *bolt.Tx) error {
		d, ok, err := openDir(tx, dirID)
		if err != nil {
			return err
		}
		if ok {
			before, ok, err = getMember(d, dirID, accountID)
		}
		if err != nil {
			return err
		}
		if !ok {
			return store.MemberNotFound(dirID, accountID)
		}
		if expectVersion != 0 && before.Version != expectVersion {
			return apperr.Conflict(apperr.CodeVersionConflict,
				"Member %s is at version %d, not %d: it was changed meanwhile. Reload it and try again.",
				accountID, before.Version, expectVersion)
		}
		after = before
		if remark == before.Remark {
			return nil // unchanged: same Version, no record
		}
		after.Remark, after.Version, after.UpdateTime = remark, before.Version+1, truncMs(now)
		// AddTime does not change, so the by_add_time index needs no update.
		if err := putMember(d, after); err != nil {
			return err
		}
		if err := bumpVersion(d); err != nil {
			return err
		}
		return record(tx, audit, before, after)
	})
	if err != nil {
		return store.Member{}, store.Member{}, err
	}
	return before, after, nil
}

// RenameMember implements store.Members. The port leaves two cases open; this
// is what both adapters do (the contract suite checks it):
//   - "newer" is strictly newer, to the millisecond: a redelivered event with
//     the same asOf changes nothing;
//   - a newer observation of the same name only advances NameTime (so that
//     older events stay ignored) and reports changed == false without bumping
//     Version, because nothing a user sees changed and a Version bump would
//     make a concurrent remark edit fail with Conflict.Version for nothing.
//
// A real rename bumps Version and moves UpdateTime to asOf unless UpdateTime
// is already later (UpdateTime never goes backwards).
func (s *Store) RenameMember(ctx context.Context, dirID, accountID, name string, asOf time.Time, audit store.AuditOf) (changed bool, err error) {
	if err := store.CheckMemberKey(dirID, accountID); err != nil {
		return false, err
	}
	asOf = truncMs(asOf)
	err = s.update(ctx, func(tx *bolt.Tx) error {
		d, ok, err := openDir(tx, dirID)
		if err != nil || !ok {
			return err
		}
		m, ok, err := getMember(d, dirID, accountID)
		if err != nil || !ok {
			return err
		}
		if !asOf.After(m.NameTime) {
			return nil
		}
		before := m
		m.NameTime = asOf
		if m.AccountName != name {
			m.AccountName = name
			m.Version++
			if asOf.After(m.UpdateTime) {
				m.UpdateTime = asOf
			}
			changed = true
		}
		if err := putMember(d, m); err != nil || !changed {
			return err
		}
		if err := bumpVersion(d); err != nil {
			return err
		}
		return record(tx, audit, before, m)
	})
	if err != nil {
		return false, err
	}
	return changed, nil
}

// DeleteMembers implements store.Members, in one transaction. A row that
// cannot be decoded is reported as Failed (Internal) and left in place; the
// other items are still deleted.
func (s *Store) DeleteMembers(ctx context.Context, dirID string, accountIDs []string, audit store.AuditOf) ([]store.DeleteResult, error) {
	if err := store.CheckDir(dirID); err != nil {
		return nil, err
	}
	results := make([]store.DeleteResult, len(accountIDs))
	if len(accountIDs) == 0 {
		return results, nil
	}
	err := s.update(ctx, func(tx *bolt.Tx) error {
		d, exists, err := openDir(tx, dirID)
		if err != nil {
			return err
		}
		var n uint64
		if exists {
			if n, err = readCount(d); err != nil {
				return err
			}
		}
		for i, id := range accountIDs {
			results[i] = store.DeleteResult{AccountID: id, Status: store.NotFound}
			if err := store.CheckAccount(id); err != nil {
				results[i].Status, results[i].Err = store.DeleteFailed, err
				continue
			}
			if !exists {
				continue
			}
			m, ok, err := getMember(d, dirID, id)
			if err != nil {
				results[i].Status, results[i].Err = store.DeleteFailed, apperr.Internal(err)
				continue
			}
			if !ok {
				continue
			}
			if err := d.rows.Delete([]byte(id)); err != nil {
				return err
			}
			if err := d.byTime.Delete(timeKey(toMs(m.AddTime), id)); err != nil {
				return err
			}
			if n == 0 {
				return corrupt("directory %s: member count below zero", dirID)
			}
			n--
			if err := record(tx, audit, m, store.Member{}); err != nil {
				return err
			}
			results[i].Status, results[i].Member = store.Deleted, m
		}
		if !exists {
			return nil
		}
		if err := bumpVersion(d); err != nil {
			return err
		}
		return d.dir.Put(keyCount, encodeCount(n))
	})
	if err != nil {
		return nil, err
	}
	return results, nil
}

// bumpVersion moves the directory's members version (store.MemberState),
// inside the change's transaction.
func bumpVersion(d dirBuckets) error {
	v, err := readVersion(d)
	if err != nil {
		return err
	}
	return d.dir.Put(keyMembersVersion, binary.BigEndian.AppendUint64(nil, uint64(v+1)))
}

func readVersion(d dirBuckets) (int64, error) {
	v := d.dir.Get(keyMembersVersion)
	switch len(v) {
	case 0:
		return 0, nil
	case 8:
		return int64(binary.BigEndian.Uint64(v)), nil
	default:
		return 0, corrupt("members version of %d bytes", len(v))
	}
}
