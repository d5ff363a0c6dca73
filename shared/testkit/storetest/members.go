package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/port/store"
)

func testAddMembers(t *testing.T, s store.Store) {
	ctx, dir := t.Context(), newDir()

	// Every field is distinct so a swapped or dropped field shows.
	a := store.Member{
		AccountID:   acct(1),
		AccountName: "生产账号 — prod ✓",
		AddTime:     base,
		AddedBy:     acct(0),
		Remark:      "备注：核心业务 🚀 ünïcödé\t\"quoted\"",
		Version:     7, // the store sets 1 whatever the caller passes
		UpdateTime:  base.Add(ms(1)),
		NameTime:    base.Add(-time.Hour),
	}
	b := member(2, base.Add(ms(999)))
	c := member(3, time.Date(1969, 12, 31, 23, 59, 59, 999_000_000, time.UTC)) // before the Unix epoch
	c.Remark = ""

	res, err := s.AddMembers(ctx, dir, []store.Member{a, b, c}, nil)
	if err != nil {
		t.Fatalf("AddMembers: %v", err)
	}
	want := []store.AddResult{{AccountID: a.AccountID, Status: store.Added}, {AccountID: b.AccountID, Status: store.Added}, {AccountID: c.AccountID, Status: store.Added}}
	if !slices.Equal(res, want) {
		t.Fatalf("AddMembers = %+v, want %+v", res, want)
	}
	for _, m := range []store.Member{a, b, c} {
		checkMember(t, "GetMember "+m.AccountID, mustGet(t, s, dir, m.AccountID), stored(dir, m))
	}
	mustCount(t, s, dir, 3)

	// A second add of an existing member reports it and leaves the row alone;
	// results stay in input order around it.
	a2 := a
	a2.Remark, a2.AccountName = "overwritten?", "overwritten?"
	d := member(4, base.Add(ms(5)))
	res, err = s.AddMembers(ctx, dir, []store.Member{d, a2}, nil)
	if err != nil {
		t.Fatalf("second AddMembers: %v", err)
	}
	want = []store.AddResult{{AccountID: d.AccountID, Status: store.Added}, {AccountID: a.AccountID, Status: store.AlreadyExists}}
	if !slices.Equal(res, want) {
		t.Fatalf("second AddMembers = %+v, want %+v", res, want)
	}
	checkMember(t, "existing member after second add", mustGet(t, s, dir, a.AccountID), stored(dir, a))
	mustCount(t, s, dir, 4)

	// The same account in another directory is another member.
	other := newDir()
	mustAdd(t, s, other, a2)
	checkMember(t, "member of other directory", mustGet(t, s, other, a.AccountID), stored(other, a2))
	checkMember(t, "member of first directory", mustGet(t, s, dir, a.AccountID), stored(dir, a))

	for _, in := range [][]store.Member{nil, {}} {
		res, err := s.AddMembers(ctx, dir, in, nil)
		if err != nil || len(res) != 0 {
			t.Errorf("AddMembers(%#v) = %v, %v; want no results, no error", in, res, err)
		}
	}
	mustCount(t, s, dir, 4)
}

func testAddMembersInvalidItem(t *testing.T, s store.Store) {
	dir := newDir()
	bad := member(2, base)
	bad.AccountID = ""
	res, err := s.AddMembers(t.Context(), dir, []store.Member{member(1, base), bad, member(3, base)}, nil)
	if err != nil {
		t.Fatalf("AddMembers: %v (one bad item must not fail the call)", err)
	}
	if len(res) != 3 {
		t.Fatalf("AddMembers returned %d results, want 3", len(res))
	}
	if res[0].Status != store.Added || res[2].Status != store.Added {
		t.Errorf("valid items = %+v, %+v; want Added", res[0], res[2])
	}
	if res[1].Status != store.AddFailed {
		t.Errorf("item with empty AccountID = %+v, want Failed", res[1])
	}
	wantErr(t, "item with empty AccountID", res[1].Err, apperr.KindInvalid, "")
	mustCount(t, s, dir, 2)
}

func testTimesKeepMilliseconds(t *testing.T, s store.Store) {
	// DESIGN.md §4 stores times in milliseconds; both adapters truncate the
	// same way so that list order and positions agree.
	dir := newDir()
	fine := time.Date(2026, 3, 4, 5, 6, 7, 123_456_789, time.FixedZone("CST", 8*3600))
	m := member(1, fine)
	m.UpdateTime, m.NameTime = fine.Add(time.Microsecond), fine.Add(999*time.Microsecond)
	mustAdd(t, s, dir, m)
	got := mustGet(t, s, dir, m.AccountID)
	want := stored(dir, m)
	// Truncated, not rounded: .123456789 and .124455789 become .123 and .124.
	want.AddTime = time.Date(2026, 3, 4, 5, 6, 7, 123_000_000, fine.Location())
	want.UpdateTime = want.AddTime
	want.NameTime = want.AddTime.Add(ms(1))
	checkMember(t, "member with sub-millisecond times", got, want)

	_, after, err := s.UpdateRemark(t.Context(), dir, m.AccountID, "x", 0, fine.Add(time.Second+time.Nanosecond), nil)
	if err != nil {
		t.Fatalf("UpdateRemark: %v", err)
	}
	if w := fine.Add(time.Second).Truncate(time.Millisecond); !after.UpdateTime.Equal(w) {
		t.Errorf("UpdateTime after UpdateRemark = %s, want %s", after.UpdateTime, w)
	}
}

