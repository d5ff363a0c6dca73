package tablestore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	ots "github.com/aliyun/aliyun-tablestore-go-sdk/tablestore"

	"github.com/sase-multiaccount/backend/shared/redact"
)

// tableSpec is a table EnsureTables creates.
type tableSpec struct {
	name    string
	pk      []string // all STRING
	defined []ots.DefinedColumnSchema
	index   *ots.IndexMeta
	ttl     int // seconds, -1 = never
}

func (cfg Config) specs() []tableSpec {
	memberCols := []ots.DefinedColumnSchema{
		{Name: colAddTime, ColumnType: ots.DefinedColumn_INTEGER},
		{Name: colAccountName, ColumnType: ots.DefinedColumn_STRING},
		{Name: colAddedBy, ColumnType: ots.DefinedColumn_STRING},
		{Name: colRemark, ColumnType: ots.DefinedColumn_STRING},
		{Name: colVersion, ColumnType: ots.DefinedColumn_INTEGER},
		{Name: colUpdateTime, ColumnType: ots.DefinedColumn_INTEGER},
		{Name: colNameTime, ColumnType: ots.DefinedColumn_INTEGER},
	}
	index := &ots.IndexMeta{
		IndexName:  cfg.MembersIndex,
		Primarykey: []string{colDir, colAddTime}, // the service appends account_id
		IndexType:  ots.IT_LOCAL_INDEX,
	}
	for _, c := range memberCols[1:] {
		index.AddDefinedColumn(c.Name)
	}
	return []tableSpec{
		{name: cfg.MembersTable, pk: []string{colDir, colAccount}, defined: memberCols, index: index, ttl: -1},
		{name: cfg.CountersTable, pk: []string{colDir}, ttl: -1},
		{name: cfg.AuditTable, pk: []string{colDir, colEventID}, ttl: -1},
		{name: cfg.TargetTable, pk: []string{colDir, colTargetEvent}, ttl: -1},
		{name: cfg.EventsTable, pk: []string{colEventKey}, ttl: int(cfg.EventsTTL / time.Second)},
		{name: cfg.MirrorTable, pk: []string{colDir, colItem}, ttl: -1},
		{name: cfg.WebhooksTable, pk: []string{colDir, colWebhookID}, ttl: -1},
		{name: cfg.ChangesTable, pk: []string{colDir, colSeq}, ttl: int(feedKeep / time.Second)},
	}
}

// EnsureTables creates the tables, the local index and the processed-events
// TTL if they are missing, and checks existing tables against the schema.
// It is idempotent: on a complete schema it only reads (ListTable and one
// DescribeTable per table). A table whose key or index differs is an error
// (Tablestore cannot change a primary key, and a local index can only be
// created with its table); a different TTL on the events table is updated.
// Progress goes to cfg.Logf.
func EnsureTables(ctx context.Context, cfg Config) error {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	client, tr := newClient(cfg)
	if tr != nil {
		defer tr.CloseIdleConnections()
	}
	if c, _ := cfg.Credentials.Current(); !c.Valid() {
		return errNoCredentials
	}
	check := func() error { return ctx.Err() }
	if err := check(); err != nil {
		return err
	}
	c, _ := cfg.Credentials.Current()
	list, err := client.ListTable()
	if err != nil {
		return redact.Error(fmt.Errorf("list tables of instance %s: %w", cfg.Instance, err), c.AccessKeyID, c.AccessKeySecret, c.SecurityToken)
	}
	var errs []error
	for _, spec := range cfg.specs() {
		if err := check(); err != nil {
			return err
		}
		if !slices.Contains(list.TableNames, spec.name) {
			err := createTable(client, spec)
			switch {
			case err == nil:
				cfg.Logf("created table %s", spec.name)
				continue
			case isCode(err, codeObjectExists): // created concurrently: check it below
			default:
				errs = append(errs, fmt.Errorf("create table %s: %w", spec.name, err))
				continue
			}
		}
		if err := verifyTable(client, spec, cfg.Logf); err != nil {
			errs = append(errs, err)
		}
	}
	return redact.Error(errors.Join(errs...), c.AccessKeyID, c.AccessKeySecret, c.SecurityToken)
}

