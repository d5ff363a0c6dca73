package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// The signature is the specification's, computed here by hand: base64 of
// HMAC-SHA256 over "id.timestamp.body" with the decoded bytes after whsec_.
func TestHeadersSignAsTheSpecificationSays(t *testing.T) {
	secret, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	if !ValidSecret(secret) || !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("secret %q", secret)
	}
	at := time.Unix(1_790_000_000, 0)
	body := []byte(`{"id":"ch-1"}`)
	h, err := Headers("ch-1", at, body, []string{secret})
	if err != nil {
		t.Fatal(err)
	}
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("ch-1.1790000000." + string(body)))
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if got := h.Get("webhook-signature"); got != want {
		t.Errorf("signature %q, want %q", got, want)
	}
	if h.Get("webhook-id") != "ch-1" || h.Get("webhook-timestamp") != "1790000000" || h.Get("Content-Type") != ContentType {
		t.Errorf("headers %v", h)
	}
}

// During a rotation both secrets sign; a receiver holding either verifies,
// with the specification's own verifier.
func TestRotationSignsWithBothSecrets(t *testing.T) {
	newS, _ := NewSecret()
	oldS, _ := NewSecret()
	other, _ := NewSecret()
	now := time.Now()
	body := []byte(`{"x":1}`)
	h, err := Headers("ch-2", now, body, []string{newS, oldS})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(strings.Fields(h.Get("webhook-signature"))); n != 2 {
		t.Fatalf("%d signatures, want 2", n)
	}
	for _, s := range []string{newS, oldS} {
		wh, _ := standardwebhooks.NewWebhook(s)
		if err := wh.Verify(body, h); err != nil {
			t.Errorf("verify with %s…: %v", s[:10], err)
		}
	}
	wh, _ := standardwebhooks.NewWebhook(other)
	if err := wh.Verify(body, h); err == nil {
		t.Error("a third secret verifies")
	}
	if err := wh.Verify([]byte(`{"x":2}`), h); err == nil {
		t.Error("a changed body verifies")
	}
	if _, err := Headers("ch-3", now, body, nil); err == nil {
		t.Error("no secret: no error")
	}
}

func TestEventIsAStructuredCloudEvent(t *testing.T) {
	ev := NewEvent("rd-abc", "ch-1", "MemberAdded", "1000000000000002",
		time.Date(2026, 11, 24, 8, 15, 16, 0, time.UTC), map[string]any{"AccountId": "1000000000000002"})
	b, err := ev.Body()
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"specversion": "1.0", "id": "ch-1", "source": "sase-multiaccount/rd-abc",
		"type": "com.aliyun.sase.multiaccount.MemberAdded", "subject": "1000000000000002",
		"time": "2026-11-24T08:15:16Z", "datacontenttype": "application/json"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if d, _ := got["data"].(map[string]any); d["AccountId"] != "1000000000000002" {
		t.Errorf("data %v", got["data"])
	}
}
