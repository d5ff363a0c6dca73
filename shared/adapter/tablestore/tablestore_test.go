package tablestore

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	ots "github.com/aliyun/aliyun-tablestore-go-sdk/tablestore"

	"github.com/sase-multiaccount/backend/shared/adapter/cloudcreds"
	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/port/store"
	"github.com/sase-multiaccount/backend/shared/testkit/otsfake"
)

// TestRemoteCalls counts, at the fake, the requests each operation makes
// (docs/DESIGN.md §4).
func TestRemoteCalls(t *testing.T) {
	e := newEnv(t, otsfake.Options{})
	s := e.open(t, nil)
	ctx, dir := t.Context(), "rd-calls"

	want := func(what string, reads, writes int) {
		t.Helper()
		if r, w := e.counts(); r != reads || w != writes {
			t.Errorf("%s: %d reads, %d writes; want %d, %d", what, r, w, reads, writes)
		}
	}

	// Adding members: one BatchWriteRow per 199 members (the 200th row of
	// each batch is the member counter), so the API's largest request (100)
	// is one write, and 1,000 members are 6.
	mustAdd(t, s, dir, members(1, 100))
	want("add 100 members", 0, 1)
	mustAdd(t, s, dir, members(101, 199))
	want("add 199 members", 0, 1)
	mustAdd(t, s, dir, members(1000, 1000))
	want("add 1,000 members", 0, 6)
	mustCount(t, s, dir, 1299)
	want("count", 1, 0)

	// A list page is one GetRange, in every order, from the start or from
	// a position; the count is one GetRow.
	middle := testMember(1500)
	for _, q := range []store.ListQuery{
		{SortBy: store.SortByAddTime, Desc: true, Limit: 20},
		{SortBy: store.SortByAddTime, Limit: 100},
		{SortBy: store.SortByAccountID, Limit: 1000},
		{SortBy: store.SortByAccountID, Desc: true, Limit: 20, After: &store.Position{AccountID: middle.AccountID}},
		{SortBy: store.SortByAddTime, Desc: true, Limit: 20, After: &store.Position{AddTime: middle.AddTime, AccountID: middle.AccountID}},
	} {
		ms, more, err := s.ListMembers(ctx, dir, q)
		if err != nil || len(ms) != q.Limit || !more {
			t.Fatalf("ListMembers(%+v) = %d, %v, %v", q, len(ms), more, err)
		}
		want(fmt.Sprintf("list page %+v", q), 1, 0)
	}

	// A remark is one read and one write; a get is one read.
	if _, _, err := s.UpdateRemark(ctx, dir, acct(5), "r", 1, t0, nil); err != nil {
		t.Fatal(err)
	}
	want("update remark", 1, 1)
	if _, err := s.GetMember(ctx, dir, acct(5)); err != nil {
		t.Fatal(err)
	}
	want("get member", 1, 0)
	if _, err := s.RenameMember(ctx, dir, acct(5), "renamed", t0.Add(time.Hour), nil); err != nil {
		t.Fatal(err)
	}
	want("rename member", 1, 1)

	// Deleting 100 members: one BatchGetRow (the deleted rows are
	// returned) and one BatchWriteRow.
	res, err := s.DeleteMembers(ctx, dir, ids(1, 100), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Status != store.Deleted {
			t.Fatalf("DeleteMembers: %+v", r)
		}
	}
	want("delete 100 members", 1, 1)
	mustCount(t, s, dir, 1199)
	e.counts()

	// Re-adding an existing member costs one correction of the counter.
	res2, err := s.AddMembers(ctx, dir, []store.Member{testMember(101), testMember(1)}, nil)
	if err != nil || res2[0].Status != store.AlreadyExists || res2[1].Status != store.Added {
		t.Fatalf("AddMembers = %+v, %v", res2, err)
	}
	want("add 1 new and 1 existing member", 0, 2)
	mustCount(t, s, dir, 1200)
	e.counts()

	// Audit: 200 rows per write; a page is one read.
	var events []store.AuditEvent
	for i := range 450 {
		events = append(events, store.AuditEvent{DirectoryID: dir, ID: fmt.Sprintf("%06d", i), Time: t0, Action: "x"})
	}
	if err := s.AppendAudit(ctx, events); err != nil {
		t.Fatal(err)
	}
	want("append 450 audit events", 0, 3)
	if es, more, err := s.ListAudit(ctx, dir, 100, "000300"); err != nil || len(es) != 100 || !more || es[0].ID != "000299" {
		t.Fatalf("ListAudit = %d, %v, %v", len(es), more, err)
	}
	want("audit page", 1, 0)

	// Events: a check is one read; a mark is one write.
	exp := time.Now().Add(time.Hour)
	if ok, err := s.EventProcessed(ctx, "k1"); err != nil || ok {
		t.Fatal(ok, err)
	}
	want("check of an unmarked event", 1, 0)
	if err := s.MarkEventProcessed(ctx, "k1", exp); err != nil {
		t.Fatal(err)
	}
	want("mark", 0, 1)
	if ok, err := s.EventProcessed(ctx, "k1"); err != nil || !ok {
		t.Fatal(ok, err)
	}
	want("check of a marked event", 1, 0)

	// Generation: a read is one read; a bump is one write and one read.
	if g, err := s.Generation(ctx); err != nil || g != 0 {
		t.Fatal(g, err)
	}
	want("generation", 1, 0)
	if g, err := s.BumpGeneration(ctx); err != nil || g != 1 {
		t.Fatal(g, err)
	}
	want("bump generation", 1, 1)
}

