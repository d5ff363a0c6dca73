// Package organize changes the shape of a real Resource Directory through
// the SDK adapter's client: CreateFolder, MoveAccount, CreateResourceAccount
// (directory.Organizer). No function links it, so the function role is not
// granted these calls (deploy's least-privilege test scans the adapter
// package, which never makes them); the local helpers and tests use the
// simulation's Organizer, and this package's test runs the directory
// contract suite over the RD wire protocol.
package organize

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"

	rm "github.com/aliyun/alibaba-cloud-sdk-go/services/resourcemanager"

	rdadapter "github.com/sase-multiaccount/backend/shared/adapter/resourcemanager"
	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/port/directory"
)

// RD actions this package calls.
const (
	actCreateFolder  = "CreateFolder"
	actMoveAccount   = "MoveAccount"
	actCreateAccount = "CreateResourceAccount"
)

// RD's CreateFolder refusals (EntityAlreadyExists.Folder UNCONFIRMED).
const (
	codeFolderNotFound  = "EntityNotExists.Folder"
	codeAccountNotFound = "EntityNotExists.Account"
	codeFolderExists    = "EntityAlreadyExists.Folder"
	codeFolderDepth     = "LimitExceeded.Folder.Depth"
	codeFolderQuota     = "QuotaExceeded.Folder.Count"
)

// Organizer implements directory.Organizer on an SDK adapter Client.
type Organizer struct{ rd *rdadapter.Client }

var _ directory.Organizer = (*Organizer)(nil)

// New returns an Organizer making its calls through rd.
func New(rd *rdadapter.Client) *Organizer { return &Organizer{rd: rd} }

type call struct {
	action string
	write  bool
}

// CreateFolder calls CreateFolder once; "" parent is the root (RD's default).
func (g *Organizer) CreateFolder(ctx context.Context, name, parentID string) (directory.Folder, error) {
	o := call{action: actCreateFolder, write: true}
	var resp *rm.CreateFolderResponse
	err := g.rd.Call(ctx, o.action, o.write, func(rc *rm.Client) (err error) {
		req := rm.CreateCreateFolderRequest()
		req.FolderName = name
		req.ParentFolderId = parentID
		resp, err = rc.CreateFolder(req)
		return err
	})
	if err != nil {
		switch rdadapter.RDCode(err) {
		case codeFolderNotFound:
			return directory.Folder{}, rdadapter.FolderNotFound(err, parentID)
		case codeFolderExists:
			return directory.Folder{}, apperr.Wrap(err, apperr.KindConflict, apperr.CodeFolderExists,
				"A folder named %q already exists there.", name)
		case codeFolderDepth:
			return directory.Folder{}, apperr.Wrap(err, apperr.KindConflict, apperr.CodeFolderDepth,
				"%s allows at most %d levels of folders below the root.", "Resource Directory", directory.MaxFolderDepth)
		case codeFolderQuota:
			return directory.Folder{}, apperr.Wrap(err, apperr.KindConflict, apperr.CodeLimitExceeded,
				"The resource directory has reached its folder quota. Delete a folder or ask for a higher quota.")
		}
		return directory.Folder{}, rdadapter.Fail(o.action, o.write, err)
	}
	if resp.Folder.FolderId == "" {
		return directory.Folder{}, rdadapter.Fail(o.action, o.write, rdadapter.EmptyAnswer(o.action))
	}
	f := directory.Folder{ID: resp.Folder.FolderId, Name: resp.Folder.FolderName, ParentID: resp.Folder.ParentFolderId, CreateTime: rdadapter.ParseTime(resp.Folder.CreateTime)}
	if f.ParentID == "" {
		f.ParentID = parentID
	}
	return f, nil
}

// MoveAccount calls MoveAccount once.
func (g *Organizer) MoveAccount(ctx context.Context, accountID, folderID string) error {
	o := call{action: actMoveAccount, write: true}
	err := g.rd.Call(ctx, o.action, o.write, func(rc *rm.Client) error {
		req := rm.CreateMoveAccountRequest()
		req.AccountId = accountID
		req.DestinationFolderId = folderID
		_, err := rc.MoveAccount(req)
		return err
	})
	if err == nil {
		return nil
	}
	switch rdadapter.RDCode(err) {
	case codeAccountNotFound:
		return rdadapter.AccountNotFound(err, accountID)
	case codeFolderNotFound:
		return rdadapter.FolderNotFound(err, folderID)
	}
	return rdadapter.Fail(o.action, o.write, err)
}

// CreateResourceAccount calls CreateResourceAccount once. RD requires a
// login-name prefix; when the caller gives none, one is derived from the
// display name plus a random suffix (prefixes are unique per directory).
func (g *Organizer) CreateResourceAccount(ctx context.Context, in directory.NewAccount) (directory.Account, error) {
	o := call{action: actCreateAccount, write: true}
	prefix := in.AccountNamePrefix
	if prefix == "" {
		prefix = namePrefix(in.DisplayName)
	}
	var resp *rm.CreateResourceAccountResponse
	err := g.rd.Call(ctx, o.action, o.write, func(rc *rm.Client) (err error) {
		req := rm.CreateCreateResourceAccountRequest()
		req.DisplayName = in.DisplayName
		req.ParentFolderId = in.FolderID
		req.AccountNamePrefix = prefix
		resp, err = rc.CreateResourceAccount(req)
		return err
	})
	if err != nil {
		switch code := rdadapter.RDCode(err); {
		case code == codeFolderNotFound:
			return directory.Account{}, rdadapter.FolderNotFound(err, in.FolderID)
		case code == "LimitExceeded.Account":
			return directory.Account{}, apperr.Wrap(err, apperr.KindConflict, apperr.CodeLimitExceeded,
				"The resource directory has reached its member quota. Remove members or ask for a higher quota.")
		}
		return directory.Account{}, rdadapter.Fail(o.action, o.write, err)
	}
	a := resp.Account
	if a.AccountId == "" {
		return directory.Account{}, rdadapter.Fail(o.action, o.write, rdadapter.EmptyAnswer(o.action))
	}
	return directory.Account{AccountID: a.AccountId, DisplayName: a.DisplayName, JoinTime: rdadapter.ParseTime(a.JoinTime),
		JoinMethod: a.JoinMethod, FolderID: a.FolderId}, nil
}

// namePrefix derives a login-name prefix (letters, digits, hyphens; RD
// allows 2–50 characters) from a display name, with a random suffix.
func namePrefix(displayName string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(displayName) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
		if b.Len() >= 30 {
			break
		}
	}
	var suffix [4]byte
	_, _ = rand.Read(suffix[:])
	base := strings.Trim(b.String(), "-")
	if base == "" {
		base = "account"
	}
	return base + "-" + hex.EncodeToString(suffix[:])
}
