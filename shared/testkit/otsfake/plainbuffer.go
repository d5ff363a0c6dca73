package otsfake

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// PlainBuffer is Tablestore's row encoding (research/tablestore.md §3). The
// SDK exports no decoder, so the fake has its own; it verifies every cell and
// row checksum the way the service does, so a request with a bad checksum
// fails here as it would in the cloud.

const (
	pbHeader = 0x75

	tagRowPK        = 0x1
	tagRowData      = 0x2
	tagCell         = 0x3
	tagCellName     = 0x4
	tagCellValue    = 0x5
	tagCellType     = 0x6
	tagCellTS       = 0x7
	tagDeleteMarker = 0x8
	tagRowChecksum  = 0x9
	tagCellChecksum = 0xA

	opDeleteAll = 0x1
	opDeleteOne = 0x3
	opIncrement = 0x4

	vtInteger = 0x0
	vtDouble  = 0x1
	vtBoolean = 0x2
	vtString  = 0x3
	vtBlob    = 0x7
	vtInfMin  = 0x9
	vtInfMax  = 0xa
	vtAutoInc = 0xb
)

var crc8Table = func() (t [256]byte) {
	for i := range t {
		x := byte(i)
		for range 8 {
			if x&0x80 != 0 {
				x = x<<1 ^ 0x07
			} else {
				x <<= 1
			}
		}
		t[i] = x
	}
	return t
}()

func crc8(crc, b byte) byte { return crc8Table[crc^b] }

func crc8Bytes(crc byte, bs []byte) byte {
	for _, b := range bs {
		crc = crc8(crc, b)
	}
	return crc
}

func crc8Uint32(crc byte, v uint32) byte {
	for range 4 {
		crc = crc8(crc, byte(v))
		v >>= 8
	}
	return crc
}

func crc8Uint64(crc byte, v uint64) byte {
	for range 8 {
		crc = crc8(crc, byte(v))
		v >>= 8
	}
	return crc
}

// value is one typed cell or primary-key value.
type value struct {
	t byte // vtInteger, vtString, ...
	i int64
	f float64
	b bool
	s string // string or blob bytes
}

func (v value) isInf() bool { return v.t == vtInfMin || v.t == vtInfMax }

func (v value) String() string {
	switch v.t {
	case vtInteger:
		return fmt.Sprint(v.i)
	case vtDouble:
		return fmt.Sprint(v.f)
	case vtBoolean:
		return fmt.Sprint(v.b)
	case vtString:
		return fmt.Sprintf("%q", v.s)
	case vtBlob:
		return fmt.Sprintf("blob(%x)", v.s)
	case vtInfMin:
		return "INF_MIN"
	case vtInfMax:
		return "INF_MAX"
	case vtAutoInc:
		return "AUTO_INCREMENT"
	}
	return fmt.Sprintf("type(%d)", v.t)
}

// size is the payload size used for capacity and page-size accounting.
func (v value) size() int {
	switch v.t {
	case vtString, vtBlob:
		return len(v.s)
	case vtBoolean:
		return 1
	default:
		return 8
	}
}

// checksum folds the value into a cell checksum (type, [length], payload).
func (v value) checksum(crc byte) byte {
	crc = crc8(crc, v.t)
	switch v.t {
	case vtInteger:
		crc = crc8Uint64(crc, uint64(v.i))
	case vtDouble:
		crc = crc8Uint64(crc, math.Float64bits(v.f))
	case vtBoolean:
		if v.b {
			crc = crc8(crc, 1)
		} else {
			crc = crc8(crc, 0)
		}
	case vtString, vtBlob:
		crc = crc8Uint32(crc, uint32(len(v.s)))
		crc = crc8Bytes(crc, []byte(v.s))
	}
	return crc
}

// pbCell is a decoded cell: a primary-key column or an attribute column
// (with an optional update operation and timestamp).
type pbCell struct {
	name     string
	val      value
	hasValue bool
	op       byte
	hasOp    bool
	ts       int64
	hasTS    bool
}

