package member

import (
	"context"
	"fmt"
	"time"

	"github.com/sase-multiaccount/backend/shared/action"
	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/usecase/audit"
	"github.com/sase-multiaccount/backend/shared/validate"
)

// RemarkInput is the body of update-member-remark.
type RemarkInput struct {
	AccountId string
	Remark    *string
	Version   *int64
}

// RemarkOutput is the answer of update-member-remark.
type RemarkOutput struct {
	Member Member
}

// UpdateRemark sets or clears a member's remark, optionally only at Version.
func (s *Service) UpdateRemark(ctx context.Context, sc Scope, in RemarkInput) (RemarkOutput, error) {
	if err := validate.AccountID("AccountId", in.AccountId); err != nil {
		return RemarkOutput{}, err
	}
	if in.Remark == nil {
		return RemarkOutput{}, apperr.Missing("Remark")
	}
	if err := validate.Remark("Remark", *in.Remark); err != nil {
		return RemarkOutput{}, err
	}
	var version int64
	if in.Version != nil {
		if *in.Version < 1 {
			return RemarkOutput{}, apperr.Invalid("Version", "Version %d must be 1 or more (use the Version list-members returned).", *in.Version)
		}
		version = *in.Version
	}
	before, after, err := s.Store.UpdateRemark(ctx, sc.Directory.ID, in.AccountId, *in.Remark, version, s.Now().UTC().Truncate(time.Millisecond))
	if err != nil {
		return RemarkOutput{}, fmt.Errorf("update remark: %w", err)
	}
	if err := s.Audit.Record(ctx, sc.Directory.ID, sc.Actor, audit.Entry{
		Action: action.UpdateMemberRemark, Target: in.AccountId, Result: "Updated",
		Detail: map[string]string{"OldRemark": before.Remark, "NewRemark": after.Remark, "Version": audit.Itoa(after.Version)},
	}); err != nil {
		return RemarkOutput{}, err
	}
	return RemarkOutput{Member: view(after)}, nil
}
