package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/sase-multiaccount/backend/shared/adapter/cloudcreds"
	"github.com/sase-multiaccount/backend/shared/adapter/tablestore"
	"github.com/sase-multiaccount/backend/shared/local/server"
	"github.com/sase-multiaccount/backend/shared/testkit/otsfake"
)

// Following membership over HTTP (docs/API.md "Following membership"), on
// make run with its delivery loop: the embedded store, and the production
// adapters over the wire fakes.

func TestFollowingMembershipOverHTTP(t *testing.T) {
	base, stop := startDelivering(t, t.TempDir(), nil)
	defer stop()
	followSuite(t, base)
}

func TestFollowingMembershipOnProductionAdaptersOverWireFakes(t *testing.T) {
	fake := otsfake.New(otsfake.Options{})
	t.Cleanup(fake.Close)
	fake.AddCredentials("LTAI-local-test", "local-test-secret", "")
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI-local-test")
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "local-test-secret")
	t.Setenv("ALIBABA_CLOUD_SECURITY_TOKEN", "")
	if err := tablestore.EnsureTables(context.Background(), tablestore.Config{Endpoint: fake.URL(),
		Instance: fake.Instance(), Credentials: cloudcreds.FromEnv()}); err != nil {
		t.Fatal(err)
	}
	base, stop := startDelivering(t, t.TempDir(), map[string]string{"DIRECTORY": "resourcemanager",
		"STORE": "tablestore", "TABLESTORE_ENDPOINT": fake.URL(), "TABLESTORE_INSTANCE": fake.Instance()})
	defer stop()
	followSuite(t, base)
}

// startDelivering is start plus make run's delivery loop, with a short
// retry schedule so a test sees retries in milliseconds.
func startDelivering(t *testing.T, dataDir string, env map[string]string) (base string, stop func()) {
	t.Helper()
	vars := map[string]string{"WEBHOOK_POLL_INTERVAL": "200ms", "WEBHOOK_RETRY_SCHEDULE": "300ms"}
	maps.Copy(vars, env)
	return startWith(t, dataDir, vars, func(ctx context.Context, srv *server.Server) { srv.App().RunDeliveries(ctx) })
}

// receiver is a webhook receiver on 127.0.0.1: it records every request
// and answers what fail says for it.
type receiver struct {
	srv  *httptest.Server
	mu   sync.Mutex
	got  []delivery
	fail func(id string) int // status to answer; 0: 204
	wake chan struct{}
}

type delivery struct {
	id   string
	at   time.Time
	body []byte
	hdr  http.Header
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{wake: make(chan struct{}, 1000)}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		d := delivery{id: req.Header.Get("webhook-id"), at: time.Now(), body: b, hdr: req.Header.Clone()}
		r.mu.Lock()
		r.got = append(r.got, d)
		fail := r.fail
		r.mu.Unlock()
		status := 204
		if fail != nil {
			if s := fail(d.id); s != 0 {
				status = s
			}
		}
		w.WriteHeader(status)
		r.wake <- struct{}{}
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) deliveries() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// waitFor waits until cond holds for the deliveries so far, or fails after
// limit.
func (r *receiver) waitFor(t *testing.T, what string, limit time.Duration, cond func([]delivery) bool) []delivery {
	t.Helper()
	deadline := time.After(limit)
	for {
		if got := r.deliveries(); cond(got) {
			return got
		}
		select {
		case <-r.wake:
		case <-deadline:
			t.Fatalf("%s: not within %s; got %d deliveries", what, limit, len(r.deliveries()))
		}
	}
}

// feedIDs are the change IDs of the whole feed, oldest first.
func feedIDs(t *testing.T, c *client) []string {
	t.Helper()
	var ids []string
	cursor := ""
	for range 100 {
		path := "/list-member-changes?MaxResults=100"
		if cursor != "" {
			path += "&Cursor=" + url.QueryEscape(cursor)
		}
		out := c.call("GET", path, nil, 200)
		for _, ch := range out["Changes"].([]any) {
			ids = append(ids, ch.(map[string]any)["ChangeId"].(string))
		}
		cursor = out["NextCursor"].(string)
		if out["HasMore"] != true {
			return ids
		}
	}
	t.Fatal("the feed does not end")
	return nil
}

