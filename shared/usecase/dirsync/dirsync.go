// Package dirsync keeps SASE's members, the directory mirror and the role
// answers in step with Resource Directory without anyone clicking:
// HandleEvent is the directory-events function, Reconcile the
// reconcile-members timer, CheckHandshakes the check-handshakes timer. An
// event is a hint RD must confirm; why, and how redelivery and a destroyed
// directory are handled, is in docs/DESIGN.md §5. It imports no cloud SDK.
package dirsync

import (
	"context"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/sase-multiaccount/backend/shared/port/directory"
	"github.com/sase-multiaccount/backend/shared/port/store"
	"github.com/sase-multiaccount/backend/shared/role"
	"github.com/sase-multiaccount/backend/shared/usecase/audit"
)

// DefaultDedupTTL is how long a processed event's key is kept (DESIGN.md §4:
// about 7 days, far beyond EventBridge's longest retry schedule of ~1 day).
const DefaultDedupTTL = 7 * 24 * time.Hour

// NoDirectoryID is the audit partition of system records about a directory
// that no longer exists (DestroyResourceDirectory): the event names no
// directory ID and GetDirectory has none to give. list-audit-events never
// serves it; the records are there for an operator, and in the log.
const NoDirectoryID = "none"

// batch is how many members one DeleteMembers call of Reconcile names, and
// how many changes one audit append records.
const batch = 100

// scanPage is the member page size Reconcile reads (the store's maximum).
const scanPage = 1000

// Store is what dirsync needs from the store.
type Store interface {
	GetMember(ctx context.Context, dirID, accountID string) (store.Member, error)
	RenameMember(ctx context.Context, dirID, accountID, name string, asOf time.Time, audit store.AuditOf) (bool, error)
	DeleteMembers(ctx context.Context, dirID string, accountIDs []string, audit store.AuditOf) ([]store.DeleteResult, error)
	ListMembers(ctx context.Context, dirID string, q store.ListQuery) ([]store.Member, bool, error)
	EventProcessed(ctx context.Context, key string) (bool, error)
	MarkEventProcessed(ctx context.Context, key string, expires time.Time) error
	AddMembers(ctx context.Context, dirID string, ms []store.Member, audit store.AuditOf) ([]store.AddResult, error)
}

// Policies is the enrollment policy (store.Policies).
type Policies interface {
	GetPolicy(ctx context.Context, dirID string) (store.EnrollmentPolicy, error)
}

// Directory is what dirsync reads from Resource Directory.
type Directory interface {
	GetDirectory(ctx context.Context) (directory.Directory, error)
	ListAccounts(ctx context.Context) ([]directory.Account, error)
	GetAccount(ctx context.Context, accountID string) (directory.Account, error)
	ListDelegatedAdmins(ctx context.Context) ([]directory.DelegatedAdmin, error)
	ListFolders(ctx context.Context) ([]directory.Folder, error)
	GetFolder(ctx context.Context, folderID string) (directory.Folder, error)
	ListInvitations(ctx context.Context) ([]directory.Invitation, error)
}

// Roles is told of every change of roles (app.App.Changed): it drops this
// instance's answers and bumps the directory generation in the store, so
// every warm instance of every function drops theirs within a second.
type Roles interface {
	Changed(ctx context.Context) error
}

// Auditor records changes (audit.Recorder).
type Auditor interface {
	Record(ctx context.Context, dirID string, actor audit.Actor, entries ...audit.Entry) error
	With(dirID string, actor audit.Actor, entry func(before, after store.Member) audit.Entry) store.AuditOf
}

// Service handles directory events and reconciliation for one deployment.
// It is safe for concurrent use, also against itself in other instances:
// every write it makes is conditional in the store or idempotent.
type Service struct {
	Store Store
	// Mirror is the directory mirror; nil keeps none (tests of other
	// concerns).
	Mirror Mirror
	// Policies, when set (with Mirror), is the enrollment policy the
	// service applies to accounts created in or moved into scope, invited
	// accounts that joined, and (reconciliation) whatever both missed.
	Policies Policies
	// Generations, when set, lets the handshake check keep the directory
	// between runs while the directory generation has not moved.
	Generations Generations
	Directory   Directory
	Roles       Roles
	Audit       Auditor
	// Owner is the account the deployment runs in. It is the management
	// account whose calls are ours when no directory exists any more.
	Owner string
	// ServicePrincipal is SASE's trusted-service principal; delegated
	// administrator events for other principals are not ours.
	ServicePrincipal string
	DedupTTL         time.Duration    // 0: DefaultDedupTTL
	Now              func() time.Time // nil: time.Now
	Log              zerolog.Logger

	dirs dirCache
}

func (s *Service) now() time.Time {
	if s.Now == nil {
		return time.Now().UTC()
	}
	return s.Now().UTC()
}

func (s *Service) dedupTTL() time.Duration {
	if s.DedupTTL <= 0 {
		return DefaultDedupTTL
	}
	return s.DedupTTL
}

func (s *Service) principal() string {
	if s.ServicePrincipal == "" {
		return directory.DefaultServicePrincipal
	}
	return s.ServicePrincipal
}

func (s *Service) invalidate(ctx context.Context) error {
	if s.Roles == nil {
		return nil
	}
	if err := s.Roles.Changed(ctx); err != nil {
		return fmt.Errorf("publish role change: %w", err)
	}
	return nil
}

// systemRole is the audit role of every change dirsync makes.
var systemRole = string(role.System)
