package tablestore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	ots "github.com/aliyun/aliyun-tablestore-go-sdk/tablestore"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/port/store"
)

// The directory mirror: one table, PK (directory_id, item), where item is
// "a|<account>" for an account, "f|<folder>" for a folder and "~marks" for
// the clocks. A directory's whole mirror is one GetRange (the service cuts
// a response at 5,000 rows or 4 MB, so 10,000 accounts take 3 requests
// within the one port call).

const (
	colItem          = "item"
	colName          = "name"
	colFolder        = "folder_id" // an account's folder, a folder's parent
	colJoinTime      = "join_time"
	colSyncTime      = "sync_time"
	colHandshakeTime = "handshake_time"
	colMirrorVersion = "mirror_version"

	itemAccount = "a|"
	itemFolder  = "f|"
	itemMarks   = "~marks"
)

func (s *Store) mirrorPK(dirID, item string) *ots.PrimaryKey {
	return pk(colDir, dirID, colItem, item)
}

func (s *Store) mirrorAccountPut(dirID string, a store.MirrorAccount) *ots.PutRowChange {
	ch := &ots.PutRowChange{TableName: s.cfg.MirrorTable, PrimaryKey: s.mirrorPK(dirID, itemAccount+a.AccountID)}
	ch.AddColumn(colName, a.DisplayName)
	ch.AddColumn(colFolder, a.FolderID)
	ch.AddColumn(colJoinTime, toMs(a.JoinTime))
	ch.SetCondition(ots.RowExistenceExpectation_IGNORE)
	return ch
}

func (s *Store) mirrorFolderPut(dirID string, f store.MirrorFolder) *ots.PutRowChange {
	ch := &ots.PutRowChange{TableName: s.cfg.MirrorTable, PrimaryKey: s.mirrorPK(dirID, itemFolder+f.ID)}
	ch.AddColumn(colName, f.Name)
	ch.AddColumn(colFolder, f.ParentID)
	ch.SetCondition(ots.RowExistenceExpectation_IGNORE)
	return ch
}

func (s *Store) mirrorDelete(dirID, item string) *ots.DeleteRowChange {
	ch := &ots.DeleteRowChange{TableName: s.cfg.MirrorTable, PrimaryKey: s.mirrorPK(dirID, item)}
	ch.SetCondition(ots.RowExistenceExpectation_IGNORE)
	return ch
}

func msTime(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return fromMs(ms)
}

func timeMs(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return toMs(t)
}

// ReadMirror implements store.DirectoryMirror: one GetRange over the
// directory's rows.
func (s *Store) ReadMirror(ctx context.Context, dirID string) (store.Mirror, error) {
	var m store.Mirror
	if err := store.CheckDir(dirID); err != nil {
		return m, err
	}
	rows, err := s.rangeRows(ctx, "ReadMirror", s.cfg.MirrorTable, pk(colDir, dirID, colItem, pkMin), pk(colDir, dirID, colItem, pkMax), ots.FORWARD, 0)
	if err != nil {
		return m, err
	}
	m.Accounts = make([]store.MirrorAccount, 0, len(rows))
	for _, r := range rows {
		item, _ := pkValues(r.PrimaryKey)[colItem].(string)
		c := colReader{c: columnsOf(r.Columns)}
		switch {
		case strings.HasPrefix(item, itemAccount):
			m.Accounts = append(m.Accounts, store.MirrorAccount{AccountID: item[len(itemAccount):], DisplayName: c.str(colName),
				FolderID: c.str(colFolder), JoinTime: fromMs(c.int(colJoinTime))})
		case strings.HasPrefix(item, itemFolder):
			m.Folders = append(m.Folders, store.MirrorFolder{ID: item[len(itemFolder):], Name: c.str(colName), ParentID: c.str(colFolder)})
		case item == itemMarks:
			m.Marks = store.MirrorMarks{SyncTime: msTime(c.optInt(colSyncTime)), HandshakeTime: msTime(c.optInt(colHandshakeTime)), Version: c.optInt(colMirrorVersion)}
		}
		if len(c.errs) > 0 {
			return store.Mirror{}, apperr.Internal(fmt.Errorf("tablestore: corrupt mirror row %q of %s: %w", item, dirID, errors.Join(c.errs...)))
		}
	}
	return m, nil
}

