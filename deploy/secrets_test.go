package deploy

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/sase-multiaccount/backend/shared/adapter/cloudcreds"
	"github.com/sase-multiaccount/backend/shared/local/rdwire"
	"github.com/sase-multiaccount/backend/shared/local/simulation"
	"github.com/sase-multiaccount/backend/shared/testkit/otsfake"
)

// leakCreds are the function role's STS credentials in TestSecretsNeverLeave:
// distinctive strings (the token with the characters a query string
// encodes), so finding one in the output is never a coincidence.
var leakCreds = cloudcreds.Credentials{
	AccessKeyID:     "STS.LeakProbeKeyId7f3a9c",
	AccessKeySecret: "LeakProbeAccessKeySecret5c1d2e",
	SecurityToken:   "CAISLeakProbeSecurityToken+9e2b/Qx7==",
}

// How Resource Directory answers in a case.
const (
	rdUp           = "up"
	rdClosed       = "closed"        // nothing listens: connection refused
	rdBadSignature = "bad signature" // 400 SignatureDoesNotMatch, quoting the string to sign as RD does
	rdGatewayError = "gateway error" // 502 HTML page quoting the request line
	rdDenied       = "denied"        // 403 NoPermission
)

// How Tablestore answers in a case.
const (
	otsUp         = "up"
	otsClosed     = "closed"      // nothing listens
	otsDenied     = "denied"      // 403 OTSNoPermissionAccess to every action
	otsUnknownKey = "unknown key" // 403 OTSAuthFailed: the key is not the instance's
)

const (
	eventFunction    = "directory-events"
	httpFunction     = "list-members"
	permissionCode   = "ServiceUnavailable.Permission"
	unavailableCode  = "ServiceUnavailable"
	internalCode     = "InternalError"
	permissionPrefix = "The function's role is not allowed to call "
)

type leakCase struct {
	rd, ots string
	// status and code of list-members' answer; call is the permission its
	// message names (code ServiceUnavailable.Permission), also named by
	// directory-events' error.
	status     int
	code, call string
}

var leakCases = []leakCase{
	{rd: rdClosed, ots: otsUp, status: 503, code: unavailableCode},
	{rd: rdBadSignature, ots: otsUp, status: 500, code: internalCode},
	{rd: rdGatewayError, ots: otsUp, status: 503, code: unavailableCode},
	{rd: rdDenied, ots: otsUp, status: 503, code: permissionCode, call: "resourcemanager:"},
	{rd: rdUp, ots: otsClosed, status: 503, code: unavailableCode},
	{rd: rdUp, ots: otsDenied, status: 503, code: permissionCode, call: "ots:"},
	{rd: rdUp, ots: otsUnknownKey, status: 503, code: unavailableCode},
}

// TestSecretsNeverLeave runs built functions the way FC runs them (the fake
// runtime API hands out STS credentials; the production adapters talk to the
// wire fakes) with Resource Directory or Tablestore unreachable or refusing,
// and checks that no credential, request signature, bearer token or
// PAGE_TOKEN_KEY appears in what leaves the function: its stdout and
// stderr, the HTTP answer, and the error directory-events hands to FC.
func TestSecretsNeverLeave(t *testing.T) {
	if testing.Short() {
		t.Skip("builds function binaries")
	}
	arts := buildFunctions(t, httpFunction, eventFunction)
	jwks, token := newIdentity(t)
	var key [32]byte
	_, _ = rand.Read(key[:])
	pageKey := hex.EncodeToString(key[:])
	event := directoryEvent(t)
	for _, tc := range leakCases {
		for _, fn := range []string{httpFunction, eventFunction} {
			t.Run(fmt.Sprintf("rd %s, tablestore %s/%s", tc.rd, tc.ots, fn), func(t *testing.T) {
				cl := newLeakCloud(t, tc)
				env := operatorEnv()
				env["TABLESTORE_ENDPOINT"], env["RD_ENDPOINT"] = cl.otsURL, cl.rdURL
				env["JWKS_URL"], env["JWKS_JSON"], env["PAGE_TOKEN_KEY"] = "", jwks, pageKey
				ev := event
				if fn == httpFunction {
					ev = httpEvent(fn, token)
				}
				rt := newFakeRuntime(t, fn, ev, leakCreds)
				defer rt.close()
				p := startFunction(t, arts[fn], fn, env, rt, leakCreds)
				res := p.result(t, rt)
				var answer string
				if fn == httpFunction {
					answer = checkHTTPRefusal(t, tc, res)
				} else {
					answer = checkEventError(t, tc, res)
				}
				out := p.logLine(t, `"request_id":"req-1"`)
				if !strings.Contains(out, `"request_id":"req-1"`) || !strings.Contains(out, `"level":"error"`) {
					t.Errorf("no error log line for the failed invocation:\n%s", out)
				}
				if tc.call != "" && !strings.Contains(out, `"permission":"`+tc.call) {
					t.Errorf("no log line names the %s permission:\n%s", tc.call, out)
				}
				secrets := cl.secrets(token, pageKey)
				for where, text := range map[string]string{"stdout": out, "stderr": p.stderr.String(), "answer": answer} {
					for _, leak := range findSecrets(text, secrets) {
						t.Errorf("%s shows %s", where, leak)
					}
				}
			})
		}
	}
}

