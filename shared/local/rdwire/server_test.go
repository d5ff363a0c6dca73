package rdwire_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	rm "github.com/aliyun/alibaba-cloud-sdk-go/services/resourcemanager"

	"github.com/sase-multiaccount/backend/shared/adapter/cloudcreds"
	"github.com/sase-multiaccount/backend/shared/local/rdwire"
	"github.com/sase-multiaccount/backend/shared/local/simulation"
	"github.com/sase-multiaccount/backend/shared/port/directory"
)

const owner = "1100000000000001"

func uid(n int) string { return fmt.Sprintf("2%015d", n) }

var creds = rdwire.TestCredentials

func newServer(t *testing.T, opts simulation.Options) (*rdwire.Server, *simulation.Sim) {
	t.Helper()
	if opts.OwnerAccountID == "" {
		opts.OwnerAccountID = owner
	}
	sim, err := simulation.Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	return rdwire.NewServer(sim, creds), sim
}

func enabledServer(t *testing.T, opts simulation.Options) (*rdwire.Server, *simulation.Sim) {
	t.Helper()
	srv, sim := newServer(t, opts)
	if _, err := sim.EnableDirectory(t.Context()); err != nil {
		t.Fatal(err)
	}
	return srv, sim
}

var nonce int

// signed returns the parameters of a correctly signed RPC request for action
// (plus extra), built the way the SDK builds them, for the given method.
func signed(method, action string, extra map[string]string, c cloudcreds.Credentials) map[string]string {
	nonce++
	p := map[string]string{
		"Action": action, "Version": rdwire.APIVersion, "Format": "JSON", "RegionId": "cn-hangzhou",
		"AccessKeyId": c.AccessKeyID, "SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0", "SignatureType": "",
		"SignatureNonce": fmt.Sprintf("nonce-%d-%d", time.Now().UnixNano(), nonce),
		"Timestamp":      time.Now().UTC().Format("2006-01-02T15:04:05Z"),
	}
	if c.SecurityToken != "" {
		p["SecurityToken"] = c.SecurityToken
	}
	for k, v := range extra {
		p[k] = v
	}
	p["Signature"] = rdwire.Sign(rdwire.StringToSign(method, p), c.AccessKeySecret)
	return p
}

func query(p map[string]string) string {
	v := url.Values{}
	for k, val := range p {
		v.Set(k, val)
	}
	return v.Encode()
}

type answer struct {
	Status    int
	Header    http.Header
	Body      map[string]any
	Raw       string
	RequestID string
}

func do(t *testing.T, srv http.Handler, method, target string, body string) answer {
	t.Helper()
	var r *http.Request
	if body != "" {
		r = httptest.NewRequest(method, target, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		r = httptest.NewRequest(method, target, nil)
	}
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, r)
	a := answer{Status: rec.Code, Header: rec.Header(), Raw: rec.Body.String()}
	if strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(rec.Body.Bytes(), &a.Body); err != nil {
			t.Fatalf("answer is not JSON: %v: %s", err, a.Raw)
		}
		a.RequestID, _ = a.Body["RequestId"].(string)
	}
	return a
}

// call sends a signed POST with every parameter in the query string, as the
// SDK does.
func call(t *testing.T, srv http.Handler, action string, extra map[string]string) answer {
	t.Helper()
	return do(t, srv, http.MethodPost, "/?"+query(signed("POST", action, extra, creds)), "")
}

func wantCode(t *testing.T, what string, a answer, status int, code string) {
	t.Helper()
	if a.Status != status || a.Body["Code"] != code {
		t.Fatalf("%s: got %d %v (%s), want %d %s", what, a.Status, a.Body["Code"], a.Raw, status, code)
	}
	if a.RequestID == "" || a.Body["HostId"] != rdwire.HostID || a.Body["Message"] == "" || a.Header.Get("x-acs-request-id") != a.RequestID {
		t.Fatalf("%s: error body %s lacks RequestId/HostId/Message or header", what, a.Raw)
	}
}

func wantOK(t *testing.T, what string, a answer) {
	t.Helper()
	if a.Status != 200 || a.RequestID == "" {
		t.Fatalf("%s: got %d %s, want 200 with a RequestId", what, a.Status, a.Raw)
	}
}

