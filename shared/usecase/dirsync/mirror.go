package dirsync

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/port/directory"
	"github.com/sase-multiaccount/backend/shared/port/store"
)

// Mirror is what dirsync writes to the directory mirror (store.DirectoryMirror).
type Mirror interface {
	ReadMirror(ctx context.Context, dirID string) (store.Mirror, error)
	ReplaceMirror(ctx context.Context, dirID string, m store.Mirror) error
	ReadMirrorAccount(ctx context.Context, dirID, accountID string) (store.MirrorAccount, bool, error)
	PutMirrorAccounts(ctx context.Context, dirID string, accounts []store.MirrorAccount) error
	DeleteMirrorAccount(ctx context.Context, dirID, accountID string) error
	PutMirrorFolder(ctx context.Context, dirID string, f store.MirrorFolder) error
	DeleteMirrorFolder(ctx context.Context, dirID, folderID string) error
	MirrorMarks(ctx context.Context, dirID string) (store.MirrorMarks, error)
	ReadMirrorFolders(ctx context.Context, dirID string) ([]store.MirrorFolder, error)
	SetHandshakeTime(ctx context.Context, dirID string, t time.Time) error
}

// MirrorAccount is the mirror's copy of an RD account.
func MirrorAccount(a directory.Account) store.MirrorAccount {
	return store.MirrorAccount{AccountID: a.AccountID, DisplayName: a.DisplayName, FolderID: a.FolderID, JoinTime: a.JoinTime}
}

// MirrorFolder is the mirror's copy of an RD folder.
func MirrorFolder(f directory.Folder) store.MirrorFolder {
	return store.MirrorFolder{ID: f.ID, Name: f.Name, ParentID: f.ParentID}
}

// lookupAccount reads the account from RD: the truth an account event is
// checked against (one GetAccount per event).
func (s *Service) lookupAccount(ctx context.Context, id string) (directory.Account, bool, error) {
	acc, err := s.dir.GetAccount(ctx, id)
	if apperr.IsCode(err, apperr.CodeAccountNotFound) {
		return directory.Account{}, false, nil
	}
	if err != nil {
		return directory.Account{}, false, fmt.Errorf("get account %s: %w", id, err)
	}
	return acc, true, nil
}

// mirrorAccount writes what RD said about the account into the mirror.
func (s *Service) mirrorAccount(ctx context.Context, dirID string, acc directory.Account, inRD bool, id string) error {
	var err error
	if inRD {
		err = s.mirror.PutMirrorAccounts(ctx, dirID, []store.MirrorAccount{MirrorAccount(acc)})
	} else {
		err = s.mirror.DeleteMirrorAccount(ctx, dirID, id)
	}
	if err != nil {
		return fmt.Errorf("update directory mirror: %w", err)
	}
	return nil
}

// accountEvent: an account was created, moved, renamed or removed. One
// GetAccount reads the truth; the enrollment policy judges the account's
// arrival (enrollArrival), then the mirror takes RD's answer; then the
// member effect (removal, rename) follows from RD's answer, not the
// event's.
func (s *Service) accountEvent(ctx context.Context, c call, sum Summary) (Summary, error) {
	d, done, err := s.ours(ctx, c, sum)
	if err != nil || done != nil {
		return orSum(done, sum), err
	}
	acc, inRD, err := s.lookupAccount(ctx, c.account)
	if err != nil {
		return sum, err
	}
	enrolled := false
	if inRD {
		if err := s.mirrorFoldersOf(ctx, d.ID, acc); err != nil {
			return sum, err
		}
		if enrolled, err = s.enrollArrival(ctx, d, c, acc); err != nil {
			return sum, err
		}
	}
	if err := s.mirrorAccount(ctx, d.ID, acc, inRD, c.account); err != nil {
		return sum, err
	}
	switch c.name {
	case EventRemoveCloudAccount, EventDeleteAccount:
		sum, err = s.remove(ctx, d, c, inRD, sum)
	case EventUpdateAccount:
		sum, err = s.rename(ctx, d, c, acc, inRD, sum)
	default: // CreateResourceAccount, MoveAccount
		sum = arrivalSummary(c, acc, inRD, sum)
	}
	if err == nil && enrolled {
		// The member the policy just added carries RD's name already.
		sum.Result, sum.Reason, sum.Message = ResultEnrolled, "", ""
		if c.name != EventCreateResourceAccount && c.name != EventMoveAccount {
			sum.Message = fmt.Sprintf("The directory mirror had not seen account %s arrive in folder %s (its event was lost); the enrollment policy added it.", acc.AccountID, acc.FolderID)
		}
	}
	return sum, err
}

