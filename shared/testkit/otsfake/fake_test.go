package otsfake

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	ots "github.com/aliyun/aliyun-tablestore-go-sdk/tablestore"
	pb "github.com/aliyun/aliyun-tablestore-go-sdk/tablestore/otsprotocol"
	"github.com/golang/protobuf/proto"
)

const (
	akID   = "STS.test"
	secret = "s3cret"
	token  = "sts-token"
)

func newFake(t *testing.T, opts Options) *Server {
	t.Helper()
	s := New(opts)
	t.Cleanup(s.Close)
	s.AddCredentials(akID, secret, token)
	return s
}

// client is the real SDK client, with tiny retry backoffs.
func client(s *Server, mod func(*ots.TableStoreConfig)) *ots.TableStoreClient {
	cfg := ots.NewDefaultTableStoreConfig()
	cfg.RetryTimes = 3
	cfg.DefaultRetryInterval = 2 * time.Millisecond
	cfg.MaxRetryInterval = 4 * time.Millisecond
	if mod != nil {
		mod(cfg)
	}
	return ots.NewClientWithConfig(s.URL(), s.Instance(), akID, secret, token, cfg)
}

func wantCode(t *testing.T, what string, err error, status int, code string) {
	t.Helper()
	var oe *ots.OtsError
	if !errors.As(err, &oe) {
		t.Fatalf("%s: error %v (%T), want OtsError %s", what, err, err, code)
	}
	if oe.Code != code || (status != 0 && oe.HttpStatusCode != status) {
		t.Fatalf("%s: %d %s %q, want %d %s", what, oe.HttpStatusCode, oe.Code, oe.Message, status, code)
	}
}

// createUsers creates table users: PK (dir STRING, id INTEGER), defined
// column age INTEGER and name STRING, and a local index by_age on (dir, age)
// carrying name.
func createUsers(t *testing.T, c *ots.TableStoreClient) {
	t.Helper()
	meta := &ots.TableMeta{TableName: "users"}
	meta.AddPrimaryKeyColumn("dir", ots.PrimaryKeyType_STRING)
	meta.AddPrimaryKeyColumn("id", ots.PrimaryKeyType_INTEGER)
	meta.AddDefinedColumn("age", ots.DefinedColumn_INTEGER)
	meta.AddDefinedColumn("name", ots.DefinedColumn_STRING)
	req := &ots.CreateTableRequest{
		TableMeta:          meta,
		TableOption:        &ots.TableOption{TimeToAlive: -1, MaxVersion: 1},
		ReservedThroughput: &ots.ReservedThroughput{},
	}
	ix := &ots.IndexMeta{IndexName: "by_age", IndexType: ots.IT_LOCAL_INDEX}
	ix.AddPrimaryKeyColumn("dir")
	ix.AddPrimaryKeyColumn("age")
	ix.AddDefinedColumn("name")
	req.AddIndexMeta(ix)
	if _, err := c.CreateTable(req); err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
}

func userPK(dir string, id int64) *ots.PrimaryKey {
	k := &ots.PrimaryKey{}
	k.AddPrimaryKeyColumn("dir", dir)
	k.AddPrimaryKeyColumn("id", id)
	return k
}

func putUser(t *testing.T, c *ots.TableStoreClient, dir string, id, age int64, name string) {
	t.Helper()
	ch := &ots.PutRowChange{TableName: "users", PrimaryKey: userPK(dir, id)}
	ch.AddColumn("age", age)
	ch.AddColumn("name", name)
	ch.SetCondition(ots.RowExistenceExpectation_IGNORE)
	if _, err := c.PutRow(&ots.PutRowRequest{PutRowChange: ch}); err != nil {
		t.Fatalf("PutRow %s/%d: %v", dir, id, err)
	}
}

func getUser(t *testing.T, c *ots.TableStoreClient, dir string, id int64, cols ...string) map[string]any {
	t.Helper()
	resp, err := c.GetRow(&ots.GetRowRequest{SingleRowQueryCriteria: &ots.SingleRowQueryCriteria{
		TableName: "users", PrimaryKey: userPK(dir, id), MaxVersion: 1, ColumnsToGet: cols}})
	if err != nil {
		t.Fatalf("GetRow: %v", err)
	}
	if len(resp.PrimaryKey.PrimaryKeys) == 0 {
		return nil
	}
	out := map[string]any{}
	for _, col := range resp.Columns {
		out[col.ColumnName] = col.Value
	}
	return out
}

