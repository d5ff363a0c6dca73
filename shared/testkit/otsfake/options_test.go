package otsfake

import (
	"fmt"
	"strings"
	"testing"

	ots "github.com/aliyun/aliyun-tablestore-go-sdk/tablestore"
	"github.com/golang/protobuf/proto"
)

// simpleTable creates table name with PK (pk STRING) and opt.
func simpleTable(c *ots.TableStoreClient, name string, opt *ots.TableOption) error {
	meta := &ots.TableMeta{TableName: name}
	meta.AddPrimaryKeyColumn("pk", ots.PrimaryKeyType_STRING)
	_, err := c.CreateTable(&ots.CreateTableRequest{TableMeta: meta, TableOption: opt, ReservedThroughput: &ots.ReservedThroughput{}})
	return err
}

func pk(v string) *ots.PrimaryKey {
	k := &ots.PrimaryKey{}
	k.AddPrimaryKeyColumn("pk", v)
	return k
}

// TestTableOptionsKept follows the SDK suite's TestCreateTable: the
// options CreateTable is given, allow_update and update_full_row included,
// are what DescribeTable answers; unset, they are the service's defaults
// (allow_update true, update_full_row false).
func TestTableOptionsKept(t *testing.T) {
	c := client(newFake(t, Options{}), nil)
	for i := range 6 {
		name := fmt.Sprintf("t%d", i)
		opt := &ots.TableOption{TimeToAlive: -1, MaxVersion: 1, DeviationCellVersionInSec: int64((i + 1) * 100000),
			AllowUpdate: proto.Bool(i%2 == 0), UpdateFullRow: proto.Bool(i%3 == 0)}
		if i > 0 {
			opt.TimeToAlive = 86400 + i
		}
		if err := simpleTable(c, name, opt); err != nil {
			t.Fatalf("CreateTable %d: %v", i, err)
		}
		d, err := c.DescribeTable(&ots.DescribeTableRequest{TableName: name})
		if err != nil {
			t.Fatal(err)
		}
		got := d.TableOption
		if got.TimeToAlive != opt.TimeToAlive || got.MaxVersion != 1 || got.DeviationCellVersionInSec != opt.DeviationCellVersionInSec ||
			got.AllowUpdate == nil || *got.AllowUpdate != *opt.AllowUpdate || got.UpdateFullRow == nil || *got.UpdateFullRow != *opt.UpdateFullRow {
			t.Fatalf("table %d: DescribeTable %+v, want %+v", i, got, opt)
		}
	}
	if err := simpleTable(c, "defaults", &ots.TableOption{TimeToAlive: -1, MaxVersion: 1}); err != nil {
		t.Fatal(err)
	}
	d, err := c.DescribeTable(&ots.DescribeTableRequest{TableName: "defaults"})
	if err != nil || !*d.TableOption.AllowUpdate || *d.TableOption.UpdateFullRow {
		t.Fatalf("defaults: %+v, %v", d.TableOption, err)
	}
}

// TestAllowUpdateEnforced: UpdateRow is refused on a table created with
// allow_update false (alone and in a batch), PutRow is not; UpdateTable may
// turn it back on.
func TestAllowUpdateEnforced(t *testing.T) {
	c := client(newFake(t, Options{}), nil)
	if err := simpleTable(c, "frozen", &ots.TableOption{TimeToAlive: -1, MaxVersion: 1, AllowUpdate: proto.Bool(false)}); err != nil {
		t.Fatal(err)
	}
	put := &ots.PutRowChange{TableName: "frozen", PrimaryKey: pk("a")}
	put.AddColumn("v", int64(1))
	put.SetCondition(ots.RowExistenceExpectation_IGNORE)
	if _, err := c.PutRow(&ots.PutRowRequest{PutRowChange: put}); err != nil {
		t.Fatalf("PutRow: %v", err)
	}
	upd := func() *ots.UpdateRowChange {
		u := &ots.UpdateRowChange{TableName: "frozen", PrimaryKey: pk("a")}
		u.PutColumn("v", int64(2))
		u.SetCondition(ots.RowExistenceExpectation_IGNORE)
		return u
	}
	_, err := c.UpdateRow(&ots.UpdateRowRequest{UpdateRowChange: upd()})
	wantCode(t, "UpdateRow on allow_update=false", err, 400, "OTSParameterInvalid")
	b := &ots.BatchWriteRowRequest{}
	b.AddRowChange(upd())
	_, err = c.BatchWriteRow(b)
	wantCode(t, "batch UpdateRow on allow_update=false", err, 400, "OTSParameterInvalid")
	if got := getCol(t, c, "frozen", "a", "v"); got != int64(1) {
		t.Fatalf("refused updates changed the row: v = %v", got)
	}

	if _, err := c.UpdateTable(&ots.UpdateTableRequest{TableName: "frozen", TableOption: &ots.TableOption{TimeToAlive: -1, MaxVersion: 1, AllowUpdate: proto.Bool(true)}}); err != nil {
		t.Fatalf("UpdateTable allow_update true: %v", err)
	}
	if _, err := c.UpdateRow(&ots.UpdateRowRequest{UpdateRowChange: upd()}); err != nil {
		t.Fatalf("UpdateRow after allowing: %v", err)
	}
	if got := getCol(t, c, "frozen", "a", "v"); got != int64(2) {
		t.Fatalf("v = %v, want 2", got)
	}
}

