package otsfake

import (
	"errors"
	"maps"
	"slices"

	pb "github.com/aliyun/aliyun-tablestore-go-sdk/tablestore/otsprotocol"
	"github.com/golang/protobuf/proto"
)

// handler decodes and runs one action; run is called with s.mu held.
type handler struct {
	newReq func() proto.Message
	run    func(s *Server, req proto.Message) (proto.Message, *opError)
}

func mkHandler[Req proto.Message](newReq func() Req, run func(*Server, Req) (proto.Message, *opError)) handler {
	return handler{
		newReq: func() proto.Message { return newReq() },
		run:    func(s *Server, req proto.Message) (proto.Message, *opError) { return run(s, req.(Req)) },
	}
}

var handlers map[string]handler

func init() {
	handlers = map[string]handler{
		"CreateTable":   mkHandler(func() *pb.CreateTableRequest { return new(pb.CreateTableRequest) }, (*Server).createTable),
		"DescribeTable": mkHandler(func() *pb.DescribeTableRequest { return new(pb.DescribeTableRequest) }, (*Server).describeTable),
		"ListTable":     mkHandler(func() *pb.ListTableRequest { return new(pb.ListTableRequest) }, (*Server).listTable),
		"UpdateTable":   mkHandler(func() *pb.UpdateTableRequest { return new(pb.UpdateTableRequest) }, (*Server).updateTable),
		"DeleteTable":   mkHandler(func() *pb.DeleteTableRequest { return new(pb.DeleteTableRequest) }, (*Server).deleteTable),
		"PutRow":        mkHandler(func() *pb.PutRowRequest { return new(pb.PutRowRequest) }, (*Server).putRow),
		"UpdateRow":     mkHandler(func() *pb.UpdateRowRequest { return new(pb.UpdateRowRequest) }, (*Server).updateRow),
		"DeleteRow":     mkHandler(func() *pb.DeleteRowRequest { return new(pb.DeleteRowRequest) }, (*Server).deleteRow),
		"GetRow":        mkHandler(func() *pb.GetRowRequest { return new(pb.GetRowRequest) }, (*Server).getRow),
		"GetRange":      mkHandler(func() *pb.GetRangeRequest { return new(pb.GetRangeRequest) }, (*Server).getRange),
		"BatchGetRow":   mkHandler(func() *pb.BatchGetRowRequest { return new(pb.BatchGetRowRequest) }, (*Server).batchGetRow),
		"BatchWriteRow": mkHandler(func() *pb.BatchWriteRowRequest { return new(pb.BatchWriteRowRequest) }, (*Server).batchWriteRow),
	}
}

// tablesOf names the tables a request touches, for Fault.Table.
func tablesOf(req proto.Message) []string {
	switch r := req.(type) {
	case *pb.PutRowRequest, *pb.UpdateRowRequest, *pb.DeleteRowRequest,
		*pb.GetRowRequest, *pb.GetRangeRequest, *pb.DescribeTableRequest:
		return []string{r.(namedTable).GetTableName()}
	case *pb.BatchWriteRowRequest:
		return tableNames(r.Tables)
	case *pb.BatchGetRowRequest:
		return tableNames(r.Tables)
	}
	return nil
}

type namedTable interface{ GetTableName() string }

func tableNames[T namedTable](tables []T) []string {
	var out []string
	for _, t := range tables {
		out = append(out, t.GetTableName())
	}
	return out
}

func consumed(read, write int32) *pb.ConsumedCapacity {
	return &pb.ConsumedCapacity{CapacityUnit: &pb.CapacityUnit{Read: proto.Int32(read), Write: proto.Int32(write)}}
}

// pbError is the error as the service encodes it: a response body, or one
// failed row of a batch response.
func (e *opError) pbError() *pb.Error {
	return &pb.Error{Code: proto.String(e.code), Message: proto.String(e.msg)}
}

// cu is the capacity units for size bytes: 4 KB each, at least 1.
func cu(size int) int32 { return int32(max(1, (size+4095)/4096)) }

