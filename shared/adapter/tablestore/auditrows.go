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

// auditRows are the rows of evs (nil events are skipped): each record's
// audit row, and its timeline row when it has a target (auditPuts).
func (s *Store) auditRows(evs []*store.AuditEvent) ([]ots.RowChange, error) {
	var out []ots.RowChange
	for _, e := range evs {
		if e == nil {
			continue
		}
		if err := store.CheckAuditEvents([]store.AuditEvent{*e}); err != nil {
			return nil, err
		}
		rows, err := s.auditPuts(*e)
		if err != nil {
			return nil, err
		}
		out = append(out, rows...)
	}
	return out, nil
}

// auditEvents makes the record of each change (nil when audit is nil).
func auditEvents(audit store.AuditOf, n int, change func(k int) (before, after store.Member)) []*store.AuditEvent {
	evs := make([]*store.AuditEvent, n)
	if audit == nil {
		return evs
	}
	for k := range evs {
		ev := audit(change(k))
		evs[k] = &ev
	}
	return evs
}

// settleAudit repairs the audit rows of a batch once its outcome is known:
// applied[k] tells whether change k happened, written[k] whether its
// record's rows are stored (see rowsWritten). It never fails the call: the
// changes are settled, so a failed repair is logged for an operator.
func (s *Store) settleAudit(ctx context.Context, op string, evs []*store.AuditEvent, applied, written []bool) {
	var fix []ots.RowChange
	for k, e := range evs {
		switch {
		case e == nil:
		case applied[k] && !written[k]:
			if rows, err := s.auditPuts(*e); err == nil {
				fix = append(fix, rows...)
			}
		case !applied[k] && written[k]:
			fix = append(fix, s.auditDeletes(*e)...)
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
func rowsWritten(evs []*store.AuditEvent, res []ots.RowResult, from int, applied []bool) []bool {
	out := make([]bool, len(evs))
	j := from
	for k, e := range evs {
		if e == nil {
			continue
		}
		n := 1
		if e.Target != "" {
			n = 2
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
