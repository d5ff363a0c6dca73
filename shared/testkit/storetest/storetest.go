// Package storetest is the contract suite of the store port. Every adapter
// runs it from its own tests:
//
//	func TestContract(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { return openFresh(t) })
//	}
//
// The suite talks to the adapter only through store.Store, so it runs the
// same against bbolt and against Tablestore behind a wire-level fake.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/port/store"
)

// Run runs the contract suite. open must return a fresh, empty store; the
// suite closes it (and checks Close) when the subtest ends, so open must not
// close it itself. Subtests run in parallel, each on its own store and with
// directory IDs unique to the run, so open is called concurrently.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"AddMembers", testAddMembers},
		{"AddMembersInvalidItem", testAddMembersInvalidItem},
		{"TimesKeepMilliseconds", testTimesKeepMilliseconds},
		{"GetMemberNotFound", testGetMemberNotFound},
		{"UpdateRemark", testUpdateRemark},
		{"UpdateRemarkMissing", testUpdateRemarkMissing},
		{"RenameMember", testRenameMember},
		{"DeleteMembers", testDeleteMembers},
		{"ListMembersPaging", testListMembersPaging},
		{"ListMembersPositions", testListMembersPositions},
		{"ListMembersAfterChanges", testListMembersAfterChanges},
		{"ListMembersEmpty", testListMembersEmpty},
		{"ListMembersInvalidQuery", testListMembersInvalidQuery},
		{"CountMembers", testCountMembers},
		{"ConcurrentAddsAndUpdates", testConcurrentAddsAndUpdates},
		{"ConcurrentVersionConflict", testConcurrentVersionConflict},
		{"CanceledContext", testCanceledContext},
		{"AuditAppendAndList", testAuditAppendAndList},
		{"AuditPaging", testAuditPaging},
		{"AuditInvalid", testAuditInvalid},
		{"ProcessedEvents", testProcessedEvents},
		{"Generation", testGeneration},
		{"AddWritesAuditWithChange", testAddAudited},
		{"RemarkWritesAuditWithChange", testRemarkAudited},
		{"UnchangedRemarkIsNoOp", testRemarkUnchanged},
		{"DeleteWritesAuditWithChange", testDeleteAudited},
		{"RenameWritesAuditWithChange", testRenameAudited},
		{"AuditByTarget", testAuditByTarget},
		{"Mirror", testMirror},
		{"MirrorLarge", testMirrorLarge},
		{"MirrorInvalid", testMirrorInvalid},
		{"MirrorVersion", testMirrorVersion},
		{"MemberIDs", testMemberIDs},
		{"Policy", testPolicy},
		{"Grants", testGrants},
		{"MemberState", testMemberState},
	}
	tests = append(tests, feedTests...) // feed.go
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.fn(t, s)
		})
	}
}

// newDir returns a directory ID no other test (or earlier run against a
// shared backend) uses.
func newDir() string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return "rd-" + hex.EncodeToString(b[:])
}

// acct is a 16-digit account UID.
func acct(i int) string { return fmt.Sprintf("%016d", 1_000_000_000_000_000+i) }

// base is a millisecond-precision time; the suite uses only such times
// except where it checks the truncation itself.
var base = time.Date(2026, 11, 24, 8, 15, 16, 123_000_000, time.UTC)

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

// member builds a member as the member use case would before adding it.
func member(i int, addTime time.Time) store.Member {
	return store.Member{
		AccountID:   acct(i),
		AccountName: fmt.Sprintf("account-%d", i),
		AddTime:     addTime,
		AddedBy:     acct(0),
		Remark:      fmt.Sprintf("remark %d", i),
		Version:     1,
		UpdateTime:  addTime,
		NameTime:    addTime,
	}
}

// stored is m as the store should hand it back.
func stored(dirID string, m store.Member) store.Member {
	m.DirectoryID, m.Version = dirID, 1
	return m
}

