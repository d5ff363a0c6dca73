package otsfake

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

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
