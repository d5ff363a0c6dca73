package tablestore

import (
	"context"
	"time"

	ots "github.com/aliyun/aliyun-tablestore-go-sdk/tablestore"

	"github.com/sase-multiaccount/backend/shared/port/store"
)

// PutWebhook implements store.Webhooks: the conditional row write and its
// audit rows in one BatchWriteRow (settled like a member change), then one
// GetRow for the row as stored (its progress).
func (s *Store) PutWebhook(ctx context.Context, w store.WebhookWrite) (store.Webhook, error) {
	const op = "PutWebhook"
	h := w.Webhook
	if err := store.CheckWebhookKey(h.DirectoryID, h.ID); err != nil {
		return store.Webhook{}, err
	}
	cols, err := settingColumns(h, w.ExpectVersion+1)
	if err != nil {
		return store.Webhook{}, err
	}
	var ch ots.RowChange
	if w.ExpectVersion == 0 {
		put := &ots.PutRowChange{TableName: s.cfg.WebhooksTable, PrimaryKey: s.webhookPK(h.DirectoryID, h.ID)}
		for _, c := range append(append(cols, column{colCreateTime, timeMs(h.CreateTime)}), deliveryColumns(h.Delivery)...) {
			put.AddColumn(c.name, c.value)
		}
		put.SetCondition(ots.RowExistenceExpectation_EXPECT_NOT_EXIST)
		ch = put
	} else {
		if w.ClearFailure {
			cols = append(cols, column{colAttempts, int64(0)}, column{colNextAttempt, int64(0)}, column{colFailingSince, int64(0)})
		}
		ch = s.webhookUpdate(h.DirectoryID, h.ID, cols, versionIs(w.ExpectVersion))
	}
	if err := s.writeWebhook(ctx, op, ch, &w.Record); err != nil {
		if !isConditionFailed(err) {
			return store.Webhook{}, err
		}
		return store.Webhook{}, s.whyRefused(ctx, op, h.DirectoryID, h.ID, w.ExpectVersion)
	}
	got, found, err := s.getWebhook(ctx, op, h.DirectoryID, h.ID)
	if err == nil && !found {
		err = store.WebhookNotFound(h.DirectoryID, h.ID) // deleted meanwhile
	}
	return got, err
}

func (s *Store) webhookUpdate(dirID, id string, cols []column, cond ots.ColumnFilter) *ots.UpdateRowChange {
	up := &ots.UpdateRowChange{TableName: s.cfg.WebhooksTable, PrimaryKey: s.webhookPK(dirID, id)}
	for _, c := range cols {
		up.PutColumn(c.name, c.value)
	}
	up.SetCondition(ots.RowExistenceExpectation_EXPECT_EXIST)
	if cond != nil {
		up.SetColumnCondition(cond)
	}
	return up
}

// writeWebhook writes one webhook row change, with record's audit rows in
// the same batch when record is set. A failed condition is returned as
// the SDK's (isConditionFailed).
func (s *Store) writeWebhook(ctx context.Context, op string, ch ots.RowChange, record *store.AuditEvent) error {
	if record == nil {
		up := ch.(*ots.UpdateRowChange)
		_, err := s.updateRow(ctx, op, up)
		return err
	}
	evs := []*auditRec{plainRecord(*record)}
	rows, err := s.auditRows(ctx, evs)
	if err != nil {
		return err
	}
	res, _, err := s.batchWrite(ctx, op, append([]ots.RowChange{ch}, rows...))
	if err != nil {
		return err
	}
	applied := []bool{res[0].IsSucceed}
	s.settleAudit(ctx, op, evs, applied, rowsWritten(evs, res, 1, applied))
	if !res[0].IsSucceed {
		if rowConditionFailed(res[0]) {
			return &ots.OtsError{Code: codeConditionFailed, Message: res[0].Error.Message}
		}
		return rowError(op, res[0].Error)
	}
	return nil
}

// whyRefused names the failed condition of a settings write: a webhook
// that does not exist, exists already, or is at another version.
func (s *Store) whyRefused(ctx context.Context, op, dirID, id string, expect int64) error {
	cur, found, err := s.getWebhook(ctx, op, dirID, id)
	switch {
	case err != nil:
		return err
	case !found && expect != 0:
		return store.WebhookNotFound(dirID, id)
	case !found:
		return store.LeaseConflict(id) // created and deleted meanwhile
	}
	return store.WebhookConflict(id, expect, cur.Version)
}

