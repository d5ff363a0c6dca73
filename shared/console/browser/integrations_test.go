package browser

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/sase-multiaccount/backend/shared/local/oidc"
)

// hookReceiver is a webhook receiver on 127.0.0.1 (which make run allows):
// it answers 202 to test events and 200 to changes, and keeps what it got.
type hookReceiver struct {
	url string
	mu  sync.Mutex
	got []hookRequest
}

type hookRequest struct {
	typ    string // the CloudEvent type
	header http.Header
	body   []byte
}

func newHookReceiver(t *testing.T) *hookReceiver {
	r := &hookReceiver{}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		var ev struct {
			Type string `json:"type"`
		}
		_ = json.Unmarshal(body, &ev)
		r.mu.Lock()
		r.got = append(r.got, hookRequest{typ: ev.Type, header: req.Header.Clone(), body: body})
		r.mu.Unlock()
		if strings.HasSuffix(ev.Type, ".WebhookTest") {
			w.WriteHeader(http.StatusAccepted)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(ts.Close)
	r.url = ts.URL
	return r
}

// last is the last request received, verified with secret; it fails the
// test when there is none, it is not of type typ or its signature is wrong.
func (r *hookReceiver) last(t *testing.T, typ, secret string) hookRequest {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.got) == 0 {
		t.Fatalf("the receiver got nothing; want %s", typ)
	}
	got := r.got[len(r.got)-1]
	if got.typ != "com.aliyun.sase.multiaccount."+typ {
		t.Fatalf("the receiver got %s last, want %s", got.typ, typ)
	}
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.VerifyIgnoringTimestamp(got.body, got.header); err != nil {
		t.Fatalf("%s: the signature does not verify with the secret the page showed: %v", typ, err)
	}
	return got
}

// secretShownOnce reads the secret of the open secret dialog, copies it,
// closes the dialog and checks that the page no longer holds it.
func secretShownOnce(t *testing.T, ctx context.Context) string {
	t.Helper()
	do(t, ctx, visible("#webhook-secret"), hasText("#webhook-secret-warning", "only time the secret is shown"))
	secret := get(t, ctx, eval[string](`document.querySelector('#webhook-secret').value`))
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("secret %q", secret)
	}
	shown := fmt.Sprintf(`[...document.querySelectorAll('input, textarea')].some((e) => e.value.includes(%s)) || document.body.innerText.includes(%[1]s)`, q(secret))
	do(t, ctx, until("the secret on the page", shown),
		click("#webhook-secret-copy"), hasText("#webhook-secret-copy", "Copied"),
		click("#webhook-secret-done"), count("dialog[open]", 0), until("the secret gone", "!("+shown+")"))
	return secret
}

