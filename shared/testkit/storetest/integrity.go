package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sase-multiaccount/backend/shared/port/store"
)

// The integrity part of the contract (docs/DESIGN.md "Integrity"): every
// change a store applies comes with exactly one audit record, and a change
// it does not apply (already a member, not a member, stale version, same
// remark) comes with none.

// recorder makes an AuditOf whose records name the change, with unique IDs.
func recorder(dir, action string) store.AuditOf {
	n := 0
	return func(before, after store.Member) store.AuditEvent {
		n++
		target := after.AccountID
		if target == "" {
			target = before.AccountID
		}
		return store.AuditEvent{DirectoryID: dir, ID: fmt.Sprintf("%013d-%s-%04d", time.Now().UnixMilli(), action, n),
			Time: time.Now().UTC().Truncate(time.Millisecond), Action: action, Target: target,
			Detail: map[string]string{"Before": before.Remark + "|" + before.AccountName, "After": after.Remark + "|" + after.AccountName}}
	}
}

// targets lists the targets of the directory's audit records of action.
func targets(t *testing.T, s store.Store, dir, action string) []string {
	t.Helper()
	evs, _, err := s.ListAudit(t.Context(), dir, store.MaxListLimit, "")
	if err != nil {
		t.Fatalf("ListAudit: %v", err)
	}
	var out []string
	for _, e := range evs {
		if e.Action == action {
			out = append(out, e.Target)
		}
	}
	slices.Sort(out)
	return out
}

func testAddAudited(t *testing.T, s store.Store) {
	ctx, dir := t.Context(), newDir()
	if _, err := s.AddMembers(ctx, dir, []store.Member{member(1, time.Now())}, nil); err != nil {
		t.Fatal(err)
	}
	ms := []store.Member{member(1, time.Now()), member(2, time.Now()), member(3, time.Now())}
	res, err := s.AddMembers(ctx, dir, ms, recorder(dir, "add"))
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Status != store.AlreadyExists || res[1].Status != store.Added || res[2].Status != store.Added {
		t.Fatalf("results = %+v", res)
	}
	if got, want := targets(t, s, dir, "add"), []string{acct(2), acct(3)}; !slices.Equal(got, want) {
		t.Errorf("audit records of the add = %v, want one per added member %v (none for the existing one)", got, want)
	}
}

func testRemarkAudited(t *testing.T, s store.Store) {
	ctx, dir := t.Context(), newDir()
	id := acct(1)
	if _, err := s.AddMembers(ctx, dir, []store.Member{member(1, time.Now())}, nil); err != nil {
		t.Fatal(err)
	}
	rec := recorder(dir, "remark")
	if _, _, err := s.UpdateRemark(ctx, dir, id, "first", 1, time.Now(), rec); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.UpdateRemark(ctx, dir, id, "stale", 1, time.Now(), rec); err == nil {
		t.Fatal("UpdateRemark at a stale version succeeded")
	}
	if got := targets(t, s, dir, "remark"); len(got) != 1 {
		t.Errorf("audit records = %v, want exactly one (none for the refused stale write)", got)
	}
	evs, _, _ := s.ListAudit(ctx, dir, 10, "")
	m := member(1, time.Now())
	if len(evs) == 0 || evs[0].Detail["Before"] != m.Remark+"|"+m.AccountName || evs[0].Detail["After"] != "first|"+m.AccountName {
		t.Errorf("record detail = %+v, want the rows before and after", evs)
	}
}

func testRemarkUnchanged(t *testing.T, s store.Store) {
	ctx, dir := t.Context(), newDir()
	id := acct(1)
	if _, err := s.AddMembers(ctx, dir, []store.Member{member(1, time.Now())}, nil); err != nil {
		t.Fatal(err)
	}
	rec := recorder(dir, "remark")
	_, a1, err := s.UpdateRemark(ctx, dir, id, "same", 0, time.Now(), rec)
	if err != nil {
		t.Fatal(err)
	}
	before, a2, err := s.UpdateRemark(ctx, dir, id, "same", 0, time.Now(), rec)
	if err != nil {
		t.Fatal(err)
	}
	if a2.Version != a1.Version || before.Version != a1.Version {
		t.Errorf("setting the same remark moved Version %d -> %d", a1.Version, a2.Version)
	}
	if got := targets(t, s, dir, "remark"); len(got) != 1 {
		t.Errorf("audit records = %v, want one (the unchanged remark writes none)", got)
	}
}

func testDeleteAudited(t *testing.T, s store.Store) {
	ctx, dir := t.Context(), newDir()
	ms := []store.Member{member(1, time.Now()), member(2, time.Now())}
	if _, err := s.AddMembers(ctx, dir, ms, nil); err != nil {
		t.Fatal(err)
	}
	rec := recorder(dir, "delete")
	res, err := s.DeleteMembers(ctx, dir, []string{acct(1), acct(9)}, rec)
	if err != nil || res[0].Status != store.Deleted || res[1].Status != store.NotFound {
		t.Fatalf("DeleteMembers = %+v, %v", res, err)
	}
	if _, err := s.DeleteMembers(ctx, dir, []string{acct(1)}, rec); err != nil {
		t.Fatal(err)
	}
	if got, want := targets(t, s, dir, "delete"), []string{acct(1)}; !slices.Equal(got, want) {
		t.Errorf("audit records of the deletes = %v, want %v (one per row really deleted)", got, want)
	}
}

