package tablestore

import (
	"context"

	ots "github.com/aliyun/aliyun-tablestore-go-sdk/tablestore"

	"github.com/sase-multiaccount/backend/shared/port/store"
)

// ListChanges implements store.Feed: one forward GetRange from the
// cursor's own row (feed.go explains the positions). Holes are filled with
// tombstones once settled (one BatchWriteRow, only then), and the range is
// read again from there.
func (s *Store) ListChanges(ctx context.Context, dirID string, after int64, limit int) ([]store.Change, int64, bool, error) {
	if err := store.CheckFeedQuery(dirID, after, limit); err != nil {
		return nil, 0, false, err
	}
	var out []store.Change
	next := after
	for range 10 { // each round settles at least one hole
		rows, err := s.feedRows(ctx, dirID, next, limit-len(out)+2)
		if err != nil {
			return nil, 0, false, err
		}
		p := feedPage{dir: dirID, after: next, limit: limit - len(out), full: len(rows) == limit-len(out)+2}
		chs, n, more, hole, err := p.walk(rows, s.settled)
		if err != nil {
			return nil, 0, false, err
		}
		out, next = append(out, chs...), n
		if hole == nil || more {
			return out, next, more, nil
		}
		if !s.fillHole(ctx, dirID, hole[0], hole[1]) {
			return out, next, false, nil // a change arrived there: the next call reads it
		}
	}
	return out, next, true, nil
}

// feedRows reads up to need rows from after's own row (from 1 when after
// is 0).
func (s *Store) feedRows(ctx context.Context, dirID string, after int64, need int) ([]feedRow, error) {
	rows, err := s.rangeRows(ctx, "ListChanges", s.cfg.ChangesTable,
		s.changePK(dirID, max(after, 1)), pk(colDir, dirID, colSeq, pkMax), ots.FORWARD, need)
	if err != nil {
		return nil, err
	}
	out := make([]feedRow, len(rows))
	for i, r := range rows {
		if out[i], err = decodeFeedRow(dirID, r); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// settled reports whether a row was written FeedSettle ago or more: a
// hole before it is a writer that failed or died, not one in flight.
func (s *Store) settled(r feedRow) bool {
	return s.cfg.Now().Sub(fromMs(r.written)) >= s.cfg.FeedSettle
}

// fillHole tombstones the positions [from, to) that hold nothing; false
// when one of them got its change meanwhile.
func (s *Store) fillHole(ctx context.Context, dirID string, from, to int64) bool {
	for start := from; start < to; start += batchRows {
		var rows []ots.RowChange
		for seq := start; seq < min(to, start+batchRows); seq++ {
			rows = append(rows, s.tombstone(dirID, seq, true))
		}
		res, _, err := s.batchWrite(ctx, "ListChanges/fill", rows)
		if err != nil {
			return false
		}
		for _, r := range res {
			if !r.IsSucceed {
				return false
			}
		}
	}
	return true
}

// feedPage walks the rows of one read.
type feedPage struct {
	dir   string
	after int64
	limit int
	full  bool // the read returned all it was asked for: more rows may follow
}

// walk returns the changes of rows after p.after up to the first unsettled
// hole, the position reached, whether more follow, and a settled hole
// [from, to) to fill before going on (nil when none).
func (p feedPage) walk(rows []feedRow, settled func(feedRow) bool) (out []store.Change, next int64, more bool, hole []int64, err error) {
	next, i := p.after, 0
	switch {
	case len(rows) == 0:
		return nil, next, false, nil, nil
	case p.after > 0 && rows[0].seq == p.after:
		i = 1 // the cursor's own row
	case p.after > 0 && rows[0].seq > p.after+1:
		// The cursor's row is gone (expired) and so are some after it.
		return nil, 0, false, nil, store.CursorExpired(p.dir, p.after)
	case p.after == 0 && rows[0].seq > 1:
		if !settled(rows[0]) {
			return nil, 0, false, nil, nil // the first positions may still be written
		}
		next = rows[0].seq - 1 // what came before expired
	}
	for ; i < len(rows); i++ {
		r := rows[i]
		if r.seq != next+1 {
			if settled(r) {
				return out, next, false, []int64{next + 1, r.seq}, nil
			}
			return out, next, false, nil, nil
		}
		if len(out) == p.limit {
			return out, next, true, nil, nil
		}
		if !r.tomb {
			out = append(out, r.change)
		}
		next = r.seq
	}
	return out, next, p.full, nil, nil
}