// TestIntegrationsWebhooks: an administrator adds a webhook pointing at a
// local receiver, sees its secret once, sends a test event and sees the
// receiver's status; member changes are delivered, signed with that
// secret, and listed in Recent deliveries with their status codes; the
// secret is rotated, the webhook deleted. A Viewer and an Operator have
// no Integrations tab.
func TestIntegrationsWebhooks(t *testing.T) {
	s := startServer(t)
	ctx := tab(t)
	ids := seedDirectory(t, s, 1, delegate)
	rx := newHookReceiver(t)
	const row = "table.webhooks tbody tr"

	do(t, ctx, signIn(s, owner), click("#tab-integrations"), view("integrations"), hasText("#webhooks-area", "No webhooks yet"),
		click("#webhook-add"), visible("#webhook-url"), hasText("#webhook-url-rules", "HTTPS only"),
		hasText("#webhook-url-rules", "No redirects"), hasText("#webhook-url-rules", "Public addresses only"),
		typeIn("#webhook-url", rx.url+"/hook"), typeIn("#webhook-description", "CMDB <sync>"),
		click("#webhook-type-MemberRemarkUpdated"), click("#webhook-save"))
	secret := secretShownOnce(t, ctx)
	do(t, ctx, count(row, 1), hasText(row+" td.url", rx.url+"/hook"), hasText(row+" td.description", "CMDB <sync>"),
		count(row+" td.types [data-type]", 2), hasText(row+" td.types", "MemberAdded"), hasText(row+" td.types", "MemberRemoved"),
		hasText(row+" td.enabled", "Enabled"),
		hasText(row+" td.last-delivery", "Never"),
		click(row+" button.test"), hasText("#webhook-test-result", "the receiver answered 202"))
	rx.last(t, "WebhookTest", secret)

	// A member is added and delivered (make run's POST /deliver-webhooks
	// is one poll of the delivery loop, waiting for its deliveries).
	s.api(owner, "POST", "/add-members", map[string]any{"Members": []map[string]string{{"AccountId": ids[0]}}})
	s.api("", "POST", "/deliver-webhooks", map[string]any{})
	added := rx.last(t, "MemberAdded", secret).header.Get("webhook-id")
	first := fmt.Sprintf(`#webhook-attempts tbody tr:nth-child(%d)`, 1)
	do(t, ctx, click("#webhooks-refresh"), hasText(row+" td.last-status", "200"), hasText(row+" td.pending", "0"),
		until("a last delivery time", `document.querySelector('table.webhooks td.last-delivery time') !== null`),
		click(row+" button.recent"), count("#webhook-attempts tbody tr", 2),
		hasText(first+" .status-code", "200"), until("the change's ID", fmt.Sprintf(`document.querySelector(%s).dataset.change === %s`, q(first), q(added))),
		hasText("#webhook-attempts tbody tr:nth-child(2) .change", "Test event"),
		hasText("#webhook-attempts tbody tr:nth-child(2) .status-code", "202"))

	// While the list is open: the member is removed and delivered too.
	s.api(owner, "POST", "/delete-members", map[string]any{"AccountIds": []string{ids[0]}})
	s.api("", "POST", "/deliver-webhooks", map[string]any{})
	removed := rx.last(t, "MemberRemoved", secret).header.Get("webhook-id")
	do(t, ctx, click("#webhook-attempts-refresh"), count("#webhook-attempts tbody tr", 3),
		until("the removal first", fmt.Sprintf(`document.querySelector(%s).dataset.change === %s`, q(first), q(removed))),
		click("#webhook-attempts-close"), count("dialog[open]", 0))

	// Rotating the secret shows the new one, once.
	do(t, ctx, click(row+" button.edit"), visible("#webhook-rotate"), click("#webhook-rotate"), click("#webhook-save"))
	if rotated := secretShownOnce(t, ctx); rotated == secret {
		t.Error("rotation showed the same secret")
	}

	// In Chinese, then deleted after a confirmation.
	do(t, ctx, click("#language"), view("integrations"), hasText("main h1", "集成"), hasText(row+" button.test", "发送测试事件"),
		click("#language"), view("integrations"), hasText("main h1", "Integrations"),
		click(row+" button.delete"), hasText("dialog[open]", "Delete the webhook"), click("#confirm-ok"),
		hasText("#webhook-deleted", "deleted"), hasText("#webhooks-area", "No webhooks yet"), signOut())
	noIntegrationsTab(t, s, ctx, "Viewer")
	noIntegrationsTab(t, s, ctx, "Operator")
}

// noIntegrationsTab signs in as a RAM user of the owner granted role and
// checks that the console offers no Integrations tab, nor opens it by its
// address.
func noIntegrationsTab(t *testing.T, s *srv, ctx context.Context, role string) {
	t.Helper()
	name := strings.ToLower(role) + "@owner.onaliyun.com"
	s.api(owner, "POST", "/grant-access", map[string]any{"AccountId": owner, "UserId": oidc.RAMUserID(owner, name), "AccessRole": role})
	do(t, ctx, click("#sign-in"), visible("#account"), typeIn("#account", owner), typeIn("#ram_user", name), click("#sign-in"),
		visible("#sign-out"), until("a signed-in view", `['setup', 'members'].includes(document.body.dataset.view)`),
		visible("#tab-audit"), count("#tab-integrations", 0),
		chromedp.Evaluate[chromedp.Void](`(() => { location.hash = '#/integrations'; })()`),
		until("the address sent elsewhere", `location.hash !== '#/integrations' && ['setup', 'members'].includes(document.body.dataset.view)`),
		count("[data-view=integrations]", 0), signOut())
}
