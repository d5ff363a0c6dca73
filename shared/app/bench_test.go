package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/fccontext"

	"github.com/sase-multiaccount/backend/shared/action"
	"github.com/sase-multiaccount/backend/shared/port/directory"
	"github.com/sase-multiaccount/backend/shared/port/store"
	"github.com/sase-multiaccount/backend/shared/role"
	"github.com/sase-multiaccount/backend/shared/rolecheck"
	"github.com/sase-multiaccount/backend/shared/usecase/audit"
)

// TestCallsPerRequest pins the directory and store calls of the hot paths,
// on a cold and a warm instance, allowed and refused (DESIGN.md §2, §10):
// the table below is the reference.
func TestCallsPerRequest(t *testing.T) {
	const lateID, laterID = "6900000000000001", "6900000000000002"
	k := newKit(t)
	fx := k.standard()
	ids := map[string]string{}
	for i := range 100 {
		ids[uid(6, i)] = ""
	}
	k.seedAccounts(ids)
	batch := make([]map[string]string, 0, 100)
	for id := range ids {
		batch = append(batch, map[string]string{"AccountId": id})
	}
	type calls = map[string]int
	cases := []struct {
		name      string
		cold      bool
		rq        request
		dir, stor calls
	}{
		// The instance's first request also reads the directory generation (then at most once a second).
		{"list-members cold MA", true, request{Fn: "list-members", As: ownerID}, calls{"GetDirectory": 1}, calls{"Generation": 1, "ListMembers": 1, "MemberState": 1, "MirrorMarks": 1}},
		{"list-members warm MA", false, request{Fn: "list-members", As: ownerID}, calls{}, calls{"ListMembers": 1, "MemberState": 1, "MirrorMarks": 1}},
		{"list-members cold DA", true, request{Fn: "list-members", As: daID}, calls{"GetDirectory": 1, "ListDelegatedAdmins": 1}, calls{"ListMembers": 1, "MemberState": 1, "MirrorMarks": 1}},
		{"list-members warm DA MaxResults=1", false, request{Fn: "list-members", As: daID, Query: map[string]string{"MaxResults": "1"}}, calls{}, calls{"ListMembers": 1, "MemberState": 1, "MirrorMarks": 1}},
		{"list-members keyword (first: the snapshot is read)", false, request{Fn: "list-members", As: daID, Query: map[string]string{"Keyword": "sierra"}}, calls{}, calls{"MemberState": 1, "MirrorMarks": 1, "ListMembers": 1, "FeedHead": 1}},
		{"list-members keyword again (the snapshot is current)", false, request{Fn: "list-members", As: daID, Query: map[string]string{"Keyword": "tango"}}, calls{}, calls{"MemberState": 1, "MirrorMarks": 1}},
		{"list-members cold member (denied)", true, request{Fn: "list-members", As: memberID}, calls{"GetDirectory": 1, "ListDelegatedAdmins": 1, "ListAccounts": 1}, calls{}},
		{"list-members warm member (denied)", false, request{Fn: "list-members", As: memberID}, calls{}, calls{}},
		{"list-members cold stranger (denied)", true, request{Fn: "list-members", As: strangerID}, calls{"GetDirectory": 1, "ListDelegatedAdmins": 1, "ListAccounts": 1}, calls{}},
		{"list-members warm stranger (denied)", false, request{Fn: "list-members", As: strangerID}, calls{}, calls{}},
		{"add-members 100 warm DA", false, request{Fn: "add-members", As: daID, Body: map[string]any{"Members": batch}}, calls{}, calls{"ReadMirror": 1, "AddMembers": 1}},
		{"add-members 100 again (no-op)", false, request{Fn: "add-members", As: daID, Body: map[string]any{"Members": batch}}, calls{}, calls{"ReadMirror": 1, "AddMembers": 1}},
		{"add-members DryRun", false, request{Fn: "add-members", As: daID, Body: map[string]any{"Members": batch[:3], "DryRun": true}}, calls{}, calls{"ReadMirror": 1, "GetMember": 3}},
		{"add-members of an account that just joined", false, request{Fn: "add-members", As: daID, Body: map[string]any{"Members": []map[string]string{{"AccountId": lateID}}}}, calls{"GetAccount": 1}, calls{"ReadMirror": 1, "AddMembers": 1}},
		{"list-candidates first page (mirror never synced)", false, request{Fn: "list-candidates", As: daID}, calls{"ListAccounts": 1, "ListFolders": 1}, calls{"MirrorMarks": 1, "MemberState": 1, "MemberIDs": 1}},
		{"update-member-remark", false, request{Fn: "update-member-remark", As: daID, Body: map[string]any{"AccountId": saseID, "Remark": "x"}}, calls{}, calls{"UpdateRemark": 1}},
		{"delete-members", false, request{Fn: "delete-members", As: ownerID, Body: map[string]any{"AccountIds": []string{saseID}}}, calls{}, calls{"DeleteMembers": 1}},
		{"list-audit-events", false, request{Fn: "list-audit-events", As: ownerID}, calls{}, calls{"ListAudit": 1}},
		{"list-audit-events of one account", false, request{Fn: "list-audit-events", As: ownerID, Query: map[string]string{"Target": saseID}}, calls{}, calls{"ListAuditByTarget": 1}},
		{"describe-setup MA", false, request{Fn: "describe-setup", As: ownerID}, calls{"CountAccounts": 1, "ListDelegatedAdmins": 1}, calls{"CountMembers": 1}},
		{"describe-setup member", false, request{Fn: "describe-setup", As: memberID}, calls{}, calls{}},
		{"rejected token", true, request{Fn: "list-members", Auth: ptr("Bearer x.y.z")}, calls{}, calls{}},
		{"wrong method", true, request{Fn: "list-members", As: ownerID, Method: "POST"}, calls{}, calls{}},
		{"malformed body", false, request{Fn: "add-members", As: ownerID, Body: "[]"}, calls{}, calls{}},
		{"invalid query", false, request{Fn: "list-members", As: ownerID, Query: map[string]string{"SortBy": "x"}}, calls{}, calls{}},
	}
	check := func(name string, cold bool, rq request, wantDir, wantStore calls) {
		if cold {
			k.app.Invalidate()
		} else { // make sure the caller's role is cached
			k.do(t, request{Fn: "describe-setup", As: rq.As})
		}
		if rq.Body != nil && strings.Contains(name, "just joined") {
			k.seedAccounts(map[string]string{lateID: "Late Joiner"}) // behind the cache's back
		}
		if rq.Body != nil && strings.Contains(name, "after the sync") {
			k.seedAccounts(map[string]string{laterID: "Later Joiner"}) // behind the mirror's back
		}
		k.dir.take()
		k.store.take()
		k.do(t, rq)
		gotDir, gotStore := k.dir.take(), k.store.take()
		if !maps.Equal(gotDir, wantDir) {
			t.Errorf("%s: directory calls %v, want %v", name, gotDir, wantDir)
		}
		if !maps.Equal(gotStore, wantStore) {
			t.Errorf("%s: store calls %v, want %v", name, gotStore, wantStore)
		}
	}
	for _, tc := range cases {
		check(tc.name, tc.cold, tc.rq, tc.dir, tc.stor)
	}
	// After a reconciliation the directory mirror serves candidates and
	// add-members: two store reads a page, no RD call; an account the mirror
	// lacks is confirmed with one GetAccount.
	k.reconcile(t)
	mirrorCases := []struct {
		name      string
		cold      bool
		rq        request
		dir, stor calls
	}{
		{"list-candidates from the mirror (first: the copy is read)", false, request{Fn: "list-candidates", As: daID}, calls{}, calls{"MirrorMarks": 1, "MemberState": 1, "ReadMirror": 1, "MemberIDs": 1}},
		{"list-candidates from the mirror, one a page (the copy is current)", false, request{Fn: "list-candidates", As: daID, Query: map[string]string{"MaxResults": "1"}}, calls{}, calls{"MirrorMarks": 1, "MemberState": 1}},
		{"list-candidates from the mirror cold MA", true, request{Fn: "list-candidates", As: ownerID, Query: map[string]string{"Keyword": "x"}}, calls{"GetDirectory": 1}, calls{"MirrorMarks": 1, "MemberState": 1}},
		{"list-folders from the mirror", false, request{Fn: "list-folders", As: daID}, calls{}, calls{"ReadMirror": 1}},
		{"update-enrollment-policy DryRun (preview)", false, request{Fn: "update-enrollment-policy", As: daID, Body: map[string]any{"Mode": "AllAccounts", "DryRun": true}}, calls{}, calls{"ReadMirror": 1, "MemberIDs": 1, "GetPolicy": 1}},
		{"update-enrollment-policy", false, request{Fn: "update-enrollment-policy", As: daID, Body: map[string]any{"Mode": "Off"}}, calls{}, calls{"ReadMirror": 1, "MemberIDs": 1, "GetPolicy": 1, "PutPolicy": 1}},
		{"get-enrollment-policy", false, request{Fn: "get-enrollment-policy", As: daID}, calls{}, calls{"GetPolicy": 1}},
		{"add-members from the mirror", false, request{Fn: "add-members", As: daID, Body: map[string]any{"Members": batch[:2]}}, calls{}, calls{"ReadMirror": 1, "AddMembers": 1}},
		{"add-members of an account that joined after the sync", false, request{Fn: "add-members", As: daID, Body: map[string]any{"Members": []map[string]string{{"AccountId": laterID}}}}, calls{"GetAccount": 1}, calls{"ReadMirror": 1, "AddMembers": 1}},
	}
	for _, tc := range mirrorCases {
		check(tc.name, tc.cold, tc.rq, tc.dir, tc.stor)
	}
	_ = fx
}

