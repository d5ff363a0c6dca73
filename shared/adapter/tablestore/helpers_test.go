package tablestore

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sase-multiaccount/backend/shared/adapter/cloudcreds"
	"github.com/sase-multiaccount/backend/shared/port/store"
	"github.com/sase-multiaccount/backend/shared/testkit/otsfake"
)

// env is a fake Tablestore with the schema created, and the credentials the
// adapter signs with (STS-style, with a token).
type env struct {
	fake  *otsfake.Server
	creds *cloudcreds.Source
	cfg   Config
	logs  *logs
}

type logs struct {
	mu    sync.Mutex
	lines []string
}

func (l *logs) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logs) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

func newEnv(t testing.TB, opts otsfake.Options) *env {
	t.Helper()
	f := otsfake.New(opts)
	t.Cleanup(f.Close)
	f.AddCredentials("STS.key-1", "secret-1", "token-1")
	e := &env{
		fake:  f,
		creds: cloudcreds.Static(cloudcreds.Credentials{AccessKeyID: "STS.key-1", AccessKeySecret: "secret-1", SecurityToken: "token-1"}),
		logs:  &logs{},
	}
	e.cfg = Config{
		Endpoint:    f.URL(),
		Instance:    f.Instance(),
		Credentials: e.creds,
		// Tiny backoffs so that retries cost milliseconds.
		RetryTimes:       3,
		RetryInterval:    2 * time.Millisecond,
		MaxRetryInterval: 4 * time.Millisecond,
		MaxRetryTime:     5 * time.Second,
		RequestTimeout:   5 * time.Second,
		ConnectTimeout:   time.Second,
		Logf:             e.logs.logf,
	}
	if err := EnsureTables(context.Background(), e.cfg); err != nil {
		t.Fatalf("EnsureTables: %v", err)
	}
	f.ResetCounts()
	return e
}

// open builds an adapter on the env; mod adjusts the config first.
func (e *env) open(t testing.TB, mod func(*Config)) *Store {
	t.Helper()
	cfg := e.cfg
	if mod != nil {
		mod(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

func openFresh(t testing.TB) store.Store {
	e := newEnv(t, otsfake.Options{})
	return e.open(t, nil)
}

var t0 = time.Date(2026, 11, 24, 8, 15, 16, 123_000_000, time.UTC)

func acct(i int) string { return fmt.Sprintf("%016d", 1_000_000_000_000_000+i) }

func testMember(i int) store.Member {
	add := t0.Add(time.Duration(i) * time.Millisecond)
	return store.Member{
		AccountID: acct(i), AccountName: fmt.Sprintf("account-%d", i), AddTime: add,
		AddedBy: acct(0), Remark: fmt.Sprintf("remark %d", i), Version: 1, UpdateTime: add, NameTime: add,
	}
}

func members(from, n int) []store.Member {
	out := make([]store.Member, n)
	for i := range out {
		out[i] = testMember(from + i)
	}
	return out
}

func ids(from, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = acct(from + i)
	}
	return out
}

// counts are the fake's read and write request counts since the last call.
func (e *env) counts() (reads, writes int) {
	reads, writes = e.fake.Reads(), e.fake.Writes()
	e.fake.ResetCounts()
	return reads, writes
}

func mustAdd(t *testing.T, s *Store, dir string, ms []store.Member) {
	t.Helper()
	res, err := s.AddMembers(t.Context(), dir, ms, nil)
	if err != nil {
		t.Fatalf("AddMembers: %v", err)
	}
	for _, r := range res {
		if r.Status != store.Added {
			t.Fatalf("AddMembers: %+v, want Added", r)
		}
	}
}

func mustCount(t *testing.T, s *Store, dir string, want int) {
	t.Helper()
	n, err := s.CountMembers(t.Context(), dir)
	if err != nil || n != want {
		t.Fatalf("CountMembers = %d, %v; want %d", n, err, want)
	}
}
