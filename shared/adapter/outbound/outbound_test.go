package outbound

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sase-multiaccount/backend/shared/apperr"
)

// refusedAddrs has addresses of every refused range, IPv4, IPv6 and
// IPv4-mapped.
var refusedAddrs = []string{
	"0.0.0.0", "0.1.2.3", // unspecified, "this network"
	"127.0.0.1", "127.255.0.9", "::1", "::ffff:127.0.0.1", // loopback
	"10.1.2.3", "172.16.0.1", "172.31.255.254", "192.168.1.1", "fc00::1", "fd12:3456::1", "::ffff:10.0.0.1", // private
	"169.254.169.254", "fe80::1", "::ffff:169.254.169.254", // link-local
	"100.64.0.1", "100.100.100.200", "100.127.255.254", "::ffff:100.100.100.200", // CGNAT, the metadata service
	"224.0.0.1", "239.255.255.250", "ff02::1", "ff05::2", "::ffff:224.0.0.1", // multicast
	"255.255.255.255", "240.0.0.1", "192.0.0.8", "198.18.0.1", // broadcast, reserved, IETF, benchmarking
	"64:ff9b::6464:64c8", "64:ff9b:1::1", "2002:7f00:1::", "100::1", "::", // NAT64, 6to4, discard, unspecified
}

var publicAddrs = []string{"8.8.8.8", "47.88.1.1", "1.1.1.1", "100.63.255.255", "100.128.0.0", "172.32.0.1", "2400:3200::1", "2001:4860:4860::8888"}

func TestNonPublicNamesEveryRefusedRange(t *testing.T) {
	for _, s := range refusedAddrs {
		if NonPublic(netip.MustParseAddr(s)) == "" {
			t.Errorf("%s is accepted as public", s)
		}
	}
	for _, s := range publicAddrs {
		if why := NonPublic(netip.MustParseAddr(s)); why != "" {
			t.Errorf("%s is refused as %s", s, why)
		}
	}
}

// names is a resolver with a fixed table; each lookup of a name takes the
// next answer of its list (the last one repeats), as DNS rebinding does.
type names struct {
	mu      sync.Mutex
	answers map[string][]string
	calls   map[string]int
}

func (r *names) set(host, addr string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answers[host] = []string{addr}
	r.calls = nil
}

func (r *names) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	list, ok := r.answers[host]
	if !ok {
		return nil, fmt.Errorf("no such host %s", host)
	}
	if r.calls == nil {
		r.calls = map[string]int{}
	}
	n := min(r.calls[host], len(list)-1)
	r.calls[host]++
	var out []netip.Addr
	for _, a := range strings.Split(list[n], ",") {
		out = append(out, netip.MustParseAddr(a))
	}
	return out, nil
}

func invalidURL(t *testing.T, err error) {
	t.Helper()
	e, ok := apperr.As(err)
	if !ok || e.Code != apperr.InvalidParameter("Url") {
		t.Fatalf("want InvalidParameter.Url, got %v", err)
	}
}