// A page cut short by the service (5000 rows or 4 MB; 7 rows here) is
// continued from NextStartPrimaryKey until the page is full.
func TestShortPages(t *testing.T) {
	e := newEnv(t, otsfake.Options{PageRows: 7})
	s := e.open(t, nil)
	dir := "rd-short"
	mustAdd(t, s, dir, members(1, 30))
	e.counts()
	ms, more, err := s.ListMembers(t.Context(), dir, store.ListQuery{SortBy: store.SortByAddTime, Desc: true, Limit: 20})
	if err != nil || len(ms) != 20 || !more || ms[0].AccountID != acct(30) || ms[19].AccountID != acct(11) {
		t.Fatalf("ListMembers = %d members, more=%v, %v", len(ms), more, err)
	}
	if r, _ := e.counts(); r != 3 {
		t.Errorf("%d GetRange requests for 21 rows in pages of 7, want 3", r)
	}
}

func wantKind(t *testing.T, what string, err error, kind apperr.Kind, code apperr.Code) *apperr.Error {
	t.Helper()
	ae, ok := apperr.As(err)
	if !ok || ae.Kind != kind || (code != "" && ae.Code != code) {
		t.Fatalf("%s: %v (%T), want apperr kind %d code %q", what, err, err, kind, code)
	}
	return ae
}

// Injected busy errors are retried by the SDK and the call succeeds.
func TestBusyIsRetried(t *testing.T) {
	e := newEnv(t, otsfake.Options{})
	s := e.open(t, nil)
	ctx, dir := t.Context(), "rd-busy"

	e.fake.Inject(otsfake.Fault{Action: "BatchWriteRow", Times: 2})
	mustAdd(t, s, dir, members(1, 10))
	if n := e.fake.Count("BatchWriteRow"); n != 3 {
		t.Errorf("BatchWriteRow attempts = %d, want 3", n)
	}
	e.fake.Inject(otsfake.Fault{Action: "GetRow", Times: 2, Code: "OTSPartitionUnavailable", Message: "The partition is not available."})
	if _, err := s.GetMember(ctx, dir, acct(1)); err != nil {
		t.Errorf("GetMember after 2 busy answers: %v", err)
	}
	e.fake.Inject(otsfake.Fault{Action: "BatchWriteRow", Times: 1, Code: "OTSRowOperationConflict", Message: "Data is being modified by the other request."})
	if _, after, err := s.UpdateRemark(ctx, dir, acct(1), "r", 1, t0, nil); err != nil || after.Version != 2 {
		t.Errorf("UpdateRemark after a conflict answer = %+v, %v", after, err)
	}
	// A busy row inside a batch is resent alone by the SDK.
	e.fake.ResetCounts()
	e.fake.InjectRow(otsfake.RowFault{Table: DefaultMembersTable, PrimaryKey: []any{dir, acct(12)}, Code: "OTSServerBusy", Times: 1})
	mustAdd(t, s, dir, members(11, 3))
	if n := e.fake.Count("BatchWriteRow"); n != 2 {
		t.Errorf("BatchWriteRow requests = %d, want 2 (the busy row resent)", n)
	}
	mustCount(t, s, dir, 13)
}

