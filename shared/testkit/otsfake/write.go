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
	if kind == pb.OperationType_UPDATE && !t.allowUpdate {
		// UNCONFIRMED: the service's exact code and message for UpdateRow
		// on such a table; OTSParameterInvalid is its answer for requests
		// a table's options do not allow.
		return nil, errParam("Table %s does not allow UpdateRow: it was created with allow_update false.", t.name)
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
		// A put replaces the row: every column and every version.
		next = &row{pk: c.key, cols: map[string]versions{}, ts: now}
		for _, cell := range c.cells {
			next.cols[cell.name] = versions{{v: cell.val, ts: tsOr(cell, now)}}
		}
	case pb.OperationType_UPDATE:
		next = &row{pk: c.key, cols: maps.Clone(cols), ts: now}
		if next.cols == nil {
			next.cols = map[string]versions{}
		}
		if oe := updateCells(next.cols, c.cells, t.maxVers, now); oe != nil {
			return nil, 0, oe
		}
		if old == nil && len(next.cols) == 0 {
			next = nil // deleting columns of a missing row creates nothing
		}
	}
	size := len(c.key)
	if next != nil {
		size = rowSize(next)
	}
	if c.kind == pb.OperationType_DELETE || next != nil || old != nil {
		t.write(c.key, old, next)
	}
	return returnedRow(c, next), size, nil
}

// updateCells applies an update's cells to cols (a copy the update owns;
// its version lists are shared and replaced, never modified), keeping up
// to maxVers versions per cell.
func updateCells(cols map[string]versions, cells []pbCell, maxVers int32, now int64) *opError {
	for _, cell := range cells {
		cur, ok := cols[cell.name]
		switch {
		case !cell.hasOp:
			cols[cell.name] = cur.with(cellVal{v: cell.val, ts: tsOr(cell, now)}, maxVers)
		case cell.op == opDeleteAll:
			delete(cols, cell.name)
		case cell.op == opDeleteOne:
			if rest := cur.without(cell.ts); rest != nil {
				cols[cell.name] = rest
			} else {
				delete(cols, cell.name)
			}
		case cell.op == opIncrement:
			// UNCONFIRMED: an increment of a missing column starts from 0;
			// the sum is a new version at the server's time.
			sum := cell.val
			if ok {
				latest := cur.latest().v
				if latest.t != vtInteger {
					return errParam("Column %s is not an integer and cannot be incremented.", cell.name)
				}
				sum = value{t: vtInteger, i: latest.i + cell.val.i}
			}
			cols[cell.name] = cur.with(cellVal{v: sum, ts: now}, maxVers)
		}
	}
	return nil
}

// returnedRow is the row a write answers with, as its return_content asks:
// the primary key, or the named columns' newest values after the change.
func returnedRow(c *change, next *row) []byte {
	switch c.ret.GetReturnType() {
	case pb.ReturnType_RT_PK:
		return encodeRows(pbRow{pk: c.pkCells})
	case pb.ReturnType_RT_AFTER_MODIFY:
		r := pbRow{pk: c.pkCells}
		for _, name := range c.ret.ReturnColumnNames {
			if next == nil {
				break
			}
			if vs, ok := next.cols[name]; ok {
				v := vs.latest()
				r.cells = append(r.cells, pbCell{name: name, val: v.v, hasValue: true, ts: v.ts, hasTS: true})
			}
		}
		return encodeRows(r)
	}
	return nil
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
		return nil, errUnsupported("A transaction_id")
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
