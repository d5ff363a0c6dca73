package otsfake

import (
	"maps"
	"slices"

	pb "github.com/aliyun/aliyun-tablestore-go-sdk/tablestore/otsprotocol"
	"github.com/golang/protobuf/proto"
)

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
			return nil, errUnsupported("A primary key option (auto-increment)")
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
	// The service's defaults (the SDK's own suite expects them back).
	t.allowUpdate, t.updateFullRow = true, false
	if opts.AllowUpdate != nil {
		t.allowUpdate = opts.GetAllowUpdate()
	}
	if opts.UpdateFullRow != nil {
		t.updateFullRow = opts.GetUpdateFullRow()
	}
	if oe := checkTableOptions(t.ttl, t.maxVers, t.allowUpdate, false); oe != nil {
		return nil, oe
	}
	if opts.DeviationCellVersionInSec != nil {
		t.deviation = opts.GetDeviationCellVersionInSec()
	}
	t.reserved = req.ReservedThroughput.CapacityUnit
	if len(req.Partitions) > 0 || req.GetStreamSpec().GetEnableStream() || req.GetSseSpec().GetEnable() || req.GetEnableLocalTxn() {
		return nil, errUnsupported("Partitions, streams, server-side encryption or local transactions")
	}
	for _, im := range req.IndexMetas {
		ix, oe := s.newIndex(t, im)
		if oe != nil {
			return nil, oe
		}
		t.indexes = append(t.indexes, ix)
	}
	if oe := checkTableOptions(t.ttl, t.maxVers, t.allowUpdate, len(t.indexes) > 0); oe != nil {
		return nil, oe
	}
	s.tables[name] = t
	for _, ix := range t.indexes {
		s.indexes[ix.meta.GetName()] = t
	}
	return &pb.CreateTableResponse{}, nil
}

// minTTL is the service's smallest time_to_live other than -1 (one day).
const minTTL = 86400

// checkTableOptions validates time_to_live and max_versions; indexed says
// the table has secondary indexes.
func checkTableOptions(ttl, maxVers int32, allowUpdate, indexed bool) *opError {
	if ttl != -1 && ttl < minTTL {
		return errParam("Invalid time_to_live %d: it must be -1 (never expire) or at least %d seconds.", ttl, minTTL)
	}
	if maxVers < 1 {
		return errParam("Invalid max_versions %d: it must be positive.", maxVers)
	}
	if indexed && maxVers != 1 {
		// The service's rule (secondary index prerequisites); the message
		// is UNCONFIRMED.
		return errParam("A table with secondary indexes must have max_versions 1; got %d.", maxVers)
	}
	if indexed && ttl != -1 && allowUpdate {
		// The service's own message (Tablestore FAQ on secondary indexes).
		return errParam("Don't support allow update operation on table with index and ttl")
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
		AllowUpdate:               proto.Bool(t.allowUpdate),
		UpdateFullRow:             proto.Bool(t.updateFullRow),
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
		return nil, errUnsupported("Streams")
	}
	if o := req.TableOptions; o != nil {
		if o.UpdateFullRow != nil {
			// The SDK's suite expects this refusal, whatever the value.
			return nil, errParam("UpdateTable's table_options must not contain updateFullRow: it is set at CreateTable only.")
		}
		ttl, mv, au := t.ttl, t.maxVers, t.allowUpdate
		if o.TimeToLive != nil {
			ttl = o.GetTimeToLive()
		}
		if o.MaxVersions != nil {
			mv = o.GetMaxVersions()
		}
		if o.AllowUpdate != nil {
			au = o.GetAllowUpdate()
		}
		if oe := checkTableOptions(ttl, mv, au, len(t.indexes) > 0); oe != nil {
			return nil, oe
		}
		lowered := mv < t.maxVers
		t.ttl, t.maxVers, t.allowUpdate = ttl, mv, au
		if lowered {
			t.trimVersions()
		}
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
