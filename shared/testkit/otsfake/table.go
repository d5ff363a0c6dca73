package otsfake

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"

	pb "github.com/aliyun/aliyun-tablestore-go-sdk/tablestore/otsprotocol"
)

// Limits the fake enforces, as documented for the service.
const (
	maxPKColumns     = 4
	maxPKStringBytes = 1024
	maxCellBytes     = 2 << 20
	maxBatchWrite    = 200
	maxBatchGet      = 100
	maxRangeLimit    = 5000
	maxPageBytes     = 4 << 20
	maxTableName     = 255
	defaultDeviation = 86400
)

var nameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,254}$`)

// row is a stored row.
type row struct {
	pk   []value
	cols map[string]versions
	ts   int64 // last write, for TTL of rows without attribute columns
}

// store is a sorted set of rows: a table or an index.
type store struct {
	rows []*row // sorted by pk
}

func comparePK(a, b []value) int {
	for i := range min(len(a), len(b)) {
		if c := compareValue(a[i], b[i]); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(a), len(b))
}

// compareValue orders primary-key values; INF_MIN and INF_MAX sort before
// and after everything. Values of different real types are ordered by type
// (validation rejects them before they meet).
func compareValue(a, b value) int {
	rank := func(v value) int {
		switch v.t {
		case vtInfMin:
			return -1
		case vtInfMax:
			return 1
		}
		return 0
	}
	if ra, rb := rank(a), rank(b); ra != 0 || rb != 0 {
		return cmp.Compare(ra, rb)
	}
	if a.t != b.t {
		return cmp.Compare(a.t, b.t)
	}
	switch a.t {
	case vtInteger:
		return cmp.Compare(a.i, b.i)
	case vtString, vtBlob:
		return cmp.Compare(a.s, b.s)
	}
	return 0
}

// search returns the index of the first row with pk >= key.
func (s *store) search(key []value) int {
	i, _ := slices.BinarySearchFunc(s.rows, key, func(r *row, k []value) int { return comparePK(r.pk, k) })
	return i
}

func (s *store) get(key []value) *row {
	i := s.search(key)
	if i < len(s.rows) && comparePK(s.rows[i].pk, key) == 0 {
		return s.rows[i]
	}
	return nil
}

func (s *store) put(r *row) {
	i := s.search(r.pk)
	if i < len(s.rows) && comparePK(s.rows[i].pk, r.pk) == 0 {
		s.rows[i] = r
		return
	}
	s.rows = slices.Insert(s.rows, i, r)
}

func (s *store) remove(key []value) {
	i := s.search(key)
	if i < len(s.rows) && comparePK(s.rows[i].pk, key) == 0 {
		s.rows = slices.Delete(s.rows, i, i+1)
	}
}

// index is a local secondary index: a sorted copy of the rows that have
// every index key column, kept in step with the table on every write (local
// indexes are synchronous).
type index struct {
	meta *pb.IndexMeta
	key  []string // index PK: the declared columns, then the table PK columns not among them
	cols []string // defined columns copied into the index
	data store
}

// table is one table and its indexes.
type table struct {
	name    string
	meta    *pb.TableMeta
	pkTypes []pb.PrimaryKeyType
	defined map[string]pb.DefinedColumnType
	ttl     int32 // seconds, -1 = never
	maxVers int32
	// allowUpdate false refuses UpdateRow (the service's option, default
	// true); updateFullRow is kept and reported but cannot be changed by
	// UpdateTable (its effect on writes is not modelled: UNCONFIRMED).
	allowUpdate   bool
	updateFullRow bool
	deviation     int64
	reserved      *pb.CapacityUnit
	created       int64 // ms
	data          store
	indexes       []*index
}

func (t *table) pkNames() []string {
	names := make([]string, len(t.meta.PrimaryKey))
	for i, c := range t.meta.PrimaryKey {
		names[i] = c.GetName()
	}
	return names
}

// columnTypeIs reports whether a value of type vt fits the primary-key or
// defined column name.
func (t *table) columnTypeIs(name string, vt byte) bool {
	for i, c := range t.meta.PrimaryKey {
		if c.GetName() == name {
			return pkTypeOf(vt) == t.pkTypes[i]
		}
	}
	dt, ok := t.defined[name]
	return ok && definedTypeOf(vt) == dt
}

// visible reports whether r is visible at now (ms) given the table TTL, and
// returns the visible cells: the versions younger than the TTL. The result
// must not be modified.
func (t *table) visible(r *row, now int64) (map[string]versions, bool) {
	if r == nil {
		return nil, false
	}
	if t.ttl <= 0 {
		return r.cols, true
	}
	limit := now - int64(t.ttl)*1000
	if len(r.cols) == 0 {
		return r.cols, r.ts > limit
	}
	live := make(map[string]versions, len(r.cols))
	for name, vs := range r.cols {
		n := 0
		for n < len(vs) && vs[n].ts > limit {
			n++
		}
		if n > 0 {
			live[name] = vs[:n]
		}
	}
	return live, len(live) > 0
}

// trimVersions drops the versions beyond the table's max_versions, after
// UpdateTable lowered it: reads never return them again.
func (t *table) trimVersions() {
	for _, r := range t.data.rows {
		for name, vs := range r.cols {
			if len(vs) > int(t.maxVers) {
				r.cols[name] = vs[:t.maxVers:t.maxVers]
			}
		}
	}
}

// indexRow derives r's entry in ix, or nil when r lacks an index key column.
func (t *table) indexRow(ix *index, r *row) *row {
	pkNames := t.pkNames()
	pkAt := func(name string) (value, bool) {
		for i, n := range pkNames {
			if n == name {
				return r.pk[i], true
			}
		}
		if vs, ok := r.cols[name]; ok {
			return vs.latest().v, true
		}
		return value{}, false
	}
	out := &row{cols: map[string]versions{}, ts: r.ts}
	for _, k := range ix.key {
		v, ok := pkAt(k)
		if !ok {
			return nil
		}
		out.pk = append(out.pk, v)
	}
	for _, c := range ix.cols {
		if v, ok := r.cols[c]; ok {
			out.cols[c] = v
		}
	}
	return out
}

// write replaces the row at key (nil = delete) and keeps the indexes in step.
func (t *table) write(key []value, old, next *row) {
	for _, ix := range t.indexes {
		if old != nil {
			if ir := t.indexRow(ix, old); ir != nil {
				ix.data.remove(ir.pk)
			}
		}
		if next != nil {
			if ir := t.indexRow(ix, next); ir != nil {
				ix.data.put(ir)
			}
		}
	}
	if next == nil {
		t.data.remove(key)
	} else {
		t.data.put(next)
	}
}

// opError is a service error: HTTP status, code and message.
type opError struct {
	status int
	code   string
	msg    string
}

func (e *opError) Error() string { return fmt.Sprintf("%d %s: %s", e.status, e.code, e.msg) }

// errUnsupported refuses a feature the fake does not implement with the
// service's misuse answer (400 OTSParameterInvalid), so a client sees the
// error type and status the service gives for a request it cannot serve;
// the message names the feature. The package doc lists these features.
func errUnsupported(feature string) *opError {
	return errParam("%s is not supported by this server (otsfake).", feature)
}

func errParam(format string, args ...any) *opError {
	return &opError{400, "OTSParameterInvalid", fmt.Sprintf(format, args...)}
}

func errInvalidPK(format string, args ...any) *opError {
	return &opError{400, "OTSInvalidPK", fmt.Sprintf(format, args...)}
}

var (
	errConditionFailed = &opError{403, "OTSConditionCheckFail", "Condition check failed."}
	errNoTable         = &opError{404, "OTSObjectNotExist", "Requested table does not exist."}
	errTableExists     = &opError{409, "OTSObjectAlreadyExist", "Requested table already exists."}
)

// checkPK validates a decoded primary key against the table schema; bounds
// allows INF_MIN/INF_MAX (GetRange only).
func (t *table) checkPK(cells []pbCell, bounds bool) ([]value, *opError) {
	schema := t.meta.PrimaryKey
	if len(cells) != len(schema) {
		return nil, errInvalidPK("Validate PK size fail. Input: %d, Meta: %d.", len(cells), len(schema))
	}
	key := make([]value, len(cells))
	for i, c := range cells {
		want := schema[i]
		if c.name != want.GetName() {
			return nil, errInvalidPK("Validate PK name fail. Input: %s, Meta: %s.", c.name, want.GetName())
		}
		if !c.hasValue || c.hasOp || c.hasTS {
			return nil, errInvalidPK("Primary key column %s must carry exactly a value.", c.name)
		}
		v := c.val
		switch {
		case v.isInf():
			if !bounds {
				return nil, errInvalidPK("INF_MIN/INF_MAX is only allowed in a range bound (column %s).", c.name)
			}
		case v.t == vtAutoInc:
			return nil, errUnsupported(fmt.Sprintf("An auto-increment primary key value (column %s)", c.name))
		case pkTypeOf(v.t) != want.GetType():
			return nil, errInvalidPK("Validate PK type fail. Input: %s, Meta: %s.", vtName(v.t), want.GetType())
		case (v.t == vtString || v.t == vtBlob) && len(v.s) > maxPKStringBytes:
			return nil, errParam("The length of primary key column %s is %d, larger than %d.", c.name, len(v.s), maxPKStringBytes)
		}
		key[i] = v
	}
	return key, nil
}

func pkTypeOf(t byte) pb.PrimaryKeyType {
	switch t {
	case vtInteger:
		return pb.PrimaryKeyType_INTEGER
	case vtString:
		return pb.PrimaryKeyType_STRING
	case vtBlob:
		return pb.PrimaryKeyType_BINARY
	}
	return 0
}

func definedTypeOf(t byte) pb.DefinedColumnType {
	switch t {
	case vtInteger:
		return pb.DefinedColumnType_DCT_INTEGER
	case vtDouble:
		return pb.DefinedColumnType_DCT_DOUBLE
	case vtBoolean:
		return pb.DefinedColumnType_DCT_BOOLEAN
	case vtString:
		return pb.DefinedColumnType_DCT_STRING
	case vtBlob:
		return pb.DefinedColumnType_DCT_BLOB
	}
	return 0
}

func vtName(t byte) string {
	switch t {
	case vtInteger:
		return "INTEGER"
	case vtDouble:
		return "DOUBLE"
	case vtBoolean:
		return "BOOLEAN"
	case vtString:
		return "STRING"
	case vtBlob:
		return "BINARY"
	}
	return fmt.Sprintf("type 0x%x", t)
}

// checkColumn validates an attribute cell of a write.
func (t *table) checkColumn(c pbCell) *opError {
	if !nameRE.MatchString(c.name) {
		return errParam("Invalid column name: '%s'.", c.name)
	}
	for _, pk := range t.meta.PrimaryKey {
		if pk.GetName() == c.name {
			return errParam("Attribute column %s has the name of a primary key column.", c.name)
		}
	}
	if !c.hasValue {
		return nil
	}
	switch c.val.t {
	case vtInteger, vtDouble, vtBoolean, vtString, vtBlob:
	default:
		return errParam("Invalid type %s for attribute column %s.", vtName(c.val.t), c.name)
	}
	if c.val.size() > maxCellBytes {
		return errParam("The length of attribute column %s is %d, larger than %d.", c.name, c.val.size(), maxCellBytes)
	}
	if dt, ok := t.defined[c.name]; ok && definedTypeOf(c.val.t) != dt {
		return errParam("Column %s is a defined column of type %s; got %s.", c.name, dt, vtName(c.val.t))
	}
	return nil
}
