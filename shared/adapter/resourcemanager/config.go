package resourcemanager

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/sase-multiaccount/backend/shared/adapter/cloudcreds"
	"github.com/sase-multiaccount/backend/shared/port/directory"
)

// Defaults applied by New to zero Config fields.
const (
	DefaultEndpoint           = "resourcemanager.aliyuncs.com"
	DefaultRegionID           = "cn-hangzhou"
	DefaultConnectTimeout     = 5 * time.Second
	DefaultReadTimeout        = 10 * time.Second
	DefaultMaxThrottleRetries = 3
	DefaultMaxServerRetries   = 1
	DefaultBackoffBase        = 200 * time.Millisecond
	DefaultMaxBackoff         = 2 * time.Second
	DefaultMaxConcurrency     = 4
)

// Config configures the Resource Directory adapter. Zero fields take the
// defaults above.
type Config struct {
	// Endpoint is the RD host, optionally with a port ("127.0.0.1:9001"). RD
	// is a central service: one host for every region. A URL without a path
	// ("http://127.0.0.1:9001", "https://resourcemanager.aliyuncs.com") is
	// accepted too and sets Scheme.
	Endpoint string
	// Scheme is "HTTPS" (the default; the SDK's own default is HTTP) or
	// "HTTP", which is accepted only for a loopback Endpoint (a local RD
	// wire server).
	Scheme string
	// RegionID is sent as the RegionId parameter.
	RegionID string
	// ServicePrincipal is SASE's trusted-service principal, used for the
	// delegated-administrator calls (default directory.DefaultServicePrincipal).
	ServicePrincipal string
	// Credentials is the function role's credential holder (required). It is
	// read every time a request is signed, so a rotation observed by the HTTP
	// layer takes effect on the next call without rebuilding anything.
	Credentials *cloudcreds.Source

	// ConnectTimeout bounds establishing the TCP/TLS connection; ReadTimeout
	// bounds one whole HTTP exchange. The SDK has no context support; the
	// adapter additionally aborts a call when its ctx is done.
	ConnectTimeout time.Duration
	ReadTimeout    time.Duration

	// MaxThrottleRetries is how many times a throttled call (Throttling*) is
	// retried before the adapter gives up with 429 Throttling. Negative
	// means no retries. The SDK itself never retries throttling.
	MaxThrottleRetries int
	// MaxServerRetries is how many times a read whose answer was 5xx is
	// retried. Writes are never retried on 5xx: their outcome is unknown.
	// Negative means no retries.
	MaxServerRetries int
	// BackoffBase is the first retry delay; it doubles per retry (with
	// jitter), up to MaxBackoff.
	BackoffBase time.Duration
	MaxBackoff  time.Duration

	// MaxConcurrency is how many RD calls one Client runs at once. The SDK
	// client is not goroutine-safe, so the adapter keeps this many SDK
	// clients and lends each to one goroutine at a time.
	MaxConcurrency int

	// RootCAs, when set, replaces the system roots for HTTPS (private CA,
	// tests). Nil uses the system roots.
	RootCAs *x509.CertPool

	// Log, when set, receives one error line per RD action the function
	// role is denied (RAM), the first time it happens.
	Log *zerolog.Logger
}

// splitEndpoint accepts "scheme://host[:port]" in Endpoint: it moves the
// scheme to Scheme (which must agree when both are given).
func (c Config) splitEndpoint() (Config, error) {
	scheme, rest, ok := strings.Cut(c.Endpoint, "://")
	if !ok {
		return c, nil
	}
	rest = strings.TrimSuffix(rest, "/")
	scheme = strings.ToUpper(scheme)
	if scheme != "HTTP" && scheme != "HTTPS" {
		return c, fmt.Errorf("resourcemanager: endpoint %q: scheme must be http or https", c.Endpoint)
	}
	if c.Scheme != "" && !strings.EqualFold(c.Scheme, scheme) {
		return c, fmt.Errorf("resourcemanager: endpoint %q contradicts scheme %q", c.Endpoint, c.Scheme)
	}
	c.Endpoint, c.Scheme = rest, scheme
	return c, nil
}

func (c Config) withDefaults() Config {
	if c.Endpoint == "" {
		c.Endpoint = DefaultEndpoint
	}
	if c.Scheme == "" {
		c.Scheme = "HTTPS"
	}
	c.Scheme = strings.ToUpper(c.Scheme)
	if c.RegionID == "" {
		c.RegionID = DefaultRegionID
	}
	if c.ServicePrincipal == "" {
		c.ServicePrincipal = directory.DefaultServicePrincipal
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.ReadTimeout <= 0 {
		c.ReadTimeout = DefaultReadTimeout
	}
	switch {
	case c.MaxThrottleRetries == 0:
		c.MaxThrottleRetries = DefaultMaxThrottleRetries
	case c.MaxThrottleRetries < 0:
		c.MaxThrottleRetries = 0
	}
	switch {
	case c.MaxServerRetries == 0:
		c.MaxServerRetries = DefaultMaxServerRetries
	case c.MaxServerRetries < 0:
		c.MaxServerRetries = 0
	}
	if c.BackoffBase <= 0 {
		c.BackoffBase = DefaultBackoffBase
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	if c.MaxBackoff < c.BackoffBase {
		c.MaxBackoff = c.BackoffBase
	}
	if c.MaxConcurrency <= 0 {
		c.MaxConcurrency = DefaultMaxConcurrency
	}
	return c
}

func (c Config) validate() error {
	if c.Credentials == nil {
		return errors.New("resourcemanager: Config.Credentials is required")
	}
	host, err := endpointHost(c.Endpoint)
	if err != nil {
		return err
	}
	switch c.Scheme {
	case "HTTPS":
	case "HTTP":
		if !isLoopback(host) {
			return fmt.Errorf("resourcemanager: scheme HTTP is allowed only for a loopback endpoint, not %q; use HTTPS", c.Endpoint)
		}
	default:
		return fmt.Errorf("resourcemanager: scheme %q is not HTTPS or HTTP", c.Scheme)
	}
	for _, r := range c.RegionID {
		if !(r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return fmt.Errorf("resourcemanager: region %q has invalid characters", c.RegionID)
		}
	}
	if strings.TrimSpace(c.ServicePrincipal) != c.ServicePrincipal || strings.ContainsAny(c.ServicePrincipal, " /:") {
		return fmt.Errorf("resourcemanager: service principal %q is not a host-like name (e.g. %s)", c.ServicePrincipal, directory.DefaultServicePrincipal)
	}
	return nil
}

// endpointHost checks that endpoint is host or host:port and returns host.
func endpointHost(endpoint string) (string, error) {
	if strings.Contains(endpoint, "://") || strings.ContainsAny(endpoint, "/?#@ ") {
		return "", fmt.Errorf("resourcemanager: endpoint %q must be host[:port] without scheme or path", endpoint)
	}
	host := endpoint
	if h, port, err := net.SplitHostPort(endpoint); err == nil {
		if n, perr := strconv.Atoi(port); perr != nil || n < 1 || n > 65535 {
			return "", fmt.Errorf("resourcemanager: endpoint %q has an invalid port", endpoint)
		}
		host = h
	}
	if host == "" {
		return "", fmt.Errorf("resourcemanager: endpoint %q has no host", endpoint)
	}
	return host, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
