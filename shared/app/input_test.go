package app_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aliyun/fc-runtime-go-sdk/fc"

	"github.com/sase-multiaccount/backend/shared/action"
	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/httpapi"
	"github.com/sase-multiaccount/backend/shared/port/directory"
)

// postFunctions are the functions that take a JSON body, with a valid body each.
var postFunctions = map[string]string{
	"enable-directory":           `{}`,
	"invite-accounts":            `{"Targets":[{"AccountId":"` + freshID + `"}]}`,
	"cancel-invitation":          `{"InvitationId":"h-doesnotexist"}`,
	"register-delegated-admin":   `{"AccountId":"` + daID + `"}`,
	"deregister-delegated-admin": `{"AccountId":"` + daID + `"}`,
	"add-members":                `{"Members":[{"AccountId":"` + candID + `"}]}`,
	"update-member-remark":       `{"AccountId":"` + saseID + `","Remark":"x"}`,
	"delete-members":             `{"AccountIds":["` + saseID + `"]}`,
}

func TestMalformedBodies(t *testing.T) {
	k := newKit(t)
	k.standard()
	cases := []struct {
		name, body, mention string
	}{
		{"empty", "", "empty"},
		{"blank", " \r\n\t ", "empty"},
		{"truncated", `{"Members":[`, "JSON"},
		{"missing value", `{"AccountId":}`, "not valid JSON"},
		{"single quotes", `{'AccountId':'x'}`, "not valid JSON"},
		{"trailing comma", `{"AccountId":"1",}`, "not valid JSON"},
		{"array", `[]`, "JSON object"},
		{"array of object", `[{"AccountId":"` + saseID + `"}]`, "JSON object"},
		{"string", `"hello"`, "JSON object"},
		{"null", `null`, "JSON object"},
		{"number", `42`, "JSON object"},
		{"true", `true`, "JSON object"},
		{"BOM", "\ufeff{}", "JSON object"},
		{"form encoded", `AccountId=1000000000000001`, "JSON object"},
		{"two objects", `{}{}`, "after the JSON object"},
		{"object then junk", `{} x`, "after the JSON object"},
		{"unknown field", `{"Nope":1}`, "Nope"},
		{"nested too deep", `{"Members":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`, "JSON"},
		{"unknown nested field", `{"Members":[{"AccountId":"` + candID + `","Colour":"red"}],"Targets":[{"Nope":1}],"AccountIds":["x"],"InvitationId":"x","AccountId":"x","Remark":"x","Bogus":true}`, "unknown field"},
	}
	for fn := range postFunctions {
		for _, tc := range cases {
			t.Run(fn+"/"+tc.name, func(t *testing.T) {
				before := k.snapshot()
				r := k.do(t, request{Fn: fn, As: ownerID, Body: tc.body})
				wantErr(t, r, 400, "MalformedRequest", tc.mention)
				if after := k.snapshot(); after != before {
					t.Fatalf("wrote:\n%s", diff(before, after))
				}
			})
		}
	}
}

func TestWrongTypes(t *testing.T) {
	k := newKit(t)
	k.standard()
	cases := []struct{ fn, body, mention string }{
		{"add-members", `{"Members":"` + candID + `"}`, "Members"},
		{"add-members", `{"Members":{"AccountId":"` + candID + `"}}`, "Members"},
		{"add-members", `{"Members":[1]}`, "Members"},
		{"add-members", `{"Members":[{"AccountId":1000000000000001}]}`, "AccountId"},
		{"add-members", `{"Members":[{"AccountId":"` + candID + `","Remark":["a"]}]}`, "Remark"},
		{"add-members", `{"Members":[{"AccountId":"` + candID + `"}],"DryRun":"yes"}`, "DryRun"},
		{"add-members", `{"Members":[{"AccountId":"` + candID + `"}],"DryRun":1}`, "DryRun"},
		{"update-member-remark", `{"AccountId":"` + saseID + `","Remark":5}`, "Remark"},
		{"update-member-remark", `{"AccountId":"` + saseID + `","Remark":"x","Version":"1"}`, "Version"},
		{"update-member-remark", `{"AccountId":"` + saseID + `","Remark":"x","Version":1.5}`, "Version"},
		{"update-member-remark", `{"AccountId":"` + saseID + `","Remark":"x","Version":1e30}`, "Version"},
		{"update-member-remark", `{"AccountId":"` + saseID + `","Remark":"x","Version":true}`, "Version"},
		{"update-member-remark", `{"AccountId":5000000000000005,"Remark":"x"}`, "AccountId"},
		{"delete-members", `{"AccountIds":"` + saseID + `"}`, "AccountIds"},
		{"delete-members", `{"AccountIds":[5000000000000005]}`, "AccountIds"},
		{"delete-members", `{"AccountIds":[["` + saseID + `"]]}`, "AccountIds"},
		{"invite-accounts", `{"Targets":{"AccountId":"` + freshID + `"}}`, "Targets"},
		{"invite-accounts", `{"Targets":["` + freshID + `"]}`, "Targets"},
		{"invite-accounts", `{"Targets":[{"AccountId":"` + freshID + `"}],"Note":7}`, "Note"},
		{"cancel-invitation", `{"InvitationId":7}`, "InvitationId"},
		{"register-delegated-admin", `{"AccountId":2000000000000002}`, "AccountId"},
		{"deregister-delegated-admin", `{"AccountId":null,"x":1}`, "x"},
	}
	for _, tc := range cases {
		t.Run(tc.fn+"/"+tc.body, func(t *testing.T) {
			before := k.snapshot()
			r := k.do(t, request{Fn: tc.fn, As: ownerID, Body: tc.body})
			wantErr(t, r, 400, "MalformedRequest", tc.mention)
			if after := k.snapshot(); after != before {
				t.Fatalf("wrote:\n%s", diff(before, after))
			}
		})
	}
}

