package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/sase-multiaccount/backend/shared/adapter/cloudcreds"
	"github.com/sase-multiaccount/backend/shared/adapter/tablestore"
	"github.com/sase-multiaccount/backend/shared/app"
	"github.com/sase-multiaccount/backend/shared/config"
	"github.com/sase-multiaccount/backend/shared/local/server"
	"github.com/sase-multiaccount/backend/shared/testkit/otsfake"
)

const (
	owner    = "1000000000000001"
	delegate = "1000000000000002"
	member1  = "1000000000000003"
	member2  = "1000000000000004"
)

// start runs `make run` in-process on dataDir, with the environment of env.
func start(t *testing.T, dataDir string, env map[string]string) (base string, stop func()) {
	t.Helper()
	return startWith(t, dataDir, env, nil)
}

// startWith is start with loop, when not nil, running beside the server
// until stop.
func startWith(t *testing.T, dataDir string, env map[string]string, loop func(context.Context, *server.Server)) (base string, stop func()) {
	t.Helper()
	vars := map[string]string{"DATA_DIR": dataDir, "LOG_LEVEL": "error"}
	maps.Copy(vars, env)
	cfg, err := config.Load(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.Open(context.Background(), cfg, app.Options{LogOutput: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if loop != nil {
			loop(ctx, srv)
		}
	}()
	hs := httptest.NewServer(srv)
	return hs.URL, func() {
		cancel()
		<-done
		hs.Close()
		if err := srv.Close(); err != nil {
			t.Error(err)
		}
	}
}

type client struct {
	t     *testing.T
	base  string
	token string
}

// call sends a request and decodes the JSON answer; it checks the status and
// that X-Request-Id equals the body's RequestId.
func (c *client) call(method, path string, body any, wantStatus int) map[string]any {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		c.t.Fatalf("%s %s: body is not JSON: %s", method, path, raw)
	}
	if resp.StatusCode != wantStatus {
		c.t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, wantStatus, raw)
	}
	if rid := resp.Header.Get("X-Request-Id"); rid == "" || rid != out["RequestId"] {
		c.t.Fatalf("%s %s: X-Request-Id %q != RequestId %v", method, path, rid, out["RequestId"])
	}
	return out
}

func (c *client) as(account string) *client {
	c.t.Helper()
	anon := &client{t: c.t, base: c.base}
	tok := anon.call("POST", "/_local/token", map[string]string{"AccountId": account}, 200)["Token"].(string)
	return &client{t: c.t, base: c.base, token: tok}
}

func TestWalkthroughFourStepsOverHTTP(t *testing.T) {
	dir := t.TempDir()
	base, stop := start(t, dir, nil)
	walk(t, base)

	// Data under DATA_DIR survives a restart.
	stop()
	base, stop = start(t, dir, nil)
	defer stop()
	ma := (&client{t: t, base: base}).as(owner)
	after := ma.call("GET", "/list-members", nil, 200)
	if after["TotalCount"] != 1.0 || after["Members"].([]any)[0].(map[string]any)["Remark"] != "staging" {
		t.Fatalf("after restart: %v", after)
	}
}

// The same walk with both production adapters: Tablestore through the real
// SDK against the wire-level Tablestore fake, and Resource Directory through
// alibaba-cloud-sdk-go against the RD wire server over the simulation.
func TestWalkthroughOnProductionAdaptersOverWireFakes(t *testing.T) {
	base, fake, stop := startOnWireFakes(t)
	defer stop()
	walk(t, base)
	if fake.Writes() == 0 {
		t.Fatal("the walk-through wrote nothing to Tablestore")
	}
}

