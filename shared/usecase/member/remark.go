package member

import (
	"context"
	"fmt"
	"time"

	"github.com/sase-multiaccount/backend/shared/action"
	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/port/store"
	"github.com/sase-multiaccount/backend/shared/usecase/audit"
	"github.com/sase-multiaccount/backend/shared/validate"
)

// RemarkInput is the body of update-member-remark.
type RemarkInput struct {
	AccountID string `json:"AccountId"`
	Remark    *string
	Version   *int64
}

// RemarkOutput is the answer of update-member-remark.
type RemarkOutput struct {
	Member Member
}

// UpdateRemark sets or clears a member's remark, optionally only at Version.
func (s *Service) UpdateRemark(ctx context.Context, sc Scope, in RemarkInput) (RemarkOutput, error) {
	if err := validate.AccountID("AccountId", in.AccountID); err != nil {
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
	// An unchanged remark writes nothing: same Version, no record.
	record := s.audit.With(sc.Directory.ID, sc.Actor, func(before, after store.Member) audit.Entry {
		return audit.Entry{Action: action.UpdateMemberRemark, Target: after.AccountID, Result: "Updated",
			Detail: map[string]string{"OldRemark": before.Remark, "NewRemark": after.Remark, "Version": audit.Itoa(after.Version)}}
	})
	_, after, err := s.store.UpdateRemark(ctx, sc.Directory.ID, in.AccountID, *in.Remark, version, s.now().UTC().Truncate(time.Millisecond), record)
	if err != nil {
		return RemarkOutput{}, fmt.Errorf("update remark: %w", err)
	}
	return RemarkOutput{Member: view(after)}, nil
}