func testGetMemberNotFound(t *testing.T, s store.Store) {
	ctx, dir := t.Context(), newDir()
	_, err := s.GetMember(ctx, dir, acct(1))
	wantErr(t, "GetMember in a directory without members", err, apperr.KindNotFound, apperr.CodeMemberNotFound)

	mustAdd(t, s, dir, member(1, base))
	_, err = s.GetMember(ctx, dir, acct(2))
	wantErr(t, "GetMember of another account", err, apperr.KindNotFound, apperr.CodeMemberNotFound)
	_, err = s.GetMember(ctx, newDir(), acct(1))
	wantErr(t, "GetMember in another directory", err, apperr.KindNotFound, apperr.CodeMemberNotFound)
}

func testUpdateRemark(t *testing.T, s store.Store) {
	ctx, dir := t.Context(), newDir()
	m := member(1, base)
	mustAdd(t, s, dir, m, member(2, base))
	orig := stored(dir, m)

	t1 := base.Add(time.Minute)
	before, after, err := s.UpdateRemark(ctx, dir, m.AccountID, "新备注 ✓", 1, t1, nil)
	if err != nil {
		t.Fatalf("UpdateRemark(expect 1): %v", err)
	}
	checkMember(t, "before", before, orig)
	want := orig
	want.Remark, want.Version, want.UpdateTime = "新备注 ✓", 2, t1
	checkMember(t, "after", after, want)
	checkMember(t, "GetMember after update", mustGet(t, s, dir, m.AccountID), want)

	// A stale version is a conflict and changes nothing.
	_, _, err = s.UpdateRemark(ctx, dir, m.AccountID, "lost", 1, t1.Add(time.Second), nil)
	wantErr(t, "UpdateRemark with stale version", err, apperr.KindConflict, apperr.CodeVersionConflict)
	_, _, err = s.UpdateRemark(ctx, dir, m.AccountID, "lost", 3, t1.Add(time.Second), nil)
	wantErr(t, "UpdateRemark with future version", err, apperr.KindConflict, apperr.CodeVersionConflict)
	checkMember(t, "GetMember after conflicts", mustGet(t, s, dir, m.AccountID), want)

	// expectVersion 0 means any version.
	t2 := t1.Add(time.Minute)
	before, after, err = s.UpdateRemark(ctx, dir, m.AccountID, "", 0, t2, nil)
	if err != nil {
		t.Fatalf("UpdateRemark(expect 0): %v", err)
	}
	checkMember(t, "before (expect 0)", before, want)
	want.Remark, want.Version, want.UpdateTime = "", 3, t2
	checkMember(t, "after clearing the remark", after, want)

	// The current version is accepted.
	if _, after, err = s.UpdateRemark(ctx, dir, m.AccountID, "again", 3, t2, nil); err != nil {
		t.Fatalf("UpdateRemark(expect 3): %v", err)
	}
	if after.Version != 4 || after.Remark != "again" {
		t.Errorf("after = version %d remark %q, want 4 %q", after.Version, after.Remark, "again")
	}
	// The other member is untouched.
	checkMember(t, "other member", mustGet(t, s, dir, acct(2)), stored(dir, member(2, base)))
}

func testUpdateRemarkMissing(t *testing.T, s store.Store) {
	ctx, dir := t.Context(), newDir()
	_, _, err := s.UpdateRemark(ctx, dir, acct(1), "x", 0, base, nil)
	wantErr(t, "UpdateRemark in a directory without members", err, apperr.KindNotFound, apperr.CodeMemberNotFound)
	mustAdd(t, s, dir, member(1, base))
	_, _, err = s.UpdateRemark(ctx, dir, acct(2), "x", 0, base, nil)
	wantErr(t, "UpdateRemark of a non-member", err, apperr.KindNotFound, apperr.CodeMemberNotFound)
	_, _, err = s.UpdateRemark(ctx, dir, acct(2), "x", 1, base, nil)
	wantErr(t, "UpdateRemark of a non-member with a version", err, apperr.KindNotFound, apperr.CodeMemberNotFound)
	// Not found is reported even when a version is given, and no row appeared.
	mustCount(t, s, dir, 1)
	if _, err := s.GetMember(ctx, dir, acct(2)); !apperr.IsCode(err, apperr.CodeMemberNotFound) {
		t.Errorf("GetMember of the non-member after UpdateRemark: %v, want not found", err)
	}
}

