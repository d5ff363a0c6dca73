package organize_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sase-multiaccount/backend/shared/adapter/cloudcreds"
	"github.com/sase-multiaccount/backend/shared/adapter/resourcemanager"
	"github.com/sase-multiaccount/backend/shared/adapter/resourcemanager/organize"
	"github.com/sase-multiaccount/backend/shared/local/rdwire"
	"github.com/sase-multiaccount/backend/shared/local/simulation"
	"github.com/sase-multiaccount/backend/shared/testkit/directorytest"
)

// TestContractOverWire runs the directory contract suite with both the
// SDK adapter and this Organizer talking through alibaba-cloud-sdk-go to
// the RD wire server: the folder writes go over the wire too.
func TestContractOverWire(t *testing.T) {
	directorytest.Run(t, func(t *testing.T, opts simulation.Options) directorytest.Fixture {
		sim, err := simulation.Open(opts)
		if err != nil {
			t.Fatalf("simulation.Open: %v", err)
		}
		srv := rdwire.NewServer(sim, rdwire.TestCredentials)
		srv.AllowServicePrincipals(opts.ServicePrincipal)
		hs := httptest.NewServer(srv)
		t.Cleanup(hs.Close)
		c, err := resourcemanager.New(resourcemanager.Config{
			Endpoint: strings.TrimPrefix(hs.URL, "http://"), Scheme: "HTTP",
			ServicePrincipal: opts.ServicePrincipal, Credentials: cloudcreds.Static(rdwire.TestCredentials),
		})
		if err != nil {
			t.Fatalf("resourcemanager.New: %v", err)
		}
		t.Cleanup(func() {
			for _, r := range srv.Requests() {
				if r.Status == 0 || r.Status >= 500 || r.Code == "SignatureDoesNotMatch" || r.Code == "InvalidAction.NotFound" {
					t.Errorf("wire request %s answered %d %s", r.Action, r.Status, r.Code)
				}
			}
		})
		return directorytest.Fixture{Service: c, Organizer: organize.New(c), OwnerAccountID: opts.OwnerAccountID, Sim: sim}
	})
}
