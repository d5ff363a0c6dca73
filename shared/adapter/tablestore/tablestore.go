// Package tablestore is the production adapter of the store port, on Alibaba
// Cloud Tablestore through github.com/aliyun/aliyun-tablestore-go-sdk v1.7.17
// (research/tablestore.md). It passes the same contract suite as the embedded
// store (store/storetest), run against otsfake, a wire-level Tablestore fake.
//
// Tables (created by EnsureTables / scripts/create-tables; names from Config):
//
//	sase_members            PK (directory_id STRING, account_id STRING)
//	                        account_name, added_by, remark STRING; add_time,
//	                        version, update_time, name_time INTEGER (times in
//	                        Unix ms); op_id STRING (the call that last wrote it)
//	  sase_members_by_time  local secondary index, PK (directory_id, add_time,
//	                        account_id), every attribute above but op_id copied
//	sase_counters           PK (directory_id STRING); member_count INTEGER, op_id
//	sase_audit              PK (directory_id STRING, event_id STRING); time
//	                        INTEGER; actor_account_id, actor_principal,
//	                        actor_role, action, target, result, request_id,
//	                        detail (JSON) STRING
//	sase_audit_by_target    PK (directory_id STRING, target_event STRING =
//	                        target + "|" + event_id); the same columns: each
//	                        record with a target, written in the same batch
//	                        as its audit row, so a target's timeline is one
//	                        GetRange
//	sase_processed_events   PK (event_key STRING); expires INTEGER, op_id; table
//	                        TTL (default 7 days) plus the expiry checked on read
//	sase_directory_mirror   PK (directory_id STRING, item STRING = "a|<account>",
//	                        "f|<folder>" or "~marks"); name, folder_id STRING
//	                        (a folder's parent), join_time, sync_time,
//	                        handshake_time INTEGER: the directory mirror
//	sase_member_changes     PK (directory_id STRING, seq STRING, 20 digits): the
//	                        membership change feed, TTL 31 days (feed.go)
//	sase_webhooks           PK (directory_id STRING, webhook_id STRING):
//	                        webhooks and their progress, and the feed counter
//	                        row "~feed" (webhooks.go)
//
// Remote calls per operation (counted by the tests at the fake):
//
//	GetMember, CountMembers          1 read (GetRow)
//	ListMembers, ListAudit           1 read (GetRange; more only when the
//	                                 service cuts a page at 5000 rows / 4 MB)
//	AddMembers(n)                    ceil(n/199) writes: BatchWriteRow of up to
//	                                 199 puts + the counter row; +1 write when
//	                                 some rows already existed or failed (a
//	                                 counter correction), +1 read per 100 rows
//	                                 whose condition failed after an SDK retry
//	UpdateRemark, RenameMember       1 read + 1 write (GetRow, conditional
//	                                 UpdateRow); again on a concurrent change
//	DeleteMembers(n)                 ceil(n/100) reads (BatchGetRow, to return
//	                                 the deleted rows) + ceil(m/199) writes for
//	                                 the m that exist
//	AppendAudit(n)                   ceil(n/200) writes
//	ClaimEvent                       1 write (PutRow); +1 read, +1 write when a
//	                                 record exists
//	ReleaseEvent                     1 write
//	ReadMirror, MemberIDs            1 GetRange (ceil(rows/5000) requests)
//	an audited membership change     +1 write per batch (UpdateRow: its feed
//	                                 positions), 49 changes per batch
//	ListChanges                      1 read (GetRange); +1 write to fill a
//	                                 settled hole
//	AllWebhooks, ListWebhooks        1 read (GetRange)
//	Acquire/AdvanceWebhook           1 write (conditional UpdateRow)
//	ReplaceMirror                    ReadMirror + ceil(changed/200) writes + 1
//	Put/DeleteMirror*, marks         ceil(n/200) writes; MirrorMarks 1 GetRow
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
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aliyun/aliyun-tablestore-go-sdk/common"
	ots "github.com/aliyun/aliyun-tablestore-go-sdk/tablestore"

	"github.com/sase-multiaccount/backend/shared/adapter/cloudcreds"
	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/port/store"
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
}

// Defaults: the table names with the default prefix.
const (
	DefaultTablePrefix   = "sase_"
	DefaultMembersTable  = DefaultTablePrefix + "members"
	DefaultMembersIndex  = DefaultTablePrefix + "members_by_time"
	DefaultCountersTable = DefaultTablePrefix + "counters"
	DefaultAuditTable    = DefaultTablePrefix + "audit"
	DefaultEventsTable   = DefaultTablePrefix + "processed_events"
	DefaultMirrorTable   = DefaultTablePrefix + "directory_mirror"
	DefaultEventsTTL     = 7 * 24 * time.Hour
	DefaultFeedSettle    = 10 * time.Second
)

var tableNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,254}$`)

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
		if !tableNameRE.MatchString(n.name) {
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
}

var _ store.Store = (*Store)(nil)

// New builds the adapter. It makes no remote call; tables must exist
// (EnsureTables).
func New(cfg Config) (*Store, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Store{cfg: cfg}
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

// call runs one SDK call (which retries by itself) and classifies its error.
// The SDK takes no context: ctx is checked before the call, and a call in
// flight runs to its RequestTimeout. retried reports whether the SDK
// resent the request, in which case a write may have been applied by an
// attempt whose response was lost.
func (s *Store) call(ctx context.Context, op string, fn func(extra ots.ExtraRequestInfo) error) (retried bool, err error) {
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
	if err != nil {
		return retried, classify(op, err)
	}
	return retried, nil
}

// newID returns a random 16-hex-digit ID (trace IDs and op_id tokens).
func newID() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return hex.EncodeToString(b[:])
}

// Error codes (research/tablestore.md §1.6–1.7).
const (
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
		// new ones.
		"OTSAuthFailed":
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
	return classifyCode(e.Code, 0, fmt.Errorf("tablestore %s: row failed: %s %s", op, e.Code, e.Message))
}

func isConditionFailed(err error) bool {
	var oe *ots.OtsError
	return errors.As(err, &oe) && oe.Code == codeConditionFailed
}
