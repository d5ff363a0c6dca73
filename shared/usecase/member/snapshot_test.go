package member_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sase-multiaccount/backend/shared/action"
	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/port/store"
	"github.com/sase-multiaccount/backend/shared/usecase/audit"
	"github.com/sase-multiaccount/backend/shared/usecase/member"
)

// countingMembers counts the full reads of the member table a search makes.
type countingMembers struct {
	store.Members
	lists atomic.Int64
}

func (c *countingMembers) ListMembers(ctx context.Context, dirID string, q store.ListQuery) ([]store.Member, bool, error) {
	c.lists.Add(1)
	return c.Members.ListMembers(ctx, dirID, q)
}

// After any sequence of changes made elsewhere (another instance: adds,
// removals, re-adds, remarks, and renames by directory events), a keyword
// search answers exactly what a fresh instance answers, in both orders,
// and brings its copy up to date from the feed without reading the member
// table again.
func TestKeywordSearchFollowsTheFeed(t *testing.T) {
	e := newEnv(t, 60)
	counted := &countingMembers{Members: e.Store}
	plain := e.deps // the other instances read the store uncounted
	e.rebuild(func(d *member.Deps) { d.Store = counted })
	other := member.New(plain)
	dir := e.sc.Directory.ID
	renamed := e.Recorder.With(dir, audit.Actor{Role: "System", RequestID: "rename"}, func(_, after store.Member) audit.Entry {
		return audit.Entry{Action: action.DirectoryEvents, Target: after.AccountID, Result: "Renamed"}
	})
	rng := rand.New(rand.NewPCG(7, 11))
	search := func(svc *member.Service, keyword string, sortBy string) []string {
		t.Helper()
		out, err := svc.List(e.Ctx, e.sc, member.ListInput{Keyword: keyword, SortBy: sortBy, MaxResults: "100"})
		if err != nil {
			t.Fatal(err)
		}
		return ids(out.Members)
	}
	search(e.svc, "team", "") // the one full read
	reads := counted.lists.Load()
	for step := range 300 {
		e.Now = e.Now.Add(time.Millisecond)
		id := uid(1 + rng.IntN(60))
		word := []string{"red team", "blue team", "green"}[rng.IntN(3)]
		var err error
		switch rng.IntN(4) {
		case 0:
			_, err = other.Add(e.Ctx, e.sc, member.AddInput{Members: []member.AddItem{{AccountID: id, Remark: word}}})
		case 1:
			_, err = other.Delete(e.Ctx, e.sc, member.DeleteInput{AccountIDs: []string{id}})
		case 2:
			_, err = other.UpdateRemark(e.Ctx, e.sc, member.RemarkInput{AccountID: id, Remark: &word})
		case 3:
			_, err = e.Store.RenameMember(e.Ctx, dir, id, fmt.Sprintf("%s %d", word, step), e.Clock(), renamed)
		}
		if err != nil && !apperr.IsCode(err, apperr.CodeMemberNotFound) { // a remark for no member
			t.Fatalf("step %d: %v", step, err)
		}
		for _, sortBy := range []string{"", "AccountId"} {
			fresh := member.New(plain) // a new instance: reads everything
			if got, want := search(e.svc, "team", sortBy), search(fresh, "team", sortBy); !slices.Equal(got, want) {
				t.Fatalf("step %d, order %q: the kept copy finds %v, a fresh read %v", step, sortBy, got, want)
			}
		}
	}
	if got := counted.lists.Load() - reads; got != 0 {
		t.Errorf("the kept copy read the member table %d times more after 300 changes; want 0 (patched from the feed)", got)
	}
}
