package tablestore

import (
	"context"
	"fmt"
	"strconv"

	ots "github.com/aliyun/aliyun-tablestore-go-sdk/tablestore"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/port/store"
)

// AddMembers implements store.Members: BatchWriteRow of PutRow with
// EXPECT_NOT_EXIST, memberRows at a time, each batch with the counter row.
// A member whose row exists is AlreadyExists; a row that fails is Failed
// with the mapped error. When the SDK resent a batch (a lost response), a
// failed condition may be this call's own earlier write: such rows are
// re-read and compared with the call's op_id before they are called
// AlreadyExists. Repeated account IDs count once (later ones report
// AlreadyExists).
func (s *Store) AddMembers(ctx context.Context, dirID string, ms []store.Member, audit store.AuditOf) ([]store.AddResult, error) {
	if err := store.CheckDir(dirID); err != nil {
		return nil, err
	}
	results := make([]store.AddResult, len(ms))
	first := map[string]int{}
	dupOf := map[int]int{}
	var todo []int
	for i, m := range ms {
		results[i].AccountID = m.AccountID
		if err := store.CheckAccount(m.AccountID); err != nil {
			results[i].Status, results[i].Err = store.AddFailed, err
			continue
		}
		if j, dup := first[m.AccountID]; dup {
			dupOf[i] = j
			continue
		}
		first[m.AccountID] = i
		todo = append(todo, i)
	}
	if audit != nil {
		// Read first which members exist, so that the batch carries rows
		// (and audit records) only for accounts that are not members: a
		// refused row, whose record then needs a repair call, is left to a
		// concurrent add between this read and the write.
		var err error
		if todo, err = s.absent(ctx, dirID, ms, todo, results); err != nil {
			return nil, err
		}
	}
	op := newID()
	var pending int64 // count correction not yet written
	size := chunkSize(audit)
	for c := 0; c*size < len(todo); c++ {
		chunk := todo[c*size : min((c+1)*size, len(todo))]
		if err := s.addChunk(ctx, dirID, ms, chunk, op+"."+strconv.Itoa(c), &pending, results, audit); err != nil {
			return nil, err
		}
	}
	s.adjustCount(ctx, "AddMembers", dirID, pending, op+".fix")
	// When Tablestore failed every item, the call fails (503/429) rather
	// than reporting each item as Failed.
	if err := allFailed(todo, func(i int) (bool, error) {
		return results[i].Status == store.AddFailed, results[i].Err
	}); err != nil {
		return nil, err
	}
	for i, j := range dupOf {
		results[i].Status, results[i].Err = results[j].Status, results[j].Err
		if results[i].Status == store.Added {
			results[i].Status = store.AlreadyExists
		}
	}
	return results, nil
}

// allFailed returns the first error when every item of idx failed, and nil
// when some item has a result or idx is empty.
func allFailed(idx []int, failed func(i int) (bool, error)) error {
	var first error
	for _, i := range idx {
		f, err := failed(i)
		if !f {
			return nil
		}
		if first == nil {
			first = err
		}
	}
	return first
}

// addChunk writes one batch of new members and fills in their results.
func (s *Store) addChunk(ctx context.Context, dirID string, ms []store.Member, idx []int, token string, pending *int64, results []store.AddResult, audit store.AuditOf) error {
	const op = "AddMembers"
	intended := int64(len(idx))
	changes, evs, err := s.addBatch(ctx, dirID, ms, idx, intended+*pending, token, audit)
	if err != nil {
		return err // a bad record: nothing was written
	}
	isAdded := func() []bool {
		out := make([]bool, len(idx))
		for k, i := range idx {
			out[k] = results[i].Status == store.Added
		}
		return out
	}
	res, retried, err := s.batchWrite(ctx, op, changes)
	if err != nil {
		if !retried {
			// Nothing was applied.
			s.abandonFeed(ctx, op, evs)
			for _, i := range idx {
				results[i].Status, results[i].Err = store.AddFailed, err
			}
			return nil
		}
		// An attempt whose response was lost may have been applied: find
		// out from the rows themselves.
		s.resolveAdd(ctx, dirID, idx, token, pending, results, err)
		a := isAdded()
		s.settleAudit(ctx, op, evs, a, not(a)) // audit rows unknown: write or delete each
		return nil
	}
	defer func() { a := isAdded(); s.settleAudit(ctx, op, evs, a, rowsWritten(evs, res, len(idx)+1, a)) }()
	var added int64
	var recheck []int
	for k, i := range idx {
		r := res[k]
		switch {
		case r.IsSucceed:
			results[i].Status = store.Added
			added++
		case rowConditionFailed(r) && retried:
			recheck = append(recheck, i)
		case rowConditionFailed(r):
			results[i].Status = store.AlreadyExists
		default:
			results[i].Status, results[i].Err = store.AddFailed, rowError(op, r.Error)
		}
	}
	if len(recheck) > 0 {
		added += s.recheckAdds(ctx, dirID, ms, recheck, token, results)
	}
	if applied, _ := counterResult(res[len(idx)], retried); applied {
		*pending = added - intended
	} else {
		*pending += added
	}
	return nil
}

