package tablestore

import (
	"context"
	"fmt"
	"time"

	ots "github.com/aliyun/aliyun-tablestore-go-sdk/tablestore"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/port/store"
)

// Processed events: one row per key with its expiry. The table TTL removes
// old rows eventually; the expiry column decides, because TTL is counted
// from the write and is only a lower bound on when a row disappears.

func (s *Store) eventPut(key string, expires int64, token string) *ots.PutRowChange {
	ch := &ots.PutRowChange{TableName: s.cfg.EventsTable, PrimaryKey: pk(colEventKey, key)}
	ch.AddColumn(colExpires, expires)
	ch.AddColumn(colOp, token)
	return ch
}

// ClaimEvent implements store.ProcessedEvents: PutRow with
// EXPECT_NOT_EXIST; when a record exists, it is read, and taken over only
// if it has expired, with a PutRow conditional on the record read (so of
// concurrent claims exactly one wins). A failed condition that was this
// call's own write (a lost response) is recognised by the record's op_id.
func (s *Store) ClaimEvent(ctx context.Context, key string, expires time.Time) (bool, error) {
	const op = "ClaimEvent"
	if err := store.CheckEventKey(key); err != nil {
		return false, err
	}
	token, exp := newID(), toMs(expires)
	insert := true
	for range maxCAS {
		if insert {
			ch := s.eventPut(key, exp, token)
			ch.SetCondition(ots.RowExistenceExpectation_EXPECT_NOT_EXIST)
			_, err := s.putRow(ctx, op, ch)
			if err == nil {
				return true, nil
			}
			if !isConditionFailed(err) {
				return false, err
			}
		}
		found, row, err := s.getRow(ctx, op, s.cfg.EventsTable, pk(colEventKey, key), colExpires, colOp)
		if err != nil {
			return false, err
		}
		if !found {
			insert = true // released meanwhile
			continue
		}
		c := columnsOf(row.Columns)
		if c[colOp] == token {
			return true, nil
		}
		old, err := c.int(colExpires)
		if err != nil {
			return false, apperr.Internal(fmt.Errorf("tablestore: corrupt processed-event row %q: %w", key, err))
		}
		if fromMs(old).After(time.Now()) {
			return false, nil
		}
		// Expired: take it over unless someone else just did.
		ch := s.eventPut(key, exp, token)
		ch.SetCondition(ots.RowExistenceExpectation_EXPECT_EXIST)
		same := ots.NewSingleColumnCondition(colExpires, ots.CT_EQUAL, old)
		same.FilterIfMissing = true
		cond := ots.NewCompositeColumnCondition(ots.LO_AND)
		cond.AddFilter(same)
		if oldOp, ok := c[colOp].(string); ok {
			sameOp := ots.NewSingleColumnCondition(colOp, ots.CT_EQUAL, oldOp)
			sameOp.FilterIfMissing = true
			cond.AddFilter(sameOp)
		}
		ch.SetColumnCondition(cond)
		_, err = s.putRow(ctx, op, ch)
		if err == nil {
			return true, nil
		}
		if !isConditionFailed(err) {
			return false, err
		}
		insert = false // read again: someone changed it, or our write landed
	}
	return false, apperr.Unavailable(service, fmt.Errorf("tablestore %s %q: still changing after %d attempts", op, key, maxCAS))
}

// ReleaseEvent implements store.ProcessedEvents: DeleteRow (IGNORE), so
// releasing an unknown key is not an error.
func (s *Store) ReleaseEvent(ctx context.Context, key string) error {
	if err := store.CheckEventKey(key); err != nil {
		return err
	}
	ch := &ots.DeleteRowChange{TableName: s.cfg.EventsTable, PrimaryKey: pk(colEventKey, key)}
	ch.SetCondition(ots.RowExistenceExpectation_IGNORE)
	_, err := s.deleteRow(ctx, "ReleaseEvent", ch)
	return err
}
