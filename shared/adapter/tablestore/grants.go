package tablestore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	ots "github.com/aliyun/aliyun-tablestore-go-sdk/tablestore"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/port/store"
	"github.com/sase-multiaccount/backend/shared/role"
)

// Grants are rows of the directory table (the mirror's), item
// "~grant|<account>|<user>": beside the directory's other state, and one
// GetRange for a directory's whole list. A change travels in one
// BatchWriteRow with its audit rows and the directory generation's
// increment, settled like a member change (auditrows.go).

const (
	itemGrant    = "~grant|"
	itemGrantEnd = "~grant}" // '}' follows '|': the end of the grant rows

	colAccessRole = "access_role"
	colGrantedBy  = "granted_by"
	colGrantTime  = "grant_time"
	colUserName   = "user_name"
	colLastSignIn = "last_sign_in"
)

func (s *Store) grantPK(dirID, accountID, userID string) *ots.PrimaryKey {
	return s.mirrorPK(dirID, itemGrant+accountID+"|"+userID)
}

func decodeGrant(dirID string, r *ots.Row) (store.Grant, error) {
	item, _ := pkValues(r.PrimaryKey)[colItem].(string)
	acct, user, _ := strings.Cut(strings.TrimPrefix(item, itemGrant), "|")
	c := colReader{c: columnsOf(r.Columns)}
	g := store.Grant{DirectoryID: dirID, AccountID: acct, UserID: user, AccessRole: role.Access(c.str(colAccessRole)),
		GrantedBy: c.str(colGrantedBy), GrantTime: msTime(c.optInt(colGrantTime)), Version: c.int(colVersion),
		UserName: c.str(colUserName), LastSignInTime: msTime(c.optInt(colLastSignIn))}
	if len(c.errs) > 0 {
		return store.Grant{}, apperr.Internal(fmt.Errorf("tablestore: corrupt grant row %q of %s: %w", item, dirID, errors.Join(c.errs...)))
	}
	return g, nil
}

