package httpapi

import (
	"strings"
	"testing"

	"github.com/sase-multiaccount/backend/shared/apperr"
)

type item struct {
	AccountId string
	Remark    string
}

type addBody struct {
	Members []item
	DryRun  bool
	Version *int64
}

func TestDecodeJSONIsStrict(t *testing.T) {
	var ok addBody
	if err := DecodeJSON([]byte(` {"Members":[{"AccountId":"1","Remark":"r"}],"DryRun":true,"Version":2} `), &ok); err != nil || !ok.DryRun || *ok.Version != 2 {
		t.Fatalf("valid addBody: %+v %v", ok, err)
	}
	for in, want := range map[string]string{
		``:                                "empty",
		`[]`:                              "JSON object",
		`"x"`:                             "JSON object",
		`null`:                            "JSON object",
		`{"Members":[}`:                   "not valid JSON",
		`{"DryRun":"yes"}`:                "DryRun must be true or false",
		`{"Members":{}}`:                  "must be an array",
		`{"Extra":1}`:                     `Unknown field "Extra"`,
		`{"dryrun":true}`:                 `Unknown field "dryrun"`,
		`{"Members":[{"accountid":"1"}]}`: `Unknown field "Members[0].accountid"`,
		`{"DryRun":true,"DryRun":false}`:  "DryRun appears more than once",
		`{"Members":[{"AccountId":"1","AccountId":"2"}]}`: "Members[0].AccountId appears more than once",
		`{} {}`: "data after the JSON object",
	} {
		var b addBody
		err := DecodeJSON([]byte(in), &b)
		e, isApp := apperr.As(err)
		if !isApp || e.Code != "MalformedRequest" || !strings.Contains(e.Message, want) {
			t.Errorf("%s: %v, want MalformedRequest containing %q", in, err, want)
		}
	}
}

func FuzzDecodeJSON(f *testing.F) {
	f.Add(`{"Members":[{"AccountId":"1000000000000001"}]}`)
	f.Add(`{"DryRun":true,"Members":[[{}]]}`)
	f.Fuzz(func(t *testing.T, in string) {
		var b addBody
		if err := DecodeJSON([]byte(in), &b); err != nil {
			if _, ok := apperr.As(err); !ok {
				t.Fatalf("untyped error %v", err)
			}
		}
	})
}