func ids(ds []delivery) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.id
	}
	return out
}

// followSuite is the contract of docs/API.md "Following membership" over
// HTTP.
func followSuite(t *testing.T, base string) {
	anon, ma := setupMembers(t, base) // member1 and member2 are members
	rx := newReceiver(t)
	for _, bad := range []string{"https://10.0.0.1/hook", "http://example.com/hook", "https://100.100.100.200/", "http://localhost:1/"} {
		out := ma.call("POST", "/put-webhook", map[string]any{"Url": bad}, 400)
		if out["Code"] != "InvalidParameter.Url" {
			t.Errorf("put-webhook %s: %v", bad, out)
		}
	}
	put := ma.call("POST", "/put-webhook", map[string]any{"Url": rx.srv.URL + "/hook", "Description": "test receiver"}, 200)
	secret, _ := put["Secret"].(string)
	hookID := put["Webhook"].(map[string]any)["WebhookId"].(string)
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatalf("secret %q: %v", secret, err)
	}
	before := len(feedIDs(t, ma)) // the setup's adds came before the webhook

	// Changes by a person and by the directory (an event): each reaches the
	// receiver, signed, in the feed's order, within 5 s.
	sent := map[string]time.Time{}
	ma.call("POST", "/update-member-remark", map[string]any{"AccountId": member1, "Remark": "prod"}, 200)
	sent["remark"] = time.Now()
	anon.call("POST", "/_local/remove-account", map[string]string{"AccountId": member2}, 200)
	sent["remove"] = time.Now()
	ma.call("POST", "/delete-members", map[string]any{"AccountIds": []string{member1}}, 200)
	sent["delete"] = time.Now()
	want := feedIDs(t, ma)[before:]
	if len(want) != 3 {
		t.Fatalf("feed after the webhook: %v", want)
	}
	got := rx.waitFor(t, "three deliveries", 5*time.Second, func(d []delivery) bool { return len(d) >= 3 })
	if !slices.Equal(ids(got), want) {
		t.Fatalf("delivered %v, want the feed's %v", ids(got), want)
	}
	var lat []time.Duration
	for i, d := range got {
		if err := wh.Verify(d.body, d.hdr); err != nil {
			t.Errorf("delivery %d: signature: %v", i, err)
		}
		var ev map[string]any
		_ = json.Unmarshal(d.body, &ev)
		if ev["specversion"] != "1.0" || ev["id"] != d.id || d.hdr.Get("Content-Type") != "application/cloudevents+json" {
			t.Errorf("delivery %d: %s", i, d.body)
		}
		lat = append(lat, d.at.Sub(sent[[]string{"remark", "remove", "delete"}[i]]))
	}
	types := func(ds []delivery) []string {
		var out []string
		for _, d := range ds {
			var ev struct{ Type string }
			_ = json.Unmarshal(d.body, &ev)
			out = append(out, ev.Type)
		}
		return out
	}
	if tp := types(got); tp[0] != "com.aliyun.sase.multiaccount.MemberRemarkUpdated" || tp[1] != "com.aliyun.sase.multiaccount.MemberRemoved" {
		t.Errorf("types %v", tp)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	t.Logf("change to delivery on make run: %v (poll every 200ms)", lat)

	followRetries(t, ma, rx, hookID)
	followReads(t, ma, hookID)
}

