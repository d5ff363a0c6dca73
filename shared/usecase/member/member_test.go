package member_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/sase-multiaccount/backend/shared/action"
	"github.com/sase-multiaccount/backend/shared/adapter/accountcache"
	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/local/embedded"
	"github.com/sase-multiaccount/backend/shared/port/directory"
	"github.com/sase-multiaccount/backend/shared/port/store"
	"github.com/sase-multiaccount/backend/shared/testkit/usecasetest"
	"github.com/sase-multiaccount/backend/shared/usecase/audit"
	"github.com/sase-multiaccount/backend/shared/usecase/member"
)

const ma = "1100000000000001"

var (
	uid      = usecasetest.UID
	wantCode = usecasetest.WantCode
)

// env is the member use cases over the embedded store and the simulation,
// with a directory whose accounts are the MA and uid(1)..uid(accounts).
type env struct {
	*usecasetest.Env
	deps member.Deps // what svc was built from (see rebuild)
	svc  *member.Service
	sc   member.Scope
}

func newEnv(t *testing.T, accounts int) *env {
	t.Helper()
	e := &env{Env: usecasetest.New(t, ma)}
	d, err := e.Sim.EnableDirectory(e.Ctx)
	if err != nil {
		t.Fatal(err)
	}
	var seed []directory.Account
	for i := 1; i <= accounts; i++ {
		seed = append(seed, directory.Account{AccountID: uid(i), DisplayName: fmt.Sprintf("Account %d", i), JoinTime: e.Now})
	}
	if err := e.Sim.SeedAccounts(e.Ctx, seed); err != nil {
		t.Fatal(err)
	}
	e.deps = member.Deps{
		Store:    e.Store,
		Feed:     e.Store,
		Accounts: accountcache.New(e.Sim, time.Minute, accountcache.WithClock(e.Clock)),
		Folders:  e.Sim,
		Mirror:   e.Store,
		Lookup:   e.Sim,
		Audit:    e.Recorder,
		Tokens:   e.Tokens,
		Now:      e.Clock,
	}
	e.svc = member.New(e.deps)
	e.sc = member.Scope{Directory: d, Actor: audit.Actor{AccountID: ma, Role: "ManagementAccount", RequestID: "req-1"}}
	return e
}

// rebuild replaces the service with one whose dependencies change altered.
func (e *env) rebuild(change func(*member.Deps)) {
	change(&e.deps)
	e.svc = member.New(e.deps)
}

// add adds the accounts (without remarks) and fails the test on an error.
func (e *env) add(ids ...string) member.AddOutput {
	e.T.Helper()
	in := member.AddInput{}
	for _, id := range ids {
		in.Members = append(in.Members, member.AddItem{AccountID: id})
	}
	out, err := e.svc.Add(e.Ctx, e.sc, in)
	if err != nil {
		e.T.Fatal(err)
	}
	return out
}

// events returns the directory's audit events, newest first.
func (e *env) events() []audit.Event { return e.Trail(e.sc.Directory.ID) }

func (e *env) list(in member.ListInput) member.ListOutput {
	e.T.Helper()
	out, err := e.svc.List(e.Ctx, e.sc, in)
	if err != nil {
		e.T.Fatal(err)
	}
	return out
}

func ids(ms []member.Member) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.AccountID
	}
	return out
}

type addResult struct {
	status string
	code   apperr.Code
}

func addResults(out member.AddOutput) map[string]addResult {
	m := map[string]addResult{}
	for _, r := range out.Results {
		m[r.AccountID] = addResult{string(r.Status), r.Code}
	}
	return m
}

