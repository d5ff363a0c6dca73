package tablestore

import (
	"context"
	"fmt"
	"strconv"
	"time"

	ots "github.com/aliyun/aliyun-tablestore-go-sdk/tablestore"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/port/store"
)

// memberRows per BatchWriteRow: one row of the 200 is the counter.
const memberRows = batchRows - 1

// auditedRows per BatchWriteRow when each member change carries its audit
// row: two rows per change, plus the counter.
const auditedRows = (batchRows - 1) / 2

// chunkSize is the number of member changes per BatchWriteRow.
func chunkSize(audit store.AuditOf) int {
	if audit == nil {
		return memberRows
	}
	return auditedRows
}

// maxCAS bounds the read-check-write rounds of UpdateRemark and
// RenameMember under concurrent changes of the same member.
const maxCAS = 100

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
	changes := make([]ots.RowChange, 0, 2*len(idx)+1)
	for _, i := range idx {
		changes = append(changes, s.memberPut(dirID, ms[i], token))
	}
	intended := int64(len(idx))
	changes = append(changes, s.counterChange(dirID, intended+*pending, token))
	evs := auditEvents(audit, len(idx), func(k int) (store.Member, store.Member) {
		m := ms[idx[k]]
		m.DirectoryID, m.Version = dirID, 1
		return store.Member{}, m
	})
	rows, err := s.auditRows(evs)
	if err != nil {
		return err // a bad record: nothing was written
	}
	changes = append(changes, rows...)
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
	defer func() { s.settleAudit(ctx, op, evs, isAdded(), rowsWritten(evs, res, len(idx)+1)) }()
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
		keys := make([]*ots.PrimaryKey, len(recheck))
		for k, i := range recheck {
			keys[k] = memberPK(dirID, ms[i].AccountID)
		}
		// The batch is done: settle its outcome even if ctx ends now.
		rows, rerr := s.batchGet(context.WithoutCancel(ctx), op, s.cfg.MembersTable, keys, colOp, colVersion)
		if rerr != nil {
			s.cfg.Logf("tablestore: AddMembers to %s: could not re-read rows of a resent batch (%v); the member count may be off, RecountMembers repairs it", dirID, rerr)
		}
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
	}
	if applied, _ := counterResult(res[len(idx)], retried); applied {
		*pending = added - intended
	} else {
		*pending += added
	}
	return nil
}

