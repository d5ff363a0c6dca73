package member

import (
	"context"
	"fmt"

	"github.com/sase-multiaccount/backend/shared/action"
	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/port/store"
	"github.com/sase-multiaccount/backend/shared/usecase/audit"
	"github.com/sase-multiaccount/backend/shared/validate"
)

// DeleteInput is the body of delete-members.
type DeleteInput struct {
	AccountIds []string
}

// DeleteResult is one item of the answer.
type DeleteResult struct {
	AccountId string
	Status    string      // Deleted | NotMember | Failed
	Code      apperr.Code `json:",omitempty"`
	Message   string      `json:",omitempty"`
}

// DeleteOutput is the answer of delete-members.
type DeleteOutput struct {
	DeletedCount int
	Results      []DeleteResult
}

// Delete removes members; absent ones are reported NotMember.
func (s *Service) Delete(ctx context.Context, sc Scope, in DeleteInput) (DeleteOutput, error) {
	ids, err := validate.AccountIDs("AccountIds", in.AccountIds, MaxBatch)
	if err != nil {
		return DeleteOutput{}, err
	}
	results, err := s.Store.DeleteMembers(ctx, sc.Directory.ID, ids)
	if err != nil {
		return DeleteOutput{}, fmt.Errorf("delete members: %w", err)
	}
	out := DeleteOutput{Results: make([]DeleteResult, len(results))}
	var entries []audit.Entry
	for i, r := range results {
		out.Results[i].AccountId = r.AccountID
		switch r.Status {
		case store.Deleted:
			out.Results[i].Status = "Deleted"
			out.DeletedCount++
			entries = append(entries, audit.Entry{Action: action.DeleteMembers, Target: r.AccountID, Result: "Deleted",
				Detail: map[string]string{"AccountName": r.Member.AccountName, "Remark": r.Member.Remark}})
		case store.NotFound:
			out.Results[i].Status = "NotMember"
		default:
			out.Results[i].Status = "Failed"
			out.Results[i].Code, out.Results[i].Message = failure(r.Err)
		}
	}
	if err := s.Audit.Record(ctx, sc.Directory.ID, sc.Actor, entries...); err != nil {
		return DeleteOutput{}, err
	}
	return out, nil
}
