package resourcemanager

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sase-multiaccount/backend/shared/adapter/cloudcreds"
	"github.com/sase-multiaccount/backend/shared/local/rdwire"
	"github.com/sase-multiaccount/backend/shared/port/directory"
)

// TestAcceptsBothForms: where RD's answers are known to vary, the adapter
// takes either form through the real SDK: an empty list as [] or null, and
// times to the second or to the millisecond (the wire server now answers
// like RD; this stub answers the other forms).
func TestAcceptsBothForms(t *testing.T) {
	var body string
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, body)
	}))
	t.Cleanup(hs.Close)
	c, err := New(testConfig(strings.TrimPrefix(hs.URL, "http://"), cloudcreds.Static(rdwire.TestCredentials), directory.DefaultServicePrincipal))
	if err != nil {
		t.Fatal(err)
	}
	for _, accounts := range []string{`[]`, `null`} {
		body = `{"RequestId":"r","TotalCount":0,"PageNumber":1,"PageSize":100,"Accounts":{"Account":` + accounts + `}}`
		das, err := c.ListDelegatedAdmins(t.Context())
		if err != nil || len(das) != 0 {
			t.Fatalf("Account %s: %v, %v", accounts, das, err)
		}
	}
	want := time.Date(2021, 12, 8, 2, 15, 31, 0, time.UTC)
	for created, at := range map[string]time.Time{
		"2021-12-08T02:15:31Z":     want,
		"2021-12-08T02:15:31.744Z": want.Add(744 * time.Millisecond),
	} {
		body = `{"RequestId":"r","ResourceDirectory":{"ResourceDirectoryId":"rd-1","MasterAccountId":"1000000000000001","CreateTime":"` + created + `"}}`
		d, err := c.GetDirectory(t.Context())
		if err != nil || !d.CreateTime.Equal(at) {
			t.Fatalf("CreateTime %s: %v, %v", created, d.CreateTime, err)
		}
	}
}
