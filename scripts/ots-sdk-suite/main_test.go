package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestPrepareModule copies the SDK module and checks the copy: testConfig
// reads the environment, the search-index set-up is gone (the SQL tables'
// set-up stays), and the suite's tests are exactly inScope plus outOfScope.
func TestPrepareModule(t *testing.T) {
	dir, err := prepareModule(t.Context())
	if dir != "" {
		t.Cleanup(func() { os.RemoveAll(dir) })
	}
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := os.ReadFile(filepath.Join(dir, "testConfig", "config.go"))
	if err != nil || string(cfg) != configGo {
		t.Fatalf("testConfig/config.go: %v\n%s", err, cfg)
	}
	api, err := os.ReadFile(filepath.Join(dir, "tablestore", "api_test.go"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(api, []byte("PrepareSQLSearchIndex(c,")) || !bytes.Contains(api, []byte("PrepareSQLTable(sqlTableNameWithSearch)")) {
		t.Error("SetUpSuite should keep the SQL tables and lose only the search index")
	}
	var suite []string
	for _, m := range regexp.MustCompile(`(?m)^func \(s \*TableStoreSuite\) (Test\w+)\(`).FindAllSubmatch(api, -1) {
		suite = append(suite, string(m[1]))
	}
	var listed []string
	listed = append(listed, inScope...)
	for name := range outOfScope {
		listed = append(listed, name)
	}
	slices.Sort(suite)
	slices.Sort(listed)
	if !slices.Equal(suite, listed) {
		t.Errorf("suite tests %v\nlisted      %v", suite, listed)
	}
	for name := range expectedFailures {
		if !slices.Contains(inScope, name) {
			t.Errorf("expected failure %s is not in scope", name)
		}
	}
}

// TestParseAndReport reads gocheck's verbose lines and counts the
// in-scope tests: a test without a line did not run and counts as failed.
func TestParseAndReport(t *testing.T) {
	out := []byte("2026/01/01 log line\n" +
		"PASS: api_test.go:289: TableStoreSuite.TestCreateTable\t0.012s\n" +
		"----\nFAIL: api_test.go:500: TableStoreSuite.TestUpdateAndDescribeTable\n\napi_test.go:516:\n" +
		"PANIC: api_test.go:606: TableStoreSuite.TestPutGetRow\n" +
		"PASS: api_test.go:1: TableStoreSuite.TestListTable\t0.001s\n")
	res := parseResults(out)
	want := map[string]string{"TestCreateTable": "PASS", "TestUpdateAndDescribeTable": "FAIL", "TestPutGetRow": "PANIC", "TestListTable": "PASS"}
	if len(res) != len(want) {
		t.Fatalf("parsed %v, want %v", res, want)
	}
	for k, v := range want {
		if res[k] != v {
			t.Errorf("%s: %q, want %q", k, res[k], v)
		}
	}
	var b strings.Builder
	if passed := report(&b, res); passed != 2 {
		t.Errorf("report counted %d passed, want 2", passed)
	}
	wantLast := fmt.Sprintf("2 passed, %d failed", len(inScope)-2)
	if lines := strings.Split(strings.TrimSpace(b.String()), "\n"); lines[len(lines)-1] != wantLast || len(lines) != len(inScope)+1 {
		t.Errorf("report:\n%s\nwant %d lines ending %q", b.String(), len(inScope)+1, wantLast)
	}
	if !strings.Contains(b.String(), "NOT RUN  TestBatchWriteRow\n") {
		t.Errorf("a test with no result line should be NOT RUN:\n%s", b.String())
	}
}
