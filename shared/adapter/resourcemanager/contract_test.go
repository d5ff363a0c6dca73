package resourcemanager

import (
	"testing"

	"github.com/sase-multiaccount/backend/shared/local/simulation"
	"github.com/sase-multiaccount/backend/shared/testkit/directorytest"
)

// TestContractOverWire runs the directory contract suite against the SDK
// adapter, which talks through alibaba-cloud-sdk-go to the RD wire server in
// front of the very simulation the suite drives.
func TestContractOverWire(t *testing.T) {
	directorytest.Run(t, func(t *testing.T, opts simulation.Options) directorytest.Fixture {
		w := newWire(t, opts, nil)
		t.Cleanup(func() {
			// The suite really went over the wire, and every request was
			// well-formed and correctly signed.
			if w.srv.TotalCalls() == 0 {
				t.Error("the adapter sent no request to the wire server")
			}
			for _, r := range w.srv.Requests() {
				if r.Status == 0 || r.Status >= 500 || r.Code == "SignatureDoesNotMatch" ||
					r.Code == "InvalidAction.NotFound" || r.Code == "InvalidParameter.PageSize" {
					t.Errorf("wire request %s answered %d %s", r.Action, r.Status, r.Code)
				}
			}
		})
		return directorytest.Fixture{Service: w.client, OwnerAccountID: opts.OwnerAccountID, Sim: w.sim}
	})
}
