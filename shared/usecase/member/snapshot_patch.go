package member

import (
	"cmp"
	"context"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/sase-multiaccount/backend/shared/port/store"
)

const (
	// replayMargin is how many feed positions before the head a rebuild
	// replays later: changes that took their position before the scan may
	// land after it (a Tablestore batch holds at most 49).
	replayMargin = 200
	// maxPatch is the most changes a patch replays; beyond it a rebuild
	// costs about as much.
	maxPatch = 2000
	// maxAge is how long a snapshot is patched before it is read in full
	// again, which bounds what an anomaly the patches cannot see (a feed
	// entry rewritten at a later position) could leave behind.
	maxAge = 10 * time.Minute
)

// patch brings old up to date from the feed: the changes after its cursor
// (one store read while there are fewer than scanPage), then the feed
// head (one read) to tell whether every change taken is in. false: rebuild.
func (s *Service) patch(ctx context.Context, dirID string, old *snapshot, count int, version int64) (*snapshot, bool) {
	if old == nil || old.cursor < 0 || s.now().Sub(old.built) >= maxAge {
		return nil, false
	}
	chs, next, ok := s.changesAfter(ctx, dirID, old.cursor)
	if !ok {
		return nil, false
	}
	head, err := s.feed.FeedHead(ctx, dirID)
	if err != nil {
		return nil, false
	}
	snap := old.apply(chs)
	snap.cursor, snap.built = next, old.built
	if head > next {
		// A change took its position but is not readable yet (in flight,
		// or a writer that failed and whose position is not settled): the
		// copy serves this search, and the next one patches again.
		snap.version, snap.count = old.version, old.count
		return snap, true
	}
	snap.version, snap.count = version, count
	// Every change is in; a copy whose size is not the store's count missed
	// something (or a change landed after the count was read): read again.
	return snap, len(snap.byTime) == count
}

// changesAfter reads the feed after cursor, at most maxPatch changes. A
// cursor the feed no longer keeps means every change up to it expired
// (the feed's retention is far longer than maxAge), so reading from the
// oldest change kept replays no less.
func (s *Service) changesAfter(ctx context.Context, dirID string, cursor int64) ([]store.Change, int64, bool) {
	var chs []store.Change
	for retried := false; len(chs) <= maxPatch; {
		page, next, more, err := s.feed.ListChanges(ctx, dirID, cursor, scanPage)
		if err != nil && !retried && cursor > 0 {
			cursor, retried = 0, true
			continue
		}
		if err != nil {
			s.log.Debug().Err(err).Str("directory_id", dirID).Msg("keyword search: the feed could not be read; reading every member")
			return nil, 0, false
		}
		chs, cursor = append(chs, page...), next
		if !more {
			return chs, cursor, true
		}
	}
	return nil, 0, false
}

// state is what a snapshot knows of one account: present (m) or gone, and
// the order key of that state: (AddTime, Version) of the row, a removal
// after every version of the row it removed, and an account never seen
// before everything.
type state struct {
	m        *store.Member
	gone     bool
	at       int64 // AddTime in ms
	version  int64
	pos      int // the account's position in the old copy, -1 when absent
	modified bool
}

func (st state) before(at, version int64) bool {
	return st.at < at || (st.at == at && st.version < version)
}

// apply replays chs, oldest first, onto a copy of old. A change applies
// only when its key is newer than what the copy knows of the account, so
// replaying a change the copy already has, or one the feed rewrote at a
// later position, changes nothing.
func (old *snapshot) apply(chs []store.Change) *snapshot {
	sts := make(map[string]*state, len(chs))
	for _, c := range chs {
		st, ok := sts[c.Member.AccountID]
		if !ok {
			st = &state{gone: true, at: math.MinInt64, pos: -1}
			sts[c.Member.AccountID] = st
		}
		// The copy's row of this account, if any, is the incarnation some
		// change names (a later one is added after this one is removed):
		// found by its place in AddTime order, no scan.
		if k, found := slices.BinarySearchFunc(old.byTime, &c.Member, byAddTime); found && st.pos < 0 {
			m := old.byTime[k]
			*st = state{m: m, at: m.AddTime.UnixMilli(), version: m.Version, pos: k}
		}
	}
	for _, c := range chs {
		st, m := sts[c.Member.AccountID], c.Member
		at, version := m.AddTime.UnixMilli(), m.Version
		if c.Type == store.MemberRemoved {
			version = math.MaxInt64
		}
		if st.before(at, version) {
			*st = state{m: &m, gone: c.Type == store.MemberRemoved, at: at, version: version, pos: st.pos, modified: true}
		}
	}
	var drop []int
	var add []*store.Member
	for _, st := range sts {
		if st.modified && st.pos >= 0 {
			drop = append(drop, st.pos)
		}
		if st.modified && !st.gone {
			add = append(add, st.m)
		}
	}
	slices.Sort(drop)
	slices.SortFunc(add, byAddTime)
	return old.spliced(drop, add)
}

// spliced is old without the members at positions drop (ascending), with
// add (in byTime order) merged in: runs of unchanged members are copied
// whole, their search text too.
func (old *snapshot) spliced(drop []int, add []*store.Member) *snapshot {
	n := len(old.byTime) - len(drop) + len(add)
	snap := &snapshot{byTime: make([]*store.Member, 0, n), starts: make([]int, 0, n+1)}
	var text strings.Builder
	text.Grow(len(old.text) + 64*len(add))
	run := func(from, to int) { // old members [from, to)
		delta := text.Len() - old.starts[from]
		text.WriteString(old.text[old.starts[from]:old.starts[to]])
		snap.byTime = append(snap.byTime, old.byTime[from:to]...)
		for _, p := range old.starts[from:to] {
			snap.starts = append(snap.starts, p+delta)
		}
	}
	for i := 0; i <= len(old.byTime); {
		// The next event: a dropped position, or where add[0] goes.
		j := len(old.byTime)
		if len(drop) > 0 {
			j = drop[0]
		}
		if len(add) > 0 {
			p, _ := slices.BinarySearchFunc(old.byTime[i:j], add[0], byAddTime)
			j = i + p
		}
		run(i, j)
		switch {
		case len(add) > 0 && (len(drop) == 0 || j < drop[0] || byAddTime(add[0], old.byTime[j]) < 0):
			snap.starts = append(snap.starts, text.Len())
			snap.byTime = append(snap.byTime, add[0])
			text.WriteString(searchText(*add[0]))
			add, i = add[1:], j
		case len(drop) > 0:
			drop, i = drop[1:], j+1
		default:
			i = len(old.byTime) + 1
		}
	}
	snap.text = text.String()
	snap.starts = append(snap.starts, len(snap.text))
	return snap
}

// byAddTime is the store's AddTime order: AddTime, then AccountID.
func byAddTime(a, b *store.Member) int {
	if c := a.AddTime.Compare(b.AddTime); c != 0 {
		return c
	}
	return cmp.Compare(a.AccountID, b.AccountID)
}
