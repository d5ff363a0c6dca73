package otsfake

import (
	pb "github.com/aliyun/aliyun-tablestore-go-sdk/tablestore/otsprotocol"
	"github.com/golang/protobuf/proto"
)

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
