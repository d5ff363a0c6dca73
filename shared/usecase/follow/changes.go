package follow

import (
	"context"
	"fmt"
	"slices"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/port/store"
	"github.com/sase-multiaccount/backend/shared/usecase/audit"
	"github.com/sase-multiaccount/backend/shared/validate"
)

// Member is a member as get-member shows it.
type Member struct {
	AccountID   string `json:"AccountId"`
	AccountName string
	AddTime     string
	Remark      string
	AddedBy     string
	FolderPath  string
	Version     int64
}

// GetOutput is the answer of get-member.
type GetOutput struct{ Member Member }

// Get is get-member: one store read (the member row), and the folder path
// from the instance's copy of the mirror, checked at most once a second
// and then at the same time as the row is read.
func (s *Service) Get(ctx context.Context, sc Scope, accountID string) (GetOutput, error) {
	if err := validate.AccountID("AccountId", accountID); err != nil {
		return GetOutput{}, err
	}
	path := make(chan string, 1)
	go func() { path <- s.folderPath(ctx, sc.Directory.ID, accountID) }()
	m, err := s.Store.GetMember(ctx, sc.Directory.ID, accountID)
	folder := <-path
	if err != nil {
		return GetOutput{}, fmt.Errorf("get member: %w", err)
	}
	return GetOutput{Member: Member{AccountID: m.AccountID, AccountName: m.AccountName, AddTime: audit.FormatTime(m.AddTime),
		Remark: m.Remark, AddedBy: m.AddedBy, FolderPath: folder, Version: m.Version}}, nil
}

// Change is a change as list-member-changes and webhook deliveries show
// it.
type Change struct {
	ChangeID       string `json:"ChangeId"`
	Time           string
	Type           string
	AccountID      string `json:"AccountId"`
	AccountName    string
	Remark         string
	FolderPath     string
	Version        int64
	ActorAccountID string `json:"ActorAccountId"`
	ActorUserID    string `json:"ActorUserId"`
	ActorRole      string
	AuditEventID   string `json:"AuditEventId"`
}

// view is c as the API shows it; folder is the account's folder path.
func view(c store.Change, folder string) Change {
	r := c.Record
	return Change{ChangeID: r.ID, Time: audit.FormatTime(r.Time), Type: string(c.Type), AccountID: c.Member.AccountID,
		AccountName: c.Member.AccountName, Remark: c.Member.Remark, FolderPath: folder, Version: c.Member.Version,
		ActorAccountID: r.ActorAccountID, ActorUserID: r.ActorUserID, ActorRole: r.ActorRole, AuditEventID: r.ID}
}

// ChangesInput is the query of list-member-changes.
type ChangesInput struct {
	Cursor     string
	MaxResults string
}

// ChangesOutput is the answer of list-member-changes.
type ChangesOutput struct {
	Changes    []Change
	NextCursor string
	HasMore    bool
}

type feedPosition struct {
	Seq int64 `json:"s"`
}

// ListChanges is list-member-changes: one store read (a feed page) and
// the folder paths from the instance's copy of the mirror.
func (s *Service) ListChanges(ctx context.Context, sc Scope, in ChangesInput) (ChangesOutput, error) {
	limit, err := validate.MaxResults(in.MaxResults, 50, 100)
	if err != nil {
		return ChangesOutput{}, err
	}
	dirID := sc.Directory.ID
	binding := "changes|" + dirID
	var pos feedPosition
	if in.Cursor != "" {
		if err := s.Tokens.Decode(in.Cursor, binding, &pos); err != nil {
			return ChangesOutput{}, apperr.Invalid("Cursor",
				"Cursor is not valid for this directory: use the NextCursor of an earlier answer, or omit it to start from the oldest change kept.")
		}
	}
	chs, next, more, err := s.Store.ListChanges(ctx, dirID, pos.Seq, limit)
	if err != nil {
		return ChangesOutput{}, fmt.Errorf("list member changes: %w", err)
	}
	out := ChangesOutput{Changes: make([]Change, 0, len(chs)), HasMore: more,
		NextCursor: s.Tokens.Encode(binding, feedPosition{Seq: next})}
	var paths map[string]string
	if len(chs) > 0 {
		if paths, err = s.folderPaths(ctx, dirID); err != nil {
			s.Log.Warn().Err(err).Str("directory_id", dirID).Msg("list-member-changes: folder paths left out")
		}
	}
	for _, c := range chs {
		if slices.Contains(store.ChangeTypes, c.Type) { // renames are internal (store.MemberRenamed)
			out.Changes = append(out.Changes, view(c, paths[c.Member.AccountID]))
		}
	}
	return out, nil
}
