package otsfake

import (
	"fmt"
	"math"
)

// PlainBuffer is Tablestore's row encoding. The
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
