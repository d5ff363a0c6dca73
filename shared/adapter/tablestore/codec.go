package tablestore

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	ots "github.com/aliyun/aliyun-tablestore-go-sdk/tablestore"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/port/store"
)

// Column names (DESIGN.md §4).
const (
	colDir         = "directory_id"
	colAccount     = "account_id"
	colAccountName = "account_name"
	colAddTime     = "add_time"
	colAddedBy     = "added_by"
	colRemark      = "remark"
	colVersion     = "version"
	colUpdateTime  = "update_time"
	colNameTime    = "name_time"
	colOp          = "op_id"

	colCount          = "member_count"
	colMembersVersion = "members_version" // moved by every member write (store.MemberState)

	colEventID        = "event_id"
	colTargetEvent    = "target_event"
	colTime           = "time"
	colActorAccountID = "actor_account_id"
	colActorPrincipal = "actor_principal"
	colActorRole      = "actor_role"
	colActorUserID    = "actor_user_id"
	colActorUserName  = "actor_user_name"
	colActorAccess    = "actor_access_role"
	colAction         = "action"
	colTarget         = "target"
	colResult         = "result"
	colRequestID      = "request_id"
	colDetail         = "detail"

	colEventKey = "event_key"
	colExpires  = "expires"
)

// Limits of Tablestore (the port's are in package store).
const (
	batchRows    = 200 // BatchWriteRow
	batchGetRows = 100 // BatchGetRow
)

// Times are stored as Unix milliseconds (DESIGN.md §4), truncated like the
// embedded store's, so both adapters hand back the same values and order
// ties the same way.
func toMs(t time.Time) int64 { return t.UnixMilli() }

