package follow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/port/directory"
	"github.com/sase-multiaccount/backend/shared/port/store"
	"github.com/sase-multiaccount/backend/shared/testkit/usecasetest"
	"github.com/sase-multiaccount/backend/shared/usecase/audit"
)

const (
	ma = "1000000000000001"
	da = "1000000000000002"
)

// received is one request a fake receiver got.
type received struct {
	url    string
	header http.Header
	body   []byte
}

// receivers is the Sender of the tests: URLs with "private" are refused
// like the outbound package refuses non-public hosts; a URL's answer is
// what its handler returns (200 when it has none).
type receivers struct {
	mu       sync.Mutex
	got      []received
	handlers map[string]func(received) (int, error)
}

func (r *receivers) CheckURL(_ context.Context, url string) error {
	if strings.Contains(url, "private") || !strings.HasPrefix(url, "https://") {
		return apperr.Invalid("Url", "refused")
	}
	return nil
}

func (r *receivers) Post(_ context.Context, url string, h http.Header, body []byte) (int, error) {
	rec := received{url: url, header: h.Clone(), body: body}
	r.mu.Lock()
	r.got = append(r.got, rec)
	fn := r.handlers[url]
	r.mu.Unlock()
	if fn == nil {
		return 200, nil
	}
	return fn(rec)
}

func (r *receivers) handle(url string, fn func(received) (int, error)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.handlers == nil {
		r.handlers = map[string]func(received) (int, error){}
	}
	r.handlers[url] = fn
}

// ids are the webhook-ids the URL got, in order.
func (r *receivers) ids(url string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, g := range r.got {
		if g.url == url {
			out = append(out, g.header.Get("webhook-id"))
		}
	}
	return out
}

type world struct {
	*usecasetest.Env
	svc *Service
	rx  *receivers
	dir directory.Directory
}

func newWorld(t *testing.T) *world {
	e := usecasetest.New(t, ma)
	seal, err := NewSealer([]byte("follow-test-key-follow-test-key!"))
	if err != nil {
		t.Fatal(err)
	}
	w := &world{Env: e, rx: &receivers{}, dir: directory.Directory{ID: "rd-follow", ManagementAccountID: ma}}
	w.svc = &Service{Store: e.Store, Sender: w.rx, Audit: e.Recorder, Tokens: e.Tokens, Seal: seal, Now: e.Clock, Log: zerolog.Nop()}
	return w
}

func (w *world) scope(account string) Scope {
	role := "ManagementAccount"
	if account != ma {
		role = "DelegatedAdministrator"
	}
	return Scope{Directory: w.dir, Actor: audit.Actor{AccountID: account, Role: role, RequestID: "req"}}
}

// add makes account uid(i) a member, audited as add-members would.
func (w *world) add(i int) {
	w.T.Helper()
	m := store.Member{AccountID: usecasetest.UID(i), AccountName: fmt.Sprintf("acct-%d", i), AddTime: w.Now, AddedBy: ma,
		Version: 1, UpdateTime: w.Now, NameTime: w.Now, Remark: "r"}
	rec := w.Recorder.With(w.dir.ID, audit.Actor{AccountID: ma, Role: "ManagementAccount"}, func(_, after store.Member) audit.Entry {
		return audit.Entry{Action: "add-members", Target: after.AccountID, Result: "Added"}
	})
	if _, err := w.Store.AddMembers(w.Ctx, w.dir.ID, []store.Member{m}, rec); err != nil {
		w.T.Fatal(err)
	}
}

func (w *world) put(sc Scope, in PutInput) PutOutput {
	w.T.Helper()
	out, err := w.svc.PutWebhook(w.Ctx, sc, in)
	if err != nil {
		w.T.Fatalf("put-webhook %+v: %v", in, err)
	}
	return out
}

func wantCode(t *testing.T, what string, err error, code apperr.Code) {
	t.Helper()
	if e, ok := apperr.As(err); !ok || e.Code != code {
		t.Fatalf("%s: %v, want %s", what, err, code)
	}
}

