package member

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

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
// in account ID order. Once the directory mirror has been synced, a page is
// two store reads (the mirror and the member IDs) and no RD call; before
// that (a fresh deployment) the first page reads the directory afresh and
// leaves the list in the cache for the next pages, and says so in the log.
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
		if err := s.tokens.Decode(in.NextToken, binding, &pos); err != nil {
			return CandidatesOutput{}, err
		}
	}
	src, err := s.candidateSource(ctx, sc, in.NextToken != "")
	if err != nil {
		return CandidatesOutput{}, fmt.Errorf("list candidates: %w", err)
	}
	folders, accounts := src.tree, src.accounts
	if in.FolderID != "" && !folders.Has(in.FolderID) {
		return CandidatesOutput{}, errFolderNotFound(in.FolderID)
	}
	// The pool is the candidates in account ID order, made once per copy;
	// a page only filters it by keyword and folder.
	all := make([]int, 0, len(src.pool))
	for _, i := range src.pool {
		if (keyword != "" && !strings.Contains(src.text[i], keyword)) ||
			(in.FolderID != "" && !folders.Within(accounts[i].FolderID, in.FolderID)) {
			continue
		}
		all = append(all, i)
	}
	start, _ := slices.BinarySearchFunc(all, pos.AccountID, func(i int, id string) int {
		return strings.Compare(accounts[i].AccountID, id)
	})
	if pos.AccountID != "" && start < len(all) && accounts[all[start]].AccountID == pos.AccountID {
		start++
	}
	end := min(start+limit, len(all))
	out := CandidatesOutput{Accounts: make([]Candidate, 0, end-start), TotalCount: len(all)}
	for _, i := range all[start:end] {
		a := &accounts[i]
		out.Accounts = append(out.Accounts, Candidate{AccountID: a.AccountID, DisplayName: a.DisplayName, JoinTime: audit.FormatTime(a.JoinTime),
			FolderID: a.FolderID, FolderPath: folders.Path(a.FolderID)})
	}
	if end < len(all) {
		out.NextToken = s.tokens.Encode(binding, listPosition{AccountID: accounts[all[end-1]].AccountID})
	}
	return out, nil
}

// candidates is what a candidates page filters: every account, the folder
// tree and the member set.
type candidates struct {
	accounts []directory.Account
	tree     *directory.FolderTree
	members  map[string]bool
	// Made once per copy (prepare), not per page:
	text []string       // lower-case "UID\x00name" per account
	pool []int          // the accounts that are candidates (neither the MA nor members), in account ID order
	byID map[string]int // account ID -> index in accounts
}

// folderPath is the folder path of a directory account ("" when unknown).
func (c candidates) folderPath(accountID string) string {
	i, ok := c.byID[accountID]
	if !ok || c.tree == nil {
		return ""
	}
	return c.tree.Path(c.accounts[i].FolderID)
}

// prepare makes the search texts and the pool of candidates of a copy.
func (c candidates) prepare(ma string) candidates {
	c.text = make([]string, len(c.accounts))
	c.pool = make([]int, 0, len(c.accounts))
	c.byID = make(map[string]int, len(c.accounts))
	for i, a := range c.accounts {
		c.byID[a.AccountID] = i
		c.text[i] = strings.ToLower(a.AccountID + "\x00" + a.DisplayName)
		if a.AccountID != ma && !c.members[a.AccountID] {
			c.pool = append(c.pool, i)
		}
	}
	slices.SortFunc(c.pool, func(x, y int) int { return strings.Compare(c.accounts[x].AccountID, c.accounts[y].AccountID) })
	return c
}

// candidateSnap is the last candidates read from the mirror, kept per
// instance with the versions it was read at: a page first reads the
// mirror's marks and the member state (two small reads, at once) and uses
// the kept copy while both versions stand, instead of reading all 10,000
// accounts and member IDs again.
type candidateSnap struct {
	mu             sync.Mutex
	dirID          string
	mirror, member int64
	count          int
	c              candidates
}

// memberState is store.MemberState's answer.
type memberState struct {
	count   int
	version int64
	err     error
}

