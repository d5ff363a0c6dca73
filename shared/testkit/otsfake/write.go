package otsfake

import (
	"errors"
	"maps"

	pb "github.com/aliyun/aliyun-tablestore-go-sdk/tablestore/otsprotocol"
	"github.com/golang/protobuf/proto"
)

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
