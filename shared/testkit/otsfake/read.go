package otsfake

import (
	"maps"
	"slices"

	pb "github.com/aliyun/aliyun-tablestore-go-sdk/tablestore/otsprotocol"
	"github.com/golang/protobuf/proto"
)

// readOpts are the read options shared by GetRow, GetRange and BatchGetRow.
type readOpts struct {
	columns []string // columns_to_get; empty: all
	filter  *filter  // a column value filter; nil: none
	page    *pb.ColumnPaginationFilter
	// maxVersions caps the versions returned per cell (0: every version in
	// the window); window is the time_range (nil: any timestamp).
	maxVersions      int
	window           *timeRange
	startCol, endCol *string
}

func newReadOpts(maxVersions *int32, tr *pb.TimeRange, columns []string, filterBytes []byte, startCol, endCol *string) (readOpts, *opError) {
	if maxVersions == nil && tr == nil {
		return readOpts{}, errParam("max_versions or time_range is required.")
	}
	if maxVersions != nil && *maxVersions < 1 {
		return readOpts{}, errParam("max_versions must be positive.")
	}
	window, oe := newTimeRange(tr, maxVersions != nil)
	if oe != nil {
		return readOpts{}, oe
	}
	if startCol != nil && endCol != nil && *startCol >= *endCol {
		// UNCONFIRMED: the service's answer for an empty column window.
		return readOpts{}, errParam("start_column must be less than end_column.")
	}
	o := readOpts{columns: columns, window: window, startCol: startCol, endCol: endCol}
	if maxVersions != nil {
		o.maxVersions = int(*maxVersions)
	}
	if len(filterBytes) > 0 {
		f, oe := decodeFilter(filterBytes)
		if oe != nil {
			return o, oe
		}
		switch {
		case f.page != nil:
			o.page = f.page
		case f.single != nil || f.composite != nil:
			o.filter = f
		default:
			return o, errParam("Invalid filter.")
		}
	}
	return o, nil
}

// project builds the response row for r, whose visible cells are cols, or
// reports that it is filtered out. pkNames are the key column names of the
// table or index read. The filter sees the versions the read selects.
func (o readOpts) project(pkNames []string, r *row, cols map[string]versions) (pbRow, bool) {
	picked := make(map[string]versions, len(cols))
	for name, vs := range cols {
		if p := pick(vs, o.window, o.maxVersions); len(p) > 0 {
			picked[name] = p
		}
	}
	if o.filter != nil && !o.filter.match(picked) {
		return pbRow{}, false
	}
	out := pkRow(pkNames, r.pk)
	for _, name := range o.columnNames(picked) {
		for _, c := range picked[name] {
			out.cells = append(out.cells, pbCell{name: name, val: c.v, hasValue: true, ts: c.ts, hasTS: true})
		}
	}
	// With columns_to_get, a row holding none of them is not returned
	// (unless a primary key column was asked for).
	wantedPK := slices.ContainsFunc(o.columns, func(n string) bool { return slices.Contains(pkNames, n) })
	if len(o.columns) > 0 && len(out.cells) == 0 && !wantedPK {
		return pbRow{}, false
	}
	return out, true
}

// columnNames are the columns of cols a read returns, in name order: those
// in columns_to_get (all when empty) from start_column (inclusive) to
// end_column (exclusive), then the pagination filter's offset and limit.
// UNCONFIRMED: that the pagination filter counts columns, not versions.
func (o readOpts) columnNames(cols map[string]versions) []string {
	var names []string
	for _, n := range slices.Sorted(maps.Keys(cols)) {
		switch {
		case len(o.columns) > 0 && !slices.Contains(o.columns, n):
		case o.startCol != nil && n < *o.startCol:
		case o.endCol != nil && n >= *o.endCol:
		default:
			names = append(names, n)
		}
	}
	if o.page != nil {
		names = names[min(int(o.page.GetOffset()), len(names)):]
		names = names[:min(int(o.page.GetLimit()), len(names))]
	}
	return names
}

func (s *Server) getRow(req *pb.GetRowRequest) (proto.Message, *opError) {
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
