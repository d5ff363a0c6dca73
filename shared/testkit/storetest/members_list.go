package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/port/store"
)

// cmpPos compares two positions in the ascending list order of by.
func cmpPos(by store.SortBy, a, b store.Position) int {
	if by == store.SortByAddTime {
		if c := a.AddTime.Compare(b.AddTime); c != 0 {
			return c
		}
	}
	return strings.Compare(a.AccountID, b.AccountID)
}

func pos(m store.Member) store.Position {
	return store.Position{AddTime: m.AddTime, AccountID: m.AccountID}
}

// expected is what a list of all of ms in q's order after q.After returns.
func expected(all []store.Member, q store.ListQuery) []string {
	sorted := slices.Clone(all)
	slices.SortFunc(sorted, func(a, b store.Member) int {
		c := cmpPos(q.SortBy, pos(a), pos(b))
		if q.Desc {
			c = -c
		}
		return c
	})
	var out []string
	for _, m := range sorted {
		if q.After != nil {
			c := cmpPos(q.SortBy, pos(m), *q.After)
			if q.Desc {
				c = -c
			}
			if c <= 0 {
				continue
			}
		}
		out = append(out, m.AccountID)
	}
	return out
}

// listAll pages through q with q.Limit and checks every page: full pages
// while more is true, more false exactly on the last page, and the members'
// fields. It returns the account IDs in order.
func listAll(t *testing.T, s store.Store, dir string, q store.ListQuery, byID map[string]store.Member) []string {
	t.Helper()
	var got []string
	for page := 0; ; page++ {
		if page > 200 {
			t.Fatalf("%+v: more than 200 pages", q)
		}
		ms, more, err := s.ListMembers(t.Context(), dir, q)
		if err != nil {
			t.Fatalf("ListMembers(%+v) page %d: %v", q, page, err)
		}
		if len(ms) > q.Limit || (more && len(ms) != q.Limit) {
			t.Fatalf("ListMembers(%+v) page %d: %d members, more=%v", q, page, len(ms), more)
		}
		for _, m := range ms {
			if w, ok := byID[m.AccountID]; !ok {
				t.Fatalf("ListMembers(%+v): unexpected member %s", q, m.AccountID)
			} else if d := diffMember(m, w); d != "" {
				t.Fatalf("ListMembers(%+v): member %s differs:%s", q, m.AccountID, d)
			}
		}
		got = append(got, ids(ms)...)
		if !more {
			return got
		}
		last := pos(ms[len(ms)-1])
		q.After = &last
	}
}

// listDataset adds n members to a fresh directory, with many AddTime ties
// and insertion order unrelated to either list order, plus members of a
// neighbouring directory that must never show.
func listDataset(t *testing.T, s store.Store, n int) (dir string, all []store.Member, byID map[string]store.Member) {
	dir = newDir()
	byID = map[string]store.Member{}
	for i := range n {
		// Account numbers scattered; AddTime in 6 distinct values.
		m := member((i*7919)%1009, base.Add(ms((i*5)%6)))
		all = append(all, m)
		byID[m.AccountID] = stored(dir, m)
	}
	mustAdd(t, s, dir, all[:n/2]...)
	mustAdd(t, s, dir, all[n/2:]...)
	neighbour := newDir()
	for i := range 5 {
		mustAdd(t, s, neighbour, member(2000+i, base.Add(ms(i))))
	}
	return dir, all, byID
}

var orders = []struct {
	by   store.SortBy
	desc bool
}{{store.SortByAddTime, false}, {store.SortByAddTime, true}, {store.SortByAccountID, false}, {store.SortByAccountID, true}}

func testListMembersPaging(t *testing.T, s store.Store) {
	const n = 37
	dir, all, byID := listDataset(t, s, n)
	for _, o := range orders {
		for _, limit := range []int{1, 4, n - 1, n, 1000} {
			q := store.ListQuery{SortBy: o.by, Desc: o.desc, Limit: limit}
			got := listAll(t, s, dir, q, byID)
			if want := expected(all, q); !equalStrings(got, want) {
				t.Errorf("%s desc=%v limit %d:\n got %v\nwant %v", o.by, o.desc, limit, got, want)
			}
		}
	}
}

func testListMembersPositions(t *testing.T, s store.Store) {
	dir, all, byID := listDataset(t, s, 25)
	tie := base.Add(ms(2))
	positions := []store.Position{
		{AddTime: tie, AccountID: ""},                                // before every member of the tie
		{AddTime: tie, AccountID: "9999999999999999"},                // after every member of the tie
		{AddTime: all[7].AddTime, AccountID: all[7].AccountID + "5"}, // inside a tie, not a member
		{AddTime: base.Add(-time.Hour), AccountID: acct(0)},
		{AddTime: base.Add(time.Hour), AccountID: acct(0)},
		pos(all[3]), pos(all[17]),
	}
	for _, o := range orders {
		for _, p := range positions {
			q := store.ListQuery{SortBy: o.by, Desc: o.desc, Limit: 1000, After: &p}
			ms, more, err := s.ListMembers(t.Context(), dir, q)
			if err != nil {
				t.Fatalf("ListMembers(%+v): %v", q, err)
			}
			if want := expected(all, q); more || !equalStrings(ids(ms), want) {
				t.Errorf("%s desc=%v after %+v:\n got %v more=%v\nwant %v more=false", o.by, o.desc, p, ids(ms), more, want)
			}
			// A two-at-a-time walk from the same position sees the same.
			q.Limit = 2
			if got, want := listAll(t, s, dir, q, byID), expected(all, q); !equalStrings(got, want) {
				t.Errorf("%s desc=%v after %+v by twos:\n got %v\nwant %v", o.by, o.desc, p, got, want)
			}
		}
	}
	// For AccountId order only the AccountID of the position counts.
	p := store.Position{AddTime: base.Add(time.Hour), AccountID: all[0].AccountID}
	q := store.ListQuery{SortBy: store.SortByAccountID, Limit: 1000, After: &p}
	ms, _, err := s.ListMembers(t.Context(), dir, q)
	if err != nil {
		t.Fatalf("ListMembers: %v", err)
	}
	if want := expected(all, q); !equalStrings(ids(ms), want) {
		t.Errorf("AccountId order with a foreign AddTime in the position:\n got %v\nwant %v", ids(ms), want)
	}
}

