package tablestore

import (
	"context"

	ots "github.com/aliyun/aliyun-tablestore-go-sdk/tablestore"

	"github.com/sase-multiaccount/backend/shared/port/store"
)

// A member change and its audit record travel in the same BatchWriteRow
// (docs/DESIGN.md "Integrity"): the instance cannot die between them, since
// there is no "between". Tablestore applies the rows of a batch one by one,
// so the call's outcome is settled per change afterwards (settleAudit):
//
//   - the change did not happen (its row's condition failed: the member
//     already existed, was changed or deleted meanwhile): its audit row is
//     deleted again;
//   - the change happened but Tablestore refused its audit row (a per-row
//     error): the audit row is written again.
//
// Both repairs are one extra BatchWriteRow, made only when a row needs it.
// The window left: an instance that dies after such a batch and before its
// repair leaves an audit record of a change that did not happen (only a
// concurrent duplicate or a stale version causes that), or, if Tablestore
// also refused the audit row, a change without a record. The common paths
// (every row applied) cost no call more than the change alone.

// auditRec is the record of one change and, for a membership change
// (store.ChangeOf), its feed entry (feed.go).
type auditRec struct {
	store.AuditEvent
	change store.ChangeType // "" when the feed does not carry it
	member store.Member     // the row the feed entry shows
	seq    int64            // the entry's position, once auditRows took it
}

// plainRecord wraps a record that is no member change (no feed entry).
func plainRecord(e store.AuditEvent) *auditRec { return &auditRec{AuditEvent: e} }

// auditRows are the rows of evs (nil events are skipped), record by
// record: its audit row, its timeline row when it has a target
// (auditPuts), and for a membership change its feed row, at a position
// taken now (one UpdateRow for all of them, feed.go).
func (s *Store) auditRows(ctx context.Context, evs []*auditRec) ([]ots.RowChange, error) {
	n := 0
	for _, e := range evs {
		if e == nil {
			continue
		}
		if err := store.CheckAuditEvents([]store.AuditEvent{e.AuditEvent}); err != nil {
			return nil, err
		}
		if e.change != "" {
			n++
		}
	}
	var next int64
	if n > 0 {
		var err error
		if next, err = s.allocate(ctx, evs[firstFeed(evs)].DirectoryID, n); err != nil {
			return nil, err
		}
	}
	var out []ots.RowChange
	for _, e := range evs {
		if e == nil {
			continue
		}
		rows, err := s.auditPuts(e.AuditEvent)
		if err != nil {
			return nil, err
		}
		out = append(out, rows...)
		if e.change == "" {
			continue
		}
		e.seq, next = next, next+1
		ch, err := s.feedPut(e)
		if err != nil {
			return nil, err
		}
		out = append(out, ch)
	}
	return out, nil
}

func firstFeed(evs []*auditRec) int {
	for k, e := range evs {
		if e != nil && e.change != "" {
			return k
		}
	}
	return -1
}

// auditEvents makes the record of each change (nil when audit is nil).
func auditEvents(audit store.AuditOf, n int, change func(k int) (before, after store.Member)) []*auditRec {
	evs := make([]*auditRec, n)
	if audit == nil {
		return evs
	}
	for k := range evs {
		before, after := change(k)
		t, m := store.ChangeOf(before, after)
		evs[k] = &auditRec{AuditEvent: audit(before, after), change: t, member: m}
	}
	return evs
}

// settleAudit repairs the audit rows of a batch once its outcome is known:
// applied[k] tells whether change k happened, written[k] whether its
// record's rows are stored (see rowsWritten). It never fails the call: the
// changes are settled, so a failed repair is logged for an operator.
func (s *Store) settleAudit(ctx context.Context, op string, evs []*auditRec, applied, written []bool) {
	s.settleFeed(ctx, op, evs, applied, written)
	var fix []ots.RowChange
	for k, e := range evs {
		switch {
		case e == nil:
		case applied[k] && !written[k]:
			if rows, err := s.auditPuts(e.AuditEvent); err == nil {
				fix = append(fix, rows...)
			}
		case !applied[k] && written[k]:
			fix = append(fix, s.auditDeletes(e.AuditEvent)...)
		}
	}
	if len(fix) == 0 {
		return
	}
	res, _, err := s.batchWrite(context.WithoutCancel(ctx), op+"/audit", fix)
	for _, r := range res {
		if err == nil && !r.IsSucceed {
			err = rowError(op, r.Error)
		}
	}
	if err != nil {
		s.cfg.Logf("tablestore: %s: could not settle %d audit rows (%v); the audit trail and the member table disagree for them", op, len(fix), err)
	}
}

// rowsWritten reports, for the record rows at res[from:] (aligned with
// evs; nil events have none), what settleAudit needs: for a change that
// happened, whether all its record's rows were stored (else they are
// written again); for one that did not, whether any was (else nothing
// needs deleting).
func rowsWritten(evs []*auditRec, res []ots.RowResult, from int, applied []bool) []bool {
	out := make([]bool, len(evs))
	j := from
	for k, e := range evs {
		if e == nil {
			continue
		}
		n := 1
		if e.Target != "" {
			n++
		}
		if e.change != "" {
			n++ // the feed row
		}
		all, anyOK := true, false
		for ; n > 0; n-- {
			ok := j < len(res) && res[j].IsSucceed
			all, anyOK = all && ok, anyOK || ok
			j++
		}
		out[k] = anyOK
		if applied[k] {
			out[k] = all
		}
	}
	return out
}
