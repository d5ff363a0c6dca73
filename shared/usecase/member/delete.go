package member

import (
	"context"
	"fmt"

	"github.com/sase-multiaccount/backend/shared/action"
	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/outcome"
	"github.com/sase-multiaccount/backend/shared/port/store"
	"github.com/sase-multiaccount/backend/shared/usecase/audit"
	"github.com/sase-multiaccount/backend/shared/validate"
)

// DeleteInput is the body of delete-members.
type DeleteInput struct {
	AccountIDs []string `json:"AccountIds"`
}

// DeleteResult is one item of the answer.
type DeleteResult struct {
	AccountID string             `json:"AccountId"`
	Status    outcome.ItemStatus // Deleted | NotMember | Failed
	Code      apperr.Code        `json:",omitempty"`
	Message   string             `json:",omitempty"`
}

// DeleteOutput is the answer of delete-members.
type DeleteOutput struct {
	DeletedCount int
	Results      []DeleteResult
}

// Delete removes members; absent ones are reported NotMember.
func (s *Service) Delete(ctx context.Context, sc Scope, in DeleteInput) (DeleteOutput, error) {
	ids, err := validate.AccountIDs("AccountIds", in.AccountIDs, MaxBatch)
	if err != nil {
		return DeleteOutput{}, err
	}
	record := s.audit.With(sc.Directory.ID, sc.Actor, func(m, _ store.Member) audit.Entry {
		return audit.Entry{Action: action.DeleteMembers, Target: m.AccountID, Result: "Deleted",
			Detail: map[string]string{"AccountName": m.AccountName, "Remark": m.Remark}}
	})
	results, err := s.store.DeleteMembers(ctx, sc.Directory.ID, ids, record)
	if err != nil {
		return DeleteOutput{}, fmt.Errorf("delete members: %w", err)
	}
	out := DeleteOutput{Results: make([]DeleteResult, len(results))}
	for i, r := range results {
		out.Results[i].AccountID = r.AccountID
		switch r.Status {
		case store.Deleted:
			out.Results[i].Status = outcome.Deleted
			out.DeletedCount++
		case store.NotFound:
			out.Results[i].Status = outcome.NotMember
		default:
			out.Results[i].Status = outcome.Failed
			out.Results[i].Code, out.Results[i].Message = failure(r.Err)
		}
	}
	return out, nil
}
