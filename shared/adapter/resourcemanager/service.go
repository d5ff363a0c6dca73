package resourcemanager

import (
	"context"
	"strings"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	rm "github.com/aliyun/alibaba-cloud-sdk-go/services/resourcemanager"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/port/directory"
)

// RD actions the adapter calls.
const (
	actGetRD           = "GetResourceDirectory"
	actEnable          = "EnableResourceDirectory"
	actListAccounts    = "ListAccounts"
	actGetAccount      = "GetAccount"
	actInvite          = "InviteAccountToResourceDirectory"
	actListHandshakes  = "ListHandshakesForResourceDirectory"
	actGetHandshake    = "GetHandshake"
	actCancelHandshake = "CancelHandshake"
	actListDelegated   = "ListDelegatedAdministrators"
	actRegister        = "RegisterDelegatedAdministrator"
	actDeregister      = "DeregisterDelegatedAdministrator"
)

// GetDirectory calls GetResourceDirectory once.
func (c *Client) GetDirectory(ctx context.Context) (directory.Directory, error) {
	o := op{action: actGetRD}
	var resp *rm.GetResourceDirectoryResponse
	err := c.call(ctx, o, func(rc *rm.Client) (err error) {
		resp, err = rc.GetResourceDirectory(rm.CreateGetResourceDirectoryRequest())
		return err
	})
	if err != nil {
		return directory.Directory{}, fail(o, err)
	}
	if resp.ResourceDirectory.ResourceDirectoryId == "" {
		return directory.Directory{}, fail(o, errEmpty(o.action))
	}
	return toDirectory(resp.ResourceDirectory), nil
}

// EnableDirectory calls EnableResourceDirectory (EnableMode=CurrentAccount)
// once: the deployment's own account becomes the management account.
func (c *Client) EnableDirectory(ctx context.Context) (directory.Directory, error) {
	o := op{action: actEnable, write: true}
	var resp *rm.EnableResourceDirectoryResponse
	err := c.call(ctx, o, func(rc *rm.Client) (err error) {
		req := rm.CreateEnableResourceDirectoryRequest()
		req.EnableMode = "CurrentAccount"
		resp, err = rc.EnableResourceDirectory(req)
		return err
	})
	if err != nil {
		switch rdCode(err) {
		case codeRDExists:
			// RD's refusal does not say which directory: one more call names it.
			if d, gerr := c.GetDirectory(ctx); gerr == nil {
				return directory.Directory{}, apperr.Wrap(err, apperr.KindConflict, apperr.CodeDirectoryExists,
					"A resource directory (%s) already exists; its management account is %s.", d.ID, d.ManagementAccountID)
			}
			return directory.Directory{}, apperr.Wrap(err, apperr.KindConflict, apperr.CodeDirectoryExists,
				"This account already has a resource directory.")
		case codeInAnotherRD:
			if d, gerr := c.GetDirectory(ctx); gerr == nil {
				return directory.Directory{}, apperr.Wrap(err, apperr.KindConflict, apperr.CodeDirectoryExists,
					"This account is a member of the resource directory %s (management account %s), so it cannot enable its own. Leave that directory first.",
					d.ID, d.ManagementAccountID)
			}
			return directory.Directory{}, apperr.Wrap(err, apperr.KindConflict, apperr.CodeDirectoryExists,
				"This account is a member of another resource directory, so it cannot enable its own. Leave that directory first.")
		}
		if rerr := enableRefused(err); rerr != nil {
			return directory.Directory{}, rerr
		}
		return directory.Directory{}, fail(o, err)
	}
	if resp.ResourceDirectory.ResourceDirectoryId == "" {
		return directory.Directory{}, fail(o, errEmpty(o.action))
	}
	return toDirectory(resp.ResourceDirectory), nil
}

// ListAccounts calls ListAccounts once per 100 accounts (at least once).
func (c *Client) ListAccounts(ctx context.Context) ([]directory.Account, error) {
	o := op{action: actListAccounts}
	out, err := listAll(func(page int) ([]rm.AccountInListAccounts, int, int, error) {
		var resp *rm.ListAccountsResponse
		err := c.call(ctx, o, func(rc *rm.Client) (err error) {
			req := rm.CreateListAccountsRequest()
			req.PageNumber = requests.NewInteger(page)
			req.PageSize = requests.NewInteger(pageSize)
			resp, err = rc.ListAccounts(req)
			return err
		})
		if err != nil {
			return nil, 0, 0, err
		}
		return resp.Accounts.Account, resp.PageSize, resp.TotalCount, nil
	}, func(a rm.AccountInListAccounts) string { return a.AccountId }, toAccount)
	if err != nil {
		return nil, fail(o, err)
	}
	return out, nil
}