// ReplaceMirror implements store.DirectoryMirror: one ReadMirror, then
// BatchWriteRow of the rows that differ (200 per request) and the marks.
func (s *Store) ReplaceMirror(ctx context.Context, dirID string, m store.Mirror) error {
	const op = "ReplaceMirror"
	if err := store.CheckMirrorAccounts(dirID, m.Accounts); err != nil {
		return err
	}
	for _, f := range m.Folders {
		if err := store.CheckMirrorFolder(dirID, f.ID); err != nil {
			return err
		}
	}
	old, err := s.ReadMirror(ctx, dirID)
	if err != nil {
		return err
	}
	oldA := map[string]store.MirrorAccount{}
	for _, a := range old.Accounts {
		oldA[a.AccountID] = a
	}
	oldF := map[string]store.MirrorFolder{}
	for _, f := range old.Folders {
		oldF[f.ID] = f
	}
	var changes []ots.RowChange
	for _, a := range m.Accounts {
		a.JoinTime = truncMs(a.JoinTime)
		if o, ok := oldA[a.AccountID]; !ok || !o.JoinTime.Equal(a.JoinTime) || o.DisplayName != a.DisplayName || o.FolderID != a.FolderID {
			changes = append(changes, s.mirrorAccountPut(dirID, a))
		}
		delete(oldA, a.AccountID)
	}
	for id := range oldA {
		changes = append(changes, s.mirrorDelete(dirID, itemAccount+id))
	}
	for _, f := range m.Folders {
		if o, ok := oldF[f.ID]; !ok || o != f {
			changes = append(changes, s.mirrorFolderPut(dirID, f))
		}
		delete(oldF, f.ID)
	}
	for id := range oldF {
		changes = append(changes, s.mirrorDelete(dirID, itemFolder+id))
	}
	if err := s.writeAll(ctx, op, dirID, changes); err != nil {
		return err
	}
	return s.setMark(ctx, op, dirID, colSyncTime, m.Marks.SyncTime)
}

// writeAll sends changes to dirID's mirror in BatchWriteRow requests, each
// with an increment of the mirror's version on the marks row (so a reader's
// copy is stale from the moment any part is written); any failed row fails
// the call (every change is idempotent: a retry is harmless).
func (s *Store) writeAll(ctx context.Context, op, dirID string, changes []ots.RowChange) error {
	for start := 0; start < len(changes); start += batchRows - 1 {
		chunk := append(changes[start:min(start+batchRows-1, len(changes)):min(start+batchRows-1, len(changes))], s.mirrorBump(dirID))
		res, _, err := s.batchWrite(ctx, op, chunk)
		if err != nil {
			return err
		}
		for _, r := range res {
			if !r.IsSucceed {
				return rowError(op, r.Error)
			}
		}
	}
	return nil
}

// mirrorBump increments the mirror's version.
func (s *Store) mirrorBump(dirID string) *ots.UpdateRowChange {
	ch := &ots.UpdateRowChange{TableName: s.cfg.MirrorTable, PrimaryKey: s.mirrorPK(dirID, itemMarks)}
	ch.IncrementColumn(colMirrorVersion, 1)
	ch.SetCondition(ots.RowExistenceExpectation_IGNORE)
	return ch
}

func (s *Store) setMark(ctx context.Context, op, dirID, col string, t time.Time) error {
	ch := &ots.UpdateRowChange{TableName: s.cfg.MirrorTable, PrimaryKey: s.mirrorPK(dirID, itemMarks)}
	ch.PutColumn(col, timeMs(t))
	ch.IncrementColumn(colMirrorVersion, 1)
	ch.SetCondition(ots.RowExistenceExpectation_IGNORE)
	_, err := s.updateRow(ctx, op, ch)
	return err
}

// PutMirrorAccounts implements store.DirectoryMirror: ceil(n/200) writes.
func (s *Store) PutMirrorAccounts(ctx context.Context, dirID string, accs []store.MirrorAccount) error {
	if err := store.CheckMirrorAccounts(dirID, accs); err != nil {
		return err
	}
	changes := make([]ots.RowChange, 0, len(accs))
	seen := map[string]bool{}
	for i := len(accs) - 1; i >= 0; i-- { // a batch must not name a row twice: the last wins
		if !seen[accs[i].AccountID] {
			seen[accs[i].AccountID] = true
			changes = append(changes, s.mirrorAccountPut(dirID, accs[i]))
		}
	}
	return s.writeAll(ctx, "PutMirrorAccounts", dirID, changes)
}

// DeleteMirrorAccount implements store.DirectoryMirror: one write.
func (s *Store) DeleteMirrorAccount(ctx context.Context, dirID, accountID string) error {
	if err := store.CheckMemberKey(dirID, accountID); err != nil {
		return err
	}
	return s.writeAll(ctx, "DeleteMirrorAccount", dirID, []ots.RowChange{s.mirrorDelete(dirID, itemAccount+accountID)})
}

// PutMirrorFolder implements store.DirectoryMirror: one write.
func (s *Store) PutMirrorFolder(ctx context.Context, dirID string, f store.MirrorFolder) error {
	if err := store.CheckMirrorFolder(dirID, f.ID); err != nil {
		return err
	}
	return s.writeAll(ctx, "PutMirrorFolder", dirID, []ots.RowChange{s.mirrorFolderPut(dirID, f)})
}

// DeleteMirrorFolder implements store.DirectoryMirror: one write.
func (s *Store) DeleteMirrorFolder(ctx context.Context, dirID, folderID string) error {
	if err := store.CheckMirrorFolder(dirID, folderID); err != nil {
		return err
	}
	return s.writeAll(ctx, "DeleteMirrorFolder", dirID, []ots.RowChange{s.mirrorDelete(dirID, itemFolder+folderID)})
}

