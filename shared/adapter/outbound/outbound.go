// Package outbound sends the HTTP requests the bundle makes to URLs a person
// typed: webhook deliveries (docs/DESIGN.md §13). Such a URL must never
// reach the instance's own network: https only, no redirects followed, a
// bounded time and a bounded read, and a dialer that checks the address it
// is about to connect to — not the name, and not an earlier lookup — so that
// neither the URL nor DNS (rebinding) can reach loopback, private,
// link-local, CGNAT (with the metadata service 100.100.100.200) or
// multicast addresses.
package outbound

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"syscall"
	"time"

	"github.com/sase-multiaccount/backend/shared/apperr"
)

// Defaults of Options.
const (
	DefaultTimeout = 10 * time.Second
	DefaultMaxBody = 64 << 10
	maxURLLen      = 2048
)

// Resolver resolves host names (net.DefaultResolver is one).
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Options configure a Client.
type Options struct {
	// AllowLoopbackHTTP admits http:// (and https://) URLs whose host is
	// the literal 127.0.0.1, so a test receiver on the laptop can get
	// webhooks. Only the local server (make run) sets it.
	AllowLoopbackHTTP bool
	// Timeout bounds one request, connect to last byte read. Default 10 s.
	Timeout time.Duration
	// MaxBody is how much of a response body is read (the rest is
	// dropped with the connection). Default 64 KiB.
	MaxBody int64
	// Resolver resolves host names; nil is net.DefaultResolver. Tests map
	// names to addresses with it.
	Resolver Resolver
}

// Client makes outbound requests. It is safe for concurrent use.
type Client struct {
	opts Options
	http *http.Client
}

// New returns a Client.
func New(opts Options) *Client {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultMaxBody
	}
	if opts.Resolver == nil {
		opts.Resolver = net.DefaultResolver
	}
	c := &Client{opts: opts}
	tr := &http.Transport{
		Proxy:                  nil, // a proxy would connect for us, past the address check
		DialContext:            c.dial,
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    opts.Timeout,
		ResponseHeaderTimeout:  opts.Timeout,
		MaxResponseHeaderBytes: 16 << 10,
		MaxIdleConnsPerHost:    2,
		IdleConnTimeout:        30 * time.Second,
		ForceAttemptHTTP2:      true,
	}
	c.http = &http.Client{
		Transport: tr,
		Timeout:   opts.Timeout,
		// A redirect is answered as it is (a 3xx, which is no success);
		// following it would let the receiver choose where we connect.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c
}

// Error is a failed request, with its kind: Timeout, AddressRefused (the
// address rules), or Failed (connection, TLS, protocol).
type Error struct {
	Kind string
	Err  error
}

func (e *Error) Error() string { return e.Kind + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Outcome is the kind, for a webhook's LastStatus.
func (e *Error) Outcome() string { return e.Kind }

func classify(err error) error {
	var refused *RefusedError
	var ne net.Error
	switch {
	case errors.As(err, &refused):
		return &Error{Kind: "AddressRefused", Err: refused}
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return &Error{Kind: "Timeout", Err: err}
	default:
		return &Error{Kind: "Failed", Err: err}
	}
}

// RefusedError is a destination the rules refuse.
type RefusedError struct {
	Addr   netip.Addr // the refused address (invalid when the URL itself is refused)
	Reason string
}

func (e *RefusedError) Error() string {
	if e.Addr.IsValid() {
		return fmt.Sprintf("address %s is refused: %s", e.Addr, e.Reason)
	}
	return e.Reason
}

// Post sends body to rawURL with header and returns the response status.
// The URL is checked again (scheme, host), and the dialer refuses every
// address that is not public. At most MaxBody bytes of the answer are read.
func (c *Client) Post(ctx context.Context, rawURL string, header http.Header, body []byte) (int, error) {
	if _, err := c.parse(rawURL); err != nil {
		return 0, &Error{Kind: "AddressRefused", Err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("outbound request: %w", err)
	}
	req.ContentLength = int64(len(body))
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, classify(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, c.opts.MaxBody))
	return resp.StatusCode, nil
}

// CheckURL validates a webhook URL as put-webhook does: https (or the
// local exception), a host, no credentials, and every address the host
// resolves to public. The answer is an apperr InvalidParameter.Url that
// names the rule.
func (c *Client) CheckURL(ctx context.Context, rawURL string) error {
	u, err := c.parse(rawURL)
	if err != nil {
		return apperr.Invalid("Url", "Url %q is not allowed: %v.", clip(rawURL), err)
	}
	addrs, err := c.resolve(ctx, u.Hostname())
	if err != nil {
		return apperr.Invalid("Url", "The host of Url %q does not resolve: %v.", clip(rawURL), err)
	}
	for _, a := range addrs {
		if err := c.check(a); err != nil {
			return apperr.Invalid("Url", "Url %q is not allowed: its host resolves to %s, %s. Webhooks go to public addresses only.",
				clip(rawURL), a, err.Reason)
		}
	}
	return nil
}

// parse checks the form of a URL.
func (c *Client) parse(rawURL string) (*url.URL, error) {
	if len(rawURL) > maxURLLen {
		return nil, &RefusedError{Reason: fmt.Sprintf("longer than %d characters", maxURLLen)}
	}
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return nil, &RefusedError{Reason: "not an absolute URL with a host"}
	}
	if u.User != nil {
		return nil, &RefusedError{Reason: "credentials in the URL are not allowed"}
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return nil, &RefusedError{Reason: "invalid port"}
		}
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && c.opts.AllowLoopbackHTTP && u.Hostname() == "127.0.0.1":
	default:
		return nil, &RefusedError{Reason: "only https:// URLs are allowed"}
	}
	return u, nil
}

func (c *Client) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a.Unmap()}, nil
	}
	addrs, err := c.opts.Resolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, err
	}
	if len(addrs) == 0 {
		return nil, errors.New("no addresses")
	}
	return addrs, nil
}

// dial connects to one of the addresses host resolves to. The dialer's
// Control checks the address of the socket itself, at connect time.
func (c *Client) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	addrs, err := c.resolve(ctx, host)
	if err != nil {
		return nil, err
	}
	d := &net.Dialer{Timeout: c.opts.Timeout, Control: c.control}
	var errs []error
	for _, a := range addrs {
		conn, err := d.DialContext(ctx, network, net.JoinHostPort(a.Unmap().String(), port))
		if err == nil {
			return conn, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

// control is the connect-time check (net.Dialer.Control): it runs after
// name resolution, on the address the socket is about to connect to.
func (c *Client) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &RefusedError{Reason: "unparsable address " + address}
	}
	if err := c.check(ap.Addr()); err != nil {
		return err
	}
	return nil
}

// check is the address rule: public addresses only, and locally 127.0.0.1.
func (c *Client) check(a netip.Addr) *RefusedError {
	a = a.Unmap()
	if c.opts.AllowLoopbackHTTP && a == netip.AddrFrom4([4]byte{127, 0, 0, 1}) {
		return nil
	}
	if reason := NonPublic(a); reason != "" {
		return &RefusedError{Addr: a, Reason: reason}
	}
	return nil
}
