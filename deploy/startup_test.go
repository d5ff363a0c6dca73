package deploy

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/sase-multiaccount/backend/shared/adapter/cloudcreds"
	"github.com/sase-multiaccount/backend/shared/adapter/tablestore"
	"github.com/sase-multiaccount/backend/shared/local/rdwire"
	"github.com/sase-multiaccount/backend/shared/local/simulation"
	"github.com/sase-multiaccount/backend/shared/testkit/otsfake"
)

// TestStartupUnderFakeRuntime builds one function the way `make build`
// does (for this machine's OS and architecture), checks its zip, and runs
// the binary under a fake FC runtime API with the production configuration
// (Tablestore and Resource Directory adapters, JWT from a JWKS) pointed at
// the wire-level fakes. It measures the time from process start to the
// first long poll of /invocation/next and to the response of the first
// event.
func TestStartupUnderFakeRuntime(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a function binary")
	}
	const fn = "describe-setup"
	a := buildFunctions(t, fn)[fn]
	t.Logf("%s: binary %s, zip %s (%s/%s)", fn, MB(a.BinaryBytes), MB(a.ZipBytes), runtime.GOOS, runtime.GOARCH)

	// The cloud, faked at the wire: Tablestore with the schema, and the
	// Resource Directory simulation behind the RD RPC protocol. Both accept
	// the function role's (STS-style) credentials.
	creds := rdwire.TestCredentials
	ots := newTablestoreFake(t, creds)
	sim, err := simulation.Open(simulation.Options{OwnerAccountID: testAccount})
	if err != nil {
		t.Fatal(err)
	}
	rd := rdwire.NewServer(sim, creds)
	rdAddr, stopRD, err := rd.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = stopRD(context.Background()) }()

	jwks, token := newIdentity(t)
	rt := newFakeRuntime(t, fn, httpEvent(fn, token), creds)
	defer rt.close()

	// The environment s.yaml gives the function, with the endpoints of the
	// fakes, plus what FC itself sets.
	env := operatorEnv()
	env["TABLESTORE_ENDPOINT"] = ots.URL()
	env["RD_ENDPOINT"] = "http://" + rdAddr
	env["JWKS_URL"] = ""
	env["JWKS_JSON"] = jwks
	p := startFunction(t, a, fn, env, rt, creds)
	res := p.result(t, rt)
	firstPoll := rt.firstPoll().Sub(p.start)
	answered := res.at.Sub(p.start)
	t.Logf("start-up (process start to first /invocation/next): %s; first event answered after %s (handling %s)",
		firstPoll.Round(100*time.Microsecond), answered.Round(100*time.Microsecond), (answered - firstPoll).Round(100*time.Microsecond))

	if res.kind != "response" {
		t.Fatalf("the function posted to /%s: %s\nstderr: %s", res.kind, res.body, p.stderr.String())
	}
	resp := httpResponse(t, res)
	var body struct {
		RequestId         string
		Caller            struct{ AccountId, Role string }
		ResourceDirectory any
	}
	if err := json.Unmarshal([]byte(resp.Body), &body); err != nil || resp.StatusCode != 200 {
		t.Fatalf("status %d, body %s (%v)\nstderr: %s", resp.StatusCode, resp.Body, err, p.stderr.String())
	}
	if body.Caller.AccountId != testAccount || body.Caller.Role != "Owner" || body.ResourceDirectory != nil || body.RequestId != "req-1" {
		t.Errorf("describe-setup answered %s", resp.Body)
	}
	if firstPoll > 10*time.Second {
		t.Errorf("start-up took %s", firstPoll)
	}
	// One JSON log line per request on stdout, without the token.
	if out := p.logLine(t, `"request_id":"req-1"`); !strings.Contains(out, `"request_id":"req-1"`) || strings.Contains(out, token) {
		t.Errorf("log: %s", out)
	}
	checkPackageInit(t, a.Binary, 5)
}

