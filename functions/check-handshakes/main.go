// Command check-handshakes is the FC3 timer-triggered function (about every
// minute) that notices invited accounts joining the directory: their
// AcceptHandshake event lands in the invitee's account, never on the
// management account's bus (API.md, "Event and timer functions").
package main

import (
	"github.com/sase-multiaccount/backend/shared/app"
	"github.com/sase-multiaccount/backend/shared/endpoints"
)

func main() { app.RunTimer(endpoints.CheckHandshakes) }
