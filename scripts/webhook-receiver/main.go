// Command webhook-receiver is a webhook receiver for trying webhooks on
// make run: it listens on a loopback address, verifies each request's
// Standard Webhooks signature with the secret put-webhook showed, prints
// one line per request and answers 204 (401 when the signature is wrong).
//
//	go run ./scripts/webhook-receiver -addr 127.0.0.1:9001 -secret whsec_… [-n 1] [-timeout 60s]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9001", "address to listen on")
	secret := flag.String("secret", os.Getenv("WEBHOOK_SECRET"), "the webhook's secret (whsec_…; or WEBHOOK_SECRET)")
	n := flag.Int("n", 0, "exit after this many verified requests (0: run until stopped)")
	timeout := flag.Duration("timeout", 0, "exit with status 1 when the -n requests have not come by then (0: no limit)")
	flag.Parse()
	if err := run(*addr, *secret, *n, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "webhook-receiver:", err)
		os.Exit(1)
	}
}

func run(addr, secret string, n int, timeout time.Duration) error {
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		return fmt.Errorf("-secret: %w", err)
	}
	ctx := context.Background()
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	verified := make(chan struct{}, 1)
	srv := &http.Server{Addr: addr, ReadHeaderTimeout: 5 * time.Second, Handler: handler(wh, verified)}
	failed := make(chan error, 1)
	go func() { failed <- srv.ListenAndServe() }()
	defer srv.Close()
	for got := 0; n == 0 || got < n; got++ {
		select {
		case <-verified:
		case err := <-failed:
			return err
		case <-ctx.Done():
			return fmt.Errorf("%d of %d requests after %s", got, n, timeout)
		}
	}
	return nil
}

// handler verifies and prints each request; a verified one is sent on
// verified.
func handler(wh *standardwebhooks.Webhook, verified chan<- struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err == nil {
			err = wh.Verify(body, r.Header)
		}
		if err != nil {
			fmt.Printf("refused %s: %v\n", r.Header.Get("webhook-id"), err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var ev struct {
			Type, Subject string
			Data          struct{ Remark, FolderPath string }
		}
		_ = json.Unmarshal(body, &ev)
		fmt.Printf("verified %s %s account %s remark %q\n", r.Header.Get("webhook-id"), ev.Type, ev.Subject, ev.Data.Remark)
		w.WriteHeader(http.StatusNoContent)
		verified <- struct{}{}
	})
}
