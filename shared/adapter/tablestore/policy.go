package tablestore

import (
	"context"
	"encoding/json"
	"fmt"

	ots "github.com/aliyun/aliyun-tablestore-go-sdk/tablestore"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/port/store"
)

// The enrollment policy is one row of the directory table (the mirror's):
// item "~policy", the policy as JSON in colPolicy and its version in
// colVersion (the write condition).

const (
	itemPolicy = "~policy"
	colPolicy  = "policy"
)

type policyJSON struct {
	Mode              string            `json:"mode"`
	FolderIDs         []string          `json:"folder_ids"`
	IncludeSubfolders bool              `json:"include_subfolders"`
	Excluded          []store.Exclusion `json:"excluded"`
	UpdateTime        int64             `json:"update_time"`
	UpdatedBy         string            `json:"updated_by"`
}

// GetPolicy implements store.Policies: one GetRow.
func (s *Store) GetPolicy(ctx context.Context, dirID string) (store.EnrollmentPolicy, error) {
	if err := store.CheckDir(dirID); err != nil {
		return store.EnrollmentPolicy{}, err
	}
	found, row, err := s.getRow(ctx, "GetPolicy", s.cfg.MirrorTable, s.mirrorPK(dirID, itemPolicy))
	if err != nil || !found {
		return store.EnrollmentPolicy{}, err
	}
	c := colReader{c: columnsOf(row.Columns)}
	raw, version := c.str(colPolicy), c.int(colVersion)
	var j policyJSON
	if len(c.errs) == 0 {
		if err := json.Unmarshal([]byte(raw), &j); err != nil {
			c.errs = append(c.errs, err)
		}
	}
	if len(c.errs) > 0 {
		return store.EnrollmentPolicy{}, apperr.Internal(fmt.Errorf("tablestore: corrupt policy row of %s: %v", dirID, c.errs))
	}
	return store.EnrollmentPolicy{Mode: j.Mode, FolderIDs: j.FolderIDs, IncludeSubfolders: j.IncludeSubfolders, Excluded: j.Excluded,
		Version: version, UpdateTime: msTime(j.UpdateTime), UpdatedBy: j.UpdatedBy}, nil
}

// PutPolicy implements store.Policies: one BatchWriteRow holding the
// policy row (conditional on the version) and its audit rows, settled like
// a member change (auditrows.go); on a stale version one GetRow more to
// name the stored version.
func (s *Store) PutPolicy(ctx context.Context, dirID string, p store.EnrollmentPolicy, expectVersion int64, record store.AuditEvent) (store.EnrollmentPolicy, error) {
	const op = "PutPolicy"
	if err := store.CheckDir(dirID); err != nil {
		return store.EnrollmentPolicy{}, err
	}
	out := p
	out.Version = expectVersion + 1
	out.UpdateTime = truncMs(p.UpdateTime)
	raw, err := json.Marshal(policyJSON{Mode: out.Mode, FolderIDs: out.FolderIDs, IncludeSubfolders: out.IncludeSubfolders,
		Excluded: out.Excluded, UpdateTime: timeMs(out.UpdateTime), UpdatedBy: out.UpdatedBy})
	if err != nil {
		return store.EnrollmentPolicy{}, apperr.Internal(err)
	}
	ch := &ots.PutRowChange{TableName: s.cfg.MirrorTable, PrimaryKey: s.mirrorPK(dirID, itemPolicy)}
	ch.AddColumn(colPolicy, string(raw))
	ch.AddColumn(colVersion, out.Version)
	if expectVersion == 0 {
		ch.SetCondition(ots.RowExistenceExpectation_EXPECT_NOT_EXIST)
	} else {
		ch.SetCondition(ots.RowExistenceExpectation_EXPECT_EXIST)
		ch.SetColumnCondition(versionIs(expectVersion))
	}
	evs := []*auditRec{plainRecord(record)}
	rows, err := s.auditRows(ctx, evs)
	if err != nil {
		return store.EnrollmentPolicy{}, err
	}
	res, _, err := s.batchWrite(ctx, op, append([]ots.RowChange{ch}, rows...))
	if err != nil {
		return store.EnrollmentPolicy{}, err
	}
	applied := []bool{res[0].IsSucceed}
	s.settleAudit(ctx, op, evs, applied, rowsWritten(evs, res, 1, applied))
	switch {
	case res[0].IsSucceed:
		return out, nil
	case rowConditionFailed(res[0]):
		cur, err := s.GetPolicy(ctx, dirID)
		if err != nil {
			return store.EnrollmentPolicy{}, err
		}
		return store.EnrollmentPolicy{}, store.PolicyConflict(dirID, expectVersion, cur.Version)
	default:
		return store.EnrollmentPolicy{}, rowError(op, res[0].Error)
	}
}
