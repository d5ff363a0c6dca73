package setup

import (
	"context"
	"fmt"

	"github.com/sase-multiaccount/backend/shared/action"
	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/port/directory"
	"github.com/sase-multiaccount/backend/shared/usecase/audit"
	"github.com/sase-multiaccount/backend/shared/validate"
)

// DelegatedInput is the body of both delegated administrator functions.
type DelegatedInput struct {
	AccountID string `json:"AccountId"`
}

// RegisterOutput is the answer of register-delegated-admin.
type RegisterOutput struct {
	DelegatedAdministrator *DelegatedAdministrator
}

// Register designates the delegated administrator (step 3). The same account
// again is a success; another account holding the role is a conflict.
func (s *Service) Register(ctx context.Context, d directory.Directory, actor audit.Actor, in DelegatedInput) (RegisterOutput, error) {
	if err := validate.AccountID("AccountId", in.AccountID); err != nil {
		return RegisterOutput{}, err
	}
	if in.AccountID == d.ManagementAccountID {
		return RegisterOutput{}, apperr.Invalid("AccountId",
			"AccountId %s is the management account; choose a member account of the directory as delegated administrator.", in.AccountID)
	}
	das, err := s.Directory.ListDelegatedAdmins(ctx)
	if err != nil {
		return RegisterOutput{}, fmt.Errorf("register delegated admin: %w", err)
	}
	for _, da := range das {
		if da.AccountID == in.AccountID {
			return RegisterOutput{DelegatedAdministrator: viewDelegated(da)}, nil
		}
	}
	if err := s.Directory.RegisterDelegatedAdmin(ctx, in.AccountID); err != nil {
		return RegisterOutput{}, fmt.Errorf("register delegated admin: %w", err)
	}
	if err := s.changed(ctx); err != nil {
		return RegisterOutput{}, err
	}
	if das, err = s.Directory.ListDelegatedAdmins(ctx); err != nil {
		return RegisterOutput{}, fmt.Errorf("register delegated admin: %w", err)
	}
	out := RegisterOutput{DelegatedAdministrator: &DelegatedAdministrator{AccountID: in.AccountID}}
	for _, da := range das {
		if da.AccountID == in.AccountID {
			out.DelegatedAdministrator = viewDelegated(da)
		}
	}
	if err := s.Audit.Record(ctx, d.ID, actor, audit.Entry{Action: action.RegisterDelegatedAdmin, Target: in.AccountID, Result: "Registered"}); err != nil {
		return RegisterOutput{}, err
	}
	return out, nil
}

// DeregisterOutput is the (empty) answer of deregister-delegated-admin.
type DeregisterOutput struct{}

// Deregister removes the delegated administrator.
func (s *Service) Deregister(ctx context.Context, d directory.Directory, actor audit.Actor, in DelegatedInput) (DeregisterOutput, error) {
	if err := validate.AccountID("AccountId", in.AccountID); err != nil {
		return DeregisterOutput{}, err
	}
	if err := s.Directory.DeregisterDelegatedAdmin(ctx, in.AccountID); err != nil {
		return DeregisterOutput{}, fmt.Errorf("deregister delegated admin: %w", err)
	}
	if err := s.changed(ctx); err != nil {
		return DeregisterOutput{}, err
	}
	if err := s.Audit.Record(ctx, d.ID, actor, audit.Entry{Action: action.DeregisterDelegatedAdmin, Target: in.AccountID, Result: "Deregistered"}); err != nil {
		return DeregisterOutput{}, err
	}
	return DeregisterOutput{}, nil
}
