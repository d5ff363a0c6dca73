// Package member holds the member use cases of step 4 and member management:
// list candidates, add, list, remark, delete. It imports no cloud SDK: the
// store and the directory come in through small interfaces.
package member

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sase-multiaccount/backend/shared/action"
	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/pagetoken"
	"github.com/sase-multiaccount/backend/shared/port/directory"
	"github.com/sase-multiaccount/backend/shared/port/store"
	"github.com/sase-multiaccount/backend/shared/usecase/audit"
	"github.com/sase-multiaccount/backend/shared/validate"
)

// MaxBatch is the most members one add or delete request may name.
const MaxBatch = 100

// scanPage is how many rows a full scan (keyword search, candidates) reads per store call.
const scanPage = 1000

// Accounts is what member use cases read from Resource Directory: a list
// that may be cached for a few seconds (accountcache), and a fresh read.
type Accounts interface {
	ListAccounts(ctx context.Context) ([]directory.Account, error)
	RefreshAccounts(ctx context.Context) ([]directory.Account, error)
}

// Service runs the member use cases for one deployment.
type Service struct {
	Store    store.Members
	Accounts Accounts
	Audit    *audit.Recorder
	Tokens   *pagetoken.Codec
	Now      func() time.Time
}

// Scope is the directory a request acts on and who acts.
type Scope struct {
	Directory directory.Directory
	Actor     audit.Actor
}

// Member is a member as the API shows it.
type Member struct {
	AccountId   string
	AccountName string
	AddTime     string
	Remark      string
	AddedBy     string
	Version     int64
}

func view(m store.Member) Member {
	return Member{
		AccountId: m.AccountID, AccountName: m.AccountName, AddTime: audit.FormatTime(m.AddTime),
		Remark: m.Remark, AddedBy: m.AddedBy, Version: m.Version,
	}
}

// ---- add-members ----

// AddItem is one entry of add-members.
type AddItem struct {
	AccountId string
	Remark    string
}

// AddInput is the body of add-members.
type AddInput struct {
	Members []AddItem
	DryRun  bool
}

