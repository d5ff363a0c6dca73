package follow

import (
	"testing"
	"time"

	"github.com/sase-multiaccount/backend/shared/port/store"
)

// list-webhooks shows a webhook's recent requests, deliveries and tests,
// newest first, with what the receiver answered.
func TestRecentAttempts(t *testing.T) {
	w := newWorld(t)
	const url = "https://h.example.com/recent"
	hook := w.put(w.scope(ma), PutInput{URL: url})
	answers := []int{503, 418, 200}
	w.rx.handle(url, func(received) (int, error) {
		if len(answers) == 0 {
			return 200, nil
		}
		a := answers[0]
		answers = answers[1:]
		return a, nil
	})
	d := NewDeliverer(w.svc)
	w.add(1)
	poll(t, d) // 503
	w.Now = w.Now.Add(time.Second)
	if _, err := w.svc.TestWebhook(w.Ctx, w.scope(ma), IDInput{WebhookID: hook.Webhook.WebhookID}); err != nil {
		t.Fatal(err) // 418
	}
	w.Now = w.Now.Add(5 * time.Second)
	poll(t, d) // 200
	change := w.rx.ids(url)[0]
	got := w.list(t)
	want := []Attempt{{ChangeID: change, StatusCode: 200}, {ChangeID: "test", StatusCode: 418, Error: "the receiver answered 418"},
		{ChangeID: change, StatusCode: 503, Error: "the receiver answered 503"}}
	if len(got) != len(want) {
		t.Fatalf("RecentAttempts %+v", got)
	}
	for i := range want {
		if got[i].ChangeID != want[i].ChangeID || got[i].StatusCode != want[i].StatusCode || got[i].Error != want[i].Error || got[i].Time == "" {
			t.Errorf("RecentAttempts[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
	// Many deliveries later only the last 20 are shown, the newest first.
	for i := 2; i < 2+store.RecentAttempts+3; i++ {
		w.Now = w.Now.Add(time.Second)
		w.add(i)
	}
	poll(t, d)
	ids := w.rx.ids(url)
	got = w.list(t)
	if len(got) != store.RecentAttempts || got[0].ChangeID != ids[len(ids)-1] || got[len(got)-1].ChangeID != ids[len(ids)-store.RecentAttempts] {
		t.Errorf("after %d deliveries: %+v", len(ids), got)
	}
}

func (w *world) list(t *testing.T) []Attempt {
	t.Helper()
	out, err := w.svc.ListWebhooks(w.Ctx, w.scope(ma))
	if err != nil || len(out.Webhooks) != 1 {
		t.Fatalf("list-webhooks %+v, %v", out, err)
	}
	return out.Webhooks[0].RecentAttempts
}
