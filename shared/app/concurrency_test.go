package app_test

import (
	"fmt"
	"slices"
	"strconv"
	"testing"

	"github.com/sase-multiaccount/backend/shared/port/store"
)

const parallel = 50

// TestConcurrentAddMembers: 50 add-members requests at once, each adding
// its own account plus one shared by all. No write is lost, the shared
// account is added exactly once, and the count matches the rows.
func TestConcurrentAddMembers(t *testing.T) {
	k := newKit(t)
	fx := k.standard()
	names := map[string]string{}
	for i := range parallel {
		names[uid(6, i)] = fmt.Sprintf("Parallel %02d", i)
	}
	k.seedAccounts(names)
	var errs errorsJoin
	results := runParallel(parallel, func(i int) addOut {
		as := []string{ownerID, daID}[i%2]
		r, err := k.invoke(request{Fn: "add-members", As: as, Body: map[string]any{"Members": []map[string]string{
			{"AccountId": uid(6, i), "Remark": fmt.Sprintf("r%d", i)}, {"AccountId": candID, "Remark": fmt.Sprintf("shared by %d", i)},
		}}})
		errs.add(err)
		var out addOut
		if err == nil && r.Status == 200 {
			errs.add(jsonDecode(r.Body, &out))
		} else if err == nil {
			errs.add(fmt.Errorf("request %d: %s", i, r))
		}
		return out
	})
	if err := errs.err(); err != nil {
		t.Fatal(err)
	}
	sharedAdded := 0
	for i, out := range results {
		if len(out.Results) != 2 || out.Results[0].Status != "Added" {
			t.Fatalf("request %d: %+v", i, out)
		}
		switch out.Results[1].Status {
		case "Added":
			sharedAdded++
		case "AlreadyMember":
		default:
			t.Fatalf("request %d shared account: %+v", i, out.Results[1])
		}
		if out.AddedCount != 1+boolInt(out.Results[1].Status == "Added") {
			t.Fatalf("request %d AddedCount %d", i, out.AddedCount)
		}
	}
	if sharedAdded != 1 {
		t.Fatalf("the shared account was Added %d times", sharedAdded)
	}
	const want = parallel + 2 // + the shared account + the seeded SASE member
	r := k.get(t, "list-members", ownerID, map[string]string{"MaxResults": "1"})
	var out listOut
	r.decode(t, &out)
	rows := k.allMembers(fx.dir.ID, store.SortByAccountID)
	if out.TotalCount != want || len(rows) != want {
		t.Fatalf("TotalCount %d, %d rows, want %d", out.TotalCount, len(rows), want)
	}
	for _, m := range rows {
		if m.Version != 1 || m.AccountName == "" {
			t.Errorf("row %+v", m)
		}
		if i, err := strconv.Atoi(m.AccountID[1:]); err == nil && m.AccountID[0] == '6' && (m.Remark != fmt.Sprintf("r%d", i) || m.AccountName != names[m.AccountID]) {
			t.Errorf("row %s mixed up with another request: %+v", m.AccountID, m)
		}
	}
	adds := 0
	for _, e := range k.allAudit(fx.dir.ID) {
		if e.Action == "add-members" {
			adds++
		}
	}
	if adds != parallel+1 {
		t.Fatalf("%d add audit events, want %d", adds, parallel+1)
	}
}

