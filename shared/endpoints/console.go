package endpoints

import (
	"net/http"

	"github.com/sase-multiaccount/backend/shared/action"
)

// Page declares the console function (DESIGN.md §9): an HTTP function that
// serves the console's page, its runtime configuration and the server side
// of its sign-in. It is not an API endpoint: the page is public, so there is
// no token or role check; the functions it calls check both.
type Page struct {
	Action action.Action
	// Methods are the trigger's methods: GET for the page and its
	// configuration, POST for the OAuth code exchange (which needs the
	// client secret the browser must never see). The console is served from
	// its own origin, so it needs no CORS preflight.
	Methods []string
}

// Name is the function's name.
func (p Page) Name() string { return string(p.Action) }

// Console declares the console function.
var Console = Page{Action: action.Console, Methods: []string{http.MethodGet, http.MethodPost}}
