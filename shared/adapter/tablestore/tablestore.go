// Package tablestore is the production adapter of the store port, on
// Alibaba Cloud Tablestore through aliyun-tablestore-go-sdk. It passes the
// contract suite of testkit/storetest against testkit/otsfake, a wire-level
// Tablestore fake. docs/DESIGN.md §4 has the tables and the requests of
// each operation (TestRemoteCalls and TestRequestsPerOperation count them).
package tablestore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aliyun/aliyun-tablestore-go-sdk/common"
	ots "github.com/aliyun/aliyun-tablestore-go-sdk/tablestore"
	"github.com/rs/zerolog"

	"github.com/sase-multiaccount/backend/shared/adapter/cloudcreds"
	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/port/store"
	"github.com/sase-multiaccount/backend/shared/redact"
)

// service names Tablestore in apperr messages.
const service = "Tablestore"

// Config configures the adapter. Endpoint, Instance and Credentials are
// required; everything else has a default.
type Config struct {
	// Endpoint is the instance URL, e.g.
	// https://<instance>.<region>.vpc.tablestore.aliyuncs.com.
	Endpoint string
	// Instance is the instance name.
	Instance string

	// TablePrefix starts the default table names (config
	// TABLESTORE_TABLE_PREFIX); default "sase_".
	TablePrefix string

	MembersTable  string // default <prefix>members
	MembersIndex  string // default <prefix>members_by_time
	CountersTable string // default <prefix>counters
	AuditTable    string // default <prefix>audit
	TargetTable   string // default <prefix>audit_by_target
	EventsTable   string // default <prefix>processed_events
	MirrorTable   string // default <prefix>directory_mirror
	WebhooksTable string // default <prefix>webhooks
	ChangesTable  string // default <prefix>member_changes

	// FeedSettle is how old the row after a hole in the change feed must
	// be before a reader fills the hole (feed.go): longer than a write
	// can take. Default 10 s.
	FeedSettle time.Duration
	// Now is the clock of FeedSettle; default time.Now.
	Now func() time.Time

	// Credentials are the function role's rotating STS credentials; every
	// request is signed with the current ones (no client rebuild).
	Credentials *cloudcreds.Source

	// RetryTimes is how often the SDK retries a retryable failure (busy,
	// partition unavailable, network errors; timeouts on reads). 0 means 5;
	// negative means no retries.
	RetryTimes int
	// MaxRetryTime bounds the retries of one call. Default 4 s.
	MaxRetryTime time.Duration
	// RetryInterval is the first backoff (then doubled plus jitter). Default
	// 10 ms; the SDK's granularity is a millisecond and its minimum 2 ms.
	RetryInterval time.Duration
	// MaxRetryInterval caps the backoff. Default 320 ms.
	MaxRetryInterval time.Duration
	// ConnectTimeout bounds a TCP connect. Default 2 s.
	ConnectTimeout time.Duration
	// RequestTimeout bounds one HTTP request (one attempt). Default 5 s.
	RequestTimeout time.Duration

	// EventsTTL is the processed-events table TTL EnsureTables sets.
	// Default 7 days.
	EventsTTL time.Duration

	// Transport replaces the HTTP transport (tests); nil builds a keep-alive
	// transport with ConnectTimeout.
	Transport http.RoundTripper

	// Logf receives warnings the port cannot return (a member count that
	// could not be corrected) and EnsureTables progress. Nil discards them.
	Logf func(format string, args ...any)

	// Log, when set, receives one error line per Tablestore action the
	// function role is denied (RAM), the first time it happens.
	Log *zerolog.Logger
}

// Defaults: the table names with the default prefix.
const (
	DefaultTablePrefix   = "sase_"
	DefaultMembersTable  = DefaultTablePrefix + "members"
	DefaultCountersTable = DefaultTablePrefix + "counters"
	DefaultAuditTable    = DefaultTablePrefix + "audit"
	DefaultEventsTTL     = 7 * 24 * time.Hour
	DefaultFeedSettle    = 10 * time.Second
)

