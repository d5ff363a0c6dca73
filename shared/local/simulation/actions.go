package simulation

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/port/directory"
)

// The methods in this file are local-only: what happens in Resource Directory
// outside the directory.Service port (an invitee answering, accounts leaving or
// being renamed, other principals' delegated administrators, reads by ID).

// AcceptInvitation is the invitee accepting: its account joins the
// directory under displayName (the target entity when empty).
func (s *Sim) AcceptInvitation(ctx context.Context, invitationID, displayName string) (directory.Account, error) {
	if displayName != "" {
		if err := checkDisplayName("DisplayName", displayName); err != nil {
			return directory.Account{}, err
		}
	}
	_, a, err := s.answer(ctx, invitationID, directory.StatusAccepted, "AcceptHandshake", displayName)
	return a, err
}

// DeclineInvitation is the invitee declining.
func (s *Sim) DeclineInvitation(ctx context.Context, invitationID string) error {
	_, _, err := s.answer(ctx, invitationID, directory.StatusDeclined, "DeclineHandshake", "")
	return err
}

// RemoveAccount removes a member (RemoveCloudAccount); it becomes a
// standalone account again and may be invited anew.
func (s *Sim) RemoveAccount(ctx context.Context, accountID string) error {
	if err := checkAccountID(accountID); err != nil {
		return err
	}
	return s.updateDir(ctx, func(st *state, now time.Time) (change, error) {
		if accountID == st.dir.ManagementAccountID {
			return change{}, apperr.Invalid("AccountId",
				"Account %s is the management account; it cannot be removed from its own Resource Directory.", accountID)
		}
		if st.accounts[accountID] == nil {
			return change{}, errAccountNotInDirectory(accountID)
		}
		if p := st.delegatedPrincipal(accountID); p != "" {
			return change{}, apperr.Conflict(apperr.CodeDenyTrustedService,
				"Account %s is the delegated administrator of the trusted service %s. Deregister it before removing it from the Resource Directory.",
				accountID, p)
		}
		st.removeAccount(accountID)
		return change{changed: true, event: newEvent(st.dir.ManagementAccountID, "RemoveCloudAccount",
			map[string]string{"AccountId": accountID}, now)}, nil
	})
}

// RenameAccount changes an account's display name (UpdateAccount
// NewDisplayName). Renaming to the current name changes nothing and
// publishes nothing.
func (s *Sim) RenameAccount(ctx context.Context, accountID, displayName string) (directory.Account, error) {
	if err := checkAccountID(accountID); err != nil {
		return directory.Account{}, err
	}
	if err := checkDisplayName("NewDisplayName", displayName); err != nil {
		return directory.Account{}, err
	}
	var out directory.Account
	err := s.updateDir(ctx, func(st *state, now time.Time) (change, error) {
		a := st.accounts[accountID]
		if a == nil {
			return change{}, errAccountNotInDirectory(accountID)
		}
		if a.DisplayName == displayName {
			out = a.view()
			return change{}, nil
		}
		st.mark(kindAccount, a.ID)
		a.DisplayName = displayName
		a.ModifyTime = now
		out = a.view()
		return change{changed: true, event: newEvent(st.dir.ManagementAccountID, "UpdateAccount",
			map[string]string{"AccountId": accountID, "NewDisplayName": displayName}, now)}, nil
	})
	return out, err
}

// DestroyDirectory disables the directory. Like RD it refuses while any
// account besides the MA remains; invitations go with the directory.
func (s *Sim) DestroyDirectory(ctx context.Context) error {
	return s.updateDir(ctx, func(st *state, now time.Time) (change, error) {
		if n := len(st.accounts) - 1; n > 0 {
			return change{}, apperr.Conflict(apperr.CodeDirectoryNotEmpty,
				"The Resource Directory still has %d member account(s). Remove them before disabling it.", n)
		}
		ma := st.dir.ManagementAccountID
		*st = *newState()
		st.mark(kindReset, "")
		return change{changed: true, event: newEvent(ma, "DestroyResourceDirectory", nil, now)}, nil
	})
}