func TestCheckURL(t *testing.T) {
	r := &names{answers: map[string][]string{
		"hooks.example.com":    {"93.184.216.34"},
		"internal.example.com": {"10.0.0.7"},
		"mixed.example.com":    {"93.184.216.34,192.168.0.10"},
		"metadata.example.com": {"100.100.100.200"},
		"v6.example.com":       {"2001:db8::1"}, // documentation prefix: public as far as the rule goes
	}}
	c := New(Options{Resolver: r})
	ctx := context.Background()
	for _, ok := range []string{"https://hooks.example.com/sase", "https://hooks.example.com:8443/x?y=1", "https://93.184.216.34/"} {
		if err := c.CheckURL(ctx, ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{
		"http://hooks.example.com/", "ftp://hooks.example.com/", "hooks.example.com/x", "https://", "/relative",
		"https://user:pw@hooks.example.com/", "https://internal.example.com/", "https://mixed.example.com/",
		"https://metadata.example.com/", "https://100.100.100.200/latest/meta-data/", "https://[::1]/", "https://127.0.0.1/",
		"https://nowhere.example.com/", "http://127.0.0.1:8080/", "https://hooks.example.com:99999/",
		"https://hooks.example.com/" + strings.Repeat("a", 2100),
	} {
		err := c.CheckURL(ctx, bad)
		if err == nil {
			t.Errorf("%s is accepted", bad)
			continue
		}
		invalidURL(t, err)
	}
	for _, a := range refusedAddrs {
		host := a
		if strings.Contains(a, ":") {
			host = "[" + a + "]"
		}
		if err := c.CheckURL(ctx, "https://"+host+"/"); err == nil {
			t.Errorf("https://%s/ is accepted", host)
		}
	}
}

func TestCheckURLLocalAllowsOnlyLoopbackHTTP(t *testing.T) {
	c := New(Options{AllowLoopbackHTTP: true, Resolver: &names{answers: map[string][]string{"localhost": {"127.0.0.1"}}}})
	ctx := context.Background()
	if err := c.CheckURL(ctx, "http://127.0.0.1:8080/hook"); err != nil {
		t.Errorf("make run must allow http://127.0.0.1: %v", err)
	}
	for _, bad := range []string{"http://localhost:8080/", "http://10.0.0.1/", "http://[::1]:8080/", "https://127.0.0.2/", "http://100.100.100.200/"} {
		if err := c.CheckURL(ctx, bad); err == nil {
			t.Errorf("%s is accepted locally", bad)
		}
	}
}

// counting is a loopback listener that counts the connections it accepts.
func counting(t *testing.T) (port string, accepted *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted = &atomic.Int32{}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			conn.Close()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	_, port, _ = net.SplitHostPort(ln.Addr().String())
	return port, accepted
}

func wantRefused(t *testing.T, err error) {
	t.Helper()
	var e *Error
	var r *RefusedError
	if !errors.As(err, &e) || e.Outcome() != "AddressRefused" || !errors.As(err, &r) {
		t.Fatalf("want AddressRefused, got %v", err)
	}
}

// A name that resolves to a refused address is refused by the dialer at
// connect time: the listener there never sees a connection. The same holds
// for a name that resolved to a public address when it was checked and to
// loopback now (DNS rebinding), and for every refused range.
func TestDialerRefusesAtConnectTime(t *testing.T) {
	port, accepted := counting(t)
	r := &names{answers: map[string][]string{
		"rebind.example.com":  {"93.184.216.34", "127.0.0.1"},
		"private.example.com": {"127.0.0.1"},
	}}
	c := New(Options{Resolver: r, Timeout: 2 * time.Second})
	ctx := context.Background()
	if err := c.CheckURL(ctx, "https://rebind.example.com:"+port+"/"); err != nil {
		t.Fatalf("the first answer is public: %v", err)
	}
	for _, host := range []string{"rebind.example.com", "private.example.com"} {
		_, err := c.Post(ctx, "https://"+host+":"+port+"/", nil, []byte("{}"))
		wantRefused(t, err)
	}
	for _, a := range refusedAddrs {
		r.set("r.example.com", a)
		_, err := c.Post(ctx, "https://r.example.com:"+port+"/", nil, nil)
		var e *Error
		if !errors.As(err, &e) || e.Kind != "AddressRefused" {
			t.Errorf("%s: want AddressRefused, got %v", a, err)
		}
	}
	if n := accepted.Load(); n != 0 {
		t.Errorf("the loopback listener accepted %d connections", n)
	}
	// The control function is what refuses: called directly, it refuses a
	// private address and accepts a public one.
	if err := c.control("tcp4", "10.0.0.1:443", nil); err == nil {
		t.Error("control accepts 10.0.0.1")
	}
	if err := c.control("tcp4", "93.184.216.34:443", nil); err != nil {
		t.Errorf("control refuses a public address: %v", err)
	}
}

func TestPostLocalDeliversAndBoundsTheAnswer(t *testing.T) {
	var got atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got.Store(r.Header.Get("Webhook-Id") + " " + string(b))
		// An answer with no end: the client reads 64 KiB and stops.
		chunk := []byte(strings.Repeat("x", 32<<10))
		for {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	c := New(Options{AllowLoopbackHTTP: true, Timeout: 20 * time.Second})
	start := time.Now()
	status, err := c.Post(context.Background(), srv.URL+"/hook", http.Header{"Webhook-Id": {"ch-1"}}, []byte(`{"a":1}`))
	if err != nil || status != 200 {
		t.Fatalf("Post = %d, %v", status, err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Post took %s: the answer was not cut at 64 KiB", d)
	}
	if g := got.Load(); g != `ch-1 {"a":1}` {
		t.Errorf("receiver got %q", g)
	}
}

func TestPostTimesOut(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	c := New(Options{AllowLoopbackHTTP: true, Timeout: 200 * time.Millisecond})
	_, err := c.Post(context.Background(), srv.URL, nil, nil)
	var e *Error
	if !errors.As(err, &e) || e.Kind != "Timeout" {
		t.Fatalf("want Timeout, got %v", err)
	}
}

// A redirect is answered as it is: never followed, whether it points at a
// refused address or anywhere else.
func TestRedirectsAreNotFollowed(t *testing.T) {
	var hits atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer target.Close()
	for _, loc := range []string{"http://10.0.0.1/", "http://100.100.100.200/latest/meta-data/", target.URL + "/"} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, loc, http.StatusTemporaryRedirect)
		}))
		c := New(Options{AllowLoopbackHTTP: true, Timeout: 2 * time.Second})
		status, err := c.Post(context.Background(), srv.URL, nil, []byte("{}"))
		srv.Close()
		if err != nil || status != http.StatusTemporaryRedirect {
			t.Errorf("redirect to %s: Post = %d, %v; want the 307 itself", loc, status, err)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the redirect target got %d requests", n)
	}
}

func TestPostRefusesPlainHTTPInTheCloud(t *testing.T) {
	port, accepted := counting(t)
	c := New(Options{})
	for _, u := range []string{"http://127.0.0.1:" + port + "/", "http://hooks.example.com/"} {
		_, err := c.Post(context.Background(), u, nil, nil)
		wantRefused(t, err)
	}
	if accepted.Load() != 0 {
		t.Error("a connection was made")
	}
}
