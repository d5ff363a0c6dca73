package app_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sase-multiaccount/backend/shared/port/store"
	"github.com/sase-multiaccount/backend/shared/usecase/audit"
)

type addOut struct {
	DryRun     bool
	AddedCount int
	Results    []struct {
		AccountId, Status, Code, Message string
	}
}

type memberView struct {
	AccountId, AccountName, AddTime, Remark, AddedBy string
	Version                                          int64
}

type listOut struct {
	Members    []memberView
	TotalCount int
	NextToken  *string
}

type auditOut struct {
	Events []struct {
		Time, ActorAccountId, ActorPrincipal, ActorRole, Action, Target, Result, RequestId string
		Detail                                                                             map[string]string
	}
	NextToken *string
}

func items(ids ...string) map[string]any {
	out := make([]map[string]string, len(ids))
	for i, id := range ids {
		out[i] = map[string]string{"AccountId": id}
	}
	return map[string]any{"Members": out}
}

func TestAddMembers(t *testing.T) {
	k := newKit(t)
	fx := k.standard()
	k.clock.Advance(time.Minute)

	body := map[string]any{"Members": []map[string]string{
		{"AccountId": candID, "Remark": "first"},
		{"AccountId": saseID},
		{"AccountId": candID, "Remark": "repeat"},
		{"AccountId": strangerID},
		{"AccountId": ownerID},
		{"AccountId": daID, "Remark": "the DA may be a member too"},
	}}
	r := k.post(t, "add-members", ownerID, body)
	wantOK(t, r)
	var out addOut
	r.decode(t, &out)
	type res struct{ id, status, code string }
	want := []res{
		{candID, "Added", ""}, {saseID, "AlreadyMember", ""}, {strangerID, "Failed", "NotInDirectory"},
		{ownerID, "Failed", "ManagementAccount"}, {daID, "Added", ""},
	}
	if out.DryRun || out.AddedCount != 2 || len(out.Results) != len(want) {
		t.Fatalf("add-members = %+v", out)
	}
	for i, w := range want {
		g := out.Results[i]
		if g.AccountId != w.id || g.Status != w.status || g.Code != w.code {
			t.Errorf("result %d = %+v, want %+v", i, g, w)
		}
		if (g.Status == "Failed") != (g.Message != "") {
			t.Errorf("result %d: a failure has a message and only a failure: %+v", i, g)
		}
	}
	if !strings.Contains(out.Results[2].Message, "invite") {
		t.Errorf("NotInDirectory message %q should say to invite the account", out.Results[2].Message)
	}
	// The row: the RD display name, the first remark, the caller, Version 1, the clock's time.
	m, ok := k.member(fx.dir.ID, candID)
	if !ok || m.AccountName != "Charlie Candidate" || m.Remark != "first" || m.AddedBy != ownerID || m.Version != 1 ||
		!m.AddTime.Equal(t0.Add(time.Minute)) {
		t.Fatalf("stored member %+v", m)
	}
	if got := len(k.allAudit(fx.dir.ID)); got != 2 {
		t.Fatalf("%d audit events, want one per added member (2)", got)
	}

	// Idempotent: the same request again adds nothing and writes nothing.
	before := k.snapshot()
	k.clock.Advance(time.Minute)
	r = k.post(t, "add-members", daID, body)
	wantOK(t, r)
	r.decode(t, &out)
	if out.AddedCount != 0 || out.Results[0].Status != "AlreadyMember" || out.Results[4].Status != "AlreadyMember" {
		t.Fatalf("repeated add-members = %+v", out)
	}
	if after := k.snapshot(); after != before {
		t.Fatalf("a repeated add wrote:\n%s", diff(before, after))
	}

	// The DA adds too; AddedBy is the DA.
	wantOK(t, k.post(t, "add-members", daID, items(cand2ID)))
	if m, _ := k.member(fx.dir.ID, cand2ID); m.AddedBy != daID || m.AccountName != "Carla Candidate" {
		t.Fatalf("member added by the DA: %+v", m)
	}
}

