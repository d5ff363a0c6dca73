package embedded

import (
	"context"
	"encoding/json"

	bolt "go.etcd.io/bbolt"

	"github.com/sase-multiaccount/backend/shared/port/store"
)

type exclusionRec struct {
	AccountID string `json:"account_id"`
	Reason    string `json:"reason"`
}

type policyRec struct {
	Mode              string         `json:"mode"`
	FolderIDs         []string       `json:"folder_ids"`
	IncludeSubfolders bool           `json:"include_subfolders"`
	Excluded          []exclusionRec `json:"excluded"`
	Version           int64          `json:"version"`
	UpdateTime        int64          `json:"update_time"`
	UpdatedBy         string         `json:"updated_by"`
}

func readPolicy(tx *bolt.Tx, dirID string) (store.EnrollmentPolicy, error) {
	b := tx.Bucket(bucketPolicies)
	if b == nil {
		return store.EnrollmentPolicy{}, corrupt("bucket %s missing", bucketPolicies)
	}
	v := b.Get([]byte(dirID))
	if v == nil {
		return store.EnrollmentPolicy{}, nil
	}
	var r policyRec
	if err := json.Unmarshal(v, &r); err != nil {
		return store.EnrollmentPolicy{}, corrupt("policy of %s: %v", dirID, err)
	}
	p := store.EnrollmentPolicy{Mode: r.Mode, FolderIDs: r.FolderIDs, IncludeSubfolders: r.IncludeSubfolders,
		Version: r.Version, UpdateTime: timeOrZero(r.UpdateTime), UpdatedBy: r.UpdatedBy}
	for _, e := range r.Excluded {
		p.Excluded = append(p.Excluded, store.Exclusion{AccountID: e.AccountID, Reason: e.Reason})
	}
	return p, nil
}

// GetPolicy implements store.Policies.
func (s *Store) GetPolicy(ctx context.Context, dirID string) (store.EnrollmentPolicy, error) {
	var p store.EnrollmentPolicy
	if err := store.CheckDir(dirID); err != nil {
		return p, err
	}
	err := s.view(ctx, func(tx *bolt.Tx) (err error) {
		p, err = readPolicy(tx, dirID)
		return err
	})
	return p, err
}

// PutPolicy implements store.Policies: the policy and its audit record in
// one transaction.
func (s *Store) PutPolicy(ctx context.Context, dirID string, p store.EnrollmentPolicy, expectVersion int64, record store.AuditEvent) (store.EnrollmentPolicy, error) {
	if err := store.CheckDir(dirID); err != nil {
		return store.EnrollmentPolicy{}, err
	}
	if err := store.CheckAuditEvents([]store.AuditEvent{record}); err != nil {
		return store.EnrollmentPolicy{}, err
	}
	var out store.EnrollmentPolicy
	err := s.update(ctx, func(tx *bolt.Tx) error {
		old, err := readPolicy(tx, dirID)
		if err != nil {
			return err
		}
		if old.Version != expectVersion {
			return store.PolicyConflict(dirID, expectVersion, old.Version)
		}
		out = p
		out.Version = expectVersion + 1
		out.UpdateTime = truncMs(p.UpdateTime)
		r := policyRec{Mode: out.Mode, FolderIDs: out.FolderIDs, IncludeSubfolders: out.IncludeSubfolders,
			Version: out.Version, UpdateTime: msOrZero(out.UpdateTime), UpdatedBy: out.UpdatedBy}
		for _, e := range out.Excluded {
			r.Excluded = append(r.Excluded, exclusionRec{AccountID: e.AccountID, Reason: e.Reason})
		}
		v, err := json.Marshal(r)
		if err != nil {
			return err
		}
		if err := tx.Bucket(bucketPolicies).Put([]byte(dirID), v); err != nil {
			return err
		}
		return putAudit(tx, record)
	})
	if err != nil {
		return store.EnrollmentPolicy{}, err
	}
	return out, nil
}
