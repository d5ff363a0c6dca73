package simulation

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/sase-multiaccount/backend/shared/port/directory"
)

// AccountDetail is an account plus what RD reports of it that the port
// does not carry, for the RD wire server.
type AccountDetail struct {
	directory.Account
	ModifyTime time.Time // join, or the last rename or move
	// Path is RD's ResourceDirectoryPath: the directory, the folders from
	// the root down, then the account ("rd-…/r-…/fd-…/<UID>").
	Path string
	// AccountNamePrefix is a created account's login-name prefix; "" for
	// an invited account.
	AccountNamePrefix string
}

// FolderPath is the IDs of the folders from the root down to id (the root
// alone for the root), joined by "/"; "" for an unknown folder.
func (st *state) folderIDPath(id string) string {
	var ids []string
	for f := st.folders[id]; f != nil; f = st.folders[f.ParentID] {
		ids = append(ids, f.ID)
	}
	if id != st.dir.RootFolderID && len(ids) == 0 {
		return ""
	}
	ids = append(ids, st.dir.RootFolderID)
	slices.Reverse(ids)
	return strings.Join(ids, "/")
}

func (st *state) accountDetail(a *account) AccountDetail {
	return AccountDetail{Account: a.view(), ModifyTime: a.ModifyTime, Path: st.dir.ID + "/" + st.folderIDPath(a.FolderID) + "/" + a.ID,
		AccountNamePrefix: a.NamePrefix}
}

// FolderDetail is a folder plus its ResourceDirectoryPath, for the RD wire server.
type FolderDetail struct {
	directory.Folder
	Path string // "rd-…/r-…/fd-…"
}

// GetFolderDetail is GetFolder with the folder's path.
func (s *Sim) GetFolderDetail(ctx context.Context, id string) (FolderDetail, error) {
	f, err := s.GetFolder(ctx, id)
	if err != nil {
		return FolderDetail{}, err
	}
	var out FolderDetail
	err = s.readDir(func(st *state, _ time.Time) error {
		out = FolderDetail{Folder: f, Path: st.dir.ID + "/" + st.folderIDPath(id)}
		return nil
	})
	return out, err
}

// InvitationDetail is an invitation plus its ModifyTime (the last status
// change), for the RD wire server.
type InvitationDetail struct {
	directory.Invitation
	ModifyTime time.Time
}

// ListAccountDetails is ListAccounts with each account's ModifyTime.
func (s *Sim) ListAccountDetails(_ context.Context) ([]AccountDetail, error) {
	var out []AccountDetail
	err := s.readDir(func(st *state, _ time.Time) error {
		out = make([]AccountDetail, len(st.order))
		for i, a := range st.order {
			out[i] = st.accountDetail(a)
		}
		return nil
	})
	return out, err
}

// GetAccountDetail is GetAccount with the account's ModifyTime.
func (s *Sim) GetAccountDetail(_ context.Context, accountID string) (AccountDetail, error) {
	if err := checkAccountID(accountID); err != nil {
		return AccountDetail{}, err
	}
	var out AccountDetail
	err := s.readDir(func(st *state, _ time.Time) error {
		a := st.accounts[accountID]
		if a == nil {
			return errAccountNotInDirectory(accountID)
		}
		out = st.accountDetail(a)
		return nil
	})
	return out, err
}

// ListInvitationDetails is ListInvitations with each invitation's ModifyTime.
func (s *Sim) ListInvitationDetails(_ context.Context) ([]InvitationDetail, error) {
	var out []InvitationDetail
	err := s.readDir(func(st *state, now time.Time) error {
		out = make([]InvitationDetail, 0, len(st.invitations))
		for i := len(st.invitations) - 1; i >= 0; i-- {
			out = append(out, invitationDetail(st.invitations[i], now))
		}
		return nil
	})
	return out, err
}

// GetInvitationDetail is GetInvitation with the invitation's ModifyTime.
func (s *Sim) GetInvitationDetail(_ context.Context, id string) (InvitationDetail, error) {
	var out InvitationDetail
	err := s.readDir(func(st *state, now time.Time) error {
		inv := st.invByID[id]
		if inv == nil {
			return errInvitationNotFound(id)
		}
		out = invitationDetail(inv, now)
		return nil
	})
	return out, err
}

// invitationDetail reports an expired invitation's ModifyTime as its expiry:
// that is when its status last changed, though nothing was written then.
func invitationDetail(inv *invitation, now time.Time) InvitationDetail {
	d := InvitationDetail{Invitation: inv.view(now), ModifyTime: inv.ModifyTime}
	if d.Status == directory.StatusExpired && inv.Status == directory.StatusPending {
		d.ModifyTime = inv.ExpireTime
	}
	return d
}
