package tablestore

import (
	"fmt"
	"testing"
	"time"

	"github.com/sase-multiaccount/backend/shared/port/store"
	"github.com/sase-multiaccount/backend/shared/testkit/otsfake"
)

// A candidates page and a policy preview at the scale envelope: 10,000
// mirrored accounts and 10,000 members. ReadMirror is 3 GetRange requests
// (10,002 rows, cut at 5,000), MemberIDs 2 or 3 (10,000 keys), GetPolicy
// one GetRow; nothing else.
func TestMirrorReadsAt10000(t *testing.T) {
	e := newEnv(t, otsfake.Options{})
	if err := EnsureTables(t.Context(), e.cfg); err != nil {
		t.Fatal(err)
	}
	s := e.open(t, nil)
	const n = 10_000
	dir := "rd-scale"
	at := time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)
	m := store.Mirror{Folders: []store.MirrorFolder{{ID: "r-1", Name: "Root"}}, Marks: store.MirrorMarks{SyncTime: at}}
	ms := make([]store.Member, 0, n)
	for i := range n {
		id := fmt.Sprintf("4%015d", i)
		m.Accounts = append(m.Accounts, store.MirrorAccount{AccountID: id, DisplayName: "acct", FolderID: "r-1", JoinTime: at})
		ms = append(ms, store.Member{AccountID: id, AccountName: "acct", AddTime: at, Version: 1, UpdateTime: at, NameTime: at})
	}
	if err := s.ReplaceMirror(t.Context(), dir, m); err != nil {
		t.Fatal(err)
	}
	for start := 0; start < n; start += 1000 {
		if _, err := s.AddMembers(t.Context(), dir, ms[start:start+1000], nil); err != nil {
			t.Fatal(err)
		}
	}
	e.fake.ResetCounts()
	got, err := s.ReadMirror(t.Context(), dir)
	if err != nil || len(got.Accounts) != n {
		t.Fatalf("ReadMirror: %d accounts, %v", len(got.Accounts), err)
	}
	mirror := e.fake.Counts()["GetRange"]
	e.fake.ResetCounts()
	ids, err := s.MemberIDs(t.Context(), dir)
	if err != nil || len(ids) != n {
		t.Fatalf("MemberIDs: %d, %v", len(ids), err)
	}
	members := e.fake.Counts()["GetRange"]
	e.fake.ResetCounts()
	if _, err := s.GetPolicy(t.Context(), dir); err != nil {
		t.Fatal(err)
	}
	policy := e.fake.Counts()
	t.Logf("at %d accounts and members: ReadMirror %d GetRange, MemberIDs %d GetRange, GetPolicy %v", n, mirror, members, policy)
	if mirror != 3 || members > 3 || policy["GetRow"] != 1 || len(policy) != 1 {
		t.Errorf("ReadMirror %d GetRange (want 3), MemberIDs %d (want ≤ 3), GetPolicy %v (want one GetRow)", mirror, members, policy)
	}
}
