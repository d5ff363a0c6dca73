package tablestore

import (
	"context"
	"fmt"

	ots "github.com/aliyun/aliyun-tablestore-go-sdk/tablestore"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/port/store"
)

// AppendAudit implements store.Audit: every event is validated first, then
// written with BatchWriteRow (PutRow, IGNORE), batchRows at a time. Rows
// are keyed by (directory, ID), so a retried append overwrites the same
// rows. A failed batch or row fails the call; batches before it stay
// written (retrying the call is harmless).
func (s *Store) AppendAudit(ctx context.Context, events []store.AuditEvent) error {
	const op = "AppendAudit"
	if err := store.CheckAuditEvents(events); err != nil {
		return err
	}
	// One batch must not name a row twice; the last event of a key wins.
	type key struct{ dir, id string }
	last := map[key]int{}
	for i, e := range events {
		last[key{e.DirectoryID, e.ID}] = i
	}
	var changes []ots.RowChange
	for i, e := range events {
		if last[key{e.DirectoryID, e.ID}] != i {
			continue
		}
		rows, err := s.auditPuts(e)
		if err != nil {
			return err
		}
		changes = append(changes, rows...)
	}
	for start := 0; start < len(changes); start += batchRows {
		chunk := changes[start:min(start+batchRows, len(changes))]
		res, _, err := s.batchWrite(ctx, op, chunk)
		if err != nil {
			return err
		}
		failed := 0
		var firstErr error
		for _, r := range res {
			if !r.IsSucceed {
				failed++
				if firstErr == nil {
					firstErr = rowError(op, r.Error)
				}
			}
		}
		if failed > 0 {
			e, _ := apperr.As(firstErr)
			e.Err = fmt.Errorf("%d of %d audit rows failed, first: %w", failed, len(chunk), e.Err)
			return e
		}
	}
	return nil
}

// ListAudit implements store.Audit: one backward GetRange from before.
func (s *Store) ListAudit(ctx context.Context, dirID string, limit int, before string) ([]store.AuditEvent, bool, error) {
	if err := store.CheckDir(dirID); err != nil {
		return nil, false, err
	}
	return s.auditPage(ctx, "ListAudit", dirID, s.cfg.AuditTable, colEventID, "", limit, before)
}

// ListAuditByTarget implements store.Audit: one backward GetRange of the
// target's timeline table from before.
func (s *Store) ListAuditByTarget(ctx context.Context, dirID, target string, limit int, before string) ([]store.AuditEvent, bool, error) {
	if err := store.CheckMemberKey(dirID, target); err != nil {
		return nil, false, err
	}
	return s.auditPage(ctx, "ListAuditByTarget", dirID, s.cfg.TargetTable, colTargetEvent, target+"|", limit, before)
}

// auditPage reads up to limit records newest first from table, whose second
// key column is col holding prefix+ID, with IDs strictly less than before.
func (s *Store) auditPage(ctx context.Context, op, dirID, table, col, prefix string, limit int, before string) ([]store.AuditEvent, bool, error) {
	if err := store.CheckLimit(limit); err != nil {
		return nil, false, err
	}
	need := limit + 1
	// The range ends just past the prefix: "|" + 1 is "}", after every ID.
	start := pk(colDir, dirID, col, pkMax)
	if prefix != "" {
		start = pk(colDir, dirID, col, prefix[:len(prefix)-1]+"}")
	}
	if before != "" {
		// Inclusive start; the row at before itself is skipped.
		start = pk(colDir, dirID, col, prefix+before)
		need++
	}
	end := pk(colDir, dirID, col, pkMin)
	if prefix != "" {
		end = pk(colDir, dirID, col, prefix)
	}
	rows, err := s.rangeRows(ctx, op, table, start, end, ots.BACKWARD, need)
	if err != nil {
		return nil, false, err
	}
	events := make([]store.AuditEvent, 0, min(len(rows), limit))
	for i, r := range rows {
		if i == 0 && before != "" && pkValues(r.PrimaryKey)[col] == prefix+before {
			continue
		}
		if len(events) == limit {
			return events, true, nil
		}
		e, err := decodeAudit(dirID, r)
		if err != nil {
			return nil, false, err
		}
		events = append(events, e)
	}
	return events, false, nil
}