func testRenameAudited(t *testing.T, s store.Store) {
	ctx, dir := t.Context(), newDir()
	id := acct(1)
	if _, err := s.AddMembers(ctx, dir, []store.Member{member(1, time.Now().Add(-time.Hour))}, nil); err != nil {
		t.Fatal(err)
	}
	rec := recorder(dir, "rename")
	asOf := time.Now()
	if ch, err := s.RenameMember(ctx, dir, id, "new name", asOf, rec); err != nil || !ch {
		t.Fatalf("RenameMember = %v, %v", ch, err)
	}
	if ch, err := s.RenameMember(ctx, dir, id, "new name", asOf.Add(time.Second), rec); err != nil || ch {
		t.Fatalf("RenameMember to the same name = %v, %v; want no change", ch, err)
	}
	if ch, err := s.RenameMember(ctx, dir, id, "older", asOf.Add(-time.Minute), rec); err != nil || ch {
		t.Fatalf("RenameMember with an older observation = %v, %v; want no change", ch, err)
	}
	if got := targets(t, s, dir, "rename"); len(got) != 1 {
		t.Errorf("audit records = %v, want one (the real rename only)", got)
	}
}

func testProcessedEvents(t *testing.T, s store.Store) {
	ctx := t.Context()
	key := "acs.resourcemanager|" + newDir()
	processed := func(k string, want bool) {
		t.Helper()
		got, err := s.EventProcessed(ctx, k)
		if err != nil || got != want {
			t.Fatalf("EventProcessed(%s) = %v, %v; want %v", k, got, err, want)
		}
	}
	processed(key, false)
	if err := s.MarkEventProcessed(ctx, key, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	processed(key, true)
	processed(key+"-other", false)
	// A mark that expired no longer counts; marking again is allowed.
	if err := s.MarkEventProcessed(ctx, key+"-old", time.Now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	processed(key+"-old", false)
	if err := s.MarkEventProcessed(ctx, key+"-old", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	processed(key+"-old", true)
}

func testGeneration(t *testing.T, s store.Store) {
	ctx := t.Context()
	g0, err := s.Generation(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const n = 10
	run(n, func(int) {
		if _, err := s.BumpGeneration(ctx); err != nil {
			t.Errorf("BumpGeneration: %v", err)
		}
	})
	g1, err := s.Generation(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if g1 < g0+n {
		t.Errorf("generation %d after %d concurrent bumps from %d; want at least %d", g1, n, g0, g0+n)
	}
}

// An account's timeline: the records whose Target it is, newest first, in
// pages, and the records of member changes among them.
func testAuditByTarget(t *testing.T, s store.Store) {
	ctx, dir := t.Context(), newDir()
	var evs []store.AuditEvent
	for i := 1; i <= 9; i++ {
		e := auditEvent(dir, i)
		e.Target = acct(i % 3) // targets 0, 1, 2 take turns
		evs = append(evs, e)
	}
	other := auditEvent(newDir(), 10)
	other.Target = acct(1)
	noTarget := auditEvent(dir, 11)
	noTarget.Target = ""
	if err := s.AppendAudit(ctx, append(evs, other, noTarget)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddMembers(ctx, dir, []store.Member{member(1, base)}, recorder(dir, "add")); err != nil {
		t.Fatal(err)
	}
	var got []string
	before := ""
	for {
		page, more, err := s.ListAuditByTarget(ctx, dir, acct(1), 2, before)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page {
			if e.Target != acct(1) || e.DirectoryID != dir {
				t.Errorf("timeline of %s holds %+v", acct(1), e)
			}
			got = append(got, e.Action+"/"+e.ID)
		}
		if !more {
			break
		}
		before = page[len(page)-1].ID
	}
	// acct(1) is the target of events 1, 4 and 7, and of the add.
	if len(got) != 4 || !strings.HasPrefix(got[0], "add/") ||
		!slices.Equal(got[1:], []string{"update-member-remark/" + auditID(7), "update-member-remark/" + auditID(4), "update-member-remark/" + auditID(1)}) {
		t.Errorf("timeline of %s = %v, want the add, then events 7, 4, 1", acct(1), got)
	}
	if page, more, err := s.ListAuditByTarget(ctx, dir, acct(9), 10, ""); err != nil || len(page) != 0 || more {
		t.Errorf("timeline of an account without records = %v, %v, %v", page, more, err)
	}
}

// The members version moves with every member change and only then, so a
// reader can keep a copy of the list and check it with one read.
func testMemberState(t *testing.T, s store.Store) {
	ctx, dir := t.Context(), newDir()
	state := func() (int, int64) {
		t.Helper()
		n, v, err := s.MemberState(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		return n, v
	}
	n0, v0 := state()
	if n0 != 0 {
		t.Fatalf("a new directory has %d members", n0)
	}
	steps := []struct {
		what string
		do   func() error
		n    int
	}{
		{"add", func() error {
			_, err := s.AddMembers(ctx, dir, []store.Member{member(1, base), member(2, base)}, nil)
			return err
		}, 2},
		{"remark", func() error { _, _, err := s.UpdateRemark(ctx, dir, acct(1), "new", 0, base, nil); return err }, 2},
		{"rename", func() error {
			_, err := s.RenameMember(ctx, dir, acct(2), "renamed", base.Add(time.Hour), nil)
			return err
		}, 2},
		{"delete", func() error { _, err := s.DeleteMembers(ctx, dir, []string{acct(1)}, nil); return err }, 1},
	}
	prev := v0
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.what, err)
		}
		n, v := state()
		if n != st.n || v <= prev {
			t.Errorf("after %s: count %d, version %d (was %d); want count %d and a newer version", st.what, n, v, prev, st.n)
		}
		prev = v
	}
	if _, v := state(); v != prev {
		t.Errorf("a read moved the version from %d to %d", prev, v)
	}
}