// ListGrants implements store.Grants: one GetRange.
func (s *Store) ListGrants(ctx context.Context, dirID string) ([]store.Grant, error) {
	if err := store.CheckDir(dirID); err != nil {
		return nil, err
	}
	rows, err := s.rangeRows(ctx, "ListGrants", s.cfg.MirrorTable, s.mirrorPK(dirID, itemGrant), s.mirrorPK(dirID, itemGrantEnd), ots.FORWARD, 0)
	if err != nil {
		return nil, err
	}
	out := make([]store.Grant, 0, len(rows))
	for _, r := range rows {
		g, err := decodeGrant(dirID, r)
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, nil
}

// GetGrant implements store.Grants: one GetRow.
func (s *Store) GetGrant(ctx context.Context, dirID, accountID, userID string) (store.Grant, error) {
	if err := store.CheckGrantKey(dirID, accountID, userID); err != nil {
		return store.Grant{}, err
	}
	found, row, err := s.getRow(ctx, "GetGrant", s.cfg.MirrorTable, s.grantPK(dirID, accountID, userID))
	if err != nil {
		return store.Grant{}, err
	}
	if !found {
		return store.Grant{}, store.GrantNotFound(accountID, userID)
	}
	return decodeGrant(dirID, &ots.Row{PrimaryKey: &row.PrimaryKey, Columns: row.Columns})
}

// PutGrant implements store.Grants: one BatchWriteRow (the grant row,
// conditional on the version, its audit rows and the generation); on a
// stale version one GetRow more to name the stored one.
func (s *Store) PutGrant(ctx context.Context, dirID string, g store.Grant, expectVersion int64, record store.AuditEvent) error {
	if err := store.CheckGrantKey(dirID, g.AccountID, g.UserID); err != nil {
		return err
	}
	key := s.grantPK(dirID, g.AccountID, g.UserID)
	var ch ots.RowChange
	if expectVersion == 0 {
		put := &ots.PutRowChange{TableName: s.cfg.MirrorTable, PrimaryKey: key}
		put.AddColumn(colAccessRole, string(g.AccessRole))
		put.AddColumn(colGrantedBy, g.GrantedBy)
		put.AddColumn(colGrantTime, toMs(g.GrantTime))
		put.AddColumn(colVersion, int64(1))
		put.SetCondition(ots.RowExistenceExpectation_EXPECT_NOT_EXIST)
		ch = put
	} else {
		upd := &ots.UpdateRowChange{TableName: s.cfg.MirrorTable, PrimaryKey: key}
		upd.PutColumn(colAccessRole, string(g.AccessRole))
		upd.PutColumn(colGrantedBy, g.GrantedBy)
		upd.PutColumn(colGrantTime, toMs(g.GrantTime))
		upd.PutColumn(colVersion, expectVersion+1)
		upd.SetCondition(ots.RowExistenceExpectation_EXPECT_EXIST)
		upd.SetColumnCondition(versionIs(expectVersion))
		ch = upd
	}
	return s.writeGrant(ctx, "PutGrant", dirID, g.AccountID, g.UserID, expectVersion, ch, record)
}

const opDeleteGrant = "DeleteGrant"

// DeleteGrant implements store.Grants (the calls of PutGrant).
func (s *Store) DeleteGrant(ctx context.Context, dirID, accountID, userID string, expectVersion int64, record store.AuditEvent) error {
	if err := store.CheckGrantKey(dirID, accountID, userID); err != nil {
		return err
	}
	del := &ots.DeleteRowChange{TableName: s.cfg.MirrorTable, PrimaryKey: s.grantPK(dirID, accountID, userID)}
	del.SetCondition(ots.RowExistenceExpectation_EXPECT_EXIST)
	del.SetColumnCondition(versionIs(expectVersion))
	return s.writeGrant(ctx, opDeleteGrant, dirID, accountID, userID, expectVersion, del, record)
}

// writeGrant sends a grant change with its audit rows and the generation's
// increment, settles the audit rows, and names a failed condition.
func (s *Store) writeGrant(ctx context.Context, op, dirID, accountID, userID string, expectVersion int64, ch ots.RowChange, record store.AuditEvent) error {
	evs := []*auditRec{plainRecord(record)}
	rows, err := s.auditRows(ctx, evs)
	if err != nil {
		return err
	}
	gen := &ots.UpdateRowChange{TableName: s.cfg.CountersTable, PrimaryKey: pk(colDir, generationKey)}
	gen.IncrementColumn(colCount, 1)
	gen.SetCondition(ots.RowExistenceExpectation_IGNORE)
	changes := append(append([]ots.RowChange{ch}, rows...), gen)
	res, _, err := s.batchWrite(ctx, op, changes)
	if err != nil {
		return err
	}
	applied := []bool{res[0].IsSucceed}
	s.settleAudit(ctx, op, evs, applied, rowsWritten(evs, res, 1, applied))
	switch {
	case res[0].IsSucceed:
		return nil
	case !rowConditionFailed(res[0]):
		return rowError(op, res[0].Error)
	}
	cur, err := s.GetGrant(ctx, dirID, accountID, userID)
	switch {
	case apperr.IsCode(err, apperr.CodeGrantNotFound) && op == opDeleteGrant:
		return err
	case err != nil && !apperr.IsCode(err, apperr.CodeGrantNotFound):
		return err
	}
	return store.GrantConflict(accountID, userID, expectVersion, cur.Version)
}

// TouchGrant implements store.Grants: one UpdateRow, conditional on the row
// existing and its last sign-in being older than staleBefore (a failed
// condition is no error: another instance touched it, or it is gone).
func (s *Store) TouchGrant(ctx context.Context, dirID, accountID, userID, userName string, at, staleBefore time.Time) error {
	if err := store.CheckGrantKey(dirID, accountID, userID); err != nil {
		return err
	}
	ch := &ots.UpdateRowChange{TableName: s.cfg.MirrorTable, PrimaryKey: s.grantPK(dirID, accountID, userID)}
	ch.PutColumn(colUserName, userName)
	ch.PutColumn(colLastSignIn, toMs(at))
	ch.SetCondition(ots.RowExistenceExpectation_EXPECT_EXIST)
	// A grant never touched has no last_sign_in: the condition passes.
	ch.SetColumnCondition(ots.NewSingleColumnCondition(colLastSignIn, ots.CT_LESS_THAN, toMs(staleBefore)))
	if _, err := s.updateRow(ctx, "TouchGrant", ch); err != nil && !isConditionFailed(err) {
		return err
	}
	return nil
}
