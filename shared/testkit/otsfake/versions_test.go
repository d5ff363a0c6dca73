package otsfake

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	ots "github.com/aliyun/aliyun-tablestore-go-sdk/tablestore"
)

// base is the fixed server clock of these tests; cell timestamps are given
// relative to it.
var base = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()

// versionedFake serves table "vt" (PK pk STRING) keeping maxVers versions.
func versionedFake(t *testing.T, maxVers int) (*Server, *ots.TableStoreClient) {
	t.Helper()
	s := newFake(t, Options{Now: func() time.Time { return time.UnixMilli(base) }})
	c := client(s, nil)
	if err := simpleTable(c, "vt", &ots.TableOption{TimeToAlive: -1, MaxVersion: maxVers}); err != nil {
		t.Fatal(err)
	}
	return s, c
}

// update applies one UpdateRow to row key of vt.
func update(t *testing.T, c *ots.TableStoreClient, key string, mod func(*ots.UpdateRowChange)) {
	t.Helper()
	u := &ots.UpdateRowChange{TableName: "vt", PrimaryKey: pk(key)}
	mod(u)
	u.SetCondition(ots.RowExistenceExpectation_IGNORE)
	if _, err := c.UpdateRow(&ots.UpdateRowRequest{UpdateRowChange: u}); err != nil {
		t.Fatalf("UpdateRow: %v", err)
	}
}

// putAt writes version ts (relative to base) of column col.
func putAt(t *testing.T, c *ots.TableStoreClient, key, col string, ts int64, v any) {
	t.Helper()
	update(t, c, key, func(u *ots.UpdateRowChange) { u.PutColumnWithTimestamp(col, v, base+ts) })
}

// cells lists a row's cells as "col@ts=value", ts relative to base, in the
// order the answer gives them.
func cells(cols []*ots.AttributeColumn) []string {
	var out []string
	for _, c := range cols {
		out = append(out, fmt.Sprintf("%s@%d=%v", c.ColumnName, c.Timestamp-base, c.Value))
	}
	return out
}

// read is GetRow on vt; it returns whether the row came back and its cells.
func read(t *testing.T, c *ots.TableStoreClient, key string, mod func(*ots.SingleRowQueryCriteria)) (bool, []string, error) {
	t.Helper()
	q := &ots.SingleRowQueryCriteria{TableName: "vt", PrimaryKey: pk(key)}
	mod(q)
	r, err := c.GetRow(&ots.GetRowRequest{SingleRowQueryCriteria: q})
	if err != nil {
		return false, nil, err
	}
	return len(r.PrimaryKey.PrimaryKeys) > 0, cells(r.Columns), nil
}

func wantCells(t *testing.T, what string, got []string, err error, want ...string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("%s: cells %q, want %q", what, got, want)
	}
}

func maxVersions(n int32) func(*ots.SingleRowQueryCriteria) {
	return func(q *ots.SingleRowQueryCriteria) { q.MaxVersion = n }
}

// TestCellVersions: a table keeps up to max_versions versions per cell;
// reads return the newest max_versions asked for, newest first; a write of
// an existing timestamp replaces that version; deleting one version, all
// versions, incrementing and PutRow behave as the service's.
func TestCellVersions(t *testing.T) {
	_, c := versionedFake(t, 3)
	for i, v := range []string{"a", "b", "c", "d"} {
		putAt(t, c, "r", "v", int64(i+1)*1000, v)
	}
	_, got, err := read(t, c, "r", maxVersions(10))
	wantCells(t, "four writes, three kept", got, err, "v@4000=d", "v@3000=c", "v@2000=b")
	_, got, err = read(t, c, "r", maxVersions(2))
	wantCells(t, "max_versions 2", got, err, "v@4000=d", "v@3000=c")
	_, got, err = read(t, c, "r", maxVersions(1))
	wantCells(t, "max_versions 1", got, err, "v@4000=d")

	putAt(t, c, "r", "v", 3000, "C")
	_, got, err = read(t, c, "r", maxVersions(3))
	wantCells(t, "rewrite of version 3000", got, err, "v@4000=d", "v@3000=C", "v@2000=b")
	update(t, c, "r", func(u *ots.UpdateRowChange) { u.DeleteColumnWithTimestamp("v", base+4000) })
	_, got, err = read(t, c, "r", maxVersions(3))
	wantCells(t, "version 4000 deleted", got, err, "v@3000=C", "v@2000=b")

	putAt(t, c, "r", "n", -1000, int64(5))
	update(t, c, "r", func(u *ots.UpdateRowChange) { u.IncrementColumn("n", 2) })
	_, got, err = read(t, c, "r", func(q *ots.SingleRowQueryCriteria) { q.MaxVersion = 3; q.AddColumnToGet("n") })
	wantCells(t, "increment adds a version at the server's time", got, err, "n@0=7", "n@-1000=5")

	update(t, c, "r", func(u *ots.UpdateRowChange) { u.DeleteColumn("v") })
	_, got, err = read(t, c, "r", maxVersions(3))
	wantCells(t, "every version of v deleted", got, err, "n@0=7", "n@-1000=5")

	put := &ots.PutRowChange{TableName: "vt", PrimaryKey: pk("r")}
	put.AddColumnWithTimestamp("v", "p", base+5000)
	put.SetCondition(ots.RowExistenceExpectation_IGNORE)
	if _, err := c.PutRow(&ots.PutRowRequest{PutRowChange: put}); err != nil {
		t.Fatal(err)
	}
	_, got, err = read(t, c, "r", maxVersions(3))
	wantCells(t, "PutRow replaces every column and version", got, err, "v@5000=p")
}