func TestAddReportsEachItem(t *testing.T) {
	e := newEnv(t, 3)
	out, err := e.svc.Add(e.Ctx, e.sc, member.AddInput{Members: []member.AddItem{
		{AccountID: uid(1), Remark: "prod"}, {AccountID: uid(2)}, {AccountID: uid(1)}, // a repeat counts once
	}})
	if err != nil {
		t.Fatal(err)
	}
	if out.AddedCount != 2 || len(out.Results) != 2 || out.DryRun {
		t.Fatalf("first add: %+v", out)
	}
	out = e.add(uid(1), uid(3), ma, uid(9))
	want := map[string]addResult{
		uid(1): {"AlreadyMember", ""},
		uid(3): {"Added", ""},
		ma:     {"Failed", apperr.CodeManagementAccount},
		uid(9): {"Failed", apperr.CodeNotInDirectory},
	}
	if got := addResults(out); out.AddedCount != 1 || !equalMaps(got, want) {
		t.Fatalf("second add: %+v", out)
	}
	for _, r := range out.Results {
		if r.Status == "Failed" && r.Message == "" {
			t.Errorf("%s failed without a message", r.AccountID)
		}
	}
	m, err := e.Store.GetMember(e.Ctx, e.sc.Directory.ID, uid(1))
	if err != nil || m.Remark != "prod" || m.AccountName != "Account 1" || m.AddedBy != ma || m.Version != 1 || !m.AddTime.Equal(e.Now) {
		t.Fatalf("stored member %+v, %v", m, err)
	}
	// One audit record per member added, none for the rest.
	evs := e.events()
	var targets []string
	for _, ev := range evs {
		if ev.Action != string(action.AddMembers) || ev.Result != "Added" || ev.ActorAccountID != ma {
			t.Errorf("audit event %+v", ev)
		}
		targets = append(targets, ev.Target)
	}
	slices.Sort(targets)
	if !slices.Equal(targets, []string{uid(1), uid(2), uid(3)}) {
		t.Fatalf("audited %v", targets)
	}
}

func equalMaps(a, b map[string]addResult) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestAddDryRunWritesNothing(t *testing.T) {
	e := newEnv(t, 2)
	e.add(uid(1))
	out, err := e.svc.Add(e.Ctx, e.sc, member.AddInput{DryRun: true, Members: []member.AddItem{{AccountID: uid(1)}, {AccountID: uid(2)}}})
	if err != nil {
		t.Fatal(err)
	}
	if !out.DryRun || out.AddedCount != 1 || !equalMaps(addResults(out), map[string]addResult{uid(1): {"AlreadyMember", ""}, uid(2): {"Added", ""}}) {
		t.Fatalf("dry run: %+v", out)
	}
	if _, err := e.Store.GetMember(e.Ctx, e.sc.Directory.ID, uid(2)); !apperr.IsCode(err, apperr.CodeMemberNotFound) {
		t.Fatalf("dry run wrote %s: %v", uid(2), err)
	}
	if n := len(e.events()); n != 1 {
		t.Fatalf("%d audit events after a dry run, want the 1 of the real add", n)
	}
}

func TestAddSeesAnAccountThatJustJoined(t *testing.T) {
	e := newEnv(t, 1)
	e.add(uid(1)) // fills the account cache
	if err := e.Sim.SeedAccounts(e.Ctx, []directory.Account{{AccountID: uid(2), DisplayName: "New", JoinTime: e.Now}}); err != nil {
		t.Fatal(err)
	}
	if out := e.add(uid(2)); out.AddedCount != 1 {
		t.Fatalf("an account that joined after the cache was filled: %+v", out)
	}
}

// failingStore fails one account of every AddMembers and DeleteMembers.
type failingStore struct {
	*embedded.Store
	fail string
	err  error
}

func (s failingStore) AddMembers(ctx context.Context, dirID string, ms []store.Member, audit store.AuditOf) ([]store.AddResult, error) {
	var keep []store.Member
	for _, m := range ms {
		if m.AccountID != s.fail {
			keep = append(keep, m)
		}
	}
	rs, err := s.Store.AddMembers(ctx, dirID, keep, audit)
	if err != nil {
		return nil, err
	}
	out := make([]store.AddResult, 0, len(ms))
	for _, m := range ms {
		if m.AccountID == s.fail {
			out = append(out, store.AddResult{AccountID: m.AccountID, Status: store.AddFailed, Err: s.err})
			continue
		}
		out, rs = append(out, rs[0]), rs[1:]
	}
	return out, nil
}

