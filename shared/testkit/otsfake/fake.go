// Package otsfake is a test-only Tablestore server that speaks the real wire
// protocol (research/tablestore.md §2–§5): POST /<Action> with protobuf bodies
// from tablestore/otsprotocol, rows in PlainBuffer with CRC8 checksums,
// otsprotocol.Error bodies on failure, and request signatures checked the way
// the service checks them. The real SDK client talks to it over HTTP, so the
// SDK's encoding, retries and error types all run in tests.
//
// It covers what the store adapter uses: CreateTable (with local secondary
// indexes), DescribeTable, ListTable, UpdateTable, DeleteTable, PutRow,
// GetRow, UpdateRow, DeleteRow, GetRange (both directions, limits, page
// caps, next start key), BatchGetRow and BatchWriteRow (per-row results),
// row-existence and column conditions, filters, TTL, plus fault injection
// (error responses, connection resets before or after the request is
// applied, hung requests, per-row batch failures) and request counting.
//
// Semantics that could not be checked against the service are marked
// UNCONFIRMED where they are implemented.
package otsfake

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/golang/protobuf/proto"
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

// --- request counting --------------------------------------------------------

var readActions = map[string]bool{
	"GetRow": true, "GetRange": true, "BatchGetRow": true, "DescribeTable": true, "ListTable": true,
}

var writeActions = map[string]bool{
	"PutRow": true, "UpdateRow": true, "DeleteRow": true, "BatchWriteRow": true,
}

// Count returns how many requests for action reached the server (every
// HTTP request, retries and failed ones included).
func (s *Server) Count(action string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[action]
}

// Counts returns a copy of the per-action request counts.
func (s *Server) Counts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.counts))
	for k, v := range s.counts {
		out[k] = v
	}
	return out
}

// Reads is the number of row and table read requests (GetRow, GetRange,
// BatchGetRow, DescribeTable, ListTable).
func (s *Server) Reads() int { return s.sum(readActions) }

// Writes is the number of row write requests (PutRow, UpdateRow,
// DeleteRow, BatchWriteRow).
func (s *Server) Writes() int { return s.sum(writeActions) }

func (s *Server) sum(set map[string]bool) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for a, c := range s.counts {
		if set[a] {
			n += c
		}
	}
	return n
}

// ResetCounts zeroes the request counts.
func (s *Server) ResetCounts() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.counts)
}

// --- fault injection -----------------------------------------------------------

// FaultKind is what an injected fault does to a request.
type FaultKind int

const (
	// FaultError answers with Status and an otsprotocol.Error{Code, Message}
	// without applying the request.
	FaultError FaultKind = iota
	// FaultReset drops the connection (TCP reset) without applying the
	// request.
	FaultReset
	// FaultResetAfterApply applies the request, then drops the connection
	// instead of answering: the write happened but the client never learns.
	FaultResetAfterApply
	// FaultHang never answers; the request is not applied. The client gives
	// up at its request timeout.
	FaultHang
)

// Fault is an injected failure of whole requests.
type Fault struct {
	Action  string // e.g. "PutRow"; "" matches every action
	Table   string // when set, only requests naming this table (row actions)
	Kind    FaultKind
	Status  int    // FaultError: HTTP status (default 503)
	Code    string // FaultError: error code (default OTSServerBusy)
	Message string // FaultError: message (default "Server is busy.")
	// Times is how many matching requests fail; 0 means every one until
	// ClearFaults.
	Times int

	hits int
}

// Inject adds a fault. Faults are matched in the order they were added.
func (s *Server) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Kind == FaultError {
		if f.Status == 0 {
			f.Status = 503
		}
		if f.Code == "" {
			f.Code, f.Message = "OTSServerBusy", "Server is busy."
		}
	}
	s.faults = append(s.faults, &f)
}

// RowFault fails one row of a BatchWriteRow (or BatchGetRow) with a per-row
// error while the other rows of the batch are applied, as the service does
// on a partial failure (HTTP 200, per-row is_ok = false).
type RowFault struct {
	Action     string // "BatchWriteRow" or "BatchGetRow"; "" matches both
	Table      string
	PrimaryKey []any // int64, string or []byte values, in key order
	Code       string
	Message    string
	Times      int // 0 = until ClearFaults
	hits       int
}