// TestStringToSignMatchesSDK signs requests with the SDK's own signer and
// checks the server's canonicalisation reproduces its string to sign and
// signature, including characters the POP encoding treats specially.
func TestStringToSignMatchesSDK(t *testing.T) {
	provider := credentials.NewStaticSTSCredentialsProvider(creds.AccessKeyID, creds.AccessKeySecret, creds.SecurityToken)
	for _, note := range []string{"", "plain", "a b+c*d~e", "100% & =?/#", "邀请 ✓ \t\n", strings.Repeat("x", 1024)} {
		req := rm.CreateInviteAccountToResourceDirectoryRequest()
		req.TargetEntity = "someone+tag@example.com"
		req.TargetType = "Email"
		req.Note = note
		req.Tag = &[]rm.InviteAccountToResourceDirectoryTag{{Key: "k*~", Value: "v w"}}
		if err := requests.InitParams(req); err != nil {
			t.Fatal(err)
		}
		if err := auth.Sign(req, nil, "cn-hangzhou", provider); err != nil {
			t.Fatal(err)
		}
		q := req.GetQueryParams()
		if got := rdwire.StringToSign(req.GetMethod(), q); got != req.GetStringToSign() {
			t.Fatalf("note %q: string to sign\n server %s\n sdk    %s", note, got, req.GetStringToSign())
		}
		if got := rdwire.Sign(req.GetStringToSign(), creds.AccessKeySecret); got != q["Signature"] {
			t.Fatalf("note %q: signature %s, SDK %s", note, got, q["Signature"])
		}
	}
}

func TestProtocolValidation(t *testing.T) {
	srv, _ := newServer(t, simulation.Options{})
	post := func(p map[string]string) answer { return do(t, srv, http.MethodPost, "/?"+query(p), "") }
	with := func(p map[string]string, k, v string) map[string]string {
		out := map[string]string{}
		for a, b := range p {
			out[a] = b
		}
		if v == "<delete>" {
			delete(out, k)
		} else {
			out[k] = v
		}
		return out
	}
	resign := func(p map[string]string, c cloudcreds.Credentials) map[string]string {
		p = with(p, "Signature", "<delete>")
		p["Signature"] = rdwire.Sign(rdwire.StringToSign("POST", p), c.AccessKeySecret)
		return p
	}
	good := func() map[string]string { return signed("POST", "GetResourceDirectory", nil, creds) }

	wantCode(t, "no directory yet", post(good()), 404, "ResourceDirectoryNotInUse")

	cases := []struct {
		name   string
		p      map[string]string
		status int
		code   string
	}{
		{"missing Action", resign(with(good(), "Action", "<delete>"), creds), 400, "MissingAction"},
		{"unknown Action", resign(with(good(), "Action", "DescribeInstances"), creds), 404, "InvalidAction.NotFound"},
		{"wrong Version", resign(with(good(), "Version", "2016-11-11"), creds), 400, "InvalidVersion"},
		{"missing Version", resign(with(good(), "Version", "<delete>"), creds), 400, "MissingVersion"},
		{"XML", resign(with(good(), "Format", "XML"), creds), 400, "InvalidParameter"},
		{"unknown key", resign(with(good(), "AccessKeyId", "LTAI-someone-else"), creds), 404, "InvalidAccessKeyId.NotFound"},
		{"wrong token", resign(with(good(), "SecurityToken", "stolen"), creds), 400, "InvalidSecurityToken.MismatchWithAccessKey"},
		{"missing token", resign(with(good(), "SecurityToken", "<delete>"), creds), 400, "MissingSecurityToken"},
		{"wrong secret", resign(good(), cloudcreds.Credentials{AccessKeySecret: "guess"}), 400, "SignatureDoesNotMatch"},
		{"tampered after signing", with(good(), "RegionId", "cn-shanghai"), 400, "SignatureDoesNotMatch"},
		{"missing Signature", with(good(), "Signature", "<delete>"), 400, "MissingSignature"},
		{"missing AccessKeyId", with(good(), "AccessKeyId", "<delete>"), 400, "MissingAccessKeyId"},
		{"missing Timestamp", with(good(), "Timestamp", "<delete>"), 400, "MissingTimestamp"},
		{"HMAC-SHA256", resign(with(good(), "SignatureMethod", "HMAC-SHA256"), creds), 400, "IncompleteSignature"},
		{"bearer token", resign(with(good(), "SignatureType", "BEARERTOKEN"), creds), 400, "IncompleteSignature"},
		{"old Timestamp", resign(with(good(), "Timestamp", time.Now().Add(-20*time.Minute).UTC().Format("2006-01-02T15:04:05Z")), creds), 400, "InvalidTimeStamp.Expired"},
		{"future Timestamp", resign(with(good(), "Timestamp", time.Now().Add(20*time.Minute).UTC().Format("2006-01-02T15:04:05Z")), creds), 400, "InvalidTimeStamp.Expired"},
		{"bad Timestamp", resign(with(good(), "Timestamp", "yesterday"), creds), 400, "InvalidTimeStamp.Format"},
		{"missing nonce", resign(with(good(), "SignatureNonce", "<delete>"), creds), 400, "MissingSignatureNonce"},
	}
	for _, c := range cases {
		wantCode(t, c.name, post(c.p), c.status, c.code)
	}
	if n := srv.SignatureFailures(); n != 2 {
		t.Fatalf("SignatureFailures = %d, want 2", n)
	}

	// The mismatch message carries the server's string to sign, so the SDK
	// can tell a wrong secret from a canonicalisation bug.
	p := with(good(), "RegionId", "cn-shanghai")
	a := post(p)
	if msg, _ := a.Body["Message"].(string); !strings.Contains(msg, "server string to sign is:"+rdwire.StringToSign("POST", p)) {
		t.Fatalf("mismatch message %q", msg)
	}

	// Replay: the same nonce twice.
	replay := good()
	wantCode(t, "first use", post(replay), 404, "ResourceDirectoryNotInUse")
	wantCode(t, "replayed nonce", post(replay), 400, "SignatureNonceUsed")

	// Transport-level refusals.
	wantCode(t, "PUT", do(t, srv, http.MethodPut, "/?"+query(good()), ""), 403, "UnsupportedHTTPMethod")
	wantCode(t, "path", do(t, srv, http.MethodPost, "/v1/foo?"+query(good()), ""), 404, "InvalidAction.NotFound")
	dup := "/?" + query(good()) + "&Action=GetResourceDirectory"
	wantCode(t, "repeated parameter", do(t, srv, http.MethodPost, dup, ""), 400, "InvalidParameter")

	// Parameters may also come in a form body (they are signed too), and
	// GET is RPC as well.
	all := signed("POST", "GetResourceDirectory", nil, creds)
	inQuery, inBody := map[string]string{}, map[string]string{}
	for k, v := range all {
		if k == "Action" || k == "Version" {
			inBody[k] = v
		} else {
			inQuery[k] = v
		}
	}
	wantCode(t, "form body", do(t, srv, http.MethodPost, "/?"+query(inQuery), query(inBody)), 404, "ResourceDirectoryNotInUse")
	wantCode(t, "GET", do(t, srv, http.MethodGet, "/?"+query(signed("GET", "GetResourceDirectory", nil, creds)), ""), 404, "ResourceDirectoryNotInUse")
	wantCode(t, "GET signed as POST", do(t, srv, http.MethodGet, "/?"+query(good()), ""), 400, "SignatureDoesNotMatch")
}

