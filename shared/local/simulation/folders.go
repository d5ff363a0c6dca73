package simulation

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/events"
	"github.com/sase-multiaccount/backend/shared/port/directory"
)

// DefaultMaxFolders is RD's default folder quota (adjustable there too).
const DefaultMaxFolders = 100

// maxFolderNameLen is RD's limit on a folder name.
const maxFolderNameLen = 24

func errFolderNotFound(id string) error {
	return apperr.NotFound(apperr.CodeFolderNotFound, "Folder %q does not exist in this Resource Directory.", id)
}

func (st *state) folderExists(id string) bool {
	return id != "" && (id == st.dir.RootFolderID || st.folders[id] != nil)
}

// depth is how many levels below the root the folder is (root 0).
func (st *state) depth(id string) int {
	n := 0
	for f := st.folders[id]; f != nil; f = st.folders[f.ParentID] {
		n++
	}
	return n
}

func (st *state) rootView() directory.Folder {
	return directory.Folder{ID: st.dir.RootFolderID, Name: directory.RootFolderName, CreateTime: st.dir.CreateTime}
}

func (st *state) folderView(id string) (directory.Folder, bool) {
	if id == st.dir.RootFolderID {
		return st.rootView(), true
	}
	f := st.folders[id]
	if f == nil {
		return directory.Folder{}, false
	}
	return directory.Folder{ID: f.ID, Name: f.Name, ParentID: f.ParentID, CreateTime: f.CreateTime}, true
}