func testListMembersAfterChanges(t *testing.T, s store.Store) {
	ctx := t.Context()
	dir, all, byID := listDataset(t, s, 20)
	// Remarks and renames keep a member in place; deletes remove it from
	// both orders.
	for _, m := range all[:5] {
		_, after, err := s.UpdateRemark(ctx, dir, m.AccountID, "changed", 0, base.Add(time.Hour), nil)
		if err != nil {
			t.Fatalf("UpdateRemark: %v", err)
		}
		byID[m.AccountID] = after
	}
	if _, err := s.RenameMember(ctx, dir, all[5].AccountID, "renamed", base.Add(time.Hour), nil); err != nil {
		t.Fatalf("RenameMember: %v", err)
	}
	byID[all[5].AccountID] = mustGet(t, s, dir, all[5].AccountID)
	var del []string
	for _, m := range all[10:16] {
		del = append(del, m.AccountID)
		delete(byID, m.AccountID)
	}
	if _, err := s.DeleteMembers(ctx, dir, del, nil); err != nil {
		t.Fatalf("DeleteMembers: %v", err)
	}
	remaining := slices.Concat(all[:10], all[16:])
	for _, o := range orders {
		q := store.ListQuery{SortBy: o.by, Desc: o.desc, Limit: 3}
		if got, want := listAll(t, s, dir, q, byID), expected(remaining, q); !equalStrings(got, want) {
			t.Errorf("%s desc=%v after changes:\n got %v\nwant %v", o.by, o.desc, got, want)
		}
	}
	mustCount(t, s, dir, len(remaining))
}

func testListMembersEmpty(t *testing.T, s store.Store) {
	ctx, dir := t.Context(), newDir()
	check := func(what string) {
		t.Helper()
		for _, o := range orders {
			ms, more, err := s.ListMembers(ctx, dir, store.ListQuery{SortBy: o.by, Desc: o.desc, Limit: 20})
			if err != nil || more || len(ms) != 0 {
				t.Errorf("%s: ListMembers(%s desc=%v) = %d members, more=%v, %v; want none", what, o.by, o.desc, len(ms), more, err)
			}
		}
	}
	check("directory never used")
	mustAdd(t, s, dir, member(1, base))
	if _, err := s.DeleteMembers(ctx, dir, []string{acct(1)}, nil); err != nil {
		t.Fatalf("DeleteMembers: %v", err)
	}
	check("directory emptied")
}

func testListMembersInvalidQuery(t *testing.T, s store.Store) {
	dir := newDir()
	mustAdd(t, s, dir, member(1, base))
	for _, q := range []store.ListQuery{
		{SortBy: store.SortByAddTime, Limit: 0},
		{SortBy: store.SortByAddTime, Limit: -1},
		{SortBy: store.SortByAccountID, Limit: 1001},
		{SortBy: "Remark", Limit: 10},
	} {
		_, _, err := s.ListMembers(t.Context(), dir, q)
		wantErr(t, fmt.Sprintf("ListMembers(%+v)", q), err, apperr.KindInvalid, "")
	}
	ms, _, err := s.ListMembers(t.Context(), dir, store.ListQuery{SortBy: store.SortByAccountID, Limit: 1000})
	if err != nil || len(ms) != 1 {
		t.Errorf("ListMembers with Limit 1000 = %d members, %v; want 1", len(ms), err)
	}
}

func testCountMembers(t *testing.T, s store.Store) {
	ctx, dir, other := t.Context(), newDir(), newDir()
	mustCount(t, s, dir, 0)
	var batch []store.Member
	for i := range 30 {
		batch = append(batch, member(i, base.Add(ms(i))))
	}
	mustAdd(t, s, dir, batch...)
	mustAdd(t, s, other, batch[:3]...)
	mustCount(t, s, dir, 30)

	// AlreadyExists and Failed items do not count.
	bad := member(99, base)
	bad.AccountID = ""
	if _, err := s.AddMembers(ctx, dir, []store.Member{batch[0], member(30, base), bad}, nil); err != nil {
		t.Fatalf("AddMembers: %v", err)
	}
	mustCount(t, s, dir, 31)

	// NotFound items do not count either.
	if _, err := s.DeleteMembers(ctx, dir, []string{acct(0), acct(1), acct(500)}, nil); err != nil {
		t.Fatalf("DeleteMembers: %v", err)
	}
	mustCount(t, s, dir, 29)
	mustCount(t, s, other, 3)
}
