package resourcemanager

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sase-multiaccount/backend/shared/adapter/cloudcreds"
	"github.com/sase-multiaccount/backend/shared/local/rdwire"
	"github.com/sase-multiaccount/backend/shared/local/simulation"
	"github.com/sase-multiaccount/backend/shared/testkit/directorytest"
)

// wire is an adapter talking through the real SDK to an RD wire server
// in front of a fresh simulation.
type wire struct {
	sim    *simulation.Sim
	srv    *rdwire.Server
	client *Client
	creds  *cloudcreds.Source
	clock  *directorytest.Clock
}

// testConfig is the adapter configuration the tests start from: tiny
// backoffs so retries cost microseconds, not seconds.
func testConfig(endpoint string, creds *cloudcreds.Source, principal string) Config {
	return Config{
		Endpoint:         endpoint,
		Scheme:           "HTTP",
		ServicePrincipal: principal,
		Credentials:      creds,
		BackoffBase:      time.Millisecond,
		MaxBackoff:       2 * time.Millisecond,
		ConnectTimeout:   2 * time.Second,
		ReadTimeout:      10 * time.Second,
	}
}

// newWire builds sim + wire server + adapter. mod, when given, adjusts the
// adapter configuration.
func newWire(t *testing.T, opts simulation.Options, mod func(*Config)) *wire {
	t.Helper()
	sim, err := simulation.Open(opts)
	if err != nil {
		t.Fatalf("simulation.Open: %v", err)
	}
	srv := rdwire.NewServer(sim, rdwire.TestCredentials)
	srv.AllowServicePrincipals(opts.ServicePrincipal)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	creds := cloudcreds.Static(rdwire.TestCredentials)
	cfg := testConfig(strings.TrimPrefix(hs.URL, "http://"), creds, opts.ServicePrincipal)
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return &wire{sim: sim, srv: srv, client: c, creds: creds}
}

// newEnabled is newWire with a fake clock and an enabled directory, and
// the server's counters reset.
func newEnabled(t *testing.T, mod func(*Config)) *wire {
	t.Helper()
	clock := &directorytest.Clock{}
	clock.Advance(directorytest.Start.Sub(clock.Now()))
	w := newWire(t, simulation.Options{OwnerAccountID: directorytest.OwnerAccountID, Now: clock.Now}, mod)
	w.clock = clock
	if _, err := w.client.EnableDirectory(t.Context()); err != nil {
		t.Fatalf("EnableDirectory: %v", err)
	}
	w.srv.ResetCalls()
	return w
}
