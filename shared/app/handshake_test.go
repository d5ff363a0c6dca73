package app_test

import (
	"maps"
	"testing"

	"github.com/sase-multiaccount/backend/shared/endpoints"
	"github.com/sase-multiaccount/backend/shared/usecase/dirsync"
)

// check-handshakes notices an invited account that accepted (its event
// never reaches the management account's bus) and puts it in the mirror;
// when nothing was accepted since the last run it makes one RD call.
func TestHandshakeCheck(t *testing.T) {
	k := newKit(t)
	fx := k.standard()
	check := k.app.TimerHandler(endpoints.CheckHandshakes)
	run := func() dirsync.HandshakeCounts {
		t.Helper()
		n, err := check(k.ctx, []byte(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		return n.(dirsync.HandshakeCounts)
	}
	// A mirror never synced is built by the first check (a reconciliation),
	// not an hour later by the timer.
	if n := run(); n != (dirsync.HandshakeCounts{}) {
		t.Fatalf("first check: %+v", n)
	}
	if m, err := k.raw.MirrorMarks(k.ctx, fx.dir.ID); err != nil || m.SyncTime.IsZero() {
		t.Fatalf("after the first check the mirror is not synced: %+v, %v", m, err)
	}
	run() // warm: the directory is kept while its generation stands
	k.dir.take()
	k.store.take()
	if n := run(); n != (dirsync.HandshakeCounts{}) {
		t.Fatalf("nothing accepted: %+v", n)
	}
	if got := k.dir.take(); !maps.Equal(got, map[string]int{"ListInvitations": 1}) {
		t.Fatalf("RD calls when nothing changed: %v, want one ListInvitations", got)
	}

	// An invitee accepts (the pending invitation of the fixture).
	if _, err := k.sim.AcceptInvitation(k.ctx, fx.pending.ID, "Newcomer"); err != nil {
		t.Fatal(err)
	}
	var before candidatesBody
	k.get(t, "list-candidates", daID, map[string]string{"Keyword": "Newcomer"}).decode(t, &before)
	if before.TotalCount != 0 {
		t.Fatalf("candidate before the check: %+v", before)
	}
	n := run()
	if n.Accepted != 1 || n.Mirrored != 1 {
		t.Fatalf("after the acceptance: %+v", n)
	}
	var after candidatesBody
	k.get(t, "list-candidates", daID, map[string]string{"Keyword": "Newcomer"}).decode(t, &after)
	if after.TotalCount != 1 || after.Accounts[0].AccountID != fx.pending.TargetEntity || after.Accounts[0].FolderPath != "/" {
		t.Fatalf("candidate after the check: %+v", after)
	}
	// The acceptance lies in the overlap of the next run: the mirror holds
	// the account already, so no GetAccount.
	k.dir.take()
	if n := run(); n.Mirrored != 0 {
		t.Fatalf("second run: %+v", n)
	}
	if got := k.dir.take(); got["GetAccount"] != 0 || got["ListInvitations"] != 1 {
		t.Fatalf("second run RD calls %v", got)
	}
}
