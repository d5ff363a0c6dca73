package member

import (
	"context"
	"fmt"
	"time"

	"github.com/sase-multiaccount/backend/shared/action"
	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/outcome"
	"github.com/sase-multiaccount/backend/shared/port/directory"
	"github.com/sase-multiaccount/backend/shared/port/store"
	"github.com/sase-multiaccount/backend/shared/usecase/audit"
	"github.com/sase-multiaccount/backend/shared/validate"
)

// AddItem is one entry of add-members.
type AddItem struct {
	AccountID string `json:"AccountId"`
	Remark    string
}

// AddInput is the body of add-members.
type AddInput struct {
	Members []AddItem
	DryRun  bool
}

// AddResult is one item of the answer.
type AddResult struct {
	AccountID string             `json:"AccountId"`
	Status    outcome.ItemStatus // Added | AlreadyMember | Failed
	Code      apperr.Code        `json:",omitempty"`
	Message   string             `json:",omitempty"`
}

// AddOutput is the answer of add-members.
type AddOutput struct {
	DryRun     bool
	AddedCount int
	Results    []AddResult
}

// Add adds directory accounts to SASE. It is idempotent: an existing member
// is reported AlreadyMember. With DryRun nothing is written.
func (s *Service) Add(ctx context.Context, sc Scope, in AddInput) (AddOutput, error) {
	items, err := addItems(in)
	if err != nil {
		return AddOutput{}, err
	}
	byID, err := s.accountsIncluding(ctx, sc.Directory.ID, items)
	if err != nil {
		return AddOutput{}, fmt.Errorf("add members: %w", err)
	}
	out := AddOutput{DryRun: in.DryRun, Results: make([]AddResult, len(items))}
	rows, rowIdx := s.newRows(sc, items, byID, out.Results)
	if len(rows) == 0 {
		return out, nil
	}
	if in.DryRun {
		if err := s.dryRun(ctx, sc.Directory.ID, rows, rowIdx, &out); err != nil {
			return AddOutput{}, fmt.Errorf("add members (dry run): %w", err)
		}
		return out, nil
	}
	record := s.audit.With(sc.Directory.ID, sc.Actor, func(_, m store.Member) audit.Entry {
		return audit.Entry{Action: action.AddMembers, Target: m.AccountID, Result: "Added",
			Detail: map[string]string{"AccountName": m.AccountName, "Remark": m.Remark}}
	})
	results, err := s.store.AddMembers(ctx, sc.Directory.ID, rows, record)
	if err != nil {
		return AddOutput{}, fmt.Errorf("add members: %w", err)
	}
	for k, r := range results {
		res := &out.Results[rowIdx[k]]
		switch r.Status {
		case store.Added:
			res.Status = outcome.Added
			out.AddedCount++
		case store.AlreadyExists:
			res.Status = outcome.AlreadyMember
		default:
			res.Status = outcome.Failed
			res.Code, res.Message = failure(r.Err)
		}
	}
	return out, nil
}

// addItems validates the input, all of it first: a malformed entry fails
// the whole request. A repeated account counts once.
func addItems(in AddInput) ([]AddItem, error) {
	if len(in.Members) == 0 {
		return nil, apperr.Missing("Members")
	}
	if len(in.Members) > MaxBatch {
		return nil, apperr.Invalid("Members", "Members has %d entries; at most %d are allowed per request.", len(in.Members), MaxBatch)
	}
	var items []AddItem
	seen := map[string]bool{}
	for i, it := range in.Members {
		if !validate.IsAccountID(it.AccountID) {
			if it.AccountID == "" {
				return nil, apperr.Missing(fmt.Sprintf("Members[%d].AccountId", i))
			}
			return nil, apperr.Invalid("Members", "Members[%d].AccountId %q is not an account UID: it must be 16 digits.", i, validate.Clip(it.AccountID))
		}
		if err := validate.Remark(fmt.Sprintf("Members[%d].Remark", i), it.Remark); err != nil {
			return nil, err
		}
		if !seen[it.AccountID] {
			seen[it.AccountID] = true
			items = append(items, it)
		}
	}
	return items, nil
}

