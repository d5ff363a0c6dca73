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

// The membership change feed (store.Feed, docs/DESIGN.md §13).
//
// Key: sase_member_changes PK (directory_id, seq), seq a position written
// as 20 digits, so that "the changes after a cursor" is one forward
// GetRange from the cursor's own key.
//
// Commit order. Positions are not clock readings: two instances writing in
// the same millisecond would order their changes by chance, and a reader
// between their writes could pass a change that commits a moment later.
// Instead every audited batch first takes its positions from the
// directory's counter — one UpdateRow that increments sase_webhooks
// (directory_id, "~feed").seq by the number of its changes and returns the
// new value (atomic in the service, so no two writers get a position
// twice) — and then writes each change's feed row in the same
// BatchWriteRow as the change and its audit record, with EXPECT_NOT_EXIST.
// Positions are dense: 1, 2, 3, …. A reader walks them in order and stops
// at the first missing one, so it never passes a change that has yet to
// commit. A position stays missing only if its writer failed or died
// between taking it and writing: once the row after it is FeedSettle old,
// the reader fills the hole with a tombstone (a PutRow EXPECT_NOT_EXIST
// that the late writer, should it still come, would lose — its change is
// then written again at a new position by its settling, below). So the
// order readers see is the order in which positions were settled, and no
// reader ever skips a change or sees one twice.
//
// A batch whose changes did not all happen is settled like its audit rows
// (auditrows.go): the feed row of a change that did not happen becomes a
// tombstone at once, a change that happened gets its row written again.
//
// Retention: the table's TTL is store.FeedRetention plus a day. A cursor
// whose own row expired while rows after it are missing too means the
// consumer was away too long: CursorExpired.

// feedHeadItem is the counter row's key in the webhooks table; webhook IDs
// never start with "~" (store.CheckWebhookKey).
const feedHeadItem = "~feed"

// feedKeep is the changes table's TTL: the port's retention and a day.
const feedKeep = store.FeedRetention + 24*time.Hour

const (
	colSeq        = "seq"
	colChangeType = "change_type"
	colTombstone  = "tombstone"
	colWebhookID  = "webhook_id"
)

func seqKey(n int64) string { return fmt.Sprintf("%020d", n) }

func (s *Store) changePK(dirID string, seq int64) *ots.PrimaryKey {
	return pk(colDir, dirID, colSeq, seqKey(seq))
}

// allocate takes n positions of the directory's feed and returns the
// first.
func (s *Store) allocate(ctx context.Context, dirID string, n int) (int64, error) {
	ch := &ots.UpdateRowChange{TableName: s.cfg.WebhooksTable, PrimaryKey: pk(colDir, dirID, colWebhookID, feedHeadItem)}
	ch.IncrementColumn(colSeq, int64(n))
	ch.SetCondition(ots.RowExistenceExpectation_IGNORE)
	ch.SetReturnIncrementValue()
	ch.AppendIncrementColumnToReturn(colSeq)
	var resp *ots.UpdateRowResponse
	_, err := s.call(ctx, "AllocateFeed", "UpdateRow", func(extra ots.ExtraRequestInfo) error {
		var e error
		resp, e = s.client.UpdateRow(&ots.UpdateRowRequest{UpdateRowChange: ch, ExtraRequestInfo: extra})
		return e
	})
	if err != nil {
		return 0, err
	}
	head, err := columnsOf(resp.Columns).int(colSeq)
	if err != nil {
		return 0, apperr.Internal(fmt.Errorf("tablestore: feed counter of %s: %w", dirID, err))
	}
	return head - int64(n) + 1, nil
}

// feedPut is the feed row of r at its position: the audit record's columns
// (one encoding for both), the change, and the member row it left.
func (s *Store) feedPut(r *auditRec) (*ots.PutRowChange, error) {
	ch, err := s.auditPut(r.AuditEvent, s.cfg.ChangesTable, s.changePK(r.DirectoryID, r.seq))
	if err != nil {
		return nil, err
	}
	m := r.member
	ch.AddColumn(colEventID, r.ID)
	ch.AddColumn(colChangeType, string(r.change))
	ch.AddColumn(colAccount, m.AccountID)
	ch.AddColumn(colAccountName, m.AccountName)
	ch.AddColumn(colRemark, m.Remark)
	ch.AddColumn(colVersion, m.Version)
	ch.AddColumn(colAddTime, toMs(m.AddTime))
	ch.AddColumn(colAddedBy, m.AddedBy)
	ch.SetCondition(ots.RowExistenceExpectation_EXPECT_NOT_EXIST)
	return ch, nil
}

// tombstone marks a position that holds no change. expectMissing: only
// if nothing is there (a reader filling a hole, a writer giving up a
// position it never wrote); otherwise it replaces the writer's own row
// (a change that did not happen).
func (s *Store) tombstone(dirID string, seq int64, expectMissing bool) *ots.PutRowChange {
	ch := &ots.PutRowChange{TableName: s.cfg.ChangesTable, PrimaryKey: s.changePK(dirID, seq)}
	ch.AddColumn(colTombstone, true)
	ch.SetCondition(ots.RowExistenceExpectation_IGNORE)
	if expectMissing {
		ch.SetCondition(ots.RowExistenceExpectation_EXPECT_NOT_EXIST)
	}
	return ch
}

