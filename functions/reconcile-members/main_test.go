package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/fc"
	"github.com/aliyun/fc-runtime-go-sdk/fccontext"

	"github.com/sase-multiaccount/backend/shared/app"
	"github.com/sase-multiaccount/backend/shared/config"
	"github.com/sase-multiaccount/backend/shared/endpoints"
	"github.com/sase-multiaccount/backend/shared/local/embedded"
	"github.com/sase-multiaccount/backend/shared/local/simulation"
	"github.com/sase-multiaccount/backend/shared/port/directory"
	"github.com/sase-multiaccount/backend/shared/port/store"
)

const owner = "1000000000000001"

// The timer sample through the FC runtime's JSON path: the answer is
// exactly {"Checked":n,"Removed":n,"Renamed":n}.
func TestTimerInvocationThroughTheFCPath(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	cfg, err := config.Load(func(k string) string { return map[string]string{"DATA_DIR": data, "LOG_LEVEL": "error"}[k] })
	if err != nil {
		t.Fatal(err)
	}
	st, err := embedded.Open(filepath.Join(data, "store.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	sim, err := simulation.Open(simulation.Options{OwnerAccountID: owner})
	if err != nil {
		t.Fatal(err)
	}
	d, err := sim.EnableDirectory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{"1000000000000003", "1000000000000004", "1000000000000005"}
	var accounts []directory.Account
	var ms []store.Member
	added := time.Now().UTC().Add(-time.Hour)
	for _, id := range ids {
		accounts = append(accounts, directory.Account{AccountID: id, DisplayName: "name-" + id[15:]})
		ms = append(ms, store.Member{DirectoryID: d.ID, AccountID: id, AccountName: "name-" + id[15:], AddTime: added, Version: 1, UpdateTime: added, NameTime: added})
	}
	if err := sim.SeedAccounts(ctx, accounts); err != nil {
		t.Fatal(err)
	}
	if _, err := st.AddMembers(ctx, d.ID, ms, nil); err != nil {
		t.Fatal(err)
	}
	if err := sim.RemoveAccount(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := sim.RenameAccount(ctx, ids[1], "renamed"); err != nil {
		t.Fatal(err)
	}
	a, err := app.New(ctx, cfg, app.Options{Store: st, Directory: sim, Verifier: app.NoTokens{}, LogOutput: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })

	payload, err := os.ReadFile(filepath.Join("testdata", "timer.json"))
	if err != nil {
		t.Fatal(err)
	}
	h := fc.NewHandler(a.TimerHandler(endpoints.ReconcileMembers))
	fctx := fccontext.NewContext(ctx, &fccontext.FcContext{RequestID: "fc-timer-1", AccountId: owner, Region: "cn-hangzhou"})
	for i, want := range []string{`{"Checked":3,"Removed":1,"Renamed":1}`, `{"Checked":2,"Removed":0,"Renamed":0}`} {
		out, err := h.Invoke(fctx, payload)
		if err != nil || string(out) != want {
			t.Fatalf("run %d: %s, %v; want %s", i+1, out, err, want)
		}
	}
	trail, _, err := st.ListAudit(ctx, d.ID, 10, "")
	if err != nil || len(trail) != 2 || trail[0].RequestID != "fc-timer-1" || trail[0].ActorRole != "System" || trail[0].Action != "reconcile-members" {
		t.Fatalf("audit %+v, %v", trail, err)
	}
	// Any payload starts a run (a manual `s invoke` without an event file).
	if out, err := h.Invoke(fctx, []byte(`not a timer event`)); err != nil || string(out) != `{"Checked":2,"Removed":0,"Renamed":0}` {
		t.Fatalf("garbage payload: %s, %v", out, err)
	}
}
