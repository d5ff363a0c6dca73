// Package rolecheck decides who may do what. The caller is a person of an
// account (package auth verifies the token); the account's role comes from
// the directory only: management account = the directory's MasterAccountId,
// delegated administrator = listed for the SASE principal, member = in
// ListAccounts; the person's access role comes from the root identity,
// SASE_ADMINISTRATORS and the grants (people.go). One policy table below —
// account role × access role × action — answers every function; every HTTP
// function asks Checker.Authorize before doing anything else.
package rolecheck

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/sase-multiaccount/backend/shared/action"
	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/port/directory"
	"github.com/sase-multiaccount/backend/shared/role"
)

// Role is what the directory says a caller's account is (package role
// names them).
type Role = role.Account

const (
	RoleNone       = role.None
	RoleOwner      = role.Owner
	RoleManagement = role.Management
	RoleDelegated  = role.Delegated
	RoleMember     = role.Member
	RoleSystem     = role.System
)

// Decision is one cell of the policy table.
type Decision int

const (
	Deny        Decision = iota // 403 Forbidden.Role (the zero value: unlisted cells deny)
	Allow                       // go ahead
	NoDirectory                 // 404 EntityNotExists.ResourceDirectory (owner before step 1)
	InDirectory                 // 409 EntityAlreadyExists.ResourceDirectory (enable by a member)
	DenyAccess                  // 403 Forbidden.AccessRole: the account may, the person may not
)

// Rule is one row of the policy table: what each account role may do with
// the action (DESIGN.md §2), and the least access role a person needs for
// it where the account may (API.md "People").
type Rule struct {
	Roles  map[Role]Decision
	Access role.Access
}

// Policy is the single source of truth for authorization.
var Policy = func() map[action.Action]Rule {
	p := map[action.Action]Rule{
		action.DescribeSetup: {Access: role.NoAccess,
			Roles: map[Role]Decision{RoleOwner: Allow, RoleManagement: Allow, RoleDelegated: Allow, RoleMember: Allow}},
		action.EnableDirectory: {Access: role.Administrator,
			Roles: map[Role]Decision{RoleOwner: Allow, RoleManagement: Allow, RoleDelegated: InDirectory, RoleMember: InDirectory}},
	}
	maOnly := map[action.Action]role.Access{action.InviteAccounts: role.Administrator, action.ListInvitations: role.Viewer,
		action.CancelInvitation: role.Administrator, action.RegisterDelegatedAdmin: role.Administrator, action.DeregisterDelegatedAdmin: role.Administrator}
	for a, least := range maOnly {
		p[a] = Rule{Access: least, Roles: map[Role]Decision{RoleOwner: NoDirectory, RoleManagement: Allow}}
	}
	maAndDA := map[action.Action]role.Access{
		action.ListCandidates: role.Viewer, action.ListFolders: role.Viewer, action.ListMembers: role.Viewer,
		action.ListAuditEvents: role.Viewer, action.GetEnrollmentPolicy: role.Viewer,
		action.AddMembers: role.Operator, action.UpdateMemberRemark: role.Operator, action.DeleteMembers: role.Operator,
		action.UpdateEnrollmentPolicy: role.Administrator,
		action.ListAccess:             role.Administrator, action.GrantAccess: role.Administrator, action.RevokeAccess: role.Administrator,
		action.GetMember: role.Viewer, action.ListMemberChanges: role.Viewer,
		action.ListWebhooks: role.Administrator, action.PutWebhook: role.Administrator,
		action.DeleteWebhook: role.Administrator, action.TestWebhook: role.Administrator,
	}
	for a, least := range maAndDA {
		p[a] = Rule{Access: least, Roles: map[Role]Decision{RoleOwner: NoDirectory, RoleManagement: Allow, RoleDelegated: Allow}}
	}
	return p
}()

// Decide is the policy table's cell for an account role and an access role
// (Deny for an action the table does not know).
func Decide(act action.Action, r Role, a role.Access) Decision {
	rule, ok := Policy[act]
	if !ok {
		return Deny
	}
	d := rule.Roles[r]
	if d == Allow && !a.AtLeast(rule.Access) {
		return DenyAccess
	}
	return d
}

// Allowed lists the actions a person with access role a of an account with
// role r may call now, in Actions order: describe-setup's AllowedActions.
func Allowed(r Role, a role.Access) []action.Action {
	out := []action.Action{}
	for _, act := range Actions() {
		if Decide(act, r, a) == Allow {
			out = append(out, act)
		}
	}
	return out
}

