package otsfake

import (
	"bytes"
	"encoding/binary"
	"maps"
	"math"
	"slices"
)

// SimpleRowMatrix is GetRange's columnar row format (the SDK's
// the SDK's matrix.go reads it), all little-endian:
//
//	header:  api version, data offset, option offset, PK count, attribute
//	         count (int32 each); every field name (int16 length, bytes),
//	         primary key columns first
//	options: row count (tag 3, int32)
//	data:    per row, tag 2 then each field's value: a type byte and the
//	         payload (strings and blobs with an int32 length); a column the
//	         row lacks is the type VT_NULL
//	end:     checksum tag 1 and a CRC8 of the data (UNCONFIRMED: which
//	         bytes the service's checksum covers; the SDK ignores it)
//
// It has no timestamps and one value per column, so it can carry a page
// only when no cell has more than one version.
const (
	matrixAPIVersion = 0x304d5253
	matrixTagCRC     = 1
	matrixTagRow     = 2
	matrixTagCount   = 3
	matrixNull       = 0x6
)

// encodeMatrix encodes rows as a SimpleRowMatrix with the attribute
// columns attrs (every attribute column of the rows when empty). ok is
// false when a row has a cell with several versions.
func encodeMatrix(pkNames, attrs []string, rows []pbRow) (out []byte, ok bool) {
	if len(attrs) == 0 {
		seen := map[string]bool{}
		for _, r := range rows {
			for _, c := range r.cells {
				seen[c.name] = true
			}
		}
		attrs = slices.Sorted(maps.Keys(seen))
	}
	var data bytes.Buffer
	for _, r := range rows {
		data.WriteByte(matrixTagRow)
		for _, c := range r.pk {
			writeMatrixValue(&data, c.val)
		}
		byName := make(map[string]value, len(r.cells))
		for _, c := range r.cells {
			if _, dup := byName[c.name]; dup {
				return nil, false
			}
			byName[c.name] = c.val
		}
		for _, name := range attrs {
			if v, has := byName[name]; has {
				writeMatrixValue(&data, v)
			} else {
				data.WriteByte(matrixNull)
			}
		}
	}
	var names bytes.Buffer
	for _, n := range append(slices.Clone(pkNames), attrs...) {
		le(&names, int16(len(n)))
		names.WriteString(n)
	}
	const headerLen = 5 * 4
	optionOffset := headerLen + names.Len()
	const optionsLen = 1 + 4
	var b bytes.Buffer
	for _, v := range []int32{matrixAPIVersion, int32(optionOffset + optionsLen), int32(optionOffset), int32(len(pkNames)), int32(len(attrs))} {
		le(&b, v)
	}
	b.Write(names.Bytes())
	b.WriteByte(matrixTagCount)
	le(&b, int32(len(rows)))
	b.Write(data.Bytes())
	b.WriteByte(matrixTagCRC)
	b.WriteByte(crc8Bytes(0, data.Bytes()))
	return b.Bytes(), true
}

// writeMatrixValue writes a type byte and the payload.
func writeMatrixValue(b *bytes.Buffer, v value) {
	b.WriteByte(v.t)
	switch v.t {
	case vtInteger:
		le(b, v.i)
	case vtDouble:
		le(b, math.Float64bits(v.f))
	case vtBoolean:
		le(b, v.b)
	case vtString, vtBlob:
		le(b, int32(len(v.s)))
		b.WriteString(v.s)
	}
}

// le writes a fixed-size value little-endian (a bytes.Buffer never fails).
func le(b *bytes.Buffer, v any) { _ = binary.Write(b, binary.LittleEndian, v) }
