// Package directorytest is the contract suite of the Resource Directory port.
// Every directory.Service adapter runs it: the simulation directly, and the
// SDK adapter through the RD wire server that wraps a simulation. The Sim in
// the fixture plays the other accounts (accept, decline, leave, rename) and
// seeds data, because the port is only what the owner account can do.
package directorytest

import (
	"sync"
	"testing"
	"time"

	"github.com/sase-multiaccount/backend/shared/local/simulation"
	"github.com/sase-multiaccount/backend/shared/port/directory"
)

// Fixture is one fresh directory as a test sees it.
type Fixture struct {
	Service        directory.Service
	OwnerAccountID string
	Sim            *simulation.Sim // the simulation behind Service, to drive invitee-side actions (accept, remove, rename) and seeding
	// Organizer is the adapter's directory.Organizer under test; nil: the
	// folder tests make their writes through Sim and check them through
	// Service.
	Organizer directory.Organizer
}

// OwnerAccountID is the owner the suite asks for in every Options.
const OwnerAccountID = "1100000000000001"

// Start is the suite clock's initial time (whole seconds: RD's precision).
var Start = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

// Run runs the contract suite. newFixture must build a fresh Sim from opts
// exactly as given (quotas, clock, owner) and return the Service under test
// in front of it. The suite leaves Path empty; a fixture may set it.
func Run(t *testing.T, newFixture func(t *testing.T, opts simulation.Options) Fixture) {
	s := &suite{newFixture: newFixture}
	tests := []struct {
		name string
		fn   func(t *testing.T)
	}{
		{"NoDirectory", s.testNoDirectory},
		{"EnableDirectory", s.testEnableDirectory},
		{"EnableDirectoryOwnerName", s.testEnableDirectoryOwnerName},
		{"EnableRefused", s.testEnableRefused},
		{"InviteAcceptList", s.testInviteAcceptList},
		{"AcceptDefaultDisplayName", s.testAcceptDefaultDisplayName},
		{"EmailInvitation", s.testEmailInvitation},
		{"InviteInvalidParameters", s.testInviteInvalidParameters},
		{"InvitePerTargetConflicts", s.testInvitePerTargetConflicts},
		{"InviteRefused", s.testInviteRefused},
		{"CancelInvitation", s.testCancelInvitation},
		{"DeclineInvitation", s.testDeclineInvitation},
		{"Expiry", s.testExpiry},
		{"ExpiryCustomTTL", s.testExpiryCustomTTL},
		{"QuotaAccounts", s.testQuotaAccounts},
		{"QuotaPendingFreed", s.testQuotaPendingFreed},
		{"DelegatedAdmin", s.testDelegatedAdmin},
		{"DelegatedAdminLimit", s.testDelegatedAdminLimit},
		{"DelegatedAdminOtherPrincipal", s.testDelegatedAdminOtherPrincipal},
		{"RemoveAccount", s.testRemoveAccount},
		{"RenameAccount", s.testRenameAccount},
		{"ListAccountsOrder", s.testListAccountsOrder},
		{"ListInvitationsNewestFirst", s.testListInvitationsNewestFirst},
		{"ManyAccountsAndInvitations", s.testManyAccountsAndInvitations},
		{"SeedAccounts", s.testSeedAccounts},
		{"DestroyDirectory", s.testDestroyDirectory},
		{"ConcurrentInvites", s.testConcurrentInvites},
		{"ConcurrentSameTarget", s.testConcurrentSameTarget},
		{"ConcurrentAcceptAndRegister", s.testConcurrentAcceptAndRegister},
		{"FolderTree", s.testFolderTree},
		{"FolderQuota", s.testFolderQuota},
		{"MoveAccount", s.testMoveAccount},
		{"CreateResourceAccount", s.testCreateResourceAccount},
		{"NewAccountRules", s.testNewAccountRules},
		{"FoldersNeedDirectory", s.testFoldersNeedDirectory},
	}
	for _, tc := range tests {
		t.Run(tc.name, tc.fn)
	}
}

type suite struct {
	newFixture func(t *testing.T, opts simulation.Options) Fixture
}

// Clock is a controllable clock for Options.Now.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a Clock reading start.
func NewClock(start time.Time) *Clock { return &Clock{t: start} }

// Now returns the current fake time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}
