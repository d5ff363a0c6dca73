package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/port/store"
	"github.com/sase-multiaccount/backend/shared/role"
)

// user is a person's UID.
func user(i int) string { return fmt.Sprintf("2%015d", i) }

func grantRecord(dirID, id, target string) store.AuditEvent {
	return store.AuditEvent{DirectoryID: dirID, ID: id, Time: base, ActorAccountID: acct(0), ActorUserID: acct(0),
		ActorRole: "ManagementAccount", ActorAccessRole: "Administrator", Action: "grant-access", Target: target, Result: "Success"}
}

func mustGrant(t *testing.T, s store.Store, dirID, accountID, userID string) store.Grant {
	t.Helper()
	g, err := s.GetGrant(t.Context(), dirID, accountID, userID)
	if err != nil {
		t.Fatalf("GetGrant(%s, %s): %v", accountID, userID, err)
	}
	return g
}

func generation(t *testing.T, s store.Store) int64 {
	t.Helper()
	g, err := s.Generation(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// testGrants: create, change and remove grants at their versions, each
// with its audit record and a move of the generation in the same unit; a
// refused change writes neither.
func testGrants(t *testing.T, s store.Store) {
	ctx, dirID := t.Context(), newDir()
	if gs, err := s.ListGrants(ctx, dirID); err != nil || len(gs) != 0 {
		t.Fatalf("ListGrants of a new directory = %v, %v", gs, err)
	}
	_, err := s.GetGrant(ctx, dirID, acct(1), user(1))
	wantErr(t, "GetGrant before any grant", err, apperr.KindNotFound, apperr.CodeGrantNotFound)

	g0 := generation(t, s)
	n := 0
	put := func(id, userID string, access role.Access, expect int64) error {
		n++
		return s.PutGrant(ctx, dirID, store.Grant{AccountID: acct(1), UserID: userID, AccessRole: access, GrantedBy: acct(1),
			GrantTime: base.Add(ms(n))}, expect, grantRecord(dirID, id, userID))
	}
	if err := put("0001", user(2), role.Operator, 0); err != nil {
		t.Fatalf("first PutGrant: %v", err)
	}
	if err := put("0002", user(1), role.Viewer, 0); err != nil {
		t.Fatalf("PutGrant of another person: %v", err)
	}
	if g := generation(t, s); g < g0+2 {
		t.Errorf("generation %d after two grants from %d: a grant must move it", g, g0)
	}
	g := mustGrant(t, s, dirID, acct(1), user(2))
	if g.DirectoryID != dirID || g.AccessRole != role.Operator || g.Version != 1 || g.GrantedBy != acct(1) || !g.GrantTime.Equal(base.Add(ms(1))) || g.UserName != "" {
		t.Fatalf("GetGrant = %+v", g)
	}
	wantErr(t, "PutGrant of an existing grant at version 0", put("0003", user(2), role.Viewer, 0), apperr.KindConflict, apperr.CodeVersionConflict)
	wantErr(t, "PutGrant at a stale version", put("0004", user(2), role.Viewer, 7), apperr.KindConflict, apperr.CodeVersionConflict)
	wantErr(t, "PutGrant of a missing grant at version 1", put("0005", user(3), role.Viewer, 1), apperr.KindConflict, apperr.CodeVersionConflict)

	testTouchGrant(t, s, dirID)
	g1 := generation(t, s)
	if err := put("0006", user(2), role.Administrator, 1); err != nil {
		t.Fatalf("PutGrant at version 1: %v", err)
	}
	g = mustGrant(t, s, dirID, acct(1), user(2))
	if g.AccessRole != role.Administrator || g.Version != 2 || g.UserName != "alice" || !g.LastSignInTime.Equal(base) {
		t.Fatalf("after the change = %+v; want Administrator at version 2 with the sign-in kept", g)
	}
	if generation(t, s) <= g1 {
		t.Error("a change of a grant must move the generation")
	}
	gs, err := s.ListGrants(ctx, dirID)
	if err != nil || len(gs) != 2 || gs[0].UserID != user(1) || gs[1].UserID != user(2) || gs[1].Version != 2 {
		t.Fatalf("ListGrants = %+v, %v; want both, by UserID", gs, err)
	}
	testDeleteGrant(t, s, dirID)
	wantAuditIDs(t, s, dirID, "0007", "0006", "0002", "0001")
	if gs, err := s.ListGrants(ctx, newDir()); err != nil || len(gs) != 0 {
		t.Errorf("grants leak into another directory: %v, %v", gs, err)
	}
}

// testTouchGrant: a touch writes the name and the time only when the last
// one is older than staleBefore, never moves Version or the generation,
// and is no error for a person without a grant.
func testTouchGrant(t *testing.T, s store.Store, dirID string) {
	ctx := t.Context()
	g0 := generation(t, s)
	if err := s.TouchGrant(ctx, dirID, acct(1), user(2), "alice", base, base); err != nil {
		t.Fatalf("first TouchGrant: %v", err)
	}
	if err := s.TouchGrant(ctx, dirID, acct(1), user(2), "mallory", base.Add(ms(10)), base); err != nil {
		t.Fatalf("second TouchGrant: %v", err)
	}
	g := mustGrant(t, s, dirID, acct(1), user(2))
	if g.UserName != "alice" || !g.LastSignInTime.Equal(base) || g.Version != 1 {
		t.Fatalf("after a fresh and a too early touch = %+v; want alice at %s, version 1", g, base)
	}
	if err := s.TouchGrant(ctx, dirID, acct(1), user(9), "nobody", base, base.Add(ms(1))); err != nil {
		t.Errorf("TouchGrant of a person without a grant: %v", err)
	}
	if _, err := s.GetGrant(ctx, dirID, acct(1), user(9)); !apperr.IsCode(err, apperr.CodeGrantNotFound) {
		t.Errorf("TouchGrant created a grant: %v", err)
	}
	if g := generation(t, s); g != g0 {
		t.Errorf("generation moved from %d to %d by touches", g0, g)
	}
}

func testDeleteGrant(t *testing.T, s store.Store, dirID string) {
	ctx := t.Context()
	err := s.DeleteGrant(ctx, dirID, acct(1), user(2), 1, grantRecord(dirID, "0008", user(2)))
	wantErr(t, "DeleteGrant at a stale version", err, apperr.KindConflict, apperr.CodeVersionConflict)
	err = s.DeleteGrant(ctx, dirID, acct(1), user(3), 1, grantRecord(dirID, "0009", user(3)))
	wantErr(t, "DeleteGrant of a missing grant", err, apperr.KindNotFound, apperr.CodeGrantNotFound)
	g0 := generation(t, s)
	if err := s.DeleteGrant(ctx, dirID, acct(1), user(2), 2, grantRecord(dirID, "0007", user(2))); err != nil {
		t.Fatalf("DeleteGrant: %v", err)
	}
	if _, err := s.GetGrant(ctx, dirID, acct(1), user(2)); !apperr.IsCode(err, apperr.CodeGrantNotFound) {
		t.Fatalf("GetGrant after DeleteGrant: %v", err)
	}
	if generation(t, s) <= g0 {
		t.Error("a revocation must move the generation")
	}
	for _, bad := range []struct{ acct, user string }{{"", user(1)}, {acct(1), ""}, {acct(1), "12a"}, {acct(1), user(1) + "0123456789012345678901234567890123456789012345678"}} {
		_, err := s.GetGrant(ctx, dirID, bad.acct, bad.user)
		wantErr(t, fmt.Sprintf("GetGrant(%q, %q)", bad.acct, bad.user), err, apperr.KindInvalid, "")
	}
}

func wantAuditIDs(t *testing.T, s store.Store, dirID string, want ...string) {
	t.Helper()
	evs, _, err := s.ListAudit(context.Background(), dirID, 20, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := auditIDs(evs); !slices.Equal(got, want) {
		t.Fatalf("audit records %v, want %v (the applied changes only)", got, want)
	}
	for _, e := range evs {
		if e.ActorUserID != acct(0) || e.ActorAccessRole != "Administrator" {
			t.Errorf("record %s lost its person: %+v", e.ID, e)
		}
	}
}