// CountAccounts calls ListAccounts once with a one-account page: its
// TotalCount is the answer.
func (c *Client) CountAccounts(ctx context.Context) (int, error) {
	o := op{action: actListAccounts}
	var resp *rm.ListAccountsResponse
	err := c.call(ctx, o, func(rc *rm.Client) (err error) {
		req := rm.CreateListAccountsRequest()
		req.PageNumber = requests.NewInteger(1)
		req.PageSize = requests.NewInteger(1)
		resp, err = rc.ListAccounts(req)
		return err
	})
	if err != nil {
		return 0, fail(o, err)
	}
	return resp.TotalCount, nil
}

// Invite calls InviteAccountToResourceDirectory once.
func (c *Client) Invite(ctx context.Context, targetEntity, targetType, note string) (directory.Invitation, error) {
	o := op{action: actInvite, write: true}
	var resp *rm.InviteAccountToResourceDirectoryResponse
	err := c.call(ctx, o, func(rc *rm.Client) (err error) {
		req := rm.CreateInviteAccountToResourceDirectoryRequest()
		req.TargetEntity = targetEntity
		req.TargetType = targetType
		req.Note = note
		resp, err = rc.InviteAccountToResourceDirectory(req)
		return err
	})
	if err != nil {
		code := rdCode(err)
		if r, ok := directory.InviteRefusalByRDCode(code); ok {
			// Checked before the EntityAlreadyExists./LimitExceeded. prefixes
			// below: LimitExceeded.Invitation.InvalidTarget is about this
			// target, not the directory's quota.
			return directory.Invitation{}, apperr.Wrap(err, apperr.KindConflict, r.Code, "%s: %s", targetEntity, r.Advice)
		}
		switch {
		case code == codeHandshakeExists:
			return directory.Invitation{}, apperr.Wrap(err, apperr.KindConflict, apperr.CodeInvitationPending,
				"%s already has a pending invitation. Wait for an answer or cancel it first.", targetEntity)
		case strings.HasPrefix(code, codeAlreadyExistsPrefix):
			return directory.Invitation{}, apperr.Wrap(err, apperr.KindConflict, apperr.CodeAlreadyInDirectory,
				"%s is already in this resource directory.", targetEntity)
		case code == codeInvitationRate:
			return directory.Invitation{}, apperr.Wrap(err, apperr.KindConflict, apperr.CodeLimitExceeded,
				"The resource directory's daily invitation quota is used up. Try again tomorrow or ask for a higher quota.")
		case code == codeMemberQuota:
			return directory.Invitation{}, apperr.Wrap(err, apperr.KindConflict, apperr.CodeLimitExceeded,
				"The resource directory has reached its member quota. Remove members or ask for a higher quota.")
		case strings.HasPrefix(code, codeLimitPrefix):
			// A limit RD has not documented for this action: say so rather
			// than guess which quota it is.
			return directory.Invitation{}, apperr.Wrap(err, apperr.KindConflict, apperr.CodeLimitExceeded,
				"%s refused the invitation to %s with %s: %s", service, targetEntity, code, rdMessage(err))
		case strings.HasPrefix(code, "InvalidParameter.Note"): // .Note and .Note.Length
			return directory.Invitation{}, apperr.Wrap(err, apperr.KindInvalid, apperr.InvalidParameter("Note"),
				"The note is not accepted by %s: at most 1024 characters.", service)
		}
		return directory.Invitation{}, fail(o, err)
	}
	if resp.Handshake.HandshakeId == "" {
		return directory.Invitation{}, fail(o, errEmpty(o.action))
	}
	return toInvitation(resp.Handshake), nil
}

// ListInvitations calls ListHandshakesForResourceDirectory once per 100
// invitations (at least once).
func (c *Client) ListInvitations(ctx context.Context) ([]directory.Invitation, error) {
	o := op{action: actListHandshakes}
	out, err := listAll(func(page int) ([]rm.Handshake, int, int, error) {
		var resp *rm.ListHandshakesForResourceDirectoryResponse
		err := c.call(ctx, o, func(rc *rm.Client) (err error) {
			req := rm.CreateListHandshakesForResourceDirectoryRequest()
			req.PageNumber = requests.NewInteger(page)
			req.PageSize = requests.NewInteger(pageSize)
			resp, err = rc.ListHandshakesForResourceDirectory(req)
			return err
		})
		if err != nil {
			return nil, 0, 0, err
		}
		return resp.Handshakes.Handshake, resp.PageSize, resp.TotalCount, nil
	}, func(h rm.Handshake) string { return h.HandshakeId }, toInvitation)
	if err != nil {
		return nil, fail(o, err)
	}
	return out, nil
}

