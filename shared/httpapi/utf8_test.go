package httpapi

import (
	"testing"

	"github.com/sase-multiaccount/backend/shared/apperr"
)

// Invalid UTF-8 in any string of a body is a 400 that names the field,
// never a silent U+FFFD.
func TestInvalidUTF8NamesTheField(t *testing.T) {
	type member struct{ AccountID, Remark string }
	var in struct {
		Note    string
		Members []member
	}
	for body, field := range map[string]string{
		"{\"Note\":\"ok\xff\"}": "Note",
		"{\"Members\":[{\"AccountID\":\"1\",\"Remark\":\"a\"},{\"AccountID\":\"2\",\"Remark\":\"b\xc3\"}]}": "Members[1].Remark",
		`{"Note":"lone \ud800 surrogate"}`:  "Note",
		`{"Note":"low \udc00 first"}`:       "Note",
		`{"Members":[{"Remark":"\ud83d"}]}`: "Members[0].Remark",
	} {
		err := DecodeJSON([]byte(body), &in)
		if !apperr.IsCode(err, apperr.InvalidParameter(field)) {
			t.Errorf("%q: %v, want InvalidParameter.%s", body, err, field)
		}
	}
	for _, body := range []string{`{"Note":"emoji \ud83d\ude42 and \u00e9"}`, "{\"Note\":\"界 🙂\"}", `{"Note":"a\"b\\\\"}`} {
		if err := DecodeJSON([]byte(body), &in); err != nil {
			t.Errorf("%q: %v", body, err)
		}
	}
}
