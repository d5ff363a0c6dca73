// Command ots-sdk-suite runs the Tablestore Go SDK's own integration suite
// (the SDK's own api_test.go, of the version in go.mod) against otsfake and
// fails when fewer than -min of its in-scope tests pass.
//
// The suite reads its endpoint and keys from the SDK's testConfig package,
// so the command copies the SDK module from the module cache into a
// temporary directory, points testConfig at a fake started here, drops the
// search-index set-up (search is not served), and runs `go test` there with
// the SDK's own go.mod and go.sum (test-only modules come from the module
// cache or the Go module proxy).
//
//	go run ./scripts/ots-sdk-suite [-min N] [-v] [-keep]
//
// -min defaults to the in-scope tests less the expected failures (scope.go).
// A run takes about 40 s to 1.5 min with a warm build cache, a minute more
// the first time (the SDK package and its test modules compile).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "ots-sdk-suite:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("ots-sdk-suite", flag.ContinueOnError)
	minPass := fs.Int("min", len(inScope)-len(expectedFailures), "fail when fewer in-scope tests pass")
	verbose := fs.Bool("v", false, "print the suite's own output")
	keep := fs.Bool("keep", false, "keep the temporary module (its path is printed)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	start := time.Now()
	dir, err := prepareModule(ctx)
	if err != nil {
		return err
	}
	if *keep {
		fmt.Fprintln(out, "module copy:", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	res, log, err := runSuite(ctx, dir)
	if *verbose || err != nil {
		_, _ = out.Write(log)
	}
	if err != nil {
		return err
	}
	passed := report(out, res)
	fmt.Fprintf(out, "(%s)\n", time.Since(start).Round(time.Second))
	if passed < *minPass {
		if !*verbose {
			fmt.Fprintf(out, "\nThe suite's output:\n%s", log)
		}
		return fmt.Errorf("%d in-scope tests passed, want at least %d", passed, *minPass)
	}
	return nil
}

// report prints one line per in-scope test and the closing count; it
// returns how many passed.
func report(out io.Writer, res map[string]string) int {
	passed, failed := 0, 0
	for _, name := range inScope {
		status := res[name]
		if status == "" {
			status = "NOT RUN"
		}
		note := ""
		if why, ok := expectedFailures[name]; ok {
			note = " (expected: " + why + ")"
		}
		fmt.Fprintf(out, "%-8s %s%s\n", status, name, note)
		if status == "PASS" {
			passed++
		} else {
			failed++
		}
	}
	fmt.Fprintf(out, "%d passed, %d failed\n", passed, failed)
	return passed
}

// suiteFilter is gocheck's -check.f expression selecting the in-scope tests.
func suiteFilter() string {
	return "^TableStoreSuite\\.(" + strings.Join(inScope, "|") + ")$"
}