// After the retries, busy errors are 503 ServiceUnavailable and throttling
// errors 429 Throttling.
func TestPersistentErrors(t *testing.T) {
	e := newEnv(t, otsfake.Options{})
	s := e.open(t, nil)
	ctx, dir := t.Context(), "rd-errors"
	mustAdd(t, s, dir, members(1, 1))

	e.fake.Inject(otsfake.Fault{Action: "GetRow"})
	_, err := s.GetMember(ctx, dir, acct(1))
	ae := wantKind(t, "persistent busy", err, apperr.KindUnavailable, "ServiceUnavailable")
	if !strings.Contains(ae.Message, "Tablestore is unavailable") {
		t.Errorf("message %q does not name Tablestore", ae.Message)
	}
	if n := e.fake.Count("GetRow"); n != 4 {
		t.Errorf("GetRow attempts = %d, want 4 (1 + 3 retries)", n)
	}
	e.fake.ClearFaults()

	e.fake.Inject(otsfake.Fault{Action: "BatchWriteRow", Status: 403, Code: "OTSNotEnoughCapacityUnit", Message: "Remaining capacity unit is not enough."})
	_, err = s.AddMembers(ctx, dir, members(2, 1), nil)
	wantKind(t, "persistent capacity error", err, apperr.KindThrottled, "Throttling")
	e.fake.ClearFaults()

	// A write that is not retried by the SDK (OTSTimeout on a write) is 503
	// at once.
	e.fake.ResetCounts()
	e.fake.Inject(otsfake.Fault{Action: "BatchWriteRow", Times: 1, Code: "OTSTimeout", Message: "Operation timeout."})
	_, _, err = s.UpdateRemark(ctx, dir, acct(1), "x", 0, t0, nil)
	wantKind(t, "write timeout", err, apperr.KindUnavailable, "")
	if n := e.fake.Count("BatchWriteRow"); n != 1 {
		t.Errorf("BatchWriteRow attempts = %d, want 1 (OTSTimeout is not retried for writes)", n)
	}
	mustCount(t, s, dir, 1)
}