func rowSize(r *row) int {
	n := 0
	for _, v := range r.pk {
		n += v.size()
	}
	for name, c := range r.cols {
		n += len(name) + c.v.size()
	}
	return n
}

// --- tables ----------------------------------------------------------------------

func (s *Server) createTable(req *pb.CreateTableRequest) (proto.Message, *opError) {
	meta := req.TableMeta
	name := meta.GetTableName()
	if !nameRE.MatchString(name) || len(name) > maxTableName {
		return nil, errParam("Invalid table name: '%s'.", name)
	}
	if s.tables[name] != nil || s.indexes[name] != nil {
		return nil, errTableExists
	}
	if n := len(meta.PrimaryKey); n < 1 || n > maxPKColumns {
		return nil, errParam("The number of primary key columns must be in range: [1, %d].", maxPKColumns)
	}
	seen := map[string]bool{}
	t := &table{name: name, meta: meta, defined: map[string]pb.DefinedColumnType{}, deviation: defaultDeviation, created: s.now()}
	for _, c := range meta.PrimaryKey {
		if !nameRE.MatchString(c.GetName()) || seen[c.GetName()] {
			return nil, errParam("Invalid or duplicate primary key column name: '%s'.", c.GetName())
		}
		seen[c.GetName()] = true
		if c.Option != nil {
			return nil, errParam("otsfake: primary key options (auto-increment) are not supported.")
		}
		t.pkTypes = append(t.pkTypes, c.GetType())
	}
	for _, d := range meta.DefinedColumn {
		if !nameRE.MatchString(d.GetName()) || seen[d.GetName()] {
			return nil, errParam("Invalid or duplicate defined column name: '%s'.", d.GetName())
		}
		seen[d.GetName()] = true
		t.defined[d.GetName()] = d.GetType()
	}
	opts := req.TableOptions
	if opts == nil || opts.TimeToLive == nil || opts.MaxVersions == nil {
		return nil, errParam("table_options with time_to_live and max_versions is required.")
	}
	t.ttl, t.maxVers = opts.GetTimeToLive(), opts.GetMaxVersions()
	if oe := checkTableOptions(t.ttl, t.maxVers, false); oe != nil {
		return nil, oe
	}
	if opts.DeviationCellVersionInSec != nil {
		t.deviation = opts.GetDeviationCellVersionInSec()
	}
	t.reserved = req.ReservedThroughput.CapacityUnit
	if len(req.Partitions) > 0 || req.GetStreamSpec().GetEnableStream() || req.GetSseSpec().GetEnable() || req.GetEnableLocalTxn() {
		return nil, errParam("otsfake: partitions, streams, server-side encryption and local transactions are not supported.")
	}
	for _, im := range req.IndexMetas {
		ix, oe := s.newIndex(t, im)
		if oe != nil {
			return nil, oe
		}
		t.indexes = append(t.indexes, ix)
	}
	if oe := checkTableOptions(t.ttl, t.maxVers, len(t.indexes) > 0); oe != nil {
		return nil, oe
	}
	s.tables[name] = t
	for _, ix := range t.indexes {
		s.indexes[ix.meta.GetName()] = t
	}
	return &pb.CreateTableResponse{}, nil
}

// checkTableOptions validates time_to_live and max_versions; indexed says
// the table has secondary indexes.
func checkTableOptions(ttl, maxVers int32, indexed bool) *opError {
	if ttl == 0 || ttl < -1 || maxVers < 1 {
		return errParam("Invalid table options: time_to_live %d, max_versions %d.", ttl, maxVers)
	}
	if indexed && (ttl != -1 || maxVers != 1) {
		return errParam("A table with secondary indexes must have time_to_live -1 and max_versions 1.")
	}
	return nil
}

