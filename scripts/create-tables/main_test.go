package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/sase-multiaccount/backend/shared/testkit/otsfake"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestCreateTablesIdempotent(t *testing.T) {
	fake := otsfake.New(otsfake.Options{})
	t.Cleanup(fake.Close)
	fake.AddCredentials("AK", "SK", "")
	vars := env(map[string]string{
		"TABLESTORE_ENDPOINT": fake.URL(), "TABLESTORE_INSTANCE": fake.Instance(),
		"ALIBABA_CLOUD_ACCESS_KEY_ID": "AK", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "SK",
	})

	var out, errs bytes.Buffer
	if code := run(t.Context(), nil, vars, &out, &errs); code != 0 {
		t.Fatalf("first run: exit %d, stderr %q", code, errs.String())
	}
	for _, tbl := range []string{"sase_members", "sase_counters", "sase_audit", "sase_processed_events", "sase_directory_mirror"} {
		if !strings.Contains(out.String(), "created table "+tbl) {
			t.Errorf("first run did not create %s:\n%s", tbl, out.String())
		}
	}
	fake.ResetCounts()
	out.Reset()
	if code := run(t.Context(), []string{"--events-ttl", "240h"}, vars, &out, &errs); code != 0 {
		t.Fatalf("second run: exit %d, stderr %q", code, errs.String())
	}
	if n := fake.Count("CreateTable"); n != 0 {
		t.Errorf("second run sent %d CreateTable requests", n)
	}
	if !strings.Contains(out.String(), "sase_processed_events: TTL changed from 604800 s to 864000 s") ||
		!strings.Contains(out.String(), "table sase_members is up to date") {
		t.Errorf("second run output:\n%s", out.String())
	}
	out.Reset()
	if code := run(t.Context(), []string{"--events-ttl", "240h"}, vars, &out, &errs); code != 0 || strings.Contains(out.String(), "changed") {
		t.Errorf("third run: exit %d, output:\n%s", code, out.String())
	}

	// Another prefix is another set of tables.
	out.Reset()
	if code := run(t.Context(), []string{"--prefix", "test_"}, vars, &out, &errs); code != 0 || !strings.Contains(out.String(), "created table test_members") {
		t.Errorf("prefix run: exit %d, output:\n%s", code, out.String())
	}
}

func TestCreateTablesUsage(t *testing.T) {
	var out, errs bytes.Buffer
	if code := run(t.Context(), []string{"--help"}, env(nil), &out, &errs); code != 0 || !strings.Contains(out.String(), "usage: create-tables") || !strings.Contains(out.String(), "-events-ttl") {
		t.Errorf("--help: exit %d, stdout %q", code, out.String())
	}
	for _, tc := range []struct {
		args []string
		vars map[string]string
		msg  string
	}{
		{nil, nil, "--endpoint and --instance"},
		{[]string{"--endpoint", "https://x", "--instance", "i"}, nil, "ALIBABA_CLOUD_ACCESS_KEY_ID"},
		{[]string{"extra"}, nil, "unexpected argument"},
		{[]string{"--bogus"}, nil, "flag provided but not defined"},
	} {
		errs.Reset()
		if code := run(t.Context(), tc.args, env(tc.vars), &out, &errs); code != 2 || !strings.Contains(errs.String(), tc.msg) {
			t.Errorf("run(%v): exit %d, stderr %q; want 2 mentioning %q", tc.args, code, errs.String(), tc.msg)
		}
	}
	// An unreachable instance is exit 1 with the cause.
	fake := otsfake.New(otsfake.Options{})
	fake.Close()
	errs.Reset()
	vars := env(map[string]string{"ALIBABA_CLOUD_ACCESS_KEY_ID": "AK", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "SK"})
	if code := run(t.Context(), []string{"--endpoint", fake.URL(), "--instance", "i", "--timeout", "5s"}, vars, &out, &errs); code != 1 || !strings.Contains(errs.String(), "connection refused") {
		t.Errorf("unreachable: exit %d, stderr %q", code, errs.String())
	}
}
