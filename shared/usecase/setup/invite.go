package setup

import (
	"context"
	"fmt"
	"strings"

	"github.com/sase-multiaccount/backend/shared/action"
	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/outcome"
	"github.com/sase-multiaccount/backend/shared/port/directory"
	"github.com/sase-multiaccount/backend/shared/usecase/audit"
	"github.com/sase-multiaccount/backend/shared/validate"
)

// Target is one invitee: exactly one of AccountId or Email.
type Target struct {
	AccountID string `json:"AccountId"`
	Email     string
}

// InviteInput is the body of invite-accounts.
type InviteInput struct {
	Targets []Target
	Note    string
}

// InviteResult is one item of the answer.
type InviteResult struct {
	Target       string
	Status       outcome.ItemStatus // Invited | Failed
	InvitationID string             `json:"InvitationId,omitempty"`
	Code         apperr.Code        `json:",omitempty"`
	Message      string             `json:",omitempty"`
}

// InviteOutput is the answer of invite-accounts.
type InviteOutput struct {
	Results []InviteResult
}

// Invite sends one RD invitation per target. Input errors fail the whole
// request; a failure for one target is reported in its result, because the
// invitations before it have been sent already.
func (s *Service) Invite(ctx context.Context, d directory.Directory, actor audit.Actor, in InviteInput) (InviteOutput, error) {
	if len(in.Targets) == 0 {
		return InviteOutput{}, apperr.Missing("Targets")
	}
	if len(in.Targets) > MaxTargets {
		return InviteOutput{}, apperr.Invalid("Targets", "Targets has %d entries; at most %d are allowed per request.", len(in.Targets), MaxTargets)
	}
	if err := validate.FreeText("Note", in.Note, MaxNoteLen); err != nil {
		return InviteOutput{}, err
	}
	type target struct{ entity, kind string }
	var targets []target
	seen := map[string]bool{}
	for i, t := range in.Targets {
		var tg target
		switch {
		case t.AccountID != "" && t.Email != "":
			return InviteOutput{}, apperr.Invalid("Targets", "Targets[%d] has both AccountId and Email; give exactly one.", i)
		case t.AccountID != "":
			if !validate.IsAccountID(t.AccountID) {
				return InviteOutput{}, apperr.Invalid("Targets", "Targets[%d].AccountId %q is not an account UID: it must be 16 digits.", i, validate.Clip(t.AccountID))
			}
			tg = target{t.AccountID, directory.TargetAccount}
		case t.Email != "":
			if err := validate.Email("Targets", t.Email); err != nil {
				return InviteOutput{}, apperr.Invalid("Targets", "Targets[%d].Email %q is not a valid email address.", i, validate.Clip(t.Email))
			}
			tg = target{strings.ToLower(t.Email), directory.TargetEmail}
		default:
			return InviteOutput{}, apperr.Missing(fmt.Sprintf("Targets[%d].AccountId", i))
		}
		if !seen[tg.entity] {
			seen[tg.entity] = true
			targets = append(targets, tg)
		}
	}
	out := InviteOutput{Results: make([]InviteResult, len(targets))}
	var entries []audit.Entry
	for i, t := range targets {
		r := &out.Results[i]
		r.Target = t.entity
		inv, err := s.Directory.Invite(ctx, t.entity, t.kind, in.Note)
		if err != nil {
			e, ok := apperr.As(err)
			if !ok || e.Kind == apperr.KindInternal {
				return InviteOutput{}, fmt.Errorf("invite %s: %w", t.entity, err)
			}
			r.Status, r.Code, r.Message = outcome.Failed, e.Code, e.Message
			continue
		}
		r.Status, r.InvitationID = outcome.Invited, inv.ID
		entries = append(entries, audit.Entry{Action: action.InviteAccounts, Target: t.entity, Result: "Invited",
			Detail: map[string]string{"InvitationId": inv.ID, "TargetType": t.kind}})
	}
	if err := s.Audit.Record(ctx, d.ID, actor, entries...); err != nil {
		return InviteOutput{}, err
	}
	return out, nil
}