func TestTables(t *testing.T) {
	s := newFake(t, Options{})
	c := client(s, nil)
	createUsers(t, c)

	meta := &ots.TableMeta{TableName: "users"}
	meta.AddPrimaryKeyColumn("dir", ots.PrimaryKeyType_STRING)
	_, err := c.CreateTable(&ots.CreateTableRequest{TableMeta: meta, TableOption: &ots.TableOption{TimeToAlive: -1, MaxVersion: 1}, ReservedThroughput: &ots.ReservedThroughput{}})
	wantCode(t, "duplicate CreateTable", err, 409, "OTSObjectAlreadyExist")

	ev := &ots.TableMeta{TableName: "events"}
	ev.AddPrimaryKeyColumn("key", ots.PrimaryKeyType_STRING)
	if _, err := c.CreateTable(&ots.CreateTableRequest{TableMeta: ev, TableOption: &ots.TableOption{TimeToAlive: 86400, MaxVersion: 1}, ReservedThroughput: &ots.ReservedThroughput{}}); err != nil {
		t.Fatalf("CreateTable events: %v", err)
	}

	list, err := c.ListTable()
	if err != nil || strings.Join(list.TableNames, ",") != "events,users" {
		t.Fatalf("ListTable = %v, %v; want events,users (indexes are not tables)", list.TableNames, err)
	}

	d, err := c.DescribeTable(&ots.DescribeTableRequest{TableName: "users"})
	if err != nil {
		t.Fatalf("DescribeTable: %v", err)
	}
	if len(d.TableMeta.SchemaEntry) != 2 || *d.TableMeta.SchemaEntry[1].Name != "id" || *d.TableMeta.SchemaEntry[1].Type != ots.PrimaryKeyType_INTEGER {
		t.Errorf("DescribeTable schema = %+v", d.TableMeta.SchemaEntry)
	}
	if len(d.TableMeta.DefinedColumns) != 2 || d.TableOption.TimeToAlive != -1 || d.TableOption.MaxVersion != 1 {
		t.Errorf("DescribeTable defined %v options %+v", d.TableMeta.DefinedColumns, d.TableOption)
	}
	if len(d.IndexMetas) != 1 || d.IndexMetas[0].IndexName != "by_age" || d.IndexMetas[0].IndexType != ots.IT_LOCAL_INDEX {
		t.Errorf("DescribeTable indexes = %+v", d.IndexMetas)
	}

	if _, err := c.UpdateTable(&ots.UpdateTableRequest{TableName: "events", TableOption: &ots.TableOption{TimeToAlive: 2 * 86400, MaxVersion: 1}}); err != nil {
		t.Fatalf("UpdateTable: %v", err)
	}
	if d, err := c.DescribeTable(&ots.DescribeTableRequest{TableName: "events"}); err != nil || d.TableOption.TimeToAlive != 2*86400 {
		t.Errorf("TTL after UpdateTable = %+v, %v", d.TableOption, err)
	}
	_, err = c.UpdateTable(&ots.UpdateTableRequest{TableName: "users", TableOption: &ots.TableOption{TimeToAlive: 86400, MaxVersion: 1}})
	wantCode(t, "TTL on a table with an index", err, 400, "OTSParameterInvalid")

	if _, err := c.DeleteTable(&ots.DeleteTableRequest{TableName: "events"}); err != nil {
		t.Fatalf("DeleteTable: %v", err)
	}
	_, err = c.DescribeTable(&ots.DescribeTableRequest{TableName: "events"})
	wantCode(t, "DescribeTable of a deleted table", err, 404, "OTSObjectNotExist")
	_, err = c.DeleteTable(&ots.DeleteTableRequest{TableName: "events"})
	wantCode(t, "DeleteTable twice", err, 404, "OTSObjectNotExist")

	// Schema rules of secondary indexes.
	bad := &ots.TableMeta{TableName: "bad"}
	bad.AddPrimaryKeyColumn("a", ots.PrimaryKeyType_STRING)
	bad.AddDefinedColumn("b", ots.DefinedColumn_INTEGER)
	breq := &ots.CreateTableRequest{TableMeta: bad, TableOption: &ots.TableOption{TimeToAlive: -1, MaxVersion: 1}, ReservedThroughput: &ots.ReservedThroughput{}}
	breq.AddIndexMeta(&ots.IndexMeta{IndexName: "bad_ix", Primarykey: []string{"b"}, IndexType: ots.IT_LOCAL_INDEX})
	_, err = c.CreateTable(breq)
	wantCode(t, "local index not on the partition key", err, 400, "OTSParameterInvalid")
}

