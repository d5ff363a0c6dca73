package tablestore

import (
	"context"
	"fmt"
	"time"

	ots "github.com/aliyun/aliyun-tablestore-go-sdk/tablestore"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/port/store"
)

// memberRows per BatchWriteRow: one row of the 200 is the counter.
const memberRows = batchRows - 1

// auditedRows per BatchWriteRow when each member change carries its audit
// record: four rows per change (member, audit, the target's timeline, the
// feed entry), plus the counter.
const auditedRows = (batchRows - 1) / 4

// maxCAS bounds the read-check-write rounds of UpdateRemark and
// RenameMember under concurrent changes of the same member.
const maxCAS = 100

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
	var lastAudit []*auditRec
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
	var lastAudit []*auditRec
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
	dir := ots.FORWARD
	if q.Desc {
		dir = ots.BACKWARD
	}
	var rg memberRange
	if q.SortBy == store.SortByAccountID {
		rg = s.byAccountID(dirID, q)
	} else {
		rg = s.byAddTime(dirID, q)
	}
	need := q.Limit + 1
	if rg.skip != nil {
		need++
	}
	rows, err := s.rangeRows(ctx, "ListMembers", rg.table, rg.start, rg.end, dir, need)
	if err != nil {
		return nil, false, err
	}
	ms := make([]store.Member, 0, min(len(rows), q.Limit))
	for i, r := range rows {
		if i == 0 && rg.skip != nil && rg.skip(r) {
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

// memberRange is where a page of ListMembers is read: the table or index,
// the range in the read's direction, and skip, the row at a backward start
// key, which is not after the position (nil when there is none; the read
// takes one more row for it).
type memberRange struct {
	table      string
	start, end *ots.PrimaryKey
	skip       func(r *ots.Row) bool
}

// byAccountID is the page of q on the member table (AccountId order).
func (s *Store) byAccountID(dirID string, q store.ListQuery) memberRange {
	rg := memberRange{table: s.cfg.MembersTable}
	switch {
	case q.After == nil && !q.Desc:
		rg.start, rg.end = pk(colDir, dirID, colAccount, pkMin), pk(colDir, dirID, colAccount, pkMax)
	case q.After == nil:
		rg.start, rg.end = pk(colDir, dirID, colAccount, pkMax), pk(colDir, dirID, colAccount, pkMin)
	case !q.Desc:
		// The least key after id is id + "\x00".
		rg.start, rg.end = pk(colDir, dirID, colAccount, q.After.AccountID+"\x00"), pk(colDir, dirID, colAccount, pkMax)
	default:
		rg.start, rg.end = pk(colDir, dirID, colAccount, q.After.AccountID), pk(colDir, dirID, colAccount, pkMin)
		id := q.After.AccountID
		rg.skip = func(r *ots.Row) bool { return pkValues(r.PrimaryKey)[colAccount] == id }
	}
	return rg
}

// byAddTime is the page of q on the local index ((AddTime, AccountId) order).
func (s *Store) byAddTime(dirID string, q store.ListQuery) memberRange {
	rg := memberRange{table: s.cfg.MembersIndex}
	lo := pk(colDir, dirID, colAddTime, pkMin, colAccount, pkMin)
	hi := pk(colDir, dirID, colAddTime, pkMax, colAccount, pkMax)
	p := q.After
	if p == nil {
		rg.start, rg.end = lo, hi
		if q.Desc {
			rg.start, rg.end = hi, lo
		}
		return rg
	}
	at := toMs(p.AddTime)
	exact := fromMs(at).Equal(p.AddTime)
	switch {
	case exact && !q.Desc:
		rg.start, rg.end = pk(colDir, dirID, colAddTime, at, colAccount, p.AccountID+"\x00"), hi
	case exact:
		rg.start, rg.end = pk(colDir, dirID, colAddTime, at, colAccount, p.AccountID), lo
		id := p.AccountID
		rg.skip = func(r *ots.Row) bool {
			kv := pkValues(r.PrimaryKey)
			return kv[colAddTime] == at && kv[colAccount] == id
		}
	// The position falls inside millisecond at: it is after every
	// key of at and before every key of at+1, whatever its AccountID.
	case !q.Desc:
		rg.start, rg.end = pk(colDir, dirID, colAddTime, at+1, colAccount, pkMin), hi
	default:
		rg.start, rg.end = pk(colDir, dirID, colAddTime, at, colAccount, pkMax), lo
	}
	return rg
}

// chunkSize is the number of member changes per BatchWriteRow.
func chunkSize(audit store.AuditOf) int {
	if audit == nil {
		return memberRows
	}
	return auditedRows
}

func not(b []bool) []bool {
	out := make([]bool, len(b))
	for k, v := range b {
		out[k] = !v
	}
	return out
}

// writeAudited writes one conditional row change together with the audit
// record of before -> after, in one BatchWriteRow. done: the change was
// applied (its record settled). err == nil && !done: its condition failed
// or the outcome of a resent call is unknown; the caller reads the row
// again (the record of this attempt is kept in *last and settled by the
// caller once it knows).
func (s *Store) writeAudited(ctx context.Context, op string, ch *ots.UpdateRowChange, audit store.AuditOf, before, after store.Member, last *[]*auditRec) (done bool, err error) {
	evs := auditEvents(audit, 1, func(int) (store.Member, store.Member) { return before, after })
	rows, err := s.auditRows(ctx, evs)
	if err != nil {
		return false, err
	}
	*last = evs
	// The counter row's members version moves with the change (last in the
	// batch, so the record rows keep their places after the member row).
	ver := &ots.UpdateRowChange{TableName: s.cfg.CountersTable, PrimaryKey: pk(colDir, before.DirectoryID)}
	ver.IncrementColumn(colMembersVersion, 1)
	ver.SetCondition(ots.RowExistenceExpectation_IGNORE)
	changes := append(append([]ots.RowChange{ch}, rows...), ver)
	res, retried, err := s.batchWrite(ctx, op, changes)
	switch {
	case err != nil && !retried:
		s.abandonFeed(ctx, op, evs)
		return false, err
	case err != nil:
		return false, nil // unknown: the next read tells (op_id)
	case res[0].IsSucceed:
		s.settleAudit(ctx, op, evs, []bool{true}, rowsWritten(evs, res, 1, []bool{true}))
		*last = nil
		return true, nil
	case rowConditionFailed(res[0]):
		s.settleAudit(ctx, op, evs, []bool{false}, rowsWritten(evs, res, 1, []bool{false}))
		*last = nil
		return false, nil
	default:
		s.settleAudit(ctx, op, evs, []bool{false}, rowsWritten(evs, res, 1, []bool{false}))
		return false, rowError(op, res[0].Error)
	}
}