// reservedDetails and options describe t in DescribeTable and UpdateTable
// responses.
func (t *table) reservedDetails() *pb.ReservedThroughputDetails {
	return &pb.ReservedThroughputDetails{
		CapacityUnit:     &pb.CapacityUnit{Read: proto.Int32(t.reserved.GetRead()), Write: proto.Int32(t.reserved.GetWrite())},
		LastIncreaseTime: proto.Int64(t.created / 1000),
	}
}

func (t *table) options() *pb.TableOptions {
	return &pb.TableOptions{
		TimeToLive:                proto.Int32(t.ttl),
		MaxVersions:               proto.Int32(t.maxVers),
		DeviationCellVersionInSec: proto.Int64(t.deviation),
	}
}

func (s *Server) newIndex(t *table, im *pb.IndexMeta) (*index, *opError) {
	name := im.GetName()
	if !nameRE.MatchString(name) || s.tables[name] != nil || s.indexes[name] != nil || name == t.name {
		return nil, errParam("Invalid or duplicate index name: '%s'.", name)
	}
	pk := t.pkNames()
	if len(im.PrimaryKey) == 0 {
		return nil, errParam("Index %s has no primary key.", name)
	}
	seen := map[string]bool{}
	for _, k := range im.PrimaryKey {
		_, isDefined := t.defined[k]
		if seen[k] || (!slices.Contains(pk, k) && !isDefined) {
			return nil, errParam("Index %s: primary key column %s must be a primary key or defined column, once.", name, k)
		}
		seen[k] = true
	}
	for _, c := range im.DefinedColumn {
		if _, ok := t.defined[c]; !ok || seen[c] {
			return nil, errParam("Index %s: %s must be a defined column not in the index key.", name, c)
		}
		seen[c] = true
	}
	switch im.GetIndexType() {
	case pb.IndexType_IT_LOCAL_INDEX:
		if im.PrimaryKey[0] != pk[0] {
			return nil, errParam("Local index %s must start with the partition key %s.", name, pk[0])
		}
		if im.GetIndexUpdateMode() != pb.IndexUpdateMode_IUM_SYNC_INDEX {
			return nil, errParam("Local index %s must use synchronous update mode.", name)
		}
	case pb.IndexType_IT_GLOBAL_INDEX:
		// UNCONFIRMED: a global index is asynchronous in the service; the
		// fake keeps it in step synchronously.
	}
	key := slices.Clone(im.PrimaryKey)
	for _, k := range pk {
		if !slices.Contains(key, k) {
			key = append(key, k)
		}
	}
	cp := proto.Clone(im).(*pb.IndexMeta)
	cp.IndexSyncPhase = pb.IndexSyncPhase_ISP_INCR.Enum()
	return &index{meta: cp, key: key, cols: slices.Clone(im.DefinedColumn)}, nil
}

func (s *Server) describeTable(req *pb.DescribeTableRequest) (proto.Message, *opError) {
	t := s.tables[req.GetTableName()]
	if t == nil {
		return nil, errNoTable
	}
	resp := &pb.DescribeTableResponse{
		TableMeta:                 t.meta,
		ReservedThroughputDetails: t.reservedDetails(),
		TableOptions:              t.options(),
		TableStatus:               pb.TableStatus_ACTIVE.Enum(),
		StreamDetails:             &pb.StreamDetails{EnableStream: proto.Bool(false)},
	}
	for _, ix := range t.indexes {
		resp.IndexMetas = append(resp.IndexMetas, ix.meta)
	}
	return resp, nil
}

func (s *Server) listTable(*pb.ListTableRequest) (proto.Message, *opError) {
	names := slices.Sorted(maps.Keys(s.tables))
	return &pb.ListTableResponse{TableNames: names}, nil
}