func TestAccessKeyWithoutToken(t *testing.T) {
	sim, err := simulation.Open(simulation.Options{OwnerAccountID: owner})
	if err != nil {
		t.Fatal(err)
	}
	ak := cloudcreds.Credentials{AccessKeyID: "LTAI-plain", AccessKeySecret: "plain-secret"}
	srv := rdwire.NewServer(sim, ak)
	wantCode(t, "plain AK", do(t, srv, "POST", "/?"+query(signed("POST", "ListAccounts", nil, ak)), ""), 404, "EntityNotExists.ResourceDirectory")
	withToken := ak
	withToken.SecurityToken = "tok"
	wantCode(t, "token with a plain AK", do(t, srv, "POST", "/?"+query(signed("POST", "ListAccounts", nil, withToken)), ""), 400, "InvalidSecurityToken.MismatchWithAccessKey")
}

func TestClockOverride(t *testing.T) {
	srv, _ := newServer(t, simulation.Options{})
	srv.SetClock(func() time.Time { return time.Now().Add(time.Hour) })
	wantCode(t, "an hour behind the server", call(t, srv, "GetResourceDirectory", nil), 400, "InvalidTimeStamp.Expired")
}

// TestSimErrorsAsRDCodes checks the RD codes the server answers for the
// Sim's refusals, action by action.
func TestSimErrorsAsRDCodes(t *testing.T) {
	ctx := t.Context()
	srv, sim := newServer(t, simulation.Options{MaxAccounts: 3, MaxPendingInvitations: 2})
	wantCode(t, "GetResourceDirectory, none", call(t, srv, "GetResourceDirectory", nil), 404, "ResourceDirectoryNotInUse")
	for _, action := range []string{"ListAccounts", "ListHandshakesForResourceDirectory", "ListDelegatedAdministrators"} {
		wantCode(t, action+", none", call(t, srv, action, nil), 404, "EntityNotExists.ResourceDirectory")
	}
	wantCode(t, "Invite, none", call(t, srv, "InviteAccountToResourceDirectory", map[string]string{"TargetEntity": uid(1), "TargetType": "Account"}), 404, "EntityNotExists.ResourceDirectory")
	wantCode(t, "EnableMode missing", call(t, srv, "EnableResourceDirectory", nil), 400, "MissingParameter")
	wantCode(t, "EnableMode new MA", call(t, srv, "EnableResourceDirectory", map[string]string{"EnableMode": "NewManagementAccount"}), 400, "InvalidParameter")
	wantOK(t, "Enable", call(t, srv, "EnableResourceDirectory", map[string]string{"EnableMode": "CurrentAccount"}))
	wantCode(t, "Enable twice", call(t, srv, "EnableResourceDirectory", map[string]string{"EnableMode": "CurrentAccount"}), 409, "EntityAlreadyExists.ResourceDirectory")

	invite := func(target string) answer {
		return call(t, srv, "InviteAccountToResourceDirectory", map[string]string{"TargetEntity": target, "TargetType": "Account"})
	}
	wantCode(t, "invite the MA", invite(owner), 409, "EntityAlreadyExists.ResourceDir.Account")
	wantCode(t, "invite malformed", invite("123"), 400, "InvalidParameter.TargetEntity")
	wantCode(t, "invite without target", call(t, srv, "InviteAccountToResourceDirectory", map[string]string{"TargetType": "Account"}), 400, "MissingParameter.TargetEntity")
	first := invite(uid(1))
	wantOK(t, "invite", first)
	wantCode(t, "invite pending", invite(uid(1)), 409, "EntityAlreadyExists.Handshake")
	wantOK(t, "invite 2", invite(uid(2)))
	wantCode(t, "pending quota", invite(uid(3)), 409, "LimitExceeded.InvitationRate")
	h1 := first.Body["Handshake"].(map[string]any)["HandshakeId"].(string)
	if _, err := sim.AcceptInvitation(ctx, h1, "one"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "invite a member", invite(uid(1)), 409, "EntityAlreadyExists.ResourceDir.Account")
	wantCode(t, "over-long note", call(t, srv, "InviteAccountToResourceDirectory",
		map[string]string{"TargetEntity": uid(7), "TargetType": "Account", "Note": strings.Repeat("n", 1025)}), 400, "InvalidParameter.Note.Length")
	if err := sim.SeedAccounts(ctx, []directory.Account{{AccountID: uid(9)}}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "member quota", invite(uid(4)), 409, "LimitExceeded.Account")

	wantCode(t, "cancel without ID", call(t, srv, "CancelHandshake", nil), 400, "MissingParameter.HandshakeId")
	wantCode(t, "cancel unknown", call(t, srv, "CancelHandshake", map[string]string{"HandshakeId": "h-nope"}), 404, "EntityNotExists.Handshake")
	wantCode(t, "cancel accepted", call(t, srv, "CancelHandshake", map[string]string{"HandshakeId": h1}), 409, "HandshakeStatusMismatch")
	wantCode(t, "get unknown handshake", call(t, srv, "GetHandshake", map[string]string{"HandshakeId": "h-nope"}), 404, "EntityNotExists.Handshake")
	if a := call(t, srv, "GetHandshake", map[string]string{"HandshakeId": h1}); a.Status != 200 || a.Body["Handshake"].(map[string]any)["Status"] != "Accepted" {
		t.Fatalf("GetHandshake: %s", a.Raw)
	}

	reg := func(action, account, principal string) answer {
		p := map[string]string{"AccountId": account}
		if principal != "" {
			p["ServicePrincipal"] = principal
		}
		return call(t, srv, action, p)
	}
	const sp = directory.DefaultServicePrincipal
	wantCode(t, "register without principal", reg("RegisterDelegatedAdministrator", uid(1), ""), 400, "MissingParameter")
	wantCode(t, "register unknown principal", reg("RegisterDelegatedAdministrator", uid(1), "nope.aliyuncs.com"), 409, "InvalidParameter.ServicePrincipal")
	wantCode(t, "register the MA", reg("RegisterDelegatedAdministrator", owner, sp), 409, "CannotRegisterMasterAsDelegatedAdministrator")
	// RD documents no parameter codes for RegisterDelegatedAdministrator: the gateway's.
	wantCode(t, "register malformed", reg("RegisterDelegatedAdministrator", "42", sp), 400, "InvalidParameter")
	wantCode(t, "register without account", reg("RegisterDelegatedAdministrator", "", sp), 400, "MissingParameter")
	wantCode(t, "register a non-member", reg("RegisterDelegatedAdministrator", uid(5), sp), 400, "InvalidParameter")
	wantOK(t, "register", reg("RegisterDelegatedAdministrator", uid(1), sp))
	wantCode(t, "register again", reg("RegisterDelegatedAdministrator", uid(1), sp), 409, "AccountAlreadyRegistered")
	wantCode(t, "register another", reg("RegisterDelegatedAdministrator", uid(9), sp), 409, "DelegatedAccountNumberExceeded")
	wantCode(t, "deregister a non-DA", reg("DeregisterDelegatedAdministrator", uid(9), sp), 409, "AccountNotRegistered")
	wantCode(t, "deregister unknown principal", reg("DeregisterDelegatedAdministrator", uid(1), "nope.aliyuncs.com"), 409, "InvalidParameter.ServicePrincipal")
	srv.AllowServicePrincipals("sase.example.com")
	wantCode(t, "deregister for an allowed principal", reg("DeregisterDelegatedAdministrator", uid(1), "sase.example.com"), 409, "AccountNotRegistered")
	wantOK(t, "deregister", reg("DeregisterDelegatedAdministrator", uid(1), sp))

	wantCode(t, "GetAccount non-member", call(t, srv, "GetAccount", map[string]string{"AccountId": uid(5)}), 404, "EntityNotExists.Account")
}

