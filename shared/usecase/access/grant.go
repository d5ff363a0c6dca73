package access

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/sase-multiaccount/backend/shared/action"
	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/port/store"
	"github.com/sase-multiaccount/backend/shared/role"
	"github.com/sase-multiaccount/backend/shared/usecase/audit"
	"github.com/sase-multiaccount/backend/shared/validate"
)

// GrantInput is the body of grant-access.
type GrantInput struct {
	AccountID  string `json:"AccountId"`
	UserID     string `json:"UserId"`
	AccessRole string
	Version    *int64
}

// GrantOutput is the answer of grant-access.
type GrantOutput struct{ Grant Grant }

// RevokeInput is the body of revoke-access.
type RevokeInput struct {
	AccountID string `json:"AccountId"`
	UserID    string `json:"UserId"`
}

// RevokeOutput is the answer of revoke-access: {}.
type RevokeOutput struct{}

// person checks the AccountId and UserId of a request and the account's
// place: it returns the person and their account's role.
func (s *Service) person(ctx context.Context, sc Scope, accountID, userID string) (role.Person, role.Account, error) {
	if err := validate.AccountID("AccountId", accountID); err != nil {
		return role.Person{}, "", err
	}
	if userID == "" {
		return role.Person{}, "", apperr.Missing("UserId")
	}
	if !role.IsUserID(userID) {
		return role.Person{}, "", apperr.Invalid("UserId", "UserId %q is not a UID: it must be 1 to %d digits.", validate.Clip(userID), role.MaxUserIDLen)
	}
	r, err := s.target(ctx, sc, accountID)
	if err != nil {
		return role.Person{}, "", err
	}
	p := role.Person{AccountID: accountID, UserID: userID}
	return p, r, s.checkPerson(sc, p, r)
}

func grantable(s string) (role.Access, error) {
	if s == "" {
		return "", apperr.Missing("AccessRole")
	}
	if a := role.Access(s); slices.Contains(role.Grantable, a) {
		return a, nil
	}
	return "", apperr.Invalid("AccessRole", "AccessRole %q is not Administrator, Operator or Viewer (revoke-access takes a grant away).", validate.Clip(s))
}

// Grant is grant-access: it creates or changes one grant, with its audit
// record, optionally only at Version (0: only if there is none yet).
func (s *Service) Grant(ctx context.Context, sc Scope, in GrantInput) (GrantOutput, error) {
	p, _, err := s.person(ctx, sc, in.AccountID, in.UserID)
	if err != nil {
		return GrantOutput{}, err
	}
	access, err := grantable(in.AccessRole)
	if err != nil {
		return GrantOutput{}, err
	}
	if in.Version != nil && *in.Version < 0 {
		return GrantOutput{}, apperr.Invalid("Version", "Version %d must be 0 (no grant yet) or more (use the Version list-access returned).", *in.Version)
	}
	var out store.Grant
	err = retry(in.Version != nil, func() (err error) {
		out, err = s.put(ctx, sc, p, access, in.Version)
		return err
	})
	if err != nil {
		return GrantOutput{}, err
	}
	s.changed()
	return GrantOutput{Grant: view(out)}, nil
}

// put is one attempt of Grant: read, check the version, write.
func (s *Service) put(ctx context.Context, sc Scope, p role.Person, access role.Access, version *int64) (store.Grant, error) {
	dirID := sc.Directory.ID
	cur, found, err := s.get(ctx, dirID, p)
	if err != nil {
		return store.Grant{}, err
	}
	if version != nil && *version != cur.Version {
		return store.Grant{}, store.GrantConflict(p.AccountID, p.UserID, *version, cur.Version)
	}
	if found && cur.AccessRole == access {
		return cur, nil // unchanged: same Version, no record
	}
	next := cur
	next.DirectoryID, next.AccountID, next.UserID = dirID, p.AccountID, p.UserID
	next.AccessRole, next.GrantedBy, next.GrantTime, next.Version = access, sc.Actor.UserID, s.Now().UTC().Truncate(time.Millisecond), cur.Version+1
	detail := map[string]string{"AccountId": p.AccountID, "UserId": p.UserID, "AccessRole": string(access), "Version": audit.Itoa(next.Version)}
	if found {
		detail["OldAccessRole"] = string(cur.AccessRole)
	}
	if cur.UserName != "" {
		detail["UserName"] = cur.UserName
	}
	record := s.Audit.Event(dirID, sc.Actor, audit.Entry{Action: action.GrantAccess, Target: p.UserID, Result: "Granted", Detail: detail})
	if err := s.Store.PutGrant(ctx, dirID, next, cur.Version, record); err != nil {
		return store.Grant{}, fmt.Errorf("grant access: %w", err)
	}
	return next, nil
}

// Revoke is revoke-access: it removes one grant, with its audit record.
func (s *Service) Revoke(ctx context.Context, sc Scope, in RevokeInput) (RevokeOutput, error) {
	p, _, err := s.person(ctx, sc, in.AccountID, in.UserID)
	if err != nil {
		return RevokeOutput{}, err
	}
	dirID := sc.Directory.ID
	err = retry(false, func() error {
		cur, found, err := s.get(ctx, dirID, p)
		if err != nil {
			return err
		}
		if !found {
			return store.GrantNotFound(p.AccountID, p.UserID)
		}
		detail := map[string]string{"AccountId": p.AccountID, "UserId": p.UserID, "OldAccessRole": string(cur.AccessRole)}
		if cur.UserName != "" {
			detail["UserName"] = cur.UserName
		}
		record := s.Audit.Event(dirID, sc.Actor, audit.Entry{Action: action.RevokeAccess, Target: p.UserID, Result: "Revoked", Detail: detail})
		if err := s.Store.DeleteGrant(ctx, dirID, p.AccountID, p.UserID, cur.Version, record); err != nil {
			return fmt.Errorf("revoke access: %w", err)
		}
		return nil
	})
	if err != nil {
		return RevokeOutput{}, err
	}
	s.changed()
	return RevokeOutput{}, nil
}
