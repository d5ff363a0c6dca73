package accountcache

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sase-multiaccount/backend/shared/port/directory"
)

type source struct {
	calls   atomic.Int32
	release chan struct{} // when set, each call waits for it
	started chan struct{} // when set, each call reports it has begun
	err     error
	n       int
}

func (s *source) ListAccounts(ctx context.Context) ([]directory.Account, error) {
	s.calls.Add(1)
	if s.started != nil {
		s.started <- struct{}{}
	}
	if s.release != nil {
		<-s.release
	}
	if s.err != nil {
		return nil, s.err
	}
	s.n++
	return []directory.Account{{AccountID: "1000000000000001", DisplayName: string(rune('a' + s.n))}}, nil
}

func TestServesWithinTTLAndRefetchesAfter(t *testing.T) {
	src := &source{}
	now := time.Unix(1_800_000_000, 0)
	c := New(src, 30*time.Second, WithClock(func() time.Time { return now }))
	ctx := context.Background()
	a1, _ := c.ListAccounts(ctx)
	a2, _ := c.ListAccounts(ctx)
	if src.calls.Load() != 1 || a1[0].DisplayName != a2[0].DisplayName {
		t.Fatalf("within TTL: %d calls", src.calls.Load())
	}
	now = now.Add(31 * time.Second)
	a3, _ := c.ListAccounts(ctx)
	if src.calls.Load() != 2 || a3[0].DisplayName == a1[0].DisplayName {
		t.Fatalf("after TTL: %d calls", src.calls.Load())
	}
	c.Invalidate()
	c.ListAccounts(ctx)
	if src.calls.Load() != 3 {
		t.Fatalf("after Invalidate: %d calls", src.calls.Load())
	}
	c.RefreshAccounts(ctx)
	c.ListAccounts(ctx)
	if src.calls.Load() != 4 {
		t.Fatalf("RefreshAccounts reads once and caches: %d calls", src.calls.Load())
	}
}

func TestErrorsAreNotCachedAndTTLZeroPassesThrough(t *testing.T) {
	src := &source{err: errors.New("throttled")}
	c := New(src, time.Minute)
	for i := 0; i < 2; i++ {
		if _, err := c.ListAccounts(context.Background()); err == nil {
			t.Fatal("error swallowed")
		}
	}
	if src.calls.Load() != 2 {
		t.Fatalf("a failure must not be cached: %d calls", src.calls.Load())
	}
	src.err = nil
	off := New(src, 0)
	off.ListAccounts(context.Background())
	off.ListAccounts(context.Background())
	if src.calls.Load() != 4 {
		t.Fatalf("ttl 0: %d calls", src.calls.Load())
	}
}

func TestConcurrentMissesShareOneFetch(t *testing.T) {
	src := &source{release: make(chan struct{}), started: make(chan struct{}, 20)}
	c := New(src, time.Minute)
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if a, err := c.ListAccounts(context.Background()); err != nil || len(a) != 1 {
				t.Errorf("%v %v", a, err)
			}
		}()
	}
	<-src.started // the one fetch is in flight; the others wait on it or hit the cache
	close(src.release)
	wg.Wait()
	if n := src.calls.Load(); n != 1 {
		t.Fatalf("%d fetches for 20 concurrent misses", n)
	}
}

func TestInvalidateDuringFetchDiscardsItsResult(t *testing.T) {
	src := &source{release: make(chan struct{}), started: make(chan struct{}, 2)}
	c := New(src, time.Minute)
	done := make(chan struct{})
	go func() { c.ListAccounts(context.Background()); close(done) }()
	<-src.started
	c.Invalidate() // a change happened while the old list was being read
	close(src.release)
	<-done
	src.release = nil
	c.ListAccounts(context.Background())
	if n := src.calls.Load(); n != 2 {
		t.Fatalf("a list read before Invalidate was kept: %d calls", n)
	}
}
