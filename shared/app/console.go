package app

import (
	"os"

	"github.com/aliyun/fc-runtime-go-sdk/fc"

	"github.com/sase-multiaccount/backend/shared/console"
	"github.com/sase-multiaccount/backend/shared/endpoints"
)

// RunConsole is the whole of the console function's main: its own
// configuration (console.Vars: the OAuth client, where the functions are),
// then the FC runtime loop. It opens no store and no directory: the page
// only talks to the other functions, from the browser.
func RunConsole(p endpoints.Page) {
	cfg, err := console.Load(os.Getenv)
	if err != nil {
		exit(p.Name(), err)
	}
	h, err := console.New(cfg, console.Options{})
	if err != nil {
		exit(p.Name(), err)
	}
	fc.Start(console.FCHandler(h))
}
