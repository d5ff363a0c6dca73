package tablestore

import (
	"context"
	"fmt"

	ots "github.com/aliyun/aliyun-tablestore-go-sdk/tablestore"

	"github.com/sase-multiaccount/backend/shared/apperr"
)

// Thin wrappers over the SDK calls the adapter makes: each checks ctx,
// tags the call with a trace ID (to learn whether the SDK retried it) and
// classifies errors.

// getRow reads one row; found is false when it does not exist.
func (s *Store) getRow(ctx context.Context, op, table string, key *ots.PrimaryKey, cols ...string) (found bool, row *ots.GetRowResponse, err error) {
	_, err = s.call(ctx, op, "GetRow", func(extra ots.ExtraRequestInfo) error {
		req := &ots.GetRowRequest{
			SingleRowQueryCriteria: &ots.SingleRowQueryCriteria{TableName: table, PrimaryKey: key, MaxVersion: 1, ColumnsToGet: cols},
			ExtraRequestInfo:       extra,
		}
		var e error
		row, e = s.client.GetRow(req)
		return e
	})
	if err != nil {
		return false, nil, err
	}
	return len(row.PrimaryKey.PrimaryKeys) > 0, row, nil
}

// batchGet reads rows by key, batchGetRows per request, and returns one
// result per key in order (a missing row has an empty PrimaryKey). A
// failure of a later request leaves those results with Error set.
func (s *Store) batchGet(ctx context.Context, op, table string, keys []*ots.PrimaryKey, cols ...string) ([]ots.RowResult, error) {
	out := make([]ots.RowResult, 0, len(keys))
	for start := 0; start < len(keys); start += batchGetRows {
		chunk := keys[start:min(start+batchGetRows, len(keys))]
		var resp *ots.BatchGetRowResponse
		_, err := s.call(ctx, op, "BatchGetRow", func(extra ots.ExtraRequestInfo) error {
			crit := &ots.MultiRowQueryCriteria{TableName: table, MaxVersion: 1, ColumnsToGet: cols}
			for _, k := range chunk {
				crit.AddRow(k)
			}
			var e error
			resp, e = s.client.BatchGetRow(&ots.BatchGetRowRequest{MultiRowQueryCriteria: []*ots.MultiRowQueryCriteria{crit}, ExtraRequestInfo: extra})
			return e
		})
		if err != nil {
			return out, err
		}
		rows := resp.TableToRowsResult[table]
		if len(rows) != len(chunk) {
			return out, apperr.Internal(fmt.Errorf("tablestore %s: BatchGetRow returned %d results for %d keys", op, len(rows), len(chunk)))
		}
		out = append(out, rows...)
	}
	return out, nil
}

// batchWrite sends one BatchWriteRow (at most batchRows changes) and
// returns the results of each change in the order given. The service
// answers 200 even when rows fail: every result must be checked.
func (s *Store) batchWrite(ctx context.Context, op string, changes []ots.RowChange) (results []ots.RowResult, retried bool, err error) {
	req := &ots.BatchWriteRowRequest{}
	pos := make([]int, len(changes)) // index of each change within its table
	perTable := map[string]int{}
	for i, ch := range changes {
		req.AddRowChange(ch)
		pos[i] = perTable[ch.GetTableName()]
		perTable[ch.GetTableName()]++
	}
	var resp *ots.BatchWriteRowResponse
	retried, err = s.call(ctx, op, "BatchWriteRow", func(extra ots.ExtraRequestInfo) error {
		req.ExtraRequestInfo = extra
		var e error
		resp, e = s.client.BatchWriteRow(req)
		return e
	})
	if err != nil {
		return nil, retried, err
	}
	results = make([]ots.RowResult, len(changes))
	for i, ch := range changes {
		rows := resp.TableToRowsResult[ch.GetTableName()]
		if len(rows) != perTable[ch.GetTableName()] {
			return nil, retried, apperr.Internal(fmt.Errorf("tablestore %s: BatchWriteRow returned %d results for %d rows of %s",
				op, len(rows), perTable[ch.GetTableName()], ch.GetTableName()))
		}
		results[i] = rows[pos[i]]
	}
	return results, retried, nil
}

// rangeRows reads up to need rows (0 = all) from start towards end,
// following NextStartPrimaryKey across the pages the service cuts.
func (s *Store) rangeRows(ctx context.Context, op, table string, start, end *ots.PrimaryKey, dir ots.Direction, need int, cols ...string) ([]*ots.Row, error) {
	var out []*ots.Row
	for {
		var resp *ots.GetRangeResponse
		_, err := s.call(ctx, op, "GetRange", func(extra ots.ExtraRequestInfo) error {
			crit := &ots.RangeRowQueryCriteria{
				TableName: table, StartPrimaryKey: start, EndPrimaryKey: end,
				Direction: dir, MaxVersion: 1, ColumnsToGet: cols,
			}
			if need > 0 {
				crit.Limit = int32(min(need-len(out), 5000))
			}
			var e error
			resp, e = s.client.GetRange(&ots.GetRangeRequest{RangeRowQueryCriteria: crit, ExtraRequestInfo: extra})
			return e
		})
		if err != nil {
			return nil, err
		}
		out = append(out, resp.Rows...)
		if (need > 0 && len(out) >= need) || resp.NextStartPrimaryKey == nil {
			return out, nil
		}
		start = resp.NextStartPrimaryKey
	}
}

// updateRow sends one UpdateRow; a failed condition is reported by
// isConditionFailed(err).
func (s *Store) updateRow(ctx context.Context, op string, ch *ots.UpdateRowChange) (retried bool, err error) {
	return s.call(ctx, op, "UpdateRow", func(extra ots.ExtraRequestInfo) error {
		_, e := s.client.UpdateRow(&ots.UpdateRowRequest{UpdateRowChange: ch, ExtraRequestInfo: extra})
		return e
	})
}

func (s *Store) putRow(ctx context.Context, op string, ch *ots.PutRowChange) (retried bool, err error) {
	return s.call(ctx, op, "PutRow", func(extra ots.ExtraRequestInfo) error {
		_, e := s.client.PutRow(&ots.PutRowRequest{PutRowChange: ch, ExtraRequestInfo: extra})
		return e
	})
}

func rowConditionFailed(r ots.RowResult) bool {
	return !r.IsSucceed && r.Error.Code == codeConditionFailed
}