// AddResult is one item of the answer.
type AddResult struct {
	AccountId string
	Status    string // Added | AlreadyMember | Failed
	Code      string `json:",omitempty"`
	Message   string `json:",omitempty"`
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
	if len(in.Members) == 0 {
		return AddOutput{}, apperr.Missing("Members")
	}
	if len(in.Members) > MaxBatch {
		return AddOutput{}, apperr.Invalid("Members", "Members has %d entries; at most %d are allowed per request.", len(in.Members), MaxBatch)
	}
	// Validate everything first: a malformed entry fails the whole request.
	var items []AddItem
	seen := map[string]bool{}
	for i, it := range in.Members {
		if !validate.IsAccountID(it.AccountId) {
			if it.AccountId == "" {
				return AddOutput{}, apperr.Missing(fmt.Sprintf("Members[%d].AccountId", i))
			}
			return AddOutput{}, apperr.Invalid("Members", "Members[%d].AccountId %q is not an account UID: it must be 16 digits.", i, validate.Clip(it.AccountId))
		}
		if err := validate.Remark(fmt.Sprintf("Members[%d].Remark", i), it.Remark); err != nil {
			return AddOutput{}, err
		}
		if !seen[it.AccountId] {
			seen[it.AccountId] = true
			items = append(items, it)
		}
	}
	byID, err := s.accountsIncluding(ctx, items)
	if err != nil {
		return AddOutput{}, fmt.Errorf("add members: %w", err)
	}

	out := AddOutput{DryRun: in.DryRun, Results: make([]AddResult, len(items))}
	now := s.Now().UTC().Truncate(time.Millisecond)
	var rows []store.Member
	var rowIdx []int
	for i, it := range items {
		out.Results[i].AccountId = it.AccountId
		a, ok := byID[it.AccountId]
		switch {
		case it.AccountId == sc.Directory.ManagementAccountID:
			out.Results[i].Status, out.Results[i].Code = "Failed", "ManagementAccount"
			out.Results[i].Message = "The management account manages SASE members and cannot be added as one."
		case !ok:
			out.Results[i].Status, out.Results[i].Code = "Failed", "NotInDirectory"
			out.Results[i].Message = fmt.Sprintf("Account %s is not in resource directory %s; invite it first (step 2).", it.AccountId, sc.Directory.ID)
		default:
			rows = append(rows, store.Member{
				DirectoryID: sc.Directory.ID, AccountID: it.AccountId, AccountName: a.DisplayName,
				AddTime: now, AddedBy: sc.Actor.AccountID, Remark: it.Remark, Version: 1,
				UpdateTime: now, NameTime: now,
			})
			rowIdx = append(rowIdx, i)
		}
	}
	if len(rows) == 0 {
		return out, nil
	}
	if in.DryRun {
		for k, m := range rows {
			_, err := s.Store.GetMember(ctx, sc.Directory.ID, m.AccountID)
			switch {
			case err == nil:
				out.Results[rowIdx[k]].Status = "AlreadyMember"
			case apperr.IsCode(err, apperr.CodeMemberNotFound):
				out.Results[rowIdx[k]].Status = "Added"
				out.AddedCount++
			default:
				return AddOutput{}, fmt.Errorf("add members (dry run): %w", err)
			}
		}
		return out, nil
	}
	record := s.Audit.With(sc.Directory.ID, sc.Actor, func(_, m store.Member) audit.Entry {
		return audit.Entry{Action: action.AddMembers, Target: m.AccountID, Result: "Added",
			Detail: map[string]string{"AccountName": m.AccountName, "Remark": m.Remark}}
	})
	results, err := s.Store.AddMembers(ctx, sc.Directory.ID, rows, record)
	if err != nil {
		return AddOutput{}, fmt.Errorf("add members: %w", err)
	}
	for k, r := range results {
		res := &out.Results[rowIdx[k]]
		switch r.Status {
		case store.Added:
			res.Status = "Added"
			out.AddedCount++
		case store.AlreadyExists:
			res.Status = "AlreadyMember"
		default:
			res.Status = "Failed"
			res.Code, res.Message = failure(r.Err)
		}
	}
	return out, nil
}

// accountsIncluding indexes the directory's accounts. The list may come from
// the short cache; when an item is missing from it (an account that joined a
// moment ago) it is read once more from the directory, so "NotInDirectory"
// is always a fresh answer.
func (s *Service) accountsIncluding(ctx context.Context, items []AddItem) (map[string]directory.Account, error) {
	index := func(accounts []directory.Account) map[string]directory.Account {
		m := make(map[string]directory.Account, len(accounts))
		for _, a := range accounts {
			m[a.AccountID] = a
		}
		return m
	}
	accounts, err := s.Accounts.ListAccounts(ctx)
	if err != nil {
		return nil, err
	}
	byID := index(accounts)
	for _, it := range items {
		if _, ok := byID[it.AccountId]; !ok {
			if accounts, err = s.Accounts.RefreshAccounts(ctx); err != nil {
				return nil, err
			}
			return index(accounts), nil
		}
	}
	return byID, nil
}

// failure turns a per-item store error into a code and message for the caller.
func failure(err error) (string, string) {
	if e, ok := apperr.As(err); ok && e.Kind != apperr.KindInternal {
		return e.Code, e.Message
	}
	return "InternalError", "The member could not be written; try again."
}

// ---- list-members ----

// ListInput is the query of list-members.
type ListInput struct {
	Keyword    string
	SortBy     string
	SortOrder  string
	MaxResults string
	NextToken  string
}

// ListOutput is the answer of list-members.
type ListOutput struct {
	Members    []Member
	TotalCount int
	NextToken  string `json:",omitempty"`
}

type listPosition struct {
	AddTimeMs int64  `json:"t,omitempty"`
	AccountID string `json:"a"`
}