// padTo returns body followed by spaces up to n bytes (still one JSON object).
func padTo(body string, n int) string { return body + strings.Repeat(" ", n-len(body)) }

func TestBodySizeLimit(t *testing.T) {
	k := newKit(t)
	fx := k.standard()
	body := `{"Members":[{"AccountId":"` + candID + `"}]}`
	const limit = 64 << 10

	// Exactly 64 KiB is accepted, plain and base64.
	r := k.do(t, request{Fn: "add-members", As: ownerID, Body: padTo(body, limit)})
	wantOK(t, r)
	del := k.post(t, "delete-members", ownerID, map[string]any{"AccountIds": []string{candID}})
	wantOK(t, del)
	r = k.do(t, request{Fn: "add-members", As: ownerID, Body: padTo(body, limit), Base64: true})
	wantOK(t, r)
	if _, ok := k.member(fx.dir.ID, candID); !ok {
		t.Fatal("the base64 64 KiB add-members did not add")
	}

	before := k.snapshot()
	for _, tc := range []struct {
		name string
		rq   request
	}{
		{"64 KiB + 1", request{Body: padTo(body, limit+1)}},
		{"64 KiB + 1 base64", request{Body: padTo(body, limit+1), Base64: true}},
		{"1 MiB", request{Body: padTo(body, 1<<20)}},
		{"1 MiB base64", request{Body: padTo(body, 1<<20), Base64: true}},
		{"1 MiB of remark", request{Body: `{"Members":[{"AccountId":"` + cand2ID + `","Remark":"` + strings.Repeat("a", 1<<20) + `"}]}`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, fn := range []string{"add-members", "update-member-remark", "enable-directory"} {
				rq := tc.rq
				rq.Fn, rq.As = fn, ownerID
				wantErr(t, k.do(t, rq), 413, "RequestEntityTooLarge", "64 KiB")
			}
		})
	}
	if after := k.snapshot(); after != before {
		t.Fatalf("oversized bodies wrote:\n%s", diff(before, after))
	}
}

func TestBase64Bodies(t *testing.T) {
	k := newKit(t)
	fx := k.standard()
	r := k.do(t, request{Fn: "update-member-remark", As: ownerID, Base64: true,
		Body: `{"AccountId":"` + saseID + `","Remark":"über 中文 😀"}`})
	wantOK(t, r)
	if m, _ := k.member(fx.dir.ID, saseID); m.Remark != "über 中文 😀" {
		t.Fatalf("remark = %q", m.Remark)
	}
	before := k.snapshot()
	for _, tc := range []struct{ name, raw, code, mention string }{
		{"not base64", "!!!not base64!!!", "MalformedRequest", "base64"},
		{"URL alphabet", base64.URLEncoding.EncodeToString([]byte(`{"AccountIds":["` + saseID + `"]}>>>??`)), "MalformedRequest", "base64"},
		{"truncated base64", base64.StdEncoding.EncodeToString([]byte(`{"AccountIds":["` + saseID + `"]}`))[:10], "MalformedRequest", "base64"},
		{"base64 of an array", base64.StdEncoding.EncodeToString([]byte(`["` + saseID + `"]`)), "MalformedRequest", "JSON object"},
		{"base64 of binary", base64.StdEncoding.EncodeToString([]byte{0xff, 0xfe, 0, 1, 2}), "MalformedRequest", "JSON object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Body is sent as is (already encoded), flagged base64.
			rq := request{Fn: "delete-members", As: ownerID, Body: tc.raw}
			payload, err := k.event(rq, "RAW-"+tc.name)
			if err != nil {
				t.Fatal(err)
			}
			var ev map[string]any
			if err := json.Unmarshal(payload, &ev); err != nil {
				t.Fatal(err)
			}
			ev["isBase64Encoded"] = true
			r := k.invokeRaw(t, "delete-members", ev)
			wantErr(t, r, 400, tc.code, tc.mention)
		})
	}
	if after := k.snapshot(); after != before {
		t.Fatalf("bad base64 bodies wrote:\n%s", diff(before, after))
	}
}

// invokeRaw invokes fn with an event map the test built itself.
func (k *kit) invokeRaw(tb testing.TB, fn string, ev map[string]any) response {
	tb.Helper()
	payload, err := json.Marshal(ev)
	if err != nil {
		tb.Fatal(err)
	}
	out, err := k.handlers[fn].Invoke(context.Background(), payload)
	if err != nil {
		tb.Fatalf("%s: function error: %v", fn, err)
	}
	var raw struct {
		StatusCode int               `json:"statusCode"`
		Headers    map[string]string `json:"headers"`
		Body       string            `json:"body"`
	}
	if err := json.Unmarshal(out, &raw); err != nil {
		tb.Fatal(err)
	}
	r := response{Status: raw.StatusCode, Headers: raw.Headers, Body: raw.Body}
	if err := k.check(request{Fn: fn, NoFCContext: true}, &r); err != nil {
		tb.Fatal(err)
	}
	return r
}

// badUIDs are strings that are not 16 ASCII digits.
var badUIDs = []string{
	"123", "100000000000001", "10000000000000011", "10000000000000a1", " 1000000000000001",
	"1000000000000001 ", "1000000000000001\n", "+100000000000001", "-100000000000001", "1e15",
	"١٠٠٠٠٠٠٠٠٠٠٠٠٠٠١", "１０００００００００００００１", "1000-0000-0000-01", "0x10000000000001",
}