func TestRowOperations(t *testing.T) {
	s := newFake(t, Options{})
	c := client(s, nil)
	createUsers(t, c)

	// PutRow EXPECT_NOT_EXIST twice: the second fails its condition.
	put := func(cond ots.RowExistenceExpectation) error {
		ch := &ots.PutRowChange{TableName: "users", PrimaryKey: userPK("d1", 1)}
		ch.AddColumn("age", int64(30))
		ch.AddColumn("name", "ann")
		ch.AddColumn("ver", int64(1))
		ch.SetCondition(cond)
		_, err := c.PutRow(&ots.PutRowRequest{PutRowChange: ch})
		return err
	}
	if err := put(ots.RowExistenceExpectation_EXPECT_NOT_EXIST); err != nil {
		t.Fatalf("first PutRow: %v", err)
	}
	wantCode(t, "second PutRow EXPECT_NOT_EXIST", put(ots.RowExistenceExpectation_EXPECT_NOT_EXIST), 403, "OTSConditionCheckFail")

	// GetRow: every column, some columns, a missing row.
	if got := getUser(t, c, "d1", 1); got["name"] != "ann" || got["age"] != int64(30) || got["ver"] != int64(1) {
		t.Errorf("GetRow = %v", got)
	}
	if got := getUser(t, c, "d1", 1, "name"); len(got) != 1 || got["name"] != "ann" {
		t.Errorf("GetRow(name) = %v", got)
	}
	if got := getUser(t, c, "d1", 2); got != nil {
		t.Errorf("GetRow of a missing row = %v, want none", got)
	}
	_, err := c.GetRow(&ots.GetRowRequest{SingleRowQueryCriteria: &ots.SingleRowQueryCriteria{TableName: "users", PrimaryKey: userPK("d1", 1)}})
	if err == nil || !strings.Contains(err.Error(), "invalid input") {
		t.Errorf("GetRow without MaxVersion: %v, want the SDK's invalid input", err)
	}

	// UpdateRow with EXPECT_EXIST and ver == 1 (optimistic locking).
	update := func(ver int64) error {
		ch := &ots.UpdateRowChange{TableName: "users", PrimaryKey: userPK("d1", 1)}
		ch.PutColumn("name", fmt.Sprintf("ann v%d", ver+1))
		ch.IncrementColumn("ver", 1)
		ch.DeleteColumn("age")
		ch.SetCondition(ots.RowExistenceExpectation_EXPECT_EXIST)
		ch.SetColumnCondition(ots.NewSingleColumnCondition("ver", ots.CT_EQUAL, ver))
		ch.SetReturnIncrementValue()
		ch.AppendIncrementColumnToReturn("ver")
		resp, err := c.UpdateRow(&ots.UpdateRowRequest{UpdateRowChange: ch})
		if err == nil && (len(resp.Columns) != 1 || resp.Columns[0].Value != ver+1) {
			t.Errorf("UpdateRow returned %v, want ver = %d", resp.Columns, ver+1)
		}
		return err
	}
	if err := update(1); err != nil {
		t.Fatalf("UpdateRow ver 1: %v", err)
	}
	wantCode(t, "UpdateRow with a stale version", update(1), 403, "OTSConditionCheckFail")
	if got := getUser(t, c, "d1", 1); got["name"] != "ann v2" || got["ver"] != int64(2) || got["age"] != nil {
		t.Errorf("row after UpdateRow = %v", got)
	}

	// A wrong primary-key type is OTSInvalidPK.
	badPK := &ots.PrimaryKey{}
	badPK.AddPrimaryKeyColumn("dir", "d1")
	badPK.AddPrimaryKeyColumn("id", "not-an-int")
	_, err = c.GetRow(&ots.GetRowRequest{SingleRowQueryCriteria: &ots.SingleRowQueryCriteria{TableName: "users", PrimaryKey: badPK, MaxVersion: 1}})
	wantCode(t, "GetRow with a string id", err, 400, "OTSInvalidPK")
	// A defined column keeps its type.
	ch := &ots.PutRowChange{TableName: "users", PrimaryKey: userPK("d1", 9)}
	ch.AddColumn("age", "old")
	ch.SetCondition(ots.RowExistenceExpectation_IGNORE)
	_, err = c.PutRow(&ots.PutRowRequest{PutRowChange: ch})
	wantCode(t, "PutRow of a string into an INTEGER defined column", err, 400, "OTSParameterInvalid")

	// DeleteRow: EXPECT_EXIST on a missing row fails; then deletes.
	del := func(id int64) error {
		ch := &ots.DeleteRowChange{TableName: "users", PrimaryKey: userPK("d1", id)}
		ch.SetCondition(ots.RowExistenceExpectation_EXPECT_EXIST)
		_, err := c.DeleteRow(&ots.DeleteRowRequest{DeleteRowChange: ch})
		return err
	}
	wantCode(t, "DeleteRow of a missing row", del(2), 403, "OTSConditionCheckFail")
	if err := del(1); err != nil {
		t.Fatalf("DeleteRow: %v", err)
	}
	if got := getUser(t, c, "d1", 1); got != nil {
		t.Errorf("row after DeleteRow = %v", got)
	}

	// The index is read-only.
	ich := &ots.PutRowChange{TableName: "by_age", PrimaryKey: userPK("d1", 1)}
	ich.SetCondition(ots.RowExistenceExpectation_IGNORE)
	_, err = c.PutRow(&ots.PutRowRequest{PutRowChange: ich})
	wantCode(t, "PutRow into an index", err, 400, "OTSParameterInvalid")
}

