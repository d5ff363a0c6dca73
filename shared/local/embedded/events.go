package embedded

import (
	"context"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/sase-multiaccount/backend/shared/port/store"
)

// Expired records are not swept: they are overwritten when the same key is
// claimed again. The embedded store serves a laptop, where the number of
// directory events is small; Tablestore expires them with a table TTL.

// ClaimEvent implements store.ProcessedEvents. A record counts as live while
// its expiry is after time.Now(); the check and the write are one
// transaction, so of concurrent claims exactly one succeeds.
func (s *Store) ClaimEvent(ctx context.Context, key string, expires time.Time) (claimed bool, err error) {
	if err := store.CheckEventKey(key); err != nil {
		return false, err
	}
	err = s.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketProcessed)
		if b == nil {
			return corrupt("bucket %s missing", bucketProcessed)
		}
		if v := b.Get([]byte(key)); v != nil {
			if len(v) != 8 {
				return corrupt("processed event %q: record of %d bytes", key, len(v))
			}
			if fromMs(parseOrderedMs(v)).After(time.Now()) {
				return nil
			}
		}
		claimed = true
		return b.Put([]byte(key), orderedMs(toMs(expires)))
	})
	if err != nil {
		return false, err
	}
	return claimed, nil
}

// ReleaseEvent implements store.ProcessedEvents; releasing a key that is not
// recorded is not an error.
func (s *Store) ReleaseEvent(ctx context.Context, key string) error {
	if err := store.CheckEventKey(key); err != nil {
		return err
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketProcessed)
		if b == nil {
			return corrupt("bucket %s missing", bucketProcessed)
		}
		return b.Delete([]byte(key))
	})
}