// addBatch is the BatchWriteRow of one chunk: a PutRow with
// EXPECT_NOT_EXIST per member, the counter row moved by count, then the
// audit records (evs, one per member).
func (s *Store) addBatch(ctx context.Context, dirID string, ms []store.Member, idx []int, count int64, token string, audit store.AuditOf) ([]ots.RowChange, []*auditRec, error) {
	changes := make([]ots.RowChange, 0, 2*len(idx)+1)
	for _, i := range idx {
		changes = append(changes, s.memberPut(dirID, ms[i], token))
	}
	changes = append(changes, s.counterChange(dirID, count, token))
	evs := auditEvents(audit, len(idx), func(k int) (store.Member, store.Member) {
		m := ms[idx[k]]
		m.DirectoryID, m.Version = dirID, 1
		return store.Member{}, m
	})
	rows, err := s.auditRows(ctx, evs)
	if err != nil {
		return nil, nil, err
	}
	return append(changes, rows...), evs, nil
}

// recheckAdds re-reads the rows of a resent batch whose condition failed:
// a row carrying the token is this call's own (the first attempt's
// response was lost). It fills in their results and returns how many
// this call added.
func (s *Store) recheckAdds(ctx context.Context, dirID string, ms []store.Member, recheck []int, token string, results []store.AddResult) int64 {
	const op = "AddMembers"
	keys := make([]*ots.PrimaryKey, len(recheck))
	for k, i := range recheck {
		keys[k] = memberPK(dirID, ms[i].AccountID)
	}
	// The batch is done: settle its outcome even if ctx ends now.
	rows, rerr := s.batchGet(context.WithoutCancel(ctx), op, s.cfg.MembersTable, keys, colOp, colVersion)
	if rerr != nil {
		s.cfg.Logf("tablestore: AddMembers to %s: could not re-read rows of a resent batch (%v); the member count may be off, RecountMembers repairs it", dirID, rerr)
	}
	var added int64
	for k, i := range recheck {
		switch {
		case k >= len(rows):
			results[i].Status, results[i].Err = store.AddFailed, rerr
		case !rows[k].IsSucceed:
			results[i].Status, results[i].Err = store.AddFailed, rowError(op, rows[k].Error)
		case len(rows[k].PrimaryKey.PrimaryKeys) > 0 && columnsOf(rows[k].Columns)[colOp] == token:
			results[i].Status = store.Added // ours: the first attempt's response was lost
			added++
		case len(rows[k].PrimaryKey.PrimaryKeys) > 0:
			results[i].Status = store.AlreadyExists
		default:
			// The row is gone again: deleted meanwhile, after either
			// our write or someone else's. Which one cannot be told.
			results[i].Status, results[i].Err = store.AddFailed, apperr.Unavailable(service,
				fmt.Errorf("tablestore %s %s/%s: removed concurrently; outcome unknown", op, dirID, ms[i].AccountID))
		}
	}
	return added
}

// resolveAdd settles a batch whose call failed after the SDK resent it:
// rows carrying the token were written by this call.
func (s *Store) resolveAdd(ctx context.Context, dirID string, idx []int, token string, pending *int64, results []store.AddResult, callErr error) {
	const op = "AddMembers"
	keys := make([]*ots.PrimaryKey, 0, len(idx))
	for _, i := range idx {
		keys = append(keys, memberPK(dirID, results[i].AccountID))
	}
	ctx = context.WithoutCancel(ctx) // settle the batch's outcome even if ctx ends
	rows, err := s.batchGet(ctx, op, s.cfg.MembersTable, keys, colOp, colVersion)
	found, cRow, cerr := s.getRow(ctx, op, s.cfg.CountersTable, pk(colDir, dirID), colOp)
	if err != nil || cerr != nil {
		for _, i := range idx {
			results[i].Status, results[i].Err = store.AddFailed, callErr
		}
		s.cfg.Logf("tablestore: AddMembers to %s: outcome of a resent batch unknown (%v); the member count may be off, RecountMembers repairs it", dirID, callErr)
		return
	}
	var added int64
	for k, i := range idx {
		r := rows[k]
		switch {
		case r.IsSucceed && len(r.PrimaryKey.PrimaryKeys) > 0 && columnsOf(r.Columns)[colOp] == token:
			results[i].Status = store.Added
			added++
		case r.IsSucceed && len(r.PrimaryKey.PrimaryKeys) > 0:
			results[i].Status = store.AlreadyExists
		default:
			results[i].Status, results[i].Err = store.AddFailed, callErr
		}
	}
	if found && columnsOf(cRow.Columns)[colOp] == token {
		*pending = added - int64(len(idx))
	} else {
		*pending += added
	}
}

// absent returns the items of todo whose member row does not exist and
// marks the others AlreadyExists: one BatchGetRow per 100 accounts.
func (s *Store) absent(ctx context.Context, dirID string, ms []store.Member, todo []int, results []store.AddResult) ([]int, error) {
	keys := make([]*ots.PrimaryKey, len(todo))
	for k, i := range todo {
		keys[k] = memberPK(dirID, ms[i].AccountID)
	}
	rows, err := s.batchGet(ctx, "AddMembers", s.cfg.MembersTable, keys, colVersion)
	if err != nil {
		return nil, err
	}
	var out []int
	for k, i := range todo {
		switch {
		case !rows[k].IsSucceed:
			results[i].Status, results[i].Err = store.AddFailed, rowError("AddMembers", rows[k].Error)
		case len(rows[k].PrimaryKey.PrimaryKeys) > 0:
			results[i].Status = store.AlreadyExists
		default:
			out = append(out, i)
		}
	}
	return out, nil
}
