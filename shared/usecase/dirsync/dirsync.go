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
	"strings"
	"time"

	"github.com/sase-multiaccount/backend/shared/port/directory"
	"github.com/sase-multiaccount/backend/shared/port/store"
	"github.com/sase-multiaccount/backend/shared/role"
	"github.com/sase-multiaccount/backend/shared/usecase/audit"
)

// DedupTTL is how long a processed event's key is kept (DESIGN.md §4:
// about 7 days, far beyond EventBridge's longest retry schedule of ~1 day).
const DedupTTL = 7 * 24 * time.Hour

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

// Deps are what a Service works with. New requires every one of them, so
// no method wonders whether there is a mirror, a policy or a clock; tests
// pass fakes.
type Deps struct {
	Store Store
	// Mirror is the directory mirror, kept from events, the handshake check
	// and reconciliation.
	Mirror Mirror
	// Policies is the enrollment policy the service applies to accounts
	// created in or moved into scope, invited accounts that joined, and
	// (reconciliation) whatever both missed.
	Policies Policies
	// Generations lets the handshake check keep the directory between runs
	// while the directory generation has not moved.
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
	Now              func() time.Time
}

// Service handles directory events and reconciliation for one deployment.
// It is safe for concurrent use, also against itself in other instances:
// every write it makes is conditional in the store or idempotent.
type Service struct {
	store       Store
	mirror      Mirror
	policies    Policies
	generations Generations
	dir         Directory
	roles       Roles
	audit       Auditor
	owner       string
	principal   string
	clock       func() time.Time

	dirs dirCache
}

// New is the Service over d. A missing dependency is a wiring mistake, so
// it panics naming every one.
func New(d Deps) *Service {
	var missing []string
	for _, dep := range []struct {
		name   string
		absent bool
	}{
		{"Store", d.Store == nil}, {"Mirror", d.Mirror == nil}, {"Policies", d.Policies == nil},
		{"Generations", d.Generations == nil}, {"Directory", d.Directory == nil}, {"Roles", d.Roles == nil},
		{"Audit", d.Audit == nil}, {"Owner", d.Owner == ""}, {"ServicePrincipal", d.ServicePrincipal == ""},
		{"Now", d.Now == nil},
	} {
		if dep.absent {
			missing = append(missing, dep.name)
		}
	}
	if len(missing) > 0 {
		panic("dirsync.New: missing " + strings.Join(missing, ", "))
	}
	return &Service{store: d.Store, mirror: d.Mirror, policies: d.Policies, generations: d.Generations,
		dir: d.Directory, roles: d.Roles, audit: d.Audit, owner: d.Owner, principal: d.ServicePrincipal, clock: d.Now}
}

func (s *Service) now() time.Time { return s.clock().UTC() }

func (s *Service) invalidate(ctx context.Context) error {
	if err := s.roles.Changed(ctx); err != nil {
		return fmt.Errorf("publish role change: %w", err)
	}
	return nil
}

// systemRole is the audit role of every change dirsync makes.
var systemRole = string(role.System)
