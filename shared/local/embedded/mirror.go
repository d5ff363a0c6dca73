package embedded

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/sase-multiaccount/backend/shared/port/store"
)

// The directory mirror: one bucket per directory under mirror/, holding an
// accounts bucket, a folders bucket and the marks key. A read is one
// transaction; writes are idempotent puts and deletes.

var (
	bucketMirrorAccounts = []byte("accounts")
	bucketMirrorFolders  = []byte("folders")
	keyMirrorMarks       = []byte("marks")
)

type mirrorFolderRec struct {
	Name     string `json:"name"`
	ParentID string `json:"parent_id"`
}

type mirrorMarksRec struct {
	SyncTime      int64 `json:"sync_time,omitempty"`
	HandshakeTime int64 `json:"handshake_time,omitempty"`
	Version       int64 `json:"version,omitempty"`
}

func msOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return toMs(t)
}

func timeOrZero(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return fromMs(ms)
}

// mirrorDir returns the directory's mirror buckets, creating them when
// create is set; nil when absent and not created.
func mirrorDir(tx *bolt.Tx, dirID string, create bool) (d, accounts, folders *bolt.Bucket, err error) {
	root := tx.Bucket(bucketMirror)
	if root == nil {
		return nil, nil, nil, corrupt("bucket %s missing", bucketMirror)
	}
	if !create {
		d = root.Bucket([]byte(dirID))
		if d == nil {
			return nil, nil, nil, nil
		}
		accounts, folders = d.Bucket(bucketMirrorAccounts), d.Bucket(bucketMirrorFolders)
		if accounts == nil || folders == nil {
			return nil, nil, nil, corrupt("mirror of %s lacks a bucket", dirID)
		}
		return d, accounts, folders, nil
	}
	if d, err = root.CreateBucketIfNotExists([]byte(dirID)); err != nil {
		return nil, nil, nil, err
	}
	if accounts, err = d.CreateBucketIfNotExists(bucketMirrorAccounts); err != nil {
		return nil, nil, nil, err
	}
	if folders, err = d.CreateBucketIfNotExists(bucketMirrorFolders); err != nil {
		return nil, nil, nil, err
	}
	return d, accounts, folders, nil
}

func readMarks(d *bolt.Bucket) (store.MirrorMarks, error) {
	v := d.Get(keyMirrorMarks)
	if v == nil {
		return store.MirrorMarks{}, nil
	}
	var r mirrorMarksRec
	if err := json.Unmarshal(v, &r); err != nil {
		return store.MirrorMarks{}, corrupt("mirror marks: %v", err)
	}
	return store.MirrorMarks{SyncTime: timeOrZero(r.SyncTime), HandshakeTime: timeOrZero(r.HandshakeTime), Version: r.Version}, nil
}

// writeMarks stores m with the next version: every mirror write goes
// through it (bumpMirror), in the write's transaction.
func writeMarks(d *bolt.Bucket, m store.MirrorMarks) error {
	v, err := json.Marshal(mirrorMarksRec{SyncTime: msOrZero(m.SyncTime), HandshakeTime: msOrZero(m.HandshakeTime), Version: m.Version + 1})
	if err != nil {
		return err
	}
	return d.Put(keyMirrorMarks, v)
}

// ReadMirror implements store.DirectoryMirror: one read transaction.
func (s *Store) ReadMirror(ctx context.Context, dirID string) (store.Mirror, error) {
	var m store.Mirror
	if err := store.CheckDir(dirID); err != nil {
		return m, err
	}
	err := s.view(ctx, func(tx *bolt.Tx) error {
		d, accounts, folders, err := mirrorDir(tx, dirID, false)
		if err != nil || d == nil {
			return err
		}
		if m.Marks, err = readMarks(d); err != nil {
			return err
		}
		m.Accounts = make([]store.MirrorAccount, 0, accounts.Stats().KeyN)
		err = accounts.ForEach(func(k, v []byte) error {
			a, err := decodeAccount(k, v)
			m.Accounts = append(m.Accounts, a)
			return err
		})
		if err != nil {
			return err
		}
		return folders.ForEach(func(k, v []byte) error {
			var r mirrorFolderRec
			if err := json.Unmarshal(v, &r); err != nil {
				return corrupt("mirror folder %s: %v", k, err)
			}
			m.Folders = append(m.Folders, store.MirrorFolder{ID: string(k), Name: r.Name, ParentID: r.ParentID})
			return nil
		})
	})
	return m, err
}

