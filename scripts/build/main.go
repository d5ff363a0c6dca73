// Command build compiles every function for Function Compute (linux/amd64,
// CGO_ENABLED=0, -trimpath, stripped) and packages each as
// dist/<function>.zip with the binary named "main" (the handler) and its
// run bit kept. It prints the binary and zip sizes and fails when a zip is
// over the limit. With -bundle it also writes a deployable .tar.gz (specs,
// deploy guide, zips, manifest).
//
//	go run ./scripts/build [-out dist] [-only a,b] [-max-zip-mb 15] [-bundle dist/sase-multiaccount.tar.gz]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/sase-multiaccount/backend/deploy"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "build:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("build", flag.ContinueOnError)
	out := fs.String("out", deploy.DistDir, "output folder (relative to the module root)")
	only := fs.String("only", "", "comma-separated function names to build (default: every function under functions/)")
	maxMB := fs.Float64("max-zip-mb", 15, "fail when a zip is larger than this many MiB (0: no limit)")
	bundle := fs.String("bundle", "", "also write this .tar.gz bundle (relative to the module root)")
	goos := fs.String("goos", "linux", "target OS (Function Compute: linux)")
	goarch := fs.String("goarch", "amd64", "target architecture (Function Compute: amd64)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: go run ./scripts/build [flags]

Builds every function under functions/ for Function Compute 3.0 (runtime go1)
into dist/<function>/main and dist/<function>.zip (binary "main", mode 0755),
writes dist/manifest.json, and prints the sizes.

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return nil
		}
		return err
	}
	root, err := deploy.Root(".")
	if err != nil {
		return err
	}
	fns, err := deploy.Functions(root)
	if err != nil {
		return err
	}
	if *only != "" {
		want := strings.Split(*only, ",")
		var sel []deploy.Function
		for _, name := range want {
			i := slices.IndexFunc(fns, func(f deploy.Function) bool { return f.Name == strings.TrimSpace(name) })
			if i < 0 {
				return fmt.Errorf("no function %q under functions/", name)
			}
			sel = append(sel, fns[i])
		}
		fns = sel
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	outDir := filepath.Join(root, *out)
	start := time.Now()
	fmt.Fprintf(os.Stderr, "building %d functions for %s/%s into %s ...\n", len(fns), *goos, *goarch, *out)
	arts, err := deploy.Build(ctx, deploy.BuildOptions{Root: root, Out: outDir, Functions: fns, GOOS: *goos, GOARCH: *goarch})
	if err != nil {
		return err
	}
	if err := deploy.WriteManifest(outDir, arts); err != nil {
		return err
	}
	fmt.Printf("built in %s\n", time.Since(start).Round(100*time.Millisecond))
	if err := deploy.Report(os.Stdout, arts, int64(*maxMB*(1<<20))); err != nil {
		return err
	}
	if *bundle != "" {
		dest := filepath.Join(root, *bundle)
		if err := deploy.Bundle(root, arts, dest); err != nil {
			return fmt.Errorf("bundle: %w", err)
		}
		fmt.Printf("bundle: %s\n", *bundle)
	}
	return nil
}