// SeedAccounts adds accounts directly, all or none, in one write. It is a
// fixture for tests and benchmarks, not an RD action, so it publishes no
// event. Empty fields default: DisplayName to the UID, JoinTime to now,
// JoinMethod to "invited", FolderID to the root folder.
func (s *Sim) SeedAccounts(ctx context.Context, accounts []directory.Account) error {
	for _, a := range accounts {
		if err := checkAccountID(a.AccountID); err != nil {
			return err
		}
		if a.DisplayName != "" {
			if err := checkDisplayName("DisplayName", a.DisplayName); err != nil {
				return err
			}
		}
		if a.JoinMethod != "" && a.JoinMethod != "invited" && a.JoinMethod != "created" {
			return apperr.Invalid("JoinMethod", "Join method %q is not supported; use \"invited\" or \"created\".", a.JoinMethod)
		}
	}
	return s.updateDir(ctx, func(st *state, now time.Time) (change, error) {
		seen := make(map[string]bool, len(accounts))
		for _, a := range accounts {
			if seen[a.AccountID] || st.accounts[a.AccountID] != nil {
				return change{}, apperr.Conflict(apperr.CodeAlreadyInDirectory,
					"Account %s is already in the Resource Directory (or listed twice).", a.AccountID)
			}
			seen[a.AccountID] = true
			if a.FolderID != "" && !st.folderExists(a.FolderID) {
				return change{}, errFolderNotFound(a.FolderID)
			}
		}
		if len(st.accounts)+len(accounts) > s.opts.MaxAccounts {
			return change{}, apperr.Conflict(apperr.CodeLimitExceeded,
				"Adding %d accounts to the %d already in the Resource Directory would exceed its maximum of %d.",
				len(accounts), len(st.accounts), s.opts.MaxAccounts)
		}
		if len(accounts) == 0 {
			return change{}, nil
		}
		added := make([]*account, len(accounts))
		for i, in := range accounts {
			a := &account{ID: in.AccountID, DisplayName: in.DisplayName, JoinTime: in.JoinTime.UTC().Truncate(time.Millisecond),
				JoinMethod: in.JoinMethod, FolderID: st.dir.RootFolderID}
			if in.FolderID != "" {
				a.FolderID = in.FolderID
			}
			if a.DisplayName == "" {
				a.DisplayName = a.ID
			}
			if in.JoinTime.IsZero() {
				a.JoinTime = now
			}
			a.ModifyTime = a.JoinTime
			if a.JoinMethod == "" {
				a.JoinMethod = "invited"
			}
			st.accounts[a.ID] = a
			st.mark(kindAccount, a.ID)
			added[i] = a
		}
		// One sort for the whole batch rather than n sorted inserts.
		st.order = append(st.order, added...)
		slices.SortFunc(st.order, accountLess)
		return change{changed: true}, nil
	})
}

// ListDelegatedAdminsFor lists the delegated administrators of principal,
// sorted by enabled time and then account ID.
func (s *Sim) ListDelegatedAdminsFor(_ context.Context, principal string) ([]directory.DelegatedAdmin, error) {
	if principal == "" {
		return nil, apperr.Missing("ServicePrincipal")
	}
	var out []directory.DelegatedAdmin
	err := s.readDir(func(st *state, _ time.Time) error {
		ds := st.delegates[principal]
		out = make([]directory.DelegatedAdmin, 0, len(ds))
		for _, d := range ds {
			da := directory.DelegatedAdmin{AccountID: d.AccountID, EnabledTime: d.EnabledTime}
			if a := st.accounts[d.AccountID]; a != nil {
				da.DisplayName = a.DisplayName
			}
			out = append(out, da)
		}
		slices.SortFunc(out, func(a, b directory.DelegatedAdmin) int {
			if c := a.EnabledTime.Compare(b.EnabledTime); c != 0 {
				return c
			}
			return strings.Compare(a.AccountID, b.AccountID)
		})
		return nil
	})
	return out, err
}