func TestGetMemberWithFolderPath(t *testing.T) {
	w := newWorld(t)
	w.add(1)
	err := w.Store.ReplaceMirror(w.Ctx, w.dir.ID, store.Mirror{
		Accounts: []store.MirrorAccount{{AccountID: usecasetest.UID(1), FolderID: "fd-web", DisplayName: "acct-1"}},
		Folders:  []store.MirrorFolder{{ID: "r-root", Name: "Root"}, {ID: "fd-prod", Name: "Production", ParentID: "r-root"}, {ID: "fd-web", Name: "Web", ParentID: "fd-prod"}},
		Marks:    store.MirrorMarks{SyncTime: w.Now}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := w.svc.Get(w.Ctx, w.scope(ma), usecasetest.UID(1))
	if err != nil {
		t.Fatal(err)
	}
	if m := out.Member; m.AccountID != usecasetest.UID(1) || m.FolderPath != "/Production/Web" || m.Version != 1 || m.AccountName != "acct-1" {
		t.Errorf("get-member: %+v", m)
	}
	_, err = w.svc.Get(w.Ctx, w.scope(ma), usecasetest.UID(2))
	wantCode(t, "not a member", err, apperr.CodeMemberNotFound)
	_, err = w.svc.Get(w.Ctx, w.scope(ma), "12")
	wantCode(t, "bad UID", err, apperr.InvalidParameter("AccountId"))
}

func TestListChangesWithCursor(t *testing.T) {
	w := newWorld(t)
	for i := range 5 {
		w.add(i)
	}
	var ids []string
	cursor := ""
	for range 10 {
		out, err := w.svc.ListChanges(w.Ctx, w.scope(da), ChangesInput{Cursor: cursor, MaxResults: "2"})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range out.Changes {
			if c.ChangeID != c.AuditEventID || c.Type != "MemberAdded" || c.ActorRole != "ManagementAccount" {
				t.Errorf("change %+v", c)
			}
			ids = append(ids, c.AccountID)
		}
		if out.NextCursor == "" {
			t.Fatal("no NextCursor")
		}
		cursor = out.NextCursor
		if !out.HasMore {
			break
		}
	}
	want := []string{usecasetest.UID(0), usecasetest.UID(1), usecasetest.UID(2), usecasetest.UID(3), usecasetest.UID(4)}
	if !slices.Equal(ids, want) {
		t.Errorf("changes %v, want %v", ids, want)
	}
	// Polling with the last cursor: nothing, and a cursor again; a later
	// change comes after it.
	out, err := w.svc.ListChanges(w.Ctx, w.scope(da), ChangesInput{Cursor: cursor})
	if err != nil || len(out.Changes) != 0 || out.NextCursor == "" || out.HasMore {
		t.Fatalf("at the end: %+v, %v", out, err)
	}
	w.add(9)
	out, _ = w.svc.ListChanges(w.Ctx, w.scope(da), ChangesInput{Cursor: out.NextCursor})
	if len(out.Changes) != 1 || out.Changes[0].AccountID != usecasetest.UID(9) {
		t.Errorf("after a new change: %+v", out.Changes)
	}
	other := w.scope(ma)
	other.Directory.ID = "rd-other"
	_, err = w.svc.ListChanges(w.Ctx, other, ChangesInput{Cursor: cursor})
	wantCode(t, "a foreign cursor", err, apperr.InvalidParameter("Cursor"))
	_, err = w.svc.ListChanges(w.Ctx, w.scope(ma), ChangesInput{Cursor: "garbage"})
	wantCode(t, "a bad cursor", err, apperr.InvalidParameter("Cursor"))
	_, err = w.svc.ListChanges(w.Ctx, w.scope(ma), ChangesInput{MaxResults: "101"})
	wantCode(t, "MaxResults 101", err, apperr.InvalidParameter("MaxResults"))
}

func TestPutWebhookRules(t *testing.T) {
	w := newWorld(t)
	_, err := w.svc.PutWebhook(w.Ctx, w.scope(ma), PutInput{URL: "https://private.example.com/"})
	wantCode(t, "a refused URL", err, apperr.InvalidParameter("Url"))
	_, err = w.svc.PutWebhook(w.Ctx, w.scope(ma), PutInput{URL: "https://h.example.com/", Types: []string{"MemberRenamed"}})
	wantCode(t, "an unknown type", err, apperr.InvalidParameter("Types"))
	_, err = w.svc.PutWebhook(w.Ctx, w.scope(ma), PutInput{})
	wantCode(t, "no Url", err, apperr.MissingParameter("Url"))

	first := w.put(w.scope(ma), PutInput{URL: "https://h.example.com/0", Description: "ops"})
	if !strings.HasPrefix(first.Secret, "whsec_") || !first.Webhook.Enabled || len(first.Webhook.Types) != 3 {
		t.Fatalf("created %+v", first)
	}
	mine := w.put(w.scope(da), PutInput{URL: "https://h.example.com/da"})
	for i := 2; i < 10; i++ {
		w.put(w.scope(ma), PutInput{URL: fmt.Sprintf("https://h.example.com/%d", i)})
	}
	_, err = w.svc.PutWebhook(w.Ctx, w.scope(ma), PutInput{URL: "https://h.example.com/11"})
	wantCode(t, "the 11th webhook", err, apperr.CodeWebhookLimit)

	// The DA sees and manages its own only; the MA all.
	list, _ := w.svc.ListWebhooks(w.Ctx, w.scope(da))
	if len(list.Webhooks) != 1 || list.Webhooks[0].WebhookID != mine.Webhook.WebhookID {
		t.Errorf("the DA lists %+v", list.Webhooks)
	}
	_, err = w.svc.DeleteWebhook(w.Ctx, w.scope(da), IDInput{WebhookID: first.Webhook.WebhookID})
	wantCode(t, "the DA deletes the MA's", err, apperr.CodeWebhookNotFound)
	if list, _ := w.svc.ListWebhooks(w.Ctx, w.scope(ma)); len(list.Webhooks) != 10 {
		t.Errorf("the MA lists %d", len(list.Webhooks))
	}
	raw, _ := json.Marshal(list)
	if strings.Contains(string(raw), "whsec_") || strings.Contains(string(raw), "Secret") {
		t.Errorf("list-webhooks shows a secret: %s", raw)
	}
	// Replace: no new secret unless asked.
	again := w.put(w.scope(ma), PutInput{WebhookID: first.Webhook.WebhookID, URL: "https://h.example.com/new", Types: []string{"MemberRemoved"}})
	if again.Secret != "" || again.Webhook.URL != "https://h.example.com/new" || !slices.Equal(again.Webhook.Types, []store.ChangeType{store.MemberRemoved}) {
		t.Errorf("replaced %+v", again)
	}
	var actions []string
	for _, e := range w.Trail(w.dir.ID) {
		actions = append(actions, e.Action+"/"+e.Result)
	}
	if n := strings.Count(strings.Join(actions, " "), "put-webhook/Created"); n != 10 || !slices.Contains(actions, "put-webhook/Updated") {
		t.Errorf("trail %v", actions)
	}
}

func verify(t *testing.T, secret string, r received) error {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	return wh.VerifyIgnoringTimestamp(r.body, r.header)
}

func TestDeliveryInOrderSignedAndRetried(t *testing.T) {
	w := newWorld(t)
	w.add(0) // before the webhook: not delivered
	hook := w.put(w.scope(ma), PutInput{URL: "https://h.example.com/a"})
	d := NewDeliverer(w.svc)
	for i := 1; i <= 3; i++ {
		w.add(i)
	}
	poll(t, d)
	got := w.rx.ids("https://h.example.com/a")
	if len(got) != 3 {
		t.Fatalf("delivered %v", got)
	}
	w.rx.mu.Lock()
	first := w.rx.got[0]
	w.rx.mu.Unlock()
	if err := verify(t, hook.Secret, first); err != nil {
		t.Errorf("signature: %v", err)
	}
	var ev map[string]any
	_ = json.Unmarshal(first.body, &ev)
	data, _ := ev["data"].(map[string]any)
	if ev["type"] != "com.aliyun.sase.multiaccount.MemberAdded" || ev["subject"] != usecasetest.UID(1) || ev["id"] != got[0] ||
		data["ChangeId"] != got[0] || first.header.Get("Content-Type") != "application/cloudevents+json" {
		t.Errorf("first delivery %s %v", first.body, first.header)
	}
	// Fails twice, then succeeds: the same webhook-id three times, and the
	// later change only after it.
	fails := 2
	w.rx.handle("https://h.example.com/a", func(received) (int, error) {
		if fails > 0 {
			fails--
			return 503, nil
		}
		return 204, nil
	})
	w.add(4)
	w.add(5)
	poll(t, d) // attempt 1 fails
	w.Now = w.Now.Add(time.Second)
	poll(t, d) // too early: nothing
	w.Now = w.Now.Add(5 * time.Second)
	poll(t, d) // attempt 2 fails
	list, _ := w.svc.ListWebhooks(w.Ctx, w.scope(ma))
	if h := list.Webhooks[0]; h.LastStatus != "503" || h.FailingSince == "" || h.PendingCount != 2 {
		t.Errorf("while failing: %+v", h)
	}
	w.Now = w.Now.Add(30 * time.Second)
	poll(t, d) // attempt 3 succeeds, then 5
	got = w.rx.ids("https://h.example.com/a")[3:]
	if len(got) != 4 || got[0] != got[1] || got[1] != got[2] || got[3] == got[0] {
		t.Errorf("after failures: %v; want one id three times, then the next", got)
	}
	list, _ = w.svc.ListWebhooks(w.Ctx, w.scope(ma))
	if h := list.Webhooks[0]; h.LastStatus != "204" || h.FailingSince != "" || h.PendingCount != 0 {
		t.Errorf("caught up: %+v", h)
	}
}

// poll runs one poll and waits for its workers.
func poll(t *testing.T, d *Deliverer) {
	t.Helper()
	if _, err := d.Poll(t.Context()); err != nil {
		t.Fatal(err)
	}
	d.Wait()
}

func TestFailingTooLongDisablesThenResumes(t *testing.T) {
	w := newWorld(t)
	hook := w.put(w.scope(ma), PutInput{URL: "https://h.example.com/down"})
	w.rx.handle("https://h.example.com/down", func(received) (int, error) { return 0, errors.New("connection refused") })
	d := NewDeliverer(w.svc)
	w.add(1)
	for range 40 {
		poll(t, d)
		w.Now = w.Now.Add(time.Hour)
	}
	list, _ := w.svc.ListWebhooks(w.Ctx, w.scope(ma))
	if h := list.Webhooks[0]; h.Enabled || h.LastStatus != "Failed" {
		t.Fatalf("after a day of failures: %+v", h)
	}
	attempts := len(w.rx.ids("https://h.example.com/down"))
	if attempts < 24 || attempts > 30 {
		t.Errorf("%d attempts in a day and more", attempts)
	}
	trail := w.Trail(w.dir.ID)
	if trail[0].Action != "deliver-webhooks" || trail[0].Result != "Disabled" || trail[0].ActorRole != "System" {
		t.Errorf("newest record %+v", trail[0])
	}
	// Enabled again, it resumes with the change it stopped at.
	w.rx.handle("https://h.example.com/down", nil)
	on := true
	w.put(w.scope(ma), PutInput{WebhookID: hook.Webhook.WebhookID, URL: "https://h.example.com/down", Enabled: &on})
	poll(t, d)
	ids := w.rx.ids("https://h.example.com/down")
	if ids[len(ids)-1] != ids[0] || len(ids) != attempts+1 {
		t.Errorf("after enabling: %d requests, last %s, first %s", len(ids), ids[len(ids)-1], ids[0])
	}
}

func TestSlowWebhookDoesNotDelayAnother(t *testing.T) {
	w := newWorld(t)
	w.put(w.scope(ma), PutInput{URL: "https://h.example.com/slow"})
	w.put(w.scope(ma), PutInput{URL: "https://h.example.com/fast"})
	release := make(chan struct{})
	fast := make(chan struct{}, 1)
	w.rx.handle("https://h.example.com/slow", func(received) (int, error) { <-release; return 200, nil })
	w.rx.handle("https://h.example.com/fast", func(received) (int, error) { fast <- struct{}{}; return 200, nil })
	d := NewDeliverer(w.svc)
	w.add(1)
	if _, err := d.Poll(t.Context()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-fast:
	case <-time.After(10 * time.Second):
		t.Error("the fast receiver waited for the slow one")
	}
	close(release)
	d.Wait()
}

func TestRotatedSecretSignsFor24Hours(t *testing.T) {
	w := newWorld(t)
	created := w.put(w.scope(ma), PutInput{URL: "https://h.example.com/r"})
	rotated := w.put(w.scope(ma), PutInput{WebhookID: created.Webhook.WebhookID, URL: "https://h.example.com/r", RotateSecret: true})
	if rotated.Secret == "" || rotated.Secret == created.Secret {
		t.Fatalf("rotation gave %q", rotated.Secret)
	}
	d := NewDeliverer(w.svc)
	w.add(1)
	poll(t, d)
	w.Now = w.Now.Add(RotationOverlap + time.Minute)
	w.add(2)
	poll(t, d)
	w.rx.mu.Lock()
	got := slices.Clone(w.rx.got)
	w.rx.mu.Unlock()
	if len(got) != 2 {
		t.Fatalf("%d deliveries", len(got))
	}
	if verify(t, created.Secret, got[0]) != nil || verify(t, rotated.Secret, got[0]) != nil {
		t.Error("during the overlap both secrets must verify")
	}
	if verify(t, created.Secret, got[1]) == nil || verify(t, rotated.Secret, got[1]) != nil {
		t.Error("after the overlap only the new secret verifies")
	}
}

// Two deliverers (two instances) polling the same store deliver every
// change once, in order: the lease lets one work at a time.
func TestTwoDeliverersDeliverOnceInOrder(t *testing.T) {
	w := newWorld(t)
	w.put(w.scope(ma), PutInput{URL: "https://h.example.com/x"})
	for i := range 12 {
		w.add(i)
	}
	a, b := NewDeliverer(w.svc), NewDeliverer(w.svc)
	var wg sync.WaitGroup
	for _, d := range []*Deliverer{a, b} {
		wg.Add(1)
		go func() { defer wg.Done(); poll(t, d); poll(t, d) }()
	}
	wg.Wait()
	poll(t, a)
	got := w.rx.ids("https://h.example.com/x")
	out, _ := w.svc.ListChanges(w.Ctx, w.scope(ma), ChangesInput{MaxResults: "100"})
	var want []string
	for _, c := range out.Changes {
		want = append(want, c.ChangeID)
	}
	if !slices.Equal(got, want) {
		t.Errorf("delivered %v\nwant %v", got, want)
	}
}

func TestTestWebhook(t *testing.T) {
	w := newWorld(t)
	h := w.put(w.scope(ma), PutInput{URL: "https://h.example.com/t"})
	w.rx.handle("https://h.example.com/t", func(received) (int, error) { return 418, nil })
	out, err := w.svc.TestWebhook(w.Ctx, w.scope(ma), IDInput{WebhookID: h.Webhook.WebhookID})
	if err != nil || out.StatusCode != 418 || out.Success {
		t.Fatalf("test-webhook: %+v, %v", out, err)
	}
	w.rx.mu.Lock()
	r := w.rx.got[0]
	w.rx.mu.Unlock()
	if !strings.Contains(string(r.body), "com.aliyun.sase.multiaccount.WebhookTest") || verify(t, h.Secret, r) != nil {
		t.Errorf("test event %s", r.body)
	}
	if tr := w.Trail(w.dir.ID); tr[0].Action != "test-webhook" || tr[0].Result != "418" {
		t.Errorf("trail %+v", tr[0])
	}
	_, err = w.svc.TestWebhook(w.Ctx, w.scope(ma), IDInput{WebhookID: "wh-none"})
	wantCode(t, "an unknown webhook", err, apperr.CodeWebhookNotFound)
}

// A cloud session (Run with a stop) ends at once when no webhook is
// enabled, and delivers while one is.
func TestSessionEndsWithoutEnabledWebhooks(t *testing.T) {
	w := newWorld(t)
	d := NewDeliverer(w.svc)
	d.Run(t.Context(), time.Millisecond, w.Now.Add(time.Hour)) // the clock stands still: only "none enabled" ends it
	if n := d.Stats().Polls.Load(); n != 1 {
		t.Errorf("%d polls without webhooks, want 1", n)
	}
	w.put(w.scope(ma), PutInput{URL: "https://h.example.com/s"})
	w.add(1)
	ctx, cancel := context.WithCancel(t.Context())
	w.rx.handle("https://h.example.com/s", func(received) (int, error) { cancel(); return 200, nil })
	d.Run(ctx, time.Millisecond, w.Now.Add(time.Hour)) // until the receiver got the change
	if got := w.rx.ids("https://h.example.com/s"); len(got) != 1 {
		t.Errorf("delivered %v during the session", got)
	}
}
