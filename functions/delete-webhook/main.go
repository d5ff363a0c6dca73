// Command delete-webhook is the FC3 HTTP function of the same name (docs/API.md).
package main

import (
	"github.com/sase-multiaccount/backend/shared/app"
	"github.com/sase-multiaccount/backend/shared/endpoints"
)

func main() { app.RunHTTP(endpoints.DeleteWebhook) }