func TestAddMembersDryRun(t *testing.T) {
	k := newKit(t)
	k.standard()
	before := k.snapshot()
	r := k.post(t, "add-members", daID, map[string]any{"DryRun": true, "Members": []map[string]string{
		{"AccountId": candID, "Remark": "x"}, {"AccountId": saseID}, {"AccountId": strangerID}, {"AccountId": ownerID}, {"AccountId": candID},
	}})
	wantOK(t, r)
	var out addOut
	r.decode(t, &out)
	got := make([]string, len(out.Results))
	for i, res := range out.Results {
		got[i] = res.AccountId + ":" + res.Status + ":" + res.Code
	}
	want := []string{candID + ":Added:", saseID + ":AlreadyMember:", strangerID + ":Failed:NotInDirectory", ownerID + ":Failed:ManagementAccount"}
	if !out.DryRun || out.AddedCount != 1 || !slices.Equal(got, want) {
		t.Fatalf("dry run = %+v (%v)", out, got)
	}
	if after := k.snapshot(); after != before {
		t.Fatalf("DryRun wrote:\n%s", diff(before, after))
	}
	// A dry run still validates.
	r = k.post(t, "add-members", daID, map[string]any{"DryRun": true, "Members": []map[string]string{{"AccountId": "12"}}})
	wantErr(t, r, 400, "InvalidParameter.Members")
}

func TestDeleteMembers(t *testing.T) {
	k := newKit(t)
	fx := k.standard()
	wantOK(t, k.post(t, "add-members", ownerID, items(candID)))
	r := k.post(t, "delete-members", daID, map[string]any{"AccountIds": []string{saseID, cand2ID, saseID, strangerID, candID}})
	wantOK(t, r)
	var out struct {
		DeletedCount int
		Results      []struct{ AccountId, Status string }
	}
	r.decode(t, &out)
	want := []string{saseID + ":Deleted", cand2ID + ":NotMember", strangerID + ":NotMember", candID + ":Deleted"}
	var got []string
	for _, res := range out.Results {
		got = append(got, res.AccountId+":"+res.Status)
	}
	if out.DeletedCount != 2 || !slices.Equal(got, want) {
		t.Fatalf("delete-members = %+v", out)
	}
	if n, _ := k.raw.CountMembers(k.ctx, fx.dir.ID); n != 0 {
		t.Fatalf("CountMembers = %d after deleting both", n)
	}
	evs := k.allAudit(fx.dir.ID)
	var deleted []string
	for _, e := range evs {
		if e.Action == "delete-members" {
			deleted = append(deleted, e.Target)
			if e.ActorAccountID != daID || e.Result != "Deleted" || e.Detail["AccountName"] == "" {
				t.Errorf("delete audit event %+v", e)
			}
		}
	}
	if !slices.Equal(sortedCopy(deleted), sortedCopy([]string{saseID, candID})) {
		t.Fatalf("delete audit targets %v", deleted)
	}
	// Again: nothing to delete, nothing written.
	before := k.snapshot()
	r = k.post(t, "delete-members", ownerID, map[string]any{"AccountIds": []string{saseID}})
	wantOK(t, r)
	r.decode(t, &out)
	if out.DeletedCount != 0 || out.Results[0].Status != "NotMember" {
		t.Fatalf("second delete = %+v", out)
	}
	if after := k.snapshot(); after != before {
		t.Fatalf("deleting non-members wrote:\n%s", diff(before, after))
	}
	// A deleted member can be added again.
	r = k.post(t, "add-members", ownerID, items(saseID))
	var add addOut
	r.decode(t, &add)
	if add.AddedCount != 1 {
		t.Fatalf("re-add = %+v", add)
	}
}

// listAll pages through list-members and checks every page on the way.
func listAll(t *testing.T, k *kit, as string, q map[string]string, pageSize, wantTotal int) []memberView {
	t.Helper()
	var all []memberView
	query := map[string]string{"MaxResults": fmt.Sprint(pageSize)}
	for key, v := range q {
		query[key] = v
	}
	for page := 0; ; page++ {
		if page > wantTotal/pageSize+2 {
			t.Fatalf("list-members %v: too many pages", q)
		}
		r := k.get(t, "list-members", as, query)
		wantOK(t, r)
		var out listOut
		r.decode(t, &out)
		if out.TotalCount != wantTotal {
			t.Fatalf("list-members %v page %d: TotalCount %d, want %d", q, page, out.TotalCount, wantTotal)
		}
		all = append(all, out.Members...)
		if out.NextToken == nil {
			if len(out.Members) > pageSize {
				t.Fatalf("last page has %d members", len(out.Members))
			}
			return all
		}
		if *out.NextToken == "" || len(out.Members) != pageSize {
			t.Fatalf("list-members %v page %d: %d members with NextToken %q", q, page, len(out.Members), *out.NextToken)
		}
		query["NextToken"] = *out.NextToken
	}
}