// Actions lists every action of the policy table in a stable order.
func Actions() []action.Action {
	out := make([]action.Action, 0, len(Policy))
	for a := range Policy {
		out = append(out, a)
	}
	slices.Sort(out)
	return out
}

// Subject is a caller with the role the directory gives its account and,
// once authorized, the person with their access role.
type Subject struct {
	AccountID string
	Role      Role
	Directory *directory.Directory // nil before step 1

	UserID, UserName string      // the person (role.Person); set by Authorize
	Access           role.Access // the person's access role; set by Authorize when the account may act
}

// Person is the person of the subject.
func (s Subject) Person() role.Person {
	return role.Person{AccountID: s.AccountID, UserID: s.UserID, UserName: s.UserName}
}

// Scoped is a subject acting in its directory: its Directory is always set.
// Every action but describe-setup and enable-directory is allowed only to
// roles that have a directory (management account, delegated administrator).
type Scoped struct {
	AccountID string
	Role      Role
	Directory directory.Directory
}

// Scoped returns s acting in its directory; ok is false when s has none
// (the owner before step 1, or an account outside the directory).
func (s Subject) Scoped() (_ Scoped, ok bool) {
	if s.Directory == nil {
		return Scoped{}, false
	}
	return Scoped{AccountID: s.AccountID, Role: s.Role, Directory: *s.Directory}, true
}

// Directory is what role resolution reads from Resource Directory.
type Directory interface {
	GetDirectory(ctx context.Context) (directory.Directory, error)
	ListDelegatedAdmins(ctx context.Context) ([]directory.DelegatedAdmin, error)
	ListAccounts(ctx context.Context) ([]directory.Account, error)
}

// Checker resolves roles with a short per-instance cache and applies Policy.
type Checker struct {
	dir   Directory
	owner string
	ttl   time.Duration
	now   func() time.Time

	mu     sync.Mutex
	gen    uint64 // bumped by Invalidate so a resolution racing with it is not cached
	cache  map[string]cached
	grants map[string]grantSet // by directory ID (people.go)
	people People

	// The shared directory generation: when the store's
	// number moves, every cached answer goes. It is read at most once per
	// genMaxAge per instance, so a role change made anywhere reaches this
	// instance within genMaxAge.
	gens      Generations
	storeGen  int64
	genReadAt time.Time
}

// Generations is the store's directory generation (store.Generations).
type Generations interface {
	Generation(ctx context.Context) (int64, error)
}

// genMaxAge is how old a generation answer may be when reused.
const genMaxAge = time.Second

// syncGeneration drops the cache when the store's generation moved. It
// reads the store at most once per genMaxAge.
func (c *Checker) syncGeneration(ctx context.Context, now time.Time) error {
	c.mu.Lock()
	fresh := !c.genReadAt.IsZero() && now.Sub(c.genReadAt) < genMaxAge && !now.Before(c.genReadAt)
	c.mu.Unlock()
	if fresh {
		return nil
	}
	g, err := c.gens.Generation(ctx)
	if err != nil {
		return fmt.Errorf("resolve role: directory generation: %w", err)
	}
	c.mu.Lock()
	if g != c.storeGen {
		c.storeGen = g
		c.gen++
		clear(c.cache)
		clear(c.grants)
	}
	c.genReadAt = now
	c.mu.Unlock()
	return nil
}

type cached struct {
	subject Subject
	expires time.Time
}

// maxCached bounds memory; a warm instance rarely sees more than a handful of callers.
const maxCached = 4096

// Option configures a Checker.
type Option func(*Checker)

// WithClock makes the Checker tell time with now instead of time.Now.
func WithClock(now func() time.Time) Option { return func(c *Checker) { c.now = now } }