// A batch with one failing row reports exactly that row, and the count
// stays exact.
func TestBatchRowFailure(t *testing.T) {
	e := newEnv(t, otsfake.Options{})
	s := e.open(t, nil)
	ctx, dir := t.Context(), "rd-rowfail"

	e.fake.InjectRow(otsfake.RowFault{Table: DefaultMembersTable, PrimaryKey: []any{dir, acct(3)}, Code: "OTSInternalServerError", Message: "boom", Times: 1})
	res, err := s.AddMembers(ctx, dir, members(1, 5), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if i == 2 {
			wantKind(t, "the failing row", r.Err, apperr.KindUnavailable, "")
			if r.Status != store.AddFailed || r.AccountID != acct(3) {
				t.Errorf("row %d = %+v, want Failed", i, r)
			}
		} else if r.Status != store.Added || r.Err != nil {
			t.Errorf("row %d = %+v, want Added", i, r)
		}
	}
	mustCount(t, s, dir, 4)
	if _, err := s.GetMember(ctx, dir, acct(3)); !apperr.IsCode(err, apperr.CodeMemberNotFound) {
		t.Errorf("the failed member exists: %v", err)
	}

	e.fake.InjectRow(otsfake.RowFault{Action: "BatchWriteRow", Table: DefaultMembersTable, PrimaryKey: []any{dir, acct(4)}, Code: "OTSInternalServerError", Message: "boom", Times: 1})
	dres, err := s.DeleteMembers(ctx, dir, ids(1, 5), nil)
	if err != nil {
		t.Fatal(err)
	}
	wantStatus := []store.DeleteStatus{store.Deleted, store.Deleted, store.NotFound, store.DeleteFailed, store.Deleted}
	for i, r := range dres {
		if r.Status != wantStatus[i] {
			t.Errorf("delete row %d = %+v, want %s", i, r, wantStatus[i])
		}
	}
	mustCount(t, s, dir, 1)

	// A failed audit row fails the append.
	e.fake.InjectRow(otsfake.RowFault{Table: DefaultAuditTable, PrimaryKey: []any{dir, "e2"}, Code: "OTSInternalServerError", Times: 1})
	err = s.AppendAudit(ctx, []store.AuditEvent{{DirectoryID: dir, ID: "e1"}, {DirectoryID: dir, ID: "e2"}})
	ae := wantKind(t, "audit row failure", err, apperr.KindUnavailable, "")
	if !strings.Contains(ae.Error(), "1 of 2 audit rows failed") {
		t.Errorf("audit error %q does not say which rows failed", ae.Error())
	}
}