func isCode(err error, code string) bool {
	var oe *ots.OtsError
	return errors.As(err, &oe) && oe.Code == code
}

func createTable(client *ots.TableStoreClient, spec tableSpec) error {
	meta := &ots.TableMeta{TableName: spec.name}
	for _, k := range spec.pk {
		meta.AddPrimaryKeyColumn(k, ots.PrimaryKeyType_STRING)
	}
	for _, d := range spec.defined {
		meta.AddDefinedColumn(d.Name, d.ColumnType)
	}
	req := &ots.CreateTableRequest{
		TableMeta:          meta,
		TableOption:        &ots.TableOption{TimeToAlive: spec.ttl, MaxVersion: 1},
		ReservedThroughput: &ots.ReservedThroughput{}, // on-demand (0/0)
	}
	if spec.index != nil {
		req.AddIndexMeta(spec.index)
	}
	_, err := client.CreateTable(req)
	return err
}

// verifyTable checks an existing table against spec and fixes what can be
// fixed (the TTL).
func verifyTable(client *ots.TableStoreClient, spec tableSpec, logf func(string, ...any)) error {
	d, err := client.DescribeTable(&ots.DescribeTableRequest{TableName: spec.name})
	if err != nil {
		return fmt.Errorf("describe table %s: %w", spec.name, err)
	}
	var got []string
	for _, k := range d.TableMeta.SchemaEntry {
		typ := "?"
		if k.Type != nil && *k.Type == ots.PrimaryKeyType_STRING {
			typ = "STRING"
		}
		got = append(got, *k.Name+" "+typ)
	}
	var want []string
	for _, k := range spec.pk {
		want = append(want, k+" STRING")
	}
	if !slices.Equal(got, want) {
		return fmt.Errorf("table %s has primary key (%s), want (%s): drop it or configure another name",
			spec.name, strings.Join(got, ", "), strings.Join(want, ", "))
	}
	if spec.index != nil {
		var ix *ots.IndexMeta
		for _, m := range d.IndexMetas {
			if m.IndexName == spec.index.IndexName {
				ix = m
			}
		}
		switch {
		case ix == nil:
			return fmt.Errorf("table %s has no index %s; a local index can only be created with its table: drop the table (after exporting its rows) and run again",
				spec.name, spec.index.IndexName)
		case ix.IndexType != ots.IT_LOCAL_INDEX || !slices.Equal(ix.Primarykey[:min(len(ix.Primarykey), 2)], spec.index.Primarykey):
			return fmt.Errorf("index %s of table %s is not a local index on (%s)", ix.IndexName, spec.name, strings.Join(spec.index.Primarykey, ", "))
		}
		for _, c := range spec.index.DefinedColumns {
			if !slices.Contains(ix.DefinedColumns, c) {
				return fmt.Errorf("index %s of table %s lacks column %s", ix.IndexName, spec.name, c)
			}
		}
	}
	if d.TableOption.MaxVersion != 1 {
		return fmt.Errorf("table %s keeps %d versions, want 1", spec.name, d.TableOption.MaxVersion)
	}
	if d.TableOption.TimeToAlive != spec.ttl {
		if spec.index != nil {
			return fmt.Errorf("table %s has TTL %d s, want %d", spec.name, d.TableOption.TimeToAlive, spec.ttl)
		}
		_, err := client.UpdateTable(&ots.UpdateTableRequest{
			TableName:   spec.name,
			TableOption: &ots.TableOption{TimeToAlive: spec.ttl, MaxVersion: 1},
		})
		if err != nil {
			return fmt.Errorf("update TTL of table %s: %w", spec.name, err)
		}
		logf("table %s: TTL changed from %d s to %d s", spec.name, d.TableOption.TimeToAlive, spec.ttl)
		return nil
	}
	logf("table %s is up to date", spec.name)
	return nil
}