func getCol(t *testing.T, c *ots.TableStoreClient, table, key, col string) any {
	t.Helper()
	r, err := c.GetRow(&ots.GetRowRequest{SingleRowQueryCriteria: &ots.SingleRowQueryCriteria{TableName: table, PrimaryKey: pk(key), MaxVersion: 1}})
	if err != nil {
		t.Fatal(err)
	}
	for _, cl := range r.Columns {
		if cl.ColumnName == col {
			return cl.Value
		}
	}
	return nil
}

// TestUpdateFullRowIsCreateOnly follows the SDK suite's
// TestUpdateAndDescribeTable: UpdateTable naming update_full_row fails,
// with either value, and the message says so.
func TestUpdateFullRowIsCreateOnly(t *testing.T) {
	c := client(newFake(t, Options{}), nil)
	if err := simpleTable(c, "t", &ots.TableOption{TimeToAlive: -1, MaxVersion: 1}); err != nil {
		t.Fatal(err)
	}
	for _, v := range []bool{true, false} {
		_, err := c.UpdateTable(&ots.UpdateTableRequest{TableName: "t", TableOption: &ots.TableOption{TimeToAlive: -1, MaxVersion: 1, UpdateFullRow: proto.Bool(v)}})
		wantCode(t, fmt.Sprintf("update_full_row %v", v), err, 400, "OTSParameterInvalid")
		if !strings.Contains(err.Error(), "contain updateFullRow") {
			t.Errorf("error %q should say the request must not contain updateFullRow", err)
		}
	}
}

// TestTTLBounds: -1 or at least 86400 seconds, at CreateTable and UpdateTable.
func TestTTLBounds(t *testing.T) {
	c := client(newFake(t, Options{}), nil)
	for _, ttl := range []int{0, 1, 3600, 86399, -2} {
		err := simpleTable(c, fmt.Sprintf("bad%d", ttl+2), &ots.TableOption{TimeToAlive: ttl, MaxVersion: 1})
		wantCode(t, fmt.Sprintf("TTL %d", ttl), err, 400, "OTSParameterInvalid")
	}
	for i, ttl := range []int{-1, 86400, 86400 * 365} {
		if err := simpleTable(c, fmt.Sprintf("ok%d", i), &ots.TableOption{TimeToAlive: ttl, MaxVersion: 1}); err != nil {
			t.Fatalf("TTL %d: %v", ttl, err)
		}
	}
	_, err := c.UpdateTable(&ots.UpdateTableRequest{TableName: "ok0", TableOption: &ots.TableOption{TimeToAlive: 86399, MaxVersion: 1}})
	wantCode(t, "UpdateTable TTL 86399", err, 400, "OTSParameterInvalid")
}

// TestIndexNeedsNoTTLOrNoUpdates: a table with a secondary index and a TTL
// must not allow updates (the service's own message).
func TestIndexNeedsNoTTLOrNoUpdates(t *testing.T) {
	c := client(newFake(t, Options{}), nil)
	mk := func(name string, opt *ots.TableOption) error {
		meta := &ots.TableMeta{TableName: name}
		meta.AddPrimaryKeyColumn("dir", ots.PrimaryKeyType_STRING)
		meta.AddPrimaryKeyColumn("id", ots.PrimaryKeyType_INTEGER)
		meta.AddDefinedColumn("age", ots.DefinedColumn_INTEGER)
		req := &ots.CreateTableRequest{TableMeta: meta, TableOption: opt, ReservedThroughput: &ots.ReservedThroughput{}}
		ix := &ots.IndexMeta{IndexName: name + "_ix", IndexType: ots.IT_LOCAL_INDEX}
		ix.AddPrimaryKeyColumn("dir")
		ix.AddPrimaryKeyColumn("age")
		req.AddIndexMeta(ix)
		_, err := c.CreateTable(req)
		return err
	}
	err := mk("a", &ots.TableOption{TimeToAlive: 86400, MaxVersion: 1})
	wantCode(t, "index + TTL + updates", err, 400, "OTSParameterInvalid")
	if !strings.Contains(err.Error(), "Don't support allow update operation on table with index and ttl") {
		t.Errorf("message %q", err)
	}
	if err := mk("b", &ots.TableOption{TimeToAlive: 86400, MaxVersion: 1, AllowUpdate: proto.Bool(false)}); err != nil {
		t.Fatalf("index + TTL + no updates: %v", err)
	}
	if err := mk("c", &ots.TableOption{TimeToAlive: -1, MaxVersion: 1}); err != nil {
		t.Fatalf("index + no TTL: %v", err)
	}
	_, err = c.UpdateTable(&ots.UpdateTableRequest{TableName: "c", TableOption: &ots.TableOption{TimeToAlive: 86400, MaxVersion: 1}})
	wantCode(t, "UpdateTable adds a TTL to an updatable indexed table", err, 400, "OTSParameterInvalid")
}