func (c pbCell) checksum() byte {
	crc := crc8Bytes(0, []byte(c.name))
	if c.hasValue {
		crc = c.val.checksum(crc)
	}
	if c.hasTS {
		crc = crc8Uint64(crc, uint64(c.ts))
	}
	if c.hasOp {
		crc = crc8(crc, c.op)
	}
	return crc
}

// pbRow is a decoded row.
type pbRow struct {
	pk      []pbCell
	cells   []pbCell
	deleted bool // delete marker present
}

var errPB = errors.New("malformed PlainBuffer")

type pbReader struct {
	b   []byte
	off int
}

func (r *pbReader) fail(format string, args ...any) error {
	return fmt.Errorf("%w at byte %d: %s", errPB, r.off, fmt.Sprintf(format, args...))
}

func (r *pbReader) peek() (byte, bool) {
	if r.off >= len(r.b) {
		return 0, false
	}
	return r.b[r.off], true
}

func (r *pbReader) byte1() (byte, error) {
	if r.off >= len(r.b) {
		return 0, r.fail("unexpected end")
	}
	r.off++
	return r.b[r.off-1], nil
}

func (r *pbReader) n(k int) ([]byte, error) {
	if k < 0 || len(r.b)-r.off < k {
		return nil, r.fail("need %d bytes, have %d", k, len(r.b)-r.off)
	}
	r.off += k
	return r.b[r.off-k : r.off], nil
}

func (r *pbReader) u32() (uint32, error) {
	b, err := r.n(4)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b), nil
}

func (r *pbReader) u64() (uint64, error) {
	b, err := r.n(8)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b), nil
}

func (r *pbReader) expect(tag byte, what string) error {
	b, err := r.byte1()
	if err != nil {
		return err
	}
	if b != tag {
		r.off--
		return r.fail("expected %s tag 0x%x, got 0x%x", what, tag, b)
	}
	return nil
}

func (r *pbReader) value() (value, error) {
	total, err := r.u32()
	if err != nil {
		return value{}, err
	}
	start := r.off
	t, err := r.byte1()
	if err != nil {
		return value{}, err
	}
	v := value{t: t}
	switch t {
	case vtInfMin, vtInfMax, vtAutoInc: // no payload
	default:
		known, err := r.payload(&v)
		if err != nil {
			return v, err
		}
		if !known {
			return v, r.fail("unknown value type 0x%x", t)
		}
	}
	if uint32(r.off-start) != total {
		return v, r.fail("value length %d does not match its prefix %d", r.off-start, total)
	}
	return v, nil
}

// payload reads the payload of a value of type v.t into v, for the types
// that carry one (integer, double, boolean, string, blob); known is false
// for any other type, of which nothing is read.
func (r *pbReader) payload(v *value) (known bool, err error) {
	switch v.t {
	case vtInteger, vtDouble:
		u, err := r.u64()
		if err != nil {
			return true, err
		}
		if v.t == vtInteger {
			v.i = int64(u)
		} else {
			v.f = math.Float64frombits(u)
		}
	case vtBoolean:
		b, err := r.byte1()
		if err != nil {
			return true, err
		}
		v.b = b != 0
	case vtString, vtBlob:
		l, err := r.u32()
		if err != nil {
			return true, err
		}
		s, err := r.n(int(l))
		if err != nil {
			return true, err
		}
		v.s = string(s)
	default:
		return false, nil
	}
	return true, nil
}

