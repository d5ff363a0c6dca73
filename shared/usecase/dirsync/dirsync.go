// Package dirsync keeps SASE's member list and role answers in step with the
// Resource Directory without anyone clicking (DESIGN.md §5). Two entry points
// share one Service:
//
//   - HandleEvent is the directory-events function: EventBridge delivers one
//     ActionTrail ApiCall record of a ResourceManager call per invocation. An
//     account that leaves the directory (RemoveCloudAccount, DeleteAccount)
//     leaves SASE; a new display name (UpdateAccount) refreshes AccountName;
//     delegated-administrator changes for the SASE principal and
//     DestroyResourceDirectory drop the cached role answers. Every change is
//     audited with ActorRole "System".
//   - Reconcile is the reconcile-members timer: it compares the member table
//     with ListAccounts and corrects whatever events missed.
//
// Delivery is at least once, unordered and possibly late, so:
//
//   - an event is claimed once by source+id in the processed-events table
//     (expiring after DedupTTL); a redelivery changes nothing;
//   - a rename carries its event time as asOf (the end of the second
//     ActionTrail's eventTime names), and the store keeps the newest
//     observation, so an older rename never overwrites a newer one;
//   - a removal whose member was added after the event happened is stale and
//     is ignored (the account left and came back);
//   - malformed, foreign or unhandled events are acknowledged (nil error) and
//     reported in the Summary, so that EventBridge does not retry them;
//   - a store or directory failure returns the error, after releasing the
//     claim, so that EventBridge's retry is processed again.
//
// Role answers: Roles.Invalidate drops the cache of the process it runs in.
// Locally (make run) that is the one process serving every function. In
// Function Compute each function has its own instances, so the HTTP
// functions' cached answers still expire only after ROLE_CACHE_TTL (60 s by
// default); the directory is the source of truth once they do.
//
// After DestroyResourceDirectory nothing of the old directory is served:
//
//   - every HTTP function resolves the caller's role, and with it the
//     directory ID it reads, from GetDirectory; with no directory the role
//     check answers 404 EntityNotExists.ResourceDirectory, and a directory
//     enabled again has a new ID, so rows keyed by the old one (members,
//     audit trail) are unreachable through the API;
//   - RD refuses to destroy a directory that still has members, so their
//     RemoveCloudAccount events (or reconciliation) have already removed the
//     SASE members; only members whose events were lost and that no
//     reconciliation saw stay behind, unreachable, under the old ID;
//   - the role cache of this process is invalidated at once; the HTTP
//     functions' instances in FC keep a cached answer for at most
//     ROLE_CACHE_TTL, and until then a cached management account can still
//     read the old directory's audit trail. A shorter TTL narrows that
//     window; closing it needs a shared signal (e.g. a directory generation
//     in the store that the role check reads);
//   - the system audit record of the destruction goes under NoDirectoryID.
//
// The package imports no cloud SDK; what it needs from the store, the
// directory, the role cache and the audit trail are the small interfaces
// below.
package dirsync

import (
	"context"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/sase-multiaccount/backend/shared/port/directory"
	"github.com/sase-multiaccount/backend/shared/port/store"
	"github.com/sase-multiaccount/backend/shared/rolecheck"
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
}

// Directory is what dirsync reads from Resource Directory.
type Directory interface {
	GetDirectory(ctx context.Context) (directory.Directory, error)
	ListAccounts(ctx context.Context) ([]directory.Account, error)
	GetAccount(ctx context.Context, accountID string) (directory.Account, error)
	ListDelegatedAdmins(ctx context.Context) ([]directory.DelegatedAdmin, error)
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
	Store     Store
	Directory Directory
	Roles     Roles
	Audit     Auditor
	// Owner is the account the deployment runs in. It is the management
	// account whose calls are ours when no directory exists any more.
	Owner string
	// ServicePrincipal is SASE's trusted-service principal; delegated
	// administrator events for other principals are not ours.
	ServicePrincipal string
	DedupTTL         time.Duration    // 0: DefaultDedupTTL
	Now              func() time.Time // nil: time.Now
	Log              zerolog.Logger
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
var systemRole = string(rolecheck.RoleSystem)
