package storetest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/port/store"
)

// auditID mimics audit.NewID: fixed-width, so byte order is time order.
func auditID(i int) string { return fmt.Sprintf("%013d-%06d", base.UnixMilli()+int64(i), i) }

// auditEvent is record i; the even ones name the person who made the
// change, the odd ones do not (a System record, or one written before
// people were known).
func auditEvent(dir string, i int) store.AuditEvent {
	e := store.AuditEvent{
		DirectoryID:    dir,
		ID:             auditID(i),
		Time:           base.Add(ms(i)),
		ActorAccountID: acct(0),
		ActorPrincipal: "user/alice",
		ActorRole:      "ManagementAccount",
		Action:         "update-member-remark",
		Target:         acct(i),
		Result:         "Success",
		RequestID:      fmt.Sprintf("req-%d", i),
		Detail:         map[string]string{"OldRemark": fmt.Sprintf("old %d", i), "NewRemark": "新 ✓"},
	}
	if i%2 == 0 {
		e.ActorUserID, e.ActorUserName, e.ActorAccessRole = fmt.Sprintf("2%015d", i), "alice@example.onaliyun.com", "Operator"
	}
	return e
}

func diffAudit(got, want store.AuditEvent) string {
	var d string
	for _, f := range []struct{ name, g, w string }{
		{"DirectoryID", got.DirectoryID, want.DirectoryID},
		{"ID", got.ID, want.ID},
		{"ActorAccountID", got.ActorAccountID, want.ActorAccountID},
		{"ActorPrincipal", got.ActorPrincipal, want.ActorPrincipal},
		{"ActorRole", got.ActorRole, want.ActorRole},
		{"ActorUserID", got.ActorUserID, want.ActorUserID},
		{"ActorUserName", got.ActorUserName, want.ActorUserName},
		{"ActorAccessRole", got.ActorAccessRole, want.ActorAccessRole},
		{"Action", got.Action, want.Action},
		{"Target", got.Target, want.Target},
		{"Result", got.Result, want.Result},
		{"RequestID", got.RequestID, want.RequestID},
	} {
		if f.g != f.w {
			d += fmt.Sprintf(" %s=%q want %q;", f.name, f.g, f.w)
		}
	}
	if !got.Time.Equal(want.Time) {
		d += fmt.Sprintf(" Time=%s want %s;", got.Time, want.Time)
	}
	if !equalDetail(got.Detail, want.Detail) {
		d += fmt.Sprintf(" Detail=%v want %v;", got.Detail, want.Detail)
	}
	return d
}

func auditIDs(es []store.AuditEvent) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.ID
	}
	return out
}

func testAuditAppendAndList(t *testing.T, s store.Store) {
	ctx, dir := t.Context(), newDir()
	for _, in := range [][]store.AuditEvent{nil, {}} {
		if err := s.AppendAudit(ctx, in); err != nil {
			t.Errorf("AppendAudit(%#v): %v", in, err)
		}
	}
	es, more, err := s.ListAudit(ctx, dir, 10, "")
	if err != nil || more || len(es) != 0 {
		t.Fatalf("ListAudit of a directory without events = %v, more=%v, %v; want none", es, more, err)
	}

	e := auditEvent(dir, 1)
	e.ActorRole, e.ActorPrincipal = "System", ""
	e.Detail = map[string]string{"OldRemark": "旧备注 \"q\"\n", "NewRemark": "", "Reason 🚀": "ünïcödé"}
	if err := s.AppendAudit(ctx, []store.AuditEvent{e}); err != nil {
		t.Fatalf("AppendAudit(1 event): %v", err)
	}
	es, more, err = s.ListAudit(ctx, dir, 10, "")
	if err != nil || more || len(es) != 1 {
		t.Fatalf("ListAudit = %d events, more=%v, %v; want 1", len(es), more, err)
	}
	if d := diffAudit(es[0], e); d != "" {
		t.Errorf("event differs:%s", d)
	}

	// Without Detail.
	e2 := auditEvent(dir, 2)
	e2.Detail = nil
	if err := s.AppendAudit(ctx, []store.AuditEvent{e2}); err != nil {
		t.Fatalf("AppendAudit: %v", err)
	}
	es, _, err = s.ListAudit(ctx, dir, 1, "")
	if err != nil || len(es) != 1 {
		t.Fatalf("ListAudit(limit 1) = %d events, %v", len(es), err)
	}
	if d := diffAudit(es[0], e2); d != "" {
		t.Errorf("newest event differs:%s", d)
	}
}

