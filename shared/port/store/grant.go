package store

import (
	"context"
	"time"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/role"
)

// Grant is the access role one person has in a directory (docs/API.md
// "People"), keyed by (DirectoryID, AccountID, UserID).
type Grant struct {
	DirectoryID string
	AccountID   string // the person's account: the MA or the DA
	UserID      string // the person's UID
	AccessRole  role.Access
	GrantedBy   string    // UserID of the administrator who made the latest change
	GrantTime   time.Time // time of the latest change
	Version     int64     // 1 when created, +1 on every change of AccessRole
	// UserName and LastSignInTime come from the person's requests
	// (TouchGrant), refreshed at most hourly; they never move Version.
	UserName       string
	LastSignInTime time.Time
}

// Grants keeps the access grants. A change of a grant (PutGrant,
// DeleteGrant) is written in one unit with its audit record and a move of
// the directory generation, so every warm instance drops its cached grants
// within a second (docs/DESIGN.md "People and access").
type Grants interface {
	// ListGrants returns every grant of the directory, ordered by
	// (AccountID, UserID): one read.
	ListGrants(ctx context.Context, dirID string) ([]Grant, error)
	// GetGrant returns one grant, or apperr NotFound (EntityNotExists.Grant).
	GetGrant(ctx context.Context, dirID, accountID, userID string) (Grant, error)
	// PutGrant stores g's AccessRole, GrantedBy and GrantTime as version
	// expectVersion+1 if the stored version is expectVersion (0: no grant
	// yet), else apperr Conflict (Conflict.Version). UserName and
	// LastSignInTime of a stored grant are kept (g's are ignored).
	PutGrant(ctx context.Context, dirID string, g Grant, expectVersion int64, record AuditEvent) error
	// DeleteGrant removes the grant if its version is expectVersion
	// (apperr NotFound when there is none, Conflict when the version
	// differs).
	DeleteGrant(ctx context.Context, dirID, accountID, userID string, expectVersion int64, record AuditEvent) error
	// TouchGrant records a request of the person: UserName and
	// LastSignInTime = at, only if the grant exists and its LastSignInTime
	// is before staleBefore, so that instances racing to touch the same
	// person write once. It does not move the generation; nothing to
	// touch is not an error.
	TouchGrant(ctx context.Context, dirID, accountID, userID, userName string, at, staleBefore time.Time) error
}

// CheckGrantKey validates the key of a grant.
func CheckGrantKey(dirID, accountID, userID string) error {
	if err := CheckMemberKey(dirID, accountID); err != nil {
		return err
	}
	if !role.IsUserID(userID) {
		return apperr.Invalid("UserId", "UserId must be 1 to %d digits.", role.MaxUserIDLen)
	}
	return nil
}

// GrantNotFound is the NotFound error for a missing grant.
func GrantNotFound(accountID, userID string) error {
	return apperr.NotFound(apperr.CodeGrantNotFound, "Person %s of account %s has no grant.", userID, accountID)
}

// GrantConflict is the Conflict of a stale grant version.
func GrantConflict(accountID, userID string, want, got int64) error {
	return apperr.Conflict(apperr.CodeVersionConflict,
		"The grant of person %s of account %s is at version %d, not %d: it was changed meanwhile. Read it again and retry.",
		userID, accountID, got, want)
}