// TestOneVersionTable: with max_versions 1 (the project's tables) the cell
// holds the version with the largest timestamp, whatever the write order.
func TestOneVersionTable(t *testing.T) {
	_, c := versionedFake(t, 1)
	putAt(t, c, "r", "v", 2000, "new")
	putAt(t, c, "r", "v", 1000, "old")
	_, got, err := read(t, c, "r", maxVersions(5))
	wantCells(t, "older write after a newer one", got, err, "v@2000=new")
	update(t, c, "r", func(u *ots.UpdateRowChange) { u.PutColumn("v", "now") })
	_, got, err = read(t, c, "r", maxVersions(5))
	wantCells(t, "write at the server's time, older than 2000", got, err, "v@2000=new")
	putAt(t, c, "r", "v", 3000, "newest")
	_, got, err = read(t, c, "r", maxVersions(5))
	wantCells(t, "newer write", got, err, "v@3000=newest")
}

// TestMaxVersionsLowered: after UpdateTable lowers max_versions, reads
// return no more versions than the new value, and raising it again does not
// bring the dropped ones back.
func TestMaxVersionsLowered(t *testing.T) {
	_, c := versionedFake(t, 3)
	for i := range int64(3) {
		putAt(t, c, "r", "v", (i+1)*1000, i)
	}
	for _, mv := range []int{1, 3} {
		if _, err := c.UpdateTable(&ots.UpdateTableRequest{TableName: "vt", TableOption: &ots.TableOption{TimeToAlive: -1, MaxVersion: mv}}); err != nil {
			t.Fatalf("UpdateTable max_versions %d: %v", mv, err)
		}
		_, got, err := read(t, c, "r", maxVersions(3))
		wantCells(t, fmt.Sprintf("after max_versions %d", mv), got, err, "v@3000=2")
	}
	d, err := c.DescribeTable(&ots.DescribeTableRequest{TableName: "vt"})
	if err != nil || d.TableOption.MaxVersion != 3 {
		t.Fatalf("DescribeTable: %+v, %v", d, err)
	}
}

// threeVersions fills row r: v at 1000, 2000, 3000 ("a", "b", "c") and w
// at 1000 ("x").
func threeVersions(t *testing.T) *ots.TableStoreClient {
	_, c := versionedFake(t, 3)
	for i, v := range []string{"a", "b", "c"} {
		putAt(t, c, "r", "v", int64(i+1)*1000, v)
	}
	putAt(t, c, "r", "w", 1000, "x")
	return c
}