func TestAccountIDValidation(t *testing.T) {
	k := newKit(t)
	k.standard()
	before := k.snapshot()
	for _, bad := range badUIDs {
		t.Run(bad, func(t *testing.T) {
			// A valid entry before the bad one: the whole request fails.
			r := k.post(t, "add-members", ownerID, map[string]any{"Members": []map[string]string{{"AccountId": candID}, {"AccountId": bad}}})
			wantErr(t, r, 400, "InvalidParameter.Members", "Members[1]", "16 digits")
			r = k.post(t, "delete-members", ownerID, map[string]any{"AccountIds": []string{saseID, bad}})
			wantErr(t, r, 400, "InvalidParameter.AccountIds", "AccountIds[1]", "16 digits")
			r = k.post(t, "update-member-remark", ownerID, map[string]any{"AccountId": bad, "Remark": "x"})
			wantErr(t, r, 400, "InvalidParameter.AccountId", "16 digits")
			r = k.post(t, "register-delegated-admin", ownerID, map[string]any{"AccountId": bad})
			wantErr(t, r, 400, "InvalidParameter.AccountId", "16 digits")
			r = k.post(t, "deregister-delegated-admin", ownerID, map[string]any{"AccountId": bad})
			wantErr(t, r, 400, "InvalidParameter.AccountId", "16 digits")
			r = k.post(t, "invite-accounts", ownerID, map[string]any{"Targets": []map[string]string{{"AccountId": freshID}, {"AccountId": bad}}})
			wantErr(t, r, 400, "InvalidParameter.Targets", "Targets[1]", "16 digits")
		})
	}
	t.Run("empty", func(t *testing.T) {
		r := k.post(t, "add-members", ownerID, map[string]any{"Members": []map[string]string{{"Remark": "no id"}}})
		wantErr(t, r, 400, "MissingParameter.Members[0].AccountId")
		r = k.post(t, "update-member-remark", ownerID, map[string]any{"Remark": "x"})
		wantErr(t, r, 400, "MissingParameter.AccountId")
		r = k.post(t, "register-delegated-admin", ownerID, map[string]any{})
		wantErr(t, r, 400, "MissingParameter.AccountId")
		r = k.post(t, "delete-members", ownerID, map[string]any{"AccountIds": []string{""}})
		wantErr(t, r, 400, "InvalidParameter.AccountIds", "AccountIds[0]")
	})
	if after := k.snapshot(); after != before {
		t.Fatalf("invalid UIDs wrote:\n%s", diff(before, after))
	}
}

func TestBatchSizes(t *testing.T) {
	k := newKit(t)
	fx := k.standard()
	ids := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = uid(8, i)
		}
		return out
	}
	items := func(ids []string) []map[string]string {
		out := make([]map[string]string, len(ids))
		for i, id := range ids {
			out[i] = map[string]string{"AccountId": id}
		}
		return out
	}
	before := k.snapshot()
	wantErr(t, k.post(t, "add-members", ownerID, map[string]any{"Members": []any{}}), 400, "MissingParameter.Members")
	wantErr(t, k.post(t, "add-members", ownerID, map[string]any{"Members": nil}), 400, "MissingParameter.Members")
	wantErr(t, k.post(t, "add-members", ownerID, map[string]any{}), 400, "MissingParameter.Members")
	wantErr(t, k.post(t, "add-members", ownerID, map[string]any{"Members": items(ids(101))}), 400, "InvalidParameter.Members", "101", "100")
	// 101 entries of one UID are still 101 entries.
	same := make([]string, 101)
	for i := range same {
		same[i] = candID
	}
	wantErr(t, k.post(t, "add-members", ownerID, map[string]any{"Members": items(same)}), 400, "InvalidParameter.Members", "101")
	wantErr(t, k.post(t, "delete-members", ownerID, map[string]any{"AccountIds": []string{}}), 400, "MissingParameter.AccountIds")
	wantErr(t, k.post(t, "delete-members", ownerID, map[string]any{}), 400, "MissingParameter.AccountIds")
	wantErr(t, k.post(t, "delete-members", ownerID, map[string]any{"AccountIds": ids(101)}), 400, "InvalidParameter.AccountIds", "101", "100")
	targets := make([]map[string]string, 21)
	for i := range targets {
		targets[i] = map[string]string{"AccountId": uid(7, i+100)}
	}
	wantErr(t, k.post(t, "invite-accounts", ownerID, map[string]any{"Targets": targets}), 400, "InvalidParameter.Targets", "21", "20")
	wantErr(t, k.post(t, "invite-accounts", ownerID, map[string]any{"Targets": []any{}}), 400, "MissingParameter.Targets")
	wantErr(t, k.post(t, "invite-accounts", ownerID, map[string]any{"Targets": targets[:1], "Note": strings.Repeat("n", 1025)}), 400, "InvalidParameter.Note", "1025")
	if after := k.snapshot(); after != before {
		t.Fatalf("refused batches wrote:\n%s", diff(before, after))
	}

	// Exactly 100 entries: every one gets a result (here: not in the directory).
	r := k.post(t, "add-members", ownerID, map[string]any{"Members": items(ids(100))})
	wantOK(t, r)
	var out struct {
		AddedCount int
		Results    []struct{ AccountId, Status, Code string }
	}
	r.decode(t, &out)
	if out.AddedCount != 0 || len(out.Results) != 100 {
		t.Fatalf("100 unknown accounts: AddedCount %d, %d results", out.AddedCount, len(out.Results))
	}
	for i, res := range out.Results {
		if res.AccountId != uid(8, i) || res.Status != "Failed" || res.Code != "NotInDirectory" {
			t.Fatalf("result %d = %+v", i, res)
		}
	}
	r = k.post(t, "delete-members", ownerID, map[string]any{"AccountIds": ids(100)})
	wantOK(t, r)
	wantOK(t, k.post(t, "invite-accounts", ownerID, map[string]any{"Targets": targets[:20], "Note": strings.Repeat("注", 1024)}))
	_ = fx
}