// TestIndexNeedsOneVersion: a table with secondary indexes keeps one
// version per cell (the service's prerequisite for an index), at
// CreateTable and UpdateTable.
func TestIndexNeedsOneVersion(t *testing.T) {
	c := client(newFake(t, Options{}), nil)
	meta := &ots.TableMeta{TableName: "v"}
	meta.AddPrimaryKeyColumn("dir", ots.PrimaryKeyType_STRING)
	meta.AddDefinedColumn("age", ots.DefinedColumn_INTEGER)
	req := &ots.CreateTableRequest{TableMeta: meta, TableOption: &ots.TableOption{TimeToAlive: -1, MaxVersion: 2}, ReservedThroughput: &ots.ReservedThroughput{}}
	ix := &ots.IndexMeta{IndexName: "v_ix", IndexType: ots.IT_LOCAL_INDEX}
	ix.AddPrimaryKeyColumn("dir")
	ix.AddPrimaryKeyColumn("age")
	req.AddIndexMeta(ix)
	_, err := c.CreateTable(req)
	wantCode(t, "index + max_versions 2", err, 400, "OTSParameterInvalid")
	if _, err := c.DescribeTable(&ots.DescribeTableRequest{TableName: "v"}); err == nil {
		t.Fatal("a refused table exists")
	}
	createUsers(t, c)
	_, err = c.UpdateTable(&ots.UpdateTableRequest{TableName: "users", TableOption: &ots.TableOption{TimeToAlive: -1, MaxVersion: 3}})
	wantCode(t, "UpdateTable of an indexed table to max_versions 3", err, 400, "OTSParameterInvalid")
}

// TestUnsupportedFeaturesRefused: features the project does not use get the
// service's misuse answer, an OtsError 400 OTSParameterInvalid naming the
// feature, through the real SDK.
func TestUnsupportedFeaturesRefused(t *testing.T) {
	c := client(newFake(t, Options{}), func(cfg *ots.TableStoreConfig) { cfg.RetryTimes = 0 })
	createUsers(t, c)
	putUser(t, c, "d1", 1, 30, "one")
	get := func(mod func(*ots.SingleRowQueryCriteria)) error {
		q := &ots.SingleRowQueryCriteria{TableName: "users", PrimaryKey: userPK("d1", 1), MaxVersion: 1}
		mod(q)
		_, err := c.GetRow(&ots.GetRowRequest{SingleRowQueryCriteria: q})
		return err
	}
	cases := map[string]error{
		"transaction_id": get(func(q *ots.SingleRowQueryCriteria) { q.TransactionId = proto.String("txn") }),
	}
	meta := &ots.TableMeta{TableName: "auto"}
	meta.AddPrimaryKeyColumn("p", ots.PrimaryKeyType_STRING)
	meta.AddPrimaryKeyColumnOption("seq", ots.PrimaryKeyType_INTEGER, ots.AUTO_INCREMENT)
	_, cases["auto-increment"] = c.CreateTable(&ots.CreateTableRequest{TableMeta: meta, TableOption: &ots.TableOption{TimeToAlive: -1, MaxVersion: 1}, ReservedThroughput: &ots.ReservedThroughput{}})
	b := &ots.BatchWriteRowRequest{IsAtomic: true}
	ch := &ots.PutRowChange{TableName: "users", PrimaryKey: userPK("d1", 2)}
	ch.AddColumn("age", int64(1))
	ch.SetCondition(ots.RowExistenceExpectation_IGNORE)
	b.AddRowChange(ch)
	_, cases["atomic batch"] = c.BatchWriteRow(b)
	for name, err := range cases {
		wantCode(t, name, err, 400, "OTSParameterInvalid")
		if !strings.Contains(err.Error(), "not supported") {
			t.Errorf("%s: message %q should name the unsupported feature", name, err)
		}
	}
}