// CancelInvitation calls CancelHandshake once.
func (c *Client) CancelInvitation(ctx context.Context, invitationID string) (directory.Invitation, error) {
	o := op{action: actCancelHandshake, write: true}
	var resp *rm.CancelHandshakeResponse
	err := c.call(ctx, o, func(rc *rm.Client) (err error) {
		req := rm.CreateCancelHandshakeRequest()
		req.HandshakeId = invitationID
		resp, err = rc.CancelHandshake(req)
		return err
	})
	if err != nil {
		switch rdCode(err) {
		case codeHandshakeNotFound, codeHandshakeInvalidID:
			return directory.Invitation{}, apperr.Wrap(err, apperr.KindNotFound, apperr.CodeInvitationNotFound,
				"Invitation %q does not exist in this resource directory.", invitationID)
		case codeHandshakeStatus:
			// RD's refusal does not say what the status is: one more call does.
			if h, gerr := c.getHandshake(ctx, invitationID); gerr == nil && h.Status != "" {
				return directory.Invitation{}, apperr.Wrap(err, apperr.KindConflict, apperr.CodeInvitationStatus,
					"Invitation %s is %s, not Pending; only a pending invitation can be cancelled.", invitationID, h.Status)
			}
			return directory.Invitation{}, apperr.Wrap(err, apperr.KindConflict, apperr.CodeInvitationStatus,
				"Invitation %s is no longer pending, so it cannot be cancelled.", invitationID)
		}
		return directory.Invitation{}, fail(o, err)
	}
	if resp.Handshake.HandshakeId == "" {
		return directory.Invitation{}, fail(o, errEmpty(o.action))
	}
	return toInvitation(resp.Handshake), nil
}

// ListDelegatedAdmins calls ListDelegatedAdministrators for the configured
// principal once per 100 administrators (at least once).
func (c *Client) ListDelegatedAdmins(ctx context.Context) ([]directory.DelegatedAdmin, error) {
	o := op{action: actListDelegated}
	out, err := listAll(func(page int) ([]rm.Account, int, int, error) {
		var resp *rm.ListDelegatedAdministratorsResponse
		err := c.call(ctx, o, func(rc *rm.Client) (err error) {
			req := rm.CreateListDelegatedAdministratorsRequest()
			req.ServicePrincipal = c.cfg.ServicePrincipal
			req.PageNumber = requests.NewInteger(page)
			req.PageSize = requests.NewInteger(pageSize)
			resp, err = rc.ListDelegatedAdministrators(req)
			return err
		})
		if err != nil {
			return nil, 0, 0, err
		}
		return resp.Accounts.Account, int(resp.PageSize), int(resp.TotalCount), nil
	}, func(a rm.Account) string {
		// The filter is server-side; re-check in case a server ignores it.
		if a.ServicePrincipal != "" && a.ServicePrincipal != c.cfg.ServicePrincipal {
			return ""
		}
		return a.AccountId
	}, toDelegatedAdmin)
	if err != nil {
		if rdCode(err) == codeBadPrincipal {
			return nil, badPrincipal(err, c.cfg.ServicePrincipal)
		}
		return nil, fail(o, err)
	}
	return out, nil
}