// An account record is "<join ms>\x00<folder>\x00<display name>": a
// mirror read decodes 10,000 of them, which JSON made the slowest part of
// a candidates page (RD forbids NUL in both strings).
func putAccount(b *bolt.Bucket, a store.MirrorAccount) error {
	v := make([]byte, 0, 24+len(a.FolderID)+len(a.DisplayName))
	v = strconv.AppendInt(v, msOrZero(a.JoinTime), 10)
	v = append(v, 0)
	v = append(v, a.FolderID...)
	v = append(v, 0)
	v = append(v, a.DisplayName...)
	return b.Put([]byte(a.AccountID), v)
}

func decodeAccount(k, v []byte) (store.MirrorAccount, error) {
	ms, rest, ok1 := bytes.Cut(v, []byte{0})
	folder, name, ok2 := bytes.Cut(rest, []byte{0})
	n, err := strconv.ParseInt(string(ms), 10, 64)
	if !ok1 || !ok2 || err != nil {
		return store.MirrorAccount{}, corrupt("mirror account %s: record %q", k, v)
	}
	return store.MirrorAccount{AccountID: string(k), DisplayName: string(name), FolderID: string(folder), JoinTime: timeOrZero(n)}, nil
}

func putFolder(b *bolt.Bucket, f store.MirrorFolder) error {
	v, err := json.Marshal(mirrorFolderRec{Name: f.Name, ParentID: f.ParentID})
	if err != nil {
		return err
	}
	return b.Put([]byte(f.ID), v)
}

// deleteMissing deletes every key of b that keep lacks.
func deleteMissing(b *bolt.Bucket, keep map[string]bool) error {
	var gone [][]byte
	if err := b.ForEach(func(k, _ []byte) error {
		if !keep[string(k)] {
			gone = append(gone, append([]byte(nil), k...))
		}
		return nil
	}); err != nil {
		return err
	}
	for _, k := range gone {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// ReplaceMirror implements store.DirectoryMirror: one write transaction.
func (s *Store) ReplaceMirror(ctx context.Context, dirID string, m store.Mirror) error {
	if err := store.CheckMirrorAccounts(dirID, m.Accounts); err != nil {
		return err
	}
	for _, f := range m.Folders {
		if err := store.CheckMirrorFolder(dirID, f.ID); err != nil {
			return err
		}
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
		d, accounts, folders, err := mirrorDir(tx, dirID, true)
		if err != nil {
			return err
		}
		keepA, keepF := map[string]bool{}, map[string]bool{}
		for _, a := range m.Accounts {
			keepA[a.AccountID] = true
			if err := putAccount(accounts, a); err != nil {
				return err
			}
		}
		for _, f := range m.Folders {
			keepF[f.ID] = true
			if err := putFolder(folders, f); err != nil {
				return err
			}
		}
		if err := deleteMissing(accounts, keepA); err != nil {
			return err
		}
		if err := deleteMissing(folders, keepF); err != nil {
			return err
		}
		marks, err := readMarks(d)
		if err != nil {
			return err
		}
		marks.SyncTime = m.Marks.SyncTime
		return writeMarks(d, marks)
	})
}

// PutMirrorAccounts implements store.DirectoryMirror.
func (s *Store) PutMirrorAccounts(ctx context.Context, dirID string, accs []store.MirrorAccount) error {
	if err := store.CheckMirrorAccounts(dirID, accs); err != nil {
		return err
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
		_, accounts, _, err := mirrorDir(tx, dirID, true)
		if err != nil {
			return err
		}
		for _, a := range accs {
			if err := putAccount(accounts, a); err != nil {
				return err
			}
		}
		return bumpMirror(tx, dirID)
	})
}

// bumpMirror moves the mirror's version (store.MirrorMarks.Version).
func bumpMirror(tx *bolt.Tx, dirID string) error {
	d, _, _, err := mirrorDir(tx, dirID, true)
	if err != nil {
		return err
	}
	marks, err := readMarks(d)
	if err != nil {
		return err
	}
	return writeMarks(d, marks)
}

// DeleteMirrorAccount implements store.DirectoryMirror.
func (s *Store) DeleteMirrorAccount(ctx context.Context, dirID, accountID string) error {
	if err := store.CheckMemberKey(dirID, accountID); err != nil {
		return err
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
		_, accounts, _, err := mirrorDir(tx, dirID, false)
		if err != nil || accounts == nil {
			return err
		}
		if err := accounts.Delete([]byte(accountID)); err != nil {
			return err
		}
		return bumpMirror(tx, dirID)
	})
}