// A connection reset after the server applied a write makes the SDK resend
// it; the resent write fails its condition, and the adapter must recognise
// its own earlier write instead of reporting AlreadyMember, a version
// conflict or a lost claim. The count stays exact.
func TestLostResponses(t *testing.T) {
	e := newEnv(t, otsfake.Options{})
	s := e.open(t, nil)
	ctx, dir := t.Context(), "rd-lost"
	mustAdd(t, s, dir, members(1, 2))

	e.fake.Inject(otsfake.Fault{Action: "BatchWriteRow", Kind: otsfake.FaultResetAfterApply, Times: 1})
	res, err := s.AddMembers(ctx, dir, []store.Member{testMember(2), testMember(3), testMember(4)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.AddStatus{store.AlreadyExists, store.Added, store.Added}
	for i, r := range res {
		if r.Status != want[i] {
			t.Errorf("add after a lost response: row %d = %+v, want %s", i, r, want[i])
		}
	}
	if n := e.fake.Count("BatchWriteRow"); n != 3 {
		t.Errorf("BatchWriteRow requests = %d, want 3 (first batch, its resend, the member-count correction)", n)
	}
	mustCount(t, s, dir, 4)

	e.fake.Inject(otsfake.Fault{Action: "BatchWriteRow", Kind: otsfake.FaultResetAfterApply, Times: 1})
	before, after, err := s.UpdateRemark(ctx, dir, acct(1), "once", 1, t0.Add(time.Minute), nil)
	if err != nil || before.Version != 1 || after.Version != 2 || after.Remark != "once" {
		t.Errorf("UpdateRemark after a lost response = %+v, %+v, %v; want version 1 -> 2", before, after, err)
	}
	if m, _ := s.GetMember(ctx, dir, acct(1)); m.Version != 2 {
		t.Errorf("version after one remark = %d, want 2", m.Version)
	}

	e.fake.Inject(otsfake.Fault{Action: "BatchWriteRow", Kind: otsfake.FaultResetAfterApply, Times: 1})
	if changed, err := s.RenameMember(ctx, dir, acct(2), "new", t0.Add(time.Hour), nil); err != nil || !changed {
		t.Errorf("RenameMember after a lost response = %v, %v; want true", changed, err)
	}

	e.fake.Inject(otsfake.Fault{Action: "BatchWriteRow", Kind: otsfake.FaultResetAfterApply, Times: 1})
	dres, err := s.DeleteMembers(ctx, dir, ids(1, 2), nil)
	if err != nil || dres[0].Status != store.Deleted || dres[1].Status != store.Deleted || dres[0].Member.Remark != "once" {
		t.Errorf("DeleteMembers after a lost response = %+v, %v", dres, err)
	}
	mustCount(t, s, dir, 2)

	e.fake.Inject(otsfake.Fault{Action: "PutRow", Kind: otsfake.FaultResetAfterApply, Times: 1})
	if err := s.MarkEventProcessed(ctx, "evt", time.Now().Add(time.Hour)); err != nil {
		t.Errorf("MarkEventProcessed after a lost response: %v", err)
	}
	if ok, err := s.EventProcessed(ctx, "evt"); err != nil || !ok {
		t.Errorf("EventProcessed after a lost response = %v, %v; want marked", ok, err)
	}

	// A reset before the server applied anything is simply retried.
	e.fake.Inject(otsfake.Fault{Action: "BatchWriteRow", Kind: otsfake.FaultReset, Times: 1})
	mustAdd(t, s, dir, members(10, 3))
	mustCount(t, s, dir, 5)
}

// A request that hangs is abandoned at RequestTimeout and retried.
func TestRequestTimeout(t *testing.T) {
	e := newEnv(t, otsfake.Options{})
	s := e.open(t, func(c *Config) { c.RequestTimeout = 100 * time.Millisecond })
	dir := "rd-timeout"
	mustAdd(t, s, dir, members(1, 1))
	e.fake.Inject(otsfake.Fault{Action: "GetRange", Kind: otsfake.FaultHang, Times: 1})
	ms, _, err := s.ListMembers(t.Context(), dir, store.ListQuery{SortBy: store.SortByAccountID, Limit: 10})
	if err != nil || len(ms) != 1 {
		t.Errorf("ListMembers after a hung attempt = %d, %v", len(ms), err)
	}
	if n := e.fake.Count("GetRange"); n != 2 {
		t.Errorf("GetRange attempts = %d, want 2", n)
	}
}

// Tablestore down (nothing listens): 503 with a clear message, after the
// retries, and the error keeps the network cause for the log.
func TestTablestoreDown(t *testing.T) {
	e := newEnv(t, otsfake.Options{})
	s := e.open(t, nil)
	e.fake.Close()
	start := time.Now()
	for name, call := range map[string]func() error{
		"GetMember":      func() error { _, err := s.GetMember(t.Context(), "rd", acct(1)); return err },
		"AddMembers":     func() error { _, err := s.AddMembers(t.Context(), "rd", members(1, 2), nil); return err },
		"CountMembers":   func() error { _, err := s.CountMembers(t.Context(), "rd"); return err },
		"EventProcessed": func() error { _, err := s.EventProcessed(t.Context(), "k"); return err },
	} {
		ae := wantKind(t, name, call(), apperr.KindUnavailable, "ServiceUnavailable")
		if ae.Message != "Tablestore is unavailable right now; nothing was changed by the failing call. Try again later." {
			t.Errorf("%s: message %q", name, ae.Message)
		}
		if !strings.Contains(ae.Error(), "connection refused") || !strings.Contains(ae.Error(), "tablestore "+name) {
			t.Errorf("%s: cause %q lacks the operation or the network error", name, ae.Error())
		}
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("failing took %s", d)
	}
}

// Credentials come from the cloudcreds source on every request: a rotation
// needs no new client. Revoked credentials are 503 (the next invocation
// brings new ones); missing ones are an internal error.
func TestCredentialRotation(t *testing.T) {
	e := newEnv(t, otsfake.Options{})
	s := e.open(t, nil)
	ctx, dir := t.Context(), "rd-creds"
	mustAdd(t, s, dir, members(1, 1))

	e.fake.AddCredentials("STS.key-2", "secret-2", "token-2")
	e.fake.RevokeCredentials("STS.key-1")
	_, err := s.GetMember(ctx, dir, acct(1))
	wantKind(t, "expired credentials", err, apperr.KindUnavailable, "")
	if !strings.Contains(err.Error(), "OTSAuthFailed") {
		t.Errorf("cause %v lacks OTSAuthFailed", err)
	}
	e.creds.Set(cloudcreds.Credentials{AccessKeyID: "STS.key-2", AccessKeySecret: "secret-2", SecurityToken: "token-2"})
	if _, err := s.GetMember(ctx, dir, acct(1)); err != nil {
		t.Errorf("GetMember with rotated credentials: %v", err)
	}

	empty := e.open(t, func(c *Config) { c.Credentials = cloudcreds.Static(cloudcreds.Credentials{}) })
	_, err = empty.GetMember(ctx, dir, acct(1))
	wantKind(t, "no credentials", err, apperr.KindInternal, "")
}

func TestContextAndClose(t *testing.T) {
	e := newEnv(t, otsfake.Options{})
	s := e.open(t, nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	e.fake.ResetCounts()
	_, err := s.CountMembers(ctx, "rd")
	if !errors.Is(err, context.Canceled) || !apperr.IsKind(err, apperr.KindUnavailable) {
		t.Errorf("canceled: %v", err)
	}
	if n := e.fake.Reads() + e.fake.Writes(); n != 0 {
		t.Errorf("%d requests with a canceled context", n)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = s.CountMembers(t.Context(), "rd")
	wantKind(t, "after Close", err, apperr.KindUnavailable, "")
}

// A missing table is an internal error that says how to fix it.
func TestMissingTable(t *testing.T) {
	e := newEnv(t, otsfake.Options{})
	s := e.open(t, func(c *Config) { c.MembersTable = "nope"; c.MembersIndex = "nope_ix" })
	_, err := s.GetMember(t.Context(), "rd", acct(1))
	ae := wantKind(t, "missing table", err, apperr.KindInternal, "InternalError")
	if !strings.Contains(ae.Error(), "scripts/create-tables") || !strings.Contains(ae.Error(), "OTSObjectNotExist") {
		t.Errorf("error %q does not say what to do", ae.Error())
	}
}

// When the counter correction cannot be written, the drift is logged and
// RecountMembers repairs it.
func TestCountDriftAndRecount(t *testing.T) {
	e := newEnv(t, otsfake.Options{})
	s := e.open(t, nil)
	ctx, dir := t.Context(), "rd-drift"
	mustAdd(t, s, dir, members(1, 3))
	e.fake.Inject(otsfake.Fault{Action: "UpdateRow", Table: DefaultCountersTable, Code: "OTSServerUnavailable"})
	res, err := s.AddMembers(ctx, dir, []store.Member{testMember(1), testMember(4)}, nil)
	if err != nil || res[0].Status != store.AlreadyExists || res[1].Status != store.Added {
		t.Fatalf("AddMembers = %+v, %v", res, err)
	}
	e.fake.ClearFaults()
	mustCount(t, s, dir, 5) // one too many: the correction failed
	var drift []string
	for _, l := range e.logs.all() {
		if strings.Contains(l, "off by") {
			drift = append(drift, l)
		}
	}
	if len(drift) != 1 || !strings.Contains(drift[0], "off by 1") || !strings.Contains(drift[0], "RecountMembers") {
		t.Errorf("drift logs = %q", drift)
	}
	if n, err := s.RecountMembers(ctx, dir); err != nil || n != 4 {
		t.Fatalf("RecountMembers = %d, %v", n, err)
	}
	mustCount(t, s, dir, 4)
	mustAdd(t, s, dir, members(5, 1))
	mustCount(t, s, dir, 5)
}

func TestNewValidatesConfig(t *testing.T) {
	creds := cloudcreds.Static(cloudcreds.Credentials{AccessKeyID: "a", AccessKeySecret: "b"})
	for _, c := range []Config{
		{Endpoint: "", Instance: "i", Credentials: creds},
		{Endpoint: "ftp://x", Instance: "i", Credentials: creds},
		{Endpoint: "https://x", Credentials: creds},
		{Endpoint: "https://x", Instance: "i"},
		{Endpoint: "https://x", Instance: "i", Credentials: creds, AuditTable: "bad name"},
		{Endpoint: "https://x", Instance: "i", Credentials: creds, AuditTable: DefaultMembersTable},
		{Endpoint: "https://x", Instance: "i", Credentials: creds, EventsTTL: time.Hour},
	} {
		if _, err := New(c); err == nil {
			t.Errorf("New(%+v) succeeded", c)
		}
	}
	if _, err := New(Config{Endpoint: "https://i.cn-hangzhou.ots.aliyuncs.com", Instance: "i", Credentials: creds}); err != nil {
		t.Errorf("New with defaults: %v", err)
	}
}

// EnsureTables is idempotent, fixes the events TTL, and reports tables it
// cannot fix.
func TestEnsureTables(t *testing.T) {
	e := newEnv(t, otsfake.Options{})
	ctx := t.Context()
	if err := EnsureTables(ctx, e.cfg); err != nil {
		t.Fatalf("second EnsureTables: %v", err)
	}
	if c := e.fake.Counts(); c["CreateTable"] != 0 || c["UpdateTable"] != 0 || c["ListTable"] != 1 || c["DescribeTable"] != len(e.cfg.specs()) {
		t.Errorf("second EnsureTables made %v; want ListTable and %d DescribeTable only (one per table)", c, len(e.cfg.specs()))
	}

	// A members table made by hand without the index, and a counters table
	// with the wrong key, are reported.
	cfg := e.cfg
	cfg.TablePrefix = "bad_"
	cfg, _ = cfg.withDefaults()
	client, _ := newClient(cfg)
	for _, spec := range cfg.specs()[:2] {
		spec.index = nil
		if spec.name == cfg.CountersTable {
			spec.pk = []string{"dir", "x"}
		}
		if err := createTable(client, spec); err != nil {
			t.Fatal(err)
		}
	}
	err := EnsureTables(ctx, cfg)
	if err == nil || !strings.Contains(err.Error(), "table bad_members has no index bad_members_by_time") ||
		!strings.Contains(err.Error(), "table bad_counters has primary key (dir STRING, x STRING), want (directory_id STRING)") {
		t.Errorf("EnsureTables over wrong tables: %v", err)
	}
	// The other tables were still created.
	if _, err := client.DescribeTable(&ots.DescribeTableRequest{TableName: "bad_audit"}); err != nil {
		t.Errorf("bad_audit not created: %v", err)
	}
}

type countingTransport struct{ n atomic.Int32 }

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

// Config.Transport carries every request.
func TestCustomTransport(t *testing.T) {
	e := newEnv(t, otsfake.Options{})
	tr := &countingTransport{}
	s := e.open(t, func(c *Config) { c.Transport = tr })
	if _, err := s.CountMembers(t.Context(), "rd"); err != nil {
		t.Fatal(err)
	}
	if n := tr.n.Load(); n != 1 {
		t.Errorf("transport carried %d requests, want 1", n)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// Changes by another caller between the adapter's read and its write:
// a member deleted concurrently is NotFound (not Deleted twice), and the
// count stays exact.
func TestConcurrentChanges(t *testing.T) {
	e := newEnv(t, otsfake.Options{})
	s, other := e.open(t, nil), e.open(t, nil)
	ctx, dir := t.Context(), "rd-race"
	mustAdd(t, s, dir, members(1, 4))

	var fired atomic.Bool
	var inner []store.DeleteResult
	e.fake.OnRequest(func(action string) {
		if action == "BatchWriteRow" && fired.CompareAndSwap(false, true) {
			var err error
			if inner, err = other.DeleteMembers(ctx, dir, []string{acct(2)}, nil); err != nil {
				t.Errorf("concurrent DeleteMembers: %v", err)
			}
		}
	})
	res, err := s.DeleteMembers(ctx, dir, ids(1, 3), nil)
	e.fake.OnRequest(nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(inner) != 1 || inner[0].Status != store.Deleted {
		t.Errorf("concurrent delete = %+v", inner)
	}
	want := []store.DeleteStatus{store.Deleted, store.NotFound, store.Deleted}
	for i, r := range res {
		if r.Status != want[i] {
			t.Errorf("row %d = %s, want %s", i, r.Status, want[i])
		}
	}
	mustCount(t, s, dir, 1)

	// A remark edited between UpdateRemark's read and write: with a version
	// it is a conflict, without one the edit is redone on the new row.
	fired.Store(false)
	theirs := []string{"theirs", "theirs again"} // distinct: an unchanged remark is no write
	e.fake.OnRequest(func(action string) {
		if action == "BatchWriteRow" && fired.CompareAndSwap(false, true) {
			if _, _, err := other.UpdateRemark(ctx, dir, acct(4), theirs[0], 0, t0, nil); err != nil {
				t.Errorf("concurrent UpdateRemark: %v", err)
			}
			theirs = theirs[1:]
		}
	})
	_, _, err = s.UpdateRemark(ctx, dir, acct(4), "mine", 1, t0, nil)
	wantKind(t, "remark with a stale version", err, apperr.KindConflict, apperr.CodeVersionConflict)
	fired.Store(false)
	before, after, err := s.UpdateRemark(ctx, dir, acct(4), "mine", 0, t0, nil)
	e.fake.OnRequest(nil)
	if err != nil || before.Remark != "theirs again" || before.Version != 3 || after.Version != 4 || after.Remark != "mine" {
		t.Errorf("remark redone after a concurrent edit = %+v -> %+v, %v", before, after, err)
	}
}

// A batch applied by an attempt whose response was lost, then refused on
// every resend: the adapter learns from the rows and the counter what the
// lost attempt did.
func TestResentBatchFails(t *testing.T) {
	e := newEnv(t, otsfake.Options{})
	s := e.open(t, nil)
	ctx, dir := t.Context(), "rd-resent"
	mustAdd(t, s, dir, members(1, 1))

	lostThenBusy := func() {
		e.fake.Inject(otsfake.Fault{Action: "BatchWriteRow", Kind: otsfake.FaultResetAfterApply, Times: 1})
		e.fake.Inject(otsfake.Fault{Action: "BatchWriteRow", Times: 3})
	}
	lostThenBusy()
	res, err := s.AddMembers(ctx, dir, members(1, 3), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.AddStatus{store.AlreadyExists, store.Added, store.Added}
	for i, r := range res {
		if r.Status != want[i] {
			t.Errorf("add row %d = %+v, want %s", i, r, want[i])
		}
	}
	mustCount(t, s, dir, 3)

	lostThenBusy()
	dres, err := s.DeleteMembers(ctx, dir, ids(2, 2), nil)
	if err != nil || dres[0].Status != store.Deleted || dres[1].Status != store.Deleted {
		t.Fatalf("DeleteMembers = %+v, %v", dres, err)
	}
	mustCount(t, s, dir, 1)

	// When the rows cannot be read either, the outcome is unknown: the
	// call fails, and the possible drift is logged.
	e.fake.Inject(otsfake.Fault{Action: "BatchWriteRow", Kind: otsfake.FaultResetAfterApply, Times: 1})
	e.fake.Inject(otsfake.Fault{Action: ""})
	_, err = s.AddMembers(ctx, dir, members(5, 2), nil)
	wantKind(t, "unknown outcome", err, apperr.KindUnavailable, "")
	e.fake.ClearFaults()
	var unknown bool
	for _, l := range e.logs.all() {
		unknown = unknown || strings.Contains(l, "outcome of a resent batch unknown")
	}
	if !unknown {
		t.Errorf("no log of the unknown outcome: %q", e.logs.all())
	}
	if n, err := s.RecountMembers(ctx, dir); err != nil || n != 3 {
		t.Errorf("RecountMembers = %d, %v; want 3 (1 + the 2 the lost attempt added)", n, err)
	}
}
