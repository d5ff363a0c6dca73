package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/fc"
	"github.com/aliyun/fc-runtime-go-sdk/fccontext"

	"github.com/sase-multiaccount/backend/shared/app"
	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/config"
	"github.com/sase-multiaccount/backend/shared/local/embedded"
	"github.com/sase-multiaccount/backend/shared/local/simulation"
	"github.com/sase-multiaccount/backend/shared/port/directory"
	"github.com/sase-multiaccount/backend/shared/port/store"
	"github.com/sase-multiaccount/backend/shared/rolecheck"
	"github.com/sase-multiaccount/backend/shared/testkit/logbuf"
	"github.com/sase-multiaccount/backend/shared/usecase/dirsync"
)

// The accounts the sample events name (testdata/*.json).
const (
	owner    = "1000000000000001" // management account; OWNER_ACCOUNT_ID's default
	delegate = "1000000000000002"
	removed  = "1000000000000003" // remove-cloud-account.json
	deleted  = "1000000000000004" // delete-account.json
	renamed  = "1000000000000005" // update-account.json
	created  = "1000000000000006" // create-resource-account.json, move-account.json
	folder   = "fd-Prod4x8Kq2"    // the folder samples' (not in the simulated directory)
)

// deployment is the function as main builds it, on the embedded store and a
// simulated directory whose clock sits just before the samples' times.
type deployment struct {
	t   *testing.T
	app *app.App
	st  *flakyStore
	sim *simulation.Sim
	h   fc.Handler
	dir directory.Directory
}

func deploy(t *testing.T) *deployment {
	t.Helper()
	return deployLogging(t, "error", io.Discard)
}

