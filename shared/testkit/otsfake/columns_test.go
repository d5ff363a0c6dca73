package otsfake

import (
	"testing"

	ots "github.com/aliyun/aliyun-tablestore-go-sdk/tablestore"
	"github.com/golang/protobuf/proto"
)

// wideRow fills row r of vt with columns a to e (values 1 to 5), one
// version each.
func wideRow(t *testing.T) *ots.TableStoreClient {
	_, c := versionedFake(t, 1)
	for i, col := range []string{"a", "b", "c", "d", "e"} {
		putAt(t, c, "r", col, 0, int64(i+1))
	}
	return c
}

// TestColumnWindow: start_column (inclusive) and end_column (exclusive)
// bound the columns returned, and a column pagination filter skips offset
// columns and returns at most limit, after the bounds (the SDK suite's
// TestPutGetRowWithFilter).
func TestColumnWindow(t *testing.T) {
	c := wideRow(t)
	cases := []struct {
		name string
		mod  func(*ots.SingleRowQueryCriteria)
		want []string
	}{
		{"start b, end e", func(q *ots.SingleRowQueryCriteria) { q.SetStartColumn("b"); q.EndColumn = proto.String("e") }, []string{"b@0=2", "c@0=3", "d@0=4"}},
		{"offset 1, limit 2", func(q *ots.SingleRowQueryCriteria) { q.SetFilter(&ots.PaginationFilter{Offset: 1, Limit: 2}) }, []string{"b@0=2", "c@0=3"}},
		{"start c, offset 1, limit 5", func(q *ots.SingleRowQueryCriteria) {
			q.SetStartColumn("c")
			q.SetFilter(&ots.PaginationFilter{Offset: 1, Limit: 5})
		}, []string{"d@0=4", "e@0=5"}},
		{"offset past the end", func(q *ots.SingleRowQueryCriteria) { q.SetFilter(&ots.PaginationFilter{Offset: 9, Limit: 2}) }, nil},
	}
	for _, tc := range cases {
		_, got, err := read(t, c, "r", func(q *ots.SingleRowQueryCriteria) { q.MaxVersion = 1; tc.mod(q) })
		wantCells(t, tc.name, got, err, tc.want...)
	}
	_, _, err := read(t, c, "r", func(q *ots.SingleRowQueryCriteria) {
		q.MaxVersion = 1
		q.SetStartColumn("c")
		q.EndColumn = proto.String("c")
	})
	wantCode(t, "start_column = end_column", err, 400, "OTSParameterInvalid")
}

// TestPaginationFilterPlaces: a column pagination filter applies to each
// row of a BatchGetRow, and is refused inside a composite filter and as a
// write condition.
func TestPaginationFilterPlaces(t *testing.T) {
	c := wideRow(t)
	putAt(t, c, "s", "z", 0, int64(9))
	crit := &ots.MultiRowQueryCriteria{TableName: "vt", MaxVersion: 1, Filter: &ots.PaginationFilter{Offset: 3, Limit: 1}}
	crit.AddRow(pk("r"))
	crit.AddRow(pk("s"))
	b, err := c.BatchGetRow(&ots.BatchGetRowRequest{MultiRowQueryCriteria: []*ots.MultiRowQueryCriteria{crit}})
	if err != nil {
		t.Fatal(err)
	}
	rows := b.TableToRowsResult["vt"]
	wantCells(t, "BatchGetRow row r", cells(rows[0].Columns), nil, "d@0=4")
	wantCells(t, "BatchGetRow row s", cells(rows[1].Columns), nil)

	comp := ots.NewCompositeColumnCondition(ots.LO_AND)
	comp.AddFilter(ots.NewSingleColumnCondition("a", ots.CT_EQUAL, int64(1)))
	comp.AddFilter(&ots.PaginationFilter{Offset: 0, Limit: 1})
	_, _, err = read(t, c, "r", func(q *ots.SingleRowQueryCriteria) { q.MaxVersion = 1; q.SetFilter(comp) })
	wantCode(t, "pagination inside a composite filter", err, 400, "OTSParameterInvalid")

	u := &ots.UpdateRowChange{TableName: "vt", PrimaryKey: pk("r")}
	u.PutColumn("a", int64(0))
	u.SetCondition(ots.RowExistenceExpectation_IGNORE)
	u.SetColumnCondition(&ots.PaginationFilter{Offset: 0, Limit: 1})
	_, err = c.UpdateRow(&ots.UpdateRowRequest{UpdateRowChange: u})
	wantCode(t, "pagination filter as a row condition", err, 400, "OTSParameterInvalid")
}

// TestSimpleRowMatrix: GetRange answers SIMPLE_ROW_MATRIX when asked, every
// value type round-trips, a column a row lacks is absent from that row,
// and a page with a multi-version cell falls back to PlainBuffer (the
// answer names the format it used).
func TestSimpleRowMatrix(t *testing.T) {
	_, c := versionedFake(t, 2)
	put := &ots.PutRowChange{TableName: "vt", PrimaryKey: pk("a")}
	for name, v := range map[string]any{"i": int64(-7), "f": 2.5, "b": true, "s": "text", "x": []byte{0, 1, 2}} {
		put.AddColumn(name, v)
	}
	put.SetCondition(ots.RowExistenceExpectation_IGNORE)
	if _, err := c.PutRow(&ots.PutRowRequest{PutRowChange: put}); err != nil {
		t.Fatal(err)
	}
	putAt(t, c, "b", "s", 0, "only")
	start, end := &ots.PrimaryKey{}, &ots.PrimaryKey{}
	start.AddPrimaryKeyColumnWithMinValue("pk")
	end.AddPrimaryKeyColumnWithMaxValue("pk")
	get := func(mv int32) *ots.GetRangeResponse {
		t.Helper()
		r, err := c.GetRange(&ots.GetRangeRequest{RangeRowQueryCriteria: &ots.RangeRowQueryCriteria{TableName: "vt",
			StartPrimaryKey: start, EndPrimaryKey: end, Direction: ots.FORWARD, MaxVersion: mv, DataBlockType: ots.SimpleRowMatrix}})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	r := get(1)
	if r.DataBlockType != ots.SimpleRowMatrix || len(r.Rows) != 2 {
		t.Fatalf("block type %v, %d rows; want SimpleRowMatrix, 2", r.DataBlockType, len(r.Rows))
	}
	got := map[string]any{}
	for _, col := range r.Rows[0].Columns {
		got[col.ColumnName] = col.Value
	}
	if got["i"] != int64(-7) || got["f"] != 2.5 || got["b"] != true || got["s"] != "text" || string(got["x"].([]byte)) != "\x00\x01\x02" || len(got) != 5 {
		t.Fatalf("row a: %v", got)
	}
	if pk := r.Rows[1].PrimaryKey.PrimaryKeys[0].Value; pk != "b" || len(r.Rows[1].Columns) != 1 || r.Rows[1].Columns[0].Value != "only" {
		t.Fatalf("row %v: columns %v", pk, r.Rows[1].Columns)
	}

	putAt(t, c, "b", "s", 1000, "newer")
	if r := get(2); r.DataBlockType != ots.PlainBuffer || len(r.Rows[1].Columns) != 2 {
		t.Fatalf("two versions: block type %v, row b %d cells; want PlainBuffer, 2", r.DataBlockType, len(r.Rows[1].Columns))
	}
}
