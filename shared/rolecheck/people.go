package rolecheck

import (
	"context"
	"fmt"
	"time"

	"github.com/sase-multiaccount/backend/shared/port/store"
	"github.com/sase-multiaccount/backend/shared/role"
)

// Grants is what the access check reads from the store (store.Grants).
type Grants interface {
	ListGrants(ctx context.Context, dirID string) ([]store.Grant, error)
	TouchGrant(ctx context.Context, dirID, accountID, userID, userName string, at, staleBefore time.Time) error
}

// People says who has which access role beyond the root identities
// (docs/API.md "People").
type People struct {
	Grants         Grants        // the grants; nil: nobody has one
	Administrators []role.Person // SASE_ADMINISTRATORS: always Administrator
	NewUser        role.Access   // NEW_USER_ACCESS: everyone else; "" is None
	// Logf receives what a request cannot report: a failed refresh of a
	// person's name and last sign-in. Nil discards it.
	Logf func(format string, args ...any)
}

// TouchEvery is how stale a grant's LastSignInTime may get before a request
// of its person refreshes it (and UserName): at most one write per person
// per hour, never one per request.
const TouchEvery = time.Hour

// UsePeople sets who has which access role. Without it every person but a
// root identity has access role None.
func (c *Checker) UsePeople(p People) {
	if p.NewUser == "" {
		p.NewUser = role.NoAccess
	}
	if p.Logf == nil {
		p.Logf = func(string, ...any) {}
	}
	c.mu.Lock()
	c.people = p
	clear(c.grants)
	c.mu.Unlock()
}

// Permanent reports whether p is an Administrator that no grant changes:
// a root identity, or a SASE_ADMINISTRATORS entry of an account whose
// role counts (management account, delegated administrator, or the owner
// before step 1).
func (c *Checker) Permanent(p role.Person, r Role) bool {
	if p.Root() {
		return true
	}
	if r != RoleOwner && r != RoleManagement && r != RoleDelegated {
		return false
	}
	c.mu.Lock()
	admins := c.people.Administrators
	c.mu.Unlock()
	for _, a := range admins {
		if a.AccountID == p.AccountID && a.UserID == p.UserID {
			return true
		}
	}
	return false
}

// access is p's access role in s: permanent Administrator, else the
// grant (only people of the MA and the DA have grants), else NEW_USER_ACCESS.
func (c *Checker) access(ctx context.Context, s Subject, p role.Person) (role.Access, error) {
	if c.Permanent(p, s.Role) {
		return role.Administrator, nil
	}
	c.mu.Lock()
	people := c.people
	c.mu.Unlock()
	if people.NewUser == "" {
		people.NewUser = role.NoAccess
	}
	if people.Grants == nil || s.Directory == nil || (s.Role != RoleManagement && s.Role != RoleDelegated) {
		return people.NewUser, nil
	}
	g, ok, err := c.grant(ctx, people, s.Directory.ID, p)
	if err != nil {
		return "", fmt.Errorf("resolve access role: %w", err)
	}
	if !ok {
		return people.NewUser, nil
	}
	return g.AccessRole, nil
}

// grantSet is a directory's grants as of a read, by person (role.Person.Key).
type grantSet struct {
	byPerson map[string]store.Grant
	expires  time.Time
}

// grant is p's grant in the directory, from this instance's copy of the
// directory's grants when it is fresh (the directory generation and the TTL
// drop it, like cached roles): on a warm instance no store call.
func (c *Checker) grant(ctx context.Context, people People, dirID string, p role.Person) (store.Grant, bool, error) {
	now := c.now()
	c.mu.Lock()
	set, hit := c.grants[dirID]
	gen := c.gen
	c.mu.Unlock()
	if !hit || !now.Before(set.expires) {
		list, err := people.Grants.ListGrants(ctx, dirID)
		if err != nil {
			return store.Grant{}, false, err
		}
		set = grantSet{byPerson: make(map[string]store.Grant, len(list)), expires: now.Add(c.ttl)}
		for _, g := range list {
			set.byPerson[role.Person{AccountID: g.AccountID, UserID: g.UserID}.Key()] = g
		}
		if c.ttl > 0 {
			c.mu.Lock()
			if c.gen == gen {
				c.grants[dirID] = set
			}
			c.mu.Unlock()
		}
	}
	c.mu.Lock() // touch updates the cached copy in place
	g, ok := set.byPerson[p.Key()]
	c.mu.Unlock()
	if ok && now.Sub(g.LastSignInTime) >= TouchEvery {
		c.touch(ctx, people, dirID, p, now)
	}
	return g, ok, nil
}

// touch records p's request in their grant (name and time), and in this
// instance's copy first, so that the instance tries at most once an hour
// even when the write fails. A failure is logged: it changes no decision.
func (c *Checker) touch(ctx context.Context, people People, dirID string, p role.Person, now time.Time) {
	c.mu.Lock()
	if set, ok := c.grants[dirID]; ok {
		if g, ok := set.byPerson[p.Key()]; ok {
			g.UserName, g.LastSignInTime = p.UserName, now
			set.byPerson[p.Key()] = g
		}
	}
	c.mu.Unlock()
	if err := people.Grants.TouchGrant(ctx, dirID, p.AccountID, p.UserID, p.UserName, now, now.Add(-TouchEvery)); err != nil {
		people.Logf("rolecheck: could not record the sign-in of %s in directory %s: %v", p.Key(), dirID, err)
	}
}

// whoGrants says who can give the subject's person more access.
func whoGrants(s Subject) string {
	switch {
	case s.Directory == nil:
		return fmt.Sprintf("Ask the root identity of account %s (or a person in SASE_ADMINISTRATORS) for more.", s.AccountID)
	case s.Role == RoleDelegated:
		return fmt.Sprintf("An Administrator of account %s (the delegated administrator) or of the management account %s can grant more.",
			s.AccountID, s.Directory.ManagementAccountID)
	default:
		return fmt.Sprintf("An Administrator of the management account %s can grant more.", s.Directory.ManagementAccountID)
	}
}