// TestShapes checks the JSON the server answers field by field where the SDK
// structs differ between operations, and that the SDK parses every answer.
func TestShapes(t *testing.T) {
	ctx := t.Context()
	at := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	srv, sim := newServer(t, simulation.Options{Now: func() time.Time { return at }})
	if _, err := sim.EnableDirectory(ctx); err != nil {
		t.Fatal(err)
	}
	if err := sim.SeedAccounts(ctx, []directory.Account{{AccountID: uid(1), DisplayName: "One"}}); err != nil {
		t.Fatal(err)
	}
	if err := sim.RegisterDelegatedAdmin(ctx, uid(1)); err != nil {
		t.Fatal(err)
	}

	list := call(t, srv, "ListAccounts", map[string]string{"IncludeTags": "true", "PageSize": "100"})
	wantOK(t, "ListAccounts", list)
	accs := list.Body["Accounts"].(map[string]any)["Account"].([]any)
	acc := accs[1].(map[string]any)
	if tags, ok := acc["Tags"].(map[string]any); !ok || tags["Tag"] == nil {
		t.Fatalf("ListAccounts Tags must be {\"Tag\":[...]}: %s", list.Raw)
	}
	if _, has := acc["AccountName"]; has {
		t.Fatal("ListAccounts has no AccountName")
	}
	if acc["JoinTime"] != "2026-03-01T08:00:00.000Z" || acc["ModifyTime"] != "2026-03-01T08:00:00.000Z" ||
		acc["AccountId"] != uid(1) || acc["DisplayName"] != "One" {
		t.Fatalf("account %v", acc)
	}
	if list.Body["TotalCount"] != float64(2) || list.Body["PageNumber"] != float64(1) || list.Body["PageSize"] != float64(100) {
		t.Fatalf("paging fields %s", list.Raw)
	}

	get := call(t, srv, "GetAccount", map[string]string{"AccountId": uid(1), "IncludeTags": "true"})
	wantOK(t, "GetAccount", get)
	ga := get.Body["Account"].(map[string]any)
	if _, ok := ga["Tags"].([]any); !ok {
		t.Fatalf("GetAccount Tags must be a flat array: %s", get.Raw)
	}
	if name, _ := ga["AccountName"].(string); name == "" {
		t.Fatalf("GetAccount has AccountName: %s", get.Raw)
	}

	das := call(t, srv, "ListDelegatedAdministrators", map[string]string{"ServicePrincipal": directory.DefaultServicePrincipal})
	wantOK(t, "ListDelegatedAdministrators", das)
	da := das.Body["Accounts"].(map[string]any)["Account"].([]any)[0].(map[string]any)
	if da["DelegationEnabledTime"] != fmt.Sprint(at.UnixMilli()) || da["ServicePrincipal"] != directory.DefaultServicePrincipal || da["JoinMethod"] != "invited" {
		t.Fatalf("delegated admin %v", da)
	}
	if all := call(t, srv, "ListDelegatedAdministrators", nil); all.Body["TotalCount"] != float64(1) {
		t.Fatalf("unfiltered list: %s", all.Raw)
	}
	if none := call(t, srv, "ListDelegatedAdministrators", map[string]string{"ServicePrincipal": "config.aliyuncs.com"}); none.Body["TotalCount"] != float64(0) {
		t.Fatalf("other principal: %s", none.Raw)
	}

	// The real SDK parses every shape.
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	c := sdkClient(t, hs.URL, creds)
	lreq := rm.CreateListAccountsRequest()
	lreq.IncludeTags = requests.NewBoolean(true)
	lresp, err := c.ListAccounts(lreq)
	if err != nil || len(lresp.Accounts.Account) != 2 || lresp.TotalCount != 2 {
		t.Fatalf("SDK ListAccounts: %+v, %v", lresp, err)
	}
	greq := rm.CreateGetAccountRequest()
	greq.AccountId = uid(1)
	greq.IncludeTags = requests.NewBoolean(true)
	gresp, err := c.GetAccount(greq)
	if err != nil || gresp.Account.AccountId != uid(1) || gresp.Account.DisplayName != "One" {
		t.Fatalf("SDK GetAccount: %+v, %v", gresp, err)
	}
	dreq := rm.CreateListDelegatedAdministratorsRequest()
	dresp, err := c.ListDelegatedAdministrators(dreq)
	if err != nil || len(dresp.Accounts.Account) != 1 || dresp.Accounts.Account[0].DelegationEnabledTime != fmt.Sprint(at.UnixMilli()) {
		t.Fatalf("SDK ListDelegatedAdministrators: %+v, %v", dresp, err)
	}
	rresp, err := c.GetResourceDirectory(rm.CreateGetResourceDirectoryRequest())
	if err != nil || rresp.ResourceDirectory.MasterAccountId != owner || rresp.ResourceDirectory.CreateTime != "2026-03-01T08:00:00.000Z" {
		t.Fatalf("SDK GetResourceDirectory: %+v, %v", rresp, err)
	}
	hreq := rm.CreateInviteAccountToResourceDirectoryRequest()
	hreq.TargetEntity, hreq.TargetType, hreq.Note = "bob@example.com", "Email", "hi *~+ there"
	hresp, err := c.InviteAccountToResourceDirectory(hreq)
	if err != nil || hresp.Handshake.TargetEntity != "bob@example.com" || hresp.Handshake.Note != "hi *~+ there" ||
		hresp.Handshake.Status != "Pending" || hresp.Handshake.MasterAccountId != owner {
		t.Fatalf("SDK Invite: %+v, %v", hresp, err)
	}
	lhresp, err := c.ListHandshakesForResourceDirectory(rm.CreateListHandshakesForResourceDirectoryRequest())
	if err != nil || lhresp.TotalCount != 1 || lhresp.Handshakes.Handshake[0].HandshakeId != hresp.Handshake.HandshakeId {
		t.Fatalf("SDK ListHandshakes: %+v, %v", lhresp, err)
	}
}

