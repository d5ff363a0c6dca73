package store

import (
	"context"
	"time"

	"github.com/sase-multiaccount/backend/shared/apperr"
)

// MirrorAccount is a directory account as the mirror keeps it.
type MirrorAccount struct {
	AccountID   string
	DisplayName string
	FolderID    string
	JoinTime    time.Time
}

// MirrorFolder is a directory folder as the mirror keeps it (ParentID ""
// for the root).
type MirrorFolder struct {
	ID       string
	Name     string
	ParentID string
}

// Mirror is the store's copy of a directory (docs/DESIGN.md "The directory
// mirror"): every account and folder, with the time of the last full sync.
type Mirror struct {
	Accounts []MirrorAccount // in AccountID order
	Folders  []MirrorFolder  // in ID order
	Marks    MirrorMarks
}

// MirrorMarks are the mirror's clocks.
type MirrorMarks struct {
	// SyncTime is when the last full sync (reconciliation) read the
	// directory; zero means the mirror was never synced and is not to be
	// trusted.
	SyncTime time.Time
	// HandshakeTime is when the handshake check last asked RD for accepted
	// invitations; zero before its first run.
	HandshakeTime time.Time
	// Version moves with every write of the mirror (in the same unit), so
	// a reader can tell with one small read (MirrorMarks) that a copy of
	// the mirror it holds is still current.
	Version int64
}

// DirectoryMirror is the directory mirror. It is a cache of Resource
// Directory, written only with what RD said (events are verified first), so
// it holds no audit records; its writes are idempotent.
type DirectoryMirror interface {
	// ReadMirror returns the whole mirror of the directory in one read
	// (an empty Mirror when there is none).
	ReadMirror(ctx context.Context, dirID string) (Mirror, error)
	// ReplaceMirror makes the mirror's accounts and folders equal to m's
	// and sets its SyncTime to m.Marks.SyncTime (a full sync), writing only
	// what differs. HandshakeTime is kept.
	ReplaceMirror(ctx context.Context, dirID string, m Mirror) error
	// ReadMirrorFolders returns the mirror's folders alone (one small read),
	// for the enrollment policy's subfolder checks.
	ReadMirrorFolders(ctx context.Context, dirID string) ([]MirrorFolder, error)
	// ReadMirrorAccount returns one account of the mirror (one small
	// read); ok is false when the mirror does not hold it.
	ReadMirrorAccount(ctx context.Context, dirID, accountID string) (a MirrorAccount, ok bool, err error)
	// PutMirrorAccounts inserts or overwrites accounts.
	PutMirrorAccounts(ctx context.Context, dirID string, accounts []MirrorAccount) error
	// DeleteMirrorAccount removes an account; a missing one is no error.
	DeleteMirrorAccount(ctx context.Context, dirID, accountID string) error
	// PutMirrorFolder inserts or overwrites a folder.
	PutMirrorFolder(ctx context.Context, dirID string, f MirrorFolder) error
	// DeleteMirrorFolder removes a folder; a missing one is no error.
	DeleteMirrorFolder(ctx context.Context, dirID, folderID string) error
	// MirrorMarks reads the marks alone (one small read).
	MirrorMarks(ctx context.Context, dirID string) (MirrorMarks, error)
	// SetHandshakeTime records the handshake check's run.
	SetHandshakeTime(ctx context.Context, dirID string, t time.Time) error
	// MemberIDs returns the account IDs of every member of the directory,
	// in order, in one read (keys only), so that a candidates page is two
	// reads: the mirror and this.
	MemberIDs(ctx context.Context, dirID string) ([]string, error)
}

// CheckMirrorAccounts validates accounts before an adapter writes any.
func CheckMirrorAccounts(dirID string, accounts []MirrorAccount) error {
	if err := CheckDir(dirID); err != nil {
		return err
	}
	for _, a := range accounts {
		if err := CheckAccount(a.AccountID); err != nil {
			return err
		}
		if len(a.FolderID) > MaxKeyLen {
			return apperr.Invalid("FolderId", "FolderId must be at most %d bytes.", MaxKeyLen)
		}
	}
	return nil
}

// CheckMirrorFolder validates a folder key.
func CheckMirrorFolder(dirID, folderID string) error {
	if err := CheckDir(dirID); err != nil {
		return err
	}
	if folderID == "" {
		return apperr.Missing("FolderId")
	}
	if len(folderID) > MaxKeyLen {
		return apperr.Invalid("FolderId", "FolderId must be at most %d bytes.", MaxKeyLen)
	}
	return nil
}
