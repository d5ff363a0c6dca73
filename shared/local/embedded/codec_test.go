package embedded

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sase-multiaccount/backend/shared/port/store"
)

// Member rows round-trip in the compact form, and rows earlier versions
// wrote as JSON still read the same; a damaged row is an error, not a
// member with missing fields.
func TestMemberRowForms(t *testing.T) {
	at := time.UnixMilli(1764921600123).UTC()
	m := store.Member{DirectoryID: "rd-1", AccountID: "1000000000000002", AccountName: "Team \u4e2d\x00B", AddTime: at,
		AddedBy: "1000000000000001", Remark: strings.Repeat("r", 300), Version: 7, UpdateTime: at.Add(time.Second)}
	v, err := encodeMember(m)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeMember("rd-1", m.AccountID, v)
	if err != nil || got != m {
		t.Fatalf("compact round trip: %+v, %v\nwant %+v", got, err, m)
	}
	old := []byte(`{"account_id":"1000000000000002","account_name":"Team \u4e2d\u0000B","add_time":1764921600123,"added_by":"1000000000000001","remark":"` +
		strings.Repeat("r", 300) + `","version":7,"update_time":1764921601123,"name_time":` + itoa(toMs(time.Time{})) + `}`)
	if got, err := decodeMember("rd-1", m.AccountID, old); err != nil || got != m {
		t.Fatalf("JSON row: %+v, %v", got, err)
	}
	for _, bad := range [][]byte{nil, {memberV1}, v[:len(v)-1], append(append([]byte{}, v...), 'x'), {9, 1, 2}} {
		if _, err := decodeMember("rd-1", m.AccountID, bad); err == nil {
			t.Errorf("row %q decoded without an error", bad)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