func (s *Server) updateTable(req *pb.UpdateTableRequest) (proto.Message, *opError) {
	t := s.tables[req.GetTableName()]
	if t == nil {
		return nil, errNoTable
	}
	if req.GetStreamSpec().GetEnableStream() {
		return nil, errParam("otsfake: streams are not supported.")
	}
	if o := req.TableOptions; o != nil {
		ttl, mv := t.ttl, t.maxVers
		if o.TimeToLive != nil {
			ttl = o.GetTimeToLive()
		}
		if o.MaxVersions != nil {
			mv = o.GetMaxVersions()
		}
		if oe := checkTableOptions(ttl, mv, len(t.indexes) > 0); oe != nil {
			return nil, oe
		}
		t.ttl, t.maxVers = ttl, mv
		if o.DeviationCellVersionInSec != nil {
			t.deviation = o.GetDeviationCellVersionInSec()
		}
	}
	if rt := req.ReservedThroughput; rt != nil {
		t.reserved = rt.CapacityUnit
	}
	return &pb.UpdateTableResponse{
		ReservedThroughputDetails: t.reservedDetails(),
		TableOptions:              t.options(),
		StreamDetails:             &pb.StreamDetails{EnableStream: proto.Bool(false)},
	}, nil
}

func (s *Server) deleteTable(req *pb.DeleteTableRequest) (proto.Message, *opError) {
	t := s.tables[req.GetTableName()]
	if t == nil {
		return nil, errNoTable
	}
	delete(s.tables, t.name)
	for _, ix := range t.indexes {
		delete(s.indexes, ix.meta.GetName())
	}
	return &pb.DeleteTableResponse{}, nil
}

// writable finds a table rows may be written to.
func (s *Server) writable(name string) (*table, *opError) {
	if t := s.tables[name]; t != nil {
		return t, nil
	}
	if s.indexes[name] != nil {
		return nil, errParam("Index table %s is read-only.", name)
	}
	return nil, errNoTable
}

// readable finds a table or index to read from; cols are the attribute
// columns an index holds (nil for a table: every column).
func (s *Server) readable(name string) (*table, *index, *opError) {
	if t := s.tables[name]; t != nil {
		return t, nil, nil
	}
	if t := s.indexes[name]; t != nil {
		for _, ix := range t.indexes {
			if ix.meta.GetName() == name {
				return t, ix, nil
			}
		}
	}
	return nil, nil, errNoTable
}

// --- row changes -------------------------------------------------------------------

// change is a validated row change of a write request.
type change struct {
	kind    pb.OperationType
	key     []value
	cells   []pbCell
	cond    *pb.Condition
	ret     *pb.ReturnContent
	pkCells []pbCell
}

func decodeErr(err error) *opError {
	if errors.Is(err, errChecksum) {
		// UNCONFIRMED: the service's exact code and message for a bad
		// PlainBuffer checksum.
		return errParam("Checksum mismatch in PlainBuffer: %v", err)
	}
	return errParam("Invalid PlainBuffer: %v", err)
}