func TestRemarkLength(t *testing.T) {
	k := newKit(t)
	fx := k.standard()
	cases := []struct {
		name   string
		remark string
		ok     bool
	}{
		{"empty", "", true},
		{"256 ASCII", strings.Repeat("a", 256), true},
		{"257 ASCII", strings.Repeat("a", 257), false},
		{"256 CJK (768 bytes)", strings.Repeat("中", 256), true},
		{"257 CJK", strings.Repeat("中", 257), false},
		{"256 emoji (1024 bytes)", strings.Repeat("😀", 256), true},
		{"257 emoji", strings.Repeat("😀", 257), false},
		{"255 ASCII + é", strings.Repeat("a", 255) + "é", true},
		{"128 e+combining acute = 256 code points", strings.Repeat("e\u0301", 128), true},
		{"129 e+combining acute = 258 code points", strings.Repeat("e\u0301", 129), false},
		{"spaces and punctuation", "  备注: SASE/prod — 👩‍💻 ok  ", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := k.snapshot()
			r := k.post(t, "update-member-remark", ownerID, map[string]any{"AccountId": saseID, "Remark": tc.remark})
			if tc.ok {
				wantOK(t, r)
				if m, _ := k.member(fx.dir.ID, saseID); m.Remark != tc.remark {
					t.Fatalf("stored remark %q, want %q", m.Remark, tc.remark)
				}
			} else {
				wantErr(t, r, 400, "InvalidParameter.Remark", "256")
				if after := k.snapshot(); after != before {
					t.Fatalf("wrote:\n%s", diff(before, after))
				}
			}
			// add-members applies the same rule to each entry (DryRun: no write).
			r = k.post(t, "add-members", ownerID, map[string]any{"DryRun": true,
				"Members": []map[string]string{{"AccountId": candID, "Remark": tc.remark}}})
			if tc.ok {
				wantOK(t, r)
			} else {
				wantErr(t, r, 400, "InvalidParameter.Members[0].Remark", "256")
			}
		})
	}
}

func TestRemarkControlCharacters(t *testing.T) {
	k := newKit(t)
	k.standard()
	before := k.snapshot()
	for _, c := range []string{"\x00", "\t", "\n", "\r", "\x1b", "\x7f", "\u0085", "\u2028", "\u2029"} {
		remark := "before" + c + "after"
		t.Run(fmt.Sprintf("%U", []rune(c)[0]), func(t *testing.T) {
			r := k.post(t, "update-member-remark", ownerID, map[string]any{"AccountId": saseID, "Remark": remark})
			wantErr(t, r, 400, "InvalidParameter.Remark", "control character", fmt.Sprintf("U+%04X", []rune(c)[0]))
			r = k.post(t, "add-members", ownerID, map[string]any{"Members": []map[string]string{{"AccountId": candID, "Remark": remark}}})
			wantErr(t, r, 400, "InvalidParameter.Members[0].Remark", "control character")
		})
	}
	if after := k.snapshot(); after != before {
		t.Fatalf("remarks with control characters wrote:\n%s", diff(before, after))
	}
}

func TestQueryValidation(t *testing.T) {
	k := newKit(t)
	k.standard()
	before := k.snapshot()
	type qc struct {
		fn      string
		query   map[string]string
		status  int
		code    string
		mention []string
	}
	var cases []qc
	for _, fn := range []string{"list-members", "list-candidates", "list-invitations", "list-audit-events"} {
		for _, v := range []string{"0", "101", "-1", "abc", "1.5", " 5", "1e1", "99999999999999999999", "２０"} {
			cases = append(cases, qc{fn, map[string]string{"MaxResults": v}, 400, "InvalidParameter.MaxResults", []string{"1 to 100"}})
		}
		for _, v := range []string{"1", "100", "+5"} {
			cases = append(cases, qc{fn, map[string]string{"MaxResults": v}, 200, "", nil})
		}
		cases = append(cases,
			qc{fn, map[string]string{"MaxResult": "5"}, 400, "MalformedRequest", []string{"MaxResult"}},
			qc{fn, map[string]string{"maxresults": "5"}, 400, "MalformedRequest", []string{"maxresults"}},
			qc{fn, map[string]string{"foo": "bar", "MaxResults": "5"}, 400, "MalformedRequest", []string{"foo"}},
		)
	}
	cases = append(cases,
		qc{"describe-setup", map[string]string{"verbose": "1"}, 400, "MalformedRequest", []string{"verbose"}},
		qc{"list-members", map[string]string{"SortBy": "Name"}, 400, "InvalidParameter.SortBy", []string{"Name", "AddTime", "AccountId"}},
		qc{"list-members", map[string]string{"SortBy": "addtime"}, 400, "InvalidParameter.SortBy", []string{"addtime"}},
		qc{"list-members", map[string]string{"SortBy": "AddTime,AccountId"}, 400, "InvalidParameter.SortBy", nil},
		qc{"list-members", map[string]string{"SortOrder": "desc"}, 400, "InvalidParameter.SortOrder", []string{"desc", "Asc"}},
		qc{"list-members", map[string]string{"SortOrder": "Up"}, 400, "InvalidParameter.SortOrder", nil},
		qc{"list-members", map[string]string{"SortBy": "AccountId", "SortOrder": "Asc", "Keyword": "x"}, 200, "", nil},
		qc{"list-members", map[string]string{"Keyword": strings.Repeat("k", 257)}, 400, "InvalidParameter.Keyword", []string{"257"}},
		qc{"list-members", map[string]string{"Keyword": strings.Repeat("中", 256)}, 200, "", nil},
		qc{"list-candidates", map[string]string{"Keyword": strings.Repeat("k", 257)}, 400, "InvalidParameter.Keyword", nil},
		qc{"list-candidates", map[string]string{"SortBy": "AccountId"}, 400, "MalformedRequest", []string{"SortBy"}},
		qc{"list-invitations", map[string]string{"Status": "Bogus"}, 400, "InvalidParameter.Status", []string{"Bogus", "Pending"}},
		qc{"list-invitations", map[string]string{"Status": "pending"}, 400, "InvalidParameter.Status", nil},
		qc{"list-invitations", map[string]string{"Status": "Expired"}, 200, "", nil},
		qc{"list-audit-events", map[string]string{"Keyword": "x"}, 400, "MalformedRequest", []string{"Keyword"}},
	)
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc.fn, tc.query), func(t *testing.T) {
			r := k.get(t, tc.fn, ownerID, tc.query)
			if tc.status == 200 {
				wantOK(t, r)
				return
			}
			wantErr(t, r, tc.status, tc.code, tc.mention...)
		})
	}
	if after := k.snapshot(); after != before {
		t.Fatalf("GET requests wrote:\n%s", diff(before, after))
	}
}