func testRenameMember(t *testing.T, s store.Store) {
	ctx, dir := t.Context(), newDir()
	t0 := base
	m := member(1, t0)
	m.AccountName = "old"
	mustAdd(t, s, dir, m)
	want := stored(dir, m)

	rename := func(name string, asOf time.Time, wantChanged bool) {
		t.Helper()
		changed, err := s.RenameMember(ctx, dir, m.AccountID, name, asOf, nil)
		if err != nil {
			t.Fatalf("RenameMember(%q, %s): %v", name, asOf, err)
		}
		if changed != wantChanged {
			t.Errorf("RenameMember(%q, %s) changed = %v, want %v", name, asOf, changed, wantChanged)
		}
		checkMember(t, fmt.Sprintf("member after RenameMember(%q, %s)", name, asOf), mustGet(t, s, dir, m.AccountID), want)
	}

	rename("older", t0.Add(-time.Second), false)
	rename("same time", t0, false) // strictly newer only: a redelivery changes nothing

	t1 := t0.Add(time.Minute)
	want.AccountName, want.NameTime, want.Version, want.UpdateTime = "new 名字", t1, 2, t1
	rename("new 名字", t1, true)

	rename("stale", t0.Add(30*time.Second), false)

	// A newer observation of the same name advances NameTime (so an older
	// event still loses) but is not a change: no Version bump.
	t2 := t1.Add(time.Minute)
	want.NameTime = t2
	rename("new 名字", t2, false)
	rename("stale after same name", t1.Add(30*time.Second), false)

	// UpdateTime never goes backwards: a remark edit after the observation
	// time keeps its UpdateTime when an older-than-it rename lands.
	t4 := t2.Add(time.Hour)
	if _, _, err := s.UpdateRemark(ctx, dir, m.AccountID, "r", 0, t4, nil); err != nil {
		t.Fatalf("UpdateRemark: %v", err)
	}
	t3 := t2.Add(time.Minute)
	want.Remark, want.Version, want.UpdateTime = "r", 3, t4
	want.AccountName, want.NameTime, want.Version = "newest", t3, 4
	rename("newest", t3, true)

	for _, c := range []struct{ dir, id string }{{dir, acct(2)}, {newDir(), acct(1)}} {
		changed, err := s.RenameMember(ctx, c.dir, c.id, "x", t4, nil)
		if err != nil || changed {
			t.Errorf("RenameMember of missing member %s/%s = %v, %v; want false, nil", c.dir, c.id, changed, err)
		}
	}
	mustCount(t, s, dir, 1)
}

func testDeleteMembers(t *testing.T, s store.Store) {
	ctx, dir, other := t.Context(), newDir(), newDir()
	a, b, c := member(1, base), member(2, base.Add(ms(1))), member(3, base.Add(ms(2)))
	mustAdd(t, s, dir, a, b, c)
	mustAdd(t, s, other, a, b)

	res, err := s.DeleteMembers(ctx, dir, []string{b.AccountID, acct(9), a.AccountID}, nil)
	if err != nil {
		t.Fatalf("DeleteMembers: %v", err)
	}
	if len(res) != 3 {
		t.Fatalf("DeleteMembers returned %d results, want 3", len(res))
	}
	for i, w := range []struct {
		id     string
		status store.DeleteStatus
		m      store.Member
	}{{b.AccountID, store.Deleted, stored(dir, b)}, {acct(9), store.NotFound, store.Member{}}, {a.AccountID, store.Deleted, stored(dir, a)}} {
		if res[i].AccountID != w.id || res[i].Status != w.status || res[i].Err != nil {
			t.Errorf("result %d = %+v, want %s %s", i, res[i], w.id, w.status)
		}
		if w.status == store.Deleted {
			checkMember(t, fmt.Sprintf("result %d member", i), res[i].Member, w.m)
		}
	}
	for _, id := range []string{a.AccountID, b.AccountID} {
		if _, err := s.GetMember(ctx, dir, id); !apperr.IsCode(err, apperr.CodeMemberNotFound) {
			t.Errorf("GetMember of deleted %s: %v, want not found", id, err)
		}
	}
	mustCount(t, s, dir, 1)
	mustCount(t, s, other, 2)
	checkMember(t, "member of other directory", mustGet(t, s, other, a.AccountID), stored(other, a))

	res, err = s.DeleteMembers(ctx, dir, []string{a.AccountID}, nil)
	if err != nil || len(res) != 1 || res[0].Status != store.NotFound {
		t.Errorf("second delete = %+v, %v; want NotFound", res, err)
	}
	res, err = s.DeleteMembers(ctx, newDir(), []string{a.AccountID}, nil)
	if err != nil || len(res) != 1 || res[0].Status != store.NotFound {
		t.Errorf("delete in a directory without members = %+v, %v; want NotFound", res, err)
	}
	if res, err := s.DeleteMembers(ctx, dir, nil, nil); err != nil || len(res) != 0 {
		t.Errorf("DeleteMembers(nil) = %v, %v; want nothing", res, err)
	}
	mustCount(t, s, dir, 1)

	// A deleted member can be added again, as a new row.
	a2 := member(1, base.Add(time.Hour))
	mustAdd(t, s, dir, a2)
	checkMember(t, "re-added member", mustGet(t, s, dir, a.AccountID), stored(dir, a2))
	mustCount(t, s, dir, 2)
}