// NewChecker builds a Checker. owner is the deployment's account (FC_ACCOUNT_ID
// or OWNER_ACCOUNT_ID); ttl 0 disables caching. The cache follows gens, the
// store's directory generation: a change of roles made by any instance (or
// announced by an event) reaches this one within a second instead of after
// the cache TTL.
func NewChecker(dir Directory, gens Generations, owner string, ttl time.Duration, opts ...Option) *Checker {
	c := &Checker{dir: dir, gens: gens, owner: owner, ttl: ttl, now: time.Now, cache: map[string]cached{}, grants: map[string]grantSet{}}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Invalidate forgets every cached role: after a directory change made here
// (enable, delegated admin changes) or announced by a directory event.
func (c *Checker) Invalidate() {
	c.mu.Lock()
	c.gen++
	clear(c.cache)
	clear(c.grants)
	c.mu.Unlock()
}

// Authorize resolves the role of p's account and p's access role, and
// applies the policy for act. It returns the Subject when allowed and an
// *apperr.Error otherwise.
func (c *Checker) Authorize(ctx context.Context, p role.Person, act action.Action) (Subject, error) {
	rule, ok := Policy[act]
	if !ok {
		return Subject{}, apperr.Internal(fmt.Errorf("rolecheck: action %q is not in the policy table", act))
	}
	s, err := c.Resolve(ctx, p.AccountID)
	if err != nil {
		return Subject{}, err
	}
	s.UserID, s.UserName = p.UserID, p.UserName
	switch rule.Roles[s.Role] {
	case Allow:
	case NoDirectory:
		return s, apperr.NotFound(apperr.CodeNoDirectory,
			"No resource directory is enabled yet; complete step 1 (enable-directory) before %s.", act)
	case InDirectory:
		return s, apperr.Conflict(apperr.CodeDirectoryExists,
			"Account %s already belongs to resource directory %s as %s; only its management account can enable it.",
			p.AccountID, s.Directory.ID, s.Role)
	default:
		return s, apperr.Forbidden("Role %s of account %s may not call %s.", describe(s.Role), p.AccountID, act)
	}
	if s.Access, err = c.access(ctx, s, p); err != nil {
		return Subject{}, err
	}
	if !s.Access.AtLeast(rule.Access) {
		return s, apperr.New(apperr.KindForbidden, apperr.CodeForbiddenAccess,
			"%s has access role %s, which may not call %s (it needs %s). %s",
			p.Describe(), s.Access, act, rule.Access, whoGrants(s))
	}
	return s, nil
}

func describe(r Role) string {
	if r == RoleNone {
		return "none (the account is not in this deployment's resource directory)"
	}
	return string(r)
}

// Resolve returns the caller's role, from the cache when fresh.
func (c *Checker) Resolve(ctx context.Context, accountID string) (Subject, error) {
	now := c.now()
	if c.ttl > 0 {
		if err := c.syncGeneration(ctx, now); err != nil {
			return Subject{}, err
		}
	}
	c.mu.Lock()
	e, hit := c.cache[accountID]
	gen := c.gen
	c.mu.Unlock()
	if hit && now.Before(e.expires) {
		return e.subject, nil
	}
	s, err := c.resolve(ctx, accountID)
	if err != nil {
		return Subject{}, err
	}
	if c.ttl > 0 {
		c.mu.Lock()
		if c.gen == gen {
			if len(c.cache) >= maxCached {
				for k, v := range c.cache {
					if !now.Before(v.expires) {
						delete(c.cache, k)
					}
				}
				if len(c.cache) >= maxCached {
					clear(c.cache)
				}
			}
			c.cache[accountID] = cached{subject: s, expires: now.Add(c.ttl)}
		}
		c.mu.Unlock()
	}
	return s, nil
}

// resolve asks the directory: GetDirectory, then ListDelegatedAdmins, and
// ListAccounts only for a caller that is neither MA nor DA.
func (c *Checker) resolve(ctx context.Context, accountID string) (Subject, error) {
	s := Subject{AccountID: accountID, Role: RoleNone}
	d, err := c.dir.GetDirectory(ctx)
	if apperr.IsCode(err, apperr.CodeNoDirectory) {
		if accountID == c.owner {
			s.Role = RoleOwner
		}
		return s, nil
	}
	if err != nil {
		return Subject{}, fmt.Errorf("resolve role: %w", err)
	}
	s.Directory = &d
	if accountID == d.ManagementAccountID {
		s.Role = RoleManagement
		return s, nil
	}
	das, err := c.dir.ListDelegatedAdmins(ctx)
	if err != nil {
		return Subject{}, fmt.Errorf("resolve role: %w", err)
	}
	for _, da := range das {
		if da.AccountID == accountID {
			s.Role = RoleDelegated
			return s, nil
		}
	}
	accounts, err := c.dir.ListAccounts(ctx)
	if err != nil {
		return Subject{}, fmt.Errorf("resolve role: %w", err)
	}
	for _, a := range accounts {
		if a.AccountID == accountID {
			s.Role = RoleMember
			return s, nil
		}
	}
	return s, nil
}
