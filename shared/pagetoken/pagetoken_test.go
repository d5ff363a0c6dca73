package pagetoken

import (
	"strings"
	"testing"

	"github.com/sase-multiaccount/backend/shared/apperr"
)

type pos struct {
	T int64  `json:"t"`
	A string `json:"a"`
}

func TestRoundTripAndBinding(t *testing.T) {
	c := New([]byte("k1"))
	tok := c.Encode("members|rd-1|AddTime|Desc|", pos{T: 42, A: "1000000000000003"})
	var got pos
	if err := c.Decode(tok, "members|rd-1|AddTime|Desc|", &got); err != nil || got != (pos{42, "1000000000000003"}) {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	bad := map[string]func() error{
		"other directory": func() error { return c.Decode(tok, "members|rd-2|AddTime|Desc|", &got) },
		"other query":     func() error { return c.Decode(tok, "members|rd-1|AddTime|Asc|", &got) },
		"other key":       func() error { return New([]byte("k2")).Decode(tok, "members|rd-1|AddTime|Desc|", &got) },
		"no dot":          func() error { return c.Decode(strings.ReplaceAll(tok, ".", ""), "members|rd-1|AddTime|Desc|", &got) },
		"garbage":         func() error { return c.Decode("%%%.%%%", "b", &got) },
		"empty mac":       func() error { return c.Decode(strings.Split(tok, ".")[0]+".", "members|rd-1|AddTime|Desc|", &got) },
		"too long":        func() error { return c.Decode(strings.Repeat("a", MaxLen+1), "b", &got) },
		"payload edited": func() error {
			p, m, _ := strings.Cut(tok, ".")
			b := []byte(p)
			b[3] ^= 1
			return c.Decode(string(b)+"."+m, "members|rd-1|AddTime|Desc|", &got)
		},
	}
	for name, f := range bad {
		if err := f(); !apperr.IsCode(err, "InvalidParameter.NextToken") {
			t.Errorf("%s: %v", name, err)
		}
	}
	// A well-signed token whose payload is not the expected shape is refused too.
	odd := c.Encode("b", []int{1, 2})
	if err := c.Decode(odd, "b", &got); !apperr.IsCode(err, "InvalidParameter.NextToken") {
		t.Errorf("wrong shape: %v", err)
	}
}

func FuzzDecodeNeverPanics(f *testing.F) {
	c := New([]byte("k"))
	f.Add(c.Encode("b", pos{1, "x"}))
	f.Add("a.b")
	f.Fuzz(func(t *testing.T, tok string) {
		var p pos
		_ = c.Decode(tok, "b", &p)
	})
}
