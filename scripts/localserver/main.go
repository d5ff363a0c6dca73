// Command localserver is `make run`: every function of the bundle on one port
// (default 127.0.0.1:9000), with the embedded store and the simulated
// Resource Directory under DATA_DIR (default .local/). See README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/sase-multiaccount/backend/shared/app"
	"github.com/sase-multiaccount/backend/shared/config"
	"github.com/sase-multiaccount/backend/shared/local/server"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "localserver:", err)
		os.Exit(1)
	}
}

func run() error {
	for _, arg := range os.Args[1:] {
		if arg == "-h" || arg == "--help" {
			fmt.Println("usage: localserver   (configured by environment variables; see README.md, Configuration)")
			return nil
		}
	}
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := server.Open(ctx, cfg, app.Options{})
	if err != nil {
		return err
	}
	defer srv.Close()
	a := srv.App()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.Port))
	hs := srv.HTTPServer(addr)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	a.Log.Info().Str("addr", "http://"+addr).Str("owner_account", cfg.OwnerAccountID).Str("data_dir", cfg.DataDir).
		Msgf("console at http://%s/ (sign in there); serving every function at /<function-name>; get a token with POST /_local/token", addr)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	go srv.RunHandshakeChecks(ctx)
	delivering := make(chan struct{})
	go func() {
		defer close(delivering)
		srv.App().RunDeliveries(ctx) // webhooks: the loop deliver-webhooks' timer runs in the cloud
	}()
	defer func() { stop(); <-delivering }() // the loop ends before the store closes
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
