// Package usecasetest is what the use case tests (shared/usecase/member,
// shared/usecase/setup) share: the embedded store in a temporary folder, the
// in-memory Resource Directory simulation, the audit trail over the store, a
// clock the test moves, and error checks.
package usecasetest

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/local/embedded"
	"github.com/sase-multiaccount/backend/shared/local/simulation"
	"github.com/sase-multiaccount/backend/shared/pagetoken"
	"github.com/sase-multiaccount/backend/shared/usecase/audit"
)

// Start is the time an Env's clock starts at.
var Start = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

// UID is the n-th test account UID.
func UID(n int) string { return fmt.Sprintf("2%015d", n) }

// Env is one test's world. The simulation is owner's, with no directory
// enabled yet; Recorder and Audit write and read the store's audit trail;
// every part tells time with Clock, which reads Now.
type Env struct {
	T        *testing.T
	Ctx      context.Context
	Store    *embedded.Store
	Sim      *simulation.Sim
	Recorder *audit.Recorder
	Audit    *audit.Lister
	Tokens   *pagetoken.Codec
	Now      time.Time
}

// New opens an Env: the store in a temporary folder of t (closed when t
// ends) and an in-memory simulation.
func New(t *testing.T, owner string) *Env {
	t.Helper()
	e := &Env{T: t, Ctx: t.Context(), Now: Start, Tokens: pagetoken.New([]byte("usecasetest-key-usecasetest-key!"))}
	st, err := embedded.Open(filepath.Join(t.TempDir(), "sase.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if e.Sim, err = simulation.Open(simulation.Options{OwnerAccountID: owner, Now: e.Clock}); err != nil {
		t.Fatal(err)
	}
	e.Store = st
	e.Recorder = &audit.Recorder{Store: st, Now: e.Clock, Log: zerolog.Nop()}
	e.Audit = &audit.Lister{Store: st, Tokens: e.Tokens}
	return e
}

// Clock is the Env's time: Now.
func (e *Env) Clock() time.Time { return e.Now }

// Trail returns the audit events of directory dirID, newest first.
func (e *Env) Trail(dirID string) []audit.Event {
	e.T.Helper()
	out, err := e.Audit.List(e.Ctx, dirID, audit.ListInput{MaxResults: "100"})
	if err != nil {
		e.T.Fatal(err)
	}
	return out.Events
}

// WantCode fails t unless err is an *apperr.Error of kind and code.
func WantCode(t testing.TB, what string, err error, kind apperr.Kind, code apperr.Code) {
	t.Helper()
	e, ok := apperr.As(err)
	if !ok || e.Kind != kind || e.Code != code {
		t.Fatalf("%s: %v, want kind %d code %s", what, err, kind, code)
	}
}

// Pages walks a paged list from its first page to its last and returns the
// IDs of every item in order. page reads the page at token ("" for the
// first): its item IDs, TotalCount and NextToken. Every page must report
// total as TotalCount.
func Pages(t testing.TB, total int, page func(token string) (ids []string, totalCount int, next string, err error)) []string {
	t.Helper()
	var all []string
	token := ""
	for n := 1; n <= 1000; n++ {
		ids, count, next, err := page(token)
		if err != nil {
			t.Fatalf("page %d: %v", n, err)
		}
		if count != total {
			t.Fatalf("page %d: TotalCount %d, want %d", n, count, total)
		}
		all = append(all, ids...)
		if next == "" {
			return all
		}
		token = next
	}
	t.Fatal("more than 1000 pages")
	return nil
}
