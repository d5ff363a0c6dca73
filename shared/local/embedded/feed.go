package embedded

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/sase-multiaccount/backend/shared/port/store"
)

// The membership change feed (store.Feed): feed/<dirID>/<seq> holds one
// change, seq an 8-byte big-endian number from the bucket's own sequence.
// The entry is written by record(), inside the transaction of the change
// and its audit record, and bbolt runs one write transaction at a time:
// the sequence is the commit order, without gaps.

var bucketFeed = []byte("feed")

// changeRec is a feed entry: the change and the member row it left; the
// audit record itself stays in audit/.
type changeRec struct {
	Type    store.ChangeType `json:"t"`
	EventID string           `json:"e"`
	Account string           `json:"i"`
	Written int64            `json:"w"` // ms, for the retention
	Name    string           `json:"n,omitempty"`
	Remark  string           `json:"r,omitempty"`
	Version int64            `json:"v"`
	AddTime int64            `json:"a"`
	AddedBy string           `json:"b,omitempty"`
}

// feedKeep is how long an entry stays: the port's retention and a day.
const feedKeep = store.FeedRetention + 24*time.Hour

// pruneBatch bounds the expired entries one write removes.
const pruneBatch = 100

func seqKey(n int64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, uint64(n))
	return b
}

// putChange appends the feed entry of ev's change inside tx and drops
// entries older than feedKeep.
func putChange(tx *bolt.Tx, ev store.AuditEvent, t store.ChangeType, m store.Member) error {
	root, err := tx.CreateBucketIfNotExists(bucketFeed)
	if err != nil {
		return err
	}
	b, err := root.CreateBucketIfNotExists([]byte(ev.DirectoryID))
	if err != nil {
		return err
	}
	seq, err := b.NextSequence()
	if err != nil {
		return err
	}
	v, err := json.Marshal(changeRec{Type: t, EventID: ev.ID, Account: m.AccountID, Written: toMs(ev.Time), Name: m.AccountName,
		Remark: m.Remark, Version: m.Version, AddTime: toMs(m.AddTime), AddedBy: m.AddedBy})
	if err != nil {
		return err
	}
	if err := b.Put(seqKey(int64(seq)), v); err != nil {
		return err
	}
	cutoff := toMs(ev.Time.Add(-feedKeep))
	var old [][]byte
	c := b.Cursor()
	for k, v := c.First(); k != nil && len(old) < pruneBatch; k, v = c.Next() {
		var r changeRec
		if json.Unmarshal(v, &r) != nil || r.Written >= cutoff {
			break
		}
		old = append(old, k)
	}
	for _, k := range old {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// ListChanges implements store.Feed: a cursor walk from after.
func (s *Store) ListChanges(ctx context.Context, dirID string, after int64, limit int) (changes []store.Change, next int64, more bool, err error) {
	if err := store.CheckFeedQuery(dirID, after, limit); err != nil {
		return nil, 0, false, err
	}
	next = after
	err = s.view(ctx, func(tx *bolt.Tx) error {
		b, recs := tx.Bucket(bucketFeed), tx.Bucket(bucketAudit).Bucket([]byte(dirID))
		if b = bucketOf(b, dirID); b == nil || recs == nil {
			return nil
		}
		c := b.Cursor()
		k, v := c.Seek(seqKey(max(after, 1)))
		if after > 0 && k != nil {
			switch at := int64(binary.BigEndian.Uint64(k)); {
			case at == after:
				k, v = c.Next()
			case at > after+1:
				return store.CursorExpired(dirID, after) // the entries after the cursor's own are gone too
			}
		}
		for ; k != nil; k, v = c.Next() {
			if len(changes) == limit {
				more = true
				return nil
			}
			ch, err := decodeChange(dirID, int64(binary.BigEndian.Uint64(k)), v, recs)
			if err != nil {
				return err
			}
			changes, next = append(changes, ch), ch.Seq
		}
		return nil
	})
	if err != nil {
		return nil, 0, false, err
	}
	return changes, next, more, nil
}

func bucketOf(root *bolt.Bucket, name string) *bolt.Bucket {
	if root == nil {
		return nil
	}
	return root.Bucket([]byte(name))
}

func decodeChange(dirID string, seq int64, v []byte, recs *bolt.Bucket) (store.Change, error) {
	var r changeRec
	if err := json.Unmarshal(v, &r); err != nil {
		return store.Change{}, corrupt("feed %s/%d: %v", dirID, seq, err)
	}
	av := recs.Get([]byte(r.EventID))
	if av == nil {
		return store.Change{}, corrupt("feed %s/%d: audit record %s missing", dirID, seq, r.EventID)
	}
	ev, err := decodeAudit(dirID, r.EventID, av)
	if err != nil {
		return store.Change{}, err
	}
	m := store.Member{DirectoryID: dirID, AccountID: r.Account, AccountName: r.Name, Remark: r.Remark,
		Version: r.Version, AddTime: fromMs(r.AddTime), AddedBy: r.AddedBy}
	return store.Change{Seq: seq, Type: r.Type, Member: m, Record: ev}, nil
}

// FeedHead implements store.Feed: the bucket's sequence.
func (s *Store) FeedHead(ctx context.Context, dirID string) (head int64, err error) {
	if err := store.CheckDir(dirID); err != nil {
		return 0, err
	}
	err = s.view(ctx, func(tx *bolt.Tx) error {
		if b := bucketOf(tx.Bucket(bucketFeed), dirID); b != nil {
			head = int64(b.Sequence())
		}
		return nil
	})
	return head, err
}