// rangeAll pages through GetRange and returns the ids and the page count.
func rangeAll(t *testing.T, c *ots.TableStoreClient, crit *ots.RangeRowQueryCriteria, key string) (ids []int64, pages int) {
	t.Helper()
	for {
		resp, err := c.GetRange(&ots.GetRangeRequest{RangeRowQueryCriteria: crit})
		if err != nil {
			t.Fatalf("GetRange: %v", err)
		}
		pages++
		for _, r := range resp.Rows {
			for _, k := range r.PrimaryKey.PrimaryKeys {
				if k.ColumnName == key {
					ids = append(ids, k.Value.(int64))
				}
			}
		}
		if resp.NextStartPrimaryKey == nil {
			return ids, pages
		}
		crit.StartPrimaryKey = resp.NextStartPrimaryKey
	}
}

func bounds(dir string, lo, hi ots.PrimaryKeyOption, cols ...string) (*ots.PrimaryKey, *ots.PrimaryKey) {
	start, end := &ots.PrimaryKey{}, &ots.PrimaryKey{}
	start.AddPrimaryKeyColumn("dir", dir)
	end.AddPrimaryKeyColumn("dir", dir)
	for _, c := range cols {
		start.PrimaryKeys = append(start.PrimaryKeys, &ots.PrimaryKeyColumn{ColumnName: c, PrimaryKeyOption: lo})
		end.PrimaryKeys = append(end.PrimaryKeys, &ots.PrimaryKeyColumn{ColumnName: c, PrimaryKeyOption: hi})
	}
	return start, end
}

func TestGetRange(t *testing.T) {
	s := newFake(t, Options{PageRows: 50})
	c := client(s, nil)
	createUsers(t, c)
	const n = 151
	for i := range int64(n) {
		putUser(t, c, "d1", i, (i*37)%n, fmt.Sprintf("u%d", i)) // ages: a permutation of 0..150
	}
	putUser(t, c, "d0", 5, 1, "neighbour")
	putUser(t, c, "d2", 5, 1, "neighbour")

	// Forward, Limit 40: 4 pages, in key order, only d1.
	start, end := bounds("d1", ots.MIN, ots.MAX, "id")
	ids, pages := rangeAll(t, c, &ots.RangeRowQueryCriteria{TableName: "users", StartPrimaryKey: start, EndPrimaryKey: end, Direction: ots.FORWARD, Limit: 40, MaxVersion: 1}, "id")
	if len(ids) != n || pages != 4 || ids[0] != 0 || ids[n-1] != n-1 {
		t.Errorf("forward: %d rows in %d pages (%v...), want %d in 4", len(ids), pages, ids[:3], n)
	}
	// No limit: the server's page cap (50 here, 5000 in the cloud) cuts
	// pages that still carry a next start key.
	ids, pages = rangeAll(t, c, &ots.RangeRowQueryCriteria{TableName: "users", StartPrimaryKey: start, EndPrimaryKey: end, Direction: ots.FORWARD, MaxVersion: 1}, "id")
	if len(ids) != n || pages != 4 {
		t.Errorf("page cap: %d rows in %d pages, want %d in 4", len(ids), pages, n)
	}
	// Backward from INF_MAX to INF_MIN.
	start, end = bounds("d1", ots.MAX, ots.MIN, "id")
	ids, _ = rangeAll(t, c, &ots.RangeRowQueryCriteria{TableName: "users", StartPrimaryKey: start, EndPrimaryKey: end, Direction: ots.BACKWARD, Limit: 1000, MaxVersion: 1}, "id")
	if len(ids) != n || ids[0] != n-1 || ids[n-1] != 0 {
		t.Errorf("backward: %d rows, first %d last %d", len(ids), ids[0], ids[len(ids)-1])
	}
	// Inclusive start, exclusive end, backwards.
	start, end = userPK("d1", 10), userPK("d1", 5)
	ids, _ = rangeAll(t, c, &ots.RangeRowQueryCriteria{TableName: "users", StartPrimaryKey: start, EndPrimaryKey: end, Direction: ots.BACKWARD, MaxVersion: 1}, "id")
	if fmt.Sprint(ids) != "[10 9 8 7 6]" {
		t.Errorf("backward 10..5 = %v", ids)
	}
	// Bounds in the wrong order are rejected.
	_, err := c.GetRange(&ots.GetRangeRequest{RangeRowQueryCriteria: &ots.RangeRowQueryCriteria{TableName: "users", StartPrimaryKey: userPK("d1", 5), EndPrimaryKey: userPK("d1", 5), Direction: ots.FORWARD, MaxVersion: 1}})
	wantCode(t, "GetRange with start == end", err, 400, "OTSParameterInvalid")

	// The local index orders by age, then by the appended id, and holds
	// the index's defined columns.
	start, end = bounds("d1", ots.MIN, ots.MAX, "age", "id")
	resp, err := c.GetRange(&ots.GetRangeRequest{RangeRowQueryCriteria: &ots.RangeRowQueryCriteria{TableName: "by_age", StartPrimaryKey: start, EndPrimaryKey: end, Direction: ots.FORWARD, Limit: 3, MaxVersion: 1}})
	if err != nil || len(resp.Rows) != 3 {
		t.Fatalf("GetRange on the index = %v, %v", resp, err)
	}
	for i, r := range resp.Rows {
		if age := r.PrimaryKey.PrimaryKeys[1].Value; age != int64(i) || len(r.Columns) != 1 || r.Columns[0].ColumnName != "name" {
			t.Errorf("index row %d: age %v columns %v", i, age, r.Columns)
		}
	}
	// Index entries follow updates and deletes synchronously.
	putUser(t, c, "d1", 0, 1000, "moved")
	del := &ots.DeleteRowChange{TableName: "users", PrimaryKey: userPK("d1", 1)}
	del.SetCondition(ots.RowExistenceExpectation_IGNORE)
	if _, err := c.DeleteRow(&ots.DeleteRowRequest{DeleteRowChange: del}); err != nil {
		t.Fatal(err)
	}
	start, end = bounds("d1", ots.MAX, ots.MIN, "age", "id")
	ages, _ := rangeAll(t, c, &ots.RangeRowQueryCriteria{TableName: "by_age", StartPrimaryKey: start, EndPrimaryKey: end, Direction: ots.BACKWARD, MaxVersion: 1}, "age")
	if len(ages) != n-1 || ages[0] != 1000 || ages[1] != n-1 {
		t.Fatalf("index after changes: %d rows, first ages %v", len(ages), ages[:2])
	}

	// A composite OR filter.
	start, end = bounds("d1", ots.MIN, ots.MAX, "id")
	or := ots.NewCompositeColumnCondition(ots.LO_OR)
	or.AddFilter(ots.NewSingleColumnCondition("name", ots.CT_EQUAL, "u7"))
	or.AddFilter(ots.NewSingleColumnCondition("name", ots.CT_EQUAL, "u9"))
	ids, _ = rangeAll(t, c, &ots.RangeRowQueryCriteria{TableName: "users", StartPrimaryKey: start, EndPrimaryKey: end, Direction: ots.FORWARD, MaxVersion: 1, Filter: or}, "id")
	if fmt.Sprint(ids) != "[7 9]" {
		t.Errorf("filtered range = %v, want [7 9]", ids)
	}
}

