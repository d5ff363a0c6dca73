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

// EventProcessed implements store.ProcessedEvents: one GetRow.
func (s *Store) EventProcessed(ctx context.Context, key string) (bool, error) {
	const op = "EventProcessed"
	if err := store.CheckEventKey(key); err != nil {
		return false, err
	}
	found, row, err := s.getRow(ctx, op, s.cfg.EventsTable, pk(colEventKey, key), colExpires)
	if err != nil || !found {
		return false, err
	}
	exp, err := columnsOf(row.Columns).int(colExpires)
	if err != nil {
		return false, apperr.Internal(fmt.Errorf("tablestore: corrupt processed-event row %q: %w", key, err))
	}
	return fromMs(exp).After(time.Now()), nil
}

// MarkEventProcessed implements store.ProcessedEvents: one PutRow (IGNORE),
// so a second mark of the same key just moves its expiry.
func (s *Store) MarkEventProcessed(ctx context.Context, key string, expires time.Time) error {
	if err := store.CheckEventKey(key); err != nil {
		return err
	}
	ch := s.eventPut(key, toMs(expires), newID())
	ch.SetCondition(ots.RowExistenceExpectation_IGNORE)
	_, err := s.putRow(ctx, "MarkEventProcessed", ch)
	return err
}

// generationKey is the counters-table row of the directory generation; it
// cannot collide with a directory ID (RD IDs start with "rd-").
const generationKey = "~generation"

// Generation implements store.Generations: one GetRow.
func (s *Store) Generation(ctx context.Context) (int64, error) {
	found, row, err := s.getRow(ctx, "Generation", s.cfg.CountersTable, pk(colDir, generationKey), colCount)
	if err != nil || !found {
		return 0, err
	}
	g, err := columnsOf(row.Columns).int(colCount)
	if err != nil {
		return 0, apperr.Internal(fmt.Errorf("tablestore: corrupt generation row: %w", err))
	}
	return g, nil
}

// BumpGeneration implements store.Generations: one UpdateRow with an atomic
// increment, then one GetRow for the new value. A resend after a lost response may bump twice, which only
// makes instances drop their role answers once more.
func (s *Store) BumpGeneration(ctx context.Context) (int64, error) {
	ch := &ots.UpdateRowChange{TableName: s.cfg.CountersTable, PrimaryKey: pk(colDir, generationKey)}
	ch.IncrementColumn(colCount, 1)
	ch.SetCondition(ots.RowExistenceExpectation_IGNORE)
	if _, err := s.updateRow(ctx, "BumpGeneration", ch); err != nil {
		return 0, err
	}
	return s.Generation(ctx)
}