func prepChange(t *table, kind pb.OperationType, b []byte, cond *pb.Condition, ret *pb.ReturnContent) (*change, *opError) {
	r, err := decodeRow(b)
	if err != nil {
		return nil, decodeErr(err)
	}
	key, oe := t.checkPK(r.pk, false)
	if oe != nil {
		return nil, oe
	}
	if cond == nil {
		return nil, errParam("Condition is required.")
	}
	c := &change{kind: kind, key: key, cells: r.cells, cond: cond, ret: ret, pkCells: r.pk}
	switch kind {
	case pb.OperationType_PUT:
		if r.deleted {
			return nil, errParam("A put row must not carry a delete marker.")
		}
	case pb.OperationType_UPDATE:
		if r.deleted {
			return nil, errParam("An update row must not carry a delete marker.")
		}
		if len(r.cells) == 0 {
			return nil, errParam("An update row must change at least one column.")
		}
	case pb.OperationType_DELETE:
		if len(r.cells) > 0 {
			return nil, errParam("A delete row must not carry attribute columns.")
		}
		if cond.GetRowExistence() == pb.RowExistenceExpectation_EXPECT_NOT_EXIST {
			return nil, errParam("Invalid condition EXPECT_NOT_EXIST for a delete.")
		}
	}
	names := map[string]bool{}
	for _, cell := range r.cells {
		if oe := t.checkColumn(cell); oe != nil {
			return nil, oe
		}
		if names[cell.name] {
			return nil, errParam("Duplicate column %s in a row.", cell.name)
		}
		names[cell.name] = true
		switch {
		case kind == pb.OperationType_PUT:
			if cell.hasOp || !cell.hasValue {
				return nil, errParam("Column %s of a put must carry a value and no operation.", cell.name)
			}
		case !cell.hasOp:
			if !cell.hasValue {
				return nil, errParam("Column %s: a put needs a value.", cell.name)
			}
		case cell.op == opDeleteAll:
			if cell.hasValue {
				return nil, errParam("Column %s: a delete carries no value.", cell.name)
			}
		case cell.op == opDeleteOne:
			if cell.hasValue || !cell.hasTS {
				return nil, errParam("Column %s: deleting one version needs a timestamp and no value.", cell.name)
			}
		case cell.op == opIncrement:
			if !cell.hasValue || cell.val.t != vtInteger || cell.hasTS {
				return nil, errParam("Column %s: an increment needs an integer value and no timestamp.", cell.name)
			}
		default:
			return nil, errParam("Column %s: unknown operation type %d.", cell.name, cell.op)
		}
	}
	if ret != nil && ret.GetReturnType() == pb.ReturnType_RT_AFTER_MODIFY && kind != pb.OperationType_UPDATE {
		return nil, errParam("RT_AFTER_MODIFY is only allowed for an update.")
	}
	return c, nil
}

// apply runs a validated change: condition, then the write. It returns the
// row to put in the response (nil for none) and the write size.
func (s *Server) apply(t *table, c *change) ([]byte, int, *opError) {
	now := s.now()
	old := t.data.get(c.key)
	cols, exists := t.visible(old, now)
	if oe := checkCondition(c.cond, exists, cols); oe != nil {
		return nil, 0, oe
	}
	if !exists && len(c.cond.ColumnCondition) > 0 && s.opts.MissingRowFailsColumnCondition {
		return nil, 0, errConditionFailed
	}
	if !exists {
		old, cols = nil, nil
	}
	var next *row
	switch c.kind {
	case pb.OperationType_PUT:
		next = &row{pk: c.key, cols: map[string]cellVal{}, ts: now}
		for _, cell := range c.cells {
			next.cols[cell.name] = cellVal{v: cell.val, ts: tsOr(cell, now)}
		}
	case pb.OperationType_UPDATE:
		next = &row{pk: c.key, cols: maps.Clone(cols), ts: now}
		if next.cols == nil {
			next.cols = map[string]cellVal{}
		}
		for _, cell := range c.cells {
			switch {
			case !cell.hasOp:
				next.cols[cell.name] = cellVal{v: cell.val, ts: tsOr(cell, now)}
			case cell.op == opDeleteAll:
				delete(next.cols, cell.name)
			case cell.op == opDeleteOne:
				if cur, ok := next.cols[cell.name]; ok && cur.ts == cell.ts {
					delete(next.cols, cell.name)
				}
			case cell.op == opIncrement:
				cur, ok := next.cols[cell.name]
				switch {
				case !ok:
					// UNCONFIRMED: an increment of a missing column starts
					// from 0.
					next.cols[cell.name] = cellVal{v: cell.val, ts: now}
				case cur.v.t != vtInteger:
					return nil, 0, errParam("Column %s is not an integer and cannot be incremented.", cell.name)
				default:
					next.cols[cell.name] = cellVal{v: value{t: vtInteger, i: cur.v.i + cell.val.i}, ts: now}
				}
			}
		}
		if old == nil && len(next.cols) == 0 {
			next = nil // deleting columns of a missing row creates nothing
		}
	case pb.OperationType_DELETE:
	}
	size := len(c.key)
	if next != nil {
		size = rowSize(next)
	}
	if c.kind == pb.OperationType_DELETE || next != nil || old != nil {
		t.write(c.key, old, next)
	}
	var out []byte
	switch c.ret.GetReturnType() {
	case pb.ReturnType_RT_PK:
		out = encodeRows(pbRow{pk: c.pkCells})
	case pb.ReturnType_RT_AFTER_MODIFY:
		r := pbRow{pk: c.pkCells}
		for _, name := range c.ret.ReturnColumnNames {
			if next == nil {
				break
			}
			if v, ok := next.cols[name]; ok {
				r.cells = append(r.cells, pbCell{name: name, val: v.v, hasValue: true, ts: v.ts, hasTS: true})
			}
		}
		out = encodeRows(r)
	}
	return out, size, nil
}