func TestBatches(t *testing.T) {
	s := newFake(t, Options{})
	c := client(s, nil)
	createUsers(t, c)
	putUser(t, c, "d1", 0, 20, "existing")

	// Row 0 fails its condition, row 1 is written: HTTP 200, per-row results.
	req := &ots.BatchWriteRowRequest{}
	for id := range int64(2) {
		ch := &ots.PutRowChange{TableName: "users", PrimaryKey: userPK("d1", id)}
		ch.AddColumn("name", "new")
		ch.SetCondition(ots.RowExistenceExpectation_EXPECT_NOT_EXIST)
		req.AddRowChange(ch)
	}
	resp, err := c.BatchWriteRow(req)
	if err != nil {
		t.Fatalf("BatchWriteRow: %v", err)
	}
	rows := resp.TableToRowsResult["users"]
	if len(rows) != 2 || rows[0].IsSucceed || rows[0].Error.Code != "OTSConditionCheckFail" || !rows[1].IsSucceed {
		t.Fatalf("partial failure results = %+v", rows)
	}
	if getUser(t, c, "d1", 0)["name"] != "existing" || getUser(t, c, "d1", 1)["name"] != "new" {
		t.Errorf("rows after the partial batch are wrong")
	}

	// 201 rows, or a key twice, fail the whole request; nothing is written.
	big := &ots.BatchWriteRowRequest{}
	for id := range int64(201) {
		ch := &ots.PutRowChange{TableName: "users", PrimaryKey: userPK("d9", id)}
		ch.AddColumn("name", "x")
		ch.SetCondition(ots.RowExistenceExpectation_IGNORE)
		big.AddRowChange(ch)
	}
	_, err = c.BatchWriteRow(big)
	wantCode(t, "201 rows", err, 400, "OTSParameterInvalid")
	dup := &ots.BatchWriteRowRequest{}
	for range 2 {
		ch := &ots.PutRowChange{TableName: "users", PrimaryKey: userPK("d9", 1)}
		ch.AddColumn("name", "x")
		ch.SetCondition(ots.RowExistenceExpectation_IGNORE)
		dup.AddRowChange(ch)
	}
	_, err = c.BatchWriteRow(dup)
	wantCode(t, "duplicate key", err, 400, "OTSParameterInvalid")
	if getUser(t, c, "d9", 1) != nil {
		t.Error("a rejected batch wrote a row")
	}

	// An injected per-row failure fails exactly that row.
	s.InjectRow(RowFault{Table: "users", PrimaryKey: []any{"d2", int64(3)}, Code: "OTSInternalServerError", Message: "boom", Times: 1})
	mixed := &ots.BatchWriteRowRequest{}
	for id := range int64(5) {
		ch := &ots.PutRowChange{TableName: "users", PrimaryKey: userPK("d2", id)}
		ch.AddColumn("name", "x")
		ch.SetCondition(ots.RowExistenceExpectation_IGNORE)
		mixed.AddRowChange(ch)
	}
	resp, err = c.BatchWriteRow(mixed)
	if err != nil {
		t.Fatalf("BatchWriteRow: %v", err)
	}
	for i, r := range resp.TableToRowsResult["users"] {
		if r.IsSucceed != (i != 3) {
			t.Errorf("row %d: succeeded=%v %+v", i, r.IsSucceed, r.Error)
		}
	}

	// BatchGetRow: an existing and a missing row.
	crit := &ots.MultiRowQueryCriteria{TableName: "users", MaxVersion: 1}
	crit.AddRow(userPK("d1", 1))
	crit.AddRow(userPK("d1", 7))
	got, err := c.BatchGetRow(&ots.BatchGetRowRequest{MultiRowQueryCriteria: []*ots.MultiRowQueryCriteria{crit}})
	if err != nil {
		t.Fatalf("BatchGetRow: %v", err)
	}
	res := got.TableToRowsResult["users"]
	if len(res) != 2 || !res[0].IsSucceed || len(res[0].PrimaryKey.PrimaryKeys) != 2 || len(res[1].PrimaryKey.PrimaryKeys) != 0 {
		t.Errorf("BatchGetRow = %+v", res)
	}
}