func testConcurrentAddsAndUpdates(t *testing.T, s store.Store) {
	const n = 50
	ctx, dir := t.Context(), newDir()
	target := member(0, base)
	mustAdd(t, s, dir, target)

	var mu sync.Mutex
	versions := map[int64]bool{}
	run(2*n, func(i int) {
		if i < n {
			res, err := s.AddMembers(ctx, dir, []store.Member{member(1+i, base.Add(ms(i)))}, nil)
			if err != nil || len(res) != 1 || res[0].Status != store.Added {
				t.Errorf("concurrent AddMembers %d = %+v, %v", i, res, err)
			}
			return
		}
		before, after, err := s.UpdateRemark(ctx, dir, target.AccountID, fmt.Sprintf("r%d", i), 0, base.Add(time.Minute), nil)
		if err != nil {
			t.Errorf("concurrent UpdateRemark %d: %v", i, err)
			return
		}
		if after.Version != before.Version+1 {
			t.Errorf("UpdateRemark %d: before version %d, after %d", i, before.Version, after.Version)
		}
		mu.Lock()
		defer mu.Unlock()
		if versions[after.Version] {
			t.Errorf("two updates both produced version %d (a lost update)", after.Version)
		}
		versions[after.Version] = true
	})
	mustCount(t, s, dir, 1+n)
	got := mustGet(t, s, dir, target.AccountID)
	if got.Version != 1+n {
		t.Errorf("final Version = %d, want %d (a lost update)", got.Version, 1+n)
	}
	ms, more, err := s.ListMembers(ctx, dir, store.ListQuery{SortBy: store.SortByAddTime, Limit: 1000})
	if err != nil || more || len(ms) != 1+n {
		t.Errorf("ListMembers after concurrent adds = %d members, more=%v, %v; want %d", len(ms), more, err, 1+n)
	}
}

func testConcurrentVersionConflict(t *testing.T, s store.Store) {
	const n = 20
	ctx, dir := t.Context(), newDir()
	m := member(1, base)
	mustAdd(t, s, dir, m)
	var mu sync.Mutex
	var winners []string
	run(n, func(i int) {
		remark := fmt.Sprintf("writer %d", i)
		_, _, err := s.UpdateRemark(ctx, dir, m.AccountID, remark, 1, base.Add(time.Minute), nil)
		if err == nil {
			mu.Lock()
			winners = append(winners, remark)
			mu.Unlock()
			return
		}
		if !apperr.IsCode(err, apperr.CodeVersionConflict) {
			t.Errorf("losing UpdateRemark %d: %v, want %s", i, err, apperr.CodeVersionConflict)
		}
	})
	if len(winners) != 1 {
		t.Fatalf("%d updates with expectVersion 1 succeeded (%v), want exactly 1", len(winners), winners)
	}
	got := mustGet(t, s, dir, m.AccountID)
	if got.Version != 2 || got.Remark != winners[0] {
		t.Errorf("final member = version %d remark %q, want 2 %q", got.Version, got.Remark, winners[0])
	}
}

func testCanceledContext(t *testing.T, s store.Store) {
	dir := newDir()
	mustAdd(t, s, dir, member(1, base))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()

	_, err := s.AddMembers(ctx, dir, []store.Member{member(2, base)}, nil)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("AddMembers with a canceled context: %v, want an error wrapping context.Canceled", err)
	}
	if _, _, err := s.UpdateRemark(ctx, dir, acct(1), "x", 0, base, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("UpdateRemark with a canceled context: %v, want an error wrapping context.Canceled", err)
	}
	if _, err := s.GetMember(ctx, dir, acct(1)); !errors.Is(err, context.Canceled) {
		t.Errorf("GetMember with a canceled context: %v, want an error wrapping context.Canceled", err)
	}
	// Nothing was written.
	mustCount(t, s, dir, 1)
	if got := mustGet(t, s, dir, acct(1)); got.Version != 1 {
		t.Errorf("member version after canceled update = %d, want 1", got.Version)
	}
}
