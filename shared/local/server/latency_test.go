package server_test

import (
	"testing"
	"time"
)

// A warm list-members or list-candidates page on the production adapters
// waits for one Tablestore round trip, not two: the page and the exact
// count (members), the mirror's marks and the member state (candidates)
// are read at once. With every Tablestore call taking 25 ms, the fastest of five warm
// pages must take less than two calls' time end to end.
func TestWarmMemberPageWaitsForOneRoundTrip(t *testing.T) {
	base, fake, stop := startOnWireFakes(t)
	defer stop()
	walk(t, base)                                          // a directory with a member
	post(t, base, "/reconcile-members", []byte(`{}`), 200) // the directory mirror, for candidates
	ma := (&client{t: t, base: base}).as(owner)
	ma.call("GET", "/list-members", nil, 200)    // warm: roles, generation
	ma.call("GET", "/list-candidates", nil, 200) // warm: the mirror's copy

	const latency = 25 * time.Millisecond
	fake.SetLatency(latency)
	defer fake.SetLatency(0)
	for _, fn := range []string{"/list-members", "/list-candidates"} {
		best := time.Hour
		for range 5 {
			start := time.Now()
			ma.call("GET", fn, nil, 200)
			best = min(best, time.Since(start))
		}
		if best >= 2*latency {
			t.Errorf("a warm %s page took %v with %v per Tablestore call: its reads are made one after the other", fn, best, latency)
		}
		t.Logf("warm %s page: %v with %v per Tablestore call (%.2f calls' time)", fn, best, latency, float64(best)/float64(latency))
	}
}