func (s failingStore) DeleteMembers(ctx context.Context, dirID string, accountIDs []string, audit store.AuditOf) ([]store.DeleteResult, error) {
	keep := slices.DeleteFunc(slices.Clone(accountIDs), func(id string) bool { return id == s.fail })
	rs, err := s.Store.DeleteMembers(ctx, dirID, keep, audit)
	if err != nil {
		return nil, err
	}
	out := make([]store.DeleteResult, 0, len(accountIDs))
	for _, id := range accountIDs {
		if id == s.fail {
			out = append(out, store.DeleteResult{AccountID: id, Status: store.DeleteFailed, Err: s.err})
			continue
		}
		out, rs = append(out, rs[0]), rs[1:]
	}
	return out, nil
}

func TestPerItemFailures(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		code apperr.Code
	}{
		{"typed error", apperr.Conflict(apperr.CodeVersionConflict, "changed meanwhile"), apperr.CodeVersionConflict},
		{"internal error", errors.New("disk on fire"), apperr.CodeInternal}, // the cause is not shown
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, 3)
			e.add(uid(3))
			e.rebuild(func(d *member.Deps) { d.Store = failingStore{Store: e.Store, fail: uid(2), err: tc.err} })
			out := e.add(uid(1), uid(2))
			if got := addResults(out); out.AddedCount != 1 || got[uid(1)].status != "Added" || got[uid(2)] != (addResult{"Failed", tc.code}) {
				t.Fatalf("add: %+v", out)
			}
			del, err := e.svc.Delete(e.Ctx, e.sc, member.DeleteInput{AccountIDs: []string{uid(3), uid(2)}})
			if err != nil {
				t.Fatal(err)
			}
			if del.DeletedCount != 1 || del.Results[0].Status != "Deleted" || del.Results[1].Status != "Failed" || del.Results[1].Code != tc.code {
				t.Fatalf("delete: %+v", del)
			}
			for _, msg := range []string{out.Results[1].Message, del.Results[1].Message} {
				if msg == "" || msg == "disk on fire" {
					t.Errorf("failure message %q", msg)
				}
			}
		})
	}
}

func TestAddRefusesMalformedInput(t *testing.T) {
	e := newEnv(t, 1)
	many := make([]member.AddItem, member.MaxBatch+1)
	for i := range many {
		many[i].AccountID = uid(i + 1)
	}
	for _, tc := range []struct {
		name string
		in   member.AddInput
		code apperr.Code
	}{
		{"no members", member.AddInput{}, "MissingParameter.Members"},
		{"too many", member.AddInput{Members: many}, "InvalidParameter.Members"},
		{"no account ID", member.AddInput{Members: []member.AddItem{{AccountID: uid(1)}, {Remark: "x"}}}, "MissingParameter.Members[1].AccountId"},
		{"malformed account ID", member.AddInput{Members: []member.AddItem{{AccountID: "12345"}}}, "InvalidParameter.Members"},
	} {
		_, err := e.svc.Add(e.Ctx, e.sc, tc.in)
		wantCode(t, tc.name, err, apperr.KindInvalid, tc.code)
	}
	if n := len(e.events()); n != 0 {
		t.Fatalf("%d audit events after refused requests", n)
	}
}

