package otsfake

import (
	"maps"
	"slices"

	pb "github.com/aliyun/aliyun-tablestore-go-sdk/tablestore/otsprotocol"
	"github.com/golang/protobuf/proto"
)

// readOpts are the read options shared by GetRow, GetRange and BatchGetRow.
type readOpts struct {
	columns []string
	filter  *filter
}

func newReadOpts(maxVersions *int32, tr *pb.TimeRange, columns []string, filterBytes []byte, startCol, endCol *string) (readOpts, *opError) {
	if maxVersions == nil && tr == nil {
		return readOpts{}, errParam("max_versions or time_range is required.")
	}
	if maxVersions != nil && *maxVersions < 1 {
		return readOpts{}, errParam("max_versions must be positive.")
	}
	if tr != nil {
		return readOpts{}, errParam("otsfake: time_range is not supported.")
	}
	if startCol != nil || endCol != nil {
		return readOpts{}, errParam("otsfake: start_column/end_column are not supported.")
	}
	o := readOpts{columns: columns}
	if len(filterBytes) > 0 {
		f, oe := decodeFilter(filterBytes)
		if oe != nil {
			return o, oe
		}
		if f.single == nil && f.composite == nil {
			return o, errParam("Invalid filter.")
		}
		o.filter = f
	}
	return o, nil
}

// project builds the response row for r, or reports that it is filtered
// out. pkNames are the key column names of the table or index read.
func (o readOpts) project(pkNames []string, r *row, cols map[string]cellVal) (pbRow, bool) {
	if o.filter != nil && !o.filter.match(cols) {
		return pbRow{}, false
	}
	out := pkRow(pkNames, r.pk)
	names := slices.Sorted(maps.Keys(cols))
	wantedPK := false
	for _, n := range names {
		if len(o.columns) > 0 && !slices.Contains(o.columns, n) {
			continue
		}
		c := cols[n]
		out.cells = append(out.cells, pbCell{name: n, val: c.v, hasValue: true, ts: c.ts, hasTS: true})
	}
	for _, n := range o.columns {
		if slices.Contains(pkNames, n) {
			wantedPK = true
		}
	}
	// With columns_to_get, a row holding none of them is not returned.
	if len(o.columns) > 0 && len(out.cells) == 0 && !wantedPK {
		return pbRow{}, false
	}
	return out, true
}

func (s *Server) getRow(req *pb.GetRowRequest) (proto.Message, *opError) {
	if req.TransactionId != nil || len(req.Token) > 0 {
		return nil, errParam("otsfake: transactions and row tokens are not supported.")
	}
	t, ix, oe := s.readable(req.GetTableName())
	if oe != nil {
		return nil, oe
	}
	o, oe := newReadOpts(req.MaxVersions, req.TimeRange, req.ColumnsToGet, req.Filter, req.StartColumn, req.EndColumn)
	if oe != nil {
		return nil, oe
	}
	r, err := decodeRow(req.PrimaryKey)
	if err != nil {
		return nil, decodeErr(err)
	}
	st, pkNames, oe := s.target(t, ix, r.pk, false)
	if oe != nil {
		return nil, oe
	}
	row, cons := o.lookup(t, st, pkNames, cellValues(r.pk), s.now())
	return &pb.GetRowResponse{Consumed: cons, Row: row}, nil
}

// lookup reads the row with key from st (the rows of t or of one of its
// indexes) for GetRow and BatchGetRow: the encoded row, empty when it is
// missing or filtered out, and the capacity consumed (1 unit for no row).
func (o readOpts) lookup(t *table, st *store, pkNames []string, key []value, now int64) ([]byte, *pb.ConsumedCapacity) {
	found := st.get(key)
	if cols, ok := t.visible(found, now); ok {
		if out, ok := o.project(pkNames, found, cols); ok {
			return encodeRows(out), consumed(cu(rowSize(found)), 0)
		}
	}
	return []byte{}, consumed(1, 0)
}

