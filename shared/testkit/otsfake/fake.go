// Package otsfake is a test-only Tablestore server that speaks the real wire
// protocol (research/tablestore.md §2–§5): POST /<Action> with protobuf bodies
// from tablestore/otsprotocol, rows in PlainBuffer with CRC8 checksums,
// otsprotocol.Error bodies on failure, and request signatures checked the way
// the service checks them. The real SDK client talks to it over HTTP, so the
// SDK's encoding, retries and error types all run in tests.
//
// Supported, as the service behaves:
//
//   - Wire: HMAC-SHA1 request signatures (x-ots-signature), body MD5
//     (x-ots-contentmd5), STS tokens (x-ots-ststoken), API version, instance
//     name, date skew; PlainBuffer row CRC8 and cell checksums.
//   - CreateTable (1–4 PK columns, defined columns, local and global
//     secondary indexes), DescribeTable, ListTable, UpdateTable, DeleteTable.
//   - Table options: time_to_live -1 or ≥ 86400 s (TTL applied on reads),
//     max_versions 1, deviation_cell_version_in_sec, allow_update (kept,
//     reported, and UpdateRow refused when false), update_full_row (kept and
//     reported; UpdateTable naming it is refused, as the service does; its
//     effect on writes is not modelled). A table with an index and a TTL must
//     have allow_update false (the service's message).
//   - PutRow, GetRow, UpdateRow (put, delete column, delete all versions,
//     increment, return after modify), DeleteRow; row-existence and column
//     conditions; filters (single and composite column value filters).
//   - GetRange in both directions with limits, a page cap (Options.PageRows)
//     and next start keys, on tables and index tables. The data block type
//     is a hint: SIMPLE_ROW_MATRIX is answered in PlainBuffer and the
//     answer's data_block_type says so, as the service may.
//   - BatchGetRow and BatchWriteRow with per-row results and the 100/200
//     row limits.
//   - Fault injection (error answers, connection resets before or after the
//     request is applied, hung requests, per-row batch failures) and request
//     counting.
//
// Refused, with the service's misuse answer (400 OTSParameterInvalid naming
// the feature), because the project does not use them: max_versions > 1
// (the fake keeps one version per cell), time_range reads, start_column /
// end_column and the column-pagination filter, value transfer rules,
// auto-increment primary keys, partitions, streams, server-side encryption,
// local transactions (transaction_id), atomic batches, GetRange tokens.
// Actions other than the above (search, SQL, streams, tunnels, …) answer
// 400 OTSUnsupportOperation.
//
// Semantics that could not be checked against the service are marked
// UNCONFIRMED where they are implemented.
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