// TestConcurrentRemarkUpdates: 50 unconditional updates of one member at
// once. Every one succeeds with its own version, the final version is exact,
// and the audit trail chains old and new remarks without a gap.
func TestConcurrentRemarkUpdates(t *testing.T) {
	k := newKit(t)
	fx := k.standard()
	var errs errorsJoin
	type res struct {
		version int64
		remark  string
	}
	results := runParallel(parallel, func(i int) res {
		as := []string{ownerID, daID}[i%2]
		r, err := k.invoke(request{Fn: "update-member-remark", As: as, Body: map[string]any{"AccountId": saseID, "Remark": fmt.Sprintf("remark %02d", i)}})
		errs.add(err)
		if err != nil {
			return res{}
		}
		if r.Status != 200 {
			errs.add(fmt.Errorf("request %d: %s", i, r))
			return res{}
		}
		var out struct{ Member memberView }
		errs.add(jsonDecode(r.Body, &out))
		return res{out.Member.Version, out.Member.Remark}
	})
	if err := errs.err(); err != nil {
		t.Fatal(err)
	}
	var versions []int64
	byVersion := map[int64]string{}
	for i, r := range results {
		if r.remark != fmt.Sprintf("remark %02d", i) {
			t.Errorf("request %d answered remark %q", i, r.remark)
		}
		versions = append(versions, r.version)
		byVersion[r.version] = r.remark
	}
	slices.Sort(versions)
	for i, v := range versions {
		if v != int64(i+2) {
			t.Fatalf("versions answered %v, want 2..%d each once", versions, parallel+1)
		}
	}
	m, _ := k.member(fx.dir.ID, saseID)
	if m.Version != parallel+1 || m.Remark != byVersion[parallel+1] {
		t.Fatalf("final row %+v, want version %d with remark %q", m, parallel+1, byVersion[parallel+1])
	}
	// The trail: version v's old remark is version v-1's new one.
	newAt := map[string]string{"1": "seeded"}
	oldAt := map[string]string{}
	for _, e := range k.allAudit(fx.dir.ID) {
		if e.Action == "update-member-remark" {
			newAt[e.Detail["Version"]], oldAt[e.Detail["Version"]] = e.Detail["NewRemark"], e.Detail["OldRemark"]
		}
	}
	if len(oldAt) != parallel {
		t.Fatalf("%d remark audit events, want %d", len(oldAt), parallel)
	}
	for v := 2; v <= parallel+1; v++ {
		if oldAt[strconv.Itoa(v)] != newAt[strconv.Itoa(v-1)] || newAt[strconv.Itoa(v)] != byVersion[int64(v)] {
			t.Fatalf("audit chain broken at version %d: old %q, previous new %q", v, oldAt[strconv.Itoa(v)], newAt[strconv.Itoa(v-1)])
		}
	}
}