// startOnWireFakes runs the local server on both production adapters: the
// Tablestore adapter against the wire-level fake (tables created with the
// same code as scripts/create-tables) and the RD adapter against the RD wire
// server over the simulation.
func startOnWireFakes(t *testing.T) (base string, fake *otsfake.Server, stop func()) {
	t.Helper()
	fake = otsfake.New(otsfake.Options{})
	t.Cleanup(fake.Close)
	fake.AddCredentials("LTAI-local-test", "local-test-secret", "")
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI-local-test")
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "local-test-secret")
	t.Setenv("ALIBABA_CLOUD_SECURITY_TOKEN", "")
	if err := tablestore.EnsureTables(context.Background(), tablestore.Config{Endpoint: fake.URL(),
		Instance: fake.Instance(), Credentials: cloudcreds.FromEnv()}); err != nil {
		t.Fatal(err)
	}
	base, stop = start(t, t.TempDir(), map[string]string{"DIRECTORY": "resourcemanager",
		"STORE": "tablestore", "TABLESTORE_ENDPOINT": fake.URL(), "TABLESTORE_INSTANCE": fake.Instance()})
	return base, fake, stop
}

// walk goes through the four steps and member management.
func walk(t *testing.T, base string) {
	anon := &client{t: t, base: base}
	ma := anon.as(owner)

	// Before step 1 the owner sees the setup, other functions say "no directory".
	setup := ma.call("GET", "/describe-setup", nil, 200)
	if role := setup["Caller"].(map[string]any)["Role"]; role != "Owner" || setup["ResourceDirectory"] != nil {
		t.Fatalf("before step 1: %v", setup)
	}
	if e := ma.call("GET", "/list-members", nil, 404); e["Code"] != "EntityNotExists.ResourceDirectory" {
		t.Fatalf("list before step 1: %v", e)
	}
	anon.as(member1).call("GET", "/describe-setup", nil, 403)

	// Step 1: enable the directory (twice: idempotent).
	rd := ma.call("POST", "/enable-directory", map[string]any{}, 200)["ResourceDirectory"].(map[string]any)
	again := ma.call("POST", "/enable-directory", map[string]any{}, 200)["ResourceDirectory"].(map[string]any)
	if rd["DirectoryId"] != again["DirectoryId"] || rd["ManagementAccountId"] != owner {
		t.Fatalf("enable: %v then %v", rd, again)
	}

	// Step 2: invite three accounts; the invitees accept.
	inv := ma.call("POST", "/invite-accounts", map[string]any{"Targets": []map[string]string{
		{"AccountId": delegate}, {"AccountId": member1}, {"AccountId": member2}}, "Note": "welcome"}, 200)
	for i, r := range inv["Results"].([]any) {
		res := r.(map[string]any)
		if res["Status"] != "Invited" {
			t.Fatalf("invite %d: %v", i, res)
		}
		anon.call("POST", "/_local/accept-invitation", map[string]string{
			"InvitationId": res["InvitationId"].(string), "DisplayName": fmt.Sprintf("team-%d", i)}, 200)
	}
	if n := ma.call("GET", "/list-invitations?Status=Accepted", nil, 200)["TotalCount"]; n != 3.0 {
		t.Fatalf("accepted invitations: %v", n)
	}

	// Step 3: designate the delegated administrator.
	ma.call("POST", "/register-delegated-admin", map[string]string{"AccountId": delegate}, 200)
	da := anon.as(delegate)
	if role := da.call("GET", "/describe-setup", nil, 200)["Caller"].(map[string]any)["Role"]; role != "DelegatedAdministrator" {
		t.Fatalf("delegate role: %v", role)
	}

	// Step 4: the delegated administrator adds members from the candidates.
	cands := da.call("GET", "/list-candidates", nil, 200)
	if cands["TotalCount"] != 3.0 { // delegate, member1, member2; never the MA
		t.Fatalf("candidates: %v", cands)
	}
	add := da.call("POST", "/add-members", map[string]any{"Members": []map[string]string{
		{"AccountId": member1, "Remark": "prod"}, {"AccountId": member2}, {"AccountId": owner}}}, 200)
	if add["AddedCount"] != 2.0 {
		t.Fatalf("add: %v", add)
	}

	// Manage members: list, remark, delete, audit.
	list := ma.call("GET", "/list-members?SortBy=AccountId&SortOrder=Asc", nil, 200)
	ms := list["Members"].([]any)
	if list["TotalCount"] != 2.0 || ms[0].(map[string]any)["AccountId"] != member1 || ms[0].(map[string]any)["AccountName"] != "team-1" {
		t.Fatalf("list: %v", list)
	}
	m := ma.call("POST", "/update-member-remark", map[string]any{"AccountId": member1, "Remark": "staging", "Version": 1}, 200)["Member"].(map[string]any)
	if m["Remark"] != "staging" || m["Version"] != 2.0 {
		t.Fatalf("remark: %v", m)
	}
	ma.call("POST", "/update-member-remark", map[string]any{"AccountId": member1, "Remark": "late", "Version": 1}, 409)
	del := da.call("POST", "/delete-members", map[string]any{"AccountIds": []string{member2, "1000000000000099"}}, 200)
	if del["DeletedCount"] != 1.0 {
		t.Fatalf("delete: %v", del)
	}
	events := ma.call("GET", "/list-audit-events?MaxResults=100", nil, 200)["Events"].([]any)
	var actions []string
	for _, e := range events {
		// Directory events (ActorRole System) also record what they saw;
		// here only the callers' own changes are checked.
		if e := e.(map[string]any); e["ActorRole"] != "System" {
			actions = append(actions, e["Action"].(string))
		}
	}
	want := []string{"delete-members", "update-member-remark", "add-members", "add-members",
		"register-delegated-admin", "invite-accounts", "invite-accounts", "invite-accounts", "enable-directory"}
	if fmt.Sprint(actions) != fmt.Sprint(want) {
		t.Fatalf("audit actions newest first:\n got %v\nwant %v", actions, want)
	}
	anon.as(member1).call("GET", "/list-members", nil, 403)
}