func TestTTL(t *testing.T) {
	var now atomic.Int64
	now.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli())
	s := newFake(t, Options{Now: func() time.Time { return time.UnixMilli(now.Load()) }})
	c := client(s, nil)
	meta := &ots.TableMeta{TableName: "events"}
	meta.AddPrimaryKeyColumn("key", ots.PrimaryKeyType_STRING)
	if _, err := c.CreateTable(&ots.CreateTableRequest{TableMeta: meta, TableOption: &ots.TableOption{TimeToAlive: 86400, MaxVersion: 1}, ReservedThroughput: &ots.ReservedThroughput{}}); err != nil {
		t.Fatal(err)
	}
	k := &ots.PrimaryKey{}
	k.AddPrimaryKeyColumn("key", "e1")
	put := func(cond ots.RowExistenceExpectation) error {
		ch := &ots.PutRowChange{TableName: "events", PrimaryKey: k}
		ch.AddColumn("v", int64(1))
		ch.SetCondition(cond)
		_, err := c.PutRow(&ots.PutRowRequest{PutRowChange: ch})
		return err
	}
	if err := put(ots.RowExistenceExpectation_EXPECT_NOT_EXIST); err != nil {
		t.Fatal(err)
	}
	now.Add(86399_000)
	wantCode(t, "put before the TTL", put(ots.RowExistenceExpectation_EXPECT_NOT_EXIST), 403, "OTSConditionCheckFail")
	now.Add(2000)
	if err := put(ots.RowExistenceExpectation_EXPECT_NOT_EXIST); err != nil {
		t.Errorf("put after the TTL: %v (the expired row must be gone)", err)
	}
}

// The real client's requests verify; a wrong secret, a missing or wrong STS
// token, a tampered body or a foreign instance do not.
func TestAuthentication(t *testing.T) {
	s := newFake(t, Options{})
	if _, err := client(s, nil).ListTable(); err != nil {
		t.Fatalf("ListTable with good credentials: %v", err)
	}
	if s.Count("ListTable") != 1 {
		t.Errorf("ListTable count = %d, want 1", s.Count("ListTable"))
	}
	noRetry := func(cfg *ots.TableStoreConfig) { cfg.RetryTimes = 0 }
	for _, tc := range []struct {
		name                  string
		instance, ak, sk, tok string
		transport             http.RoundTripper
		msg                   string
	}{
		{"wrong secret", s.Instance(), akID, "nope", token, nil, "Signature mismatch."},
		{"unknown key", s.Instance(), "other", secret, token, nil, "AccessKeyID"},
		{"no STS token", s.Instance(), akID, secret, "", nil, "security token"},
		{"wrong STS token", s.Instance(), akID, secret, "old", nil, "security token"},
		{"other instance", "other", akID, secret, token, nil, "instance"},
		{"tampered body", s.Instance(), akID, secret, token, tamper{}, "MD5"},
	} {
		cfg := ots.NewDefaultTableStoreConfig()
		noRetry(cfg)
		cfg.Transport = tc.transport
		c := ots.NewClientWithConfig(s.URL(), tc.instance, tc.ak, tc.sk, tc.tok, cfg)
		_, err := c.DescribeTable(&ots.DescribeTableRequest{TableName: "x"})
		var oe *ots.OtsError
		if !errors.As(err, &oe) || oe.Code != "OTSAuthFailed" || oe.HttpStatusCode != 403 || !strings.Contains(oe.Message, tc.msg) {
			t.Errorf("%s: %v, want 403 OTSAuthFailed mentioning %q", tc.name, err, tc.msg)
		}
	}
}