func testAuditPaging(t *testing.T, s store.Store) {
	const n = 450 // more than one Tablestore batch (200 rows)
	ctx, dir, other := t.Context(), newDir(), newDir()
	var batch []store.AuditEvent
	want := map[string]store.AuditEvent{}
	for i := range n {
		e := auditEvent(dir, i)
		batch = append(batch, e)
		want[e.ID] = e
	}
	for i := range 30 {
		batch = append(batch, auditEvent(other, i*15))
	}
	// Insertion order must not matter.
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(batch), func(i, j int) { batch[i], batch[j] = batch[j], batch[i] })
	if err := s.AppendAudit(ctx, batch); err != nil {
		t.Fatalf("AppendAudit(%d events): %v", len(batch), err)
	}

	var newestFirst []string
	for i := n - 1; i >= 0; i-- {
		newestFirst = append(newestFirst, auditID(i))
	}

	for _, limit := range []int{1000, 100, 90, 449, 450} {
		var got []string
		before := ""
		for page := 0; ; page++ {
			if page > n {
				t.Fatalf("limit %d: too many pages", limit)
			}
			es, more, err := s.ListAudit(ctx, dir, limit, before)
			if err != nil {
				t.Fatalf("ListAudit(%d, %q): %v", limit, before, err)
			}
			if len(es) > limit || (more && len(es) != limit) {
				t.Fatalf("ListAudit(%d, %q) = %d events, more=%v", limit, before, len(es), more)
			}
			for _, e := range es {
				if d := diffAudit(e, want[e.ID]); d != "" {
					t.Fatalf("event %s differs:%s", e.ID, d)
				}
			}
			got = append(got, auditIDs(es)...)
			if !more {
				break
			}
			before = es[len(es)-1].ID
		}
		if !equalStrings(got, newestFirst) {
			t.Errorf("limit %d: got %d events %v..., want %d newest first", limit, len(got), got[:min(5, len(got))], n)
		}
	}

	// before is exclusive and need not be an existing ID.
	es, more, err := s.ListAudit(ctx, dir, 3, auditID(10))
	if err != nil || !more || !slices.Equal(auditIDs(es), []string{auditID(9), auditID(8), auditID(7)}) {
		t.Errorf("ListAudit(3, id 10) = %v, more=%v, %v; want ids 9, 8, 7 and more", auditIDs(es), more, err)
	}
	es, more, err = s.ListAudit(ctx, dir, 3, auditID(2)+"~")
	if err != nil || more || !slices.Equal(auditIDs(es), []string{auditID(2), auditID(1), auditID(0)}) {
		t.Errorf("ListAudit(3, after id 2) = %v, more=%v, %v; want ids 2, 1, 0 and no more", auditIDs(es), more, err)
	}
	es, more, err = s.ListAudit(ctx, dir, 3, auditID(0))
	if err != nil || more || len(es) != 0 {
		t.Errorf("ListAudit before the oldest = %v, more=%v, %v; want none", auditIDs(es), more, err)
	}

	// The other directory sees only its own 30.
	es, more, err = s.ListAudit(ctx, other, 1000, "")
	if err != nil || more || len(es) != 30 {
		t.Fatalf("ListAudit(other) = %d events, more=%v, %v; want 30", len(es), more, err)
	}
	for _, e := range es {
		if e.DirectoryID != other {
			t.Fatalf("ListAudit(other) returned event of %s", e.DirectoryID)
		}
	}
}

func testAuditInvalid(t *testing.T, s store.Store) {
	ctx, dir := t.Context(), newDir()
	for _, limit := range []int{0, -1, 1001} {
		_, _, err := s.ListAudit(ctx, dir, limit, "")
		wantErr(t, fmt.Sprintf("ListAudit(limit %d)", limit), err, apperr.KindInvalid, "")
	}
	// An invalid event fails the whole append before anything is written.
	noID := auditEvent(dir, 2)
	noID.ID = ""
	noDir := auditEvent("", 3)
	for _, bad := range []store.AuditEvent{noID, noDir} {
		err := s.AppendAudit(ctx, []store.AuditEvent{auditEvent(dir, 1), bad})
		wantErr(t, fmt.Sprintf("AppendAudit with %+v", bad), err, apperr.KindInvalid, "")
	}
	es, _, err := s.ListAudit(ctx, dir, 10, "")
	if err != nil || len(es) != 0 {
		t.Errorf("ListAudit after failed appends = %v, %v; want none", auditIDs(es), err)
	}
}
