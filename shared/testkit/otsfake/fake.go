// Package otsfake is a test-only Tablestore server that speaks the real
// wire protocol, so that the real SDK client, with its encoding, retries
// and error types, runs in tests. What it models, what it refuses and why
// are in docs/DESIGN.md "The Tablestore wire fake"; semantics that could
// not be checked against the service are marked UNCONFIRMED where they are
// implemented.
package otsfake

import (
	"net/http/httptest"
	"sync"
	"time"
)

// Options configure a Server.
type Options struct {
	// Instance is the instance name requests must carry (x-ots-instancename).
	// Default "sase-test".
	Instance string
	// Now is the server clock for cell timestamps and TTL; default time.Now.
	// The request-date skew check always uses the real clock.
	Now func() time.Time
	// PageRows caps the rows of one GetRange page (the service cuts at
	// 5000 rows or 4 MB); default 5000. Tests lower it to force short pages.
	PageRows int
	// MissingRowFailsColumnCondition makes a column condition fail on a
	// row that does not exist. By default it is evaluated like a row
	// without the column (it passes unless filter_if_missing is set);
	// which one the service does is UNCONFIRMED, so code under test can
	// be run against both.
	MissingRowFailsColumnCondition bool
}

// Server is the fake. Create it with New; it is safe for concurrent use.
type Server struct {
	opts Options
	http *httptest.Server

	mu        sync.Mutex
	latency   time.Duration         // SetLatency
	creds     map[string]credential // by access key ID
	tables    map[string]*table
	indexes   map[string]*table // index name -> owning table
	counts    map[string]int
	faults    []*Fault
	rowFaults []*RowFault
	onRequest func(action string)
}

type credential struct{ secret, token string }

// New starts a fake on a loopback port. Register credentials with
// AddCredentials before calling it; Close it when done.
func New(opts Options) *Server {
	if opts.Instance == "" {
		opts.Instance = "sase-test"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.PageRows <= 0 || opts.PageRows > maxRangeLimit {
		opts.PageRows = maxRangeLimit
	}
	s := &Server{
		opts:    opts,
		creds:   map[string]credential{},
		tables:  map[string]*table{},
		indexes: map[string]*table{},
		counts:  map[string]int{},
	}
	s.http = httptest.NewServer(s)
	return s
}

// URL is the endpoint to give the SDK client.
func (s *Server) URL() string { return s.http.URL }

// Instance is the instance name the fake accepts.
func (s *Server) Instance() string { return s.opts.Instance }

// Close shuts the server down; later requests fail to connect, which is
// what an unreachable Tablestore looks like to the client.
func (s *Server) Close() { s.http.Close() }

// AddCredentials accepts an access key pair; a non-empty token must then be
// sent as x-ots-ststoken (STS credentials). Adding an existing key ID
// replaces it.
func (s *Server) AddCredentials(accessKeyID, secret, token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.creds[accessKeyID] = credential{secret: secret, token: token}
}

// RevokeCredentials stops accepting an access key ID (an expired STS key).
func (s *Server) RevokeCredentials(accessKeyID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.creds, accessKeyID)
}