// MirrorMarks implements store.DirectoryMirror: one GetRow.
func (s *Store) MirrorMarks(ctx context.Context, dirID string) (store.MirrorMarks, error) {
	if err := store.CheckDir(dirID); err != nil {
		return store.MirrorMarks{}, err
	}
	found, row, err := s.getRow(ctx, "MirrorMarks", s.cfg.MirrorTable, s.mirrorPK(dirID, itemMarks))
	if err != nil || !found {
		return store.MirrorMarks{}, err
	}
	c := colReader{c: columnsOf(row.Columns)}
	m := store.MirrorMarks{SyncTime: msTime(c.optInt(colSyncTime)), HandshakeTime: msTime(c.optInt(colHandshakeTime)), Version: c.optInt(colMirrorVersion)}
	if len(c.errs) > 0 {
		return store.MirrorMarks{}, apperr.Internal(fmt.Errorf("tablestore: corrupt mirror marks of %s: %w", dirID, errors.Join(c.errs...)))
	}
	return m, nil
}

// SetHandshakeTime implements store.DirectoryMirror: one UpdateRow.
func (s *Store) SetHandshakeTime(ctx context.Context, dirID string, t time.Time) error {
	if err := store.CheckDir(dirID); err != nil {
		return err
	}
	return s.setMark(ctx, "SetHandshakeTime", dirID, colHandshakeTime, t)
}

// MemberIDs implements store.DirectoryMirror: one GetRange of the member
// table's keys (ceil(n/5000) requests).
func (s *Store) MemberIDs(ctx context.Context, dirID string) ([]string, error) {
	if err := store.CheckDir(dirID); err != nil {
		return nil, err
	}
	rows, err := s.rangeRows(ctx, "MemberIDs", s.cfg.MembersTable, pk(colDir, dirID, colAccount, pkMin), pk(colDir, dirID, colAccount, pkMax),
		ots.FORWARD, 0, colDir, colAccount)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(rows))
	for _, r := range rows {
		id, ok := pkValues(r.PrimaryKey)[colAccount].(string)
		if !ok {
			return nil, apperr.Internal(fmt.Errorf("tablestore: member row of %s without an account ID", dirID))
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// optInt reads an integer column that may be absent (0).
func (r *colReader) optInt(name string) int64 {
	if r.c[name] == nil {
		return 0
	}
	return r.int(name)
}

// ReadMirrorFolders implements store.DirectoryMirror: one GetRange over the
// folder rows ("f|" to "f}").
func (s *Store) ReadMirrorFolders(ctx context.Context, dirID string) ([]store.MirrorFolder, error) {
	if err := store.CheckDir(dirID); err != nil {
		return nil, err
	}
	rows, err := s.rangeRows(ctx, "ReadMirrorFolders", s.cfg.MirrorTable, s.mirrorPK(dirID, itemFolder), s.mirrorPK(dirID, "f}"), ots.FORWARD, 0)
	if err != nil {
		return nil, err
	}
	out := make([]store.MirrorFolder, 0, len(rows))
	for _, r := range rows {
		item, _ := pkValues(r.PrimaryKey)[colItem].(string)
		c := colReader{c: columnsOf(r.Columns)}
		f := store.MirrorFolder{ID: strings.TrimPrefix(item, itemFolder), Name: c.str(colName), ParentID: c.str(colFolder)}
		if len(c.errs) > 0 {
			return nil, apperr.Internal(fmt.Errorf("tablestore: corrupt mirror folder %q of %s: %w", item, dirID, errors.Join(c.errs...)))
		}
		out = append(out, f)
	}
	return out, nil
}

// ReadMirrorAccount implements store.DirectoryMirror: one GetRow.
func (s *Store) ReadMirrorAccount(ctx context.Context, dirID, accountID string) (store.MirrorAccount, bool, error) {
	if err := store.CheckDir(dirID); err != nil {
		return store.MirrorAccount{}, false, err
	}
	if err := store.CheckAccount(accountID); err != nil {
		return store.MirrorAccount{}, false, err
	}
	found, row, err := s.getRow(ctx, "ReadMirrorAccount", s.cfg.MirrorTable, s.mirrorPK(dirID, itemAccount+accountID))
	if err != nil || !found {
		return store.MirrorAccount{}, false, err
	}
	c := colReader{c: columnsOf(row.Columns)}
	a := store.MirrorAccount{AccountID: accountID, DisplayName: c.str(colName), FolderID: c.str(colFolder), JoinTime: fromMs(c.int(colJoinTime))}
	if len(c.errs) > 0 {
		return store.MirrorAccount{}, false, apperr.Internal(fmt.Errorf("tablestore: corrupt mirror account %s of %s: %w", accountID, dirID, errors.Join(c.errs...)))
	}
	return a, true, nil
}