// TestPostRejectsQuery: a write takes its input from the body only; a query
// parameter is refused rather than ignored (?DryRun=true must not write).
func TestPostRejectsQuery(t *testing.T) {
	k := newKit(t)
	k.standard()
	before := k.snapshot()
	for fn, body := range postFunctions {
		for _, q := range []map[string]string{{"DryRun": "true"}, {"AccountId": saseID}, {"x": ""}} {
			r := k.do(t, request{Fn: fn, As: ownerID, Body: body, Query: q})
			for key := range q {
				wantErr(t, r, 400, "MalformedRequest", key, "query")
			}
		}
	}
	if after := k.snapshot(); after != before {
		t.Fatalf("POST with a query wrote:\n%s", diff(before, after))
	}
}

func TestMethodNotAllowed(t *testing.T) {
	k := newKit(t)
	k.standard()
	before := k.snapshot()
	for _, ep := range k.app.Endpoints() {
		for _, m := range []string{"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "TRACE", "CONNECT", noMethod} {
			if m == ep.Method {
				continue
			}
			for _, as := range []string{ownerID, ""} {
				r := k.do(t, request{Fn: ep.Name, Method: m, As: as, Body: postFunctions[ep.Name]})
				wantErr(t, r, 405, "MethodNotAllowed", ep.Method)
			}
		}
		// The right method in lower case is the same method.
		r := k.do(t, request{Fn: ep.Name, Method: strings.ToLower(ep.Method), As: strangerID, Body: postFunctions[ep.Name]})
		if r.Status == 405 {
			t.Errorf("%s: %s in lower case answered 405", ep.Name, ep.Method)
		}
	}
	if after := k.snapshot(); after != before {
		t.Fatalf("wrong methods wrote:\n%s", diff(before, after))
	}
}

func TestCORS(t *testing.T) {
	const console = "https://sase.console.aliyun.com"
	t.Run("configured origin", func(t *testing.T) {
		k := newKit(t, withOrigins(console+", https://other.example"))
		k.standard()
		for _, ep := range k.app.Endpoints() {
			// Preflight: no token needed, 204, CORS headers for the origin.
			r := k.do(t, request{Fn: ep.Name, Method: http.MethodOptions,
				Headers: map[string]string{"Origin": console, "Access-Control-Request-Method": ep.Method,
					"Access-Control-Request-Headers": "authorization,content-type"}})
			if r.Status != 204 {
				t.Fatalf("%s preflight: %s", ep.Name, r)
			}
			h := r.Headers
			if h["Access-Control-Allow-Origin"] != console || !strings.Contains(h["Access-Control-Allow-Methods"], ep.Method) ||
				!strings.Contains(h["Access-Control-Allow-Headers"], "Authorization") || !strings.Contains(h["Access-Control-Allow-Headers"], "Content-Type") ||
				h["Vary"] != "Origin" || h["Access-Control-Max-Age"] == "" {
				t.Errorf("%s preflight headers %v", ep.Name, h)
			}
			// An origin not configured gets no CORS headers (lower-case header name too).
			r = k.do(t, request{Fn: ep.Name, Method: http.MethodOptions, Headers: map[string]string{"origin": "https://evil.example"}})
			if r.Status != 204 || hasCORS(r.Headers) {
				t.Errorf("%s preflight from a foreign origin: %d %v", ep.Name, r.Status, r.Headers)
			}
		}
		// Real responses, success and error, carry the headers for the origin only.
		for _, as := range []string{ownerID, strangerID, ""} {
			r := k.do(t, request{Fn: "list-members", As: as, Headers: map[string]string{"origin": console}})
			if r.Headers["Access-Control-Allow-Origin"] != console || !strings.Contains(r.Headers["Access-Control-Expose-Headers"], "X-Request-Id") {
				t.Errorf("list-members as %q from the console: %d %v", as, r.Status, r.Headers)
			}
			r = k.do(t, request{Fn: "list-members", As: as, Headers: map[string]string{"Origin": "https://sase.console.aliyun.com.evil.example"}})
			if hasCORS(r.Headers) {
				t.Errorf("list-members as %q from a look-alike origin got CORS headers %v", as, r.Headers)
			}
		}
	})
	t.Run("none configured", func(t *testing.T) {
		k := newKit(t)
		k.standard()
		r := k.do(t, request{Fn: "add-members", Method: http.MethodOptions, Headers: map[string]string{"Origin": console}})
		if r.Status != 204 || hasCORS(r.Headers) {
			t.Errorf("preflight with no origins configured: %d %v", r.Status, r.Headers)
		}
		r = k.get(t, "list-members", ownerID, nil)
		wantOK(t, r)
		if hasCORS(r.Headers) {
			t.Errorf("CORS headers with no origins configured: %v", r.Headers)
		}
	})
	t.Run("wildcard", func(t *testing.T) {
		k := newKit(t, withOrigins("*"))
		r := k.do(t, request{Fn: "describe-setup", Method: http.MethodOptions, Headers: map[string]string{"Origin": "https://any.example"}})
		if r.Headers["Access-Control-Allow-Origin"] != "https://any.example" {
			t.Errorf("wildcard preflight: %v", r.Headers)
		}
		// No Origin header: not a CORS request, no headers.
		r = k.do(t, request{Fn: "describe-setup", Method: http.MethodOptions})
		if hasCORS(r.Headers) {
			t.Errorf("preflight without Origin: %v", r.Headers)
		}
	})
}

