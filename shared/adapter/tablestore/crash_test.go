package tablestore

import (
	"fmt"
	"maps"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sase-multiaccount/backend/shared/action"
	"github.com/sase-multiaccount/backend/shared/port/store"
	"github.com/sase-multiaccount/backend/shared/testkit/otsfake"
	"github.com/sase-multiaccount/backend/shared/testkit/storetest"
)

// TestInstanceDiesBetweenAnyTwoCalls is the Tablestore side of the crash
// test (docs/DESIGN.md "Integrity"). For add, remark and delete it lets the
// function instance "die" before each of the operation's calls, and also
// just after the service applied it (the answer lost): from then on no
// request of that instance reaches Tablestore. Another instance then checks
// that replaying the audit trail gives exactly the member table, and that a
// client's retry leaves it so too.
func TestInstanceDiesBetweenAnyTwoCalls(t *testing.T) {
	e := newEnv(t, otsfake.Options{})
	s := e.open(t, nil)
	seq := 0
	// Records shaped as the member use cases write them.
	rec := func(dir string, act action.Action) store.AuditOf {
		return func(before, after store.Member) store.AuditEvent {
			seq++
			target := after.AccountID
			if target == "" {
				target = before.AccountID
			}
			return store.AuditEvent{DirectoryID: dir, ID: fmt.Sprintf("%013d-%06d", time.Now().UnixMilli(), seq),
				Time: time.Now().UTC(), Action: string(act), Target: target,
				Detail: map[string]string{"Remark": after.Remark, "OldRemark": before.Remark, "NewRemark": after.Remark}}
		}
	}
	ops := map[string]func(dir string) error{
		"add": func(dir string) error {
			_, err := s.AddMembers(t.Context(), dir, members(1, 3), rec(dir, action.AddMembers))
			return err
		},
		"remark": func(dir string) error {
			_, _, err := s.UpdateRemark(t.Context(), dir, acct(1), "changed", 0, t0.Add(time.Hour), rec(dir, action.UpdateMemberRemark))
			return err
		},
		"delete": func(dir string) error {
			_, err := s.DeleteMembers(t.Context(), dir, ids(1, 2), rec(dir, action.DeleteMembers))
			return err
		},
	}
	setup := func(dir string) {
		if _, err := s.AddMembers(t.Context(), dir, members(1, 1), rec(dir, action.AddMembers)); err != nil {
			t.Fatal(err)
		}
	}
	var requests atomic.Int64
	e.fake.OnRequest(func(string) { requests.Add(1) })
	defer e.fake.OnRequest(nil)

	cases := 0
	for _, name := range []string{"add", "remark", "delete"} {
		op := ops[name]
		// How many calls the operation makes when nothing fails.
		dir := fmt.Sprintf("rd-clean-%s", name)
		setup(dir)
		requests.Store(0)
		if err := op(dir); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		calls := int(requests.Load())
		checkTrail(t, s, dir, name+" without a failure")

		for k := 1; k <= calls; k++ {
			for _, applied := range []bool{false, true} {
				cases++
				dir := fmt.Sprintf("rd-%s-%d-%v", name, k, applied)
				setup(dir)
				requests.Store(0)
				e.fake.OnRequest(func(string) {
					if requests.Add(1) != int64(k) {
						return
					}
					if applied {
						e.fake.Inject(otsfake.Fault{Kind: otsfake.FaultResetAfterApply, Times: 1})
					}
					e.fake.Inject(otsfake.Fault{Kind: otsfake.FaultReset}) // the instance is gone
				})
				_ = op(dir) // the dying instance's answer does not matter
				e.fake.OnRequest(func(string) { requests.Add(1) })
				e.fake.ClearFaults()
				what := fmt.Sprintf("%s, instance dead from call %d of %d (applied: %v)", name, k, calls, applied)
				checkTrail(t, s, dir, what)
				if err := op(dir); err != nil {
					t.Fatalf("%s, then the client's retry: %v", what, err)
				}
				checkTrail(t, s, dir, what+", then the client's retry")
			}
		}
	}
	t.Logf("%d crash points (add, remark, delete × every call × before/after apply): every applied change has exactly one record", cases)
}

// checkTrail replays the directory's audit trail and compares the result
// with the member table and its count.
func checkTrail(t *testing.T, s *Store, dir, what string) {
	t.Helper()
	evs, _, err := s.ListAudit(t.Context(), dir, store.MaxListLimit, "")
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(evs)
	replayed, problems := storetest.ReplayTrail(evs)
	for _, p := range problems {
		t.Errorf("%s: %s", what, p)
	}
	ms, _, err := s.ListMembers(t.Context(), dir, store.ListQuery{SortBy: store.SortByAccountID, Limit: store.MaxListLimit})
	if err != nil {
		t.Fatal(err)
	}
	table := map[string]string{}
	for _, m := range ms {
		table[m.AccountID] = m.Remark
	}
	if !maps.Equal(table, replayed) {
		t.Errorf("%s: member table %v, but the audit trail says %v", what, table, replayed)
	}
	if n, err := s.CountMembers(t.Context(), dir); err != nil || n != len(table) {
		t.Errorf("%s: CountMembers = %d, %v; the table has %d", what, n, err, len(table))
	}
}
