package tablestore

import (
	"context"
	"fmt"

	ots "github.com/aliyun/aliyun-tablestore-go-sdk/tablestore"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/port/store"
)

// The member count (CountMembers) is a per-directory counter row, so that a
// list page costs one read for the count instead of a scan of the
// directory. It is kept exact like this:
//
//   - Every batch that adds or deletes members carries, in the same
//     BatchWriteRow, an atomic increment of the counter by the number of
//     rows it intends to change. The counter row is conditional on its op_id
//     not being this batch's token, and sets op_id to the token: if the SDK
//     resends the batch after a lost response, the counter is not
//     incremented twice (the resent counter row fails its condition, which
//     tells the adapter that the first attempt was applied).
//   - After the batch, the difference between the rows that really changed
//     and the increment (members that already existed, rows that failed) is
//     carried into the next batch of the same call, or written as one final
//     conditional increment.
//
// Trade-offs: a batch is not atomic across rows, so the count can drift if
// Tablestore fails between a batch and its correction (the correction is
// then logged through Config.Logf), or if a resent batch is interleaved
// with another writer's counter update within the SDK's retry pause.
// RecountMembers repairs a drifted counter. A scan per list page would be
// exact without any of this, but costs a read per 5000 members on every
// page.

// counterChange increments the directory's member count by delta, once for
// token.
func (s *Store) counterChange(dirID string, delta int64, token string) *ots.UpdateRowChange {
	ch := &ots.UpdateRowChange{TableName: s.cfg.CountersTable, PrimaryKey: pk(colDir, dirID)}
	ch.IncrementColumn(colCount, delta)
	ch.IncrementColumn(colMembersVersion, 1)
	ch.PutColumn(colOp, token)
	ch.SetCondition(ots.RowExistenceExpectation_IGNORE)
	// A missing op_id (a new counter row) passes the condition.
	ch.SetColumnCondition(ots.NewSingleColumnCondition(colOp, ots.CT_NOT_EQUAL, token))
	return ch
}

// counterResult reports whether the counter row of a batch took effect
// (applied), and whether it did so in an attempt before the last one
// (earlier): the SDK resent the batch after a lost response and the resent
// counter row failed its condition because its token was already there.
// A failed condition without a resend means the token was not there:
// only a missing counter row can do that, if the service fails a column
// condition on a row that does not exist (UNCONFIRMED; the fake passes
// it, as for a missing column). The increment is then carried to the
// final correction, which falls back to an unconditional increment.
func counterResult(r ots.RowResult, retried bool) (applied, earlier bool) {
	earlier = retried && rowConditionFailed(r)
	return r.IsSucceed || earlier, earlier
}

// adjustCount applies a final correction to the member count. A failure
// cannot be returned to the caller (the member rows are written), so it is
// logged.
func (s *Store) adjustCount(ctx context.Context, op, dirID string, delta int64, token string) {
	if delta == 0 {
		return
	}
	ctx = context.WithoutCancel(ctx) // the rows are written: finish the count
	retried, err := s.updateRow(ctx, op, s.counterChange(dirID, delta, token))
	if isConditionFailed(err) && !retried {
		// See counterResult: the counter row does not exist yet.
		ch := &ots.UpdateRowChange{TableName: s.cfg.CountersTable, PrimaryKey: pk(colDir, dirID)}
		ch.IncrementColumn(colCount, delta)
		ch.IncrementColumn(colMembersVersion, 1)
		ch.PutColumn(colOp, token)
		ch.SetCondition(ots.RowExistenceExpectation_IGNORE)
		_, err = s.updateRow(ctx, op, ch)
	}
	if err != nil && !isConditionFailed(err) {
		s.cfg.Logf("tablestore: member count of directory %s is off by %d (correction failed: %v); RecountMembers repairs it", dirID, -delta, err)
	}
}

// CountMembers implements store.Members: one GetRow of the counter row.
func (s *Store) CountMembers(ctx context.Context, dirID string) (int, error) {
	n, _, err := s.MemberState(ctx, dirID)
	return n, err
}

// MemberState implements store.Members: one GetRow of the counter row, whose
// members_version every member write moves in its own batch.
func (s *Store) MemberState(ctx context.Context, dirID string) (int, int64, error) {
	if err := store.CheckDir(dirID); err != nil {
		return 0, 0, err
	}
	found, row, err := s.getRow(ctx, "CountMembers", s.cfg.CountersTable, pk(colDir, dirID), colCount, colMembersVersion)
	if err != nil || !found {
		return 0, 0, err
	}
	cols := columnsOf(row.Columns)
	var n int64
	if _, ok := cols[colCount]; ok {
		if n, err = cols.int(colCount); err != nil {
			return 0, 0, apperr.Internal(fmt.Errorf("tablestore: corrupt counter row of %s: %w", dirID, err))
		}
	}
	var v int64
	if _, ok := cols[colMembersVersion]; ok {
		if v, err = cols.int(colMembersVersion); err != nil {
			return 0, 0, apperr.Internal(fmt.Errorf("tablestore: corrupt counter row of %s: %w", dirID, err))
		}
	}
	if n < 0 {
		s.cfg.Logf("tablestore: member count of directory %s is %d; RecountMembers repairs it", dirID, n)
		n = 0
	}
	return int(n), v, nil
}

// RecountMembers counts the directory's member rows with a key-only scan
// and stores the result in the counter row. It repairs a count that drifted
// (see above); run it when the directory is quiet (reconciliation), since a
// member added or removed during the scan may be missed.
func (s *Store) RecountMembers(ctx context.Context, dirID string) (int, error) {
	if err := store.CheckDir(dirID); err != nil {
		return 0, err
	}
	rows, err := s.rangeRows(ctx, "RecountMembers", s.cfg.MembersTable,
		pk(colDir, dirID, colAccount, pkMin), pk(colDir, dirID, colAccount, pkMax), ots.FORWARD, 0, colAccount)
	if err != nil {
		return 0, err
	}
	ch := &ots.UpdateRowChange{TableName: s.cfg.CountersTable, PrimaryKey: pk(colDir, dirID)}
	ch.PutColumn(colCount, int64(len(rows)))
	ch.PutColumn(colOp, newID())
	ch.SetCondition(ots.RowExistenceExpectation_IGNORE)
	if _, err := s.updateRow(ctx, "RecountMembers", ch); err != nil {
		return 0, err
	}
	return len(rows), nil
}