// TestShapeDifferenceMatters proves the shape test above is not vacuous:
// the SDK refuses ListAccounts' nested Tags in a GetAccount answer.
func TestShapeDifferenceMatters(t *testing.T) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"RequestId":"r","Account":{"AccountId":"1","Tags":{"Tag":[]}}}`)
	}))
	t.Cleanup(hs.Close)
	c := sdkClient(t, hs.URL, creds)
	req := rm.CreateGetAccountRequest()
	req.AccountId = "1"
	_, err := c.GetAccount(req)
	var ce *sdkerrors.ClientError
	if err == nil || !asClientError(err, &ce) || ce.ErrorCode() != sdkerrors.JsonUnmarshalErrorCode {
		t.Fatalf("GetAccount with nested Tags: %v, want %s", err, sdkerrors.JsonUnmarshalErrorCode)
	}
}

func asClientError(err error, target **sdkerrors.ClientError) bool {
	ce, ok := err.(*sdkerrors.ClientError)
	if ok {
		*target = ce
	}
	return ok
}

// sdkClient is a bare SDK client for endpoint (an httptest URL).
func sdkClient(t *testing.T, endpoint string, c cloudcreds.Credentials) *rm.Client {
	t.Helper()
	cfg := sdk.NewConfig().WithScheme("HTTP")
	cl, err := rm.NewClientWithOptions("cn-hangzhou", cfg, credentials.NewStsTokenCredential(c.AccessKeyID, c.AccessKeySecret, c.SecurityToken))
	if err != nil {
		t.Fatal(err)
	}
	cl.Domain = strings.TrimPrefix(endpoint, "http://")
	cl.SetNoProxy("127.0.0.1")
	return cl
}

func TestSDKErrorSurface(t *testing.T) {
	srv, _ := newServer(t, simulation.Options{})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	c := sdkClient(t, hs.URL, creds)
	_, err := c.ListAccounts(rm.CreateListAccountsRequest())
	se, ok := err.(*sdkerrors.ServerError)
	if !ok {
		t.Fatalf("error %T %v, want *errors.ServerError", err, err)
	}
	if se.HttpStatus() != 404 || se.ErrorCode() != "EntityNotExists.ResourceDirectory" || se.RequestId() == "" || se.HostId() != rdwire.HostID || se.Message() == "" {
		t.Fatalf("ServerError %d %q %q %q %q", se.HttpStatus(), se.ErrorCode(), se.RequestId(), se.HostId(), se.Message())
	}
	if got := se.RespHeaders["X-Acs-Request-Id"]; len(got) != 1 || got[0] != se.RequestId() {
		t.Fatalf("x-acs-request-id header %v, body RequestId %s", got, se.RequestId())
	}

	// A wrong secret: the SDK sees the server computed the same string to
	// sign, i.e. only the secret differs.
	bad := creds
	bad.AccessKeySecret = "wrong"
	_, err = sdkClient(t, hs.URL, bad).ListAccounts(rm.CreateListAccountsRequest())
	se, ok = err.(*sdkerrors.ServerError)
	if !ok || se.ErrorCode() != "SignatureDoesNotMatch" || !strings.Contains(se.Recommend(), "InvalidAccessKeySecret") {
		t.Fatalf("wrong secret: %v", err)
	}
}

func TestPagination(t *testing.T) {
	ctx := t.Context()
	srv, sim := enabledServer(t, simulation.Options{})
	seed := make([]directory.Account, 6)
	for i := range seed {
		seed[i] = directory.Account{AccountID: uid(i + 1), JoinTime: time.Date(2026, 1, 1, 0, 0, i+1, 0, time.UTC)}
	}
	if err := sim.SeedAccounts(ctx, seed); err != nil {
		t.Fatal(err)
	}
	ids := func(a answer) []string {
		var out []string
		for _, x := range a.Body["Accounts"].(map[string]any)["Account"].([]any) {
			out = append(out, x.(map[string]any)["AccountId"].(string))
		}
		return out
	}
	// 7 accounts in the Sim's order (by join time); pages must cut that list.
	all := call(t, srv, "ListAccounts", map[string]string{"PageSize": "100"})
	want := ids(all)
	if len(want) != 7 {
		t.Fatalf("%d accounts", len(want))
	}
	var got []string
	for page := 1; page <= 3; page++ {
		a := call(t, srv, "ListAccounts", map[string]string{"PageNumber": fmt.Sprint(page), "PageSize": "3"})
		if a.Body["TotalCount"] != float64(7) || a.Body["PageNumber"] != float64(page) || a.Body["PageSize"] != float64(3) {
			t.Fatalf("page %d: %s", page, a.Raw)
		}
		got = append(got, ids(a)...)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("pages %v, want %v", got, want)
	}
	if def := call(t, srv, "ListAccounts", nil); len(ids(def)) != 7 || def.Body["PageSize"] != float64(10) {
		t.Fatalf("default page size: %s", def.Raw)
	}
	if past := call(t, srv, "ListAccounts", map[string]string{"PageNumber": "99", "PageSize": "100"}); len(ids(past)) != 0 || past.Body["TotalCount"] != float64(7) {
		t.Fatalf("past the end: %s", past.Raw)
	}
	if huge := call(t, srv, "ListAccounts", map[string]string{"PageNumber": "9223372036854775807", "PageSize": "100"}); huge.Status != 200 || len(ids(huge)) != 0 {
		t.Fatalf("huge page number: %s", huge.Raw)
	}
	for _, bad := range []map[string]string{
		{"PageSize": "0"}, {"PageSize": "101"}, {"PageSize": "ten"}, {"PageSize": "-1"},
		{"PageNumber": "0"}, {"PageNumber": "x"},
	} {
		a := call(t, srv, "ListAccounts", bad)
		for k := range bad {
			// RD documents no code of its own: the gateway's, naming the parameter.
			wantCode(t, fmt.Sprint(bad), a, 400, "InvalidParameter")
			if msg, _ := a.Body["Message"].(string); !strings.Contains(msg, k) {
				t.Errorf("%v: message %q does not name %s", bad, msg, k)
			}
		}
	}
	for _, action := range []string{"ListHandshakesForResourceDirectory", "ListDelegatedAdministrators"} {
		wantCode(t, action+" PageSize 101", call(t, srv, action, map[string]string{"PageSize": "101"}), 400, "InvalidParameter")
	}
}

func TestFaults(t *testing.T) {
	srv, _ := enabledServer(t, simulation.Options{})

	srv.Inject(rdwire.Throttle("ListAccounts", 2))
	wantCode(t, "throttled 1", call(t, srv, "ListAccounts", nil), 400, "Throttling.User")
	wantOK(t, "other action unaffected", call(t, srv, "GetResourceDirectory", nil))
	wantCode(t, "throttled 2", call(t, srv, "ListAccounts", nil), 400, "Throttling.User")
	wantOK(t, "after Times", call(t, srv, "ListAccounts", nil))

	srv.Inject(rdwire.Unavailable("", 0)) // every action until cleared
	wantCode(t, "503 a", call(t, srv, "ListAccounts", nil), 503, "ServiceUnavailable")
	wantCode(t, "503 b", call(t, srv, "GetResourceDirectory", nil), 503, "ServiceUnavailable")
	srv.ClearFaults()
	wantOK(t, "cleared", call(t, srv, "GetResourceDirectory", nil))

	srv.Inject(rdwire.Fault{Action: "GetResourceDirectory", Times: 1, Status: 502, Body: "<html>Bad Gateway</html>"})
	if a := call(t, srv, "GetResourceDirectory", nil); a.Status != 502 || a.Raw != "<html>Bad Gateway</html>" {
		t.Fatalf("raw body fault: %d %s", a.Status, a.Raw)
	}
	srv.Inject(rdwire.Fail("GetResourceDirectory", 1, 500, "InternalError"))
	wantCode(t, "Fail", call(t, srv, "GetResourceDirectory", nil), 500, "InternalError")
	srv.Inject(rdwire.Fault{Action: "GetResourceDirectory", Times: 1, Code: "Custom.Code"})
	wantCode(t, "code without status", call(t, srv, "GetResourceDirectory", nil), 400, "Custom.Code")

	// Faults apply to authenticated calls only: a bad signature is still
	// a bad signature, and does not consume the fault.
	srv.Inject(rdwire.Throttle("GetResourceDirectory", 1))
	p := signed("POST", "GetResourceDirectory", nil, creds)
	p["RegionId"] = "elsewhere"
	wantCode(t, "unsigned", do(t, srv, "POST", "/?"+query(p), ""), 400, "SignatureDoesNotMatch")
	wantCode(t, "fault still queued", call(t, srv, "GetResourceDirectory", nil), 400, "Throttling.User")

	// Counting and the request log.
	srv.ResetCalls()
	call(t, srv, "ListAccounts", map[string]string{"PageSize": "7"})
	call(t, srv, "ListAccounts", nil)
	call(t, srv, "GetResourceDirectory", nil)
	if srv.Calls("ListAccounts") != 2 || srv.Calls("GetResourceDirectory") != 1 || srv.TotalCalls() != 3 {
		t.Fatalf("counts %v", srv.CallCounts())
	}
	reqs := srv.Requests()
	if len(reqs) != 3 || reqs[0].Action != "ListAccounts" || reqs[0].Params.Get("PageSize") != "7" || reqs[0].Params.Get("Signature") != "" || reqs[0].Status != 200 {
		t.Fatalf("request log %+v", reqs)
	}
}

// TestSlowFaultStopsWhenClientLeaves: a delayed answer does not hold the
// handler once the client has gone.
func TestSlowFaultStopsWhenClientLeaves(t *testing.T) {
	srv, _ := enabledServer(t, simulation.Options{})
	arrived := make(chan struct{})
	srv.Inject(rdwire.Fault{Action: "ListAccounts", Delay: time.Hour, Arrived: func() { close(arrived) }})
	ctx, cancel := context.WithCancel(t.Context())
	r := httptest.NewRequestWithContext(ctx, "POST", "/?"+query(signed("POST", "ListAccounts", nil, creds)), nil)
	done := make(chan struct{})
	go func() {
		srv.ServeHTTP(httptest.NewRecorder(), r)
		close(done)
	}()
	<-arrived
	cancel()
	<-done
	reqs := srv.Requests()
	if len(reqs) != 1 || reqs[0].Code != "ClientGone" {
		t.Fatalf("log %+v", reqs)
	}

	// A short delay answers normally.
	srv.ClearFaults()
	srv.Inject(rdwire.Slow("GetResourceDirectory", 1, time.Millisecond))
	wantOK(t, "slow", call(t, srv, "GetResourceDirectory", nil))
}

func TestConcurrentRequests(t *testing.T) {
	srv, _ := enabledServer(t, simulation.Options{})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	srv.Inject(rdwire.Throttle("", 10))
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			c := sdkClient(t, hs.URL, creds) // one SDK client per goroutine: it is not goroutine-safe
			req := rm.CreateInviteAccountToResourceDirectoryRequest()
			req.TargetEntity, req.TargetType = uid(100+i), "Account"
			for range 20 {
				_, err := c.InviteAccountToResourceDirectory(req)
				if err == nil {
					return
				}
				if se, ok := err.(*sdkerrors.ServerError); !ok || se.ErrorCode() != "Throttling.User" {
					t.Errorf("invite %d: %v", i, err)
					return
				}
				req = rm.CreateInviteAccountToResourceDirectoryRequest()
				req.TargetEntity, req.TargetType = uid(100+i), "Account"
			}
			t.Errorf("invite %d never got through", i)
		})
	}
	wg.Wait()
	if n := srv.Calls("InviteAccountToResourceDirectory"); n != 26 {
		t.Fatalf("%d calls, want 16 + 10 throttled", n)
	}
}

func TestStart(t *testing.T) {
	srv, _ := newServer(t, simulation.Options{})
	for _, addr := range []string{"0.0.0.0:0", "192.0.2.1:0", ":0", "nonsense"} {
		if _, _, err := srv.Start(addr); err == nil {
			t.Errorf("Start(%q) accepted a non-loopback address", addr)
		}
	}
	endpoint, stop, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stop(context.Background()) })
	req := rm.CreateEnableResourceDirectoryRequest()
	req.EnableMode = "CurrentAccount"
	resp, err := sdkClient(t, "http://"+endpoint, creds).EnableResourceDirectory(req)
	if err != nil || resp.ResourceDirectory.MasterAccountId != owner {
		t.Fatalf("EnableResourceDirectory via Start: %+v, %v", resp, err)
	}
	if err := stop(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestActions(t *testing.T) {
	want := []string{
		"CancelHandshake", "CreateFolder", "CreateResourceAccount", "DeregisterDelegatedAdministrator", "EnableResourceDirectory",
		"GetAccount", "GetFolder", "GetHandshake", "GetResourceDirectory", "InviteAccountToResourceDirectory", "ListAccounts",
		"ListDelegatedAdministrators", "ListFoldersForParent", "ListHandshakesForResourceDirectory", "MoveAccount",
		"RegisterDelegatedAdministrator",
	}
	if got := rdwire.Actions(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("Actions() = %v", got)
	}
}
