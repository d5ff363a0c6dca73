package rdwire_test

import (
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	rm "github.com/aliyun/alibaba-cloud-sdk-go/services/resourcemanager"

	"github.com/sase-multiaccount/backend/shared/local/rdwire"
	"github.com/sase-multiaccount/backend/shared/local/simulation"
	"github.com/sase-multiaccount/backend/shared/port/directory"
)

// steppingClock is a clock tests move by hand.
type steppingClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *steppingClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *steppingClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestOwnerConditionsAsRDCodes: each owner condition the simulation can be
// configured with comes out of EnableResourceDirectory as RD's 409 code.
func TestOwnerConditionsAsRDCodes(t *testing.T) {
	for _, code := range simulation.OwnerConditionCodes() {
		srv, _ := newServer(t, simulation.Options{OwnerConditions: []string{code}})
		wantCode(t, code, call(t, srv, "EnableResourceDirectory", map[string]string{"EnableMode": "CurrentAccount"}), 409, code)
	}
	if _, err := simulation.Open(simulation.Options{OwnerAccountID: owner, OwnerConditions: []string{"Unverified"}}); err == nil {
		t.Fatal("an unknown owner condition must be refused at Open")
	}
}

// TestTargetConditionsAsRDCodes: each target condition comes out of
// InviteAccountToResourceDirectory as RD's 409 code.
func TestTargetConditionsAsRDCodes(t *testing.T) {
	conds := map[string]string{}
	for i, code := range simulation.TargetConditionCodes() {
		conds[uid(20+i)] = code
	}
	srv, _ := enabledServer(t, simulation.Options{TargetConditions: conds})
	for target, code := range conds {
		wantCode(t, code, call(t, srv, "InviteAccountToResourceDirectory",
			map[string]string{"TargetEntity": target, "TargetType": "Account"}), 409, code)
	}
	if _, err := simulation.Open(simulation.Options{OwnerAccountID: owner, TargetConditions: map[string]string{uid(1): "Nope"}}); err == nil {
		t.Fatal("an unknown target condition must be refused at Open")
	}
}

// TestTimesAsRDGivesThem: directory and account times in milliseconds,
// handshake times in seconds, and ModifyTime moving with each change.
func TestTimesAsRDGivesThem(t *testing.T) {
	ctx := t.Context()
	clock := &steppingClock{t: time.Date(2026, 3, 1, 8, 0, 0, 250_000_000, time.UTC)}
	srv, sim := enabledServer(t, simulation.Options{Now: clock.now})
	rd := call(t, srv, "GetResourceDirectory", nil)
	if got := rd.Body["ResourceDirectory"].(map[string]any)["CreateTime"]; got != "2026-03-01T08:00:00.250Z" {
		t.Fatalf("directory CreateTime %v, want milliseconds", got)
	}
	inv := call(t, srv, "InviteAccountToResourceDirectory", map[string]string{"TargetEntity": uid(1), "TargetType": "Account"})
	h := inv.Body["Handshake"].(map[string]any)
	if h["CreateTime"] != "2026-03-01T08:00:00Z" || h["ModifyTime"] != "2026-03-01T08:00:00Z" {
		t.Fatalf("handshake times %v, want whole seconds", h)
	}
	id := h["HandshakeId"].(string)

	clock.add(90 * time.Second)
	if _, err := sim.AcceptInvitation(ctx, id, "One"); err != nil {
		t.Fatal(err)
	}
	got := call(t, srv, "GetHandshake", map[string]string{"HandshakeId": id}).Body["Handshake"].(map[string]any)
	if got["Status"] != "Accepted" || got["ModifyTime"] != "2026-03-01T08:01:30Z" || got["CreateTime"] != "2026-03-01T08:00:00Z" {
		t.Fatalf("accepted handshake %v: ModifyTime must move, CreateTime stay", got)
	}
	acc := call(t, srv, "GetAccount", map[string]string{"AccountId": uid(1)}).Body["Account"].(map[string]any)
	if acc["JoinTime"] != "2026-03-01T08:01:30.250Z" || acc["ModifyTime"] != "2026-03-01T08:01:30.250Z" {
		t.Fatalf("joined account %v", acc)
	}

	clock.add(time.Hour)
	if _, err := sim.RenameAccount(ctx, uid(1), "Renamed"); err != nil {
		t.Fatal(err)
	}
	list := call(t, srv, "ListAccounts", map[string]string{"PageSize": "100"})
	for _, a := range list.Body["Accounts"].(map[string]any)["Account"].([]any) {
		a := a.(map[string]any)
		if a["AccountId"] == uid(1) && (a["ModifyTime"] != "2026-03-01T09:01:30.250Z" || a["JoinTime"] != "2026-03-01T08:01:30.250Z") {
			t.Fatalf("renamed account %v: ModifyTime must move, JoinTime stay", a)
		}
	}

	// Cancelling moves the handshake's ModifyTime too.
	inv2 := call(t, srv, "InviteAccountToResourceDirectory", map[string]string{"TargetEntity": uid(2), "TargetType": "Account"})
	id2 := inv2.Body["Handshake"].(map[string]any)["HandshakeId"].(string)
	clock.add(5 * time.Second)
	c := call(t, srv, "CancelHandshake", map[string]string{"HandshakeId": id2}).Body["Handshake"].(map[string]any)
	if c["ModifyTime"] != "2026-03-01T09:01:35Z" || c["CreateTime"] != "2026-03-01T09:01:30Z" {
		t.Fatalf("cancelled handshake %v", c)
	}

	// The SDK adapter's parser is tested on both forms; the SDK itself
	// carries them as strings.
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	resp, err := sdkClient(t, hs.URL, creds).GetResourceDirectory(rm.CreateGetResourceDirectoryRequest())
	if err != nil || resp.ResourceDirectory.CreateTime != "2026-03-01T08:00:00.250Z" {
		t.Fatalf("SDK GetResourceDirectory: %+v, %v", resp, err)
	}
}

