package member

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sase-multiaccount/backend/shared/port/store"
)

// A keyword search matches every member, so it would read the whole member
// table (10 store reads at 10,000 members) on every request. Instead each
// instance keeps one snapshot of the directory's members with their search
// text, checked with one read of the members version (store.MemberState)
// on every search: a snapshot is never served once a member changed,
// wherever the change was made. A changed one is brought up to date from
// the store's feed (snapshot_patch.go) instead of being read again.
type snapshots struct {
	mu   sync.Mutex
	byID map[string]*snapshot // by directory
}

type snapshot struct {
	version int64
	count   int
	// cursor is the feed position the snapshot follows from: every change
	// at or before it is in the copy, and replaying later ones brings it
	// up to date (-1: the feed could not be read, so only a rebuild can).
	cursor int64
	built  time.Time // when the members were last read in full
	// byTime is the members in AddTime, then AccountID, order (the store's);
	// pointers, so a patched copy shares the rows it did not change.
	byTime []*store.Member
	// text is every member's search text (the lower-case account ID, name
	// and remark, NUL-separated) in byTime order, each ended by "\x01";
	// starts[k] is where member k's begins (and starts[n] the end). One
	// strings.Index over it finds the matches far faster than one
	// strings.Contains per member.
	text   string
	starts []int

	idOnce sync.Once
	byID   []int32 // indexes into byTime, by AccountID ascending (idOrder)

	mu   sync.Mutex
	hits map[string][]bool // by keyword: paging through a search matches once
}

// maxHits bounds the keywords whose matches a snapshot keeps.
const maxHits = 32

// members returns a current snapshot of dirID's members: the cached one
// when its version is the store's, else the cached one brought up to date
// from the feed, else a fresh scan. count and version are the store's
// MemberState, read by the caller.
func (s *Service) members(ctx context.Context, dirID string, count int, version int64) (*snapshot, error) {
	s.snaps.mu.Lock()
	old := s.snaps.byID[dirID]
	s.snaps.mu.Unlock()
	if old != nil && old.version == version && old.count == count {
		return old, nil
	}
	snap, ok := s.patch(ctx, dirID, old, count, version)
	if !ok {
		var err error
		if snap, err = s.build(ctx, dirID, count, version); err != nil {
			return nil, err
		}
	}
	s.snaps.mu.Lock()
	if s.snaps.byID == nil {
		s.snaps.byID = map[string]*snapshot{}
	}
	s.snaps.byID[dirID] = snap
	s.snaps.mu.Unlock()
	return snap, nil
}

// build reads every member. A change between the version read and the
// scan makes the snapshot newer than its version says: it is brought up
// to date again on the next search.
func (s *Service) build(ctx context.Context, dirID string, count int, version int64) (*snapshot, error) {
	snap := &snapshot{version: version, count: count, cursor: -1, built: s.now(),
		byTime: make([]*store.Member, 0, count), starts: make([]int, 0, count+1)}
	rows := make([]store.Member, 0, count) // one allocation for the rows byTime points at
	// The feed head before the scan: changes after it are replayed later,
	// and so are the replayMargin before it, which may still have been in
	// flight while the scan read (replaying a change the copy has is
	// harmless, see apply).
	if head, err := s.feed.FeedHead(ctx, dirID); err == nil {
		snap.cursor = max(0, head-replayMargin)
	}
	var text strings.Builder
	text.Grow(count * 64)
	err := s.scan(ctx, dirID, store.ListQuery{SortBy: store.SortByAddTime, Limit: scanPage}, func(m store.Member) {
		snap.starts = append(snap.starts, text.Len())
		if len(rows) == cap(rows) { // more members than counted: a new array, the old rows stay put
			rows = make([]store.Member, 0, max(64, cap(rows)/4))
		}
		rows = append(rows, m)
		snap.byTime = append(snap.byTime, &rows[len(rows)-1])
		text.WriteString(searchText(m))
	})
	if err != nil {
		return nil, fmt.Errorf("search members: %w", err)
	}
	snap.text = text.String()
	snap.starts = append(snap.starts, len(snap.text))
	return snap, nil
}

// searchText is a member's part of snapshot.text.
func searchText(m store.Member) string {
	return strings.ToLower(m.AccountID+"\x00"+m.AccountName+"\x00"+m.Remark) + "\x01"
}

// idOrder is byTime's indexes by AccountID, sorted on first use: only an
// AccountId-ordered search needs it. Indexes, not copies: a Member is too
// big to move 10,000 times in a sort.
func (snap *snapshot) idOrder() []int32 {
	snap.idOnce.Do(func() {
		snap.byID = make([]int32, len(snap.byTime))
		for i := range snap.byID {
			snap.byID[i] = int32(i)
		}
		slices.SortFunc(snap.byID, func(a, b int32) int {
			return strings.Compare(snap.byTime[a].AccountID, snap.byTime[b].AccountID)
		})
	})
	return snap.byID
}

// search counts the members matching keyword and keeps the page that
// starts after q.After, in the requested order.
func (s *Service) search(ctx context.Context, dirID string, st memberState, q store.ListQuery, keyword string) (page []store.Member, more bool, total int, err error) {
	snap, err := s.members(ctx, dirID, st.count, st.version)
	if err != nil {
		return nil, false, 0, err
	}
	hit := snap.matchCached(keyword)
	visit := func(k int) {
		if !hit[k] {
			return
		}
		total++
		m := snap.byTime[k]
		if q.After != nil && !isAfter(*m, *q.After, q.SortBy, q.Desc) {
			return
		}
		if len(page) < q.Limit {
			page = append(page, *m)
		} else {
			more = true
		}
	}
	n := len(snap.byTime)
	at := func(i int) int { return i } // the i-th member in the requested order
	if q.SortBy == store.SortByAccountID {
		byID := snap.idOrder()
		at = func(i int) int { return int(byID[i]) }
	}
	for i := range n {
		if q.Desc {
			visit(at(n - 1 - i))
		} else {
			visit(at(i))
		}
	}
	return page, more, total, nil
}

// matchCached is match, remembered for the snapshot's life (the next pages
// of a search ask again with the same keyword).
func (snap *snapshot) matchCached(keyword string) []bool {
	snap.mu.Lock()
	hit, ok := snap.hits[keyword]
	snap.mu.Unlock()
	if ok {
		return hit
	}
	hit = snap.match(keyword)
	snap.mu.Lock()
	if snap.hits == nil || len(snap.hits) >= maxHits {
		snap.hits = map[string][]bool{}
	}
	snap.hits[keyword] = hit
	snap.mu.Unlock()
	return hit
}

// match marks the members whose search text contains keyword.
func (snap *snapshot) match(keyword string) []bool {
	hit := make([]bool, len(snap.byTime))
	for pos := 0; pos < len(snap.text); {
		i := strings.Index(snap.text[pos:], keyword)
		if i < 0 {
			break
		}
		at := pos + i
		k, _ := slices.BinarySearch(snap.starts, at+1)
		k--                         // the member whose text holds at
		end := snap.starts[k+1] - 1 // its "\x01"
		if at+len(keyword) <= end {
			hit[k] = true
			pos = end + 1 // on to the next member
		} else {
			pos = at + 1 // the keyword ran into the next member: look on
		}
	}
	return hit
}