func TestListMembersPaging(t *testing.T) {
	k := newKit(t)
	fx := k.standard()
	wantOK(t, k.post(t, "delete-members", ownerID, map[string]any{"AccountIds": []string{saseID}}))

	// 37 accounts added in batches at distinct times, several per batch (so
	// AddTime ties are broken by AccountId), with names and remarks the
	// keyword tests can find.
	names := map[string]string{}
	var ids []string
	for i := range 37 {
		id := uid(6, 1000+i*7%37) // not in add order
		ids = append(ids, id)
		name := fmt.Sprintf("Team %02d", i)
		if i%5 == 0 {
			name = fmt.Sprintf("Blue Squad %02d", i)
		}
		names[id] = name
	}
	k.seedAccounts(names)
	addTime := map[string]time.Time{}
	remarks := map[string]string{}
	for start := 0; start < len(ids); start += 6 {
		k.clock.Advance(1500 * time.Millisecond)
		batch := ids[start:min(start+6, len(ids))]
		var its []map[string]string
		for j, id := range batch {
			rm := ""
			if (start+j)%4 == 1 {
				rm = "owner: bLuE team"
			}
			remarks[id] = rm
			addTime[id] = k.clock.Now()
			its = append(its, map[string]string{"AccountId": id, "Remark": rm})
		}
		wantOK(t, k.post(t, "add-members", []string{ownerID, daID}[start%2], map[string]any{"Members": its}))
	}

	matches := func(kw, id string) bool {
		kw = strings.ToLower(strings.TrimSpace(kw))
		return strings.Contains(id, kw) || strings.Contains(strings.ToLower(names[id]), kw) || strings.Contains(strings.ToLower(remarks[id]), kw)
	}
	expected := func(kw, sortBy, order string) []string {
		var out []string
		for _, id := range ids {
			if kw == "" || matches(kw, id) {
				out = append(out, id)
			}
		}
		slices.SortFunc(out, func(a, b string) int {
			if sortBy != "AccountId" {
				if c := addTime[a].Compare(addTime[b]); c != 0 {
					return c
				}
			}
			return strings.Compare(a, b)
		})
		if order != "Asc" {
			slices.Reverse(out)
		}
		return out
	}
	for _, kw := range []string{"", "blue", "BLUE", " Blue ", "600000000000101", "team 1", "nomatch"} {
		for _, sortBy := range []string{"", "AddTime", "AccountId"} {
			for _, order := range []string{"", "Desc", "Asc"} {
				for _, size := range []int{7, 100} {
					want := expected(kw, sortBy, order)
					q := map[string]string{}
					if kw != "" {
						q["Keyword"] = kw
					}
					if sortBy != "" {
						q["SortBy"] = sortBy
					}
					if order != "" {
						q["SortOrder"] = order
					}
					got := listAll(t, k, daID, q, size, len(want))
					gotIDs := make([]string, len(got))
					for i, m := range got {
						gotIDs[i] = m.AccountId
					}
					if !slices.Equal(gotIDs, want) {
						t.Fatalf("list-members %v size %d:\n got %v\nwant %v", q, size, gotIDs, want)
					}
				}
			}
		}
	}
	if len(expected("blue", "", "")) < 10 || len(expected("600000000000101", "", "")) == 0 {
		t.Fatal("the keyword cases do not select what they should")
	}

	// Each member's view.
	got := listAll(t, k, ownerID, map[string]string{"Keyword": ids[0]}, 20, 1)
	m := got[0]
	if m.AccountName != names[ids[0]] || m.AddTime != audit.FormatTime(addTime[ids[0]]) || m.AddedBy != ownerID || m.Version != 1 {
		t.Fatalf("member view %+v", m)
	}
	_ = fx
}

