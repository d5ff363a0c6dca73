package member

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/sase-multiaccount/backend/shared/port/store"
	"github.com/sase-multiaccount/backend/shared/validate"
)

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
		if err := s.tokens.Decode(in.NextToken, binding, &p); err != nil {
			return ListOutput{}, err
		}
		q.After = &store.Position{AddTime: time.UnixMilli(p.AddTimeMs).UTC(), AccountID: p.AccountID}
	}

	var page []store.Member
	var more bool
	var total int
	// The exact count (with the members version) and the mirror's marks,
	// for the folder paths, are read while the page is: a page waits for
	// one round trip, not two.
	type vs struct {
		st    memberState
		marks store.MirrorMarks
		err   error
	}
	read := make(chan vs, 1)
	go func() {
		st, marks, err := s.versions(ctx, sc.Directory.ID)
		read <- vs{st, marks, err}
	}()
	if keyword == "" {
		page, more, err = s.store.ListMembers(ctx, sc.Directory.ID, q)
	}
	v := <-read
	if err != nil {
		return ListOutput{}, fmt.Errorf("list members: %w", err)
	}
	if v.err != nil {
		return ListOutput{}, fmt.Errorf("list members: %w", v.err)
	}
	total = v.st.count
	if keyword != "" {
		if page, more, total, err = s.search(ctx, sc.Directory.ID, v.st, q, keyword); err != nil {
			return ListOutput{}, err
		}
	}
	folders := s.mirrorPaths(ctx, sc, v.st, v.marks)
	out := ListOutput{Members: make([]Member, len(page)), TotalCount: total}
	for i, m := range page {
		out.Members[i] = view(m)
		out.Members[i].FolderPath = folders.folderPath(m.AccountID)
	}
	if more && len(page) > 0 {
		last := page[len(page)-1]
		p := listPosition{AccountID: last.AccountID}
		if q.SortBy == store.SortByAddTime {
			p.AddTimeMs = last.AddTime.UnixMilli()
		}
		out.NextToken = s.tokens.Encode(binding, p)
	}
	return out, nil
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

// mirrorPaths is the mirror's copy, for folder paths; empty (no paths) when
// there is no synced mirror or it cannot be read: the member list does not
// depend on it.
func (s *Service) mirrorPaths(ctx context.Context, sc Scope, st memberState, marks store.MirrorMarks) candidates {
	c, ok, err := s.mirrorCopy(ctx, sc.Directory.ID, sc.Directory.ManagementAccountID, st, marks)
	if err != nil {
		s.log.Warn().Err(err).Str("directory_id", sc.Directory.ID).Msg("list-members: folder paths left out: the directory mirror could not be read")
	}
	if err != nil || !ok {
		return candidates{}
	}
	return c
}