func hasCORS(h map[string]string) bool {
	for k := range h {
		if strings.HasPrefix(strings.ToLower(k), "access-control-") {
			return true
		}
	}
	return false
}

func TestRequestID(t *testing.T) {
	k := newKit(t)
	k.standard()
	// The FC request ID wins (the kit checks header == body == FC ID).
	r := k.get(t, "describe-setup", ownerID, nil)
	if r.Headers["X-Request-Id"] != r.RequestID {
		t.Fatalf("X-Request-Id %q, FC request ID %q", r.Headers["X-Request-Id"], r.RequestID)
	}
	// Without an FC context, requestContext.requestId is used; for errors too.
	for _, as := range []string{ownerID, ""} {
		rq := request{Fn: "describe-setup", As: as}
		payload, err := k.event(rq, "CTX-REQUEST-ID-1")
		if err != nil {
			t.Fatal(err)
		}
		var ev map[string]any
		if err := json.Unmarshal(payload, &ev); err != nil {
			t.Fatal(err)
		}
		r := k.invokeRaw(t, "describe-setup", ev)
		if r.Headers["X-Request-Id"] != "CTX-REQUEST-ID-1" || r.str("RequestId") != "CTX-REQUEST-ID-1" {
			t.Errorf("as %q: request ID %q / %q, want the requestContext one", as, r.Headers["X-Request-Id"], r.str("RequestId"))
		}
		// Neither: a fresh ID, still the same in header and body, unique.
		delete(ev["requestContext"].(map[string]any), "requestId")
		r1 := k.invokeRaw(t, "describe-setup", ev)
		r2 := k.invokeRaw(t, "describe-setup", ev)
		if r1.Headers["X-Request-Id"] == "" || r1.Headers["X-Request-Id"] == r2.Headers["X-Request-Id"] {
			t.Errorf("generated request IDs %q and %q", r1.Headers["X-Request-Id"], r2.Headers["X-Request-Id"])
		}
	}
}

// TestEventShapes: the FC event may omit optional parts (no headers map, no
// query map, no body, null fields); none of it may crash a function.
func TestEventShapes(t *testing.T) {
	k := newKit(t)
	k.standard()
	tok := "Bearer " + k.token(ownerID)
	for name, ev := range map[string]map[string]any{
		"empty event":          {},
		"null everything":      {"version": nil, "rawPath": nil, "body": nil, "isBase64Encoded": nil, "headers": nil, "queryParameters": nil, "requestContext": nil},
		"no http":              {"headers": map[string]string{"Authorization": tok}, "requestContext": map[string]any{"requestId": "x"}},
		"GET without body":     {"headers": map[string]string{"authorization": tok}, "requestContext": map[string]any{"http": map[string]any{"method": "GET"}}},
		"POST without body":    {"headers": map[string]string{"AUTHORIZATION": tok}, "requestContext": map[string]any{"http": map[string]any{"method": "POST"}}},
		"POST null body":       {"headers": map[string]string{"Authorization": tok}, "body": nil, "isBase64Encoded": true, "requestContext": map[string]any{"http": map[string]any{"method": "POST"}}},
		"query null":           {"headers": map[string]string{"Authorization": tok}, "queryParameters": nil, "requestContext": map[string]any{"http": map[string]any{"method": "GET"}}},
		"long request id":      {"requestContext": map[string]any{"requestId": strings.Repeat("r", 10000)}},
		"request id non-ASCII": {"requestContext": map[string]any{"requestId": "请求\u0000<script>"}},
	} {
		for _, ep := range k.app.Endpoints() {
			r := k.invokeRaw(t, ep.Name, ev)
			if r.Status >= 500 {
				t.Errorf("%s with %s: %s", ep.Name, name, r)
			}
		}
	}
	// A payload that is not a JSON event is an invocation error, not a panic.
	for _, p := range []string{"", "[]", "null", `{"headers":"x"}`, `{"requestContext":{"http":{"method":5}}}`} {
		func() {
			defer func() {
				if v := recover(); v != nil {
					t.Errorf("payload %q panicked: %v", p, v)
				}
			}()
			out, err := k.handlers["list-members"].Invoke(context.Background(), []byte(p))
			if err == nil && strings.Contains(string(out), `"statusCode":5`) {
				t.Errorf("payload %q: %s", p, out)
			}
		}()
	}
}

// ---- fuzz-ish ----------------------------------------------------------------