// checkHTTPRefusal checks list-members' answer against tc and returns it
// (the trigger response and its body).
func checkHTTPRefusal(t *testing.T, tc leakCase, res invocationResult) string {
	t.Helper()
	if res.kind != "response" {
		t.Fatalf("list-members posted to /%s: %s", res.kind, res.body)
	}
	resp := httpResponse(t, res)
	var body struct{ Code, Message string }
	_ = json.Unmarshal([]byte(resp.Body), &body)
	if resp.StatusCode != tc.status || body.Code != tc.code {
		t.Errorf("list-members answered %d %s, want %d %s: %s", resp.StatusCode, body.Code, tc.status, tc.code, resp.Body)
	}
	if tc.call != "" && !strings.Contains(body.Message, permissionPrefix+tc.call) {
		t.Errorf("the message does not name the %s permission the role lacks: %s", tc.call, body.Message)
	}
	return string(res.body) + "\n" + resp.Body
}

// checkEventError checks that directory-events failed (so EventBridge
// retries) and returns the error it posted to the runtime API.
func checkEventError(t *testing.T, tc leakCase, res invocationResult) string {
	t.Helper()
	if res.kind != "error" {
		t.Fatalf("directory-events posted to /%s, want /error: %s", res.kind, res.body)
	}
	if tc.call != "" && !strings.Contains(string(res.body), permissionPrefix+tc.call) {
		t.Errorf("the error does not name the %s permission the role lacks: %s", tc.call, res.body)
	}
	return string(res.body)
}

// directoryEvent is an UpdateAccount event of the test account's directory.
func directoryEvent(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root(t), "functions", eventFunction, "testdata", "update-account.json"))
	if err != nil {
		t.Fatal(err)
	}
	return []byte(strings.ReplaceAll(string(b), "1000000000000001", testAccount))
}

// leakCloud is Resource Directory and Tablestore as one case wants them.
type leakCloud struct {
	rdURL, otsURL string

	mu         sync.Mutex
	signatures []string // the Signature parameter of every RD request
}

func newLeakCloud(t *testing.T, tc leakCase) *leakCloud {
	t.Helper()
	cl := &leakCloud{}
	ots := newTablestoreFake(t, leakCreds)
	sim, err := simulation.Open(simulation.Options{OwnerAccountID: testAccount})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sim.EnableDirectory(context.Background()); err != nil {
		t.Fatal(err)
	}
	switch tc.ots {
	case otsClosed:
		cl.otsURL = "http://" + closedAddr(t)
	case otsDenied:
		ots.Inject(otsfake.Denial(""))
	case otsUnknownKey:
		ots.RevokeCredentials(leakCreds.AccessKeyID)
	}
	if cl.otsURL == "" {
		cl.otsURL = ots.URL()
	}
	if tc.rd == rdClosed {
		cl.rdURL = "http://" + closedAddr(t)
		return cl
	}
	srv := httptest.NewServer(cl.rdFront(rdwire.NewServer(sim, leakCreds), tc.rd))
	t.Cleanup(srv.Close)
	cl.rdURL = srv.URL
	return cl
}