// InjectRow adds a per-row fault.
func (s *Server) InjectRow(f RowFault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Message == "" {
		f.Message = f.Code
	}
	s.rowFaults = append(s.rowFaults, &f)
}

// OnRequest sets a hook called with the action of every authenticated
// request before the server handles it (nil removes it). It runs outside
// the server's lock, so it may itself make requests: tests use it to slip
// a concurrent change between two requests of the code under test.
func (s *Server) OnRequest(hook func(action string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onRequest = hook
}

// ClearFaults removes every injected fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults, s.rowFaults = nil, nil
}

// takeFault returns the first fault matching the request and uses one hit.
func (s *Server) takeFault(action string, tables []string) *Fault {
	for i, f := range s.faults {
		if (f.Action != "" && f.Action != action) || (f.Table != "" && !slices.Contains(tables, f.Table)) {
			continue
		}
		f.hits++
		if f.Times > 0 && f.hits >= f.Times {
			s.faults = slices.Delete(s.faults, i, i+1)
		}
		cp := *f
		return &cp
	}
	return nil
}

// takeRowFault returns the per-row error for a key, if one is injected.
func (s *Server) takeRowFault(action, tableName string, key []value) *opError {
	for i, f := range s.rowFaults {
		if (f.Action != "" && f.Action != action) || f.Table != tableName || !keyMatches(f.PrimaryKey, key) {
			continue
		}
		f.hits++
		if f.Times > 0 && f.hits >= f.Times {
			s.rowFaults = slices.Delete(s.rowFaults, i, i+1)
		}
		return &opError{500, f.Code, f.Message}
	}
	return nil
}

