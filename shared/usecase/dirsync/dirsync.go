// Package dirsync keeps SASE's member list and role answers in step with the
// Resource Directory without anyone clicking (DESIGN.md §5). Two entry points
// share one Service:
//
//   - HandleEvent is the directory-events function: EventBridge delivers one
//     ActionTrail ApiCall record of a ResourceManager call per invocation. An
//     account that leaves the directory (RemoveCloudAccount, DeleteAccount)
//     leaves SASE; a new display name (UpdateAccount) refreshes AccountName;
//     delegated-administrator changes for the SASE principal and
//     DestroyResourceDirectory refresh the role answers. Every change is
//     audited with ActorRole "System". Account events (CreateResourceAccount,
//     MoveAccount, UpdateAccount, RemoveCloudAccount, DeleteAccount) and
//     folder events (CreateFolder, UpdateFolder, DeleteFolder) also write
//     what RD says now (one GetAccount or GetFolder) into the directory
//     mirror.
//   - Reconcile is the reconcile-members timer: it compares the member table
//     with ListAccounts and corrects whatever events missed, and rebuilds the
//     directory mirror from the same listing (recording the full-sync time).
//
// An event is a hint, never proof. Its source must be acs.resourcemanager
// (the EventBridge rule, RulePattern, pins it too; any other source is
// Ignored/UntrustedSource), its caller the current directory's management
// account, and before acting the handler reads the truth from Resource
// Directory (one more RD call per event):
//
//   - a removal deletes the member only if GetAccount says the account is
//     gone (else NoChange/StillInDirectory);
//   - a rename is applied only if the DisplayName RD reports now is the
//     event's (else NoChange/NotConfirmedByDirectory);
//   - a delegated-administrator event is audited only if
//     ListDelegatedAdministrators confirms it (else
//     NoChange/NotConfirmedByDirectory).
//
// Delivery is at least once, unordered and possibly late, so:
//
//   - the event's key (source|id) is marked in the processed-events table
//     after its effect, never before, and a marked event is a Duplicate
//     (marks expire after DedupTTL). Every effect is idempotent: a member
//     change and its audit record are one unit in the store (store.AuditOf),
//     and a record without a member change has an ID derived from the event
//     (audit.EventRecordID). An instance that dies mid-event leaves no mark,
//     so the redelivery does the work; one that dies after the effect leaves
//     work the redelivery finds done;
//   - a rename carries its event time as asOf (the end of the second
//     ActionTrail's eventTime names), and the store keeps the newest
//     observation, so an older rename never overwrites a newer one; event
//     times more than 5 minutes in the future are refused;
//   - a removal whose member was added after the event happened is stale and
//     is ignored (the account left and came back);
//   - malformed, foreign or unhandled events are acknowledged (nil error) and
//     reported in the Summary, so that EventBridge does not retry them;
//   - a store or directory failure returns the error, so that EventBridge
//     retries; nothing is marked, so the retry is processed again.
//
// Role answers: Roles.Changed drops this instance's caches and bumps the
// directory generation in the store. Every warm instance of every function
// reads the generation at most once per second and drops its cached roles
// when it moved, so a role change made or announced anywhere reaches every
// instance within about a second, whatever ROLE_CACHE_TTL is.
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
//   - the generation is bumped, so within a second no instance answers from
//     a cached role of the old directory;
//   - the system audit record of the destruction goes under NoDirectoryID.
//
// The package imports no cloud SDK; what it needs from the store, the
// directory, the role cache and the audit trail are the small interfaces
// below.
package dirsync

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/sase-multiaccount/backend/shared/port/directory"
	"github.com/sase-multiaccount/backend/shared/port/store"
	"github.com/sase-multiaccount/backend/shared/rolecheck"
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
var systemRole = string(rolecheck.RoleSystem)