// projectInitBytes bounds what one of the project's packages may allocate
// at init: a few maps and tables. A regexp compiled at init costs far more
// (the Tablestore adapter's table-name pattern took 207 KiB and 3–6 ms).
const projectInitBytes = 32 << 10

// initLine is a line of GODEBUG=inittrace=1.
var initLine = regexp.MustCompile(`^init (\S+) @([\d.]+) ms, ([\d.]+) ms clock, (\d+) bytes, (\d+) allocs$`)

// checkPackageInit runs the binary n times with GODEBUG=inittrace=1 (it
// stops after initialisation for want of configuration), logs when package
// initialisation ends, and fails when one of the project's packages does
// real work at init.
func checkPackageInit(t *testing.T, binary string, n int) {
	t.Helper()
	var ends []float64
	heavy := map[string]string{} // package -> what its init cost
	for range n {
		cmd := exec.Command(binary)
		cmd.Env = []string{"GODEBUG=inittrace=1"}
		out, _ := cmd.CombinedOutput() // exits for the missing configuration
		end, lines := 0.0, 0
		for l := range strings.Lines(string(out)) {
			m := initLine.FindStringSubmatch(strings.TrimSpace(l))
			if m == nil {
				continue
			}
			lines++
			at, _ := strconv.ParseFloat(m[2], 64)
			clock, _ := strconv.ParseFloat(m[3], 64)
			end = max(end, at+clock)
			if bytes, _ := strconv.Atoi(m[4]); strings.HasPrefix(m[1], modulePath) && bytes > projectInitBytes {
				heavy[m[1]] = fmt.Sprintf("%d bytes, %s allocs, %s ms", bytes, m[5], m[3])
			}
		}
		if lines < 20 {
			t.Fatalf("GODEBUG=inittrace=1 printed %d init lines:\n%s", lines, out)
		}
		ends = append(ends, end)
	}
	for pkg, cost := range heavy {
		t.Errorf("package %s works at init (%s); do the work on first use, or not at all", pkg, cost)
	}
	slices.Sort(ends)
	t.Logf("%d starts: package initialisation ends %.1f ms (min), %.1f ms (median) after process start", n, ends[0], ends[n/2])
}

// buildFunctions builds the named functions the way `make build` does, for
// this machine's OS and architecture, and checks their zips.
func buildFunctions(t *testing.T, names ...string) map[string]Artifact {
	t.Helper()
	r := root(t)
	fns, err := Functions(r)
	if err != nil {
		t.Fatal(err)
	}
	var sel []Function
	for _, f := range fns {
		if slices.Contains(names, f.Name) {
			sel = append(sel, f)
		}
	}
	var buildLog bytes.Buffer
	arts, err := Build(t.Context(), BuildOptions{Root: r, Out: t.TempDir(), Functions: sel,
		GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, Stderr: &buildLog})
	if err != nil {
		t.Fatalf("build: %v\n%s", err, buildLog.String())
	}
	out := map[string]Artifact{}
	for _, a := range arts {
		checkZip(t, a)
		out[a.Name] = a
	}
	if len(out) != len(names) {
		t.Fatalf("built %d of the functions %v", len(out), names)
	}
	return out
}

// newTablestoreFake is the Tablestore wire fake with the schema, accepting
// creds.
func newTablestoreFake(t *testing.T, creds cloudcreds.Credentials) *otsfake.Server {
	t.Helper()
	ots := otsfake.New(otsfake.Options{Instance: "sase-test"})
	t.Cleanup(ots.Close)
	ots.AddCredentials(creds.AccessKeyID, creds.AccessKeySecret, creds.SecurityToken)
	if err := tablestore.EnsureTables(t.Context(), tablestore.Config{Endpoint: ots.URL(), Instance: ots.Instance(),
		Credentials: cloudcreds.Static(creds), RetryTimes: -1}); err != nil {
		t.Fatal(err)
	}
	return ots
}