// randomJSON produces a random JSON value that leans towards the shapes the
// functions accept, so that decoding and validation are both exercised.
func randomJSON(rng *rand.Rand, depth int) any {
	keys := []string{"Members", "AccountId", "AccountIds", "Remark", "DryRun", "Version", "Targets", "Email", "Note",
		"InvitationId", "x", "", "accountid", "\u0000", "RequestId", "__proto__"}
	strs := []string{"", candID, saseID, daID, ownerID, strangerID, "h-x", "a@b.co", "中文", "😀", "\x00", "\n",
		strings.Repeat("z", 300), "1000000000000001 ", "null", "{}", "-1"}
	switch n := rng.IntN(10); {
	case depth > 3 || n < 3:
		return strs[rng.IntN(len(strs))]
	case n == 3:
		return []any{nil, true, false, 0, -1, 1, 1.5, 1e300, 9223372036854775807, -9223372036854775808}[rng.IntN(10)]
	case n < 6:
		arr := make([]any, rng.IntN(5))
		for i := range arr {
			arr[i] = randomJSON(rng, depth+1)
		}
		return arr
	default:
		obj := map[string]any{}
		for range rng.IntN(5) {
			obj[keys[rng.IntN(len(keys))]] = randomJSON(rng, depth+1)
		}
		return obj
	}
}

// randomBody returns a random request body: JSON (mostly objects), mangled
// JSON, or noise.
func randomBody(rng *rand.Rand, valid []string) string {
	switch rng.IntN(6) {
	case 0:
		b := make([]byte, rng.IntN(64))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		return string(b)
	case 1: // a valid body cut or mutated
		v := valid[rng.IntN(len(valid))]
		if v == "" {
			return v
		}
		b := []byte(v)
		const junk = "{}[]\",:0a\\ "
		b[rng.IntN(len(b))] = junk[rng.IntN(len(junk))]
		return string(b[:rng.IntN(len(b)+1)])
	default:
		obj := map[string]any{}
		for range 1 + rng.IntN(4) {
			m := randomJSON(rng, 1)
			if o, ok := m.(map[string]any); ok {
				for k, v := range o {
					obj[k] = v
				}
			}
		}
		if rng.IntN(5) == 0 {
			b, _ := json.Marshal(randomJSON(rng, 0))
			return string(b)
		}
		b, _ := json.Marshal(obj)
		return string(b)
	}
}

func TestRandomInputsNever5xx(t *testing.T) {
	k := newKit(t)
	k.standard()
	rng := rand.New(rand.NewPCG(20261124, 1))
	var valid []string
	for _, v := range postFunctions {
		valid = append(valid, v)
	}
	const perFunction = 150
	for _, ep := range k.app.Endpoints() {
		for i := range perFunction {
			rq := request{Fn: ep.Name, As: []string{ownerID, daID, ownerID}[i%3]}
			if ep.Method == http.MethodPost {
				rq.Body = randomBody(rng, valid)
				rq.Base64 = rng.IntN(8) == 0
			} else {
				rq.Query = map[string]string{}
				for range rng.IntN(4) {
					key := []string{"MaxResults", "NextToken", "Keyword", "SortBy", "SortOrder", "Status", "x"}[rng.IntN(7)]
					val, _ := randomJSON(rng, 3).(string)
					if rng.IntN(2) == 0 {
						val = fmt.Sprint(rng.IntN(300) - 100)
					}
					rq.Query[key] = val
				}
			}
			r, err := k.invoke(rq)
			if err != nil {
				t.Fatalf("body %q query %v: %v", rq.Body, rq.Query, err)
			}
			// A valid token and the right method: no 401/405; the caller's
			// role may be denied (the DA, or anyone after a random
			// deregister-delegated-admin happened to succeed).
			switch r.Status {
			case 200, 400, 403, 404, 409, 413:
			default:
				t.Fatalf("%s body %q query %v: unexpected %s", ep.Name, rq.Body, rq.Query, r)
			}
		}
	}
}

// FuzzPostBodies runs its seeds with go test; go test -fuzz=FuzzPostBodies
// explores further. Whatever the body, no function answers 5xx or breaks the
// envelope.
func FuzzPostBodies(f *testing.F) {
	for _, v := range postFunctions {
		f.Add(v, false)
	}
	for _, s := range []string{"", "null", "[]", `{"Members":[{"AccountId":"` + candID + `","Remark":"\u2028"}]}`,
		`{"AccountId":"` + saseID + `","Remark":"x","Version":-9223372036854775808}`, `{"AccountIds":[null,null]}`,
		`{"Targets":[{"Email":"A@B.CO"},{"Email":"a@b.co"}]}`, `{"InvitationId":"h-` + strings.Repeat("x", 70) + `"}`} {
		f.Add(s, false)
		f.Add(base64.StdEncoding.EncodeToString([]byte(s)), true)
	}
	k := newKit(f)
	k.standard()
	var fns []string
	for fn := range postFunctions {
		fns = append(fns, fn)
	}
	var n atomic.Int64
	f.Fuzz(func(t *testing.T, body string, b64 bool) {
		fn := fns[int(n.Add(1))%len(fns)]
		rq := request{Fn: fn, As: ownerID, Body: body}
		if b64 {
			// Send the body as given, flagged base64 (it may not decode).
			payload, err := k.event(rq, "FUZZ")
			if err != nil {
				t.Skip()
			}
			var ev map[string]any
			if err := json.Unmarshal(payload, &ev); err != nil {
				t.Fatal(err)
			}
			ev["isBase64Encoded"] = true
			k.invokeRaw(t, fn, ev)
			return
		}
		if _, err := k.invoke(rq); err != nil {
			t.Fatal(err)
		}
	})
}

// ---- upstream failures ----------------------------------------------------------

// failingDir fails every call while err is set.
type failingDir struct {
	directory.Service
	err atomic.Pointer[error]
}

func (f *failingDir) fail() error {
	if p := f.err.Load(); p != nil {
		return *p
	}
	return nil
}