// ---- benchmarks -------------------------------------------------------------------

// benchMembers is the scale envelope of DESIGN.md §4.
const benchMembers = 10_000

// benchPool is how many RD accounts, not yet members, BenchmarkAddMembers100 adds per op.
const benchPool = 100

type benchEnv struct {
	k     *kit
	dirID string
	pool  []string
}

// newBenchEnv seeds a directory of 10,000 RD accounts that are all SASE
// members, plus the DA and 100 more accounts that are not, directly through
// the simulation and the store (a handful of writes).
func newBenchEnv(b *testing.B) *benchEnv {
	b.Helper()
	k := newKit(b, withMaxAccounts(benchMembers+benchPool+10), withLogs(io.Discard))
	d := k.enable()
	accs := make([]directory.Account, 0, benchMembers+benchPool+1)
	accs = append(accs, directory.Account{AccountID: daID, DisplayName: "Delta Admin"})
	members := make([]store.Member, benchMembers)
	for i := range benchMembers {
		id := uid(6, i*7919%benchMembers) // member IDs not in add-time order
		name := fmt.Sprintf("Account %05d", i)
		accs = append(accs, directory.Account{AccountID: id, DisplayName: name})
		members[i] = store.Member{AccountID: id, AccountName: name, AddTime: t0.Add(time.Duration(i/2) * time.Millisecond),
			Remark: fmt.Sprintf("remark %d", i)}
	}
	env := &benchEnv{k: k, dirID: d.ID}
	for i := range benchPool {
		id := uid(8, i)
		env.pool = append(env.pool, id)
		accs = append(accs, directory.Account{AccountID: id, DisplayName: fmt.Sprintf("New %03d", i)})
	}
	if err := k.sim.SeedAccounts(k.ctx, accs); err != nil {
		b.Fatal(err)
	}
	if err := k.sim.RegisterDelegatedAdmin(k.ctx, daID); err != nil {
		b.Fatal(err)
	}
	for start := 0; start < benchMembers; start += 1000 {
		k.seedMembers(d.ID, members[start:start+1000]...)
	}
	if n, err := k.raw.CountMembers(k.ctx, d.ID); err != nil || n != benchMembers {
		b.Fatalf("CountMembers = %d, %v", n, err)
	}
	k.app.Invalidate()
	return env
}