func TestListPagesSortsAndSearches(t *testing.T) {
	e := newEnv(t, 5)
	for i := 1; i <= 5; i++ {
		e.add(uid(i))
		e.Now = e.Now.Add(time.Second)
	}
	remark := "Payments team"
	if _, err := e.svc.UpdateRemark(e.Ctx, e.sc, member.RemarkInput{AccountID: uid(4), Remark: &remark}); err != nil {
		t.Fatal(err)
	}

	// Default: newest first, in pages.
	got := usecasetest.Pages(t, 5, func(token string) ([]string, int, string, error) {
		out, err := e.svc.List(e.Ctx, e.sc, member.ListInput{MaxResults: "2", NextToken: token})
		if len(out.Members) > 2 {
			t.Fatalf("%d members in a page of 2", len(out.Members))
		}
		return ids(out.Members), out.TotalCount, out.NextToken, err
	})
	if want := []string{uid(5), uid(4), uid(3), uid(2), uid(1)}; !slices.Equal(got, want) {
		t.Fatalf("newest first: %v, want %v", got, want)
	}

	out := e.list(member.ListInput{SortBy: "AccountId", SortOrder: "Asc", MaxResults: "3"})
	if want := []string{uid(1), uid(2), uid(3)}; !slices.Equal(ids(out.Members), want) || out.NextToken == "" {
		t.Fatalf("by account ID: %v", ids(out.Members))
	}
	// A token belongs to the query it came from.
	_, err := e.svc.List(e.Ctx, e.sc, member.ListInput{SortBy: "AddTime", NextToken: out.NextToken})
	wantCode(t, "token of another order", err, apperr.KindInvalid, "InvalidParameter.NextToken")

	// A keyword matches the ID, the name or the remark, case-insensitively; TotalCount counts matches.
	out = e.list(member.ListInput{Keyword: "  PAYMENTS "})
	if out.TotalCount != 1 || !slices.Equal(ids(out.Members), []string{uid(4)}) || out.Members[0].Remark != remark {
		t.Fatalf("keyword: %+v", out)
	}
	out = e.list(member.ListInput{Keyword: "account", MaxResults: "4"})
	if out.TotalCount != 5 || len(out.Members) != 4 || out.NextToken == "" {
		t.Fatalf("keyword page: %+v", out)
	}
	if m := out.Members[0]; m.AddTime != "2026-03-01T08:00:04Z" || m.AddedBy != ma || m.AccountName != "Account 5" {
		t.Fatalf("member view %+v", m)
	}

	_, err = e.svc.List(e.Ctx, e.sc, member.ListInput{SortBy: "Name"})
	wantCode(t, "bad sort", err, apperr.KindInvalid, "InvalidParameter.SortBy")
	_, err = e.svc.List(e.Ctx, e.sc, member.ListInput{MaxResults: "101"})
	wantCode(t, "too many results", err, apperr.KindInvalid, "InvalidParameter.MaxResults")
}

func TestUpdateRemarkChecksVersion(t *testing.T) {
	e := newEnv(t, 1)
	e.add(uid(1))
	remark, v1 := "first", int64(1)
	out, err := e.svc.UpdateRemark(e.Ctx, e.sc, member.RemarkInput{AccountID: uid(1), Remark: &remark, Version: &v1})
	if err != nil {
		t.Fatal(err)
	}
	if out.Member.Remark != "first" || out.Member.Version != 2 {
		t.Fatalf("after update: %+v", out.Member)
	}
	// The same version again: someone else changed it meanwhile.
	second := "second"
	_, err = e.svc.UpdateRemark(e.Ctx, e.sc, member.RemarkInput{AccountID: uid(1), Remark: &second, Version: &v1})
	wantCode(t, "stale version", err, apperr.KindConflict, apperr.CodeVersionConflict)
	// Without a version the update is unconditional; an empty remark clears it.
	empty := ""
	if out, err = e.svc.UpdateRemark(e.Ctx, e.sc, member.RemarkInput{AccountID: uid(1), Remark: &empty}); err != nil || out.Member.Remark != "" || out.Member.Version != 3 {
		t.Fatalf("clear: %+v, %v", out, err)
	}

	evs := e.events()
	if len(evs) != 3 || evs[0].Action != string(action.UpdateMemberRemark) || evs[1].Action != string(action.UpdateMemberRemark) {
		t.Fatalf("audit: %+v", evs)
	}
	if d := evs[1].Detail; d["OldRemark"] != "" || d["NewRemark"] != "first" || d["Version"] != "2" {
		t.Fatalf("audit detail of the first update: %v", d)
	}

	_, err = e.svc.UpdateRemark(e.Ctx, e.sc, member.RemarkInput{AccountID: uid(1)})
	wantCode(t, "no remark", err, apperr.KindInvalid, "MissingParameter.Remark")
	zero := int64(0)
	_, err = e.svc.UpdateRemark(e.Ctx, e.sc, member.RemarkInput{AccountID: uid(1), Remark: &remark, Version: &zero})
	wantCode(t, "version 0", err, apperr.KindInvalid, "InvalidParameter.Version")
	_, err = e.svc.UpdateRemark(e.Ctx, e.sc, member.RemarkInput{AccountID: uid(2), Remark: &remark})
	wantCode(t, "not a member", err, apperr.KindNotFound, apperr.CodeMemberNotFound)
}

