package resourcemanager_test

import (
	"context"
	"fmt"

	"github.com/sase-multiaccount/backend/shared/adapter/cloudcreds"
	"github.com/sase-multiaccount/backend/shared/adapter/resourcemanager"
	"github.com/sase-multiaccount/backend/shared/local/rdwire"
	"github.com/sase-multiaccount/backend/shared/local/simulation"
)

// The local SDK path (`make run` with DIRECTORY=resourcemanager): the same
// simulation, served over the RD wire protocol on a loopback port, driven by
// the production adapter through alibaba-cloud-sdk-go.
func Example_localWireServer() {
	ctx := context.Background()
	sim, err := simulation.Open(simulation.Options{OwnerAccountID: "1000000000000001"})
	if err != nil {
		panic(err)
	}
	srv := rdwire.NewServer(sim, rdwire.TestCredentials)
	endpoint, stop, err := srv.Start("127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer func() { _ = stop(ctx) }()

	rd, err := resourcemanager.New(resourcemanager.Config{
		Endpoint:    endpoint, // e.g. "127.0.0.1:41234"
		Scheme:      "HTTP",   // allowed for loopback endpoints only
		Credentials: cloudcreds.Static(rdwire.TestCredentials),
	})
	if err != nil {
		panic(err)
	}
	d, err := rd.EnableDirectory(ctx)
	if err != nil {
		panic(err)
	}
	accounts, err := rd.ListAccounts(ctx)
	if err != nil {
		panic(err)
	}
	fmt.Println(d.ManagementAccountID, len(accounts), srv.CallCounts())
	// Output: 1000000000000001 1 map[EnableResourceDirectory:1 ListAccounts:1]
}
