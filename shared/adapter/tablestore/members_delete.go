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
	changes := make([]ots.RowChange, 0, 2*len(idx)+1)
	for _, i := range idx {
		ch := &ots.DeleteRowChange{TableName: s.cfg.MembersTable, PrimaryKey: memberPK(dirID, results[i].AccountID)}
		ch.SetCondition(ots.RowExistenceExpectation_EXPECT_EXIST)
		changes = append(changes, ch)
	}
	intended := -int64(len(idx))
	changes = append(changes, s.counterChange(dirID, intended+*pending, token))
	evs := auditEvents(audit, len(idx), func(k int) (store.Member, store.Member) { return results[idx[k]].Member, store.Member{} })
	rows, err := s.auditRows(ctx, evs)
	if err != nil {
		return err // a bad record: nothing was written
	}
	changes = append(changes, rows...)
	isDeleted := func() []bool {
		out := make([]bool, len(idx))
		for k, i := range idx {
			out[k] = results[i].Status == store.Deleted
		}
		return out
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
		d := isDeleted()
		written := not(d) // outcome unknown: write or delete each record
		if err == nil {
			written = rowsWritten(evs, res, len(idx)+1, d)
		}
		s.settleAudit(ctx, op, evs, d, written)
	}()
	// applied: the counter row took effect (once). earlier: it took effect
	// in an attempt before the last one, whose response was lost; then the
	// member rows of that attempt were deleted by this call too.
	var applied, earlier bool
	gone := make([]bool, len(idx))  // a failed EXPECT_EXIST: the row was not there
	errs := make([]error, len(idx)) // rows that failed otherwise
	if err != nil {
		// Resent and failed: look at the rows and the counter to learn
		// what an attempt with a lost response did.
		keys := make([]*ots.PrimaryKey, len(idx))
		for k, i := range idx {
			keys[k] = memberPK(dirID, results[i].AccountID)
		}
		rctx := context.WithoutCancel(ctx) // settle the batch's outcome even if ctx ends
		rows, rerr := s.batchGet(rctx, op, s.cfg.MembersTable, keys, colOp, colVersion)
		found, cRow, cerr := s.getRow(rctx, op, s.cfg.CountersTable, pk(colDir, dirID), colOp)
		if rerr != nil || cerr != nil {
			fail(err)
			s.cfg.Logf("tablestore: DeleteMembers in %s: outcome of a resent batch unknown (%v); the member count may be off, RecountMembers repairs it", dirID, err)
			return nil
		}
		applied = found && columnsOf(cRow.Columns)[colOp] == token
		earlier = applied
		for k := range idx {
			if rows[k].IsSucceed && len(rows[k].PrimaryKey.PrimaryKeys) == 0 {
				gone[k] = true
			} else {
				errs[k] = err
			}
		}
	} else {
		applied, earlier = counterResult(res[len(idx)], retried)
		for k := range idx {
			switch {
			case res[k].IsSucceed:
			case rowConditionFailed(res[k]):
				gone[k] = true
			default:
				errs[k] = rowError(op, res[k].Error)
			}
		}
	}
	var deleted int64
	for k, i := range idx {
		switch {
		case errs[k] != nil:
			results[i].Status, results[i].Err, results[i].Member = store.DeleteFailed, errs[k], store.Member{}
		case !gone[k], earlier:
			// Deleted by this call (now, or by the attempt whose response
			// was lost).
			results[i].Status = store.Deleted
			deleted++
		default:
			// Deleted by someone else since the read.
			results[i].Status, results[i].Member = store.NotFound, store.Member{}
		}
	}
	if applied {
		*pending = -deleted - intended
	} else {
		*pending += -deleted
	}
	return nil
}
