// Package simulation is a persisted local Resource Directory, seen from the
// owner account (the account the deployment runs in). It implements
// directory.Service with RD's semantics and error codes, plus the actions
// other accounts would take in the real cloud (accept or decline an
// invitation, leave, be renamed), so that `make run` and the tests can play
// every side of the setup flow. The RD wire server wraps a Sim so that the
// SDK adapter can be tested against it.
//
// Every change is written to the state file before it is acknowledged and is
// then published as the ActionTrail ApiCall CloudEvent RD would produce.
package simulation

import (
	"sync"
	"time"

	"github.com/sase-multiaccount/backend/shared/validate"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/events"
	"github.com/sase-multiaccount/backend/shared/port/directory"
)

// Defaults of Options.
const (
	DefaultOwnerDisplayName      = "Management Account"
	DefaultMaxAccounts           = 10000
	DefaultMaxPendingInvitations = 1000
	DefaultMaxDelegatedAdmins    = 1
	DefaultInvitationTTL         = 14 * 24 * time.Hour // RD: an invitation is valid for 14 days
)

// Limits on free text, as RD enforces them.
const (
	maxNoteLen        = 1024
	maxDisplayNameLen = 50
)

// Options configure a Sim. Zero values take the defaults above.
type Options struct {
	Path                  string        // JSON state file; "" = in memory only (tests)
	OwnerAccountID        string        // the current account (required, 16 digits)
	OwnerDisplayName      string        // default "Management Account"
	ServicePrincipal      string        // default directory.DefaultServicePrincipal
	MaxAccounts           int           // default 10000 (accounts per directory incl. MA)
	MaxPendingInvitations int           // default 1000
	MaxDelegatedAdmins    int           // default 1 (per principal)
	MaxFolders            int           // default 100 (folders below the root)
	InvitationTTL         time.Duration // default 14 days
	// OwnerConditions are RD codes of directory.EnableRefusals (plus
	// NotSupport.AccountInAnotherResourceDirectory) that the owner account
	// is in: EnableDirectory refuses with the first, as RD refuses an
	// account that is, say, not enterprise-verified. Empty: an eligible owner.
	OwnerConditions []string
	// TargetConditions makes invitations to an account refused as RD
	// refuses them: account UID (or login email) -> RD code of
	// directory.InviteRefusals.
	TargetConditions map[string]string
	Now              func() time.Time        // default time.Now
	Publish          func(events.CloudEvent) // optional; called after each change, outside locks
}

// Sim is the simulated Resource Directory. It is safe for concurrent use.
type Sim struct {
	opts Options

	// mu guards everything below. Writers hold it while they save, so the
	// file always matches memory and saves never interleave.
	mu           sync.RWMutex
	st           *state
	saved        *image // what the files hold (nil in memory only); restored when a save fails
	needSnapshot bool   // a save failed: the next one rewrites the whole state
	logRecords   int    // records appended since the last compaction
	writes       int    // successful saves (tests check the one-write claim)
}

var _ directory.Service = (*Sim)(nil)

// Open validates opts, applies the defaults and loads the state file when
// there is one (a missing file is an owner without a directory).
func Open(opts Options) (*Sim, error) {
	if opts.OwnerAccountID == "" {
		return nil, apperr.Missing("OwnerAccountId")
	}
	if !validate.IsAccountID(opts.OwnerAccountID) {
		return nil, apperr.Invalid("OwnerAccountId",
			"The owner account ID %q is not an Alibaba Cloud account UID (16 digits).", opts.OwnerAccountID)
	}
	if opts.OwnerDisplayName == "" {
		opts.OwnerDisplayName = DefaultOwnerDisplayName
	}
	if opts.ServicePrincipal == "" {
		opts.ServicePrincipal = directory.DefaultServicePrincipal
	}
	for _, q := range []struct {
		name string
		v    *int
		def  int
	}{
		{"MaxAccounts", &opts.MaxAccounts, DefaultMaxAccounts},
		{"MaxPendingInvitations", &opts.MaxPendingInvitations, DefaultMaxPendingInvitations},
		{"MaxDelegatedAdmins", &opts.MaxDelegatedAdmins, DefaultMaxDelegatedAdmins},
		{"MaxFolders", &opts.MaxFolders, DefaultMaxFolders},
	} {
		if *q.v < 0 {
			return nil, apperr.Invalid(q.name, "%s must not be negative (got %d).", q.name, *q.v)
		}
		if *q.v == 0 {
			*q.v = q.def
		}
	}
	if opts.InvitationTTL < 0 {
		return nil, apperr.Invalid("InvitationTTL", "InvitationTTL must not be negative (got %s).", opts.InvitationTTL)
	}
	if opts.InvitationTTL == 0 {
		opts.InvitationTTL = DefaultInvitationTTL
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if err := checkConditions(&opts); err != nil {
		return nil, err
	}
	s := &Sim{opts: opts, st: newState()}
	if opts.Path != "" {
		if err := s.load(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// now is the simulation clock. RD reports directory and account times to
// the millisecond ("2021-12-08T02:15:31.744Z") and handshake times to the
// second, and the SDK adapter sees them through those strings, so the Sim
// keeps no more precision than that (see handshakeTime); both adapters then
// return equal times.
func (s *Sim) now() time.Time { return s.opts.Now().UTC().Truncate(time.Millisecond) }

// handshakeTime is t at RD's handshake precision: whole seconds.
func handshakeTime(t time.Time) time.Time { return t.Truncate(time.Second) }
