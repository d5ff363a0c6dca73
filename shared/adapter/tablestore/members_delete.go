package tablestore

import (
	"context"
	"strconv"

	ots "github.com/aliyun/aliyun-tablestore-go-sdk/tablestore"

	"github.com/sase-multiaccount/backend/shared/port/store"
)

// DeleteMembers implements store.Members: BatchGetRow the rows (the result
// reports each deleted row), then BatchWriteRow of DeleteRow with
// EXPECT_EXIST for those that exist, each batch with the counter row.
func (s *Store) DeleteMembers(ctx context.Context, dirID string, accountIDs []string, audit store.AuditOf) ([]store.DeleteResult, error) {
	const op = "DeleteMembers"
	if err := store.CheckDir(dirID); err != nil {
		return nil, err
	}
	results := make([]store.DeleteResult, len(accountIDs))
	first := map[string]int{}
	dupOf := map[int]int{}
	var todo []int
	for i, id := range accountIDs {
		results[i] = store.DeleteResult{AccountID: id, Status: store.NotFound}
		if err := store.CheckAccount(id); err != nil {
			results[i].Status, results[i].Err = store.DeleteFailed, err
			continue
		}
		if j, dup := first[id]; dup {
			dupOf[i] = j
			continue
		}
		first[id] = i
		todo = append(todo, i)
	}
	if len(todo) == 0 {
		return results, nil
	}

	// Read the rows to delete.
	keys := make([]*ots.PrimaryKey, len(todo))
	for k, i := range todo {
		keys[k] = memberPK(dirID, accountIDs[i])
	}
	rows, rerr := s.batchGet(ctx, op, s.cfg.MembersTable, keys)
	var present []int
	for k, i := range todo {
		switch {
		case k >= len(rows):
			results[i].Status, results[i].Err = store.DeleteFailed, rerr
		case !rows[k].IsSucceed:
			results[i].Status, results[i].Err = store.DeleteFailed, rowError(op, rows[k].Error)
		case len(rows[k].PrimaryKey.PrimaryKeys) > 0:
			m, _, err := decodeMember(dirID, &rows[k].PrimaryKey, rows[k].Columns)
			if err != nil {
				results[i].Status, results[i].Err = store.DeleteFailed, err
				continue
			}
			results[i].Member = m
			present = append(present, i)
		}
	}

	opID := newID()
	var pending int64
	size := chunkSize(audit)
	for c := 0; c*size < len(present); c++ {
		chunk := present[c*size : min((c+1)*size, len(present))]
		if err := s.deleteChunk(ctx, dirID, chunk, opID+"."+strconv.Itoa(c), &pending, results, audit); err != nil {
			return nil, err
		}
	}
	s.adjustCount(ctx, op, dirID, pending, opID+".fix")
	if err := allFailed(todo, func(i int) (bool, error) {
		return results[i].Status == store.DeleteFailed, results[i].Err
	}); err != nil {
		return nil, err
	}
	for i, j := range dupOf {
		results[i].Status, results[i].Err = results[j].Status, results[j].Err
		if results[i].Status == store.Deleted {
			results[i].Status = store.NotFound
		}
	}
	return results, nil
}

// deleteChunk deletes one batch of rows read before (results[i].Member).
func (s *Store) deleteChunk(ctx context.Context, dirID string, idx []int, token string, pending *int64, results []store.DeleteResult, audit store.AuditOf) error {
	const op = "DeleteMembers"
	intended := -int64(len(idx))
	changes, evs, err := s.deleteBatch(ctx, dirID, idx, results, intended+*pending, token, audit)
	if err != nil {
		return err // a bad record: nothing was written
	}
	fail := func(err error) {
		for _, i := range idx {
			results[i].Status, results[i].Err, results[i].Member = store.DeleteFailed, err, store.Member{}
		}
	}
	res, retried, err := s.batchWrite(ctx, op, changes)
	if err != nil && !retried {
		s.abandonFeed(ctx, op, evs)
		fail(err)
		return nil
	}
	defer func() {
		d := make([]bool, len(idx))
		for k, i := range idx {
			d[k] = results[i].Status == store.Deleted
		}
		written := not(d) // outcome unknown: write or delete each record
		if err == nil {
			written = rowsWritten(evs, res, len(idx)+1, d)
		}
		s.settleAudit(ctx, op, evs, d, written)
	}()
	var out deleteOutcome
	if err != nil {
		// Resent and failed: look at the rows and the counter to learn
		// what an attempt with a lost response did.
		var known bool
		if out, known = s.resentDelete(ctx, dirID, idx, results, token, err); !known {
			fail(err)
			s.cfg.Logf("tablestore: DeleteMembers in %s: outcome of a resent batch unknown (%v); the member count may be off, RecountMembers repairs it", dirID, err)
			return nil
		}
	} else {
		out = deleteResults(res, len(idx), retried)
	}
	var deleted int64
	for k, i := range idx {
		switch {
		case out.errs[k] != nil:
			results[i].Status, results[i].Err, results[i].Member = store.DeleteFailed, out.errs[k], store.Member{}
		case !out.gone[k], out.earlier:
			// Deleted by this call (now, or by the attempt whose response
			// was lost).
			results[i].Status = store.Deleted
			deleted++
		default:
			// Deleted by someone else since the read.
			results[i].Status, results[i].Member = store.NotFound, store.Member{}
		}
	}
	if out.applied {
		*pending = -deleted - intended
	} else {
		*pending += -deleted
	}
	return nil
}