// feedRow is one row of the changes table as a reader sees it.
type feedRow struct {
	seq     int64
	tomb    bool
	written int64 // ms, the newest cell timestamp (the service's clock)
	change  store.Change
}

func decodeFeedRow(dirID string, r *ots.Row) (feedRow, error) {
	kv := pkValues(r.PrimaryKey)
	key, _ := kv[colSeq].(string)
	seq, err := strconv.ParseInt(key, 10, 64)
	if err != nil {
		return feedRow{}, apperr.Internal(fmt.Errorf("tablestore: feed row %s/%q: %w", dirID, key, err))
	}
	out := feedRow{seq: seq}
	for _, c := range r.Columns {
		out.written = max(out.written, c.Timestamp)
	}
	c := columnsOf(r.Columns)
	if t, _ := c[colTombstone].(bool); t {
		out.tomb = true
		return out, nil
	}
	id, _ := c[colEventID].(string)
	// The audit columns are decoded by the audit decoder itself, so the
	// feed carries whatever an audit record holds.
	ev, err := decodeAudit(dirID, &ots.Row{PrimaryKey: pk(colEventID, id), Columns: r.Columns})
	if err != nil {
		return feedRow{}, err
	}
	rd := &colReader{c: c}
	m := store.Member{DirectoryID: dirID, AccountID: rd.str(colAccount), AccountName: rd.str(colAccountName),
		Remark: rd.str(colRemark), Version: rd.int(colVersion), AddTime: fromMs(rd.int(colAddTime)), AddedBy: rd.str(colAddedBy)}
	typ := store.ChangeType(rd.str(colChangeType))
	if len(rd.errs) > 0 || id == "" || typ == "" {
		return feedRow{}, apperr.Internal(fmt.Errorf("tablestore: corrupt feed row %s/%d: %v", dirID, seq, rd.errs))
	}
	out.change = store.Change{Seq: seq, Type: typ, Member: m, Record: ev}
	return out, nil
}

// FeedHead implements store.Feed: one GetRow of the counter.
func (s *Store) FeedHead(ctx context.Context, dirID string) (int64, error) {
	if err := store.CheckDir(dirID); err != nil {
		return 0, err
	}
	found, row, err := s.getRow(ctx, "FeedHead", s.cfg.WebhooksTable, pk(colDir, dirID, colWebhookID, feedHeadItem), colSeq)
	if err != nil || !found {
		return 0, err
	}
	n, err := columnsOf(row.Columns).int(colSeq)
	if err != nil {
		return 0, apperr.Internal(fmt.Errorf("tablestore: feed counter of %s: %w", dirID, err))
	}
	return n, nil
}

// settleFeed settles the feed rows of a batch once its outcome is known
// (settleAudit's arguments): a change that did not happen leaves a
// tombstone at its position at once, so readers need not wait FeedSettle;
// a change that happened whose feed row is not known to be stored gets it
// written, at a new position if a reader has tombstoned the old one.
func (s *Store) settleFeed(ctx context.Context, op string, evs []*auditRec, applied, written []bool) {
	ctx = context.WithoutCancel(ctx) // the batch is done: settle it
	var drop []ots.RowChange
	for k, e := range evs {
		switch {
		case e == nil || e.change == "" || e.seq == 0:
		case !applied[k]:
			// Nothing of it stored: only where nothing is (a reader's
			// tombstone is as good); else replace its own row.
			drop = append(drop, s.tombstone(e.DirectoryID, e.seq, !written[k]))
		case !written[k]:
			s.rewriteFeed(ctx, op, e)
		}
	}
	if len(drop) == 0 {
		return
	}
	if _, _, err := s.batchWrite(ctx, op+"/feed", drop); err != nil {
		s.cfg.Logf("tablestore: %s: could not mark %d feed positions empty (%v); readers fill them after %s", op, len(drop), err, s.cfg.FeedSettle)
	}
}

// abandonFeed gives up the positions of a batch that was not applied.
func (s *Store) abandonFeed(ctx context.Context, op string, evs []*auditRec) {
	none := make([]bool, len(evs))
	s.settleFeed(ctx, op, evs, none, none)
}

// rewriteFeed writes the feed row of a change that happened, unless it is
// there already; at a new position when a reader tombstoned its own.
func (s *Store) rewriteFeed(ctx context.Context, op string, e *auditRec) {
	for range 3 {
		ch, err := s.feedPut(e)
		if err == nil {
			_, err = s.putRow(ctx, op+"/feed", ch)
		}
		if err == nil {
			return
		}
		if !isConditionFailed(err) {
			break
		}
		found, row, gerr := s.getRow(ctx, op+"/feed", s.cfg.ChangesTable, s.changePK(e.DirectoryID, e.seq), colTombstone)
		if gerr != nil {
			err = gerr
			break
		}
		if tomb, _ := columnsOf(row.Columns)[colTombstone].(bool); found && !tomb {
			return // its own row is there
		}
		if e.seq, err = s.allocate(ctx, e.DirectoryID, 1); err != nil {
			break
		}
	}
	s.cfg.Logf("tablestore: %s: the feed entry of audit record %s could not be written; the change is in the audit trail but not in the feed", op, e.ID)
}