// List returns one page of members. Without a keyword a page is one store
// read plus one count; with a keyword the directory's members are scanned
// (at most 10,000 by design) so TotalCount stays exact.
func (s *Service) List(ctx context.Context, sc Scope, in ListInput) (ListOutput, error) {
	limit, err := validate.MaxResults(in.MaxResults, 20, 100)
	if err != nil {
		return ListOutput{}, err
	}
	sortBy, err := validate.OneOf("SortBy", in.SortBy, "AddTime", "AddTime", "AccountId")
	if err != nil {
		return ListOutput{}, err
	}
	order, err := validate.OneOf("SortOrder", in.SortOrder, "Desc", "Desc", "Asc")
	if err != nil {
		return ListOutput{}, err
	}
	if err := validate.Text("Keyword", in.Keyword, 256); err != nil {
		return ListOutput{}, err
	}
	keyword := strings.ToLower(strings.TrimSpace(in.Keyword))
	// The token is bound to everything that shapes the sequence of pages.
	binding := strings.Join([]string{"members", sc.Directory.ID, sortBy, order, keyword}, "\x00")
	q := store.ListQuery{SortBy: store.SortBy(sortBy), Desc: order == "Desc", Limit: limit}
	if in.NextToken != "" {
		var p listPosition
		if err := s.Tokens.Decode(in.NextToken, binding, &p); err != nil {
			return ListOutput{}, err
		}
		q.After = &store.Position{AddTime: time.UnixMilli(p.AddTimeMs).UTC(), AccountID: p.AccountID}
	}

	var page []store.Member
	var more bool
	var total int
	if keyword == "" {
		if page, more, err = s.Store.ListMembers(ctx, sc.Directory.ID, q); err != nil {
			return ListOutput{}, fmt.Errorf("list members: %w", err)
		}
		if total, err = s.Store.CountMembers(ctx, sc.Directory.ID); err != nil {
			return ListOutput{}, fmt.Errorf("count members: %w", err)
		}
	} else {
		page, more, total, err = s.search(ctx, sc.Directory.ID, q, keyword)
		if err != nil {
			return ListOutput{}, err
		}
	}
	out := ListOutput{Members: make([]Member, len(page)), TotalCount: total}
	for i, m := range page {
		out.Members[i] = view(m)
	}
	if more && len(page) > 0 {
		last := page[len(page)-1]
		p := listPosition{AccountID: last.AccountID}
		if q.SortBy == store.SortByAddTime {
			p.AddTimeMs = last.AddTime.UnixMilli()
		}
		out.NextToken = s.Tokens.Encode(binding, p)
	}
	return out, nil
}

// search scans every member in the requested order, counting matches and
// keeping the page that starts after q.After.
func (s *Service) search(ctx context.Context, dirID string, q store.ListQuery, keyword string) (page []store.Member, more bool, total int, err error) {
	scan := store.ListQuery{SortBy: q.SortBy, Desc: q.Desc, Limit: scanPage}
	err = s.scan(ctx, dirID, scan, func(m store.Member) {
		if !matches(keyword, m.AccountID, m.AccountName, m.Remark) {
			return
		}
		total++
		if q.After != nil && !isAfter(m, *q.After, q.SortBy, q.Desc) {
			return
		}
		if len(page) < q.Limit {
			page = append(page, m)
		} else {
			more = true
		}
	})
	if err != nil {
		return nil, false, 0, fmt.Errorf("search members: %w", err)
	}
	return page, more, total, nil
}

// isAfter reports whether m comes strictly after p in the list order: by
// account ID, or by (AddTime, AccountID).
func isAfter(m store.Member, p store.Position, by store.SortBy, desc bool) bool {
	if by == store.SortByAddTime {
		if mt, pt := m.AddTime.UnixMilli(), p.AddTime.UnixMilli(); mt != pt {
			return (mt > pt) != desc
		}
	}
	if m.AccountID == p.AccountID {
		return false
	}
	return (m.AccountID > p.AccountID) != desc
}

