// Package enroll is the enrollment policy (docs/DESIGN.md §10): which
// directory accounts join SASE on their own. Scope decides coverage for the
// policy use cases (get/update-enrollment-policy, with the preview and
// ApplyToExisting) and for dirsync, which enrolls accounts created in or
// moved into scope (directory-events), invited accounts that joined
// (check-handshakes) and whatever both missed (reconcile-members). The
// policy only ever adds members: it never removes one, and never enrolls
// the management account.
package enroll

import (
	"slices"
	"strconv"
	"time"

	"github.com/sase-multiaccount/backend/shared/port/directory"
	"github.com/sase-multiaccount/backend/shared/port/store"
)

// SystemAddedBy is AddedBy of a member the policy enrolled.
const SystemAddedBy = "System"

// Scope is a policy over a folder tree.
type Scope struct {
	p        store.EnrollmentPolicy
	tree     *directory.FolderTree
	excluded map[string]bool
	ma       string
}

// NewScope builds the scope of p in a directory whose folders are fs and
// whose management account is ma.
func NewScope(p store.EnrollmentPolicy, fs []directory.Folder, ma string) *Scope {
	s := &Scope{p: p, tree: directory.NewFolderTree(fs), excluded: make(map[string]bool, len(p.Excluded)), ma: ma}
	for _, e := range p.Excluded {
		s.excluded[e.AccountID] = true
	}
	return s
}

// Active reports whether the policy enrolls anything.
func (s *Scope) Active() bool {
	return s.p.Mode == store.PolicyAllAccounts || (s.p.Mode == store.PolicyFolders && len(s.p.FolderIDs) > 0)
}

// Covers reports whether an account in folderID is in scope (exclusions
// and the management account aside).
func (s *Scope) Covers(folderID string) bool {
	switch s.p.Mode {
	case store.PolicyAllAccounts:
		return true
	case store.PolicyFolders:
		if slices.Contains(s.p.FolderIDs, folderID) {
			return true
		}
		if s.p.IncludeSubfolders {
			for _, f := range s.p.FolderIDs {
				if s.tree.Within(folderID, f) {
					return true
				}
			}
		}
	}
	return false
}

// Excluded reports whether the policy excludes the account.
func (s *Scope) Excluded(accountID string) bool { return s.excluded[accountID] }

// Enrolls reports whether the policy makes the account a member: covered,
// not excluded, not the management account.
func (s *Scope) Enrolls(accountID, folderID string) bool {
	return accountID != s.ma && !s.excluded[accountID] && s.Covers(folderID)
}

// Path is a folder's path in the scope's tree.
func (s *Scope) Path(folderID string) string { return s.tree.Path(folderID) }

// Version is the policy's version, for audit records.
func (s *Scope) Version() string { return strconv.FormatInt(s.p.Version, 10) }

// Member is the member row the policy adds for an account.
func Member(dirID, accountID, name string, now time.Time) store.Member {
	return store.Member{DirectoryID: dirID, AccountID: accountID, AccountName: name, AddTime: now, AddedBy: SystemAddedBy,
		Version: 1, UpdateTime: now, NameTime: now}
}

// Folders converts the mirror's folders.
func Folders(fs []store.MirrorFolder) []directory.Folder {
	out := make([]directory.Folder, len(fs))
	for i, f := range fs {
		out[i] = directory.Folder{ID: f.ID, Name: f.Name, ParentID: f.ParentID}
	}
	return out
}
