package otsfake

import (
	"slices"

	pb "github.com/aliyun/aliyun-tablestore-go-sdk/tablestore/otsprotocol"
	"github.com/golang/protobuf/proto"
)

// rangeQuery is a validated GetRange request.
type rangeQuery struct {
	t          *table
	st         *store   // the rows of t or of one of its indexes
	pkNames    []string // their key column names
	o          readOpts
	start, end []value
	forward    bool
	limit      int // rows per page
}

func (s *Server) getRange(req *pb.GetRangeRequest) (proto.Message, *opError) {
	q, oe := s.newRangeQuery(req)
	if oe != nil {
		return nil, oe
	}
	rows, read, next := q.scan(s.now())
	resp := &pb.GetRangeResponse{
		Consumed:      consumed(cu(read), 0),
		Rows:          encodeRows(rows...),
		DataBlockType: pb.DataBlockType_DBT_PLAIN_BUFFER.Enum(),
		CompressType:  pb.CompressType_CPT_NONE.Enum(),
	}
	// data_block_type_hint is a hint: the service may answer in another
	// format and names the one it used in data_block_type. The fake
	// answers SIMPLE_ROW_MATRIX when asked and the page fits it (one
	// version per cell), PlainBuffer otherwise.
	if req.GetDataBlockTypeHint() == pb.DataBlockType_DBT_SIMPLE_ROW_MATRIX {
		if b, ok := encodeMatrix(q.pkNames, q.matrixColumns(), rows); ok {
			resp.Rows, resp.DataBlockType = b, pb.DataBlockType_DBT_SIMPLE_ROW_MATRIX.Enum()
		}
	}
	if next != nil {
		// UNCONFIRMED: whether the service also returns a next key when a
		// page ends exactly at the last row of the range; the fake returns
		// one only when another row follows.
		resp.NextStartPrimaryKey = encodeRows(pkRow(q.pkNames, next))
	}
	return resp, nil
}

// newRangeQuery decodes and validates a GetRange request: the table or
// index, read options, bounds in the direction's order, and the page limit.
func (s *Server) newRangeQuery(req *pb.GetRangeRequest) (*rangeQuery, *opError) {
	if req.TransactionId != nil || len(req.Token) > 0 {
		return nil, errUnsupported("A transaction_id or token")
	}
	t, ix, oe := s.readable(req.GetTableName())
	if oe != nil {
		return nil, oe
	}
	o, oe := newReadOpts(req.MaxVersions, req.TimeRange, req.ColumnsToGet, req.Filter, req.StartColumn, req.EndColumn)
	if oe != nil {
		return nil, oe
	}
	startRow, err := decodeRow(req.InclusiveStartPrimaryKey)
	if err != nil {
		return nil, decodeErr(err)
	}
	endRow, err := decodeRow(req.ExclusiveEndPrimaryKey)
	if err != nil {
		return nil, decodeErr(err)
	}
	st, pkNames, oe := s.target(t, ix, startRow.pk, true)
	if oe != nil {
		return nil, oe
	}
	if _, _, oe := s.target(t, ix, endRow.pk, true); oe != nil {
		return nil, oe
	}
	q := &rangeQuery{t: t, st: st, pkNames: pkNames, o: o, start: cellValues(startRow.pk), end: cellValues(endRow.pk),
		forward: req.GetDirection() == pb.Direction_FORWARD, limit: s.opts.PageRows}
	if c := comparePK(q.start, q.end); q.forward && c >= 0 {
		return nil, errParam("Begin key must less than end key in FORWARD.")
	} else if !q.forward && c <= 0 {
		return nil, errParam("Begin key must more than end key in BACKWARD.")
	}
	if req.Limit != nil {
		if req.GetLimit() <= 0 {
			return nil, errParam("The limit must be greater than 0.")
		}
		q.limit = min(q.limit, int(req.GetLimit()))
	}
	return q, nil
}

// scan reads one page: the rows in range that pass the read options, up to
// the row limit or maxPageBytes; read is the bytes read for capacity, and
// next the key to resume at (nil when the range is done).
func (q *rangeQuery) scan(now int64) (rows []pbRow, read int, next []value) {
	st := q.st
	i, step := st.search(q.start), 1
	if !q.forward {
		// The last row with key <= start.
		if i == len(st.rows) || comparePK(st.rows[i].pk, q.start) > 0 {
			i--
		}
		step = -1
	}
	bytes := 0
	for ; i >= 0 && i < len(st.rows); i += step {
		r := st.rows[i]
		if c := comparePK(r.pk, q.end); (q.forward && c >= 0) || (!q.forward && c <= 0) {
			break
		}
		if len(rows) >= q.limit || bytes >= maxPageBytes {
			return rows, read, r.pk
		}
		cols, ok := q.t.visible(r, now)
		if !ok {
			continue
		}
		read += rowSize(r)
		if out, ok := q.o.project(q.pkNames, r, cols); ok {
			rows = append(rows, out)
			bytes += rowSize(r)
		}
	}
	return rows, read, nil
}

// matrixColumns are the attribute columns of a SimpleRowMatrix answer: the
// columns_to_get that are not key columns (empty: every column returned).
func (q *rangeQuery) matrixColumns() []string {
	var out []string
	for _, c := range q.o.columns {
		if !slices.Contains(q.pkNames, c) && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}
