package server_test

import (
	"strings"
	"testing"
)

// TestFirstRunOnUnverifiedAccount is the first-run walk on a simulation
// configured as an account without enterprise real-name verification
// (SIM_OWNER_CONDITIONS): enable-directory answers a clear 409 that says
// what to do, on the simulation itself and through the production RD
// adapter over the RD wire server; a per-target invitation refusal
// (SIM_TARGET_CONDITIONS) shows in invite-accounts' results.
func TestFirstRunOnUnverifiedAccount(t *testing.T) {
	for _, dirAdapter := range []string{"simulated", "resourcemanager"} {
		t.Run(dirAdapter, func(t *testing.T) {
			base, stop := start(t, t.TempDir(), map[string]string{
				"DIRECTORY":            dirAdapter,
				"SIM_OWNER_CONDITIONS": "EnterpriseRealNameVerificationError",
			})
			defer stop()
			ma := (&client{t: t, base: base}).as(owner)
			got := ma.call("POST", "/enable-directory", map[string]any{}, 409)
			if got["Code"] != "Conflict.EnterpriseVerificationRequired" ||
				!strings.Contains(got["Message"].(string), "Complete enterprise real-name verification") {
				t.Fatalf("enable-directory: %v", got)
			}
			setup := ma.call("GET", "/describe-setup", nil, 200)
			if setup["ResourceDirectory"] != nil {
				t.Fatalf("a refused enable left a directory: %v", setup)
			}
		})
	}
	t.Run("invitation refused per target", func(t *testing.T) {
		base, stop := start(t, t.TempDir(), map[string]string{
			"DIRECTORY":             "resourcemanager",
			"SIM_TARGET_CONDITIONS": "2000000000000009=LegalEntityMismatch",
		})
		defer stop()
		ma := (&client{t: t, base: base}).as(owner)
		ma.call("POST", "/enable-directory", map[string]any{}, 200)
		got := ma.call("POST", "/invite-accounts", map[string]any{"Targets": []map[string]string{
			{"AccountId": "2000000000000009"}, {"AccountId": member1},
		}}, 200)
		rs := got["Results"].([]any)
		r0, r1 := rs[0].(map[string]any), rs[1].(map[string]any)
		if r0["Status"] != "Failed" || r0["Code"] != "LegalEntityMismatch" || r1["Status"] != "Invited" {
			t.Fatalf("invite-accounts: %v", got)
		}
	})
}