// TestTagFilters: ListAccounts applies Tag.N (an untagged account matches
// no filter), malformed tags are refused, and an invitation's tags are the
// account's once it joins.
func TestTagFilters(t *testing.T) {
	ctx := t.Context()
	srv, sim := enabledServer(t, simulation.Options{})
	if err := sim.SeedAccounts(ctx, []directory.Account{{AccountID: uid(1)}}); err != nil {
		t.Fatal(err)
	}
	if all := call(t, srv, "ListAccounts", nil); all.Body["TotalCount"] != float64(2) {
		t.Fatalf("unfiltered: %s", all.Raw)
	}
	f := call(t, srv, "ListAccounts", map[string]string{"Tag.1.Key": "env", "Tag.1.Value": "prod"})
	wantOK(t, "filtered", f)
	if f.Body["TotalCount"] != float64(0) || !strings.Contains(f.Raw, `"Account":[]`) {
		t.Fatalf("a tag filter must match no untagged account: %s", f.Raw)
	}
	wantCode(t, "value without key", call(t, srv, "ListAccounts", map[string]string{"Tag.1.Value": "prod"}), 400, "MissingParameter")
	wantCode(t, "Tag.21", call(t, srv, "ListAccounts", map[string]string{"Tag.21.Key": "k"}), 400, "InvalidParameter")
	inv := call(t, srv, "InviteAccountToResourceDirectory",
		map[string]string{"TargetEntity": uid(3), "TargetType": "Account", "Tag.1.Key": "env", "Tag.1.Value": "prod"})
	wantOK(t, "invite with tags", inv)
	if _, err := sim.AcceptInvitation(ctx, inv.Body["Handshake"].(map[string]any)["HandshakeId"].(string), ""); err != nil {
		t.Fatal(err)
	}
	tagged := call(t, srv, "ListAccounts", map[string]string{"Tag.1.Key": "env", "Tag.1.Value": "prod", "IncludeTags": "true"})
	if tagged.Body["TotalCount"] != float64(1) || !strings.Contains(tagged.Raw, `"AccountId":"`+uid(3)+`"`) ||
		!strings.Contains(tagged.Raw, `"Tags":{"Tag":[{"Key":"env","Value":"prod"}]}`) {
		t.Fatalf("the invited account carries the invitation's tags: %s", tagged.Raw)
	}
	if other := call(t, srv, "ListAccounts", map[string]string{"Tag.1.Key": "env", "Tag.1.Value": "dev"}); other.Body["TotalCount"] != float64(0) {
		t.Fatalf("another value matches nothing: %s", other.Raw)
	}

	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	req := rm.CreateListAccountsRequest()
	req.Tag = &[]rm.ListAccountsTag{{Key: "env", Value: "prod"}}
	req.IncludeTags = requests.NewBoolean(true)
	resp, err := sdkClient(t, hs.URL, creds).ListAccounts(req)
	if err != nil || resp.TotalCount != 1 || len(resp.Accounts.Account) != 1 || resp.Accounts.Account[0].AccountId != uid(3) ||
		len(resp.Accounts.Account[0].Tags.Tag) != 1 || resp.Accounts.Account[0].Tags.Tag[0].Key != "env" {
		t.Fatalf("SDK ListAccounts with Tag.1: %+v, %v", resp, err)
	}
}

// TestNoDelegatedAdministratorsIsAnArray: none is "Account":[], as RD
// answers, never null.
func TestNoDelegatedAdministratorsIsAnArray(t *testing.T) {
	srv, _ := enabledServer(t, simulation.Options{})
	for _, p := range []map[string]string{nil, {"ServicePrincipal": directory.DefaultServicePrincipal}} {
		a := call(t, srv, "ListDelegatedAdministrators", p)
		wantOK(t, "ListDelegatedAdministrators", a)
		if !strings.Contains(a.Raw, `"Accounts":{"Account":[]}`) {
			t.Fatalf("no administrators: %s", a.Raw)
		}
	}
}

// TestConcurrentCallFault: the fault answers RD's 429 with its code.
func TestConcurrentCallFault(t *testing.T) {
	srv, _ := enabledServer(t, simulation.Options{})
	srv.Inject(rdwire.ConcurrentCall("InviteAccountToResourceDirectory", 1))
	inv := map[string]string{"TargetEntity": uid(1), "TargetType": "Account"}
	wantCode(t, "refused", call(t, srv, "InviteAccountToResourceDirectory", inv), 429, "ConcurrentCallNotSupported")
	wantOK(t, "then accepted", call(t, srv, "InviteAccountToResourceDirectory", inv))
}