func TestListMembersNextToken(t *testing.T) {
	k := newKit(t)
	fx := k.standard()
	var seed []store.Member
	var accs = map[string]string{}
	for i := range 30 {
		id := uid(6, i)
		accs[id] = fmt.Sprintf("acct %d", i)
		seed = append(seed, store.Member{AccountID: id, AccountName: accs[id], AddTime: t0.Add(time.Duration(i) * time.Second)})
	}
	k.seedAccounts(accs)
	k.seedMembers(fx.dir.ID, seed...)
	for range 3 {
		wantOK(t, k.post(t, "update-member-remark", ownerID, map[string]any{"AccountId": saseID, "Remark": "audit me"}))
	}
	wantOK(t, k.post(t, "invite-accounts", ownerID, map[string]any{"Targets": []map[string]string{{"AccountId": freshID}, {"Email": "x@example.com"}}}))

	next := func(fn string, q map[string]string) string {
		t.Helper()
		r := k.get(t, fn, ownerID, q)
		wantOK(t, r)
		var out struct{ NextToken string }
		r.decode(t, &out)
		if out.NextToken == "" {
			t.Fatalf("%s %v: no NextToken", fn, q)
		}
		return out.NextToken
	}
	tok := next("list-members", map[string]string{"MaxResults": "5"})
	tokByID := next("list-members", map[string]string{"MaxResults": "5", "SortBy": "AccountId"})
	tokAsc := next("list-members", map[string]string{"MaxResults": "5", "SortOrder": "Asc"})
	tokKw := next("list-members", map[string]string{"MaxResults": "2", "Keyword": "acct"})
	tokAudit := next("list-audit-events", map[string]string{"MaxResults": "1"})
	tokCand := next("list-candidates", map[string]string{"MaxResults": "1"})
	tokInv := next("list-invitations", map[string]string{"MaxResults": "1"})

	// The same token works, with any page size (it binds the query, not the size).
	wantOK(t, k.get(t, "list-members", daID, map[string]string{"NextToken": tok}))
	wantOK(t, k.get(t, "list-members", daID, map[string]string{"NextToken": tok, "MaxResults": "50"}))
	wantOK(t, k.get(t, "list-members", daID, map[string]string{"NextToken": tokKw, "Keyword": " ACCT "}))

	// Another directory with the same page-token key: its tokens are foreign here.
	other := newKit(t, withOwner("1111111111111111"))
	other.enable()
	other.seedAccounts(accs)
	other.seedAccounts(map[string]string{candID: "", cand2ID: ""})
	od, _ := other.sim.GetDirectory(other.ctx)
	other.seedMembers(od.ID, seed...)
	foreign := func(fn string, q map[string]string) string {
		r := other.get(t, fn, "1111111111111111", q)
		var out struct{ NextToken string }
		r.decode(t, &out)
		if out.NextToken == "" {
			t.Fatalf("other %s: no NextToken: %s", fn, r)
		}
		return out.NextToken
	}
	foreignMembers := foreign("list-members", map[string]string{"MaxResults": "5"})
	foreignCand := foreign("list-candidates", map[string]string{"MaxResults": "1"})

	payload, mac, _ := strings.Cut(tok, ".")
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	cases := []struct {
		fn, token string
		q         map[string]string
	}{
		{"list-members", "garbage", nil},
		{"list-members", "a.b", nil},
		{"list-members", ".", nil},
		{"list-members", flip(payload, 3) + "." + mac, nil},
		{"list-members", payload + "." + flip(mac, 5), nil},
		{"list-members", payload[:len(payload)-2] + "." + mac, nil},
		{"list-members", tok + "x", nil},
		{"list-members", tok + "." + mac, nil},
		{"list-members", strings.Repeat("A", 2000) + "." + mac, nil},
		{"list-members", "eyJhIjoiNjAwMDAwMDAwMDAwMDAwMyJ9." + mac, nil}, // a forged position under a stolen MAC
		{"list-members", tokByID, nil},                                   // another SortBy
		{"list-members", tok, map[string]string{"SortOrder": "Asc"}},     // another SortOrder
		{"list-members", tokAsc, nil},
		{"list-members", tok, map[string]string{"Keyword": "acct"}}, // another Keyword
		{"list-members", tokKw, nil},
		{"list-members", tokKw, map[string]string{"Keyword": "acct 1"}},
		{"list-members", tokAudit, nil},
		{"list-members", tokCand, nil},
		{"list-members", tokInv, nil},
		{"list-members", foreignMembers, nil}, // another directory
		{"list-candidates", tok, nil},
		{"list-candidates", tokInv, nil},
		{"list-candidates", foreignCand, nil},
		{"list-audit-events", tok, nil},
		{"list-audit-events", tokCand, nil},
		{"list-invitations", tokAudit, nil},
		{"list-invitations", tokInv, map[string]string{"Status": "Pending"}},
	}
	before := k.snapshot()
	for i, tc := range cases {
		q := map[string]string{"NextToken": tc.token}
		for key, v := range tc.q {
			q[key] = v
		}
		r := k.get(t, tc.fn, daID, q)
		if tc.fn == "list-invitations" {
			r = k.get(t, tc.fn, ownerID, q)
		}
		if r.Status != 400 || r.Code() != "InvalidParameter.NextToken" || !strings.Contains(r.Message(), "NextToken") {
			t.Errorf("case %d (%s %v): want 400 InvalidParameter.NextToken, got %s", i, tc.fn, tc.q, r)
		}
	}
	if after := k.snapshot(); after != before {
		t.Fatalf("token checks wrote:\n%s", diff(before, after))
	}
}