// payload is the FC event JSON of rq, built once.
func (e *benchEnv) payload(b *testing.B, rq request) []byte {
	b.Helper()
	p, err := e.k.event(rq, "BENCH-REQUEST")
	if err != nil {
		b.Fatal(err)
	}
	return p
}

var benchCtx = fccontext.NewContext(context.Background(), &fccontext.FcContext{RequestID: "BENCH-REQUEST"})

// invokeOK invokes and returns the decoded body of a 200.
func (e *benchEnv) invokeOK(b *testing.B, fn string, payload []byte) map[string]json.RawMessage {
	b.Helper()
	out, err := e.k.handlers[fn].Invoke(benchCtx, payload)
	if err != nil {
		b.Fatal(err)
	}
	var resp struct {
		StatusCode int    `json:"statusCode"`
		Body       string `json:"body"`
	}
	if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode != 200 {
		b.Fatalf("%s: %s (%v)", fn, out, err)
	}
	var body map[string]json.RawMessage
	if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
		b.Fatal(err)
	}
	return body
}

var status200 = []byte(`"statusCode":200`)

// loop runs payload through the full handler path b.N times and reports
// the directory and store calls per op. cold drops the role cache before
// each op (outside the timer).
func (e *benchEnv) loop(b *testing.B, fn string, payload []byte, cold bool, after func(b *testing.B)) {
	e.invokeOK(b, fn, payload) // warm: the role cache, the store's pages
	if after != nil {
		after(b)
	}
	e.k.dir.take()
	e.k.dir.takeAPICalls()
	e.k.store.take()
	h := e.k.handlers[fn]
	for b.Loop() {
		if cold {
			b.StopTimer()
			e.k.app.Invalidate()
			b.StartTimer()
		}
		out, err := h.Invoke(benchCtx, payload)
		if err != nil || !bytes.Contains(out, status200) {
			b.Fatalf("%s: %s (%v)", fn, out, err)
		}
		if after != nil {
			b.StopTimer()
			after(b)
			b.StartTimer()
		}
	}
	dir, st := e.k.dir.take(), e.k.store.take()
	b.ReportMetric(float64(total(dir))/float64(b.N), "rdcalls/op")
	b.ReportMetric(float64(e.k.dir.takeAPICalls())/float64(b.N), "rdapi/op")
	b.ReportMetric(float64(st["ListMembers"]+st["CountMembers"]+st["MemberState"]+st["GetMember"]+st["ListAudit"]+st["ListAuditByTarget"]+
		st["ReadMirror"]+st["MemberIDs"]+st["GetPolicy"]+st["ListChanges"]+st["FeedHead"])/float64(b.N), "storereads/op")
	b.ReportMetric(float64(st["AddMembers"]+st["DeleteMembers"]+st["UpdateRemark"]+st["AppendAudit"])/float64(b.N), "storewrites/op")
}