func mustAdd(t testing.TB, s store.Store, dirID string, ms ...store.Member) {
	t.Helper()
	for start := 0; start < len(ms); start += 1000 {
		chunk := ms[start:min(start+1000, len(ms))]
		res, err := s.AddMembers(context.Background(), dirID, chunk, nil)
		if err != nil {
			t.Fatalf("AddMembers(%s, %d members): %v", dirID, len(chunk), err)
		}
		if len(res) != len(chunk) {
			t.Fatalf("AddMembers returned %d results for %d members", len(res), len(chunk))
		}
		for i, r := range res {
			if r.Status != store.Added || r.AccountID != chunk[i].AccountID {
				t.Fatalf("AddMembers result %d = %+v, want Added %s", i, r, chunk[i].AccountID)
			}
		}
	}
}

func mustGet(t *testing.T, s store.Store, dirID, accountID string) store.Member {
	t.Helper()
	m, err := s.GetMember(t.Context(), dirID, accountID)
	if err != nil {
		t.Fatalf("GetMember(%s, %s): %v", dirID, accountID, err)
	}
	return m
}

func mustCount(t *testing.T, s store.Store, dirID string, want int) {
	t.Helper()
	n, err := s.CountMembers(t.Context(), dirID)
	if err != nil {
		t.Fatalf("CountMembers(%s): %v", dirID, err)
	}
	if n != want {
		t.Fatalf("CountMembers(%s) = %d, want %d", dirID, n, want)
	}
}

// diffMember describes how got differs from want, or returns "".
func diffMember(got, want store.Member) string {
	var d string
	str := func(name, g, w string) {
		if g != w {
			d += fmt.Sprintf(" %s=%q want %q;", name, g, w)
		}
	}
	tm := func(name string, g, w time.Time) {
		if !g.Equal(w) {
			d += fmt.Sprintf(" %s=%s want %s;", name, g.Format(time.RFC3339Nano), w.Format(time.RFC3339Nano))
		}
	}
	str("DirectoryID", got.DirectoryID, want.DirectoryID)
	str("AccountID", got.AccountID, want.AccountID)
	str("AccountName", got.AccountName, want.AccountName)
	str("AddedBy", got.AddedBy, want.AddedBy)
	str("Remark", got.Remark, want.Remark)
	if got.Version != want.Version {
		d += fmt.Sprintf(" Version=%d want %d;", got.Version, want.Version)
	}
	tm("AddTime", got.AddTime, want.AddTime)
	tm("UpdateTime", got.UpdateTime, want.UpdateTime)
	tm("NameTime", got.NameTime, want.NameTime)
	return d
}

func checkMember(t *testing.T, what string, got, want store.Member) {
	t.Helper()
	if d := diffMember(got, want); d != "" {
		t.Errorf("%s differs:%s", what, d)
	}
}

// wantErr fails unless err is an *apperr.Error of the kind and, when code
// is not empty, of the code.
func wantErr(t *testing.T, what string, err error, kind apperr.Kind, code apperr.Code) {
	t.Helper()
	e, ok := apperr.As(err)
	switch {
	case err == nil:
		t.Errorf("%s: no error, want kind %d code %q", what, kind, code)
	case !ok:
		t.Errorf("%s: error %v (%T) is not an *apperr.Error", what, err, err)
	case e.Kind != kind || (code != "" && e.Code != code):
		t.Errorf("%s: error kind %d code %q (%v), want kind %d code %q", what, e.Kind, e.Code, err, kind, code)
	}
}

func ids(ms []store.Member) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.AccountID
	}
	return out
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func equalDetail(a, b map[string]string) bool {
	// nil and empty are the same: a store may not distinguish them.
	return len(a) == len(b) && (len(a) == 0 || maps.Equal(a, b))
}

// run starts n goroutines at once (behind a gate, so they really overlap)
// and waits for all of them.
func run(n int, fn func(i int)) {
	gate := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-gate
			fn(i)
		})
	}
	close(gate)
	wg.Wait()
}