// rdFront records each request's signature, then lets rd answer or refuses
// the way mode says.
func (cl *leakCloud) rdFront(rd http.Handler, mode string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		cl.mu.Lock()
		cl.signatures = append(cl.signatures, r.Form.Get("Signature"))
		cl.mu.Unlock()
		switch mode {
		case rdBadSignature:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]string{"RequestId": "leak-1", "HostId": "resourcemanager.aliyuncs.com", "Code": "SignatureDoesNotMatch",
				"Message": "Specified signature is not matched with our calculation. server string to sign is:" + stringToSign(r)})
		case rdGatewayError:
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprintf(w, "<html><body><h1>502 Bad Gateway</h1><p>%s %s</p></body></html>", r.Method, r.URL.RequestURI())
		case rdDenied:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			_ = json.NewEncoder(w).Encode(map[string]any{"RequestId": "leak-2", "Code": "NoPermission",
				"Message":            "You are not authorized to do this action. Resource: acs:resourcemanager::" + testAccount + ":* Action: resourcemanager:" + r.Form.Get("Action"),
				"AccessDeniedDetail": map[string]string{"AuthAction": "resourcemanager:" + r.Form.Get("Action"), "NoPermissionType": "ImplicitDeny", "PolicyType": "AccountLevelIdentityBasedPolicy"}})
		default:
			rd.ServeHTTP(w, r)
		}
	})
}

// stringToSign is the RPC string to sign of r, which RD quotes in its
// SignatureDoesNotMatch message: every parameter but Signature, the
// function role's AccessKeyId and SecurityToken among them.
func stringToSign(r *http.Request) string {
	var keys []string
	for k := range r.Form {
		if k != "Signature" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var q []string
	for _, k := range keys {
		q = append(q, url.QueryEscape(k)+"="+url.QueryEscape(r.Form.Get(k)))
	}
	return r.Method + "&%2F&" + url.QueryEscape(strings.Join(q, "&"))
}

// secrets are the values no output may show, by name.
func (cl *leakCloud) secrets(token, pageKey string) map[string]string {
	s := map[string]string{
		"the AccessKeyId": leakCreds.AccessKeyID, "the AccessKeySecret": leakCreds.AccessKeySecret,
		"the SecurityToken": leakCreds.SecurityToken, "the bearer token": token, "PAGE_TOKEN_KEY": pageKey,
	}
	cl.mu.Lock()
	defer cl.mu.Unlock()
	for i, sig := range cl.signatures {
		if sig != "" {
			s[fmt.Sprintf("the Signature of RD request %d", i+1)] = sig
		}
	}
	return s
}

// signatureParam is a Signature query parameter, plain or encoded (as in a
// string to sign).
var signatureParam = regexp.MustCompile(`(?i)signature(=|%3D|%253D)`)

// findSecrets lists the secrets text shows, as they are or URL-encoded
// once or twice (in a query string, in a string to sign).
func findSecrets(text string, secrets map[string]string) []string {
	var found []string
	for name, v := range secrets {
		forms := []string{v, url.QueryEscape(v), url.QueryEscape(url.QueryEscape(v))}
		for _, f := range slices.Compact(forms) {
			if i := strings.Index(text, f); i >= 0 {
				found = append(found, fmt.Sprintf("%s (%q) at %q", name, f, excerpt(text, i)))
				break
			}
		}
	}
	if loc := signatureParam.FindStringIndex(text); loc != nil {
		found = append(found, fmt.Sprintf("a Signature parameter at %q", excerpt(text, loc[0])))
	}
	sort.Strings(found)
	return found
}

func excerpt(text string, i int) string {
	return text[max(0, i-80):min(len(text), i+80)]
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}
