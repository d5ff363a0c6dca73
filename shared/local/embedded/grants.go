package embedded

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/sase-multiaccount/backend/shared/port/store"
	"github.com/sase-multiaccount/backend/shared/role"
)

// Grants: grants/<dirID>/<accountID>|<userID> → grantRec. A change of a
// grant, its audit record and the move of the directory generation are one
// transaction.

type grantRec struct {
	AccessRole     string `json:"access_role"`
	GrantedBy      string `json:"granted_by"`
	GrantTime      int64  `json:"grant_time"`
	Version        int64  `json:"version"`
	UserName       string `json:"user_name,omitempty"`
	LastSignInTime int64  `json:"last_sign_in_time,omitempty"`
}

func grantKey(accountID, userID string) []byte { return []byte(accountID + "|" + userID) }

func decodeGrant(dirID string, k, v []byte) (store.Grant, error) {
	var r grantRec
	if err := json.Unmarshal(v, &r); err != nil {
		return store.Grant{}, corrupt("grant %s/%s: %v", dirID, k, err)
	}
	acct, user, _ := bytes.Cut(k, []byte("|"))
	return store.Grant{DirectoryID: dirID, AccountID: string(acct), UserID: string(user), AccessRole: role.Access(r.AccessRole),
		GrantedBy: r.GrantedBy, GrantTime: timeOrZero(r.GrantTime), Version: r.Version,
		UserName: r.UserName, LastSignInTime: timeOrZero(r.LastSignInTime)}, nil
}

func encodeGrant(g store.Grant) ([]byte, error) {
	return json.Marshal(grantRec{AccessRole: string(g.AccessRole), GrantedBy: g.GrantedBy, GrantTime: msOrZero(g.GrantTime),
		Version: g.Version, UserName: g.UserName, LastSignInTime: msOrZero(g.LastSignInTime)})
}

// grantsOf is the directory's grant bucket (nil when it has none yet and
// create is false).
func grantsOf(tx *bolt.Tx, dirID string, create bool) (*bolt.Bucket, error) {
	root := tx.Bucket(bucketGrants)
	if root == nil {
		return nil, corrupt("bucket %s missing", bucketGrants)
	}
	if !create {
		return root.Bucket([]byte(dirID)), nil
	}
	return root.CreateBucketIfNotExists([]byte(dirID))
}

func readGrant(tx *bolt.Tx, dirID, accountID, userID string) (store.Grant, bool, error) {
	b, err := grantsOf(tx, dirID, false)
	if err != nil || b == nil {
		return store.Grant{}, false, err
	}
	k := grantKey(accountID, userID)
	v := b.Get(k)
	if v == nil {
		return store.Grant{}, false, nil
	}
	g, err := decodeGrant(dirID, k, v)
	return g, err == nil, err
}

// ListGrants implements store.Grants.
func (s *Store) ListGrants(ctx context.Context, dirID string) ([]store.Grant, error) {
	if err := store.CheckDir(dirID); err != nil {
		return nil, err
	}
	out := []store.Grant{}
	err := s.view(ctx, func(tx *bolt.Tx) error {
		b, err := grantsOf(tx, dirID, false)
		if err != nil || b == nil {
			return err
		}
		return b.ForEach(func(k, v []byte) error {
			g, err := decodeGrant(dirID, k, v)
			out = append(out, g)
			return err
		})
	})
	return out, err
}

// GetGrant implements store.Grants.
func (s *Store) GetGrant(ctx context.Context, dirID, accountID, userID string) (store.Grant, error) {
	if err := store.CheckGrantKey(dirID, accountID, userID); err != nil {
		return store.Grant{}, err
	}
	var g store.Grant
	err := s.view(ctx, func(tx *bolt.Tx) error {
		var found bool
		var err error
		if g, found, err = readGrant(tx, dirID, accountID, userID); err == nil && !found {
			err = store.GrantNotFound(accountID, userID)
		}
		return err
	})
	return g, err
}

// PutGrant implements store.Grants: the grant, its audit record and the
// generation in one transaction.
func (s *Store) PutGrant(ctx context.Context, dirID string, g store.Grant, expectVersion int64, record store.AuditEvent) error {
	if err := store.CheckGrantKey(dirID, g.AccountID, g.UserID); err != nil {
		return err
	}
	if err := store.CheckAuditEvents([]store.AuditEvent{record}); err != nil {
		return err
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
		old, _, err := readGrant(tx, dirID, g.AccountID, g.UserID)
		if err != nil {
			return err
		}
		if old.Version != expectVersion {
			return store.GrantConflict(g.AccountID, g.UserID, expectVersion, old.Version)
		}
		out := store.Grant{DirectoryID: dirID, AccountID: g.AccountID, UserID: g.UserID, AccessRole: g.AccessRole,
			GrantedBy: g.GrantedBy, GrantTime: truncMs(g.GrantTime), Version: expectVersion + 1,
			UserName: old.UserName, LastSignInTime: old.LastSignInTime}
		v, err := encodeGrant(out)
		if err != nil {
			return err
		}
		b, err := grantsOf(tx, dirID, true)
		if err != nil {
			return err
		}
		if err := b.Put(grantKey(g.AccountID, g.UserID), v); err != nil {
			return err
		}
		return grantChanged(tx, record)
	})
}

// DeleteGrant implements store.Grants (one transaction, as PutGrant).
func (s *Store) DeleteGrant(ctx context.Context, dirID, accountID, userID string, expectVersion int64, record store.AuditEvent) error {
	if err := store.CheckGrantKey(dirID, accountID, userID); err != nil {
		return err
	}
	if err := store.CheckAuditEvents([]store.AuditEvent{record}); err != nil {
		return err
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
		old, found, err := readGrant(tx, dirID, accountID, userID)
		switch {
		case err != nil:
			return err
		case !found:
			return store.GrantNotFound(accountID, userID)
		case old.Version != expectVersion:
			return store.GrantConflict(accountID, userID, expectVersion, old.Version)
		}
		b, err := grantsOf(tx, dirID, false)
		if err != nil {
			return err
		}
		if err := b.Delete(grantKey(accountID, userID)); err != nil {
			return err
		}
		return grantChanged(tx, record)
	})
}

// grantChanged writes the record of a grant change and moves the
// generation, inside the change's transaction.
func grantChanged(tx *bolt.Tx, record store.AuditEvent) error {
	if err := putAudit(tx, record); err != nil {
		return err
	}
	g, err := readGeneration(tx)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketMeta).Put(keyGeneration, binary.BigEndian.AppendUint64(nil, uint64(g+1)))
}

// TouchGrant implements store.Grants.
func (s *Store) TouchGrant(ctx context.Context, dirID, accountID, userID, userName string, at, staleBefore time.Time) error {
	if err := store.CheckGrantKey(dirID, accountID, userID); err != nil {
		return err
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
		g, found, err := readGrant(tx, dirID, accountID, userID)
		if err != nil || !found || !g.LastSignInTime.Before(staleBefore) {
			return err
		}
		g.UserName, g.LastSignInTime = userName, truncMs(at)
		v, err := encodeGrant(g)
		if err != nil {
			return err
		}
		b, err := grantsOf(tx, dirID, false)
		if err != nil {
			return err
		}
		return b.Put(grantKey(accountID, userID), v)
	})
}
