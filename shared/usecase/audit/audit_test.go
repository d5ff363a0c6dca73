package audit

import (
	"sort"
	"testing"
	"time"
)

func TestNewIDSortsInCallOrder(t *testing.T) {
	at := time.UnixMilli(1_795_000_000_000)
	var ids []string
	for i := 0; i < 1000; i++ {
		ids = append(ids, NewID(at)) // all in one millisecond
	}
	ids = append(ids, NewID(at.Add(-time.Second))) // a clock step back
	ids = append(ids, NewID(at.Add(time.Millisecond)))
	if !sort.StringsAreSorted(ids) {
		t.Fatal("IDs from one instance must sort in the order they were made")
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			t.Fatalf("duplicate %s", id)
		}
		seen[id] = true
	}
}