// RegisterDelegatedAdmin makes accountID SASE's delegated administrator:
// one RegisterDelegatedAdministrator call. RD itself answers every case the
// port distinguishes (management account, not a member, already registered,
// another account holds the role), in the same order of precedence as the
// simulation. Extra calls happen only on refusals: ListDelegatedAdministrators
// to name the current holder, GetAccount when RD's refusal does not say
// whether the account is in the directory.
func (c *Client) RegisterDelegatedAdmin(ctx context.Context, accountID string) error {
	o := op{action: actRegister, write: true}
	err := c.call(ctx, o, func(rc *rm.Client) error {
		req := rm.CreateRegisterDelegatedAdministratorRequest()
		req.AccountId = accountID
		req.ServicePrincipal = c.cfg.ServicePrincipal
		_, err := rc.RegisterDelegatedAdministrator(req)
		return err
	})
	if err == nil {
		return nil
	}
	switch code := rdCode(err); {
	case code == codeAlreadyRegistered:
		return nil // the same account already holds the role: the port's no-op
	case code == codeCannotRegisterMA:
		return apperr.Wrap(err, apperr.KindInvalid, apperr.InvalidParameter("AccountId"),
			"Account %s is the management account; choose a member account as the delegated administrator.", accountID)
	case code == codeDelegatedExceeded:
		var others []directory.DelegatedAdmin
		if holders, lerr := c.ListDelegatedAdmins(ctx); lerr == nil {
			for _, a := range holders {
				if a.AccountID != accountID {
					others = append(others, a)
				}
			}
		}
		return delegatedExists(err, others)
	case code == codeBadPrincipal:
		return badPrincipal(err, c.cfg.ServicePrincipal)
	case code == codeAccountNotFound:
		return accountNotFound(err, accountID)
	case code == codeNoRD || code == codeNotInUse || isPermissionCode(code):
		// fail says it
	case code == "AccountTypeOrStatusMismatch" || code == "InvalidParameter" ||
		(code != "" && classify(err) == classOther && !isParamError(err)):
		// Not a code RD documents for this action (the gateway's plain
		// InvalidParameter included): ask GetAccount whether the account
		// is in the directory at all.
		if in, gerr := c.inDirectory(ctx, accountID); gerr == nil && !in {
			return accountNotFound(err, accountID)
		}
	}
	return fail(o, err)
}

// DeregisterDelegatedAdmin calls DeregisterDelegatedAdministrator once.
func (c *Client) DeregisterDelegatedAdmin(ctx context.Context, accountID string) error {
	o := op{action: actDeregister, write: true}
	err := c.call(ctx, o, func(rc *rm.Client) error {
		req := rm.CreateDeregisterDelegatedAdministratorRequest()
		req.AccountId = accountID
		req.ServicePrincipal = c.cfg.ServicePrincipal
		_, err := rc.DeregisterDelegatedAdministrator(req)
		return err
	})
	if err == nil {
		return nil
	}
	switch rdCode(err) {
	case codeNotRegistered, codeAccountNotFound:
		return apperr.Wrap(err, apperr.KindNotFound, apperr.CodeDelegatedNotFound,
			"Account %s is not SASE's delegated administrator.", accountID)
	case codeBadPrincipal:
		return badPrincipal(err, c.cfg.ServicePrincipal)
	}
	return fail(o, err)
}

// getHandshake reads one invitation (GetHandshake).
func (c *Client) getHandshake(ctx context.Context, id string) (rm.Handshake, error) {
	o := op{action: actGetHandshake}
	var resp *rm.GetHandshakeResponse
	err := c.call(ctx, o, func(rc *rm.Client) (err error) {
		req := rm.CreateGetHandshakeRequest()
		req.HandshakeId = id
		resp, err = rc.GetHandshake(req)
		return err
	})
	if err != nil {
		return rm.Handshake{}, err
	}
	return resp.Handshake, nil
}

// GetAccount implements directory.Service: one GetAccount call. An account
// that is not in the directory is NotFound CodeAccountNotFound.
func (c *Client) GetAccount(ctx context.Context, accountID string) (directory.Account, error) {
	o := op{action: actGetAccount}
	var resp *rm.GetAccountResponse
	err := c.call(ctx, o, func(rc *rm.Client) (err error) {
		req := rm.CreateGetAccountRequest()
		req.AccountId = accountID
		resp, err = rc.GetAccount(req)
		return err
	})
	if err != nil {
		switch rdCode(err) {
		case codeAccountNotFound, "InvalidParameter.AccountId":
			return directory.Account{}, accountNotFound(err, accountID)
		}
		return directory.Account{}, fail(o, err)
	}
	a := resp.Account
	if a.AccountId != accountID {
		return directory.Account{}, accountNotFound(nil, accountID)
	}
	return directory.Account{AccountID: a.AccountId, DisplayName: a.DisplayName,
		JoinTime: parseTime(a.JoinTime), JoinMethod: a.JoinMethod, FolderID: a.FolderId}, nil
}

// inDirectory asks GetAccount whether accountID is an account of the
// directory. An error means "could not tell".
func (c *Client) inDirectory(ctx context.Context, accountID string) (bool, error) {
	_, err := c.GetAccount(ctx, accountID)
	if apperr.IsCode(err, apperr.CodeAccountNotFound) {
		return false, nil
	}
	return err == nil, err
}