// newIdentity returns a JWKS and a bearer token for the Owner of
// testAccount signed with its key.
func newIdentity(t *testing.T) (jwks, token string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	jwks = fmt.Sprintf(`{"keys":[{"kty":"RSA","alg":"RS256","use":"sig","kid":"k1","n":%q,"e":%q}]}`,
		base64.RawURLEncoding.EncodeToString(key.N.Bytes()), base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes()))
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"iss": "https://login.example.com", "aud": "sase-console", "aid": testAccount, "uid": testAccount,
		"iat": time.Now().Unix(), "nbf": time.Now().Add(-time.Minute).Unix(), "exp": time.Now().Add(time.Hour).Unix(),
	})
	tok.Header["kid"] = "k1"
	token, err = tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return jwks, token
}

// process is a function binary running under the fake runtime.
type process struct {
	stdout, stderr *lockedBuffer
	exited         chan error
	start          time.Time
}

// startFunction runs a's binary with the environment s.yaml gives the
// function (env: the operator's values) plus what FC itself sets; it is
// killed when the test ends.
func startFunction(t *testing.T, a Artifact, fn string, env map[string]string, rt *fakeRuntime, creds cloudcreds.Credentials) *process {
	t.Helper()
	var vars []string
	for k, v := range functionEnv(env) {
		vars = append(vars, k+"="+v.(string))
	}
	vars = append(vars,
		"FC_RUNTIME_API="+rt.addr(), "FC_ACCOUNT_ID="+testAccount, "FC_REGION=cn-hangzhou",
		"FC_FUNCTION_NAME=sase-"+fn, "FC_FUNCTION_HANDLER="+Handler, "FC_FUNCTION_MEMORY_SIZE=256",
		"ALIBABA_CLOUD_ACCESS_KEY_ID="+creds.AccessKeyID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET="+creds.AccessKeySecret,
		"ALIBABA_CLOUD_SECURITY_TOKEN="+creds.SecurityToken,
	)
	p := &process{stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, exited: make(chan error, 1)}
	cmd := exec.Command(a.Binary)
	cmd.Env = vars
	cmd.Stdout, cmd.Stderr = p.stdout, p.stderr
	p.start = time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.exited
	})
	return p
}