// followRetries: a receiver that fails twice gets the same webhook-id a
// third time, and the change after it waits until then.
func followRetries(t *testing.T, ma *client, rx *receiver, hookID string) {
	t.Helper()
	fails := map[string]int{}
	rx.mu.Lock()
	n0 := len(rx.got)
	rx.fail = func(id string) int {
		if fails[id] < 2 && len(fails) <= 1 {
			fails[id]++
			return 503
		}
		return 0
	}
	rx.mu.Unlock()
	ma.call("POST", "/add-members", map[string]any{"Members": []map[string]string{{"AccountId": member1}}}, 200)
	ma.call("POST", "/update-member-remark", map[string]any{"AccountId": member1, "Remark": "after"}, 200)
	got := rx.waitFor(t, "a retried change and the next", 10*time.Second, func(d []delivery) bool { return len(d) >= n0+4 })[n0:]
	g := ids(got)
	if g[0] != g[1] || g[1] != g[2] || g[3] == g[0] {
		t.Fatalf("after two failures: %v; want one webhook-id three times, then the next", g)
	}
	// The receiver answers before the deliverer records its progress:
	// poll list-webhooks until it says the webhook caught up.
	var h map[string]any
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); <-tick.C {
		h = ma.call("GET", "/list-webhooks", nil, 200)["Webhooks"].([]any)[0].(map[string]any)
		if h["PendingCount"] == 0.0 {
			break
		}
	}
	if h["WebhookId"] != hookID || h["LastStatus"] != "204" || h["PendingCount"] != 0.0 || h["FailingSince"] != "" {
		t.Errorf("list-webhooks: %v", h)
	}
}

// followReads: get-member, the cursor rules, test-webhook, delete-webhook.
func followReads(t *testing.T, ma *client, hookID string) {
	t.Helper()
	m := ma.call("GET", "/get-member?AccountId="+member1, nil, 200)["Member"].(map[string]any)
	if m["AccountId"] != member1 || m["Remark"] != "after" || m["Version"] != 2.0 {
		t.Errorf("get-member: %v", m)
	}
	if out := ma.call("GET", "/get-member?AccountId="+member2, nil, 404); out["Code"] != "EntityNotExists.Member" {
		t.Errorf("get-member of a non-member: %v", out)
	}
	if out := ma.call("GET", "/list-member-changes?Cursor=forged", nil, 400); out["Code"] != "InvalidParameter.Cursor" {
		t.Errorf("a forged cursor: %v", out)
	}
	page := ma.call("GET", "/list-member-changes?MaxResults=1", nil, 200)
	if len(page["Changes"].([]any)) != 1 || page["HasMore"] != true || page["NextCursor"] == "" {
		t.Errorf("a page of one: %v", page)
	}
	out := ma.call("POST", "/test-webhook", map[string]string{"WebhookId": hookID}, 200)
	if out["Success"] != true || out["StatusCode"] != 204.0 {
		t.Errorf("test-webhook: %v", out)
	}
	ma.call("POST", "/delete-webhook", map[string]string{"WebhookId": hookID}, 200)
	if out := ma.call("POST", "/delete-webhook", map[string]string{"WebhookId": hookID}, 404); out["Code"] != "EntityNotExists.Webhook" {
		t.Errorf("delete again: %v", out)
	}
	if hooks := ma.call("GET", "/list-webhooks", nil, 200)["Webhooks"].([]any); len(hooks) != 0 {
		t.Errorf("after delete: %v", hooks)
	}
}

// TestWebhookDeliveryLatency measures change-to-delivery time on make run
// with the default poll interval (1 s): each change is made once the
// previous one arrived, a tenth of a second later in the poll's cycle each
// time.
func TestWebhookDeliveryLatency(t *testing.T) {
	if testing.Short() {
		t.Skip("about ten seconds of real polling (make test runs it)")
	}
	base, stop := startDelivering(t, t.TempDir(), map[string]string{"WEBHOOK_POLL_INTERVAL": "1s"})
	defer stop()
	_, ma := setupMembers(t, base)
	rx := newReceiver(t)
	ma.call("POST", "/put-webhook", map[string]any{"Url": rx.srv.URL + "/hook"}, 200)
	const n = 10
	var lat []time.Duration
	for i := range n {
		// Changes land at every phase of the poll, not just after one.
		time.Sleep(time.Duration(i) * time.Second / n)
		sent := time.Now()
		ma.call("POST", "/update-member-remark", map[string]any{"AccountId": member1, "Remark": fmt.Sprint("r", i)}, 200)
		got := rx.waitFor(t, "a delivery", 5*time.Second, func(d []delivery) bool { return len(d) > i })
		lat = append(lat, got[i].at.Sub(sent))
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	t.Logf("change to delivery, poll every 1s: p50 %s, max %s (%d changes)", lat[n/2], lat[n-1], n)
}
