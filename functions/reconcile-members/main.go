// Command reconcile-members is the FC3 timer-triggered function that
// corrects the member list against the Resource Directory (API.md, "Event
// and timer functions").
package main

import (
	"github.com/sase-multiaccount/backend/shared/app"
	"github.com/sase-multiaccount/backend/shared/endpoints"
)

func main() { app.RunTimer(endpoints.ReconcileMembers) }