// deployLogging is deploy with the function's log at level into w.
func deployLogging(t *testing.T, level string, w io.Writer) *deployment {
	t.Helper()
	ctx := context.Background()
	data := t.TempDir()
	cfg, err := config.Load(func(k string) string {
		return map[string]string{"DATA_DIR": data, "LOG_LEVEL": level, "ROLE_CACHE_TTL": "1h"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	es, err := embedded.Open(filepath.Join(data, "store.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = es.Close() })
	st := &flakyStore{Store: es}
	sim, err := simulation.Open(simulation.Options{OwnerAccountID: owner,
		Now: func() time.Time { return time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	d, err := sim.EnableDirectory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.SeedAccounts(ctx, []directory.Account{{AccountID: delegate}, {AccountID: removed}, {AccountID: deleted}, {AccountID: renamed, DisplayName: "payments"}}); err != nil {
		t.Fatal(err)
	}
	a, err := app.New(ctx, cfg, app.Options{Store: st, Directory: sim, Verifier: app.NoTokens{}, LogOutput: w})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	added := time.Date(2026, 11, 24, 8, 5, 0, 0, time.UTC)
	var ms []store.Member
	for _, id := range []string{removed, deleted, renamed} {
		ms = append(ms, store.Member{DirectoryID: d.ID, AccountID: id, AccountName: "payments", AddTime: added, AddedBy: owner,
			Version: 1, UpdateTime: added, NameTime: added})
	}
	if _, err := st.AddMembers(ctx, d.ID, ms, nil); err != nil {
		t.Fatal(err)
	}
	return &deployment{t: t, app: a, st: st, sim: sim, h: fc.NewHandler(a.EventHandler()), dir: d}
}

// flakyStore is the embedded store whose member deletes fail while down.
type flakyStore struct {
	*embedded.Store
	down atomic.Bool
}

func (f *flakyStore) DeleteMembers(ctx context.Context, dirID string, ids []string, audit store.AuditOf) ([]store.DeleteResult, error) {
	if f.down.Load() {
		return nil, apperr.Unavailable("Tablestore", errors.New("connection reset"))
	}
	return f.Store.DeleteMembers(ctx, dirID, ids, audit)
}

// invoke runs payload through the FC runtime's JSON path.
func (d *deployment) invoke(payload []byte) (dirsync.Summary, error) {
	d.t.Helper()
	ctx := fccontext.NewContext(context.Background(), &fccontext.FcContext{RequestID: "fc-req-1", AccountId: owner, Region: "cn-hangzhou",
		Credentials: fccontext.Credentials{AccessKeyId: "STS.test", AccessKeySecret: "secret", SecurityToken: "token"}})
	out, err := d.h.Invoke(ctx, payload)
	if err != nil {
		return dirsync.Summary{}, err
	}
	var sum dirsync.Summary
	if err := json.Unmarshal(out, &sum); err != nil {
		d.t.Fatalf("response %s: %v", out, err)
	}
	return sum, nil
}

func sample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (d *deployment) member(id string) (store.Member, bool) {
	m, err := d.app.Store.GetMember(context.Background(), d.dir.ID, id)
	if apperr.IsCode(err, apperr.CodeMemberNotFound) {
		return m, false
	}
	if err != nil {
		d.t.Fatal(err)
	}
	return m, true
}

func (d *deployment) mirrored(id string) (store.MirrorAccount, bool) {
	d.t.Helper()
	m, err := d.app.Store.ReadMirror(context.Background(), d.dir.ID)
	if err != nil {
		d.t.Fatal(err)
	}
	for _, a := range m.Accounts {
		if a.AccountID == id {
			return a, true
		}
	}
	return store.MirrorAccount{}, false
}

func (d *deployment) wantMirrorFolder(id string, want bool) {
	d.t.Helper()
	m, err := d.app.Store.ReadMirror(context.Background(), d.dir.ID)
	if err != nil {
		d.t.Fatal(err)
	}
	has := false
	for _, f := range m.Folders {
		has = has || f.ID == id
	}
	if has != want {
		d.t.Fatalf("mirror has folder %s: %v, want %v", id, has, want)
	}
}

// Every sample event, in a plausible order, through the FC JSON path; then
// all of them again (duplicates).
func TestSampleEventsThroughTheFCPath(t *testing.T) {
	d := deploy(t)
	ctx := context.Background()
	steps := []struct {
		file   string
		before func()
		result string
		check  func()
	}{
		{file: "update-account.json", result: dirsync.ResultRenamed,
			before: func() {
				// Events are hints: RD must report the new name.
				if _, err := d.sim.RenameAccount(ctx, renamed, "payments-prod"); err != nil {
					t.Fatal(err)
				}
			},
			check: func() {
				if m, _ := d.member(renamed); m.AccountName != "payments-prod" {
					t.Fatalf("name %q", m.AccountName)
				}
			}},
		{file: "create-folder.json", result: dirsync.ResultNoChange, // RD does not list the sample's folder
			check: func() { d.wantMirrorFolder(folder, false) }},
		{file: "create-resource-account.json", result: dirsync.ResultMirrored,
			before: func() {
				if err := d.sim.SeedAccounts(ctx, []directory.Account{{AccountID: created, DisplayName: "web-prod"}}); err != nil {
					t.Fatal(err)
				}
			},
			check: func() {
				if a, ok := d.mirrored(created); !ok || a.DisplayName != "web-prod" || a.FolderID != d.dir.RootFolderID {
					t.Fatalf("mirror %+v, %v", a, ok)
				}
			}},
		{file: "move-account.json", result: dirsync.ResultMirrored, // RD has it in the root: the mirror says so
			check: func() {
				if a, ok := d.mirrored(created); !ok || a.FolderID != d.dir.RootFolderID {
					t.Fatalf("mirror %+v, %v", a, ok)
				}
			}},
		{file: "update-folder.json", result: dirsync.ResultNoChange, check: func() { d.wantMirrorFolder(folder, false) }},
		{file: "delete-folder.json", result: dirsync.ResultMirrored,
			before: func() {
				if err := d.app.Store.PutMirrorFolder(ctx, d.dir.ID, store.MirrorFolder{ID: folder, Name: "Production", ParentID: d.dir.RootFolderID}); err != nil {
					t.Fatal(err)
				}
			},
			check: func() { d.wantMirrorFolder(folder, false) }},
		{file: "register-delegated-administrator.json", result: dirsync.ResultRegistered,
			before: func() {
				// Warm the role cache with the old answer; the event must drop it.
				if s, _ := d.app.Roles.Resolve(ctx, delegate); s.Role != rolecheck.RoleMember {
					t.Fatalf("role %s", s.Role)
				}
				if err := d.sim.RegisterDelegatedAdmin(ctx, delegate); err != nil {
					t.Fatal(err)
				}
			},
			check: func() {
				if s, _ := d.app.Roles.Resolve(ctx, delegate); s.Role != rolecheck.RoleDelegated {
					t.Fatalf("role after the event %s", s.Role)
				}
			}},
		{file: "deregister-delegated-administrator.json", result: dirsync.ResultDeregistered,
			before: func() {
				if err := d.sim.DeregisterDelegatedAdmin(ctx, delegate); err != nil {
					t.Fatal(err)
				}
			},
			check: func() {
				if s, _ := d.app.Roles.Resolve(ctx, delegate); s.Role != rolecheck.RoleMember {
					t.Fatalf("role after the event %s", s.Role)
				}
			}},
		{file: "remove-cloud-account.json", result: dirsync.ResultRemoved,
			before: func() {
				if err := d.sim.RemoveAccount(ctx, removed); err != nil {
					t.Fatal(err)
				}
			},
			check: func() {
				if _, ok := d.member(removed); ok {
					t.Fatal("still a member")
				}
			}},
		{file: "delete-account.json", result: dirsync.ResultRemoved,
			before: func() {
				if err := d.sim.RemoveAccount(ctx, deleted); err != nil {
					t.Fatal(err)
				}
			},
			check: func() {
				if _, ok := d.member(deleted); ok {
					t.Fatal("still a member")
				}
			}},
		{file: "destroy-resource-directory.json", result: dirsync.ResultDestroyed,
			before: func() {
				for _, id := range []string{delegate, renamed, created} {
					if err := d.sim.RemoveAccount(ctx, id); err != nil {
						t.Fatal(err)
					}
				}
				if err := d.sim.DestroyDirectory(ctx); err != nil {
					t.Fatal(err)
				}
			},
			check: func() {
				if s, _ := d.app.Roles.Resolve(ctx, owner); s.Role != rolecheck.RoleOwner {
					t.Fatalf("owner's role after destroy %s", s.Role)
				}
			}},
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	if len(files) != len(steps) {
		t.Fatalf("%d sample files, %d covered by this test", len(files), len(steps))
	}
	for _, s := range steps {
		if !slices.Contains(files, filepath.Join("testdata", s.file)) {
			t.Fatalf("no sample %s", s.file)
		}
		if s.before != nil {
			s.before()
		}
		sum, err := d.invoke(sample(t, s.file))
		if err != nil || sum.Result != s.result {
			t.Fatalf("%s: %+v, %v; want %s", s.file, sum, err, s.result)
		}
		s.check()
	}

	trail, _, err := d.app.Store.ListAudit(ctx, d.dir.ID, 100, "")
	if err != nil {
		t.Fatal(err)
	}
	destroyed, _, err := d.app.Store.ListAudit(ctx, dirsync.NoDirectoryID, 100, "")
	if err != nil {
		t.Fatal(err)
	}
	trail = append(trail, destroyed...)
	audited := 0 // mirror-only events write no audit record
	for _, s := range steps {
		if s.result != dirsync.ResultMirrored && s.result != dirsync.ResultNoChange {
			audited++
		}
	}
	if len(trail) != audited {
		t.Fatalf("%d audit records, want %d: %+v", len(trail), len(steps), trail)
	}
	for _, a := range trail {
		if a.ActorRole != "System" || a.Action != "directory-events" || a.Detail["EventId"] != a.RequestID || a.RequestID == "" {
			t.Fatalf("audit record %+v", a)
		}
	}

	// EventBridge delivers at least once: every sample again changes nothing.
	for _, s := range steps {
		sum, err := d.invoke(sample(t, s.file))
		if err != nil || sum.Result != dirsync.ResultDuplicate {
			t.Fatalf("%s again: %+v, %v", s.file, sum, err)
		}
	}
	again, _, _ := d.app.Store.ListAudit(ctx, d.dir.ID, 100, "")
	if len(again)+len(destroyed) != audited {
		t.Fatal("duplicates were audited")
	}
}

// Payloads the SDK could not decode into a CloudEvent are acknowledged,
// not failed: a failure would make EventBridge retry garbage.
func TestGarbagePayloadsAreAcknowledged(t *testing.T) {
	d := deploy(t)
	for _, p := range []string{``, `not json`, `[]`, `"text"`, `42`, `null`, `{}`, `{"id":7,"source":true}`,
		`{"id":"x","source":"acs.resourcemanager","type":"resourcemanager:ActionTrail:ApiCall","data":"garbage"}`,
		`{"id":"x","source":"acs.resourcemanager","type":"resourcemanager:ActionTrail:ApiCall","data":{"eventName":"RemoveCloudAccount","serviceName":"ResourceManager"}}`,
	} {
		sum, err := d.invoke([]byte(p))
		if err != nil || sum.Result != dirsync.ResultIgnored || sum.Reason != dirsync.ReasonMalformed {
			t.Fatalf("payload %q: %+v, %v", p, sum, err)
		}
	}
	for _, id := range []string{removed, deleted, renamed} {
		if _, ok := d.member(id); !ok {
			t.Fatalf("garbage removed %s", id)
		}
	}
}

// A store failure fails the invocation (EventBridge retries), changes
// nothing, and the retry is processed.
func TestStoreFailureFailsTheInvocation(t *testing.T) {
	d := deploy(t)
	payload := sample(t, "remove-cloud-account.json")
	if err := d.sim.RemoveAccount(context.Background(), removed); err != nil {
		t.Fatal(err)
	}
	d.st.down.Store(true)
	if _, err := d.invoke(payload); err == nil {
		t.Fatal("no error with the store down: EventBridge would not retry")
	}
	if _, ok := d.member(removed); !ok {
		t.Fatal("half-applied")
	}
	d.st.down.Store(false)
	if sum, err := d.invoke(payload); err != nil || sum.Result != dirsync.ResultRemoved {
		t.Fatalf("retry: %+v, %v", sum, err)
	}
}

// Every sample matches the trigger's rule pattern (dirsync.RulePattern, the
// pattern s.yaml and template.yaml deploy), evaluated with EventBridge's
// semantics for the operators it uses: exact values and suffix, arrays OR,
// fields AND.
func TestSamplesMatchTheRulePattern(t *testing.T) {
	var pattern map[string]any
	if err := json.Unmarshal([]byte(dirsync.RulePattern()), &pattern); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, f := range files {
		var ev map[string]any
		if err := json.Unmarshal(sample(t, filepath.Base(f)), &ev); err != nil {
			t.Fatal(err)
		}
		if !matches(pattern, ev) {
			t.Fatalf("%s does not match %s", f, dirsync.RulePattern())
		}
	}
	var other map[string]any
	_ = json.Unmarshal([]byte(`{"type":"resourcemanager:ActionTrail:ApiCall","data":{"serviceName":"ResourceManager","eventName":"InviteAccountToResourceDirectory"}}`), &other)
	if matches(pattern, other) {
		t.Fatal("the pattern lets unhandled calls through")
	}
	// The source is pinned: the same record from another source does not match.
	var forged map[string]any
	if err := json.Unmarshal(sample(t, "remove-cloud-account.json"), &forged); err != nil {
		t.Fatal(err)
	}
	forged["source"] = "evil.source"
	if matches(pattern, forged) {
		t.Fatal("the pattern lets events of another source through")
	}
}

// Events are hints: a sample delivered while RD does not confirm it changes
// nothing, and one from another source is refused.
func TestForgedSamplesChangeNothing(t *testing.T) {
	d := deploy(t)
	for file, reason := range map[string]string{
		"remove-cloud-account.json":             dirsync.ReasonStillInDirectory,
		"delete-account.json":                   dirsync.ReasonStillInDirectory,
		"update-account.json":                   dirsync.ReasonNotConfirmed,
		"register-delegated-administrator.json": dirsync.ReasonNotConfirmed,
	} {
		sum, err := d.invoke(sample(t, file))
		if err != nil || sum.Result != dirsync.ResultNoChange || sum.Reason != reason {
			t.Fatalf("%s without RD's confirmation: %+v, %v; want NoChange/%s", file, sum, err, reason)
		}
	}
	var ev map[string]any
	if err := json.Unmarshal(sample(t, "remove-cloud-account.json"), &ev); err != nil {
		t.Fatal(err)
	}
	ev["source"] = "evil.source"
	ev["id"] = "forged-1"
	payload, _ := json.Marshal(ev)
	if err := d.sim.RemoveAccount(context.Background(), removed); err != nil { // even when RD agrees
		t.Fatal(err)
	}
	sum, err := d.invoke(payload)
	if err != nil || sum.Result != dirsync.ResultIgnored || sum.Reason != dirsync.ReasonUntrustedSource {
		t.Fatalf("event from evil.source: %+v, %v", sum, err)
	}
	for _, id := range []string{removed, deleted, renamed} {
		if m, ok := d.member(id); !ok || m.Version != 1 || m.AccountName != "payments" {
			t.Fatalf("member %s changed: %+v, %v", id, m, ok)
		}
	}
	if trail, _, _ := d.app.Store.ListAudit(context.Background(), d.dir.ID, 100, ""); len(trail) != 0 {
		t.Fatalf("unconfirmed events were audited: %+v", trail)
	}
}

func matches(pattern, ev map[string]any) bool {
	for k, want := range pattern {
		got := ev[k]
		switch w := want.(type) {
		case map[string]any:
			sub, ok := got.(map[string]any)
			if !ok || !matches(w, sub) {
				return false
			}
		case []any:
			s, _ := got.(string)
			hit := false
			for _, alt := range w {
				switch a := alt.(type) {
				case string:
					hit = hit || a == s
				case map[string]any:
					suf, _ := a["suffix"].(string)
					hit = hit || (suf != "" && len(s) >= len(suf) && s[len(s)-len(suf):] == suf)
				}
			}
			if !hit {
				return false
			}
		}
	}
	return true
}

// Each kind (type and eventName) of event the function does not recognise
// is logged once per instance, at warn, with the type, the eventName and
// the reason only: never the record, which names people and accounts. A
// recognised event is not.
func TestUnrecognisedEventsAreLoggedOncePerKind(t *testing.T) {
	var log logbuf.Buffer
	d := deployLogging(t, "warn", &log)
	move := sample(t, "move-account.json")
	withType := func(typ, name string) []byte {
		var ev map[string]any
		if err := json.Unmarshal(move, &ev); err != nil {
			t.Fatal(err)
		}
		ev["type"] = typ
		ev["data"].(map[string]any)["eventName"] = name
		ev["id"] = typ + "/" + name
		b, _ := json.Marshal(ev)
		return b
	}
	const apiCall = "resourcemanager:ActionTrail:ApiCall"
	sends := []struct {
		payload []byte
		reason  string
	}{
		{withType(apiCall, "ListAccounts"), dirsync.ReasonUnhandled},
		{withType(apiCall, "ListAccounts"), dirsync.ReasonUnhandled}, // the same kind again
		{withType("acs.resourcemanager:ActionTrail:AliyunServiceEvent", "MoveAccount"), dirsync.ReasonNotAPICall},
		{[]byte(`not json`), dirsync.ReasonMalformed},
		{move, dirsync.ReasonNotConfirmed}, // recognised; RD does not list the sample's account
	}
	for i, s := range sends {
		sum, err := d.invoke(s.payload)
		if err != nil || sum.Reason != s.reason {
			t.Fatalf("send %d: %+v, %v; want reason %s", i, sum, err, s.reason)
		}
	}
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(log.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		if m["message"] == app.UnrecognisedEventMessage {
			lines = append(lines, m)
		}
	}
	want := [][3]string{
		{apiCall, "ListAccounts", dirsync.ReasonUnhandled},
		{"acs.resourcemanager:ActionTrail:AliyunServiceEvent", "MoveAccount", dirsync.ReasonNotAPICall},
		{"", "", dirsync.ReasonMalformed},
	}
	if len(lines) != len(want) {
		t.Fatalf("%d unrecognised-event lines, want %d:\n%s", len(lines), len(want), log.String())
	}
	for i, m := range lines {
		got := [3]string{fmt.Sprint(m["event_type"]), fmt.Sprint(m["event_name"]), fmt.Sprint(m["reason"])}
		keys := slices.Sorted(maps.Keys(m))
		if got != want[i] || m["level"] != "warn" || !slices.Equal(keys, []string{"event_name", "event_type", "level", "message", "reason", "time"}) {
			t.Errorf("line %d: %v, want %v at warn with no other field", i, m, want[i])
		}
	}
	// The record's identities never reach these lines.
	for _, secret := range []string{"rd-admin", "203456789012345678", "LTAI5tExampleKeyId", "203.0.113.10", created} {
		for _, m := range lines {
			if strings.Contains(fmt.Sprint(m), secret) {
				t.Errorf("an unrecognised-event line carries %q: %v", secret, m)
			}
		}
	}
}

// The kinds one instance remembers are bounded: eventName and type come
// from whoever invokes the function.
func TestUnrecognisedKindsAreBounded(t *testing.T) {
	var log logbuf.Buffer
	d := deployLogging(t, "warn", &log)
	for i := range 100 {
		p := fmt.Sprintf(`{"id":"x%d","source":"acs.resourcemanager","type":"resourcemanager:ActionTrail:ApiCall","data":{"eventName":"Call%d","serviceName":"ResourceManager"}}`, i, i)
		if sum, err := d.invoke([]byte(p)); err != nil || sum.Reason != dirsync.ReasonUnhandled {
			t.Fatalf("%d: %+v, %v", i, sum, err)
		}
	}
	if n := strings.Count(log.String(), app.UnrecognisedEventMessage); n != 64 {
		t.Fatalf("%d unrecognised-event lines for 100 kinds, want 64", n)
	}
}
