package tablestore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sase-multiaccount/backend/shared/port/store"
	"github.com/sase-multiaccount/backend/shared/testkit/otsfake"
	"github.com/sase-multiaccount/backend/shared/testkit/storetest"
)

// TestContract runs the store contract suite against the adapter, with the
// real SDK talking HTTP to the wire-level fake.
func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openFresh(t) })
}

// TestContractStrictConditions runs the suite again against a fake that
// fails column conditions on missing rows (an UNCONFIRMED service
// semantic the counter row meets on a directory's first write).
func TestContractStrictConditions(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return newEnv(t, otsfake.Options{MissingRowFailsColumnCondition: true}).open(t, nil)
	})
}

// BenchmarkStore runs the suite's benchmarks (a directory of 10,000
// members) over the fake, and logs the requests each store call made.
func BenchmarkStore(b *testing.B) {
	var cs *countingStore
	storetest.RunBenchmarks(b, func(b *testing.B) store.Store {
		e := newEnv(b, otsfake.Options{})
		cs = &countingStore{Store: e.open(b, nil), fake: e.fake, stats: map[string]*callStats{}}
		return cs
	})
	b.Log(cs.report())
}

// countingStore records the fake's read and write requests per store
// method. The benchmarks call the store from one goroutine, so the deltas
// around a call are that call's.
type countingStore struct {
	*Store
	fake  *otsfake.Server
	mu    sync.Mutex
	stats map[string]*callStats
}

type callStats struct{ calls, reads, writes int }

func (c *countingStore) track(method string) func() {
	r0, w0 := c.fake.Reads(), c.fake.Writes()
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		st := c.stats[method]
		if st == nil {
			st = &callStats{}
			c.stats[method] = st
		}
		st.calls++
		st.reads += c.fake.Reads() - r0
		st.writes += c.fake.Writes() - w0
	}
}

func (c *countingStore) report() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var lines []string
	for _, m := range slices.Sorted(func(yield func(string) bool) {
		for k := range c.stats {
			if !yield(k) {
				return
			}
		}
	}) {
		st := c.stats[m]
		lines = append(lines, fmt.Sprintf("%-17s %6d calls  %6.2f reads/call  %6.2f writes/call",
			m, st.calls, float64(st.reads)/float64(st.calls), float64(st.writes)/float64(st.calls)))
	}
	return "requests at the fake per store call (seeding included):\n" + strings.Join(lines, "\n")
}

func (c *countingStore) AddMembers(ctx context.Context, dir string, ms []store.Member, audit store.AuditOf) ([]store.AddResult, error) {
	defer c.track(fmt.Sprintf("AddMembers%d", len(ms)))()
	return c.Store.AddMembers(ctx, dir, ms, audit)
}

func (c *countingStore) ListMembers(ctx context.Context, dir string, q store.ListQuery) ([]store.Member, bool, error) {
	defer c.track("ListMembers")()
	return c.Store.ListMembers(ctx, dir, q)
}

func (c *countingStore) CountMembers(ctx context.Context, dir string) (int, error) {
	defer c.track("CountMembers")()
	return c.Store.CountMembers(ctx, dir)
}

func (c *countingStore) UpdateRemark(ctx context.Context, dir, id, remark string, v int64, now time.Time, audit store.AuditOf) (store.Member, store.Member, error) {
	defer c.track("UpdateRemark")()
	return c.Store.UpdateRemark(ctx, dir, id, remark, v, now, audit)
}

func (c *countingStore) DeleteMembers(ctx context.Context, dir string, ids []string, audit store.AuditOf) ([]store.DeleteResult, error) {
	defer c.track(fmt.Sprintf("DeleteMembers%d", len(ids)))()
	return c.Store.DeleteMembers(ctx, dir, ids, audit)
}