func TestDeleteReportsEachItem(t *testing.T) {
	e := newEnv(t, 2)
	e.add(uid(1), uid(2))
	out, err := e.svc.Delete(e.Ctx, e.sc, member.DeleteInput{AccountIDs: []string{uid(1), uid(3)}})
	if err != nil {
		t.Fatal(err)
	}
	if out.DeletedCount != 1 || len(out.Results) != 2 ||
		out.Results[0] != (member.DeleteResult{AccountID: uid(1), Status: "Deleted"}) ||
		out.Results[1] != (member.DeleteResult{AccountID: uid(3), Status: "NotMember"}) {
		t.Fatalf("delete: %+v", out)
	}
	if got := ids(e.list(member.ListInput{}).Members); !slices.Equal(got, []string{uid(2)}) {
		t.Fatalf("left: %v", got)
	}
	if ev := e.events()[0]; ev.Action != string(action.DeleteMembers) || ev.Target != uid(1) || ev.Detail["AccountName"] != "Account 1" {
		t.Fatalf("audit: %+v", ev)
	}
	_, err = e.svc.Delete(e.Ctx, e.sc, member.DeleteInput{})
	wantCode(t, "no IDs", err, apperr.KindInvalid, "MissingParameter.AccountIds")
}

func TestCandidatesLeaveOutTheMAAndMembers(t *testing.T) {
	e := newEnv(t, 5)
	e.add(uid(2), uid(4))
	got := usecasetest.Pages(t, 3, func(token string) ([]string, int, string, error) {
		out, err := e.svc.Candidates(e.Ctx, e.sc, member.CandidatesInput{MaxResults: "2", NextToken: token})
		var ids []string
		for _, c := range out.Accounts {
			ids = append(ids, c.AccountID)
		}
		return ids, out.TotalCount, out.NextToken, err
	})
	if want := []string{uid(1), uid(3), uid(5)}; !slices.Equal(got, want) {
		t.Fatalf("candidates %v, want %v", got, want)
	}
	out, err := e.svc.Candidates(e.Ctx, e.sc, member.CandidatesInput{Keyword: "account 3"})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Accounts) != 1 || out.Accounts[0] != (member.Candidate{AccountID: uid(3), DisplayName: "Account 3", JoinTime: "2026-03-01T08:00:00Z",
		FolderID: e.sc.Directory.RootFolderID, FolderPath: "/"}) {
		t.Fatalf("keyword: %+v", out)
	}
}

