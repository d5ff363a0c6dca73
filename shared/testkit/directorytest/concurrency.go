package directorytest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/port/directory"
)

func (s *suite) testConcurrentInvites(t *testing.T) {
	e := s.enabled(t)
	const n = 64
	var wg sync.WaitGroup
	ids := make([]string, n)
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Go(func() {
			inv, err := e.svc.Invite(e.ctx, uid(100+i), directory.TargetAccount, fmt.Sprintf("note %d", i))
			ids[i], errs[i] = inv.ID, err
		})
	}
	for i := 0; i < 8; i++ { // readers interleaved with the writers
		wg.Go(func() {
			if _, err := e.svc.ListInvitations(e.ctx); err != nil {
				t.Errorf("concurrent ListInvitations: %v", err)
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Invite %d: %v", i, err)
		}
	}
	list := e.invitations()
	if len(list) != n {
		t.Fatalf("%d invitations, want %d", len(list), n)
	}
	byID := map[string]directory.Invitation{}
	for _, inv := range list {
		if inv.Status != directory.StatusPending {
			t.Fatalf("invitation %+v not pending", inv)
		}
		byID[inv.ID] = inv
	}
	for i, id := range ids {
		inv, ok := byID[id]
		if !ok {
			t.Fatalf("invitation %s of invite %d lost", id, i)
		}
		if inv.TargetEntity != uid(100+i) || inv.Note != fmt.Sprintf("note %d", i) {
			t.Fatalf("invitation %s mixed up: %+v", id, inv)
		}
	}
}

func (s *suite) testConcurrentSameTarget(t *testing.T) {
	e := s.enabled(t)
	const n = 16
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Go(func() { _, errs[i] = e.svc.Invite(e.ctx, uid(1), directory.TargetAccount, "") })
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
			continue
		}
		wantErr(t, "concurrent duplicate invite", err, apperr.KindConflict, apperr.CodeInvitationPending)
	}
	if ok != 1 {
		t.Fatalf("%d of %d concurrent invitations of one target succeeded, want exactly 1", ok, n)
	}
	if got := len(e.invitations()); got != 1 {
		t.Fatalf("%d invitations, want 1", got)
	}
}

func (s *suite) testConcurrentAcceptAndRegister(t *testing.T) {
	e := s.enabled(t)
	const n = 24
	invs := make([]directory.Invitation, n)
	for i := range invs {
		invs[i] = e.invite(uid(i + 1))
	}
	var wg sync.WaitGroup
	for i := range invs {
		wg.Go(func() {
			if _, err := e.sim.AcceptInvitation(e.ctx, invs[i].ID, fmt.Sprintf("m%d", i)); err != nil {
				t.Errorf("accept %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if got := len(e.accounts()); got != n+1 {
		t.Fatalf("%d accounts after %d concurrent accepts, want %d", got, n, n+1)
	}

	// Racing registrations for a one-holder role: exactly one wins.
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Go(func() { errs[i] = e.svc.RegisterDelegatedAdmin(e.ctx, uid(i+1)) })
	}
	wg.Wait()
	winners := 0
	for _, err := range errs {
		if err == nil {
			winners++
			continue
		}
		wantErr(t, "racing registration", err, apperr.KindConflict, apperr.CodeDelegatedExists)
	}
	if winners != 1 || len(e.delegates()) != 1 {
		t.Fatalf("%d registrations won, %d delegated admins; want 1 and 1", winners, len(e.delegates()))
	}
}
