package otsfake

import (
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
	for name, vs := range r.cols {
		for _, c := range vs {
			n += len(name) + c.v.size()
		}
	}
	return n
}
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