// scan visits every member of the directory in q's order.
func (s *Service) scan(ctx context.Context, dirID string, q store.ListQuery, visit func(store.Member)) error {
	for {
		ms, more, err := s.Store.ListMembers(ctx, dirID, q)
		if err != nil {
			return err
		}
		for _, m := range ms {
			visit(m)
		}
		if !more || len(ms) == 0 {
			return nil
		}
		last := ms[len(ms)-1]
		q.After = &store.Position{AddTime: last.AddTime, AccountID: last.AccountID}
	}
}

func matches(keyword string, fields ...string) bool {
	for _, f := range fields {
		if strings.Contains(strings.ToLower(f), keyword) {
			return true
		}
	}
	return false
}

// ---- update-member-remark ----

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
	record := s.Audit.With(sc.Directory.ID, sc.Actor, func(before, after store.Member) audit.Entry {
		return audit.Entry{Action: action.UpdateMemberRemark, Target: after.AccountID, Result: "Updated",
			Detail: map[string]string{"OldRemark": before.Remark, "NewRemark": after.Remark, "Version": audit.Itoa(after.Version)}}
	})
	_, after, err := s.Store.UpdateRemark(ctx, sc.Directory.ID, in.AccountId, *in.Remark, version, s.Now().UTC().Truncate(time.Millisecond), record)
	if err != nil {
		return RemarkOutput{}, fmt.Errorf("update remark: %w", err)
	}
	return RemarkOutput{Member: view(after)}, nil
}

// ---- delete-members ----

// DeleteInput is the body of delete-members.
type DeleteInput struct {
	AccountIds []string
}

// DeleteResult is one item of the answer.
type DeleteResult struct {
	AccountId string
	Status    string // Deleted | NotMember | Failed
	Code      string `json:",omitempty"`
	Message   string `json:",omitempty"`
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
	record := s.Audit.With(sc.Directory.ID, sc.Actor, func(m, _ store.Member) audit.Entry {
		return audit.Entry{Action: action.DeleteMembers, Target: m.AccountID, Result: "Deleted",
			Detail: map[string]string{"AccountName": m.AccountName, "Remark": m.Remark}}
	})
	results, err := s.Store.DeleteMembers(ctx, sc.Directory.ID, ids, record)
	if err != nil {
		return DeleteOutput{}, fmt.Errorf("delete members: %w", err)
	}
	out := DeleteOutput{Results: make([]DeleteResult, len(results))}
	for i, r := range results {
		out.Results[i].AccountId = r.AccountID
		switch r.Status {
		case store.Deleted:
			out.Results[i].Status = "Deleted"
			out.DeletedCount++
		case store.NotFound:
			out.Results[i].Status = "NotMember"
		default:
			out.Results[i].Status = "Failed"
			out.Results[i].Code, out.Results[i].Message = failure(r.Err)
		}
	}
	return out, nil
}

// ---- list-candidates ----

// CandidatesInput is the query of list-candidates.
type CandidatesInput struct {
	Keyword    string
	MaxResults string
	NextToken  string
}

// Candidate is a directory account that is not a SASE member yet.
type Candidate struct {
	AccountId   string
	DisplayName string
	JoinTime    string
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
	binding := strings.Join([]string{"candidates", sc.Directory.ID, keyword}, "\x00")
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
		if a.AccountID == sc.Directory.ManagementAccountID || members[a.AccountID] || !matches(keyword, a.AccountID, a.DisplayName) {
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
		out.Accounts = append(out.Accounts, Candidate{AccountId: a.AccountID, DisplayName: a.DisplayName, JoinTime: audit.FormatTime(a.JoinTime)})
	}
	if end < len(all) {
		out.NextToken = s.Tokens.Encode(binding, listPosition{AccountID: all[end-1].AccountID})
	}
	return out, nil
}