// TestConcurrentStaleVersion: 50 updates that all name the current version
// at once: exactly one wins, the others get 409 Conflict.Version and write
// nothing.
func TestConcurrentStaleVersion(t *testing.T) {
	k := newKit(t)
	fx := k.standard()
	for round, version := range []int64{1, 2} {
		var errs errorsJoin
		statuses := runParallel(parallel, func(i int) string {
			r, err := k.invoke(request{Fn: "update-member-remark", As: []string{ownerID, daID}[i%2],
				Body: map[string]any{"AccountId": saseID, "Remark": fmt.Sprintf("round %d writer %d", round, i), "Version": version}})
			errs.add(err)
			return fmt.Sprint(r.Status, " ", r.Code())
		})
		if err := errs.err(); err != nil {
			t.Fatal(err)
		}
		ok, conflict := 0, 0
		for _, s := range statuses {
			switch s {
			case "200 ":
				ok++
			case "409 Conflict.Version":
				conflict++
			default:
				t.Fatalf("unexpected %q", s)
			}
		}
		if ok != 1 || conflict != parallel-1 {
			t.Fatalf("round %d: %d succeeded, %d conflicted; want exactly one winner", round, ok, conflict)
		}
		m, _ := k.member(fx.dir.ID, saseID)
		if m.Version != version+1 {
			t.Fatalf("round %d: version %d, want %d", round, m.Version, version+1)
		}
	}
	n := 0
	for _, e := range k.allAudit(fx.dir.ID) {
		if e.Action == "update-member-remark" {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("%d remark audit events, want 2 (losers write nothing)", n)
	}
}

// TestConcurrentMixed: adds, deletes, remarks and lists of disjoint members
// at once keep the count equal to the rows.
func TestConcurrentMixed(t *testing.T) {
	k := newKit(t)
	fx := k.standard()
	names := map[string]string{}
	for i := range parallel {
		names[uid(6, i)] = ""
	}
	k.seedAccounts(names)
	for i := 0; i < parallel; i += 2 { // even ones are members already
		wantOK(t, k.post(t, "add-members", ownerID, items(uid(6, i))))
	}
	var errs errorsJoin
	runParallel(parallel*2, func(i int) struct{} {
		id := uid(6, i/2)
		var rq request
		switch {
		case i%2 == 1:
			rq = request{Fn: "list-members", As: daID, Query: map[string]string{"MaxResults": "7", "Keyword": "6"}}
		case (i/2)%2 == 0:
			rq = request{Fn: "delete-members", As: ownerID, Body: map[string]any{"AccountIds": []string{id}}}
		default:
			rq = request{Fn: "add-members", As: daID, Body: items(id)}
		}
		r, err := k.invoke(rq)
		errs.add(err)
		if err == nil && r.Status != 200 {
			errs.add(fmt.Errorf("%s: %s", rq.Fn, r))
		}
		return struct{}{}
	})
	if err := errs.err(); err != nil {
		t.Fatal(err)
	}
	rows := k.allMembers(fx.dir.ID, store.SortByAddTime)
	n, _ := k.raw.CountMembers(k.ctx, fx.dir.ID)
	if n != len(rows) || n != parallel/2+1 {
		t.Fatalf("count %d, %d rows, want %d", n, len(rows), parallel/2+1)
	}
	for _, m := range rows {
		if m.AccountID != saseID {
			if i, _ := strconv.Atoi(m.AccountID[1:]); i%2 == 0 {
				t.Errorf("deleted member %s still present", m.AccountID)
			}
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestConcurrentEnableDirectory: the owner's console double-submits step 1:
// every request answers the one directory, enabled and audited once.
func TestConcurrentEnableDirectory(t *testing.T) {
	k := newKit(t)
	var errs errorsJoin
	ids := runParallel(20, func(i int) string {
		r, err := k.invoke(request{Fn: "enable-directory", As: ownerID, Body: "{}"})
		errs.add(err)
		if err == nil && r.Status != 200 {
			errs.add(fmt.Errorf("request %d: %s", i, r))
		}
		var out struct{ ResourceDirectory struct{ DirectoryId string } }
		_ = jsonDecode(r.Body, &out)
		return out.ResourceDirectory.DirectoryId
	})
	if err := errs.err(); err != nil {
		t.Fatal(err)
	}
	d, err := k.sim.GetDirectory(k.ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		if id != d.ID {
			t.Fatalf("request %d answered directory %q, the directory is %q", i, id, d.ID)
		}
	}
	if evs := k.allAudit(d.ID); len(evs) != 1 || evs[0].Action != "enable-directory" {
		t.Fatalf("audit after concurrent enables: %+v", evs)
	}
}

// TestConcurrentRegisterDelegatedAdmin: two accounts registered at once: one
// wins, the other gets 409 naming it.
func TestConcurrentRegisterDelegatedAdmin(t *testing.T) {
	k := newKit(t)
	k.enable()
	k.seedAccounts(map[string]string{daID: "", memberID: ""})
	var errs errorsJoin
	targets := []string{daID, memberID}
	rs := runParallel(20, func(i int) response {
		r, err := k.invoke(request{Fn: "register-delegated-admin", As: ownerID, Body: map[string]string{"AccountId": targets[i%2]}})
		errs.add(err)
		return r
	})
	if err := errs.err(); err != nil {
		t.Fatal(err)
	}
	das, _ := k.sim.ListDelegatedAdmins(k.ctx)
	if len(das) != 1 {
		t.Fatalf("%d delegated administrators", len(das))
	}
	for i, r := range rs {
		if targets[i%2] == das[0].AccountID {
			wantOK(t, r)
		} else {
			wantErr(t, r, 409, "Conflict.DelegatedAdministratorExists", das[0].AccountID)
		}
	}
}