func TestUpdateMemberRemark(t *testing.T) {
	k := newKit(t)
	fx := k.standard()
	upd := func(as string, body map[string]any) response {
		t.Helper()
		k.clock.Advance(time.Second)
		return k.post(t, "update-member-remark", as, body)
	}
	var out struct{ Member memberView }

	r := upd(daID, map[string]any{"AccountId": saseID, "Remark": "hello", "Version": 1})
	wantOK(t, r)
	r.decode(t, &out)
	if out.Member.Version != 2 || out.Member.Remark != "hello" || out.Member.AccountId != saseID || out.Member.AccountName != "Sierra SASE" {
		t.Fatalf("after first update: %+v", out.Member)
	}

	// Stale version: 409, nothing written.
	before := k.snapshot()
	r = upd(ownerID, map[string]any{"AccountId": saseID, "Remark": "lost", "Version": 1})
	wantErr(t, r, 409, "Conflict.Version", "version")
	r = upd(ownerID, map[string]any{"AccountId": saseID, "Remark": "lost", "Version": 3})
	wantErr(t, r, 409, "Conflict.Version")
	if after := k.snapshot(); after != before {
		t.Fatalf("a stale update wrote:\n%s", diff(before, after))
	}

	// No version: last writer wins.
	r = upd(ownerID, map[string]any{"AccountId": saseID, "Remark": "world"})
	wantOK(t, r)
	r.decode(t, &out)
	if out.Member.Version != 3 || out.Member.Remark != "world" {
		t.Fatalf("after unconditional update: %+v", out.Member)
	}
	// Empty clears.
	r = upd(ownerID, map[string]any{"AccountId": saseID, "Remark": "", "Version": 3})
	wantOK(t, r)
	r.decode(t, &out)
	if out.Member.Version != 4 || out.Member.Remark != "" {
		t.Fatalf("after clearing: %+v", out.Member)
	}
	if m, _ := k.member(fx.dir.ID, saseID); m.Version != 4 || m.Remark != "" || m.AddedBy != ownerID {
		t.Fatalf("stored %+v", m)
	}

	// The remark it already has: a no-op (same Version, no audit record).
	before = k.snapshot()
	r = upd(ownerID, map[string]any{"AccountId": saseID, "Remark": "", "Version": 4})
	wantOK(t, r)
	r.decode(t, &out)
	if out.Member.Version != 4 || out.Member.Remark != "" {
		t.Fatalf("after an unchanged remark: %+v", out.Member)
	}
	if after := k.snapshot(); after != before {
		t.Fatalf("an unchanged remark wrote:\n%s", diff(before, after))
	}

	before = k.snapshot()
	wantErr(t, upd(ownerID, map[string]any{"AccountId": candID, "Remark": "x"}), 404, "EntityNotExists.Member", candID)
	wantErr(t, upd(ownerID, map[string]any{"AccountId": strangerID, "Remark": "x", "Version": 1}), 404, "EntityNotExists.Member")
	wantErr(t, upd(ownerID, map[string]any{"AccountId": saseID}), 400, "MissingParameter.Remark")
	wantErr(t, upd(ownerID, map[string]any{"AccountId": saseID, "Remark": nil}), 400, "MissingParameter.Remark")
	wantErr(t, upd(ownerID, map[string]any{"AccountId": saseID, "Remark": "x", "Version": 0}), 400, "InvalidParameter.Version")
	wantErr(t, upd(ownerID, map[string]any{"AccountId": saseID, "Remark": "x", "Version": -4}), 400, "InvalidParameter.Version")
	if after := k.snapshot(); after != before {
		t.Fatalf("refused updates wrote:\n%s", diff(before, after))
	}

	// The audit trail has each change with the old and new remark.
	var trail []string
	for _, e := range k.allAudit(fx.dir.ID) {
		if e.Action == "update-member-remark" {
			trail = append(trail, fmt.Sprintf("%s %q->%q v%s by %s/%s", e.Target, e.Detail["OldRemark"], e.Detail["NewRemark"], e.Detail["Version"], e.ActorAccountID, e.ActorRole))
		}
	}
	want := []string{
		saseID + ` "world"->"" v4 by ` + ownerID + "/ManagementAccount",
		saseID + ` "hello"->"world" v3 by ` + ownerID + "/ManagementAccount",
		saseID + ` "seeded"->"hello" v2 by ` + daID + "/DelegatedAdministrator",
	}
	if !slices.Equal(trail, want) {
		t.Fatalf("remark audit trail:\n%s\nwant:\n%s", strings.Join(trail, "\n"), strings.Join(want, "\n"))
	}
}

