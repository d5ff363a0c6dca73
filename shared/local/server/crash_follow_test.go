package server_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"
)

// Webhook delivery survives SIGKILL (docs/DESIGN.md §13): the real make
// run binary is killed while a receiver holds a delivery, and restarted on
// the same data. No change is lost: after the last restart the receiver
// has every change of the feed, first seen in the feed's order, and the
// change that was in flight at each kill arrives again with the same
// webhook-id.
func TestKilledServerLosesNoWebhookDelivery(t *testing.T) {
	const rounds = 4
	bin := buildLocalServer(t)
	dir := t.TempDir()
	pool := seedDirectory(t, dir, 12)
	rx := newHoldingReceiver(t)

	var inFlight []string
	for round := range rounds {
		p := startProcess(t, bin, dir)
		ma := (&client{t: t, base: p.base}).as(owner)
		if round == 0 {
			ma.call("POST", "/put-webhook", map[string]any{"Url": rx.srv.URL + "/hook"}, 200)
		}
		rx.holdNext() // the next delivery is held until the kill
		for i := range 3 {
			id := pool[(round*3+i)%len(pool)]
			ma.call("POST", "/add-members", map[string]any{"Members": []map[string]string{{"AccountId": id, "Remark": fmt.Sprint(round)}}}, 200)
		}
		held := rx.waitHeld(t, 10*time.Second)
		p.kill(t) // mid-delivery: the receiver has the request, the server never hears back
		rx.release()
		inFlight = append(inFlight, held)
		t.Logf("round %d: killed while %s was being delivered", round+1, held)
	}

	p := startProcess(t, bin, dir)
	defer p.kill(t)
	ma := (&client{t: t, base: p.base}).as(owner)
	want := feedIDs(t, ma)
	start := slices.Index(want, rx.first())
	if start < 0 {
		t.Fatalf("the first delivery %s is not in the feed %v", rx.first(), want)
	}
	want = want[start:] // the feed since the webhook was created
	got := rx.waitUntil(t, 20*time.Second, want)
	var firsts []string
	for _, id := range got {
		if !slices.Contains(firsts, id) {
			firsts = append(firsts, id)
		}
	}
	if !slices.Equal(firsts, want) {
		t.Errorf("first deliveries %v\nwant the feed %v", firsts, want)
	}
	for _, id := range inFlight {
		if n := count(got, id); n < 2 {
			t.Errorf("%s was in flight at a kill and was delivered %d times; want it again after the restart", id, n)
		}
	}
	t.Logf("%d kills, %d changes, %d requests", rounds, len(want), len(got))
}

func count(ids []string, id string) int {
	n := 0
	for _, x := range ids {
		if x == id {
			n++
		}
	}
	return n
}

// holdingReceiver records webhook-ids and can hold the next new change's
// request open until released (the server is killed meanwhile).
type holdingReceiver struct {
	srv     *httptest.Server
	mu      sync.Mutex
	ids     []string
	hold    bool
	held    chan string
	free    chan struct{}
	arrived chan struct{}
}

func newHoldingReceiver(t *testing.T) *holdingReceiver {
	r := &holdingReceiver{held: make(chan string, 1), arrived: make(chan struct{}, 1000)}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		id := req.Header.Get("webhook-id")
		r.mu.Lock()
		// Hold a change never seen before, so each kill interrupts
		// another one (a redelivery passes).
		hold, free := r.hold && !slices.Contains(r.ids, id), r.free
		r.ids = append(r.ids, id)
		if hold {
			r.hold = false
		}
		r.mu.Unlock()
		r.arrived <- struct{}{}
		if hold {
			r.held <- id
			<-free
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *holdingReceiver) holdNext() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hold, r.free = true, make(chan struct{})
}

func (r *holdingReceiver) waitHeld(t *testing.T, limit time.Duration) string {
	t.Helper()
	select {
	case id := <-r.held:
		return id
	case <-time.After(limit):
		t.Fatalf("no delivery within %s", limit)
		return ""
	}
}

func (r *holdingReceiver) release() {
	r.mu.Lock()
	defer r.mu.Unlock()
	close(r.free)
}

func (r *holdingReceiver) first() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.ids) == 0 {
		return ""
	}
	return r.ids[0]
}

// waitUntil waits until every id of want was received, and returns every
// request's id in arrival order.
func (r *holdingReceiver) waitUntil(t *testing.T, limit time.Duration, want []string) []string {
	t.Helper()
	deadline := time.After(limit)
	for {
		r.mu.Lock()
		got := slices.Clone(r.ids)
		r.mu.Unlock()
		missing := 0
		for _, id := range want {
			if !slices.Contains(got, id) {
				missing++
			}
		}
		if missing == 0 {
			return got
		}
		select {
		case <-r.arrived:
		case <-deadline:
			t.Fatalf("%d of %d changes never arrived (got %v)", missing, len(want), got)
		}
	}
}