func (r *pbReader) cell() (pbCell, error) {
	var c pbCell
	if err := r.expect(tagCellName, "cell name"); err != nil {
		return c, err
	}
	l, err := r.u32()
	if err != nil {
		return c, err
	}
	name, err := r.n(int(l))
	if err != nil {
		return c, err
	}
	c.name = string(name)
	tag, err := r.byte1()
	if err != nil {
		return c, err
	}
	if tag == tagCellValue {
		if c.val, err = r.value(); err != nil {
			return c, err
		}
		c.hasValue = true
		if tag, err = r.byte1(); err != nil {
			return c, err
		}
	}
	if tag == tagCellType {
		if c.op, err = r.byte1(); err != nil {
			return c, err
		}
		c.hasOp = true
		if tag, err = r.byte1(); err != nil {
			return c, err
		}
	}
	if tag == tagCellTS {
		u, err := r.u64()
		if err != nil {
			return c, err
		}
		c.ts, c.hasTS = int64(u), true
		if tag, err = r.byte1(); err != nil {
			return c, err
		}
	}
	if tag != tagCellChecksum {
		r.off--
		return c, r.fail("cell %q: expected checksum tag, got 0x%x", c.name, tag)
	}
	sum, err := r.byte1()
	if err != nil {
		return c, err
	}
	if want := c.checksum(); sum != want {
		return c, fmt.Errorf("%w: checksum mismatch in cell %q: got 0x%02x, computed 0x%02x", errChecksum, c.name, sum, want)
	}
	return c, nil
}

var errChecksum = errors.New("PlainBuffer checksum mismatch")

func (r *pbReader) cells() ([]pbCell, error) {
	var out []pbCell
	for {
		tag, ok := r.peek()
		if !ok || tag != tagCell {
			return out, nil
		}
		r.off++
		c, err := r.cell()
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
}

func (r *pbReader) row() (pbRow, error) {
	var row pbRow
	if err := r.expect(tagRowPK, "row primary key"); err != nil {
		return row, err
	}
	var err error
	if row.pk, err = r.cells(); err != nil {
		return row, err
	}
	if tag, ok := r.peek(); ok && tag == tagRowData {
		r.off++
		if row.cells, err = r.cells(); err != nil {
			return row, err
		}
	}
	if tag, ok := r.peek(); ok && tag == tagDeleteMarker {
		r.off++
		row.deleted = true
	}
	if err := r.expect(tagRowChecksum, "row checksum"); err != nil {
		return row, err
	}
	sum, err := r.byte1()
	if err != nil {
		return row, err
	}
	if want := row.checksum(); sum != want {
		return row, fmt.Errorf("%w: row checksum: got 0x%02x, computed 0x%02x", errChecksum, sum, want)
	}
	return row, nil
}

func (row pbRow) checksum() byte {
	var crc byte
	for _, c := range row.pk {
		crc = crc8(crc, c.checksum())
	}
	for _, c := range row.cells {
		crc = crc8(crc, c.checksum())
	}
	if row.deleted {
		return crc8(crc, 1)
	}
	return crc8(crc, 0)
}

// decodeRow decodes a buffer that must hold exactly one row.
func decodeRow(b []byte) (pbRow, error) {
	rows, err := decodeRows(b)
	if err != nil {
		return pbRow{}, err
	}
	if len(rows) != 1 {
		return pbRow{}, fmt.Errorf("%w: %d rows where one was expected", errPB, len(rows))
	}
	return rows[0], nil
}

func decodeRows(b []byte) ([]pbRow, error) {
	r := &pbReader{b: b}
	h, err := r.u32()
	if err != nil {
		return nil, err
	}
	if h != pbHeader {
		return nil, fmt.Errorf("%w: header 0x%x, want 0x%x", errPB, h, pbHeader)
	}
	var rows []pbRow
	for r.off < len(r.b) {
		row, err := r.row()
		if err != nil {
			return nil, err
		}
		rows = append(rows, row)
	}
	return rows, nil
}

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
// payload, without the length prefix used in rows.
func decodeSQLVariant(b []byte) (value, error) {
	r := &pbReader{b: b}
	t, err := r.byte1()
	if err != nil {
		return value{}, err
	}
	v := value{t: t}
	known, err := r.payload(&v)
	if err != nil {
		return v, err
	}
	if !known {
		return v, r.fail("unsupported filter value type 0x%x", t)
	}
	if r.off != len(b) {
		return v, r.fail("%d trailing bytes after filter value", len(b)-r.off)
	}
	return v, nil
}