// tamper changes the body after the client signed it.
type tamper struct{}

func (tamper) RoundTrip(r *http.Request) (*http.Response, error) {
	b, _ := io.ReadAll(r.Body)
	b = append(b, 0x08, 0x01) // an extra protobuf field
	r.Body = io.NopCloser(bytes.NewReader(b))
	r.ContentLength = int64(len(b))
	return http.DefaultTransport.RoundTrip(r)
}

// rawPost sends a hand-built, correctly signed request.
func rawPost(t *testing.T, s *Server, action string, msg proto.Message) (int, *pb.Error) {
	t.Helper()
	body, err := proto.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, s.URL()+"/"+action, bytes.NewReader(body))
	sum := md5.Sum(body)
	req.Header.Set("x-ots-date", time.Now().UTC().Format("2006-01-02T15:04:05.000Z"))
	req.Header.Set("x-ots-apiversion", "2015-12-31")
	req.Header.Set("x-ots-accesskeyid", akID)
	req.Header.Set("x-ots-instancename", s.Instance())
	req.Header.Set("x-ots-contentmd5", base64.StdEncoding.EncodeToString(sum[:]))
	req.Header.Set("x-ots-ststoken", token)
	req.Header.Set("x-ots-signature", Sign(secret, action, req.Header))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == 200 {
		return 200, nil
	}
	var e pb.Error
	if err := proto.Unmarshal(out, &e); err != nil {
		t.Fatalf("%s: error body is not an otsprotocol.Error: %v", action, err)
	}
	return resp.StatusCode, &e
}

// A request whose PlainBuffer checksums are wrong fails as in the cloud;
// the same request with the SDK's own checksums passes.
func TestPlainBufferChecksums(t *testing.T) {
	s := newFake(t, Options{})
	createUsers(t, client(s, nil))
	ch := &ots.PutRowChange{TableName: "users", PrimaryKey: userPK("d1", 1)}
	ch.AddColumn("name", "ann")
	ch.AddColumn("age", int64(3))
	good := ch.Serialize()
	// The SDK's bytes decode and verify.
	if _, err := decodeRow(good); err != nil {
		t.Fatalf("decode SDK row: %v", err)
	}
	cond := &pb.Condition{RowExistence: pb.RowExistenceExpectation_IGNORE.Enum()}

	corrupt := func(mutate func(b []byte)) []byte {
		b := bytes.Clone(good)
		mutate(b)
		return b
	}
	for _, tc := range []struct {
		name string
		row  []byte
		msg  string
	}{
		{"row checksum", corrupt(func(b []byte) { b[len(b)-1] ^= 0xff }), "row checksum"},
		{"cell checksum", corrupt(func(b []byte) {
			i := bytes.Index(b, []byte("ann"))
			b[i+len("ann")+1] ^= 0x01 // the byte after the cell-checksum tag
		}), "cell"},
		{"cell value", corrupt(func(b []byte) { b[bytes.Index(b, []byte("ann"))] = 'A' }), "checksum"},
		{"truncated", good[:len(good)-3], "PlainBuffer"},
		{"bad header", corrupt(func(b []byte) { b[0] = 0x76 }), "header"},
	} {
		status, e := rawPost(t, s, "PutRow", &pb.PutRowRequest{TableName: proto.String("users"), Row: tc.row, Condition: cond})
		if status != 400 || e.GetCode() != "OTSParameterInvalid" || !strings.Contains(e.GetMessage(), tc.msg) {
			t.Errorf("%s: %d %s %q, want 400 OTSParameterInvalid mentioning %q", tc.name, status, e.GetCode(), e.GetMessage(), tc.msg)
		}
	}
	if status, e := rawPost(t, s, "PutRow", &pb.PutRowRequest{TableName: proto.String("users"), Row: good, Condition: cond}); status != 200 {
		t.Fatalf("good row: %d %v", status, e)
	}
	// A body that is not the action's message.
	if status, e := rawPost(t, s, "PutRow", &pb.Error{Code: proto.String("x")}); status != 400 || e.GetCode() != "OTSParameterInvalid" {
		t.Errorf("garbage body: %d %v", status, e)
	}
}

// Encoding and decoding agree, checksums included.
func TestPlainBufferRoundTrip(t *testing.T) {
	in := pbRow{
		pk: []pbCell{{name: "dir", val: value{t: vtString, s: "d"}, hasValue: true}, {name: "id", val: value{t: vtInteger, i: -7}, hasValue: true}},
		cells: []pbCell{
			{name: "b", val: value{t: vtBoolean, b: true}, hasValue: true, ts: 5, hasTS: true},
			{name: "f", val: value{t: vtDouble, f: 1.5}, hasValue: true},
			{name: "x", val: value{t: vtBlob, s: "\x00\xff"}, hasValue: true},
			{name: "gone", op: opDeleteAll, hasOp: true},
		},
	}
	out, err := decodeRows(encodeRows(in, in))
	if err != nil || len(out) != 2 {
		t.Fatalf("decode = %v, %v", out, err)
	}
	if fmt.Sprint(out[1]) != fmt.Sprint(in) {
		t.Errorf("round trip:\n got %+v\nwant %+v", out[1], in)
	}
}

