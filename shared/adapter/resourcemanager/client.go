// Package resourcemanager is the production directory.Service: Alibaba Cloud
// Resource Directory (ResourceManager 2020-03-31) through
// github.com/aliyun/alibaba-cloud-sdk-go/services/resourcemanager.
//
// The SDK client is not goroutine-safe, defaults to HTTP, never retries
// throttling and has no context support. The adapter therefore keeps a small
// pool of SDK clients (one goroutine per client at a time), forces HTTPS
// (HTTP only for a loopback test endpoint), retries throttling itself with
// bounded exponential backoff, aborts a call when its ctx is done, signs
// every request with the current credentials of a *cloudcreds.Source, and
// maps every RD error to the *apperr.Error codes of the directory port.
package resourcemanager

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	rm "github.com/aliyun/alibaba-cloud-sdk-go/services/resourcemanager"

	"github.com/sase-multiaccount/backend/shared/adapter/cloudcreds"
	"github.com/sase-multiaccount/backend/shared/port/directory"
	"github.com/sase-multiaccount/backend/shared/redact"
)

// Client implements directory.Service on the real Resource Directory.
// It is safe for concurrent use.
type Client struct {
	cfg  Config
	pool chan *conn // idle SDK clients; a goroutine owns a conn while it holds it

	// sleep waits d or until ctx is done (replaceable in tests).
	sleep func(ctx context.Context, d time.Duration) error

	mu     sync.Mutex
	stats  map[string]int  // RD calls made, per RD action (attempts, incl. retries)
	denied map[string]bool // actions whose RAM denial was logged
}

var _ directory.Service = (*Client)(nil)

// conn is one SDK client plus the per-call state only its owner touches.
type conn struct {
	rc    *rm.Client
	tr    *ctxTransport
	creds *sourceProvider
}

// New builds a Client. It makes no network call.
func New(cfg Config) (*Client, error) {
	cfg, err := cfg.splitEndpoint()
	if err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	c := &Client{
		cfg:    cfg,
		pool:   make(chan *conn, cfg.MaxConcurrency),
		sleep:  sleepCtx,
		stats:  map[string]int{},
		denied: map[string]bool{},
	}
	for range cfg.MaxConcurrency {
		cn, err := newConn(cfg)
		if err != nil {
			return nil, err
		}
		c.pool <- cn
	}
	return c, nil
}

func newConn(cfg Config) (*conn, error) {
	base := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: cfg.ConnectTimeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout: cfg.ConnectTimeout,
		TLSClientConfig:     &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: cfg.RootCAs},
		MaxIdleConnsPerHost: 2,
		IdleConnTimeout:     90 * time.Second,
		ForceAttemptHTTP2:   true,
	}
	tr := &ctxTransport{base: base}
	creds := &sourceProvider{src: cfg.Credentials}
	sc := sdk.NewConfig().WithScheme(cfg.Scheme)
	sc.AutoRetry = false // retries are ours: the SDK's never cover throttling and would re-send writes
	sc.Transport = tr
	rc, err := rm.NewClientWithOptions(cfg.RegionID, sc, creds)
	if err != nil {
		return nil, fmt.Errorf("resourcemanager: build SDK client: %w", err)
	}
	rc.Domain = cfg.Endpoint // central service; also the override for make run and tests
	rc.SetConnectTimeout(cfg.ConnectTimeout)
	rc.SetReadTimeout(cfg.ReadTimeout)
	return &conn{rc: rc, tr: tr, creds: creds}, nil
}

// ServicePrincipal is the trusted-service principal the Client registers
// delegated administrators for.
func (c *Client) ServicePrincipal() string { return c.cfg.ServicePrincipal }

// Calls returns how many RD requests the Client has sent per RD action,
// retries included (observability; the role check's cost is measured here).
func (c *Client) Calls() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.stats))
	for k, v := range c.stats {
		out[k] = v
	}
	return out
}

func (c *Client) count(action string) {
	c.mu.Lock()
	c.stats[action]++
	c.mu.Unlock()
}

// op describes one RD call for retry and error decisions.
type op struct {
	action string
	write  bool // changes RD: never re-sent after a 5xx or a lost answer
}

// call runs fn (one SDK request) with a pooled SDK client, retrying
// throttling (always), 5xx answers (reads only) and a credential rejection
// that raced a credential rotation (once). It returns the last raw error;
// callers map it with c.fail after handling their action-specific codes.
func (c *Client) call(ctx context.Context, o op, fn func(*rm.Client) error) error {
	throttled, server, rotated := 0, 0, false
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		gen, err := c.once(ctx, o, fn)
		if err == nil {
			return nil
		}
		c.noteDenied(o.action, err)
		var wait time.Duration
		switch classify(err) {
		case classThrottled:
			if throttled >= c.cfg.MaxThrottleRetries {
				return err
			}
			wait = c.backoff(throttled)
			throttled++
		case classServer:
			if o.write || server >= c.cfg.MaxServerRetries {
				return err
			}
			wait = c.backoff(server)
			server++
		case classCredentials:
			// Signed with credentials that have since rotated: one more try
			// with the new ones. Same credentials: retrying cannot help.
			if _, now := c.cfg.Credentials.Current(); rotated || now == gen {
				return err
			}
			rotated = true
		default:
			return err
		}
		if wait > 0 {
			if serr := c.sleep(ctx, wait); serr != nil {
				return err // the RD error explains more than "context canceled"
			}
		}
	}
}

