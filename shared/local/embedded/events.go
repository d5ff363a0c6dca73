package embedded

import (
	"context"
	"encoding/binary"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/sase-multiaccount/backend/shared/port/store"
)

// sweepEvery is how many marks pass between sweeps of expired marks, so
// that the bucket stays as small as Tablestore's TTL keeps its table.
const sweepEvery = 256

// EventProcessed implements store.ProcessedEvents: a mark counts while its
// expiry is after time.Now().
func (s *Store) EventProcessed(ctx context.Context, key string) (bool, error) {
	if err := store.CheckEventKey(key); err != nil {
		return false, err
	}
	var live bool
	err := s.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketProcessed)
		if b == nil {
			return corrupt("bucket %s missing", bucketProcessed)
		}
		exp, ok, err := expiry(b, []byte(key))
		live = ok && exp.After(time.Now())
		return err
	})
	return live, err
}

// MarkEventProcessed implements store.ProcessedEvents. Every sweepEvery
// marks it also deletes the expired ones, in the same transaction.
func (s *Store) MarkEventProcessed(ctx context.Context, key string, expires time.Time) error {
	if err := store.CheckEventKey(key); err != nil {
		return err
	}
	sweep := s.marks.Add(1)%sweepEvery == 0
	return s.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketProcessed)
		if b == nil {
			return corrupt("bucket %s missing", bucketProcessed)
		}
		if sweep {
			if err := sweepExpired(b, time.Now()); err != nil {
				return err
			}
		}
		return b.Put([]byte(key), orderedMs(toMs(expires)))
	})
}

// sweepExpired deletes every mark that expired before now.
func sweepExpired(b *bolt.Bucket, now time.Time) error {
	var old [][]byte
	err := b.ForEach(func(k, v []byte) error {
		if len(v) == 8 && !fromMs(parseOrderedMs(v)).After(now) {
			old = append(old, append([]byte(nil), k...))
		}
		return nil
	})
	for _, k := range old {
		if err == nil {
			err = b.Delete(k)
		}
	}
	return err
}

func expiry(b *bolt.Bucket, key []byte) (time.Time, bool, error) {
	v := b.Get(key)
	if v == nil {
		return time.Time{}, false, nil
	}
	if len(v) != 8 {
		return time.Time{}, false, corrupt("processed event %q: record of %d bytes", key, len(v))
	}
	return fromMs(parseOrderedMs(v)), true, nil
}

// Generation implements store.Generations.
func (s *Store) Generation(ctx context.Context) (int64, error) {
	var g int64
	err := s.view(ctx, func(tx *bolt.Tx) error {
		var err error
		g, err = readGeneration(tx)
		return err
	})
	return g, err
}

// BumpGeneration implements store.Generations.
func (s *Store) BumpGeneration(ctx context.Context) (int64, error) {
	var g int64
	err := s.update(ctx, func(tx *bolt.Tx) error {
		var err error
		if g, err = readGeneration(tx); err != nil {
			return err
		}
		g++
		return tx.Bucket(bucketMeta).Put(keyGeneration, binary.BigEndian.AppendUint64(nil, uint64(g)))
	})
	return g, err
}

func readGeneration(tx *bolt.Tx) (int64, error) {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		return 0, corrupt("bucket %s missing", bucketMeta)
	}
	v := meta.Get(keyGeneration)
	switch len(v) {
	case 0:
		return 0, nil
	case 8:
		return int64(binary.BigEndian.Uint64(v)), nil
	default:
		return 0, corrupt("generation of %d bytes", len(v))
	}
}
