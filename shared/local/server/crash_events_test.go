package server_test

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
)

// The crash test of directory-events: accounts leave the directory with
// their events held back ("DeliverEvent": false); the real make run binary
// is then SIGKILLed again and again while workers deliver those events in
// any order, some twice, as EventBridge would redeliver what was not
// acknowledged. After a last delivery of every event: no removed account is
// still a member (0 lost) and each has exactly one System record of its
// removal (0 unaudited, 0 twice).
func TestKilledServerLosesNoDirectoryEvent(t *testing.T) {
	const (
		kills    = 6
		accounts = 60
		workers  = 6
	)
	bin := buildLocalServer(t)
	dir := t.TempDir()
	pool := seedDirectory(t, dir, accounts)

	// Make them members, then let them leave with the events held back.
	base, stop := start(t, dir, nil)
	ma := (&client{t: t, base: base}).as(owner)
	for i := 0; i < len(pool); i += 50 {
		var items []map[string]string
		for _, id := range pool[i:min(i+50, len(pool))] {
			items = append(items, map[string]string{"AccountId": id})
		}
		ma.call("POST", "/add-members", map[string]any{"Members": items}, 200)
	}
	anon := &client{t: t, base: base}
	var held [][]byte
	for _, id := range pool {
		ev := anon.call("POST", "/_local/remove-account", map[string]any{"AccountId": id, "DeliverEvent": false}, 200)["Event"]
		b, _ := json.Marshal(ev)
		held = append(held, b)
	}
	stop()

	var acked atomic.Int64
	for round := range kills {
		p := startProcess(t, bin, dir)
		var once sync.Once
		killAt := acked.Load() + int64(5+rand.IntN(40)) // mid-burst
		deliverConcurrently(p.base, held, workers, func(n int64) {
			if n == killAt {
				once.Do(func() { p.kill(t) }) // the other workers are mid-request
			}
		}, &acked)
		once.Do(func() { p.kill(t) })
		t.Logf("round %d: killed; %d deliveries acknowledged so far", round+1, acked.Load())
	}

	// EventBridge goes on redelivering: every event once more, unharmed.
	p := startProcess(t, bin, dir)
	defer p.kill(t)
	for _, ev := range held {
		resp, err := http.Post(p.base+"/directory-events", "application/json", bytes.NewReader(ev))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("final delivery: status %d", resp.StatusCode)
		}
	}

	ma = (&client{t: t, base: p.base}).as(owner)
	members := listAllMembers(ma)
	removed := map[string]int{}
	for _, r := range listAllAudit(ma, func(r auditRecord) bool { return r.ActorRole == "System" && r.Result == "Removed" }) {
		removed[r.Target]++
	}
	for _, id := range pool {
		if _, still := members[id]; still {
			t.Errorf("account %s left the directory but is still a member: its event was lost", id)
		}
		if removed[id] != 1 {
			t.Errorf("account %s has %d System removal records, want exactly 1", id, removed[id])
		}
	}
	t.Logf("%d kills, %d events, %d deliveries acknowledged before the last round; lost 0, unaudited 0 if no error above",
		kills, len(held), acked.Load())
}

// deliverConcurrently posts the events in random order from workers, some
// twice, calling onAck with the running count of acknowledged deliveries;
// it returns when every worker has stopped (the server died or all were
// sent).
func deliverConcurrently(base string, held [][]byte, workers int, onAck func(int64), acked *atomic.Int64) {
	order := rand.Perm(len(held))
	order = append(order, rand.Perm(len(held))[:len(held)/3]...) // redeliveries
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if int(i) >= len(order) {
					return
				}
				resp, err := http.Post(base+"/directory-events", "application/json", bytes.NewReader(held[order[i]]))
				if err != nil {
					return // the server is gone
				}
				resp.Body.Close()
				if resp.StatusCode == 200 {
					onAck(acked.Add(1))
				}
			}
		}()
	}
	wg.Wait()
}