func tsOr(c pbCell, now int64) int64 {
	if c.hasTS {
		return c.ts
	}
	return now
}

func (s *Server) putRow(req *pb.PutRowRequest) (proto.Message, *opError) {
	return s.singleWrite(req.GetTableName(), pb.OperationType_PUT, req.Row, req.Condition, req.ReturnContent, req.TransactionId)
}

func (s *Server) updateRow(req *pb.UpdateRowRequest) (proto.Message, *opError) {
	return s.singleWrite(req.GetTableName(), pb.OperationType_UPDATE, req.RowChange, req.Condition, req.ReturnContent, req.TransactionId)
}

func (s *Server) deleteRow(req *pb.DeleteRowRequest) (proto.Message, *opError) {
	return s.singleWrite(req.GetTableName(), pb.OperationType_DELETE, req.PrimaryKey, req.Condition, req.ReturnContent, req.TransactionId)
}

func (s *Server) singleWrite(name string, kind pb.OperationType, b []byte, cond *pb.Condition, ret *pb.ReturnContent, txn *string) (proto.Message, *opError) {
	if txn != nil {
		return nil, errParam("otsfake: transactions are not supported.")
	}
	t, oe := s.writable(name)
	if oe != nil {
		return nil, oe
	}
	c, oe := prepChange(t, kind, b, cond, ret)
	if oe != nil {
		return nil, oe
	}
	out, size, oe := s.apply(t, c)
	if oe != nil {
		return nil, oe
	}
	cons := consumed(0, cu(size))
	switch kind {
	case pb.OperationType_PUT:
		return &pb.PutRowResponse{Consumed: cons, Row: out}, nil
	case pb.OperationType_UPDATE:
		return &pb.UpdateRowResponse{Consumed: cons, Row: out}, nil
	default:
		return &pb.DeleteRowResponse{Consumed: cons, Row: out}, nil
	}
}

// --- reads ---------------------------------------------------------------------------

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

// --- batches ---------------------------------------------------------------------------