// BenchmarkListMembersPage20: one list-members page of 20 on 10,000
// members through the whole handler path (event JSON, token verify, role
// check, use case, store, response JSON).
func BenchmarkListMembersPage20(b *testing.B) {
	e := newBenchEnv(b)
	first := e.payload(b, request{Fn: "list-members", As: daID, Query: map[string]string{"MaxResults": "20"}})
	body := e.invokeOK(b, "list-members", first)
	var total int
	if err := json.Unmarshal(body["TotalCount"], &total); err != nil || total != benchMembers {
		b.Fatalf("TotalCount %s", body["TotalCount"])
	}
	// The middle: 50 pages of 100 in, then pages of 20 from there.
	q := map[string]string{"MaxResults": "100"}
	for range benchMembers / 2 / 100 {
		body := e.invokeOK(b, "list-members", e.payload(b, request{Fn: "list-members", As: daID, Query: q}))
		var next string
		if err := json.Unmarshal(body["NextToken"], &next); err != nil || next == "" {
			b.Fatalf("no NextToken: %v", err)
		}
		q["NextToken"] = next
	}
	middle := e.payload(b, request{Fn: "list-members", As: daID, Query: map[string]string{"MaxResults": "20", "NextToken": q["NextToken"]}})
	byID := e.payload(b, request{Fn: "list-members", As: daID, Query: map[string]string{"MaxResults": "20", "SortBy": "AccountId", "SortOrder": "Asc"}})
	keyword := e.payload(b, request{Fn: "list-members", As: daID, Query: map[string]string{"MaxResults": "20", "Keyword": "account 0999"}})

	b.Run("FirstPage", func(b *testing.B) { e.loop(b, "list-members", first, false, nil) })
	b.Run("MiddlePage", func(b *testing.B) { e.loop(b, "list-members", middle, false, nil) })
	b.Run("FirstPageByAccountId", func(b *testing.B) { e.loop(b, "list-members", byID, false, nil) })
	b.Run("FirstPageColdRoleDA", func(b *testing.B) { e.loop(b, "list-members", first, true, nil) })
	b.Run("KeywordScan", func(b *testing.B) { e.loop(b, "list-members", keyword, false, nil) })
	// The first search after a member changed (elsewhere: another instance).
	n := 0
	record := e.k.app.Recorder.With(e.dirID, audit.Actor{AccountID: ownerID, Role: "ManagementAccount", RequestID: "bench"},
		func(_, after store.Member) audit.Entry {
			return audit.Entry{Action: action.UpdateMemberRemark, Target: after.AccountID, Result: "Updated"}
		})
	change := func(b *testing.B) {
		n++
		id := uid(6, n*7919%benchMembers)
		if _, _, err := e.k.raw.UpdateRemark(e.k.ctx, e.dirID, id, fmt.Sprintf("changed %d", n), 0, t0, record); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("KeywordAfterChange", func(b *testing.B) { e.loop(b, "list-members", keyword, false, change) })
}

// BenchmarkAddMembers100: add-members of 100 new accounts to a directory of
// 10,000 members through the whole handler path. The 100 rows are deleted
// again outside the timer, so every op adds 100 and the directory stays at
// 10,000.
func BenchmarkAddMembers100(b *testing.B) {
	e := newBenchEnv(b)
	its := make([]map[string]string, len(e.pool))
	for i, id := range e.pool {
		its[i] = map[string]string{"AccountId": id, "Remark": "benchmark"}
	}
	payload := e.payload(b, request{Fn: "add-members", As: daID, Body: map[string]any{"Members": its}})
	reset := func(b *testing.B) {
		res, err := e.k.raw.DeleteMembers(e.k.ctx, e.dirID, e.pool, nil)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range res {
			if r.Status != store.Deleted {
				b.Fatalf("member %s was not added: %s", r.AccountID, r.Status)
			}
		}
	}
	b.Run("Warm", func(b *testing.B) { e.loop(b, "add-members", payload, false, reset) })
	b.Run("ColdRoleDA", func(b *testing.B) { e.loop(b, "add-members", payload, true, reset) })
}

// BenchmarkRoleCheck: Checker.Authorize alone on a directory of 10,100
// accounts, warm (cached) and cold (cache dropped before each call).
func BenchmarkRoleCheck(b *testing.B) {
	e := newBenchEnv(b)
	roles := e.k.app.Roles
	for _, c := range []struct {
		name, account string
		want          rolecheck.Role
	}{
		{"MA", ownerID, rolecheck.RoleManagement},
		{"DA", daID, rolecheck.RoleDelegated},
		{"Member", e.pool[0], rolecheck.RoleMember},
		{"Stranger", strangerID, rolecheck.RoleNone},
	} {
		for _, mode := range []string{"Warm", "WarmGenerationRead", "Cold"} {
			name := mode + "/" + c.name
			b.Run(name, func(b *testing.B) {
				s, _ := roles.Authorize(e.k.ctx, role.Person{AccountID: c.account, UserID: c.account}, action.ListMembers)
				if s.Role != c.want {
					b.Fatalf("role %s, want %s", s.Role, c.want)
				}
				e.k.dir.take()
				e.k.dir.takeAPICalls()
				for b.Loop() {
					switch mode {
					case "Cold":
						roles.Invalidate()
					case "WarmGenerationRead":
						// The generation answer is older than a second: the
						// check reads it from the store again (the answer is
						// unchanged, so the cached role stays).
						e.k.clock.Advance(time.Second)
					}
					_, _ = roles.Authorize(e.k.ctx, role.Person{AccountID: c.account, UserID: c.account}, action.ListMembers)
				}
				b.ReportMetric(float64(total(e.k.dir.take()))/float64(b.N), "rdcalls/op")
				b.ReportMetric(float64(e.k.dir.takeAPICalls())/float64(b.N), "rdapi/op")
			})
		}
	}
}

// BenchmarkCandidatesPage: a list-candidates page on 10,000 accounts (all
// members but 100) through the whole handler path: before the first
// reconciliation (read from RD) and from the directory mirror, warm and
// with a cold role check; and the enrollment policy's preview (DryRun).
func BenchmarkCandidatesPage(b *testing.B) {
	e := newBenchEnv(b)
	first := e.payload(b, request{Fn: "list-candidates", As: daID, Query: map[string]string{"MaxResults": "20"}})
	b.Run("BeforeFirstSync", func(b *testing.B) { e.loop(b, "list-candidates", first, false, nil) })
	e.k.reconcile(b)
	body := e.invokeOK(b, "list-candidates", first)
	var total int
	if err := json.Unmarshal(body["TotalCount"], &total); err != nil || total != benchPool+1 { // the pool and the DA
		b.Fatalf("TotalCount %s", body["TotalCount"])
	}
	b.Run("FromMirror", func(b *testing.B) { e.loop(b, "list-candidates", first, false, nil) })
	b.Run("FromMirrorColdRoleDA", func(b *testing.B) { e.loop(b, "list-candidates", first, true, nil) })
	preview := e.payload(b, request{Fn: "update-enrollment-policy", As: daID, Body: map[string]any{"Mode": "AllAccounts", "DryRun": true}})
	b.Run("PolicyPreview", func(b *testing.B) { e.loop(b, "update-enrollment-policy", preview, false, nil) })
}