// result waits for the function's answer to the runtime's event.
func (p *process) result(t *testing.T, rt *fakeRuntime) invocationResult {
	t.Helper()
	select {
	case res := <-rt.results:
		return res
	case err := <-p.exited:
		t.Fatalf("the function exited before answering: %v\nstderr: %s\nstdout: %s", err, p.stderr.String(), p.stdout.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("no answer after 30 s\nstderr: %s\nstdout: %s", p.stderr.String(), p.stdout.String())
	}
	return invocationResult{}
}

// logLine waits up to 5 s for stdout to hold want (the pipe may deliver
// the invocation's log line after its answer) and returns stdout.
func (p *process) logLine(t *testing.T, want string) string {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(p.stdout.String(), want) && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	return p.stdout.String()
}

// triggerResponse is an HTTP function's answer to the runtime API.
type triggerResponse struct {
	StatusCode int               `json:"statusCode"`
	Headers    map[string]string `json:"headers"`
	Body       string            `json:"body"`
}

func httpResponse(t *testing.T, res invocationResult) triggerResponse {
	t.Helper()
	var resp triggerResponse
	if err := json.Unmarshal(res.body, &resp); err != nil {
		t.Fatalf("response %s: %v", res.body, err)
	}
	return resp
}

func checkZip(t *testing.T, a Artifact) {
	t.Helper()
	zr, err := zip.OpenReader(a.Zip)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	if len(zr.File) != 1 || zr.File[0].Name != Handler {
		t.Fatalf("zip holds %d files, first %q; want only %q", len(zr.File), zr.File[0].Name, Handler)
	}
	f := zr.File[0]
	if f.Mode().Perm() != 0o755 || !f.Mode().IsRegular() {
		t.Errorf("zip entry mode %v, want -rwxr-xr-x", f.Mode())
	}
	rc, err := f.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	got, _ := io.ReadAll(rc)
	want, _ := os.ReadFile(a.Binary)
	if !bytes.Equal(got, want) {
		t.Error("the zipped binary differs from the built one")
	}
	if st, _ := os.Stat(a.Binary); st.Mode().Perm()&0o111 == 0 {
		t.Errorf("binary mode %v", st.Mode())
	}
}

// httpEvent is the FC3 HTTP trigger event of a GET to the function.
func httpEvent(fn, token string) []byte {
	now := time.Now().UTC()
	ev := map[string]any{
		"version": "v1", "rawPath": "/" + fn, "body": "", "isBase64Encoded": false,
		"headers":         map[string]string{"Authorization": "Bearer " + token, "User-Agent": "startup-test"},
		"queryParameters": map[string]string{},
		"requestContext": map[string]any{
			"accountId": testAccount, "domainName": "trigger.cn-hangzhou.fcapp.run", "domainPrefix": "trigger",
			"requestId": "req-1", "time": now.Format(time.RFC3339), "timeEpoch": strconv.FormatInt(now.UnixMilli(), 10),
			"http": map[string]string{"method": "GET", "path": "/" + fn, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "startup-test"},
		},
	}
	b, _ := json.Marshal(ev)
	return b
}

type invocationResult struct {
	kind string // "response" or "error"
	body []byte
	at   time.Time
}

// fakeRuntime plays FC's runtime API (fc-runtime-go-sdk fc/runtime_api_client.go):
// the first GET .../invocation/next returns the event, later ones wait;
// POST .../<id>/response or /error ends the invocation.
type fakeRuntime struct {
	srv     *httptest.Server
	results chan invocationResult
	done    chan struct{}

	mu     sync.Mutex
	polls  int
	polled time.Time
}

func newFakeRuntime(t *testing.T, fn string, event []byte, creds cloudcreds.Credentials) *fakeRuntime {
	rt := &fakeRuntime{results: make(chan invocationResult, 4), done: make(chan struct{})}
	const base = "/2020-11-11/runtime/invocation/"
	rt.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodGet && r.URL.Path == base+"next":
			rt.mu.Lock()
			rt.polls++
			first := rt.polls == 1
			if first {
				rt.polled = time.Now()
			}
			rt.mu.Unlock()
			if !first {
				select { // long poll: no second event
				case <-rt.done:
				case <-r.Context().Done():
				}
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			h := w.Header()
			h.Set("x-fc-request-id", "req-1")
			h.Set("x-fc-function-deadline", strconv.FormatInt(time.Now().Add(60*time.Second).UnixMilli(), 10))
			h.Set("x-fc-function-timeout", "60")
			h.Set("x-fc-function-name", "sase-"+fn)
			h.Set("x-fc-function-handler", Handler)
			h.Set("x-fc-function-memory", "256")
			h.Set("x-fc-region", "cn-hangzhou")
			h.Set("x-fc-account-id", testAccount)
			h.Set("x-fc-access-key-id", creds.AccessKeyID)
			h.Set("x-fc-access-key-secret", creds.AccessKeySecret)
			h.Set("x-fc-security-token", creds.SecurityToken)
			_, _ = w.Write(event)
		case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, base):
			id, kind, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, base), "/")
			body, _ := io.ReadAll(r.Body)
			if id != "req-1" {
				t.Errorf("runtime API: result for unknown invocation %q", id)
			}
			rt.results <- invocationResult{kind: kind, body: body, at: time.Now()}
			w.WriteHeader(http.StatusOK)
		default:
			t.Errorf("runtime API: unexpected %s %s", r.Method, r.URL.Path)
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	return rt
}

func (rt *fakeRuntime) addr() string { return strings.TrimPrefix(rt.srv.URL, "http://") }

func (rt *fakeRuntime) firstPoll() time.Time {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return rt.polled
}

func (rt *fakeRuntime) close() {
	close(rt.done)
	rt.srv.Close()
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
