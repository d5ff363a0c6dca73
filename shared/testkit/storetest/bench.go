package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sase-multiaccount/backend/shared/port/store"
)

// benchMembers is the scale envelope of DESIGN.md §4.
const benchMembers = 10_000

// RunBenchmarks measures the operations of a request on a directory of
// 10,000 members. open returns a fresh store; RunBenchmarks closes it.
func RunBenchmarks(b *testing.B, open func(b *testing.B) store.Store) {
	s := open(b)
	b.Cleanup(func() {
		if err := s.Close(); err != nil {
			b.Errorf("Close: %v", err)
		}
	})
	ctx := context.Background()
	dir, all := seedBench(b, s)
	middle := pos(all[benchMembers/2])

	listPage := func(q store.ListQuery) func(b *testing.B) {
		return func(b *testing.B) {
			for b.Loop() {
				ms, more, err := s.ListMembers(ctx, dir, q)
				if err != nil || len(ms) != q.Limit || !more {
					b.Fatalf("ListMembers(%+v) = %d members, more=%v, %v", q, len(ms), more, err)
				}
			}
		}
	}
	b.Run("ListMembers/AddTimeDesc/First20", listPage(store.ListQuery{SortBy: store.SortByAddTime, Desc: true, Limit: 20}))
	b.Run("ListMembers/AddTimeDesc/Middle20", listPage(store.ListQuery{SortBy: store.SortByAddTime, Desc: true, Limit: 20, After: &middle}))
	b.Run("ListMembers/AccountIdAsc/Middle20", listPage(store.ListQuery{SortBy: store.SortByAccountID, Limit: 20, After: &middle}))

	b.Run("CountMembers", func(b *testing.B) {
		for b.Loop() {
			if n, err := s.CountMembers(ctx, dir); err != nil || n != benchMembers {
				b.Fatalf("CountMembers = %d, %v", n, err)
			}
		}
	})

	b.Run("UpdateRemark", func(b *testing.B) {
		id := all[benchMembers/3].AccountID
		i := 0
		for b.Loop() {
			i++
			if _, _, err := s.UpdateRemark(ctx, dir, id, fmt.Sprintf("remark %d", i), 0, base.Add(time.Duration(i)*time.Second), nil); err != nil {
				b.Fatalf("UpdateRemark: %v", err)
			}
		}
	})

	b.Run("AddMembers100", benchAddMembers(s, dir))
}

// seedBench fills a new directory of s with benchMembers members and
// returns it and them.
func seedBench(b *testing.B, s store.Store) (string, []store.Member) {
	dir := newDir()
	// Seed in chunks of 1000 (mustAdd chunks): a handful of writes, not 10,000.
	all := make([]store.Member, benchMembers)
	for i := range all {
		// Two members per millisecond, so AddTime ties are exercised too.
		all[i] = member(i, base.Add(ms(i/2)))
	}
	mustAdd(b, s, dir, all...)
	if n, err := s.CountMembers(context.Background(), dir); err != nil || n != benchMembers {
		b.Fatalf("CountMembers after seeding = %d, %v", n, err)
	}
	return dir, all
}

// benchAddMembers adds 100 new members per iteration; they are deleted
// again outside the timer so the directory stays at benchMembers members.
func benchAddMembers(s store.Store, dir string) func(b *testing.B) {
	return func(b *testing.B) {
		ctx := context.Background()
		next := benchMembers
		batch := make([]store.Member, 100)
		ids := make([]string, 100)
		for b.Loop() {
			for j := range batch {
				batch[j] = member(next, base.Add(ms(next)))
				ids[j] = batch[j].AccountID
				next++
			}
			res, err := s.AddMembers(ctx, dir, batch, nil)
			if err != nil || len(res) != len(batch) {
				b.Fatalf("AddMembers = %d results, %v", len(res), err)
			}
			for _, r := range res {
				if r.Status != store.Added {
					b.Fatalf("AddMembers result %+v, want Added", r)
				}
			}
			b.StopTimer()
			if _, err := s.DeleteMembers(ctx, dir, ids, nil); err != nil {
				b.Fatalf("DeleteMembers: %v", err)
			}
			b.StartTimer()
		}
	}
}