// newRows is the member row of each item that may be added, with the index
// of its result; the others (the management account, an account not in the
// directory) get a Failed result.
func (s *Service) newRows(sc Scope, items []AddItem, byID map[string]directory.Account, results []AddResult) (rows []store.Member, rowIdx []int) {
	now := s.now().UTC().Truncate(time.Millisecond)
	for i, it := range items {
		results[i].AccountID = it.AccountID
		a, ok := byID[it.AccountID]
		switch {
		case it.AccountID == sc.Directory.ManagementAccountID:
			results[i].Status, results[i].Code = outcome.Failed, apperr.CodeManagementAccount
			results[i].Message = "The management account manages SASE members and cannot be added as one."
		case !ok:
			results[i].Status, results[i].Code = outcome.Failed, apperr.CodeNotInDirectory
			results[i].Message = fmt.Sprintf("Account %s is not in resource directory %s; invite it first (step 2).", it.AccountID, sc.Directory.ID)
		default:
			rows = append(rows, store.Member{
				DirectoryID: sc.Directory.ID, AccountID: it.AccountID, AccountName: a.DisplayName,
				AddTime: now, AddedBy: sc.Actor.AccountID, Remark: it.Remark, Version: 1,
				UpdateTime: now, NameTime: now,
			})
			rowIdx = append(rowIdx, i)
		}
	}
	return rows, rowIdx
}

// dryRun reports what adding rows would do, reading each one's member row.
func (s *Service) dryRun(ctx context.Context, dirID string, rows []store.Member, rowIdx []int, out *AddOutput) error {
	for k, m := range rows {
		_, err := s.store.GetMember(ctx, dirID, m.AccountID)
		switch {
		case err == nil:
			out.Results[rowIdx[k]].Status = outcome.AlreadyMember
		case apperr.IsCode(err, apperr.CodeMemberNotFound):
			out.Results[rowIdx[k]].Status = outcome.Added
			out.AddedCount++
		default:
			return err
		}
	}
	return nil
}

// maxLookups is how many accounts missing from the list add-members
// confirms one GetAccount each; more than that read the whole list afresh.
const maxLookups = 5

// accountsIncluding indexes the directory's accounts: from the directory
// mirror once it has been synced (one store read), else from the short
// cache. An item missing from it (an account that joined a moment ago) is
// confirmed with one GetAccount, so "NotInDirectory" is always a fresh
// answer; when more than maxLookups are missing, the list is read afresh.
func (s *Service) accountsIncluding(ctx context.Context, dirID string, items []AddItem) (map[string]directory.Account, error) {
	index := func(accounts []directory.Account) map[string]directory.Account {
		m := make(map[string]directory.Account, len(accounts))
		for _, a := range accounts {
			m[a.AccountID] = a
		}
		return m
	}
	var byID map[string]directory.Account
	m, err := s.mirror.ReadMirror(ctx, dirID)
	if err != nil {
		return nil, err
	}
	if !m.Marks.SyncTime.IsZero() {
		byID = make(map[string]directory.Account, len(m.Accounts))
		for _, a := range m.Accounts {
			byID[a.AccountID] = directory.Account{AccountID: a.AccountID, DisplayName: a.DisplayName, JoinTime: a.JoinTime, FolderID: a.FolderID}
		}
	}
	if byID == nil {
		accounts, err := s.accounts.ListAccounts(ctx)
		if err != nil {
			return nil, err
		}
		byID = index(accounts)
	}
	var missing []string
	for _, it := range items {
		if _, ok := byID[it.AccountID]; !ok {
			missing = append(missing, it.AccountID)
		}
	}
	if len(missing) == 0 {
		return byID, nil
	}
	if len(missing) > maxLookups {
		accounts, err := s.accounts.RefreshAccounts(ctx)
		if err != nil {
			return nil, err
		}
		return index(accounts), nil
	}
	for _, id := range missing {
		a, err := s.lookup.GetAccount(ctx, id)
		switch {
		case err == nil:
			byID[id] = a
		case apperr.IsCode(err, apperr.CodeAccountNotFound):
		default:
			return nil, err
		}
	}
	return byID, nil
}
