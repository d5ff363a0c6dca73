// Command directory-events is the FC3 EventBridge-triggered function that
// follows Resource Directory changes (API.md, "Event and timer functions").
package main

import (
	"github.com/sase-multiaccount/backend/shared/app"
	"github.com/sase-multiaccount/backend/shared/endpoints"
)

func main() { app.RunEvent(endpoints.DirectoryEvents) }