// The same walk through the SDK path: the simulation behind the RD wire
// protocol, driven by alibaba-cloud-sdk-go.
func TestWalkthroughThroughRDWireProtocol(t *testing.T) {
	base, stop := start(t, t.TempDir(), map[string]string{"DIRECTORY": "resourcemanager"})
	defer stop()
	anon := &client{t: t, base: base}
	ma := anon.as(owner)
	ma.call("POST", "/enable-directory", map[string]any{}, 200)
	res := ma.call("POST", "/invite-accounts", map[string]any{"Targets": []map[string]string{{"AccountId": member1}}}, 200)["Results"].([]any)
	id := res[0].(map[string]any)["InvitationId"].(string)
	anon.call("POST", "/_local/accept-invitation", map[string]string{"InvitationId": id, "DisplayName": "m1"}, 200)
	ma.call("POST", "/register-delegated-admin", map[string]string{"AccountId": owner}, 400)
	add := ma.call("POST", "/add-members", map[string]any{"Members": []map[string]string{{"AccountId": member1}}}, 200)
	if add["AddedCount"] != 1.0 {
		t.Fatalf("add: %v", add)
	}
	if e := ma.call("POST", "/cancel-invitation", map[string]string{"InvitationId": id}, 409); e["Code"] != "Conflict.InvitationStatus" {
		t.Fatalf("cancel accepted: %v", e)
	}
}

func TestUnknownPathAndMethod(t *testing.T) {
	base, stop := start(t, t.TempDir(), nil)
	defer stop()
	resp, err := http.Get(base + "/no-such-function")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Fatalf("unknown path: %d", resp.StatusCode)
	}
	c := &client{t: t, base: base}
	if e := c.call("DELETE", "/list-members", nil, 405); e["Code"] != "MethodNotAllowed" {
		t.Fatal(e)
	}
	// Functions ignore the rest of the path, as FC does.
	c.as(owner).call("GET", "/describe-setup/anything/else", nil, 200)
}
