package app

import (
	"context"
	"fmt"
	"os"

	"github.com/aliyun/fc-runtime-go-sdk/fc"

	"github.com/sase-multiaccount/backend/shared/action"
	"github.com/sase-multiaccount/backend/shared/config"
	"github.com/sase-multiaccount/backend/shared/endpoints"
	"github.com/sase-multiaccount/backend/shared/httpapi"
)

// RunHTTP is the whole of an HTTP function's main: configuration from the
// environment, adapters, then the FC runtime loop. A configuration error
// stops the instance with a message that names the variable.
func RunHTTP(fn endpoints.HTTP) {
	a, err := fromEnv(Options{})
	if err != nil {
		exit(fn.Name(), err)
	}
	fc.Start(a.HTTPHandler(fn))
}

// RunEvent is the whole of directory-events' main. Event and timer functions
// serve no HTTP request, so their App gets no token verifier: a JWKS endpoint
// that is down must not stop directory events from being processed.
func RunEvent(fn endpoints.Event) {
	a, err := fromEnv(Options{Verifier: NoTokens{}})
	if err != nil {
		exit(string(fn.Action), err)
	}
	fc.Start(a.EventHandler())
}

// RunTimer is the whole of a timer function's main (reconcile-members,
// check-handshakes); like RunEvent, it starts without a token verifier.
func RunTimer(fn endpoints.Scheduled) {
	a, err := fromEnv(Options{Verifier: NoTokens{}})
	if err != nil {
		exit(fn.Name(), err)
	}
	if fn.Action == action.DeliverWebhooks {
		fc.Start(a.DeliverHandler()) // a delivery session, not a run over the directory
		return
	}
	fc.Start(a.TimerHandler(fn))
}

func fromEnv(opts Options) (*App, error) {
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		return nil, err
	}
	return New(context.Background(), cfg, opts)
}

func exit(name string, err error) {
	fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
	os.Exit(2)
}

// UseCases are the use cases the HTTP handlers call.
func (a *App) UseCases() endpoints.UseCases {
	return endpoints.UseCases{Members: a.Members, Setup: a.Setup, AuditLog: a.AuditLog, Policy: a.Policy,
		Access: a.Access, Follow: a.Follow}
}

// HTTPHandler returns the FC3 handler of fn.
func (a *App) HTTPHandler(fn endpoints.HTTP) httpapi.Handler {
	return a.HTTP.Handler(fn.Bind(a.UseCases()))
}

// Endpoints lists every HTTP function bound to this App's use cases.
func (a *App) Endpoints() []httpapi.Endpoint {
	out := make([]httpapi.Endpoint, len(endpoints.HTTPFunctions))
	for i, fn := range endpoints.HTTPFunctions {
		out[i] = fn.Bind(a.UseCases())
	}
	return out
}