// once borrows an SDK client, runs fn on it bound to ctx and returns the
// credential generation the request was signed with.
func (c *Client) once(ctx context.Context, o op, fn func(*rm.Client) error) (uint64, error) {
	var cn *conn
	select {
	case cn = <-c.pool:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	defer func() { c.pool <- cn }()
	cn.tr.ctx = ctx
	defer func() { cn.tr.ctx = nil }()
	err := fn(cn.rc)
	if !errors.Is(err, errNoCredentials) { // nothing was sent without credentials
		c.count(o.action)
	}
	if err == nil {
		return cn.creds.gen, nil
	}
	err = c.redact(err)
	if cerr := ctx.Err(); cerr != nil && !isServerError(err) {
		// The SDK reports an aborted exchange as a raw transport error;
		// keep the ctx error in the chain.
		err = fmt.Errorf("%w: %w", cerr, err)
	}
	return cn.creds.gen, err
}

// redact cleans an SDK error of credentials: its transport errors quote
// the signed URL, and RD may quote the string to sign.
func (c *Client) redact(err error) error {
	cur, _ := c.cfg.Credentials.Current()
	return redact.Error(err, cur.AccessKeyID, cur.AccessKeySecret, cur.SecurityToken)
}

// noteDenied logs a RAM denial of action at error level, once per action
// for the Client's life (one function instance): the operator must grant
// the permission, and every request until then would repeat the line.
func (c *Client) noteDenied(action string, err error) {
	code := rdCode(err)
	if c.cfg.Log == nil || !isPermissionCode(code) {
		return
	}
	c.mu.Lock()
	first := !c.denied[action]
	c.denied[action] = true
	c.mu.Unlock()
	if first {
		c.cfg.Log.Error().Str("rdCode", code).Str("permission", "resourcemanager:"+action).Str("role", "deploy/policy.go").
			Str("error", err.Error()).Msg("Resource Directory denied the function role a call it needs; grant the permission in the function role's policy and redeploy")
	}
}

func (c *Client) backoff(attempt int) time.Duration {
	d := c.cfg.BackoffBase << min(attempt, 16)
	if d <= 0 || d > c.cfg.MaxBackoff {
		d = c.cfg.MaxBackoff
	}
	// Equal jitter: half fixed, half random, so concurrent callers spread out.
	half := d / 2
	return half + rand.N(d-half+1)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// errNoCredentials is returned by the SDK when the Source holds no key.
var errNoCredentials = errors.New("resourcemanager: no Alibaba Cloud credentials (function role STS token or ALIBABA_CLOUD_* variables)")

// sourceProvider is an SDK CredentialsProvider that reads the current
// credentials of a cloudcreds.Source each time a request is signed. gen is
// the generation of the last credentials handed out; only the goroutine
// that owns the conn reads it.
type sourceProvider struct {
	src *cloudcreds.Source
	gen uint64
}

func (p *sourceProvider) GetCredentials() (*credentials.Credentials, error) {
	cur, gen := p.src.Current()
	p.gen = gen
	if !cur.Valid() {
		return nil, errNoCredentials
	}
	return &credentials.Credentials{
		AccessKeyId:     cur.AccessKeyID,
		AccessKeySecret: cur.AccessKeySecret,
		SecurityToken:   cur.SecurityToken,
		ProviderName:    p.GetProviderName(),
	}, nil
}

func (p *sourceProvider) GetProviderName() string { return "cloudcreds" }

// ctxTransport binds the SDK's requests to the ctx of the call that owns the
// conn, so a cancelled invocation stops waiting for RD. The SDK's own read
// timeout (http.Client.Timeout) still applies through the request's ctx.
type ctxTransport struct {
	base *http.Transport
	ctx  context.Context // set by the owning goroutine around each call
}

func (t *ctxTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	outer := t.ctx
	if outer == nil || outer.Done() == nil {
		return t.base.RoundTrip(r)
	}
	ctx, cancel := context.WithCancelCause(r.Context())
	stop := context.AfterFunc(outer, func() { cancel(context.Cause(outer)) })
	resp, err := t.base.RoundTrip(r.WithContext(ctx))
	if err != nil {
		stop()
		cancel(nil)
		return nil, err
	}
	resp.Body = &releaseBody{ReadCloser: resp.Body, release: func() { stop(); cancel(nil) }}
	return resp, nil
}

type releaseBody struct {
	io.ReadCloser
	once    sync.Once
	release func()
}

func (b *releaseBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.release)
	return err
}