func TestFaults(t *testing.T) {
	s := newFake(t, Options{})
	c := client(s, nil)
	createUsers(t, c)
	s.ResetCounts()

	// Two busy answers: the SDK retries and the third attempt succeeds.
	s.Inject(Fault{Action: "PutRow", Times: 2})
	putUser(t, c, "d1", 1, 1, "a")
	if n := s.Count("PutRow"); n != 3 {
		t.Errorf("PutRow attempts = %d, want 3", n)
	}

	// A persistent error is returned after RetryTimes retries.
	s.Inject(Fault{Action: "GetRow", Status: 503, Code: "OTSServerUnavailable", Message: "down"})
	_, err := c.GetRow(&ots.GetRowRequest{SingleRowQueryCriteria: &ots.SingleRowQueryCriteria{TableName: "users", PrimaryKey: userPK("d1", 1), MaxVersion: 1}})
	wantCode(t, "persistent fault", err, 503, "OTSServerUnavailable")
	if n := s.Count("GetRow"); n != 4 {
		t.Errorf("GetRow attempts = %d, want 4 (1 + RetryTimes 3)", n)
	}
	s.ClearFaults()

	// A reset after applying: the write happened, the client retried and
	// now meets its own row.
	s.Inject(Fault{Action: "PutRow", Kind: FaultResetAfterApply, Times: 1})
	ch := &ots.PutRowChange{TableName: "users", PrimaryKey: userPK("d1", 2)}
	ch.AddColumn("name", "b")
	ch.SetCondition(ots.RowExistenceExpectation_EXPECT_NOT_EXIST)
	_, err = c.PutRow(&ots.PutRowRequest{PutRowChange: ch})
	wantCode(t, "retried put after a lost response", err, 403, "OTSConditionCheckFail")
	if getUser(t, c, "d1", 2)["name"] != "b" {
		t.Error("the reset write was not applied")
	}

	// A reset before applying is retried transparently.
	s.Inject(Fault{Action: "PutRow", Kind: FaultReset, Times: 1})
	putUser(t, c, "d1", 3, 3, "c")

	// A hung request: the client times out and retries (reads only).
	s.Inject(Fault{Action: "GetRow", Kind: FaultHang, Times: 1})
	hc := client(s, func(cfg *ots.TableStoreConfig) { cfg.HTTPTimeout.RequestTimeout = 100 * time.Millisecond })
	resp, err := hc.GetRow(&ots.GetRowRequest{SingleRowQueryCriteria: &ots.SingleRowQueryCriteria{TableName: "users", PrimaryKey: userPK("d1", 3), MaxVersion: 1}})
	if err != nil || len(resp.Columns) == 0 {
		t.Errorf("GetRow after a hung attempt = %v, %v", resp, err)
	}

	// Table-scoped faults leave other tables alone.
	s.Inject(Fault{Table: "other", Status: 503, Code: "OTSServerBusy"})
	putUser(t, c, "d1", 4, 4, "d")
	s.ClearFaults()

	if s.Reads() == 0 || s.Writes() == 0 || s.Counts()["PutRow"] != s.Count("PutRow") {
		t.Errorf("counts: reads %d writes %d %v", s.Reads(), s.Writes(), s.Counts())
	}
}

// TestDenial: a denied action is answered 403 OTSNoPermissionAccess, which
// the SDK does not retry; other actions pass, and a request that fails
// authentication is refused for that first (RAM authorizes only
// authenticated requests).
func TestDenial(t *testing.T) {
	s := newFake(t, Options{})
	c := client(s, nil)
	createUsers(t, c)
	s.ResetCounts()
	s.Inject(Denial("GetRow"))

	get := &ots.GetRowRequest{SingleRowQueryCriteria: &ots.SingleRowQueryCriteria{TableName: "users", PrimaryKey: userPK("d1", 1), MaxVersion: 1}}
	_, err := c.GetRow(get)
	wantCode(t, "denied GetRow", err, 403, CodeNoPermission)
	var oe *ots.OtsError
	if errors.As(err, &oe) && oe.Message != MessageNoPermission {
		t.Errorf("message %q", oe.Message)
	}
	if n := s.Count("GetRow"); n != 1 {
		t.Errorf("GetRow attempts = %d, want 1 (a denial is not retried)", n)
	}
	putUser(t, c, "d1", 1, 1, "a") // PutRow is not denied

	cfg := ots.NewDefaultTableStoreConfig()
	cfg.RetryTimes = 0
	bad := ots.NewClientWithConfig(s.URL(), s.Instance(), akID, "nope", token, cfg)
	_, err = bad.GetRow(get)
	wantCode(t, "denied GetRow with a bad signature", err, 403, "OTSAuthFailed")
}
