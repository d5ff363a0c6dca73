package server_test

import (
	"testing"
	"time"
)

// A warm list-members page on the production adapters waits for one
// Tablestore round trip, not two: the page and the exact count are read at
// once. With every Tablestore call taking 25 ms, the fastest of five warm
// pages must take less than two calls' time end to end.
func TestWarmMemberPageWaitsForOneRoundTrip(t *testing.T) {
	base, fake, stop := startOnWireFakes(t)
	defer stop()
	walk(t, base) // a directory with a member
	ma := (&client{t: t, base: base}).as(owner)
	ma.call("GET", "/list-members", nil, 200) // warm: roles, generation

	const latency = 25 * time.Millisecond
	fake.SetLatency(latency)
	defer fake.SetLatency(0)
	best := time.Hour
	for range 5 {
		start := time.Now()
		ma.call("GET", "/list-members", nil, 200)
		best = min(best, time.Since(start))
	}
	if best >= 2*latency {
		t.Errorf("a warm page took %v with %v per Tablestore call: the page and the count are read one after the other", best, latency)
	}
	t.Logf("warm list-members page: %v with %v per Tablestore call (%.2f calls' time)", best, latency, float64(best)/float64(latency))
}
