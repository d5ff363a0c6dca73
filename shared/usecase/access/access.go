// Package access holds the use cases of the people's access grants:
// list-access, grant-access and revoke-access (docs/API.md "People"). Who
// may call them is the policy table's business (package rolecheck); this
// package enforces what a grant may be: only for people of the management
// account or the delegated administrator, a delegated administrator's
// administrators only for its own people, nobody for themselves, and never
// over a permanent administrator.
package access

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/pagetoken"
	"github.com/sase-multiaccount/backend/shared/port/directory"
	"github.com/sase-multiaccount/backend/shared/port/store"
	"github.com/sase-multiaccount/backend/shared/role"
	"github.com/sase-multiaccount/backend/shared/usecase/audit"
)

// Store is what the grants use cases need from the store (store.Grants).
type Store interface {
	ListGrants(ctx context.Context, dirID string) ([]store.Grant, error)
	GetGrant(ctx context.Context, dirID, accountID, userID string) (store.Grant, error)
	PutGrant(ctx context.Context, dirID string, g store.Grant, expectVersion int64, record store.AuditEvent) error
	DeleteGrant(ctx context.Context, dirID, accountID, userID string, expectVersion int64, record store.AuditEvent) error
}

// Directory names the delegated administrator (directory.Service).
type Directory interface {
	ListDelegatedAdmins(ctx context.Context) ([]directory.DelegatedAdmin, error)
}

// Auditor makes the record a grant change is written with (audit.Recorder).
type Auditor interface {
	Event(dirID string, actor audit.Actor, e audit.Entry) store.AuditEvent
}

// Service runs list-access, grant-access and revoke-access.
type Service struct {
	Store     Store
	Directory Directory
	Audit     Auditor
	Tokens    *pagetoken.Codec
	Now       func() time.Time
	// Permanent reports whether a person is an Administrator no grant
	// changes (a root identity, SASE_ADMINISTRATORS) given their account's
	// role (rolecheck.Checker.Permanent).
	Permanent func(p role.Person, r role.Account) bool
	// Changed drops this instance's cached grants after a change; the store
	// moved the directory generation with the change, so the other
	// instances drop theirs within a second.
	Changed func()
}

// Scope is an administrator acting in their directory.
type Scope struct {
	Directory directory.Directory
	Role      role.Account // the caller's account: management account or delegated administrator
	Actor     audit.Actor  // AccountID and UserID are the caller's person
}

// Grant is a grant as the API shows it.
type Grant struct {
	AccountID      string `json:"AccountId"`
	UserID         string `json:"UserId"`
	UserName       string
	AccessRole     role.Access
	GrantedBy      string
	GrantTime      string
	LastSignInTime string
	Version        int64
}

func view(g store.Grant) Grant {
	return Grant{AccountID: g.AccountID, UserID: g.UserID, UserName: g.UserName, AccessRole: g.AccessRole,
		GrantedBy: g.GrantedBy, GrantTime: audit.FormatTime(g.GrantTime), LastSignInTime: audit.FormatTime(g.LastSignInTime),
		Version: g.Version}
}

// target is the account a grant is for, checked against the directory and
// the caller: it must be the management account or the delegated
// administrator, and a delegated administrator's people act only on its
// own. It returns the account's role.
func (s *Service) target(ctx context.Context, sc Scope, accountID string) (role.Account, error) {
	ma := sc.Directory.ManagementAccountID
	if sc.Role == role.Delegated {
		switch accountID {
		case sc.Actor.AccountID:
			return role.Delegated, nil
		case ma:
			return "", apperr.New(apperr.KindForbidden, apperr.CodeForbiddenAccess,
				"Administrators of the delegated administrator %s manage the access of its own people only; account %s is the management account, whose Administrators manage its people.",
				sc.Actor.AccountID, ma)
		}
		return "", notManaging(accountID, ma, sc.Actor.AccountID)
	}
	if accountID == ma {
		return role.Management, nil
	}
	das, err := s.Directory.ListDelegatedAdmins(ctx)
	if err != nil {
		return "", fmt.Errorf("read the delegated administrator: %w", err)
	}
	var da string
	for _, d := range das {
		if d.AccountID == accountID {
			return role.Delegated, nil
		}
		da = d.AccountID
	}
	return "", notManaging(accountID, ma, da)
}

func notManaging(accountID, ma, da string) error {
	which := "the management account " + ma
	if da != "" {
		which += " or the delegated administrator " + da
	}
	return apperr.Invalid("AccountId",
		"Account %s is neither the management account nor the delegated administrator: only their people sign in to SASE with access roles. Use %s.",
		accountID, which)
}

// checkPerson refuses a grant change for the caller themselves and for a
// permanent administrator.
func (s *Service) checkPerson(sc Scope, p role.Person, r role.Account) error {
	if p.AccountID == sc.Actor.AccountID && p.UserID == sc.Actor.UserID {
		return apperr.Invalid("UserId", "Nobody changes their own grant: ask another Administrator.")
	}
	if s.Permanent(p, r) {
		return apperr.Conflict(apperr.CodePermanentAdmin,
			"%s is always an Administrator (the account's root identity, or listed in SASE_ADMINISTRATORS); no grant changes that.", p.Describe())
	}
	return nil
}

// maxAttempts bounds the retries of a change made without Version that
// meets a concurrent change.
const maxAttempts = 3

// retry runs change until it does not meet a concurrent change, at most
// maxAttempts times; pinned (a Version given) never retries.
func retry(pinned bool, change func() error) error {
	var err error
	for range maxAttempts {
		if err = change(); pinned || !apperr.IsCode(err, apperr.CodeVersionConflict) {
			return err
		}
	}
	return err
}

func (s *Service) changed() {
	if s.Changed != nil {
		s.Changed()
	}
}

// get is the stored grant, or the zero grant (Version 0) when there is none.
func (s *Service) get(ctx context.Context, dirID string, p role.Person) (store.Grant, bool, error) {
	g, err := s.Store.GetGrant(ctx, dirID, p.AccountID, p.UserID)
	var ae *apperr.Error
	switch {
	case errors.As(err, &ae) && ae.Code == apperr.CodeGrantNotFound:
		return store.Grant{}, false, nil
	case err != nil:
		return store.Grant{}, false, fmt.Errorf("read grant: %w", err)
	}
	return g, true, nil
}
