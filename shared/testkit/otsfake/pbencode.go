package otsfake

import (
	"bytes"
	"encoding/binary"
	"math"
)

// pbWriter encodes rows for responses, with correct checksums (the SDK does
// not check them, but a response should look like the service's).
type pbWriter struct{ buf bytes.Buffer }

func newPBWriter() *pbWriter {
	w := &pbWriter{}
	w.u32(pbHeader)
	return w
}

func (w *pbWriter) u32(v uint32) {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], v)
	w.buf.Write(b[:])
}

func (w *pbWriter) u64(v uint64) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	w.buf.Write(b[:])
}

func (w *pbWriter) value(v value) {
	w.buf.WriteByte(tagCellValue)
	switch v.t {
	case vtInteger, vtDouble:
		w.u32(9)
		w.buf.WriteByte(v.t)
		if v.t == vtInteger {
			w.u64(uint64(v.i))
		} else {
			w.u64(math.Float64bits(v.f))
		}
	case vtBoolean:
		w.u32(2)
		w.buf.WriteByte(v.t)
		if v.b {
			w.buf.WriteByte(1)
		} else {
			w.buf.WriteByte(0)
		}
	case vtString, vtBlob:
		w.u32(uint32(5 + len(v.s)))
		w.buf.WriteByte(v.t)
		w.u32(uint32(len(v.s)))
		w.buf.WriteString(v.s)
	default: // INF_MIN, INF_MAX, AUTO_INCREMENT
		w.u32(1)
		w.buf.WriteByte(v.t)
	}
}

func (w *pbWriter) cell(c pbCell) {
	w.buf.WriteByte(tagCell)
	w.buf.WriteByte(tagCellName)
	w.u32(uint32(len(c.name)))
	w.buf.WriteString(c.name)
	if c.hasValue {
		w.value(c.val)
	}
	if c.hasOp {
		w.buf.WriteByte(tagCellType)
		w.buf.WriteByte(c.op)
	}
	if c.hasTS {
		w.buf.WriteByte(tagCellTS)
		w.u64(uint64(c.ts))
	}
	w.buf.WriteByte(tagCellChecksum)
	w.buf.WriteByte(c.checksum())
}

func (w *pbWriter) row(row pbRow) {
	w.buf.WriteByte(tagRowPK)
	for _, c := range row.pk {
		w.cell(c)
	}
	if len(row.cells) > 0 {
		w.buf.WriteByte(tagRowData)
		for _, c := range row.cells {
			w.cell(c)
		}
	}
	if row.deleted {
		w.buf.WriteByte(tagDeleteMarker)
	}
	w.buf.WriteByte(tagRowChecksum)
	w.buf.WriteByte(row.checksum())
}

func (w *pbWriter) bytes() []byte { return w.buf.Bytes() }

// encodeRows encodes rows behind one header; no rows give an empty buffer.
func encodeRows(rows ...pbRow) []byte {
	if len(rows) == 0 {
		return []byte{}
	}
	w := newPBWriter()
	for _, r := range rows {
		w.row(r)
	}
	return w.bytes()
}

// decodeSQLVariant decodes a filter's column value: a type byte and the