// TestTimeRange: a time_range selects the versions in [start, end) or at a
// specific time, alone or with max_versions; a specific time with
// max_versions is refused with the service's message.
func TestTimeRange(t *testing.T) {
	c := threeVersions(t)
	window := func(start, end int64, mv int32) func(*ots.SingleRowQueryCriteria) {
		return func(q *ots.SingleRowQueryCriteria) {
			q.TimeRange, q.MaxVersion = &ots.TimeRange{Start: base + start, End: base + end}, mv
		}
	}
	_, got, err := read(t, c, "r", window(1000, 3000, 0))
	wantCells(t, "[1000, 3000)", got, err, "v@2000=b", "v@1000=a", "w@1000=x")
	_, got, err = read(t, c, "r", window(1000, 3001, 1))
	wantCells(t, "[1000, 3001) max_versions 1", got, err, "v@3000=c", "w@1000=x")
	_, got, err = read(t, c, "r", func(q *ots.SingleRowQueryCriteria) { q.TimeRange = &ots.TimeRange{Specific: base + 2000} })
	wantCells(t, "specific 2000", got, err, "v@2000=b")

	found, got, err := read(t, c, "r", window(5000, 6000, 0))
	if err != nil || !found || len(got) != 0 {
		t.Fatalf("empty window, all columns: found %v, cells %q, %v; want the row's key alone", found, got, err)
	}
	found, _, err = read(t, c, "r", func(q *ots.SingleRowQueryCriteria) {
		window(5000, 6000, 0)(q)
		q.AddColumnToGet("v")
	})
	if err != nil || found {
		t.Fatalf("empty window, columns_to_get v: found %v, %v; want no row", found, err)
	}

	_, _, err = read(t, c, "r", func(q *ots.SingleRowQueryCriteria) {
		q.TimeRange, q.MaxVersion = &ots.TimeRange{Specific: base + 2000}, 1
	})
	wantCode(t, "specific time with max_versions", err, 400, "OTSParameterInvalid")
	if !strings.Contains(err.Error(), "Specific tiemstamp and max versions cannot be given at the same time") {
		t.Errorf("message %q", err)
	}
	_, _, err = read(t, c, "r", window(3000, 3000, 0))
	wantCode(t, "empty [start, end)", err, 400, "OTSParameterInvalid")
}

// TestTimeRangeInBatchAndRange: BatchGetRow and GetRange select versions as
// GetRow does.
func TestTimeRangeInBatchAndRange(t *testing.T) {
	c := threeVersions(t)
	tr := &ots.TimeRange{Start: base + 2000, End: base + 4000}
	crit := &ots.MultiRowQueryCriteria{TableName: "vt", TimeRange: tr}
	crit.AddRow(pk("r"))
	b, err := c.BatchGetRow(&ots.BatchGetRowRequest{MultiRowQueryCriteria: []*ots.MultiRowQueryCriteria{crit}})
	if err != nil {
		t.Fatal(err)
	}
	wantCells(t, "BatchGetRow [2000, 4000)", cells(b.TableToRowsResult["vt"][0].Columns), nil, "v@3000=c", "v@2000=b")
	start, end := &ots.PrimaryKey{}, &ots.PrimaryKey{}
	start.AddPrimaryKeyColumnWithMinValue("pk")
	end.AddPrimaryKeyColumnWithMaxValue("pk")
	r, err := c.GetRange(&ots.GetRangeRequest{RangeRowQueryCriteria: &ots.RangeRowQueryCriteria{TableName: "vt",
		StartPrimaryKey: start, EndPrimaryKey: end, Direction: ots.FORWARD, TimeRange: tr, MaxVersion: 1}})
	if err != nil || len(r.Rows) != 1 {
		t.Fatalf("GetRange: %+v, %v", r, err)
	}
	wantCells(t, "GetRange [2000, 4000) max_versions 1", cells(r.Rows[0].Columns), nil, "v@3000=c")
}

// TestFilterVersions: a column filter compares the newest version unless
// latest_version_only is false, when any version may match.
func TestFilterVersions(t *testing.T) {
	c := threeVersions(t)
	for _, latestOnly := range []bool{true, false} {
		f := ots.NewSingleColumnCondition("v", ots.CT_EQUAL, "a")
		f.LatestVersionOnly = latestOnly
		found, _, err := read(t, c, "r", func(q *ots.SingleRowQueryCriteria) { q.MaxVersion = 3; q.Filter = f })
		if err != nil || found == latestOnly {
			t.Errorf("v == a (an old version), latest_version_only %v: row returned %v, %v", latestOnly, found, err)
		}
	}
}

// TestVersionsExpire: with a TTL each version expires on its own timestamp;
// a row whose versions have all expired is gone.
func TestVersionsExpire(t *testing.T) {
	c := client(newFake(t, Options{Now: func() time.Time { return time.UnixMilli(base) }}), nil)
	if err := simpleTable(c, "vt", &ots.TableOption{TimeToAlive: 86400, MaxVersion: 3}); err != nil {
		t.Fatal(err)
	}
	const day = 86400 * 1000
	putAt(t, c, "r", "v", -day-1, "expired")
	putAt(t, c, "r", "v", -day+1000, "live")
	_, got, err := read(t, c, "r", maxVersions(3))
	wantCells(t, "one version past the TTL", got, err, fmt.Sprintf("v@%d=live", -day+1000))
	putAt(t, c, "gone", "v", -day, "expired")
	if found, _, err := read(t, c, "gone", maxVersions(3)); err != nil || found {
		t.Fatalf("row with only expired versions: found %v, %v", found, err)
	}
}
