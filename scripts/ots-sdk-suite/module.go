package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/sase-multiaccount/backend/shared/testkit/otsfake"
)

const sdkModule = "github.com/aliyun/aliyun-tablestore-go-sdk"

// The SDK module's parts the tablestore package's tests need.
var copied = []string{"go.mod", "go.sum", "common", "tablestore", "testConfig"}

// configGo replaces the SDK's testConfig (an address inside Alibaba and
// empty keys) with values from the environment, set by runSuite.
const configGo = `package testConfig

import "os"

var (
	OtsEndpoint  = os.Getenv("OTSFAKE_ENDPOINT")
	InstanceName = os.Getenv("OTSFAKE_INSTANCE")
	OtsAccessId  = os.Getenv("OTSFAKE_ACCESS_KEY_ID")
	OtsAccessKey = os.Getenv("OTSFAKE_ACCESS_KEY_SECRET")
)
`

// searchSetUp is the part of the suite's SetUpSuite that creates a search
// index and waits for it to sync; the fake serves no search, and an error
// there fails every test of the suite.
const searchSetUp = "\tPrepareSQLSearchIndex(c, sqlTableNameWithSearch, sqlSearchName)\n" +
	"\tWaitDataSyncByMatchAllQuery(c, client, 4, sqlTableNameWithSearch, sqlSearchName, 40)\n"

// prepareModule copies the SDK module (the version go.mod requires) into a
// new temporary directory and rewrites its test configuration.
func prepareModule(ctx context.Context) (string, error) {
	src, err := sdkDir(ctx)
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "ots-sdk-suite-")
	if err != nil {
		return "", err
	}
	for _, name := range copied {
		if err := copyPath(filepath.Join(src, name), filepath.Join(dir, name)); err != nil {
			return dir, err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "testConfig", "config.go"), []byte(configGo), 0o644); err != nil {
		return dir, err
	}
	apiTest := filepath.Join(dir, "tablestore", "api_test.go")
	b, err := os.ReadFile(apiTest)
	if err != nil {
		return dir, err
	}
	if n := bytes.Count(b, []byte(searchSetUp)); n != 1 {
		return dir, fmt.Errorf("%s: the search-index set-up to drop appears %d times, want 1 (another SDK version?)", apiTest, n)
	}
	b = bytes.Replace(b, []byte(searchSetUp), nil, 1)
	return dir, os.WriteFile(apiTest, b, 0o644)
}

// sdkDir is the SDK module's directory in the module cache, downloaded
// through the module proxy if it is not there yet.
func sdkDir(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "mod", "download", "-json", sdkModule).Output()
	if err != nil {
		return "", fmt.Errorf("go mod download %s: %w", sdkModule, err)
	}
	var m struct{ Dir, Error string }
	if err := json.Unmarshal(out, &m); err != nil {
		return "", fmt.Errorf("go mod download %s: %w", sdkModule, err)
	}
	if m.Dir == "" {
		return "", fmt.Errorf("go mod download %s: %s", sdkModule, m.Error)
	}
	return m.Dir, nil
}

// copyPath copies a file or a directory tree; the copies are writable
// (the module cache is not).
func copyPath(src, dst string) error {
	fi, err := os.Stat(src)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return os.CopyFS(dst, os.DirFS(src))
	}
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o644)
}

// Credentials the fake accepts; the suite's invalidClient uses another
// secret with the same key ID and must be refused.
const (
	accessKeyID = "sdk-suite"
	secret      = "sdk-suite-secret"
)

// runSuite starts a fake, runs the in-scope tests against it and returns
// each test's gocheck status (PASS, FAIL, PANIC, MISS, ...) and the output.
func runSuite(ctx context.Context, dir string) (map[string]string, []byte, error) {
	fake := otsfake.New(otsfake.Options{Instance: "gosdk-gate"})
	defer fake.Close()
	fake.AddCredentials(accessKeyID, secret, "")

	cmd := exec.CommandContext(ctx, "go", "test", "-count=1", "-run", "^TestApi$", "./tablestore",
		"-check.v", "-check.f", suiteFilter())
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"OTSFAKE_ENDPOINT="+fake.URL(), "OTSFAKE_INSTANCE="+fake.Instance(),
		"OTSFAKE_ACCESS_KEY_ID="+accessKeyID, "OTSFAKE_ACCESS_KEY_SECRET="+secret,
		"GOFLAGS=-mod=mod", "GOWORK=off")
	out, err := cmd.CombinedOutput()
	res := parseResults(out)
	if len(res) == 0 {
		return nil, out, fmt.Errorf("go test in %s reported no suite result (%v)", dir, err)
	}
	return res, out, nil
}

// resultLine is gocheck's verbose line for one test, e.g.
// "PASS: api_test.go:289: TableStoreSuite.TestCreateTable	0.012s".
var resultLine = regexp.MustCompile(`(?m)^([A-Z-]+): \S+: TableStoreSuite\.(\w+)`)

func parseResults(out []byte) map[string]string {
	res := map[string]string{}
	for _, m := range resultLine.FindAllSubmatch(out, -1) {
		status, name := string(m[1]), string(m[2])
		if prev, ok := res[name]; ok && prev != "PASS" {
			continue // a failure line wins over a later line for the same test
		}
		res[name] = strings.TrimSuffix(status, ":")
	}
	return res
}