// PutMirrorFolder implements store.DirectoryMirror.
func (s *Store) PutMirrorFolder(ctx context.Context, dirID string, f store.MirrorFolder) error {
	if err := store.CheckMirrorFolder(dirID, f.ID); err != nil {
		return err
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
		_, _, folders, err := mirrorDir(tx, dirID, true)
		if err != nil {
			return err
		}
		if err := putFolder(folders, f); err != nil {
			return err
		}
		return bumpMirror(tx, dirID)
	})
}

// DeleteMirrorFolder implements store.DirectoryMirror.
func (s *Store) DeleteMirrorFolder(ctx context.Context, dirID, folderID string) error {
	if err := store.CheckMirrorFolder(dirID, folderID); err != nil {
		return err
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
		_, _, folders, err := mirrorDir(tx, dirID, false)
		if err != nil || folders == nil {
			return err
		}
		if err := folders.Delete([]byte(folderID)); err != nil {
			return err
		}
		return bumpMirror(tx, dirID)
	})
}

// MirrorMarks implements store.DirectoryMirror.
func (s *Store) MirrorMarks(ctx context.Context, dirID string) (store.MirrorMarks, error) {
	var m store.MirrorMarks
	if err := store.CheckDir(dirID); err != nil {
		return m, err
	}
	err := s.view(ctx, func(tx *bolt.Tx) error {
		d, _, _, err := mirrorDir(tx, dirID, false)
		if err != nil || d == nil {
			return err
		}
		m, err = readMarks(d)
		return err
	})
	return m, err
}

// SetHandshakeTime implements store.DirectoryMirror.
func (s *Store) SetHandshakeTime(ctx context.Context, dirID string, t time.Time) error {
	if err := store.CheckDir(dirID); err != nil {
		return err
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
		d, _, _, err := mirrorDir(tx, dirID, true)
		if err != nil {
			return err
		}
		marks, err := readMarks(d)
		if err != nil {
			return err
		}
		marks.HandshakeTime = t
		return writeMarks(d, marks)
	})
}

// MemberIDs implements store.DirectoryMirror: one cursor walk of the keys.
func (s *Store) MemberIDs(ctx context.Context, dirID string) ([]string, error) {
	if err := store.CheckDir(dirID); err != nil {
		return nil, err
	}
	var ids []string
	err := s.view(ctx, func(tx *bolt.Tx) error {
		d, ok, err := openDir(tx, dirID)
		if err != nil || !ok {
			return err
		}
		return d.rows.ForEach(func(k, _ []byte) error {
			ids = append(ids, string(k))
			return nil
		})
	})
	return ids, err
}

// ReadMirrorFolders implements store.DirectoryMirror.
func (s *Store) ReadMirrorFolders(ctx context.Context, dirID string) ([]store.MirrorFolder, error) {
	if err := store.CheckDir(dirID); err != nil {
		return nil, err
	}
	var out []store.MirrorFolder
	err := s.view(ctx, func(tx *bolt.Tx) error {
		_, _, folders, err := mirrorDir(tx, dirID, false)
		if err != nil || folders == nil {
			return err
		}
		return folders.ForEach(func(k, v []byte) error {
			var r mirrorFolderRec
			if err := json.Unmarshal(v, &r); err != nil {
				return corrupt("mirror folder %s: %v", k, err)
			}
			out = append(out, store.MirrorFolder{ID: string(k), Name: r.Name, ParentID: r.ParentID})
			return nil
		})
	})
	return out, err
}

// ReadMirrorAccount implements store.DirectoryMirror.
func (s *Store) ReadMirrorAccount(ctx context.Context, dirID, accountID string) (store.MirrorAccount, bool, error) {
	if err := store.CheckDir(dirID); err != nil {
		return store.MirrorAccount{}, false, err
	}
	if err := store.CheckAccount(accountID); err != nil {
		return store.MirrorAccount{}, false, err
	}
	var out store.MirrorAccount
	var ok bool
	err := s.view(ctx, func(tx *bolt.Tx) error {
		_, accounts, _, err := mirrorDir(tx, dirID, false)
		if err != nil || accounts == nil {
			return err
		}
		v := accounts.Get([]byte(accountID))
		if v == nil {
			return nil
		}
		ok = true
		out, err = decodeAccount([]byte(accountID), v)
		return err
	})
	return out, ok, err
}