func not(b []bool) []bool {
	out := make([]bool, len(b))
	for k, v := range b {
		out[k] = !v
	}
	return out
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

// GetMember implements store.Members: one GetRow.
func (s *Store) GetMember(ctx context.Context, dirID, accountID string) (store.Member, error) {
	if err := store.CheckMemberKey(dirID, accountID); err != nil {
		return store.Member{}, err
	}
	m, _, found, err := s.readMember(ctx, "GetMember", dirID, accountID)
	if err != nil {
		return store.Member{}, err
	}
	if !found {
		return store.Member{}, store.MemberNotFound(dirID, accountID)
	}
	return m, nil
}

func (s *Store) readMember(ctx context.Context, op, dirID, accountID string) (m store.Member, opID string, found bool, err error) {
	found, row, err := s.getRow(ctx, op, s.cfg.MembersTable, memberPK(dirID, accountID))
	if err != nil || !found {
		return m, "", false, err
	}
	m, opID, err = decodeMember(dirID, &row.PrimaryKey, row.Columns)
	return m, opID, err == nil, err
}

// UpdateRemark implements store.Members: GetRow, then UpdateRow with
// EXPECT_EXIST and version == the version read, so that a concurrent change
// is never overwritten. With expectVersion 0 a lost race is retried;
// otherwise it is a version conflict. A condition that failed because this
// call's own earlier attempt was applied (a lost response) is recognised
// by the row's op_id on the next read.
func (s *Store) UpdateRemark(ctx context.Context, dirID, accountID, remark string, expectVersion int64, now time.Time, audit store.AuditOf) (before, after store.Member, err error) {
	const op = "UpdateRemark"
	if err := store.CheckMemberKey(dirID, accountID); err != nil {
		return before, after, err
	}
	if expectVersion < 0 {
		return before, after, apperr.Invalid("Version", "Version must be a positive number; got %d.", expectVersion)
	}
	token := newID()
	var prev store.Member // the row read before the last attempted write
	var lastAudit []*store.AuditEvent
	for attempt := range maxCAS {
		cur, curOp, found, err := s.readMember(ctx, op, dirID, accountID)
		if err != nil {
			return store.Member{}, store.Member{}, err
		}
		if attempt > 0 && found && curOp == token {
			// Our write landed with a lost response; so may its record.
			s.settleAudit(ctx, op, lastAudit, []bool{true}, []bool{false})
			return prev, cur, nil
		}
		if attempt > 0 {
			s.settleAudit(ctx, op, lastAudit, []bool{false}, []bool{true})
		}
		if !found {
			return store.Member{}, store.Member{}, store.MemberNotFound(dirID, accountID)
		}
		if expectVersion != 0 && cur.Version != expectVersion {
			return store.Member{}, store.Member{}, apperr.Conflict(apperr.CodeVersionConflict,
				"Member %s is at version %d, not %d: it was changed meanwhile. Reload it and try again.",
				accountID, cur.Version, expectVersion)
		}
		if cur.Remark == remark {
			return cur, cur, nil // unchanged: same Version, no record
		}
		next := cur
		next.Remark, next.Version, next.UpdateTime = remark, cur.Version+1, truncMs(now)
		ch := &ots.UpdateRowChange{TableName: s.cfg.MembersTable, PrimaryKey: memberPK(dirID, accountID)}
		ch.PutColumn(colRemark, remark)
		ch.PutColumn(colVersion, next.Version)
		ch.PutColumn(colUpdateTime, toMs(next.UpdateTime))
		ch.PutColumn(colOp, token)
		ch.SetCondition(ots.RowExistenceExpectation_EXPECT_EXIST)
		ch.SetColumnCondition(versionIs(cur.Version))
		prev = cur
		done, err := s.writeAudited(ctx, op, ch, audit, cur, next, &lastAudit)
		if done {
			return cur, next, nil
		}
		if err != nil {
			return store.Member{}, store.Member{}, err
		}
		// Changed (or deleted) since the read, or our own write landed
		// with a lost response: read again.
	}
	return store.Member{}, store.Member{}, apperr.Unavailable(service,
		fmt.Errorf("tablestore %s %s/%s: still changing after %d attempts", op, dirID, accountID, maxCAS))
}

// writeAudited writes one conditional row change together with the audit
// record of before -> after, in one BatchWriteRow. done: the change was
// applied (its record settled). err == nil && !done: its condition failed
// or the outcome of a resent call is unknown; the caller reads the row
// again (the record of this attempt is kept in *last and settled by the
// caller once it knows).
func (s *Store) writeAudited(ctx context.Context, op string, ch *ots.UpdateRowChange, audit store.AuditOf, before, after store.Member, last *[]*store.AuditEvent) (done bool, err error) {
	evs := auditEvents(audit, 1, func(int) (store.Member, store.Member) { return before, after })
	rows, err := s.auditRows(evs)
	if err != nil {
		return false, err
	}
	*last = evs
	res, retried, err := s.batchWrite(ctx, op, append([]ots.RowChange{ch}, rows...))
	switch {
	case err != nil && !retried:
		return false, err
	case err != nil:
		return false, nil // unknown: the next read tells (op_id)
	case res[0].IsSucceed:
		s.settleAudit(ctx, op, evs, []bool{true}, rowsWritten(evs, res, 1))
		*last = nil
		return true, nil
	case rowConditionFailed(res[0]):
		s.settleAudit(ctx, op, evs, []bool{false}, rowsWritten(evs, res, 1))
		*last = nil
		return false, nil
	default:
		s.settleAudit(ctx, op, evs, []bool{false}, rowsWritten(evs, res, 1))
		return false, rowError(op, res[0].Error)
	}
}

func versionIs(v int64) *ots.SingleColumnCondition {
	c := ots.NewSingleColumnCondition(colVersion, ots.CT_EQUAL, v)
	c.FilterIfMissing = true
	return c
}

// RenameMember implements store.Members with the embedded store's rules
// (see embedded.RenameMember): strictly newer asOf only; the same name only
// advances NameTime; a real rename bumps Version and moves UpdateTime
// forward, never back. Read, decide, then a conditional UpdateRow on the
// version and NameTime read.
func (s *Store) RenameMember(ctx context.Context, dirID, accountID, name string, asOf time.Time, audit store.AuditOf) (changed bool, err error) {
	const op = "RenameMember"
	if err := store.CheckMemberKey(dirID, accountID); err != nil {
		return false, err
	}
	asOf = truncMs(asOf)
	token := newID()
	var lastChanged bool
	var lastAudit []*store.AuditEvent
	for attempt := range maxCAS {
		m, curOp, found, err := s.readMember(ctx, op, dirID, accountID)
		if err != nil {
			return false, err
		}
		if attempt > 0 && found && curOp == token {
			s.settleAudit(ctx, op, lastAudit, []bool{true}, []bool{false})
			return lastChanged, nil
		}
		if attempt > 0 {
			s.settleAudit(ctx, op, lastAudit, []bool{false}, []bool{true})
		}
		if !found || !asOf.After(m.NameTime) {
			return false, nil
		}
		ch := &ots.UpdateRowChange{TableName: s.cfg.MembersTable, PrimaryKey: memberPK(dirID, accountID)}
		ch.PutColumn(colNameTime, toMs(asOf))
		lastChanged = m.AccountName != name
		if lastChanged {
			ch.PutColumn(colAccountName, name)
			ch.PutColumn(colVersion, m.Version+1)
			if asOf.After(m.UpdateTime) {
				ch.PutColumn(colUpdateTime, toMs(asOf))
			}
		}
		ch.PutColumn(colOp, token)
		ch.SetCondition(ots.RowExistenceExpectation_EXPECT_EXIST)
		cond := ots.NewCompositeColumnCondition(ots.LO_AND)
		cond.AddFilter(versionIs(m.Version))
		nt := ots.NewSingleColumnCondition(colNameTime, ots.CT_EQUAL, toMs(m.NameTime))
		nt.FilterIfMissing = true
		cond.AddFilter(nt)
		ch.SetColumnCondition(cond)
		var recAudit store.AuditOf // only a real rename has a record
		if lastChanged {
			recAudit = audit
		}
		after := m
		after.AccountName, after.Version, after.NameTime = name, m.Version+1, asOf
		done, err := s.writeAudited(ctx, op, ch, recAudit, m, after, &lastAudit)
		if done {
			return lastChanged, nil
		}
		if err != nil {
			return false, err
		}
	}
	return false, apperr.Unavailable(service,
		fmt.Errorf("tablestore %s %s/%s: still changing after %d attempts", op, dirID, accountID, maxCAS))
}

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
	rows, err := s.auditRows(evs)
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
		fail(err)
		return nil
	}
	defer func() {
		d := isDeleted()
		written := not(d) // outcome unknown: write or delete each record
		if err == nil {
			written = rowsWritten(evs, res, len(idx)+1)
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

// ListMembers implements store.Members: one GetRange of up to Limit+1 rows
// (+1 more when the page starts at an existing key going backwards, which
// is skipped), on the table for AccountId order and on the local index for
// AddTime order. The index holds every column, so no row is read twice.
func (s *Store) ListMembers(ctx context.Context, dirID string, q store.ListQuery) ([]store.Member, bool, error) {
	if err := store.CheckDir(dirID); err != nil {
		return nil, false, err
	}
	if err := store.CheckListQuery(q); err != nil {
		return nil, false, err
	}
	need := q.Limit + 1
	dir := ots.FORWARD
	if q.Desc {
		dir = ots.BACKWARD
	}
	var table string
	var start, end *ots.PrimaryKey
	var skip func(r *ots.Row) bool // the row at a backward start key, which is not after the position

	if q.SortBy == store.SortByAccountID {
		table = s.cfg.MembersTable
		switch {
		case q.After == nil && !q.Desc:
			start, end = pk(colDir, dirID, colAccount, pkMin), pk(colDir, dirID, colAccount, pkMax)
		case q.After == nil:
			start, end = pk(colDir, dirID, colAccount, pkMax), pk(colDir, dirID, colAccount, pkMin)
		case !q.Desc:
			// The least key after id is id + "\x00".
			start, end = pk(colDir, dirID, colAccount, q.After.AccountID+"\x00"), pk(colDir, dirID, colAccount, pkMax)
		default:
			start, end = pk(colDir, dirID, colAccount, q.After.AccountID), pk(colDir, dirID, colAccount, pkMin)
			id := q.After.AccountID
			skip = func(r *ots.Row) bool { return pkValues(r.PrimaryKey)[colAccount] == id }
			need++
		}
	} else {
		table = s.cfg.MembersIndex
		lo := pk(colDir, dirID, colAddTime, pkMin, colAccount, pkMin)
		hi := pk(colDir, dirID, colAddTime, pkMax, colAccount, pkMax)
		switch p := q.After; {
		case p == nil && !q.Desc:
			start, end = lo, hi
		case p == nil:
			start, end = hi, lo
		default:
			at := toMs(p.AddTime)
			exact := fromMs(at).Equal(p.AddTime)
			switch {
			case exact && !q.Desc:
				start, end = pk(colDir, dirID, colAddTime, at, colAccount, p.AccountID+"\x00"), hi
			case exact:
				start, end = pk(colDir, dirID, colAddTime, at, colAccount, p.AccountID), lo
				id := p.AccountID
				skip = func(r *ots.Row) bool {
					kv := pkValues(r.PrimaryKey)
					return kv[colAddTime] == at && kv[colAccount] == id
				}
				need++
			// The position falls inside millisecond at: it is after every
			// key of at and before every key of at+1, whatever its AccountID.
			case !q.Desc:
				start, end = pk(colDir, dirID, colAddTime, at+1, colAccount, pkMin), hi
			default:
				start, end = pk(colDir, dirID, colAddTime, at, colAccount, pkMax), lo
			}
		}
	}
	rows, err := s.rangeRows(ctx, "ListMembers", table, start, end, dir, need)
	if err != nil {
		return nil, false, err
	}
	ms := make([]store.Member, 0, min(len(rows), q.Limit))
	for i, r := range rows {
		if i == 0 && skip != nil && skip(r) {
			continue
		}
		if len(ms) == q.Limit {
			return ms, true, nil
		}
		m, _, err := decodeMember(dirID, r.PrimaryKey, r.Columns)
		if err != nil {
			return nil, false, err
		}
		ms = append(ms, m)
	}
	return ms, false, nil
}