// children returns the subfolders of parent sorted by name, then ID.
func (st *state) children(parent string) []*folder {
	var out []*folder
	for _, f := range st.folders {
		if f.ParentID == parent {
			out = append(out, f)
		}
	}
	slices.SortFunc(out, func(a, b *folder) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// ListFolders returns the root, then every folder depth-first, siblings by name.
func (s *Sim) ListFolders(_ context.Context) ([]directory.Folder, error) {
	var out []directory.Folder
	err := s.readDir(func(st *state, _ time.Time) error {
		out = append(out, st.rootView())
		var walk func(parent string)
		walk = func(parent string) {
			for _, f := range st.children(parent) {
				v, _ := st.folderView(f.ID)
				out = append(out, v)
				walk(f.ID)
			}
		}
		walk(st.dir.RootFolderID)
		return nil
	})
	return out, err
}

// ListFoldersForParent returns parent's direct subfolders by name
// (RD's ListFoldersForParent; the RD wire server pages it).
func (s *Sim) ListFoldersForParent(_ context.Context, parentID string) ([]directory.Folder, error) {
	var out []directory.Folder
	err := s.readDir(func(st *state, _ time.Time) error {
		if !st.folderExists(parentID) {
			return errFolderNotFound(parentID)
		}
		for _, f := range st.children(parentID) {
			v, _ := st.folderView(f.ID)
			out = append(out, v)
		}
		return nil
	})
	return out, err
}

// GetFolder returns one folder, the root included.
func (s *Sim) GetFolder(_ context.Context, folderID string) (directory.Folder, error) {
	if folderID == "" {
		return directory.Folder{}, apperr.Missing("FolderId")
	}
	var out directory.Folder
	err := s.readDir(func(st *state, _ time.Time) error {
		v, ok := st.folderView(folderID)
		if !ok {
			return errFolderNotFound(folderID)
		}
		out = v
		return nil
	})
	return out, err
}

// CreateFolder creates a folder under parentID ("" = the root), with RD's
// rules: a unique name among its siblings, at most 5 levels below the
// root, at most MaxFolders folders.
func (s *Sim) CreateFolder(ctx context.Context, name, parentID string) (directory.Folder, error) {
	if err := checkFolderName(name); err != nil {
		return directory.Folder{}, err
	}
	var out directory.Folder
	err := s.updateDir(ctx, func(st *state, now time.Time) (change, error) {
		if parentID == "" {
			parentID = st.dir.RootFolderID
		}
		if !st.folderExists(parentID) {
			return change{}, errFolderNotFound(parentID)
		}
		for _, f := range st.children(parentID) {
			if f.Name == name {
				return change{}, apperr.Conflict(apperr.CodeFolderExists,
					"A folder named %q already exists in folder %s (%s).", name, parentID, f.ID)
			}
		}
		if d := st.depth(parentID) + 1; d > directory.MaxFolderDepth {
			return change{}, apperr.Conflict(apperr.CodeFolderDepth,
				"Folder %s is already %d levels below the root; Resource Directory allows at most %d.", parentID, d-1, directory.MaxFolderDepth)
		}
		if len(st.folders) >= s.opts.MaxFolders {
			return change{}, apperr.Conflict(apperr.CodeLimitExceeded,
				"The Resource Directory already has %d folders, its maximum. Delete a folder or raise the quota first.", len(st.folders))
		}
		id := "fd-" + randomToken(10)
		for st.folders[id] != nil {
			id = "fd-" + randomToken(10)
		}
		st.folders[id] = &folder{ID: id, Name: name, ParentID: parentID, CreateTime: now}
		st.mark(kindFolder, id)
		out, _ = st.folderView(id)
		ev := newCreatedEvent(st.dir.ManagementAccountID, "CreateFolder",
			map[string]string{"FolderName": name, "ParentFolderId": parentID}, map[string]string{"FolderId": id}, now)
		return change{changed: true, event: ev}, nil
	})
	return out, err
}

// MoveAccount moves an account to folderID. Moving it where it is changes
// nothing and publishes nothing.
func (s *Sim) MoveAccount(ctx context.Context, accountID, folderID string) error {
	if err := checkAccountID(accountID); err != nil {
		return err
	}
	if folderID == "" {
		return apperr.Missing("DestinationFolderId")
	}
	return s.updateDir(ctx, func(st *state, now time.Time) (change, error) {
		a := st.accounts[accountID]
		if a == nil {
			return change{}, errAccountNotInDirectory(accountID)
		}
		if !st.folderExists(folderID) {
			return change{}, errFolderNotFound(folderID)
		}
		if a.FolderID == folderID {
			return change{}, nil
		}
		st.mark(kindAccount, a.ID)
		a.FolderID = folderID
		a.ModifyTime = now
		return change{changed: true, event: newEvent(st.dir.ManagementAccountID, "MoveAccount",
			map[string]string{"AccountId": accountID, "DestinationFolderId": folderID}, now)}, nil
	})
}

// CreateResourceAccount creates a resource account (JoinMethod "created")
// with a new UID in in.FolderID ("" = the root).
func (s *Sim) CreateResourceAccount(ctx context.Context, in directory.NewAccount) (directory.Account, error) {
	if err := checkDisplayName("DisplayName", in.DisplayName); err != nil {
		return directory.Account{}, err
	}
	var out directory.Account
	err := s.updateDir(ctx, func(st *state, now time.Time) (change, error) {
		folderID := in.FolderID
		if folderID == "" {
			folderID = st.dir.RootFolderID
		}
		if !st.folderExists(folderID) {
			return change{}, errFolderNotFound(folderID)
		}
		if len(st.accounts) >= s.opts.MaxAccounts {
			return change{}, errDirectoryFull(s.opts.MaxAccounts)
		}
		id := newAccountID()
		for st.accounts[id] != nil || st.pending[id] != nil {
			id = newAccountID()
		}
		a := &account{ID: id, DisplayName: in.DisplayName, JoinTime: now, JoinMethod: "created", ModifyTime: now, FolderID: folderID}
		st.addAccount(a)
		out = a.view()
		params := map[string]string{"DisplayName": in.DisplayName, "ParentFolderId": folderID}
		if in.AccountNamePrefix != "" {
			params["AccountNamePrefix"] = in.AccountNamePrefix
		}
		return change{changed: true, event: newCreatedEvent(st.dir.ManagementAccountID, "CreateResourceAccount",
			params, map[string]string{"AccountId": id}, now)}, nil
	})
	return out, err
}

// newAccountID is a random 16-digit UID (no leading zero); resource
// accounts get UIDs from RD, never chosen by the caller.
func newAccountID() string {
	n, _ := rand.Int(rand.Reader, big.NewInt(9_000_000_000_000_000)) // crypto/rand never fails on supported platforms
	return fmt.Sprintf("%016d", n.Int64()+1_000_000_000_000_000)
}

// checkFolderName applies RD's rule: 1–24 characters, letters, digits,
// underscores, periods and hyphens.
func checkFolderName(name string) error {
	if name == "" {
		return apperr.Missing("FolderName")
	}
	if n := utf8.RuneCountInString(name); n > maxFolderNameLen {
		return apperr.Invalid("FolderName", "The folder name is %d characters long; at most %d are allowed.", n, maxFolderNameLen)
	}
	for _, r := range name {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '_' && r != '.' && r != '-' {
			return apperr.Invalid("FolderName", "The folder name may contain only letters, digits, underscores (_), periods (.) and hyphens (-); %q is not allowed.", r)
		}
	}
	return nil
}

func newCreatedEvent(caller, name string, params, response map[string]string, at time.Time) *events.CloudEvent {
	ev := events.NewActionTrailEventWithResponse(caller, name, params, response, at)
	return &ev
}
