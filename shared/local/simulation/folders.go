package simulation

import (
	"cmp"
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"regexp"
	"slices"
	"strings"
	"time"
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

// RenameFolder renames a folder other than the root (RD UpdateFolder
// NewFolderName), with CreateFolder's rule that siblings have distinct
// names. Renaming to the current name changes nothing and publishes nothing.
func (s *Sim) RenameFolder(ctx context.Context, folderID, name string) (directory.Folder, error) {
	if err := checkFolderName(name); err != nil {
		return directory.Folder{}, err
	}
	var out directory.Folder
	err := s.updateDir(ctx, func(st *state, now time.Time) (change, error) {
		f := st.folders[folderID]
		if f == nil {
			return change{}, errFolderNotFound(folderID)
		}
		if f.Name == name {
			out, _ = st.folderView(folderID)
			return change{}, nil
		}
		for _, sib := range st.children(f.ParentID) {
			if sib.Name == name {
				return change{}, apperr.Conflict(apperr.CodeFolderExists,
					"A folder named %q already exists in folder %s (%s).", name, f.ParentID, sib.ID)
			}
		}
		st.mark(kindFolder, folderID)
		f.Name = name
		out, _ = st.folderView(folderID)
		return change{changed: true, event: newEvent(st.dir.ManagementAccountID, "UpdateFolder",
			map[string]string{"FolderId": folderID, "NewFolderName": name}, now)}, nil
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
// with a new UID in in.FolderID ("" = the root), with RD's rules: a
// display name and a login-name prefix unique in the directory, the
// prefix chosen by RD when none is given.
func (s *Sim) CreateResourceAccount(ctx context.Context, in directory.NewAccount) (directory.Account, error) {
	if err := checkNewAccount(in); err != nil {
		return directory.Account{}, err
	}
	var out directory.Account
	err := s.updateDir(ctx, func(st *state, now time.Time) (change, error) {
		folderID := cmp.Or(in.FolderID, st.dir.RootFolderID)
		if !st.folderExists(folderID) {
			return change{}, errFolderNotFound(folderID)
		}
		prefix, err := st.newAccountNames(in)
		if err != nil {
			return change{}, err
		}
		if len(st.accounts) >= s.opts.MaxAccounts {
			return change{}, errDirectoryFull(s.opts.MaxAccounts)
		}
		id := newAccountID()
		for st.accounts[id] != nil || st.pending[id] != nil {
			id = newAccountID()
		}
		a := &account{ID: id, DisplayName: in.DisplayName, JoinTime: now, JoinMethod: "created", ModifyTime: now, FolderID: folderID, NamePrefix: prefix}
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

// newAccountNames checks that in's display name and prefix are free and
// returns the prefix, one RD chooses when in has none.
func (st *state) newAccountNames(in directory.NewAccount) (string, error) {
	prefixUsed := func(p string) bool {
		for _, a := range st.accounts {
			if strings.EqualFold(a.NamePrefix, p) {
				return true
			}
		}
		return false
	}
	for _, a := range st.accounts {
		if a.DisplayName == in.DisplayName {
			return "", apperr.Conflict(apperr.CodeDisplayNameExists,
				"Account %s is already named %q; display names are unique in the Resource Directory.", a.ID, in.DisplayName)
		}
	}
	if in.AccountNamePrefix != "" {
		if prefixUsed(in.AccountNamePrefix) {
			return "", apperr.Conflict(apperr.CodeAccountNameExists,
				"The account name prefix %q is taken in this Resource Directory; choose another.", in.AccountNamePrefix)
		}
		return in.AccountNamePrefix, nil
	}
	p := "rd" + randomToken(10)
	for prefixUsed(p) {
		p = "rd" + randomToken(10)
	}
	return p, nil
}

// newAccountID is a random 16-digit UID (no leading zero); resource
// accounts get UIDs from RD, never chosen by the caller.
func newAccountID() string {
	n, _ := rand.Int(rand.Reader, big.NewInt(9_000_000_000_000_000)) // crypto/rand never fails on supported platforms
	return fmt.Sprintf("%016d", n.Int64()+1_000_000_000_000_000)
}

// RD's character rules (API metadata, testdata of shared/local/rdwire/rdmeta).
var (
	folderNameChars  = regexp.MustCompile(`^[\p{Han}A-Za-z0-9_.\-]+$`)
	displayNameChars = regexp.MustCompile(`^[\p{Han}A-Za-z0-9_.\- ]+$`)
	namePrefixRule   = regexp.MustCompile(`^[A-Za-z0-9]+([_.\-][A-Za-z0-9]+)*$`)
)

// Lengths RD allows, in characters.
const (
	minNewDisplayName = 2
	maxNewDisplayName = 50
	minNamePrefix     = 2
	maxNamePrefix     = 37 // the international site's limit; the China site allows 50
)

// checkFolderName applies RD's rule: 1–24 characters, Chinese characters,
// English letters, digits, underscores, periods and hyphens.
func checkFolderName(name string) error {
	if name == "" {
		return apperr.Missing("FolderName")
	}
	if n := utf8.RuneCountInString(name); n > maxFolderNameLen {
		return apperr.Invalid("FolderName", "The folder name is %d characters long; at most %d are allowed.", n, maxFolderNameLen)
	}
	if !folderNameChars.MatchString(name) {
		return apperr.Invalid("FolderName", "The folder name %q may contain only Chinese characters, English letters, digits, underscores (_), periods (.) and hyphens (-).", name)
	}
	return nil
}

// checkNewAccount applies RD's rules to a new account's display name
// (2–50 characters: Chinese characters, English letters, digits, _ . - and
// spaces) and login-name prefix (optional; 2–37 English letters, digits and
// _ . -, starting and ending with a letter or digit, no two of _ . - in a row).
func checkNewAccount(in directory.NewAccount) error {
	name := in.DisplayName
	if strings.TrimSpace(name) == "" {
		return apperr.Missing("DisplayName")
	}
	if n := utf8.RuneCountInString(name); n < minNewDisplayName || n > maxNewDisplayName {
		return apperr.Invalid("DisplayName", "The display name is %d characters long; %d to %d are allowed.", n, minNewDisplayName, maxNewDisplayName)
	}
	if !displayNameChars.MatchString(name) {
		return apperr.Invalid("DisplayName", "The display name %q may contain only Chinese characters, English letters, digits, spaces, underscores (_), periods (.) and hyphens (-).", name)
	}
	p := in.AccountNamePrefix
	if p == "" {
		return nil
	}
	if n := utf8.RuneCountInString(p); n < minNamePrefix || n > maxNamePrefix {
		return apperr.Invalid("AccountNamePrefix", "The account name prefix is %d characters long; %d to %d are allowed.", n, minNamePrefix, maxNamePrefix)
	}
	if !namePrefixRule.MatchString(p) {
		return apperr.Invalid("AccountNamePrefix", "The account name prefix %q may contain only English letters, digits, _ . and -, must start and end with a letter or digit, and may not have two of _ . - in a row.", p)
	}
	return nil
}

func newCreatedEvent(caller, name string, params, response map[string]string, at time.Time) *events.CloudEvent {
	ev := events.NewActionTrailEventWithResponse(caller, name, params, response, at)
	return &ev
}