// validTableName reports whether name is a Tablestore table or index name:
// 1 to 255 ASCII letters, digits and underscores, not starting with a digit.
// Plain code: a regexp compiled at init slowed every function's start-up.
func validTableName(name string) bool {
	if name == "" || len(name) > 255 || ('0' <= name[0] && name[0] <= '9') {
		return false
	}
	for _, c := range []byte(name) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// withDefaults fills in defaults and validates cfg.
func (cfg Config) withDefaults() (Config, error) {
	def := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	def(&cfg.TablePrefix, DefaultTablePrefix)
	def(&cfg.MembersTable, cfg.TablePrefix+"members")
	def(&cfg.MembersIndex, cfg.TablePrefix+"members_by_time")
	def(&cfg.CountersTable, cfg.TablePrefix+"counters")
	def(&cfg.AuditTable, cfg.TablePrefix+"audit")
	def(&cfg.TargetTable, cfg.TablePrefix+"audit_by_target")
	def(&cfg.EventsTable, cfg.TablePrefix+"processed_events")
	def(&cfg.MirrorTable, cfg.TablePrefix+"directory_mirror")
	def(&cfg.WebhooksTable, cfg.TablePrefix+"webhooks")
	def(&cfg.ChangesTable, cfg.TablePrefix+"member_changes")
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	defD := func(p *time.Duration, v time.Duration) {
		if *p <= 0 {
			*p = v
		}
	}
	defD(&cfg.MaxRetryTime, 4*time.Second)
	defD(&cfg.RetryInterval, 10*time.Millisecond)
	defD(&cfg.MaxRetryInterval, 320*time.Millisecond)
	defD(&cfg.ConnectTimeout, 2*time.Second)
	defD(&cfg.RequestTimeout, 5*time.Second)
	defD(&cfg.EventsTTL, DefaultEventsTTL)
	defD(&cfg.FeedSettle, DefaultFeedSettle)
	// The SDK draws its jitter with rand.Int63n(interval_ms - 1).
	cfg.RetryInterval = max(cfg.RetryInterval, 2*time.Millisecond)
	cfg.MaxRetryInterval = max(cfg.MaxRetryInterval, cfg.RetryInterval)
	switch {
	case cfg.RetryTimes == 0:
		cfg.RetryTimes = 5
	case cfg.RetryTimes < 0:
		cfg.RetryTimes = 0
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}

	u, err := url.Parse(cfg.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return cfg, fmt.Errorf("tablestore: endpoint %q is not an http(s) URL", cfg.Endpoint)
	}
	if cfg.Instance == "" {
		return cfg, errors.New("tablestore: instance name is empty")
	}
	if cfg.Credentials == nil {
		return cfg, errors.New("tablestore: no credentials source")
	}
	names := map[string]string{}
	for _, n := range []struct{ what, name string }{
		{"members table", cfg.MembersTable}, {"members index", cfg.MembersIndex},
		{"counters table", cfg.CountersTable}, {"audit table", cfg.AuditTable},
		{"audit by target table", cfg.TargetTable}, {"events table", cfg.EventsTable},
		{"mirror table", cfg.MirrorTable}, {"webhooks table", cfg.WebhooksTable}, {"member changes table", cfg.ChangesTable},
	} {
		if !validTableName(n.name) {
			return cfg, fmt.Errorf("tablestore: %s name %q is not a valid table name", n.what, n.name)
		}
		if other, dup := names[n.name]; dup {
			return cfg, fmt.Errorf("tablestore: %s and %s are both named %q", other, n.what, n.name)
		}
		names[n.name] = n.what
	}
	if ttl := cfg.EventsTTL / time.Second; ttl < 86400 || ttl > 1<<31-1 {
		return cfg, fmt.Errorf("tablestore: events TTL %s must be at least a day (the service minimum)", cfg.EventsTTL)
	}
	return cfg, nil
}

// credentials adapts a cloudcreds.Source to the SDK: the client asks for
// credentials on every request, so a rotation takes effect at once.
type credentials struct{ src *cloudcreds.Source }

func (p credentials) GetCredentials() common.Credentials {
	c, _ := p.src.Current()
	return &common.DefaultCredentials{AccessKeyID: c.AccessKeyID, AccessKeySecret: c.AccessKeySecret, SecurityToken: c.SecurityToken}
}

// Store is the Tablestore store.Store. Build one per function instance with
// New; it is safe for concurrent use.
type Store struct {
	cfg       Config
	client    *ots.TableStoreClient
	transport *http.Transport // ours, closed by Close; nil when cfg.Transport was given
	retried   sync.Map        // trace ID -> true once the SDK retried that call
	closed    atomic.Bool

	mu     sync.Mutex
	denied map[string]bool // actions whose RAM denial was logged
}

var _ store.Store = (*Store)(nil)

// New builds the adapter. It makes no remote call; tables must exist
// (EnsureTables).
func New(cfg Config) (*Store, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Store{cfg: cfg, denied: map[string]bool{}}
	client, tr := newClient(cfg)
	s.client, s.transport = client, tr
	s.client.SetRetryNotify(func(traceID, _ string, _ error, _ string, _ time.Duration) {
		if traceID != "" {
			s.retried.Store(traceID, true)
		}
	})
	return s, nil
}

func newClient(cfg Config) (*ots.TableStoreClient, *http.Transport) {
	sc := ots.NewDefaultTableStoreConfig()
	sc.RetryTimes = uint(cfg.RetryTimes)
	sc.MaxRetryTime = cfg.MaxRetryTime
	sc.DefaultRetryInterval = cfg.RetryInterval
	sc.MaxRetryInterval = cfg.MaxRetryInterval
	sc.HTTPTimeout.ConnectionTimeout = cfg.ConnectTimeout
	sc.HTTPTimeout.RequestTimeout = cfg.RequestTimeout
	var own *http.Transport
	if cfg.Transport != nil {
		sc.Transport = cfg.Transport
	} else {
		own = &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			DialContext:         (&net.Dialer{Timeout: cfg.ConnectTimeout, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        100,
			MaxIdleConnsPerHost: 100,
			IdleConnTimeout:     25 * time.Second, // under the service's idle timeout
			TLSHandshakeTimeout: cfg.ConnectTimeout,
		}
		sc.Transport = own
	}
	client := ots.NewClientWithConfig(cfg.Endpoint, cfg.Instance, "", "", "", sc,
		ots.SetCredentialsProvider(credentials{cfg.Credentials}))
	return client, own
}

// Close releases idle connections. Calls after Close fail with
// ServiceUnavailable.
func (s *Store) Close() error {
	s.closed.Store(true)
	if s.transport != nil {
		s.transport.CloseIdleConnections()
	}
	return nil
}

var (
	errClosed        = errors.New("store is closed")
	errNoCredentials = errors.New("no Tablestore credentials: the function role's STS credentials (or ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET) are missing")
)

// call runs one SDK call of action (e.g. "GetRow"; which retries by itself)
// and classifies its error, cleaned of credentials. The SDK takes no
// context: ctx is checked before the call, and a call in flight runs to its
// RequestTimeout. retried reports whether the SDK resent the request, in
// which case a write may have been applied by an attempt whose response was
// lost.
func (s *Store) call(ctx context.Context, op, action string, fn func(extra ots.ExtraRequestInfo) error) (retried bool, err error) {
	if s.closed.Load() {
		return false, apperr.Unavailable(service, fmt.Errorf("tablestore %s: %w", op, errClosed))
	}
	if err := ctx.Err(); err != nil {
		return false, apperr.Unavailable(service, fmt.Errorf("tablestore %s: %w", op, err))
	}
	if c, _ := s.cfg.Credentials.Current(); !c.Valid() {
		return false, apperr.Internal(fmt.Errorf("tablestore %s: %w", op, errNoCredentials))
	}
	trace := newID()
	var extra ots.ExtraRequestInfo
	extra.SetTraceID(trace)
	err = fn(extra)
	_, retried = s.retried.LoadAndDelete(trace)
	if err == nil {
		return retried, nil
	}
	err = s.redact(err)
	if isDenied(err) {
		s.noteDenied(action, err)
		return retried, apperr.PermissionDenied("ots:"+action, fmt.Errorf("tablestore %s: %w", op, err))
	}
	return retried, classify(op, err)
}

// redact cleans an SDK error of credentials (the SDK signs headers, not
// the URL, but its errors are printed, and a service answer may quote
// anything).
func (s *Store) redact(err error) error {
	c, _ := s.cfg.Credentials.Current()
	return redact.Error(err, c.AccessKeyID, c.AccessKeySecret, c.SecurityToken)
}

// isDenied reports a RAM denial: the function role lacks a permission.
// Tablestore answers 403 OTSNoPermissionAccess, or OTSAuthFailed "The user
// has no privilege to access the instance." when the role's policy covers
// no resource of the instance (Tablestore's error codes, "Permission
// verification errors"). The other OTSAuthFailed answers are about the key
// (expired, unknown, bad signature) or the instance (not running, network
// ACL).
func isDenied(err error) bool {
	var oe *ots.OtsError
	if !errors.As(err, &oe) {
		return false
	}
	msg := strings.ToLower(oe.Message)
	return oe.Code == codeNoPermission || (oe.Code == codeAuthFailed &&
		(strings.Contains(msg, "no privilege") || strings.Contains(msg, "permission") || strings.Contains(msg, "not authorized")))
}

// noteDenied logs a RAM denial of action at error level, once per action
// for the Store's life (one function instance): the operator must grant
// the permission, and every request until then would repeat the line.
func (s *Store) noteDenied(action string, err error) {
	if s.cfg.Log == nil {
		return
	}
	s.mu.Lock()
	first := !s.denied[action]
	s.denied[action] = true
	s.mu.Unlock()
	if first {
		var oe *ots.OtsError
		errors.As(err, &oe)
		s.cfg.Log.Error().Str("otsCode", oe.Code).Str("permission", "ots:"+action).Str("role", "deploy/policy.go").
			Str("error", err.Error()).Msg("Tablestore denied the function role a call it needs; grant the permission in the function role's policy and redeploy")
	}
}

// newID returns a random 16-hex-digit ID (trace IDs and op_id tokens).
func newID() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return hex.EncodeToString(b[:])
}

// Tablestore error codes the adapter tells apart.
const (
	codeNoPermission    = "OTSNoPermissionAccess"
	codeAuthFailed      = "OTSAuthFailed"
	codeConditionFailed = "OTSConditionCheckFail"
	codeObjectNotExist  = "OTSObjectNotExist"
	codeObjectExists    = "OTSObjectAlreadyExist"
)

// classify turns an SDK error into an *apperr.Error: throttling → 429,
// transient service and network failures → 503 (the SDK has already
// retried them), anything else (missing table, bad request: a deployment
// or programming error) → 500. The cause keeps the SDK error for the log.
func classify(op string, err error) error {
	if _, ok := apperr.As(err); ok {
		return err
	}
	cause := fmt.Errorf("tablestore %s: %w", op, err)
	var oe *ots.OtsError
	if errors.As(err, &oe) {
		return classifyCode(oe.Code, oe.HttpStatusCode, cause)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return apperr.Unavailable(service, cause)
	}
	var ue *url.Error
	var ne net.Error
	msg := err.Error()
	if errors.As(err, &ue) || errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		strings.Contains(msg, "connection refused") || strings.Contains(msg, "connection reset") || strings.Contains(msg, "EOF") {
		return apperr.Unavailable(service, cause)
	}
	// Client-side SDK errors ("[tablestore] invalid input", decode
	// failures) are bugs.
	return apperr.Internal(cause)
}

func classifyCode(code string, status int, cause error) error {
	switch code {
	case "OTSNotEnoughCapacityUnit", "OTSQuotaExhausted", "OTSRowOperationConflict", "OTSTooFrequentReservedThroughputAdjustment":
		return apperr.Throttled(service, cause)
	case "OTSServerBusy", "OTSStorageServerBusy", "OTSPartitionUnavailable", "OTSServerUnavailable",
		"OTSTimeout", "OTSInternalServerError", "OTSTableNotReady",
		// Expired or rotating STS credentials: the next invocation brings
		// new ones. (A RAM denial is told apart first: isDenied.)
		codeAuthFailed:
		return apperr.Unavailable(service, cause)
	case codeObjectNotExist:
		return apperr.Internal(fmt.Errorf("%w (have the tables been created? see scripts/create-tables)", cause))
	}
	if status >= 500 {
		return apperr.Unavailable(service, cause)
	}
	return apperr.Internal(cause)
}

// rowError is the error of one failed row of a batch.
func rowError(op string, e ots.Error) error {
	return classifyCode(e.Code, 0, fmt.Errorf("tablestore %s: row failed: %s %s", op, e.Code, redact.Text(e.Message)))
}

func isConditionFailed(err error) bool {
	var oe *ots.OtsError
	return errors.As(err, &oe) && oe.Code == codeConditionFailed
}
