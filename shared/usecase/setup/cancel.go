package setup

import (
	"context"
	"fmt"
	"strings"

	"github.com/sase-multiaccount/backend/shared/action"
	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/port/directory"
	"github.com/sase-multiaccount/backend/shared/usecase/audit"
	"github.com/sase-multiaccount/backend/shared/validate"
)

// CancelInput is the body of cancel-invitation.
type CancelInput struct {
	InvitationID string `json:"InvitationId"`
}

// CancelOutput is the answer of cancel-invitation.
type CancelOutput struct {
	Invitation Invitation
}

// Cancel cancels a pending invitation.
func (s *Service) Cancel(ctx context.Context, d directory.Directory, actor audit.Actor, in CancelInput) (CancelOutput, error) {
	if in.InvitationID == "" {
		return CancelOutput{}, apperr.Missing("InvitationId")
	}
	if !strings.HasPrefix(in.InvitationID, "h-") || len(in.InvitationID) > 64 {
		return CancelOutput{}, apperr.Invalid("InvitationId", "InvitationId %q is not an invitation ID (h-…).", validate.Clip(in.InvitationID))
	}
	inv, err := s.Directory.CancelInvitation(ctx, in.InvitationID)
	if err != nil {
		return CancelOutput{}, fmt.Errorf("cancel invitation: %w", err)
	}
	if err := s.Audit.Record(ctx, d.ID, actor, audit.Entry{Action: action.CancelInvitation, Target: inv.ID, Result: "Cancelled",
		Detail: map[string]string{"TargetEntity": inv.TargetEntity}}); err != nil {
		return CancelOutput{}, err
	}
	return CancelOutput{Invitation: viewInvitation(inv)}, nil
}