// deleteBatch is the BatchWriteRow of one chunk: a DeleteRow with
// EXPECT_EXIST per member, the counter row moved by count, then the audit
// records (evs, one per member).
func (s *Store) deleteBatch(ctx context.Context, dirID string, idx []int, results []store.DeleteResult, count int64, token string, audit store.AuditOf) ([]ots.RowChange, []*auditRec, error) {
	changes := make([]ots.RowChange, 0, 2*len(idx)+1)
	for _, i := range idx {
		ch := &ots.DeleteRowChange{TableName: s.cfg.MembersTable, PrimaryKey: memberPK(dirID, results[i].AccountID)}
		ch.SetCondition(ots.RowExistenceExpectation_EXPECT_EXIST)
		changes = append(changes, ch)
	}
	changes = append(changes, s.counterChange(dirID, count, token))
	evs := auditEvents(audit, len(idx), func(k int) (store.Member, store.Member) { return results[idx[k]].Member, store.Member{} })
	rows, err := s.auditRows(ctx, evs)
	if err != nil {
		return nil, nil, err
	}
	return append(changes, rows...), evs, nil
}

// deleteOutcome is what a chunk's BatchWriteRow did.
type deleteOutcome struct {
	// applied: the counter row took effect (once). earlier: it took effect
	// in an attempt before the last one, whose response was lost; then the
	// member rows of that attempt were deleted by this call too.
	applied, earlier bool
	gone             []bool  // a failed EXPECT_EXIST: the row was not there
	errs             []error // rows that failed otherwise
}

// deleteResults reads the outcome from the batch's row results (n member
// rows, then the counter row).
func deleteResults(res []ots.RowResult, n int, retried bool) deleteOutcome {
	out := deleteOutcome{gone: make([]bool, n), errs: make([]error, n)}
	out.applied, out.earlier = counterResult(res[n], retried)
	for k := range n {
		switch {
		case res[k].IsSucceed:
		case rowConditionFailed(res[k]):
			out.gone[k] = true
		default:
			out.errs[k] = rowError("DeleteMembers", res[k].Error)
		}
	}
	return out
}

// resentDelete learns from the rows and the counter what a batch did whose
// call failed after the SDK resent it (callErr); known is false when they
// could not be read.
func (s *Store) resentDelete(ctx context.Context, dirID string, idx []int, results []store.DeleteResult, token string, callErr error) (out deleteOutcome, known bool) {
	const op = "DeleteMembers"
	keys := make([]*ots.PrimaryKey, len(idx))
	for k, i := range idx {
		keys[k] = memberPK(dirID, results[i].AccountID)
	}
	rctx := context.WithoutCancel(ctx) // settle the batch's outcome even if ctx ends
	rows, rerr := s.batchGet(rctx, op, s.cfg.MembersTable, keys, colOp, colVersion)
	found, cRow, cerr := s.getRow(rctx, op, s.cfg.CountersTable, pk(colDir, dirID), colOp)
	if rerr != nil || cerr != nil {
		return out, false
	}
	out = deleteOutcome{gone: make([]bool, len(idx)), errs: make([]error, len(idx))}
	out.applied = found && columnsOf(cRow.Columns)[colOp] == token
	out.earlier = out.applied
	for k := range idx {
		if rows[k].IsSucceed && len(rows[k].PrimaryKey.PrimaryKeys) == 0 {
			out.gone[k] = true
		} else {
			out.errs[k] = callErr
		}
	}
	return out, true
}