func keyMatches(want []any, key []value) bool {
	if len(want) != len(key) {
		return false
	}
	for i, w := range want {
		v := key[i]
		switch w := w.(type) {
		case int64:
			if v.t != vtInteger || v.i != w {
				return false
			}
		case int:
			if v.t != vtInteger || v.i != int64(w) {
				return false
			}
		case string:
			if v.t != vtString || v.s != w {
				return false
			}
		case []byte:
			if v.t != vtBlob || v.s != string(w) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// --- HTTP ------------------------------------------------------------------------

func (s *Server) now() int64 { return s.opts.Now().UnixMilli() }

func (s *Server) requestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	action := strings.TrimPrefix(r.URL.Path, "/")
	s.mu.Lock()
	s.counts[action]++
	s.mu.Unlock()

	reqID := s.requestID()
	w.Header().Set("x-ots-requestid", reqID)
	w.Header().Set("x-ots-date", time.Now().UTC().Format("2006-01-02T15:04:05.000Z"))

	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, &opError{400, "OTSParameterInvalid", "cannot read request body: " + err.Error()})
		return
	}
	if r.Method != http.MethodPost {
		writeError(w, &opError{405, "OTSMethodNotAllowed", "Only POST is supported."})
		return
	}
	if oe := s.authenticate(r, action, body); oe != nil {
		writeError(w, oe)
		return
	}
	h, ok := handlers[action]
	if !ok {
		writeError(w, &opError{400, "OTSUnsupportOperation", fmt.Sprintf("Unsupported operation: '%s'.", action)})
		return
	}
	req := h.newReq()
	if err := proto.Unmarshal(body, req); err != nil {
		writeError(w, errParam("Failed to parse the ProtoBuf message: %v", err))
		return
	}

	s.mu.Lock()
	hook := s.onRequest
	s.mu.Unlock()
	if hook != nil {
		hook(action)
	}
	s.mu.Lock()
	fault := s.takeFault(action, tablesOf(req))
	s.mu.Unlock()
	if fault != nil {
		switch fault.Kind {
		case FaultError:
			writeError(w, &opError{fault.Status, fault.Code, fault.Message})
			return
		case FaultReset:
			reset(w)
			return
		case FaultHang:
			<-r.Context().Done() // the client gave up
			return
		}
	}

	s.mu.Lock()
	resp, oe := h.run(s, req)
	s.mu.Unlock()
	if fault != nil && fault.Kind == FaultResetAfterApply {
		reset(w)
		return
	}
	if oe != nil {
		writeError(w, oe)
		return
	}
	out, err := proto.Marshal(resp)
	if err != nil {
		// A response that does not marshal (a required field unset) is a
		// bug in the fake; fail loudly instead of sending half a message.
		writeError(w, &opError{500, "OTSInternalServerError", "otsfake: " + err.Error()})
		return
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.Header().Set("x-ots-contentmd5", md5b64(out))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
}

// reset drops the connection with a TCP RST, so the client sees
// "connection reset by peer" (or EOF) and no response.
func reset(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("otsfake: response writer cannot hijack")
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

func writeError(w http.ResponseWriter, oe *opError) {
	b, _ := proto.Marshal(oe.pbError())
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.WriteHeader(oe.status)
	_, _ = w.Write(b)
}

func md5b64(b []byte) string {
	sum := md5.Sum(b)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// authenticate checks the headers the SDK signs (research/tablestore.md
// §2.3): API version, instance, date, body MD5, access key, STS token and the
// HMAC-SHA1 signature over "/Action\nPOST\n\n" plus every x-ots-* header but
// the signature, sorted by name.
func (s *Server) authenticate(r *http.Request, action string, body []byte) *opError {
	authFail := func(format string, args ...any) *opError {
		return &opError{403, "OTSAuthFailed", fmt.Sprintf(format, args...)}
	}
	for _, h := range []string{"x-ots-date", "x-ots-apiversion", "x-ots-accesskeyid", "x-ots-contentmd5", "x-ots-instancename", "x-ots-signature"} {
		if r.Header.Get(h) == "" {
			return &opError{400, "OTSMissingHeader", fmt.Sprintf("Missing header: '%s'.", h)}
		}
	}
	if v := r.Header.Get("x-ots-apiversion"); v != "2015-12-31" {
		return &opError{400, "OTSUnsupportedAPIVersion", fmt.Sprintf("API version %s is not supported.", v)}
	}
	if v := r.Header.Get("x-ots-instancename"); v != s.opts.Instance {
		return authFail("Request denied because instance %s does not exist or does not belong to you.", v)
	}
	// The SDK's date layout has a bug (research §2.3): only the first 19
	// characters are a time; the "fraction" is month, day and hour.
	date := r.Header.Get("x-ots-date")
	if len(date) < 19 {
		return authFail("Invalid date: %s.", date)
	}
	t, err := time.Parse("2006-01-02T15:04:05", date[:19])
	if err != nil {
		return authFail("Invalid date: %s.", date)
	}
	if d := time.Since(t); d > 15*time.Minute || d < -15*time.Minute {
		return authFail("Mismatch between the request time and the server time is greater than 15 minutes.")
	}
	if r.Header.Get("x-ots-contentmd5") != md5b64(body) {
		return authFail("Mismatch between MD5 value of request body and x-ots-contentmd5 in header.")
	}
	s.mu.Lock()
	cred, ok := s.creds[r.Header.Get("x-ots-accesskeyid")]
	s.mu.Unlock()
	if !ok {
		return authFail("The AccessKeyID does not exist or is disabled.")
	}
	if cred.token != "" && r.Header.Get("x-ots-ststoken") != cred.token {
		return authFail("The security token you provided is invalid or expired.")
	}
	if want := Sign(cred.secret, action, r.Header); r.Header.Get("x-ots-signature") != want {
		return authFail("Signature mismatch.")
	}
	return nil
}

// Sign computes the request signature the service expects for the headers
// (exported for tests that hand-craft requests).
func Sign(secret, action string, h http.Header) string {
	var names []string
	for name := range h {
		l := strings.ToLower(name)
		if strings.HasPrefix(l, "x-ots-") && l != "x-ots-signature" {
			names = append(names, l)
		}
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("/" + action + "\nPOST\n\n")
	for _, n := range names {
		b.WriteString(n + ":" + strings.TrimSpace(h.Get(n)) + "\n")
	}
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func unmarshal(b []byte, m proto.Message) error { return proto.Unmarshal(b, m) }

func marshal(m proto.Message) ([]byte, error) { return proto.Marshal(m) }
