package validate

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sase-multiaccount/backend/shared/apperr"
)

func TestAccountIDs(t *testing.T) {
	for _, s := range []string{"1000000000000001", "0000000000000000"} {
		if !IsAccountID(s) {
			t.Errorf("%q should be a UID", s)
		}
	}
	for _, s := range []string{"", "100000000000001", "10000000000000011", "10000000000000a1", "１０００００００００００００01", " 100000000000001"} {
		if IsAccountID(s) {
			t.Errorf("%q is not a UID", s)
		}
	}
	ids, err := AccountIDs("AccountIds", []string{"1000000000000002", "1000000000000001", "1000000000000002"}, 100)
	if err != nil || len(ids) != 2 || ids[0] != "1000000000000002" {
		t.Fatalf("dedupe in order: %v %v", ids, err)
	}
	if _, err := AccountIDs("AccountIds", nil, 100); !apperr.IsCode(err, "MissingParameter.AccountIds") {
		t.Errorf("empty: %v", err)
	}
	if _, err := AccountIDs("AccountIds", make([]string, 101), 100); !apperr.IsCode(err, "InvalidParameter.AccountIds") {
		t.Errorf("101: %v", err)
	}
	if _, err := AccountIDs("AccountIds", []string{"1000000000000001", "x"}, 100); err == nil || !strings.Contains(err.Error(), "AccountIds[1]") {
		t.Errorf("names the entry: %v", err)
	}
}

func TestRemark(t *testing.T) {
	ok := []string{"", "prod", strings.Repeat("界", 256), strings.Repeat("🙂", 256), "tab-free, emoji 🙂 ok", "family 👨\u200D👩\u200D👧"}
	for _, s := range ok {
		if err := Remark("Remark", s); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
	bad := []string{strings.Repeat("界", 257), strings.Repeat("a", 257), "a\nb", "a\tb", "nul\x00", "del\x7f", "c1\u0085", "ls\u2028", "rlo\u202Egnp.exe", "lri\u2066x", "rlm\u200F", "\xff\xfe",
		"zwsp\u200Bx", "wj\u2060x", "bom\uFEFF", "tag\U000E0041", "esc\x1b[31m", "cr\rlf"}
	for _, s := range bad {
		if err := Remark("Remark", s); !apperr.IsCode(err, "InvalidParameter.Remark") {
			t.Errorf("%q: %v", s, err)
		}
	}
}

func TestEmailMaxResultsOneOf(t *testing.T) {
	for _, s := range []string{"a@example.com", "first.last+tag@sub.example.cn"} {
		if err := Email("Targets", s); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
	for _, s := range []string{"", "a", "a@b", "Bob <bob@example.com>", "a@@example.com", strings.Repeat("a", 250) + "@example.com",
		"a@[127.0.0.1]", "a@-example.com", "a@example-.com", "ä@例え.jp", "a@例え.jp", "a@example.c0m", "a@exa_mple.com", "a@.example.com", `"a b"@example.com`} {
		if err := Email("Targets", s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
	if n, err := MaxResults("", 20, 100); n != 20 || err != nil {
		t.Errorf("default: %d %v", n, err)
	}
	for _, s := range []string{"0", "101", "-1", "ten", "1.5", "99999999999999999999"} {
		if _, err := MaxResults(s, 20, 100); !apperr.IsCode(err, "InvalidParameter.MaxResults") {
			t.Errorf("%q: %v", s, err)
		}
	}
	if v, err := OneOf("SortOrder", "", "Desc", "Desc", "Asc"); v != "Desc" || err != nil {
		t.Errorf("default: %q %v", v, err)
	}
	if _, err := OneOf("SortOrder", "desc", "Desc", "Desc", "Asc"); !apperr.IsCode(err, "InvalidParameter.SortOrder") {
		t.Errorf("case matters: %v", err)
	}
}

func TestClipNeverCutsARune(t *testing.T) {
	if got := Clip("short"); got != "short" {
		t.Errorf("Clip(short) = %q", got)
	}
	exact := strings.Repeat("a", ClipLen)
	if got := Clip(exact); got != exact {
		t.Errorf("Clip of %d bytes changed it: %q", ClipLen, got)
	}
	// "é" is two bytes: with one ASCII byte first, byte ClipLen falls inside one.
	s := "a" + strings.Repeat("é", ClipLen)
	got := Clip(s)
	prefix, _, ok := strings.Cut(got, "…")
	if !ok || !utf8.ValidString(got) || len(prefix) != ClipLen-1 {
		t.Errorf("Clip = %q (prefix %d bytes), want a valid %d-byte prefix", got, len(prefix), ClipLen-1)
	}
	if want := fmt.Sprintf("…(%d bytes)", len(s)); !strings.HasSuffix(got, want) {
		t.Errorf("Clip = %q, want suffix %q", got, want)
	}
	for max := 0; max <= 8; max++ {
		if got := ClipTo("日本語テキスト", max); !utf8.ValidString(got) {
			t.Errorf("ClipTo(_, %d) = %q is not valid UTF-8", max, got)
		}
	}
}

// FreeText is the remark rule for every text others read: an invitation
// note and a token's subject follow it too.
func TestFreeTextAndPrincipal(t *testing.T) {
	for _, s := range []string{"note\x00", "esc\x1b", "crlf\r\n", "rlo\u202E", "zw\u200B", "tag\U000E007F"} {
		if err := FreeText("Note", s, 1024); !apperr.IsCode(err, "InvalidParameter.Note") {
			t.Errorf("Note %q: %v", s, err)
		}
		if IsFreeText(s, 512) {
			t.Errorf("IsFreeText(%q) = true", s)
		}
	}
	if !IsFreeText("ram-user/alice@example 🙂", 512) || IsFreeText(strings.Repeat("a", 513), 512) {
		t.Error("IsFreeText: plain text refused or length ignored")
	}
}