// TestAuditTrail: every change through the HTTP functions is recorded with
// who, what and the request ID, and list-audit-events pages newest first.
func TestAuditTrail(t *testing.T) {
	k := newKit(t)
	type step struct {
		rid, action, target, actor, role, result string
	}
	var steps []step
	do := func(as, fn string, body any, action, target, role, result string) response {
		t.Helper()
		k.clock.Advance(time.Second)
		r := k.post(t, fn, as, body)
		wantOK(t, r)
		steps = append(steps, step{r.RequestID, action, target, as, role, result})
		return r
	}
	r := do(ownerID, "enable-directory", "{}", "enable-directory", "", "Owner", "Enabled")
	var en struct{ ResourceDirectory struct{ DirectoryId string } }
	r.decode(t, &en)
	dirID := en.ResourceDirectory.DirectoryId
	steps[0].target = dirID
	k.seedAccounts(map[string]string{daID: "Delta Admin", candID: "Charlie Candidate"})

	r = do(ownerID, "invite-accounts", map[string]any{"Targets": []map[string]string{{"AccountId": freshID}}}, "invite-accounts", freshID, "ManagementAccount", "Invited")
	var inv struct {
		Results []struct{ InvitationId string }
	}
	r.decode(t, &inv)
	do(ownerID, "cancel-invitation", map[string]string{"InvitationId": inv.Results[0].InvitationId}, "cancel-invitation", inv.Results[0].InvitationId, "ManagementAccount", "Cancelled")
	do(ownerID, "register-delegated-admin", map[string]string{"AccountId": daID}, "register-delegated-admin", daID, "ManagementAccount", "Registered")
	do(daID, "add-members", map[string]any{"Members": []map[string]string{{"AccountId": candID, "Remark": "r1"}}}, "add-members", candID, "DelegatedAdministrator", "Added")
	do(daID, "update-member-remark", map[string]any{"AccountId": candID, "Remark": "r2"}, "update-member-remark", candID, "DelegatedAdministrator", "Updated")
	do(ownerID, "delete-members", map[string]any{"AccountIds": []string{candID}}, "delete-members", candID, "ManagementAccount", "Deleted")

	// Reads, refusals and no-ops are not changes.
	k.get(t, "list-members", daID, nil)
	k.post(t, "add-members", memberID, items(candID))
	k.post(t, "delete-members", ownerID, map[string]any{"AccountIds": []string{candID}})
	k.post(t, "update-member-remark", ownerID, map[string]any{"AccountId": candID, "Remark": "gone"})
	k.post(t, "enable-directory", ownerID, "{}")
	k.post(t, "register-delegated-admin", ownerID, map[string]string{"AccountId": daID})

	// The DA sees the whole trail too.
	r = k.get(t, "list-audit-events", daID, map[string]string{"MaxResults": "100"})
	wantOK(t, r)
	var all auditOut
	r.decode(t, &all)
	if len(all.Events) != len(steps) || all.NextToken != nil {
		t.Fatalf("the DA sees %d events, want %d", len(all.Events), len(steps))
	}
	do(ownerID, "deregister-delegated-admin", map[string]string{"AccountId": daID}, "deregister-delegated-admin", daID, "ManagementAccount", "Deregistered")

	// Page through as the MA, two at a time: newest first, each exactly once.
	var got []string
	q := map[string]string{"MaxResults": "2"}
	for page := 0; ; page++ {
		r := k.get(t, "list-audit-events", ownerID, q)
		wantOK(t, r)
		var out auditOut
		r.decode(t, &out)
		if page > len(steps) || len(out.Events) > 2 {
			t.Fatalf("audit page %d has %d events", page, len(out.Events))
		}
		for _, e := range out.Events {
			got = append(got, fmt.Sprintf("%s %s %s %s/%s %s %s", e.RequestId, e.Action, e.Target, e.ActorAccountId, e.ActorRole, e.Result, e.Time))
			if e.ActorPrincipal != "user@"+e.ActorAccountId {
				t.Errorf("ActorPrincipal %q", e.ActorPrincipal)
			}
			if e.Action == "update-member-remark" && (e.Detail["OldRemark"] != "r1" || e.Detail["NewRemark"] != "r2") {
				t.Errorf("remark event detail %v", e.Detail)
			}
		}
		if out.NextToken == nil {
			break
		}
		q["NextToken"] = *out.NextToken
	}
	// One account's timeline: its own records only, newest first, paged.
	var timeline []string
	tq := map[string]string{"Target": candID, "MaxResults": "2"}
	for {
		r := k.get(t, "list-audit-events", ownerID, tq)
		wantOK(t, r)
		var out auditOut
		r.decode(t, &out)
		for _, e := range out.Events {
			if e.Target != candID {
				t.Errorf("timeline of %s holds an event of %s", candID, e.Target)
			}
			timeline = append(timeline, e.Action)
		}
		if out.NextToken == nil {
			break
		}
		tq["NextToken"] = *out.NextToken
	}
	if want := []string{"delete-members", "update-member-remark", "add-members"}; !slices.Equal(timeline, want) {
		t.Errorf("timeline of %s = %v, want %v", candID, timeline, want)
	}
	if r := k.get(t, "list-audit-events", ownerID, map[string]string{"Target": "not-a-uid"}); r.Status != 400 {
		t.Errorf("Target=not-a-uid: status %d, want 400", r.Status)
	}

	var want []string
	for i := len(steps) - 1; i >= 0; i-- {
		s := steps[i]
		want = append(want, fmt.Sprintf("%s %s %s %s/%s %s %s", s.rid, s.action, s.target, s.actor, s.role, s.result,
			audit.FormatTime(t0.Add(time.Duration(i+1)*time.Second))))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("audit trail, newest first:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	_ = dirID
}

// TestListCandidatesPaging: every candidate exactly once across pages, in
// account order, never the MA or a member; TotalCount exact; keyword on
// UID or name, case-insensitive.
func TestListCandidatesPaging(t *testing.T) {
	k := newKit(t)
	fx := k.standard()
	names := map[string]string{}
	for i := range 23 {
		names[uid(6, i*3)] = fmt.Sprintf("Cand %02d", i)
		if i%4 == 0 {
			names[uid(6, i*3)] = fmt.Sprintf("GREEN team %02d", i)
		}
	}
	k.seedAccounts(names)
	wantOK(t, k.post(t, "add-members", ownerID, items(uid(6, 0), uid(6, 3))))
	all := []string{daID, memberID, member2ID, candID, cand2ID}
	for id := range names {
		if id != uid(6, 0) && id != uid(6, 3) {
			all = append(all, id)
		}
	}
	for _, kw := range []string{"", "green", "Green ", "60000000000000"} {
		var want []string
		for _, id := range all {
			name := map[string]string{daID: "Delta Admin", memberID: "Mike Member", member2ID: "Mona Member", candID: "Charlie Candidate", cand2ID: "Carla Candidate"}[id]
			if name == "" {
				name = names[id]
			}
			lk := strings.ToLower(strings.TrimSpace(kw))
			if strings.Contains(id, lk) || strings.Contains(strings.ToLower(name), lk) {
				want = append(want, id)
			}
		}
		want = sortedCopy(want)
		var got []string
		q := map[string]string{"MaxResults": "4", "Keyword": kw}
		for page := 0; ; page++ {
			if page > 20 {
				t.Fatal("too many pages")
			}
			r := k.get(t, "list-candidates", daID, q)
			wantOK(t, r)
			var out struct {
				Accounts   []struct{ AccountId, DisplayName, JoinTime string }
				TotalCount int
				NextToken  *string
			}
			r.decode(t, &out)
			if out.TotalCount != len(want) {
				t.Fatalf("keyword %q: TotalCount %d, want %d", kw, out.TotalCount, len(want))
			}
			for _, a := range out.Accounts {
				got = append(got, a.AccountId)
				if a.DisplayName == "" || a.JoinTime == "" {
					t.Errorf("candidate %+v", a)
				}
			}
			if out.NextToken == nil {
				break
			}
			q["NextToken"] = *out.NextToken
		}
		if !slices.Equal(got, want) {
			t.Fatalf("keyword %q: candidates\n got %v\nwant %v", kw, got, want)
		}
	}
	_ = fx
}

// TestListMembersPagingAcrossChanges: a member deleted or added between two
// pages neither duplicates nor skips the others.
func TestListMembersPagingAcrossChanges(t *testing.T) {
	k := newKit(t)
	fx := k.standard()
	var seed []store.Member
	accs := map[string]string{}
	for i := range 12 {
		id := uid(6, i)
		accs[id] = ""
		seed = append(seed, store.Member{AccountID: id, AccountName: id, AddTime: t0.Add(time.Duration(i) * time.Second)})
	}
	k.seedAccounts(accs)
	k.seedMembers(fx.dir.ID, seed...) // plus saseID, added at t0
	for _, sortBy := range []string{"AddTime", "AccountId"} {
		q := map[string]string{"MaxResults": "4", "SortBy": sortBy, "SortOrder": "Asc"}
		r := k.get(t, "list-members", ownerID, q)
		var p1 listOut
		r.decode(t, &p1)
		last := p1.Members[3].AccountId
		// Delete the last member of page 1 and the first of page 2.
		r = k.get(t, "list-members", ownerID, map[string]string{"MaxResults": "1", "SortBy": sortBy, "SortOrder": "Asc", "NextToken": *p1.NextToken})
		var p2first listOut
		r.decode(t, &p2first)
		wantOK(t, k.post(t, "delete-members", ownerID, map[string]any{"AccountIds": []string{last, p2first.Members[0].AccountId}}))
		q["NextToken"] = *p1.NextToken
		var rest []string
		for {
			r := k.get(t, "list-members", ownerID, q)
			var out listOut
			r.decode(t, &out)
			for _, m := range out.Members {
				rest = append(rest, m.AccountId)
			}
			if out.NextToken == nil {
				break
			}
			q["NextToken"] = *out.NextToken
		}
		seen := map[string]bool{}
		for _, m := range p1.Members {
			seen[m.AccountId] = true
		}
		for _, id := range rest {
			if seen[id] || id == last || id == p2first.Members[0].AccountId {
				t.Fatalf("%s: %s listed again or after deletion", sortBy, id)
			}
			seen[id] = true
		}
		rows := k.allMembers(fx.dir.ID, store.SortByAccountID)
		if len(seen) != len(rows)+1 { // + the deleted "last" of page 1
			t.Fatalf("%s: %d listed, %d rows", sortBy, len(seen), len(rows))
		}
		// Put them back for the next order.
		wantOK(t, k.post(t, "add-members", ownerID, items(last, p2first.Members[0].AccountId)))
	}
}