// A keyword search answers from the instance's snapshot of the members, so
// it must see a change the moment it is made, by this instance or by
// another one over the same store (two FC instances).
func TestKeywordSearchSeesEveryChange(t *testing.T) {
	e := newEnv(t, 3)
	e.add(uid(1), uid(2))
	other := member.New(e.deps) // another instance over the same store
	find := func(svc *member.Service, keyword string) []string {
		t.Helper()
		out, err := svc.List(e.Ctx, e.sc, member.ListInput{Keyword: keyword})
		if err != nil {
			t.Fatal(err)
		}
		return ids(out.Members)
	}
	if got := find(e.svc, "blue"); len(got) != 0 {
		t.Fatalf("before any remark: %v", got)
	}
	remark := "Blue team"
	if _, err := other.UpdateRemark(e.Ctx, e.sc, member.RemarkInput{AccountID: uid(2), Remark: &remark}); err != nil {
		t.Fatal(err)
	}
	if got := find(e.svc, "blue"); !slices.Equal(got, []string{uid(2)}) {
		t.Errorf("after another instance's remark: %v, want %v", got, []string{uid(2)})
	}
	if _, err := other.Delete(e.Ctx, e.sc, member.DeleteInput{AccountIDs: []string{uid(2)}}); err != nil {
		t.Fatal(err)
	}
	if got := find(e.svc, "blue"); len(got) != 0 {
		t.Errorf("after another instance's delete: %v", got)
	}
	if _, err := other.Add(e.Ctx, e.sc, member.AddInput{Members: []member.AddItem{{AccountID: uid(3), Remark: "blue again"}}}); err != nil {
		t.Fatal(err)
	}
	if got := find(e.svc, "blue"); !slices.Equal(got, []string{uid(3)}) {
		t.Errorf("after another instance's add: %v, want %v", got, []string{uid(3)})
	}
}

// Candidates from the mirror come from the instance's copy only while the
// mirror and the members are as they were read: a member added by another
// instance and an account the mirror gains show on the very next page.
func TestCandidatesCopyFollowsEveryChange(t *testing.T) {
	e := newEnv(t, 3)
	d := e.sc.Directory
	mirror := store.Mirror{Folders: []store.MirrorFolder{{ID: d.RootFolderID, Name: "Root"}}, Marks: store.MirrorMarks{SyncTime: e.Now}}
	for i := 1; i <= 3; i++ {
		mirror.Accounts = append(mirror.Accounts, store.MirrorAccount{AccountID: uid(i), DisplayName: fmt.Sprintf("Account %d", i), FolderID: d.RootFolderID, JoinTime: e.Now})
	}
	if err := e.Store.ReplaceMirror(e.Ctx, d.ID, mirror); err != nil {
		t.Fatal(err)
	}
	other := member.New(e.deps) // another instance over the same store
	cands := func() []string {
		t.Helper()
		out, err := e.svc.Candidates(e.Ctx, e.sc, member.CandidatesInput{})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, a := range out.Accounts {
			got = append(got, a.AccountID)
		}
		return got
	}
	if got := cands(); !slices.Equal(got, []string{uid(1), uid(2), uid(3)}) {
		t.Fatalf("from the mirror: %v", got)
	}
	if _, err := other.Add(e.Ctx, e.sc, member.AddInput{Members: []member.AddItem{{AccountID: uid(1)}}}); err != nil {
		t.Fatal(err)
	}
	if got := cands(); !slices.Equal(got, []string{uid(2), uid(3)}) {
		t.Errorf("after another instance added %s: %v", uid(1), got)
	}
	if err := e.Store.PutMirrorAccounts(e.Ctx, d.ID, []store.MirrorAccount{{AccountID: uid(4), DisplayName: "new", FolderID: d.RootFolderID, JoinTime: e.Now}}); err != nil {
		t.Fatal(err)
	}
	if got := cands(); !slices.Equal(got, []string{uid(2), uid(3), uid(4)}) {
		t.Errorf("after the mirror gained %s: %v", uid(4), got)
	}
}

// A missing dependency is a wiring mistake New names at once.
func TestNewNamesMissingDependencies(t *testing.T) {
	e := newEnv(t, 0)
	d := e.deps
	d.Lookup, d.Tokens = nil, nil
	defer func() {
		if got := fmt.Sprint(recover()); got != "member.New: missing Lookup, Tokens" {
			t.Fatalf("panic %q", got)
		}
	}()
	member.New(d)
}
