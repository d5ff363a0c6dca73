package member

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/sase-multiaccount/backend/shared/port/directory"
	"github.com/sase-multiaccount/backend/shared/port/store"
	"github.com/sase-multiaccount/backend/shared/usecase/audit"
	"github.com/sase-multiaccount/backend/shared/validate"
)

// CandidatesInput is the query of list-candidates.
type CandidatesInput struct {
	Keyword    string
	FolderID   string // only accounts in this folder or its subfolders
	MaxResults string
	NextToken  string
}

// Candidate is a directory account that is not a SASE member yet.
type Candidate struct {
	AccountID   string `json:"AccountId"`
	DisplayName string
	JoinTime    string
	FolderID    string `json:"FolderId"`
	FolderPath  string
}

// CandidatesOutput is the answer of list-candidates.
type CandidatesOutput struct {
	Accounts   []Candidate
	TotalCount int
	NextToken  string `json:",omitempty"`
}

// Candidates lists directory accounts that are neither the MA nor members,
// in account ID order. The first page reads the directory afresh (the dialog
// must show an account that joined a moment ago) and leaves the list in the
// cache for the next pages and the add-members that follows; one member scan
// per request.
func (s *Service) Candidates(ctx context.Context, sc Scope, in CandidatesInput) (CandidatesOutput, error) {
	limit, err := validate.MaxResults(in.MaxResults, 20, 100)
	if err != nil {
		return CandidatesOutput{}, err
	}
	if err := validate.Text("Keyword", in.Keyword, 256); err != nil {
		return CandidatesOutput{}, err
	}
	keyword := strings.ToLower(strings.TrimSpace(in.Keyword))
	if err := validate.Text("FolderId", in.FolderID, 64); err != nil {
		return CandidatesOutput{}, err
	}
	binding := strings.Join([]string{"candidates", sc.Directory.ID, keyword, in.FolderID}, "\x00")
	var pos listPosition
	if in.NextToken != "" {
		if err := s.Tokens.Decode(in.NextToken, binding, &pos); err != nil {
			return CandidatesOutput{}, err
		}
	}
	list := s.Accounts.RefreshAccounts
	if in.NextToken != "" {
		list = s.Accounts.ListAccounts
	}
	folders, err := s.tree(ctx)
	if err != nil {
		return CandidatesOutput{}, fmt.Errorf("list candidates: %w", err)
	}
	if in.FolderID != "" {
		if !folders.Has(in.FolderID) {
			return CandidatesOutput{}, errFolderNotFound(in.FolderID)
		}
	}
	accounts, err := list(ctx)
	if err != nil {
		return CandidatesOutput{}, fmt.Errorf("list candidates: %w", err)
	}
	members := map[string]bool{}
	err = s.scan(ctx, sc.Directory.ID, store.ListQuery{SortBy: store.SortByAccountID, Limit: scanPage}, func(m store.Member) {
		members[m.AccountID] = true
	})
	if err != nil {
		return CandidatesOutput{}, fmt.Errorf("list candidates: %w", err)
	}
	var all []directory.Account
	for _, a := range accounts {
		if a.AccountID == sc.Directory.ManagementAccountID || members[a.AccountID] || !matches(keyword, a.AccountID, a.DisplayName) ||
			(in.FolderID != "" && !folders.Within(a.FolderID, in.FolderID)) {
			continue
		}
		all = append(all, a)
	}
	slices.SortFunc(all, func(a, b directory.Account) int { return strings.Compare(a.AccountID, b.AccountID) })
	start, _ := slices.BinarySearchFunc(all, pos.AccountID, func(a directory.Account, id string) int {
		return strings.Compare(a.AccountID, id)
	})
	if pos.AccountID != "" && start < len(all) && all[start].AccountID == pos.AccountID {
		start++
	}
	end := min(start+limit, len(all))
	out := CandidatesOutput{Accounts: make([]Candidate, 0, end-start), TotalCount: len(all)}
	for _, a := range all[start:end] {
		out.Accounts = append(out.Accounts, Candidate{AccountID: a.AccountID, DisplayName: a.DisplayName, JoinTime: audit.FormatTime(a.JoinTime),
			FolderID: a.FolderID, FolderPath: folders.Path(a.FolderID)})
	}
	if end < len(all) {
		out.NextToken = s.Tokens.Encode(binding, listPosition{AccountID: all[end-1].AccountID})
	}
	return out, nil
}