// DeleteWebhook implements store.Webhooks: DeleteRow (EXPECT_EXIST) and
// the audit rows in one BatchWriteRow.
func (s *Store) DeleteWebhook(ctx context.Context, dirID, id string, record store.AuditEvent) error {
	if err := store.CheckWebhookKey(dirID, id); err != nil {
		return err
	}
	ch := &ots.DeleteRowChange{TableName: s.cfg.WebhooksTable, PrimaryKey: s.webhookPK(dirID, id)}
	ch.SetCondition(ots.RowExistenceExpectation_EXPECT_EXIST)
	err := s.writeWebhook(ctx, "DeleteWebhook", ch, &record)
	if isConditionFailed(err) {
		return store.WebhookNotFound(dirID, id)
	}
	return err
}

// AcquireWebhook implements store.Webhooks: one conditional UpdateRow
// (cursor unchanged, lease free or ours); on a refusal one GetRow to tell
// a missing webhook from a busy one.
func (s *Store) AcquireWebhook(ctx context.Context, dirID, id, owner string, cursor int64, attempts int, now, until time.Time) error {
	const op = "AcquireWebhook"
	if err := store.CheckWebhookKey(dirID, id); err != nil {
		return err
	}
	free := ots.NewCompositeColumnCondition(ots.LO_OR)
	free.AddFilter(ots.NewSingleColumnCondition(colLeaseUntil, ots.CT_LESS_THAN, toMs(now)))
	free.AddFilter(ots.NewSingleColumnCondition(colLeaseOwner, ots.CT_EQUAL, owner))
	cond := ots.NewCompositeColumnCondition(ots.LO_AND)
	at := ots.NewSingleColumnCondition(colCursor, ots.CT_EQUAL, cursor)
	at.FilterIfMissing = true
	cond.AddFilter(at)
	// A webhook row without the column has never failed (0 attempts).
	cond.AddFilter(ots.NewSingleColumnCondition(colAttempts, ots.CT_EQUAL, int64(attempts)))
	cond.AddFilter(free)
	ch := s.webhookUpdate(dirID, id, []column{{colLeaseOwner, owner}, {colLeaseUntil, toMs(until)}}, cond)
	return s.leaseRefusal(ctx, op, dirID, id, s.writeWebhook(ctx, op, ch, nil))
}

// leaseRefusal turns a failed condition of a deliverer's write into
// NotFound (no such webhook) or LeaseConflict.
func (s *Store) leaseRefusal(ctx context.Context, op, dirID, id string, err error) error {
	if !isConditionFailed(err) {
		return err
	}
	_, found, gerr := s.getWebhook(ctx, op, dirID, id)
	switch {
	case gerr != nil:
		return gerr
	case !found:
		return store.WebhookNotFound(dirID, id)
	}
	return store.LeaseConflict(id)
}

// AdvanceWebhook implements store.Webhooks: one conditional UpdateRow
// (lease ours, settings at Version) that also records the Attempt, in one
// BatchWriteRow with the audit rows of a Disable.
func (s *Store) AdvanceWebhook(ctx context.Context, dirID, id string, a store.Advance) error {
	const op = "AdvanceWebhook"
	if err := store.CheckWebhookKey(dirID, id); err != nil {
		return err
	}
	cols := deliveryColumns(a.Delivery)
	if a.Attempt != nil {
		c, err := attemptColumn(a.Delivery.AttemptSeq, *a.Attempt)
		if err != nil {
			return err
		}
		cols = append(cols, c)
	}
	if a.Disable {
		cols = append(cols, column{colEnabled, false}, column{colVersion, a.Version + 1})
		if a.Record != nil {
			cols = append(cols, column{colUpdateTime, toMs(a.Record.Time)})
		}
	}
	cond := ots.NewCompositeColumnCondition(ots.LO_AND)
	own := ots.NewSingleColumnCondition(colLeaseOwner, ots.CT_EQUAL, a.Owner)
	own.FilterIfMissing = true
	cond.AddFilter(own)
	cond.AddFilter(versionIs(a.Version))
	ch := s.webhookUpdate(dirID, id, cols, cond)
	return s.leaseRefusal(ctx, op, dirID, id, s.writeWebhook(ctx, op, ch, a.Record))
}