// arrivalSummary is the answer to CreateResourceAccount and MoveAccount
// when the policy enrolled nothing.
func arrivalSummary(c call, acc directory.Account, inRD bool, sum Summary) Summary {
	if !inRD {
		sum.Result, sum.Reason = ResultNoChange, ReasonNotConfirmed
		sum.Message = fmt.Sprintf("Resource Directory does not list account %s; the mirror no longer holds it.", c.account)
		return sum
	}
	sum.Result, sum.Reason = ResultMirrored, ReasonNotInScope
	sum.Message = fmt.Sprintf("The directory mirror has account %s in folder %s; the enrollment policy does not add it (not in scope, excluded, or a member already).", acc.AccountID, acc.FolderID)
	return sum
}

// mirrorFoldersOf completes the mirror's folders when it lacks the
// account's folder (its CreateFolder event not seen yet, or lost): RD's
// tree, one ListFolders, so folder paths and folder scopes hold at once.
func (s *Service) mirrorFoldersOf(ctx context.Context, dirID string, acc directory.Account) error {
	if acc.FolderID == "" {
		return nil
	}
	have, err := s.mirror.ReadMirrorFolders(ctx, dirID)
	if err != nil {
		return fmt.Errorf("read mirror folders: %w", err)
	}
	known := make(map[string]bool, len(have))
	for _, f := range have {
		known[f.ID] = true
	}
	if known[acc.FolderID] {
		return nil
	}
	fs, err := s.dir.ListFolders(ctx)
	if err != nil {
		return fmt.Errorf("list folders: %w", err)
	}
	for _, f := range fs {
		if !known[f.ID] {
			if err := s.mirror.PutMirrorFolder(ctx, dirID, MirrorFolder(f)); err != nil {
				return fmt.Errorf("update directory mirror: %w", err)
			}
		}
	}
	return nil
}

// folderEvent: a folder was created, renamed or deleted. One GetFolder
// reads the truth and the mirror takes it.
func (s *Service) folderEvent(ctx context.Context, c call, sum Summary) (Summary, error) {
	d, done, err := s.ours(ctx, c, sum)
	if err != nil || done != nil {
		return orSum(done, sum), err
	}
	f, err := s.dir.GetFolder(ctx, c.folder)
	inRD := err == nil
	if err != nil && !apperr.IsCode(err, apperr.CodeFolderNotFound) {
		return sum, fmt.Errorf("get folder %s: %w", c.folder, err)
	}
	if inRD {
		err = s.mirror.PutMirrorFolder(ctx, d.ID, MirrorFolder(f))
	} else {
		err = s.mirror.DeleteMirrorFolder(ctx, d.ID, c.folder)
	}
	if err != nil {
		return sum, fmt.Errorf("update directory mirror: %w", err)
	}
	sum.Result = ResultMirrored
	if inRD == (c.name == EventDeleteFolder) {
		sum.Result, sum.Reason = ResultNoChange, ReasonNotConfirmed
		sum.Message = fmt.Sprintf("Resource Directory does not confirm the %s of folder %s; the mirror took what it lists now.", c.name, c.folder)
	}
	return sum, nil
}

// rebuildMirror replaces the mirror with the listing and the folder tree
// read at start, and records start as the full-sync time. An account that
// joined after the listing and whose event was written before this replace
// is dropped from the mirror until its next event or run (which then sees
// it arrive: the policy finds it a member already); add-members confirms
// an account the mirror lacks with RD, so it is never refused meanwhile.
func (s *Service) rebuildMirror(ctx context.Context, d directory.Directory, accounts map[string]directory.Account, folders []directory.Folder, start time.Time) error {
	m := store.Mirror{Marks: store.MirrorMarks{SyncTime: start}}
	m.Accounts = make([]store.MirrorAccount, 0, len(accounts))
	for _, a := range accounts {
		m.Accounts = append(m.Accounts, MirrorAccount(a))
	}
	slices.SortFunc(m.Accounts, func(a, b store.MirrorAccount) int { return strings.Compare(a.AccountID, b.AccountID) })
	for _, f := range folders {
		m.Folders = append(m.Folders, MirrorFolder(f))
	}
	if err := s.mirror.ReplaceMirror(ctx, d.ID, m); err != nil {
		return fmt.Errorf("rebuild directory mirror: %w", err)
	}
	return nil
}