func (f *failingDir) GetDirectory(ctx context.Context) (directory.Directory, error) {
	if err := f.fail(); err != nil {
		return directory.Directory{}, err
	}
	return f.Service.GetDirectory(ctx)
}

func (f *failingDir) ListAccounts(ctx context.Context) ([]directory.Account, error) {
	if err := f.fail(); err != nil {
		return nil, err
	}
	return f.Service.ListAccounts(ctx)
}

// TestUpstreamFailures: RD trouble maps to 503/429 with a message naming the
// service; an unexpected error is a 500 InternalError that says nothing of
// the cause (which goes to the log with the request ID).
func TestUpstreamFailures(t *testing.T) {
	var fd *failingDir
	k := newKit(t, withDirectoryWrapper(func(d directory.Service) directory.Service {
		fd = &failingDir{Service: d}
		return fd
	}))
	k.standard()
	cases := []struct {
		err     error
		status  int
		code    string
		mention string
	}{
		{apperr.Unavailable("Resource Directory", errors.New("connection refused")), 503, "ServiceUnavailable", "Resource Directory"},
		{apperr.Throttled("Resource Directory", errors.New("Throttling.User")), 429, "Throttling", "Resource Directory"},
		{errors.New("dial tcp 10.0.0.1:443: AccessKeySecret=hunter2"), 500, "InternalError", "request ID"},
	}
	for _, tc := range cases {
		fd.err.Store(&tc.err)
		for _, warm := range []bool{false, true} {
			if !warm {
				k.app.Invalidate()
			}
			// Cold: the role check fails; warm (MA cached before the failure): the use case does.
			rq := request{Fn: "add-members", As: ownerID, Allow5xx: true, Body: map[string]any{"Members": []map[string]string{{"AccountId": candID}}}}
			r := k.do(t, rq)
			wantErr(t, r, tc.status, tc.code, tc.mention)
			if strings.Contains(r.Body, "hunter2") || strings.Contains(r.Body, "10.0.0.1") {
				t.Errorf("the cause leaked to the caller: %s", r.Body)
			}
			if tc.status == 500 && !strings.Contains(k.logs.String(), r.RequestID) {
				t.Errorf("the 500 was not logged with its request ID")
			}
			fd.err.Store(nil)
			wantOK(t, k.get(t, "describe-setup", ownerID, nil)) // warm the MA's role again
			fd.err.Store(&tc.err)
		}
	}
	fd.err.Store(nil)
}

// TestOneLogLinePerRequest: every request logs one JSON line with its ID,
// function, caller, role and status, and never the token.
func TestOneLogLinePerRequest(t *testing.T) {
	k := newKit(t)
	k.standard()
	start := len(k.logs.String()) // whatever start-up logged
	rs := []response{
		k.get(t, "list-members", daID, nil),
		k.get(t, "list-members", strangerID, nil),
		k.do(t, request{Fn: "list-members"}),
		k.post(t, "add-members", ownerID, "{"),
	}
	lines := strings.Split(strings.TrimSpace(k.logs.String()[start:]), "\n")
	if len(lines) != len(rs) {
		t.Fatalf("%d log lines for %d requests:\n%s", len(lines), len(rs), k.logs.String())
	}
	for i, line := range lines {
		var l map[string]any
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if l["request_id"] != rs[i].RequestID || l["status"] != float64(rs[i].Status) || l["function"] == nil || l["duration_ms"] == nil {
			t.Errorf("log line %d = %v for %s", i, l, rs[i])
		}
		for _, tok := range k.tokens {
			if strings.Contains(line, tok) {
				t.Errorf("log line %d holds a token", i)
			}
		}
	}
	if l := lines[0]; !strings.Contains(l, `"account":"`+daID+`"`) || !strings.Contains(l, `"role":"DelegatedAdministrator"`) {
		t.Errorf("log line of the DA's request: %s", l)
	}
}

// TestInternalErrors: a panic, an untyped error or an unencodable result in
// a function is a 500 InternalError with the envelope and a generic message;
// the cause goes to the log with the request ID, never to the caller.
func TestInternalErrors(t *testing.T) {
	k := newKit(t)
	k.standard()
	for name, handle := range map[string]func(context.Context, *httpapi.Request) (any, error){
		"panic":       func(context.Context, *httpapi.Request) (any, error) { panic("boom: AccessKeySecret=hunter2") },
		"nil deref":   func(_ context.Context, r *httpapi.Request) (any, error) { return *(*int)(nil), nil },
		"plain error": func(context.Context, *httpapi.Request) (any, error) { return nil, errors.New("db password hunter2") },
		"internal apperr": func(context.Context, *httpapi.Request) (any, error) {
			return nil, apperr.Internal(errors.New("hunter2"))
		},
		"unencodable": func(context.Context, *httpapi.Request) (any, error) { return map[string]any{"x": math.NaN()}, nil },
	} {
		t.Run(name, func(t *testing.T) {
			ep := httpapi.Endpoint{Name: "boom", Method: http.MethodGet, Action: action.DescribeSetup, Handle: handle}
			k.handlers["boom"], k.methods["boom"] = fc.NewHandler(k.app.HTTP.Handler(ep)), http.MethodGet
			defer delete(k.handlers, "boom")
			r := k.do(t, request{Fn: "boom", As: ownerID, Allow5xx: true})
			wantErr(t, r, 500, "InternalError", "request ID")
			if strings.Contains(r.Body, "hunter2") || strings.Contains(r.Message(), "boom") {
				t.Fatalf("the cause leaked: %s", r.Body)
			}
			if logs := k.logs.String(); !strings.Contains(logs, r.RequestID) || !strings.Contains(logs, `"level":"error"`) {
				t.Fatalf("the 500 is not logged at error level with its request ID")
			}
		})
	}
}
