package simulation_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/sase-multiaccount/backend/shared/local/simulation"
	"github.com/sase-multiaccount/backend/shared/port/directory"
)

// BenchmarkInviteAcceptPersisted is the scale envelope's check: invite and
// accept b.N accounts on a persisted Sim (each change one appended log
// record and one fsync). Run with -benchtime=10000x for the 10,000-account
// number; the time per op must not grow with N.
func BenchmarkInviteAcceptPersisted(b *testing.B) {
	s, err := simulation.Open(simulation.Options{Path: filepath.Join(b.TempDir(), "rd.json"), OwnerAccountID: owner, MaxAccounts: b.N + 1})
	if err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()
	if _, err := s.EnableDirectory(ctx); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := range b.N {
		inv, err := s.Invite(ctx, fmt.Sprintf("3%015d", i), directory.TargetAccount, "")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.AcceptInvitation(ctx, inv.ID, ""); err != nil {
			b.Fatal(err)
		}
	}
}
