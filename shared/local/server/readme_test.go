package server_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The README's curl walk-through must stay true: its shell blocks run, as a
// newcomer would paste them, against a fresh local server.
func TestReadmeWalkthroughRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("runs README's walk-through with curl and jq (make test runs it)")
	}
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed to run the README walk-through (.ci/run installs it): %v", tool, err)
		}
	}
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var script strings.Builder
	blocks := 0
	for i, part := range strings.Split(string(readme), "```sh\n") {
		if i == 0 {
			continue
		}
		block, _, _ := strings.Cut(part, "```")
		if strings.Contains(block, "make run") {
			continue // the two-commands block
		}
		script.WriteString(block)
		blocks++
	}
	if blocks < 2 || !strings.Contains(script.String(), "B=http://127.0.0.1:9000") {
		t.Fatalf("README walk-through not found (%d blocks)", blocks)
	}
	base, stop := startDelivering(t, t.TempDir(), nil) // make run's delivery loop too
	defer stop()
	body := strings.Replace(script.String(), "B=http://127.0.0.1:9000", "B="+base, 1)

	cmd := exec.Command("bash", "-c", "set -euo pipefail\n"+body)
	cmd.Dir = root // the event samples are read from functions/*/testdata
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("README walk-through failed: %v\n%s", err, out)
	}
	text := string(out)
	for _, want := range []string{
		`"Role": "Owner"`, // before step 1
		`"ManagementAccountId": "1000000000000001"`,             // step 1
		`"Status": "Invited"`,                                   // step 2
		`"DelegatedAdministrator": {`,                           // step 3
		`"AddedCount": 2`,                                       // step 4
		`"Remark": "staging"`,                                   // remark
		`"DeletedCount": 1`,                                     // delete
		`"Code": "Forbidden.Role"`,                              // a member may not list
		`"ActorRole": "System"`,                                 // the directory event was applied
		`"Checked":`,                                            // reconciliation ran
		`"WouldAddCount": 0`,                                    // the policy's preview
		`"AddedBy":"System"`,                                    // enrolled by its event
		`["directory-events","Enrolled","1"]`,                   // audited with the policy version
		`"Mirrored": 0`,                                         // the handshake check ran
		`"Code": "Forbidden.AccessRole"`,                        // a RAM user without access is refused
		`"AccessRole": "Operator"`,                              // then granted Operator
		`{"AddedCount":1}`,                                      // and adds a member
		`["add-members","alice@owner.onaliyun.com","Operator"]`, // audited as the person
		`"AccountName":"web-prod"`,                              // get-member
		`["MemberAdded",`,                                       // the change feed
		"InvalidParameter.Url",                                  // a private webhook URL
		"MemberRemarkUpdated account",                           // the receiver verified a delivery
	} {
		if !strings.Contains(text, want) {
			t.Errorf("README walk-through output lacks %s\n%s", want, text)
		}
	}
	if strings.Contains(text, `"Code": "InternalError"`) || strings.Contains(text, "parse error") {
		t.Errorf("README walk-through hit an error:\n%s", text)
	}
}
