// Package embedded is the bbolt adapter of the store port: one local file,
// used by `make run` and by tests. It keeps the same data shapes as the
// Tablestore adapter (DESIGN.md §4) and passes the same contract suite
// (testkit/storetest).
//
// File layout (bbolt buckets; every value is JSON unless noted):
//
//	meta/schema                              "1"
//	meta/generation                          8-byte big-endian directory generation
//	members/<dirID>/count                    8-byte big-endian member count (CountMembers is O(1))
//	members/<dirID>/members_version          8-byte big-endian, moved by every member change
//	members/<dirID>/rows/<accountID>         memberRec
//	members/<dirID>/by_add_time/<t><acct>    empty; t = 8-byte order-preserving AddTime ms
//	audit/<dirID>/<eventID>                  auditRec
//	audit_by_target/<dirID>/<target>|<id>    empty: a target's timeline
//	processed/<key>                          8-byte order-preserving expiry ms (swept every 256 marks)
//	mirror/<dirID>/accounts/<accountID>      "<join ms>\x00<folder>\x00<name>": the directory mirror
//	mirror/<dirID>/folders/<folderID>        mirrorFolderRec
//	mirror/<dirID>/marks                     mirrorMarksRec (last full sync, last handshake check)
//	policies/<dirID>                         policyRec: the enrollment policy
//	grants/<dirID>/<accountID>|<userID>      grantRec: a person's access role
//
// A member, policy or grant change and its audit record are written in one
// transaction, so a crash at any instant leaves both or neither.
//
// Listing walks a cursor over rows (AccountId order) or by_add_time (AddTime
// order), so a page costs O(page), not O(directory).
package embedded

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/port/store"
)

const (
	schemaVersion = "1"
	// lockTimeout bounds the wait for the file lock: a second server on the
	// same file should fail fast with a clear message instead of hanging.
	lockTimeout = time.Second
	// service names this adapter in apperr messages.
	service = "The embedded store"
)

var (
	bucketMeta      = []byte("meta")
	bucketMembers   = []byte("members")
	bucketAudit     = []byte("audit")
	bucketProcessed = []byte("processed")
	bucketTarget    = []byte("audit_by_target")
	bucketMirror    = []byte("mirror")
	bucketPolicies  = []byte("policies")
	bucketGrants    = []byte("grants")

	keySchema         = []byte("schema")
	keyGeneration     = []byte("generation")
	keyCount          = []byte("count")
	keyMembersVersion = []byte("members_version")
	bucketRows        = []byte("rows")
	bucketByTime      = []byte("by_add_time")
)

// Store is the bbolt-backed store.Store. It is safe for concurrent use: bbolt
// serialises write transactions and gives readers consistent snapshots.
type Store struct {
	db    *bolt.DB
	path  string
	marks atomic.Uint64 // MarkEventProcessed calls, for the sweep
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the store file at path. Parent directories
// are created with mode 0700 and the file with 0600, since it holds the
// audit trail. If another process holds the file, Open fails after about a
// second with an error that names the file.
func Open(path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("open embedded store: empty path")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open embedded store %s: create parent directory: %w", path, err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: lockTimeout})
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, fmt.Errorf("open embedded store %s: the file is locked by another process "+
				"(is another local server running?); gave up after %s: %w", path, lockTimeout, err)
		}
		return nil, fmt.Errorf("open embedded store %s: %w", path, err)
	}
	s := &Store{db: db, path: path}
	if err := s.init(); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open embedded store %s: %w", path, err)
	}
	return s, nil
}

// init creates the top-level buckets and checks the schema marker, so that a
// file written by an incompatible future layout is refused instead of being
// misread.
func (s *Store) init() error {
	return s.db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return fmt.Errorf("create bucket meta: %w", err)
		}
		switch v := meta.Get(keySchema); {
		case v == nil:
			if err := meta.Put(keySchema, []byte(schemaVersion)); err != nil {
				return fmt.Errorf("write schema version: %w", err)
			}
		case string(v) != schemaVersion:
			return fmt.Errorf("file has schema version %q, this build understands %q", v, schemaVersion)
		}
		for _, name := range [][]byte{bucketMembers, bucketAudit, bucketProcessed, bucketMirror, bucketPolicies, bucketGrants} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		if tx.Bucket(bucketTarget) == nil {
			// A file from before the timeline: index what it holds.
			if _, err := tx.CreateBucket(bucketTarget); err != nil {
				return fmt.Errorf("create bucket %s: %w", bucketTarget, err)
			}
			return backfillTargets(tx)
		}
		return nil
	})
}

// Close releases the file. Calls after Close fail with ServiceUnavailable.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close embedded store %s: %w", s.path, err)
	}
	return nil
}

// Path is the file the store lives in (for logs).
func (s *Store) Path() string { return s.path }

// view and update run fn in a read or write transaction after checking ctx
// (bbolt itself is not cancellable), and turn every error into an
// *apperr.Error: an *apperr.Error returned by fn passes through, a decoding
// failure (corruption) is Internal, anything else from bbolt (closed
// database, I/O) is Unavailable. A failed update is rolled back entirely.
func (s *Store) view(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return apperr.Unavailable(service, err)
	}
	return classify(s.db.View(fn))
}

func (s *Store) update(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return apperr.Unavailable(service, err)
	}
	return classify(s.db.Update(fn))
}

// errCorrupt marks data that cannot be decoded; it is a bug or a damaged
// file, not a transient condition.
var errCorrupt = errors.New("corrupt data in embedded store")

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errCorrupt, fmt.Sprintf(format, args...))
}

func classify(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := apperr.As(err); ok {
		return err
	}
	if errors.Is(err, errCorrupt) {
		return apperr.Internal(err)
	}
	return apperr.Unavailable(service, err)
}

// backfillTargets indexes every audit record of a file written before the
// audit_by_target bucket existed.
func backfillTargets(tx *bolt.Tx) error {
	return tx.Bucket(bucketAudit).ForEachBucket(func(dir []byte) error {
		b := tx.Bucket(bucketAudit).Bucket(dir)
		return b.ForEach(func(k, v []byte) error {
			e, err := decodeAudit(string(dir), string(k), v)
			if err != nil {
				return err
			}
			return indexTarget(tx, e)
		})
	})
}