// RegisterDelegatedAdminFor registers accountID for principal. Registering
// the account that already holds the role is a no-op.
func (s *Sim) RegisterDelegatedAdminFor(ctx context.Context, accountID, principal string) error {
	if err := checkAccountID(accountID); err != nil {
		return err
	}
	if principal == "" {
		return apperr.Missing("ServicePrincipal")
	}
	return s.updateDir(ctx, func(st *state, now time.Time) (change, error) {
		if accountID == st.dir.ManagementAccountID {
			return change{}, apperr.Invalid("AccountId",
				"Account %s is the management account; choose a member account as delegated administrator.", accountID)
		}
		if st.accounts[accountID] == nil {
			return change{}, errAccountNotInDirectory(accountID)
		}
		if st.isDelegate(principal, accountID) {
			return change{}, nil
		}
		if ds := st.delegates[principal]; len(ds) >= s.opts.MaxDelegatedAdmins {
			holders := make([]string, len(ds))
			for i, d := range ds {
				holders[i] = d.AccountID
			}
			return change{}, apperr.Conflict(apperr.CodeDelegatedExists,
				"Account %s is already the delegated administrator for %s (at most %d allowed). Deregister it first.",
				strings.Join(holders, ", "), principal, s.opts.MaxDelegatedAdmins)
		}
		st.mark(kindDelegates, principal)
		st.delegates[principal] = append(st.delegates[principal], delegate{AccountID: accountID, EnabledTime: now})
		return change{changed: true, event: newEvent(st.dir.ManagementAccountID, "RegisterDelegatedAdministrator",
			map[string]string{"AccountId": accountID, "ServicePrincipal": principal}, now)}, nil
	})
}

// DeregisterDelegatedAdminFor removes accountID as delegated administrator
// of principal.
func (s *Sim) DeregisterDelegatedAdminFor(ctx context.Context, accountID, principal string) error {
	if err := checkAccountID(accountID); err != nil {
		return err
	}
	if principal == "" {
		return apperr.Missing("ServicePrincipal")
	}
	return s.updateDir(ctx, func(st *state, now time.Time) (change, error) {
		ds := st.delegates[principal]
		i := slices.IndexFunc(ds, func(d delegate) bool { return d.AccountID == accountID })
		if i < 0 {
			return change{}, apperr.NotFound(apperr.CodeDelegatedNotFound,
				"Account %s is not a delegated administrator for %s.", accountID, principal)
		}
		st.mark(kindDelegates, principal)
		ds = slices.Delete(slices.Clone(ds), i, i+1)
		if len(ds) == 0 {
			delete(st.delegates, principal)
		} else {
			st.delegates[principal] = ds
		}
		return change{changed: true, event: newEvent(st.dir.ManagementAccountID, "DeregisterDelegatedAdministrator",
			map[string]string{"AccountId": accountID, "ServicePrincipal": principal}, now)}, nil
	})
}

// GetAccount returns an account of the directory.
func (s *Sim) GetAccount(_ context.Context, accountID string) (directory.Account, error) {
	if err := checkAccountID(accountID); err != nil {
		return directory.Account{}, err
	}
	var out directory.Account
	err := s.readDir(func(st *state, _ time.Time) error {
		a := st.accounts[accountID]
		if a == nil {
			return errAccountNotInDirectory(accountID)
		}
		out = a.view()
		return nil
	})
	return out, err
}

// GetInvitation returns one invitation (GetHandshake).
func (s *Sim) GetInvitation(_ context.Context, id string) (directory.Invitation, error) {
	if id == "" {
		return directory.Invitation{}, apperr.Missing("InvitationId")
	}
	var out directory.Invitation
	err := s.readDir(func(st *state, now time.Time) error {
		inv := st.invByID[id]
		if inv == nil {
			return errInvitationNotFound(id)
		}
		out = inv.view(now)
		return nil
	})
	return out, err
}