// versions reads the member state and the mirror's marks at once (two
// small reads, one round trip); marks are zero before the first sync.
func (s *Service) versions(ctx context.Context, dirID string) (memberState, store.MirrorMarks, error) {
	var st memberState
	done := make(chan struct{})
	go func() {
		defer close(done)
		st.count, st.version, st.err = s.store.MemberState(ctx, dirID)
	}()
	marks, err := s.mirror.MirrorMarks(ctx, dirID)
	<-done
	if st.err != nil {
		return st, marks, fmt.Errorf("member state: %w", st.err)
	}
	if err != nil {
		return st, marks, fmt.Errorf("mirror marks: %w", err)
	}
	return st, marks, nil
}

// mirrorCandidates returns the candidates from the mirror, and ok false
// when the mirror was never synced.
func (s *Service) mirrorCandidates(ctx context.Context, dirID, ma string) (c candidates, ok bool, err error) {
	st, marks, err := s.versions(ctx, dirID)
	if err != nil {
		return c, false, err
	}
	return s.mirrorCopy(ctx, dirID, ma, st, marks)
}

// mirrorCopy is the instance's copy of the mirror when st and marks say it
// is current, else a fresh read of the mirror and the member IDs; ok is
// false when the mirror was never synced.
func (s *Service) mirrorCopy(ctx context.Context, dirID, ma string, st memberState, marks store.MirrorMarks) (c candidates, ok bool, err error) {
	count, memberV := st.count, st.version
	if marks.SyncTime.IsZero() {
		return c, false, nil
	}
	s.cands.mu.Lock()
	fresh := s.cands.dirID == dirID && s.cands.mirror == marks.Version && s.cands.member == memberV && s.cands.count == count
	kept := s.cands.c
	s.cands.mu.Unlock()
	if fresh {
		return kept, true, nil
	}
	// Read both in full, at once. A change after the versions were read
	// leaves the copy stale by its versions: the next page reads again.
	var ids []string
	var idsErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		ids, idsErr = s.mirror.MemberIDs(ctx, dirID)
	}()
	m, err := s.mirror.ReadMirror(ctx, dirID)
	<-done
	if err != nil {
		return c, false, err
	}
	if idsErr != nil {
		return c, false, idsErr
	}
	c.members = make(map[string]bool, len(ids))
	for _, id := range ids {
		c.members[id] = true
	}
	c.accounts = make([]directory.Account, len(m.Accounts))
	for i, a := range m.Accounts {
		c.accounts[i] = directory.Account{AccountID: a.AccountID, DisplayName: a.DisplayName, JoinTime: a.JoinTime, FolderID: a.FolderID}
	}
	c.tree = directory.NewFolderTree(mirrorFolders(m.Folders))
	c = c.prepare(ma)
	s.cands.mu.Lock()
	s.cands.dirID, s.cands.mirror, s.cands.member, s.cands.count, s.cands.c = dirID, marks.Version, memberV, count, c
	s.cands.mu.Unlock()
	return c, true, nil
}

// candidateSource reads the mirror when it has been synced, else the
// directory (cached for later pages).
func (s *Service) candidateSource(ctx context.Context, sc Scope, later bool) (candidates, error) {
	var c candidates
	mc, ok, err := s.mirrorCandidates(ctx, sc.Directory.ID, sc.Directory.ManagementAccountID)
	if err != nil || ok {
		return mc, err
	}
	memberIDs, err := s.mirror.MemberIDs(ctx, sc.Directory.ID)
	if err != nil {
		return c, err
	}
	s.log.Info().Str("directory_id", sc.Directory.ID).
		Msg("list-candidates: the directory mirror has never been synced (reconcile-members has not run yet); reading Resource Directory instead")
	list := s.accounts.RefreshAccounts
	if later {
		list = s.accounts.ListAccounts
	}
	tree, err := s.tree(ctx)
	if err != nil {
		return c, err
	}
	accounts, err := list(ctx)
	if err != nil {
		return c, err
	}
	c.tree, c.accounts, c.members = tree, accounts, make(map[string]bool, len(memberIDs))
	for _, id := range memberIDs {
		c.members[id] = true
	}
	return c.prepare(sc.Directory.ManagementAccountID), nil
}

func mirrorFolders(fs []store.MirrorFolder) []directory.Folder {
	out := make([]directory.Folder, len(fs))
	for i, f := range fs {
		out[i] = directory.Folder{ID: f.ID, Name: f.Name, ParentID: f.ParentID}
	}
	return out
}
