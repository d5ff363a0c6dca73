package tablestore

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sase-multiaccount/backend/shared/port/store"
	"github.com/sase-multiaccount/backend/shared/testkit/otsfake"
)

// TestRequestsPerOperation counts, at the fake and by action, the requests
// of every operation of the port, with member changes carrying their audit
// records as the use cases make them. docs/DESIGN.md §4 quotes these counts.
func TestRequestsPerOperation(t *testing.T) {
	e := newEnv(t, otsfake.Options{})
	s := e.open(t, nil)
	ctx, dir := t.Context(), "rd-requests"
	seq := 0
	rec := func(before, after store.Member) store.AuditEvent {
		seq++
		return store.AuditEvent{DirectoryID: dir, ID: fmt.Sprintf("%013d-%06d", t0.UnixMilli(), seq), Time: t0,
			Action: "x", Target: after.AccountID + before.AccountID}
	}
	at := t0.Add(time.Hour)
	m := store.Mirror{Folders: []store.MirrorFolder{{ID: "r-1", Name: "Root"}}, Marks: store.MirrorMarks{SyncTime: at}}
	for i := range 450 {
		m.Accounts = append(m.Accounts, store.MirrorAccount{AccountID: acct(i), DisplayName: "a", FolderID: "r-1", JoinTime: at})
	}
	changed := func() error {
		m.Accounts[0].DisplayName = "renamed"
		m.Marks.SyncTime = at.Add(time.Hour)
		return s.ReplaceMirror(ctx, dir, m)
	}
	var audit450 []store.AuditEvent
	for i := range 450 {
		audit450 = append(audit450, store.AuditEvent{DirectoryID: dir, ID: fmt.Sprintf("a%06d", i), Time: t0, Action: "x"})
	}
	policy := store.EnrollmentPolicy{Mode: store.PolicyAllAccounts}
	policyRecord := store.AuditEvent{DirectoryID: dir, ID: "p1", Time: at, Action: "x"}

	for _, step := range []struct {
		what string
		run  func() error
		want string // requests by action, sorted
	}{
		// A member change travels with its audit row, its timeline row
		// and its feed row: 49 changes per BatchWriteRow, each batch after
		// one UpdateRow that takes its feed positions, and one BatchGetRow
		// per 100 rows that reads them.
		{"add 100 members", func() error { _, err := s.AddMembers(ctx, dir, members(1, 100), rec); return err },
			"1 BatchGetRow, 3 BatchWriteRow, 3 UpdateRow"},
		{"add 1,000 members", func() error { _, err := s.AddMembers(ctx, dir, members(101, 1000), rec); return err },
			"10 BatchGetRow, 21 BatchWriteRow, 21 UpdateRow"},
		{"remark", func() error { _, _, err := s.UpdateRemark(ctx, dir, acct(5), "r", 0, t0, rec); return err },
			"1 BatchWriteRow, 1 GetRow, 1 UpdateRow"},
		{"rename", func() error { _, err := s.RenameMember(ctx, dir, acct(500), "renamed", at, rec); return err },
			"1 BatchWriteRow, 1 GetRow, 1 UpdateRow"},
		{"delete 100 members", func() error { _, err := s.DeleteMembers(ctx, dir, ids(1, 100), rec); return err },
			"1 BatchGetRow, 3 BatchWriteRow, 3 UpdateRow"},
		{"timeline page", func() error { _, _, err := s.ListAuditByTarget(ctx, dir, acct(5), 20, ""); return err },
			"1 GetRange"},
		{"member state", func() error { _, _, err := s.MemberState(ctx, dir); return err }, "1 GetRow"},
		{"get a member", func() error { _, err := s.GetMember(ctx, dir, acct(500)); return err }, "1 GetRow"},
		{"count", func() error { _, err := s.CountMembers(ctx, dir); return err }, "1 GetRow"},
		{"list page", func() error {
			_, _, err := s.ListMembers(ctx, dir, store.ListQuery{SortBy: store.SortByAddTime, Desc: true, Limit: 20})
			return err
		}, "1 GetRange"},
		{"audit page", func() error { _, _, err := s.ListAudit(ctx, dir, 20, ""); return err }, "1 GetRange"},
		{"append 450 audit records", func() error { return s.AppendAudit(ctx, audit450) }, "3 BatchWriteRow"},
		{"check an event", func() error { _, err := s.EventProcessed(ctx, "k1"); return err }, "1 GetRow"},
		{"mark an event", func() error { return s.MarkEventProcessed(ctx, "k1", at) }, "1 PutRow"},
		{"generation", func() error { _, err := s.Generation(ctx); return err }, "1 GetRow"},
		{"bump the generation", func() error { _, err := s.BumpGeneration(ctx); return err }, "1 GetRow, 1 UpdateRow"},

		// The mirror: one range read is all of it; a full sync writes
		// what differs (200 rows per BatchWriteRow) and its marks.
		{"replace an empty mirror by 451 rows", func() error { return s.ReplaceMirror(ctx, dir, m) },
			"3 BatchWriteRow, 1 GetRange, 1 UpdateRow"},
		{"replace the mirror, 1 row changed", changed, "1 BatchWriteRow, 1 GetRange, 1 UpdateRow"},
		{"replace the mirror, nothing changed", func() error { return s.ReplaceMirror(ctx, dir, m) },
			"1 GetRange, 1 UpdateRow"},
		{"read the mirror", func() error { _, err := s.ReadMirror(ctx, dir); return err }, "1 GetRange"},
		{"read the mirror's folders", func() error { _, err := s.ReadMirrorFolders(ctx, dir); return err }, "1 GetRange"},
		{"put 250 mirror accounts", func() error { return s.PutMirrorAccounts(ctx, dir, m.Accounts[:250]) },
			"2 BatchWriteRow"},
		{"delete a mirror account", func() error { return s.DeleteMirrorAccount(ctx, dir, acct(3)) }, "1 BatchWriteRow"},
		{"put a mirror folder", func() error {
			return s.PutMirrorFolder(ctx, dir, store.MirrorFolder{ID: "fd-1", Name: "F", ParentID: "r-1"})
		}, "1 BatchWriteRow"},
		{"delete a mirror folder", func() error { return s.DeleteMirrorFolder(ctx, dir, "fd-1") }, "1 BatchWriteRow"},
		{"mirror marks", func() error { _, err := s.MirrorMarks(ctx, dir); return err }, "1 GetRow"},
		{"set the handshake time", func() error { return s.SetHandshakeTime(ctx, dir, at) }, "1 UpdateRow"},
		{"member IDs", func() error { _, err := s.MemberIDs(ctx, dir); return err }, "1 GetRange"},

		// The policy is a row of the mirror table, written with its audit
		// record in one batch.
		{"get the policy", func() error { _, err := s.GetPolicy(ctx, dir); return err }, "1 GetRow"},
		{"put the policy", func() error { _, err := s.PutPolicy(ctx, dir, policy, 0, policyRecord); return err },
			"1 BatchWriteRow"},
	} {
		e.fake.ResetCounts()
		if err := step.run(); err != nil {
			t.Fatalf("%s: %v", step.what, err)
		}
		got := e.fake.Counts()
		var parts []string
		for _, a := range slices.Sorted(maps.Keys(got)) {
			parts = append(parts, fmt.Sprintf("%d %s", got[a], a))
		}
		if s := strings.Join(parts, ", "); s != step.want {
			t.Errorf("%s: %s; want %s", step.what, s, step.want)
		}
	}
}

// validTableName is the service's rule for table and index names.
func TestValidTableName(t *testing.T) {
	rule := regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,254}$`)
	for _, name := range []string{
		"", "a", "_", "Z9", "sase_members", "9a", "a-b", "a b", "a.b", "é", "a\x00",
		strings.Repeat("a", 255), strings.Repeat("a", 256), "_" + strings.Repeat("9", 254),
	} {
		if got, want := validTableName(name), rule.MatchString(name); got != want {
			t.Errorf("validTableName(%q) = %v, want %v", name, got, want)
		}
	}
}
