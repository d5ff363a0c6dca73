// Command console is the FC3 HTTP function that serves the console: the
// Multi-account Management page, its configuration and its sign-in
// (DESIGN.md §9, API.md "Console").
package main

import (
	"github.com/sase-multiaccount/backend/shared/app"
	"github.com/sase-multiaccount/backend/shared/endpoints"
)

func main() { app.RunConsole(endpoints.Console) }
