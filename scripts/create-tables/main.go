// Command create-tables creates the Tablestore tables of the bundle
// (docs/DESIGN.md §4), or checks that existing ones match. It is
// idempotent: run it before the first deploy and after every upgrade; a
// complete schema is only read. It uses the same schema code
// (adapter/tablestore.EnsureTables) as the functions, and tables are never
// created by a request.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/sase-multiaccount/backend/shared/adapter/cloudcreds"
	"github.com/sase-multiaccount/backend/shared/adapter/tablestore"
)

const usage = `usage: create-tables [flags]

Creates (or checks) the Tablestore tables of SASE multi-account management:

  <prefix>members             PK (directory_id, account_id)
    <prefix>members_by_time   local secondary index (directory_id, add_time, account_id)
  <prefix>counters            PK (directory_id): member counts
  <prefix>audit               PK (directory_id, event_id)
  <prefix>audit_by_target     PK (directory_id, target_event): timelines
  <prefix>processed_events    PK (event_key), TTL --events-ttl
  <prefix>directory_mirror    PK (directory_id, item): the directory mirror

Idempotent: existing tables are checked, and the events TTL is updated if it
differs. A table whose key or index differs is reported, not changed.

Credentials come from ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET
and (for STS credentials) ALIBABA_CLOUD_SECURITY_TOKEN.

Flags:
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the command; it returns the exit code (0 done, 1 failed, 2 usage).
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("create-tables", flag.ContinueOnError)
	fs.SetOutput(stderr)
	env := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	endpoint := fs.String("endpoint", env("TABLESTORE_ENDPOINT", ""), "Tablestore endpoint, e.g. https://<instance>.<region>.ots.aliyuncs.com (default $TABLESTORE_ENDPOINT)")
	instance := fs.String("instance", env("TABLESTORE_INSTANCE", ""), "instance name (default $TABLESTORE_INSTANCE)")
	prefix := fs.String("prefix", env("TABLESTORE_TABLE_PREFIX", tablestore.DefaultTablePrefix), "table name prefix ($TABLESTORE_TABLE_PREFIX)")
	ttl := fs.Duration("events-ttl", tablestore.DefaultEventsTTL, "TTL of the processed-events table (at least 24h)")
	timeout := fs.Duration("timeout", 2*time.Minute, "give up after this long")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fs.Usage()
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "create-tables: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if *endpoint == "" || *instance == "" {
		fmt.Fprintln(stderr, "create-tables: --endpoint and --instance (or TABLESTORE_ENDPOINT and TABLESTORE_INSTANCE) are required")
		return 2
	}
	creds := cloudcreds.Static(cloudcreds.Credentials{
		AccessKeyID:     getenv("ALIBABA_CLOUD_ACCESS_KEY_ID"),
		AccessKeySecret: getenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
		SecurityToken:   getenv("ALIBABA_CLOUD_SECURITY_TOKEN"),
	})
	if c, _ := creds.Current(); !c.Valid() {
		fmt.Fprintln(stderr, "create-tables: ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET are required")
		return 2
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	cfg := tablestore.Config{
		Endpoint:    *endpoint,
		Instance:    *instance,
		TablePrefix: *prefix,
		Credentials: creds,
		EventsTTL:   *ttl,
		Logf:        func(format string, a ...any) { fmt.Fprintf(stdout, format+"\n", a...) },
	}
	if err := tablestore.EnsureTables(ctx, cfg); err != nil {
		fmt.Fprintln(stderr, "create-tables:", err)
		return 1
	}
	fmt.Fprintf(stdout, "instance %s: all tables ready\n", *instance)
	return 0
}
