// Command deliver-webhooks is the FC3 timer-triggered function (every
// minute) that delivers the membership change feed to the webhooks, each
// invocation polling for WEBHOOK_SESSION (docs/API.md "Following
// membership").
package main

import (
	"github.com/sase-multiaccount/backend/shared/app"
	"github.com/sase-multiaccount/backend/shared/endpoints"
)

func main() { app.RunTimer(endpoints.DeliverWebhooks) }