// target validates a key for reading t (or its index ix) and returns the
// rows to read and their key column names.
func (s *Server) target(t *table, ix *index, pk []pbCell, bounds bool) (*store, []string, *opError) {
	if ix == nil {
		if _, oe := t.checkPK(pk, bounds); oe != nil {
			return nil, nil, oe
		}
		return &t.data, t.pkNames(), nil
	}
	if len(pk) != len(ix.key) {
		return nil, nil, errInvalidPK("Validate PK size fail. Input: %d, Meta: %d.", len(pk), len(ix.key))
	}
	for i, c := range pk {
		if c.name != ix.key[i] {
			return nil, nil, errInvalidPK("Validate PK name fail. Input: %s, Meta: %s.", c.name, ix.key[i])
		}
		if !c.hasValue || (c.val.isInf() && !bounds) || c.val.t == vtAutoInc {
			return nil, nil, errInvalidPK("Invalid value for primary key column %s.", c.name)
		}
		if !c.val.isInf() && !t.columnTypeIs(c.name, c.val.t) {
			return nil, nil, errInvalidPK("Validate PK type fail for column %s: got %s.", c.name, vtName(c.val.t))
		}
	}
	return &ix.data, ix.key, nil
}

func (s *Server) getRange(req *pb.GetRangeRequest) (proto.Message, *opError) {
	if req.TransactionId != nil || len(req.Token) > 0 {
		return nil, errParam("otsfake: transactions and tokens are not supported.")
	}
	if req.GetDataBlockTypeHint() != pb.DataBlockType_DBT_PLAIN_BUFFER {
		return nil, errParam("otsfake: only the PlainBuffer data block type is supported.")
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
	start, end := cellValues(startRow.pk), cellValues(endRow.pk)
	forward := req.GetDirection() == pb.Direction_FORWARD
	if c := comparePK(start, end); forward && c >= 0 {
		return nil, errParam("Begin key must less than end key in FORWARD.")
	} else if !forward && c <= 0 {
		return nil, errParam("Begin key must more than end key in BACKWARD.")
	}
	limit := s.opts.PageRows
	if req.Limit != nil {
		if req.GetLimit() <= 0 {
			return nil, errParam("The limit must be greater than 0.")
		}
		limit = min(limit, int(req.GetLimit()))
	}

	now := s.now()
	var rows []pbRow
	bytes, read := 0, 0
	var next []value
	i, step := st.search(start), 1
	if !forward {
		// The last row with key <= start.
		i = st.search(start)
		if i == len(st.rows) || comparePK(st.rows[i].pk, start) > 0 {
			i--
		}
		step = -1
	}
	for ; i >= 0 && i < len(st.rows); i += step {
		r := st.rows[i]
		if (forward && comparePK(r.pk, end) >= 0) || (!forward && comparePK(r.pk, end) <= 0) {
			break
		}
		if len(rows) >= limit || bytes >= maxPageBytes {
			next = r.pk
			break
		}
		cols, ok := t.visible(r, now)
		if !ok {
			continue
		}
		read += rowSize(r)
		if out, ok := o.project(pkNames, r, cols); ok {
			rows = append(rows, out)
			bytes += rowSize(r)
		}
	}
	resp := &pb.GetRangeResponse{
		Consumed:      consumed(cu(read), 0),
		Rows:          encodeRows(rows...),
		DataBlockType: pb.DataBlockType_DBT_PLAIN_BUFFER.Enum(),
		CompressType:  pb.CompressType_CPT_NONE.Enum(),
	}
	if next != nil {
		// UNCONFIRMED: whether the service also returns a next key when a
		// page ends exactly at the last row of the range; the fake returns
		// one only when another row follows.
		resp.NextStartPrimaryKey = encodeRows(pkRow(pkNames, next))
	}
	return resp, nil
}

// pkRow is a row holding only the primary key key, whose columns are named
// names.
func pkRow(names []string, key []value) pbRow {
	out := pbRow{}
	for i, v := range key {
		out.pk = append(out.pk, pbCell{name: names[i], val: v, hasValue: true})
	}
	return out
}

func cellValues(cells []pbCell) []value {
	out := make([]value, len(cells))
	for i, c := range cells {
		out[i] = c.val
	}
	return out
}