func fromMs(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

func truncMs(t time.Time) time.Time { return fromMs(toMs(t)) }

// pk builds a primary key from name/value pairs; a value of pkMin or pkMax
// is INF_MIN or INF_MAX.
func pk(kv ...any) *ots.PrimaryKey {
	k := &ots.PrimaryKey{}
	for i := 0; i < len(kv); i += 2 {
		name := kv[i].(string)
		switch v := kv[i+1].(type) {
		case infBound:
			if v == pkMin {
				k.AddPrimaryKeyColumnWithMinValue(name)
			} else {
				k.AddPrimaryKeyColumnWithMaxValue(name)
			}
		default:
			k.AddPrimaryKeyColumn(name, v)
		}
	}
	return k
}

type infBound int

const (
	pkMin infBound = iota + 1
	pkMax
)

func memberPK(dirID, accountID string) *ots.PrimaryKey {
	return pk(colDir, dirID, colAccount, accountID)
}

// memberPut is the PutRow of a new member: the row must not exist. op_id
// marks the call that wrote it (see AddMembers).
func (s *Store) memberPut(dirID string, m store.Member, op string) *ots.PutRowChange {
	ch := &ots.PutRowChange{TableName: s.cfg.MembersTable, PrimaryKey: memberPK(dirID, m.AccountID)}
	ch.AddColumn(colAccountName, m.AccountName)
	ch.AddColumn(colAddTime, toMs(m.AddTime))
	ch.AddColumn(colAddedBy, m.AddedBy)
	ch.AddColumn(colRemark, m.Remark)
	ch.AddColumn(colVersion, int64(1))
	ch.AddColumn(colUpdateTime, toMs(m.UpdateTime))
	ch.AddColumn(colNameTime, toMs(m.NameTime))
	ch.AddColumn(colOp, op)
	ch.SetCondition(ots.RowExistenceExpectation_EXPECT_NOT_EXIST)
	return ch
}

// columns gathers a row's attribute columns by name (newest version first;
// the tables keep one).
type columns map[string]any

func columnsOf(cols []*ots.AttributeColumn) columns {
	out := make(columns, len(cols))
	for _, c := range cols {
		if _, seen := out[c.ColumnName]; !seen {
			out[c.ColumnName] = c.Value
		}
	}
	return out
}

func (c columns) str(name string) (string, error) {
	switch v := c[name].(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	default:
		return "", fmt.Errorf("column %s is %T, want string", name, v)
	}
}

func (c columns) int(name string) (int64, error) {
	switch v := c[name].(type) {
	case int64:
		return v, nil
	case nil:
		return 0, fmt.Errorf("column %s is missing", name)
	default:
		return 0, fmt.Errorf("column %s is %T, want int64", name, v)
	}
}

// colReader reads columns of one row and collects every error, so that a
// corrupt row is reported with all its faults at once.
type colReader struct {
	c    columns
	errs []error
}

func (r *colReader) str(name string) string {
	v, err := r.c.str(name)
	if err != nil {
		r.errs = append(r.errs, err)
	}
	return v
}

func (r *colReader) int(name string) int64 {
	v, err := r.c.int(name)
	if err != nil {
		r.errs = append(r.errs, err)
	}
	return v
}

func pkValues(k *ots.PrimaryKey) map[string]any {
	out := map[string]any{}
	if k == nil {
		return out
	}
	for _, c := range k.PrimaryKeys {
		out[c.ColumnName] = c.Value
	}
	return out
}

// decodeMember decodes a member row of the table or of the index (whose
// key carries add_time).
func decodeMember(dirID string, key *ots.PrimaryKey, cols []*ots.AttributeColumn) (store.Member, string, error) {
	kv := pkValues(key)
	c := columnsOf(cols)
	if t, ok := kv[colAddTime]; ok {
		c[colAddTime] = t
	}
	id, _ := kv[colAccount].(string)
	r := &colReader{c: c}
	m := store.Member{
		DirectoryID: dirID,
		AccountID:   id,
		AccountName: r.str(colAccountName),
		AddTime:     fromMs(r.int(colAddTime)),
		AddedBy:     r.str(colAddedBy),
		Remark:      r.str(colRemark),
		Version:     r.int(colVersion),
		UpdateTime:  fromMs(r.int(colUpdateTime)),
		NameTime:    fromMs(r.int(colNameTime)),
	}
	op := r.str(colOp)
	if d, _ := kv[colDir].(string); d != dirID || id == "" {
		r.errs = append(r.errs, fmt.Errorf("key is directory %q account %q", d, id))
	}
	if len(r.errs) == 0 && m.Version < 1 {
		r.errs = append(r.errs, fmt.Errorf("version %d", m.Version))
	}
	if len(r.errs) > 0 {
		return store.Member{}, "", apperr.Internal(fmt.Errorf("tablestore: corrupt member row %s/%s: %v", dirID, id, r.errs))
	}
	return m, op, nil
}

// auditPuts are the rows of one audit record: its row in the audit table
// and, when it has a target, its row in the target's timeline.
func (s *Store) auditPuts(e store.AuditEvent) ([]ots.RowChange, error) {
	ch, err := s.auditPut(e, s.cfg.AuditTable, pk(colDir, e.DirectoryID, colEventID, e.ID))
	if err != nil || e.Target == "" {
		return []ots.RowChange{ch}, err
	}
	tch, err := s.auditPut(e, s.cfg.TargetTable, pk(colDir, e.DirectoryID, colTargetEvent, targetKey(e.Target, e.ID)))
	return []ots.RowChange{ch, tch}, err
}

// auditDeletes undo auditPuts (IGNORE: a row that is not there is fine).
func (s *Store) auditDeletes(e store.AuditEvent) []ots.RowChange {
	del := func(table string, key *ots.PrimaryKey) ots.RowChange {
		ch := &ots.DeleteRowChange{TableName: table, PrimaryKey: key}
		ch.SetCondition(ots.RowExistenceExpectation_IGNORE)
		return ch
	}
	out := []ots.RowChange{del(s.cfg.AuditTable, pk(colDir, e.DirectoryID, colEventID, e.ID))}
	if e.Target != "" {
		out = append(out, del(s.cfg.TargetTable, pk(colDir, e.DirectoryID, colTargetEvent, targetKey(e.Target, e.ID))))
	}
	return out
}

// targetKey orders a target's records by ID; "|" sorts after every
// character of an account UID, so one target's keys never mix with
// another's.
func targetKey(target, id string) string { return target + "|" + id }

func (s *Store) auditPut(e store.AuditEvent, table string, key *ots.PrimaryKey) (*ots.PutRowChange, error) {
	ch := &ots.PutRowChange{TableName: table, PrimaryKey: key}
	ch.AddColumn(colTime, toMs(e.Time))
	ch.AddColumn(colActorAccountID, e.ActorAccountID)
	ch.AddColumn(colActorPrincipal, e.ActorPrincipal)
	ch.AddColumn(colActorRole, e.ActorRole)
	// The person's columns exist only in records of a person (not System,
	// nor records written before people were known).
	for _, c := range [][2]string{{colActorUserID, e.ActorUserID}, {colActorUserName, e.ActorUserName}, {colActorAccess, e.ActorAccessRole}} {
		if c[1] != "" {
			ch.AddColumn(c[0], c[1])
		}
	}
	ch.AddColumn(colAction, e.Action)
	ch.AddColumn(colTarget, e.Target)
	ch.AddColumn(colResult, e.Result)
	ch.AddColumn(colRequestID, e.RequestID)
	if len(e.Detail) > 0 {
		b, err := json.Marshal(e.Detail)
		if err != nil {
			return nil, apperr.Internal(fmt.Errorf("tablestore: encode audit detail: %w", err))
		}
		ch.AddColumn(colDetail, string(b))
	}
	// IDs are unique: a retried append overwrites the same row.
	ch.SetCondition(ots.RowExistenceExpectation_IGNORE)
	return ch, nil
}

func decodeAudit(dirID string, r *ots.Row) (store.AuditEvent, error) {
	kv := pkValues(r.PrimaryKey)
	id, _ := kv[colEventID].(string)
	if te, ok := kv[colTargetEvent].(string); ok {
		id = te[strings.LastIndexByte(te, '|')+1:]
	}
	c := &colReader{c: columnsOf(r.Columns)}
	e := store.AuditEvent{
		DirectoryID:     dirID,
		ID:              id,
		Time:            fromMs(c.int(colTime)),
		ActorAccountID:  c.str(colActorAccountID),
		ActorPrincipal:  c.str(colActorPrincipal),
		ActorRole:       c.str(colActorRole),
		ActorUserID:     c.str(colActorUserID),
		ActorUserName:   c.str(colActorUserName),
		ActorAccessRole: c.str(colActorAccess),
		Action:          c.str(colAction),
		Target:          c.str(colTarget),
		Result:          c.str(colResult),
		RequestID:       c.str(colRequestID),
	}
	if d := c.str(colDetail); d != "" {
		if err := json.Unmarshal([]byte(d), &e.Detail); err != nil {
			c.errs = append(c.errs, fmt.Errorf("detail: %w", err))
		}
	}
	if len(c.errs) > 0 {
		return store.AuditEvent{}, apperr.Internal(fmt.Errorf("tablestore: corrupt audit row %s/%s: %v", dirID, id, c.errs))
	}
	return e, nil
}
