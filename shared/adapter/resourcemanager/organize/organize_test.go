package organize_test

import (
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/sase-multiaccount/backend/shared/adapter/cloudcreds"
	"github.com/sase-multiaccount/backend/shared/adapter/resourcemanager"
	"github.com/sase-multiaccount/backend/shared/adapter/resourcemanager/organize"
	"github.com/sase-multiaccount/backend/shared/local/rdwire"
	"github.com/sase-multiaccount/backend/shared/local/rdwire/rdmeta"
	"github.com/sase-multiaccount/backend/shared/local/simulation"
	"github.com/sase-multiaccount/backend/shared/testkit/directorytest"
)

// TestContractOverWire runs the directory contract suite with both the
// SDK adapter and this Organizer talking through alibaba-cloud-sdk-go to
// the RD wire server: the folder writes go over the wire too. Every
// exchange is checked against Alibaba Cloud's documentation of the action
// (rdmeta), and together they cover every action the server implements.
func TestContractOverWire(t *testing.T) {
	meta, err := rdmeta.Load()
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seen := map[string]int{}
	t.Cleanup(func() {
		for _, a := range rdwire.Actions() {
			if seen[a] == 0 {
				t.Errorf("the suite never called %s over the wire: the documentation check did not cover it", a)
			}
		}
	})
	directorytest.Run(t, func(t *testing.T, opts simulation.Options) directorytest.Fixture {
		sim, err := simulation.Open(opts)
		if err != nil {
			t.Fatalf("simulation.Open: %v", err)
		}
		srv := rdwire.NewServer(sim, rdwire.TestCredentials)
		srv.AllowServicePrincipals(opts.ServicePrincipal)
		watch := rdmeta.NewWatch(meta, srv)
		hs := httptest.NewServer(watch)
		t.Cleanup(hs.Close)
		c, err := resourcemanager.New(resourcemanager.Config{
			Endpoint: strings.TrimPrefix(hs.URL, "http://"), Scheme: "HTTP",
			ServicePrincipal: opts.ServicePrincipal, Credentials: cloudcreds.Static(rdwire.TestCredentials),
		})
		if err != nil {
			t.Fatalf("resourcemanager.New: %v", err)
		}
		t.Cleanup(func() {
			for _, v := range watch.Violations() {
				t.Errorf("undocumented: %s", v)
			}
			mu.Lock()
			for a, n := range watch.Seen() {
				seen[a] += n
			}
			mu.Unlock()
			for _, r := range srv.Requests() {
				if r.Status == 0 || r.Status >= 500 || r.Code == "SignatureDoesNotMatch" || r.Code == "InvalidAction.NotFound" {
					t.Errorf("wire request %s answered %d %s", r.Action, r.Status, r.Code)
				}
			}
		})
		return directorytest.Fixture{Service: c, Organizer: organize.New(c), OwnerAccountID: opts.OwnerAccountID, Sim: sim}
	})
}