func (s *Server) batchGetRow(req *pb.BatchGetRowRequest) (proto.Message, *opError) {
	total := 0
	for _, tb := range req.Tables {
		total += len(tb.PrimaryKey)
	}
	if total > maxBatchGet {
		return nil, errParam("Rows count exceeds the upper limit: %d.", maxBatchGet)
	}
	if total == 0 {
		return nil, errParam("No row in the request.")
	}
	type prepared struct {
		t       *table
		st      *store
		pkNames []string
		o       readOpts
		keys    [][]value
	}
	var preps []prepared
	seen := map[string]bool{}
	for _, tb := range req.Tables {
		if seen[tb.GetTableName()] {
			return nil, errParam("Duplicate table %s in the request.", tb.GetTableName())
		}
		seen[tb.GetTableName()] = true
		t, ix, oe := s.readable(tb.GetTableName())
		if oe != nil {
			return nil, oe
		}
		o, oe := newReadOpts(tb.MaxVersions, tb.TimeRange, tb.ColumnsToGet, tb.Filter, tb.StartColumn, tb.EndColumn)
		if oe != nil {
			return nil, oe
		}
		p := prepared{t: t, o: o}
		for _, b := range tb.PrimaryKey {
			r, err := decodeRow(b)
			if err != nil {
				return nil, decodeErr(err)
			}
			st, names, oe := s.target(t, ix, r.pk, false)
			if oe != nil {
				return nil, oe
			}
			p.st, p.pkNames = st, names
			p.keys = append(p.keys, cellValues(r.pk))
		}
		preps = append(preps, p)
	}
	now := s.now()
	resp := &pb.BatchGetRowResponse{}
	for i, p := range preps {
		out := &pb.TableInBatchGetRowResponse{TableName: req.Tables[i].TableName}
		for _, key := range p.keys {
			if oe := s.takeRowFault("BatchGetRow", req.Tables[i].GetTableName(), key); oe != nil {
				out.Rows = append(out.Rows, &pb.RowInBatchGetRowResponse{
					IsOk:  proto.Bool(false),
					Error: oe.pbError(),
				})
				continue
			}
			row, cons := p.o.lookup(p.t, p.st, p.pkNames, key, now)
			out.Rows = append(out.Rows, &pb.RowInBatchGetRowResponse{IsOk: proto.Bool(true), Consumed: cons, Row: row})
		}
		resp.Tables = append(resp.Tables, out)
	}
	return resp, nil
}

func (s *Server) batchWriteRow(req *pb.BatchWriteRowRequest) (proto.Message, *opError) {
	if req.GetIsAtomic() || req.TransactionId != nil {
		return nil, errParam("otsfake: atomic and transactional batches are not supported.")
	}
	total := 0
	for _, tb := range req.Tables {
		if len(tb.Rows) == 0 {
			return nil, errParam("Table %s has no row in the request.", tb.GetTableName())
		}
		total += len(tb.Rows)
	}
	if total > maxBatchWrite {
		return nil, errParam("Rows count exceeds the upper limit: %d.", maxBatchWrite)
	}
	if total == 0 {
		return nil, errParam("No row in the request.")
	}
	// Validate everything first: a malformed row fails the whole request
	// and nothing is written.
	type prepared struct {
		t       *table
		changes []*change
	}
	var preps []prepared
	seenTable := map[string]bool{}
	for _, tb := range req.Tables {
		name := tb.GetTableName()
		if seenTable[name] {
			return nil, errParam("Duplicate table %s in the request.", name)
		}
		seenTable[name] = true
		t, oe := s.writable(name)
		if oe != nil {
			return nil, oe
		}
		p := prepared{t: t}
		var keys [][]value
		for _, rr := range tb.Rows {
			c, oe := prepChange(t, rr.GetType(), rr.RowChange, rr.Condition, rr.ReturnContent)
			if oe != nil {
				return nil, oe
			}
			for _, k := range keys {
				if comparePK(k, c.key) == 0 {
					return nil, errParam("The input parameter is invalid: duplicate primary key in table %s.", name)
				}
			}
			keys = append(keys, c.key)
			p.changes = append(p.changes, c)
		}
		preps = append(preps, p)
	}
	resp := &pb.BatchWriteRowResponse{}
	for i, p := range preps {
		out := &pb.TableInBatchWriteRowResponse{TableName: req.Tables[i].TableName}
		for _, c := range p.changes {
			fail := func(oe *opError) {
				out.Rows = append(out.Rows, &pb.RowInBatchWriteRowResponse{
					IsOk:  proto.Bool(false),
					Error: oe.pbError(),
				})
			}
			if oe := s.takeRowFault("BatchWriteRow", p.t.name, c.key); oe != nil {
				fail(oe)
				continue
			}
			row, size, oe := s.apply(p.t, c)
			if oe != nil {
				fail(oe)
				continue
			}
			out.Rows = append(out.Rows, &pb.RowInBatchWriteRowResponse{IsOk: proto.Bool(true), Consumed: consumed(0, cu(size)), Row: row})
		}
		resp.Tables = append(resp.Tables, out)
	}
	return resp, nil
}
