// Package accountcache keeps the directory's account list for a short time.
//
// Resource Directory lists accounts 100 per call and throttles ListAccounts
// (about 20 calls a second), so at the design's 10,000 accounts one listing
// is about 100 RD calls and five seconds. add-members, list-candidates and
// the role check of a plain member all need the list; within one warm
// instance they share it for TTL. Changes made here and directory events
// call Invalidate, and reconciliation reads the directory directly, so a
// stale list can only make an add or a member's role lag by at most TTL.
package accountcache

import (
	"context"
	"sync"
	"time"

	"github.com/sase-multiaccount/backend/shared/port/directory"
)

// Lister is the uncached source.
type Lister interface {
	ListAccounts(ctx context.Context) ([]directory.Account, error)
}

// Cache is a Lister that serves a copy fetched less than TTL ago. Concurrent
// misses share one fetch.
type Cache struct {
	inner Lister
	ttl   time.Duration
	now   func() time.Time

	mu       sync.Mutex
	accounts []directory.Account
	expires  time.Time
	gen      uint64 // bumped by Invalidate: a fetch started before it is not kept
	flight   *fetch
}

type fetch struct {
	done     chan struct{}
	accounts []directory.Account
	err      error
}

// Option configures a Cache.
type Option func(*Cache)

// WithClock makes the cache tell time with now instead of time.Now.
func WithClock(now func() time.Time) Option { return func(c *Cache) { c.now = now } }

// New returns a cache over inner; ttl 0 disables caching (every call goes through).
func New(inner Lister, ttl time.Duration, opts ...Option) *Cache {
	c := &Cache{inner: inner, ttl: ttl, now: time.Now}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Invalidate drops the cached list.
func (c *Cache) Invalidate() {
	c.mu.Lock()
	c.gen++
	c.accounts, c.expires, c.flight = nil, time.Time{}, nil
	c.mu.Unlock()
}

// RefreshAccounts reads the list from the directory now and caches it: for
// callers that must see an account that joined moments ago.
func (c *Cache) RefreshAccounts(ctx context.Context) ([]directory.Account, error) {
	c.Invalidate()
	return c.ListAccounts(ctx)
}

// ListAccounts returns the directory's accounts. The slice is shared: callers
// must not modify it.
func (c *Cache) ListAccounts(ctx context.Context) ([]directory.Account, error) {
	if c.ttl <= 0 {
		return c.inner.ListAccounts(ctx)
	}
	c.mu.Lock()
	if c.accounts != nil && c.now().Before(c.expires) {
		a := c.accounts
		c.mu.Unlock()
		return a, nil
	}
	f := c.flight
	if f == nil {
		f = &fetch{done: make(chan struct{})}
		c.flight = f
		gen := c.gen
		c.mu.Unlock()
		// The fetch runs on the first caller's context; a cancelled first
		// caller fails the waiters too, who then retry on their own.
		f.accounts, f.err = c.inner.ListAccounts(ctx)
		c.mu.Lock()
		if c.flight == f {
			c.flight = nil
		}
		if f.err == nil && c.gen == gen {
			c.accounts, c.expires = f.accounts, c.now().Add(c.ttl)
		}
		c.mu.Unlock()
		close(f.done)
		return f.accounts, f.err
	}
	c.mu.Unlock()
	select {
	case <-f.done:
		return f.accounts, f.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
