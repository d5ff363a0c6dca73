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
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

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

// Codes RD returns that the port has no constant for.
const (
	// CodeDenyTrustedService: RemoveCloudAccount of a delegated administrator.
	CodeDenyTrustedService = "Deny.TrustedService"
	// CodeDirectoryNotEmpty: DestroyResourceDirectory while members remain.
	CodeDirectoryNotEmpty = "DeleteConflict.ResourceDirectory.Account"
)

// Limits on free text, as RD enforces them.
const (
	maxNoteLen        = 1024
	maxDisplayNameLen = 50
)

// Options configure a Sim. Zero values take the defaults above.
type Options struct {
	Path                  string                  // JSON state file; "" = in memory only (tests)
	OwnerAccountID        string                  // the current account (required, 16 digits)
	OwnerDisplayName      string                  // default "Management Account"
	ServicePrincipal      string                  // default directory.DefaultServicePrincipal
	MaxAccounts           int                     // default 10000 (accounts per directory incl. MA)
	MaxPendingInvitations int                     // default 1000
	MaxDelegatedAdmins    int                     // default 1 (per principal)
	InvitationTTL         time.Duration           // default 14 days
	Now                   func() time.Time        // default time.Now
	Publish               func(events.CloudEvent) // optional; called after each change, outside locks
}

// Sim is the simulated Resource Directory. It is safe for concurrent use.
type Sim struct {
	opts Options

	// mu guards everything below. Writers hold it while they save, so the
	// file always matches memory and saves never interleave.
	mu       sync.RWMutex
	st       *state
	lastGood []byte // the last saved file content; restored when a save fails
	writes   int    // successful saves (tests check the one-write claim)
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
	s := &Sim{opts: opts, st: newState()}
	if opts.Path != "" {
		if err := s.load(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// now is the simulation clock. RD reports times to the second, and the SDK
// adapter sees them through RFC 3339 strings, so the Sim keeps no more
// precision than that; both adapters then return equal times.
func (s *Sim) now() time.Time { return s.opts.Now().UTC().Truncate(time.Second) }

// ---- internal model -------------------------------------------------------

type account struct {
	ID          string
	DisplayName string
	JoinTime    time.Time
	JoinMethod  string
}

type invitation struct {
	directory.Invitation           // Status is the stored one: never Expired
	InviteeID            string    // the account that may accept: the target UID, or the UID derived from the email
	ModifyTime           time.Time // last status change
	Seq                  int64     // creation order; IDs are random, times may tie
}

type delegate struct {
	AccountID   string
	EnabledTime time.Time
}

type state struct {
	dir         *directory.Directory // nil: no directory; ManagementAccountName is read from the MA account
	accounts    map[string]*account
	order       []*account // accounts sorted by (JoinTime, ID), kept on every change so listing is a copy
	invitations []*invitation
	invByID     map[string]*invitation
	pending     map[string]*invitation // invitee UID -> its pending invitation (may have expired since)
	delegates   map[string][]delegate  // principal -> delegated administrators in registration order
	nextSeq     int64
}

func newState() *state {
	return &state{
		accounts:  map[string]*account{},
		invByID:   map[string]*invitation{},
		pending:   map[string]*invitation{},
		delegates: map[string][]delegate{},
	}
}

func accountLess(a, b *account) int {
	if c := a.JoinTime.Compare(b.JoinTime); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

func (st *state) addAccount(a *account) {
	st.accounts[a.ID] = a
	i, _ := slices.BinarySearchFunc(st.order, a, accountLess)
	st.order = slices.Insert(st.order, i, a)
}

func (st *state) removeAccount(id string) {
	a := st.accounts[id]
	if a == nil {
		return
	}
	delete(st.accounts, id)
	if i, ok := slices.BinarySearchFunc(st.order, a, accountLess); ok {
		st.order = slices.Delete(st.order, i, i+1)
	}
}

func (st *state) addInvitation(inv *invitation) {
	st.invitations = append(st.invitations, inv)
	st.invByID[inv.ID] = inv
	if inv.Status == directory.StatusPending {
		st.pending[inv.InviteeID] = inv
	}
}

func (st *state) isDelegate(principal, accountID string) bool {
	return slices.ContainsFunc(st.delegates[principal], func(d delegate) bool { return d.AccountID == accountID })
}

// delegatedPrincipal returns a principal for which accountID is a delegated
// administrator, "" when none.
func (st *state) delegatedPrincipal(accountID string) string {
	principals := make([]string, 0, len(st.delegates))
	for p := range st.delegates {
		principals = append(principals, p)
	}
	slices.Sort(principals) // deterministic message when an account holds several
	for _, p := range principals {
		if st.isDelegate(p, accountID) {
			return p
		}
	}
	return ""
}

// effectiveStatus is what RD reports: a pending invitation past its
// expiry reads as Expired, without anything being written.
func effectiveStatus(inv *invitation, now time.Time) string {
	if inv.Status == directory.StatusPending && now.After(inv.ExpireTime) {
		return directory.StatusExpired
	}
	return inv.Status
}

func (inv *invitation) view(now time.Time) directory.Invitation {
	v := inv.Invitation
	v.Status = effectiveStatus(inv, now)
	return v
}

// pendingFor returns the invitee's invitation that is still pending at now.
func (st *state) pendingFor(inviteeID string, now time.Time) *invitation {
	inv := st.pending[inviteeID]
	if inv == nil || effectiveStatus(inv, now) != directory.StatusPending {
		return nil
	}
	return inv
}

// pendingCount counts invitations still pending at now, dropping expired
// ones from the index on the way (it is derived data, never saved).
func (st *state) pendingCount(now time.Time) int {
	n := 0
	for id, inv := range st.pending {
		if effectiveStatus(inv, now) == directory.StatusPending {
			n++
		} else {
			delete(st.pending, id)
		}
	}
	return n
}

func (st *state) setStatus(inv *invitation, status string, now time.Time) {
	inv.Status = status
	inv.ModifyTime = now
	if st.pending[inv.InviteeID] == inv {
		delete(st.pending, inv.InviteeID)
	}
}

func (st *state) directoryView() directory.Directory {
	d := *st.dir
	if ma := st.accounts[d.ManagementAccountID]; ma != nil {
		d.ManagementAccountName = ma.DisplayName
	}
	return d
}

func (a *account) view() directory.Account {
	return directory.Account{AccountID: a.ID, DisplayName: a.DisplayName, JoinTime: a.JoinTime, JoinMethod: a.JoinMethod}
}

// ---- change plumbing -------------------------------------------------------

// change is what a successful mutation reports.
type change struct {
	changed bool               // false: nothing to save (an idempotent repeat)
	event   *events.CloudEvent // published after the save, outside the lock
}

// update runs fn under the write lock. When fn changed the state it is saved
// before anything is returned; if the save fails the state is put back as it
// was saved last, so memory never holds a change the file does not. The
// event is published only after the lock is released, because a subscriber
// (the local event bus) may call straight back into the Sim.
func (s *Sim) update(fn func(st *state, now time.Time) (change, error)) error {
	ch, err := func() (change, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		ch, err := fn(s.st, s.now())
		if err != nil || !ch.changed {
			return ch, err
		}
		if err := s.saveLocked(); err != nil {
			s.restoreLocked()
			return change{}, err
		}
		return ch, nil
	}()
	if err != nil {
		return err
	}
	if ch.event != nil && s.opts.Publish != nil {
		// EventBridge stamps its publish time in milliseconds, after the
		// call (eventTime has whole seconds); directory-events files the
		// records of events under it.
		ev := *ch.event
		ev.AliyunPublishTime = s.opts.Now().UTC().Format("2006-01-02T15:04:05.000Z")
		s.opts.Publish(ev)
	}
	return nil
}

// updateDir is update for the actions that need the directory: NotFound
// when none is enabled, before fn runs.
func (s *Sim) updateDir(fn func(st *state, now time.Time) (change, error)) error {
	return s.update(func(st *state, now time.Time) (change, error) {
		if st.dir == nil {
			return change{}, errNoDirectory()
		}
		return fn(st, now)
	})
}

// readDir runs fn under the read lock; NotFound when no directory is
// enabled (every read needs one).
func (s *Sim) readDir(fn func(st *state, now time.Time) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st, now := s.st, s.now()
	if st.dir == nil {
		return errNoDirectory()
	}
	return fn(st, now)
}

func newEvent(caller, name string, params map[string]string, at time.Time) *events.CloudEvent {
	ev := events.NewActionTrailEvent(caller, name, params, at)
	return &ev
}

// ---- errors ----------------------------------------------------------------

func errNoDirectory() error {
	return apperr.NotFound("ResourceDirectory",
		"No Resource Directory is enabled for this account. Enable the Resource Directory first (setup step 1).")
}

func errAccountNotInDirectory(id string) error {
	return apperr.NotFound("Account", "Account %s is not in the Resource Directory.", id)
}

func errInvitationNotFound(id string) error {
	return apperr.NotFound("Invitation", "Invitation %q does not exist in this Resource Directory.", id)
}

func errInvitationStatus(inv *invitation, now time.Time) error {
	return apperr.Conflict(apperr.CodeInvitationStatus,
		"Invitation %s is %s, not Pending; only a pending invitation can be accepted, declined or cancelled.",
		inv.ID, effectiveStatus(inv, now))
}

func errDirectoryFull(max int) error {
	return apperr.Conflict(directory.CodeLimitExceeded,
		"The Resource Directory already has %d accounts, its maximum. Remove an account or raise the quota first.", max)
}

func checkAccountID(id string) error {
	if id == "" {
		return apperr.Missing("AccountId")
	}
	if !validate.IsAccountID(id) {
		return apperr.Invalid("AccountId", "Account ID %q is not an Alibaba Cloud account UID (16 digits).", id)
	}
	return nil
}

func checkDisplayName(param, name string) error {
	if strings.TrimSpace(name) == "" {
		return apperr.Missing(param)
	}
	if n := utf8.RuneCountInString(name); n > maxDisplayNameLen {
		return apperr.Invalid(param, "The display name is %d characters long; at most %d are allowed.", n, maxDisplayNameLen)
	}
	if !utf8.ValidString(name) || strings.ContainsFunc(name, unicode.IsControl) {
		return apperr.Invalid(param, "The display name must be valid text without control characters.")
	}
	return nil
}

// ---- directory.Service -----------------------------------------------------

// GetDirectory returns the directory; NotFound when none is enabled.
func (s *Sim) GetDirectory(_ context.Context) (directory.Directory, error) {
	var d directory.Directory
	err := s.readDir(func(st *state, _ time.Time) error {
		d = st.directoryView()
		return nil
	})
	return d, err
}

// EnableDirectory makes the owner the management account of a new directory.
func (s *Sim) EnableDirectory(_ context.Context) (directory.Directory, error) {
	var d directory.Directory
	err := s.update(func(st *state, now time.Time) (change, error) {
		if st.dir != nil {
			return change{}, apperr.Conflict(apperr.CodeDirectoryExists,
				"A Resource Directory (%s) already exists; its management account is %s.",
				st.dir.ID, st.dir.ManagementAccountID)
		}
		owner := s.opts.OwnerAccountID
		st.dir = &directory.Directory{ID: "rd-" + randomToken(10), ManagementAccountID: owner, CreateTime: now}
		st.addAccount(&account{ID: owner, DisplayName: s.opts.OwnerDisplayName, JoinTime: now, JoinMethod: "created"})
		d = st.directoryView()
		return change{changed: true, event: newEvent(owner, "EnableResourceDirectory",
			map[string]string{"EnableMode": "CurrentAccount"}, now)}, nil
	})
	return d, err
}

// ListAccounts returns every account of the directory, the MA included,
// sorted by join time and then account ID.
func (s *Sim) ListAccounts(_ context.Context) ([]directory.Account, error) {
	var out []directory.Account
	err := s.readDir(func(st *state, _ time.Time) error {
		out = make([]directory.Account, len(st.order))
		for i, a := range st.order {
			out[i] = a.view()
		}
		return nil
	})
	return out, err
}

// CountAccounts returns the number of accounts, the MA included.
func (s *Sim) CountAccounts(_ context.Context) (int, error) {
	var n int
	err := s.readDir(func(st *state, _ time.Time) error {
		n = len(st.order)
		return nil
	})
	return n, err
}

// Invite sends an invitation to an account UID or a login email.
func (s *Sim) Invite(_ context.Context, targetEntity, targetType, note string) (directory.Invitation, error) {
	var inviteeID string
	switch targetType {
	case "":
		return directory.Invitation{}, apperr.Missing("TargetType")
	case directory.TargetAccount:
		if targetEntity == "" {
			return directory.Invitation{}, apperr.Missing("TargetEntity")
		}
		if !validate.IsAccountID(targetEntity) {
			return directory.Invitation{}, apperr.Invalid("TargetEntity",
				"%q is not an Alibaba Cloud account UID (16 digits).", targetEntity)
		}
		inviteeID = targetEntity
	case directory.TargetEmail:
		if targetEntity == "" {
			return directory.Invitation{}, apperr.Missing("TargetEntity")
		}
		if !isEmail(targetEntity) {
			return directory.Invitation{}, apperr.Invalid("TargetEntity", "%q is not a valid email address.", targetEntity)
		}
		inviteeID = EmailAccountID(targetEntity)
	default:
		return directory.Invitation{}, apperr.Invalid("TargetType",
			"Target type %q is not supported; use %q or %q.", targetType, directory.TargetAccount, directory.TargetEmail)
	}
	if n := utf8.RuneCountInString(note); n > maxNoteLen {
		return directory.Invitation{}, apperr.Invalid("Note", "The note is %d characters long; at most %d are allowed.", n, maxNoteLen)
	}

	var out directory.Invitation
	err := s.updateDir(func(st *state, now time.Time) (change, error) {
		if inviteeID == st.dir.ManagementAccountID {
			return change{}, apperr.Conflict(directory.CodeAlreadyInDirectory,
				"%s is the management account of the Resource Directory and cannot be invited.", targetEntity)
		}
		if st.accounts[inviteeID] != nil {
			return change{}, apperr.Conflict(directory.CodeAlreadyInDirectory,
				"%s is already in the Resource Directory (account %s).", targetEntity, inviteeID)
		}
		if p := st.pendingFor(inviteeID, now); p != nil {
			return change{}, apperr.Conflict(directory.CodeInvitationPending,
				"%s already has a pending invitation (%s) that expires at %s. Cancel it or wait for an answer.",
				targetEntity, p.ID, p.ExpireTime.Format(time.RFC3339))
		}
		// Only accepted invitations take a seat, so the member quota is
		// checked against the accounts already in; acceptance checks again.
		if len(st.accounts) >= s.opts.MaxAccounts {
			return change{}, errDirectoryFull(s.opts.MaxAccounts)
		}
		if n := st.pendingCount(now); n >= s.opts.MaxPendingInvitations {
			return change{}, apperr.Conflict(directory.CodeLimitExceeded,
				"There are already %d pending invitations, the maximum. Cancel some or wait until they are answered or expire.", n)
		}
		id := "h-" + randomToken(16)
		for st.invByID[id] != nil {
			id = "h-" + randomToken(16)
		}
		st.nextSeq++
		inv := &invitation{
			Invitation: directory.Invitation{
				ID: id, TargetEntity: targetEntity, TargetType: targetType, Status: directory.StatusPending,
				Note: note, CreateTime: now, ExpireTime: now.Add(s.opts.InvitationTTL),
			},
			InviteeID: inviteeID, ModifyTime: now, Seq: st.nextSeq,
		}
		st.addInvitation(inv)
		out = inv.view(now)
		return change{changed: true, event: newEvent(st.dir.ManagementAccountID, "InviteAccountToResourceDirectory",
			map[string]string{"TargetEntity": targetEntity, "TargetType": targetType}, now)}, nil
	})
	return out, err
}

// ListInvitations returns every invitation of the directory, newest first.
func (s *Sim) ListInvitations(_ context.Context) ([]directory.Invitation, error) {
	var out []directory.Invitation
	err := s.readDir(func(st *state, now time.Time) error {
		out = make([]directory.Invitation, 0, len(st.invitations))
		for i := len(st.invitations) - 1; i >= 0; i-- {
			out = append(out, st.invitations[i].view(now))
		}
		return nil
	})
	return out, err
}

// CancelInvitation cancels a pending invitation (CancelHandshake).
func (s *Sim) CancelInvitation(_ context.Context, invitationID string) (directory.Invitation, error) {
	inv, _, err := s.answer(invitationID, directory.StatusCancelled, "CancelHandshake", "")
	return inv, err
}

// answer moves a pending invitation to status. The MA cancels; the invitee
// accepts or declines, and RD records those calls in the invitee's account.
func (s *Sim) answer(invitationID, status, eventName, displayName string) (directory.Invitation, directory.Account, error) {
	if invitationID == "" {
		return directory.Invitation{}, directory.Account{}, apperr.Missing("InvitationId")
	}
	var out directory.Invitation
	var joined directory.Account
	err := s.updateDir(func(st *state, now time.Time) (change, error) {
		inv := st.invByID[invitationID]
		if inv == nil {
			return change{}, errInvitationNotFound(invitationID)
		}
		if effectiveStatus(inv, now) != directory.StatusPending {
			return change{}, errInvitationStatus(inv, now)
		}
		caller := inv.InviteeID
		switch status {
		case directory.StatusCancelled:
			caller = st.dir.ManagementAccountID
		case directory.StatusAccepted:
			if st.accounts[inv.InviteeID] != nil {
				// Possible when an email and a UID invitation reach the same account.
				return change{}, apperr.Conflict(directory.CodeAlreadyInDirectory,
					"Account %s is already in the Resource Directory.", inv.InviteeID)
			}
			if len(st.accounts) >= s.opts.MaxAccounts {
				return change{}, errDirectoryFull(s.opts.MaxAccounts)
			}
			name := displayName
			if name == "" {
				name = inv.TargetEntity
			}
			a := &account{ID: inv.InviteeID, DisplayName: name, JoinTime: now, JoinMethod: "invited"}
			st.addAccount(a)
			joined = a.view()
		}
		st.setStatus(inv, status, now)
		out = inv.view(now)
		return change{changed: true, event: newEvent(caller, eventName,
			map[string]string{"HandshakeId": inv.ID}, now)}, nil
	})
	return out, joined, err
}

// ListDelegatedAdmins lists the delegated administrators of the configured
// service principal.
func (s *Sim) ListDelegatedAdmins(ctx context.Context) ([]directory.DelegatedAdmin, error) {
	return s.ListDelegatedAdminsFor(ctx, s.opts.ServicePrincipal)
}

// RegisterDelegatedAdmin makes accountID the delegated administrator of the
// configured service principal.
func (s *Sim) RegisterDelegatedAdmin(ctx context.Context, accountID string) error {
	return s.RegisterDelegatedAdminFor(ctx, accountID, s.opts.ServicePrincipal)
}

// DeregisterDelegatedAdmin removes accountID as delegated administrator of
// the configured service principal.
func (s *Sim) DeregisterDelegatedAdmin(ctx context.Context, accountID string) error {
	return s.DeregisterDelegatedAdminFor(ctx, accountID, s.opts.ServicePrincipal)
}

// ---- local-only actions ----------------------------------------------------

// AcceptInvitation is the invitee accepting: its account joins the
// directory under displayName (the target entity when empty).
func (s *Sim) AcceptInvitation(_ context.Context, invitationID, displayName string) (directory.Account, error) {
	if displayName != "" {
		if err := checkDisplayName("DisplayName", displayName); err != nil {
			return directory.Account{}, err
		}
	}
	_, a, err := s.answer(invitationID, directory.StatusAccepted, "AcceptHandshake", displayName)
	return a, err
}

// DeclineInvitation is the invitee declining.
func (s *Sim) DeclineInvitation(_ context.Context, invitationID string) error {
	_, _, err := s.answer(invitationID, directory.StatusDeclined, "DeclineHandshake", "")
	return err
}

// RemoveAccount removes a member (RemoveCloudAccount); it becomes a
// standalone account again and may be invited anew.
func (s *Sim) RemoveAccount(_ context.Context, accountID string) error {
	if err := checkAccountID(accountID); err != nil {
		return err
	}
	return s.updateDir(func(st *state, now time.Time) (change, error) {
		if accountID == st.dir.ManagementAccountID {
			return change{}, apperr.Invalid("AccountId",
				"Account %s is the management account; it cannot be removed from its own Resource Directory.", accountID)
		}
		if st.accounts[accountID] == nil {
			return change{}, errAccountNotInDirectory(accountID)
		}
		if p := st.delegatedPrincipal(accountID); p != "" {
			return change{}, apperr.Conflict(CodeDenyTrustedService,
				"Account %s is the delegated administrator of the trusted service %s. Deregister it before removing it from the Resource Directory.",
				accountID, p)
		}
		st.removeAccount(accountID)
		return change{changed: true, event: newEvent(st.dir.ManagementAccountID, "RemoveCloudAccount",
			map[string]string{"AccountId": accountID}, now)}, nil
	})
}

// RenameAccount changes an account's display name (UpdateAccount
// NewDisplayName). Renaming to the current name changes nothing and
// publishes nothing.
func (s *Sim) RenameAccount(_ context.Context, accountID, displayName string) (directory.Account, error) {
	if err := checkAccountID(accountID); err != nil {
		return directory.Account{}, err
	}
	if err := checkDisplayName("NewDisplayName", displayName); err != nil {
		return directory.Account{}, err
	}
	var out directory.Account
	err := s.updateDir(func(st *state, now time.Time) (change, error) {
		a := st.accounts[accountID]
		if a == nil {
			return change{}, errAccountNotInDirectory(accountID)
		}
		if a.DisplayName == displayName {
			out = a.view()
			return change{}, nil
		}
		a.DisplayName = displayName
		out = a.view()
		return change{changed: true, event: newEvent(st.dir.ManagementAccountID, "UpdateAccount",
			map[string]string{"AccountId": accountID, "NewDisplayName": displayName}, now)}, nil
	})
	return out, err
}

// DestroyDirectory disables the directory. Like RD it refuses while any
// account besides the MA remains; invitations go with the directory.
func (s *Sim) DestroyDirectory(_ context.Context) error {
	return s.updateDir(func(st *state, now time.Time) (change, error) {
		if n := len(st.accounts) - 1; n > 0 {
			return change{}, apperr.Conflict(CodeDirectoryNotEmpty,
				"The Resource Directory still has %d member account(s). Remove them before disabling it.", n)
		}
		ma := st.dir.ManagementAccountID
		*st = *newState()
		return change{changed: true, event: newEvent(ma, "DestroyResourceDirectory", nil, now)}, nil
	})
}

// SeedAccounts adds accounts directly, all or none, in one write. It is a
// fixture for tests and benchmarks, not an RD action, so it publishes no
// event. Empty fields default: DisplayName to the UID, JoinTime to now,
// JoinMethod to "invited".
func (s *Sim) SeedAccounts(_ context.Context, accounts []directory.Account) error {
	for _, a := range accounts {
		if err := checkAccountID(a.AccountID); err != nil {
			return err
		}
		if a.DisplayName != "" {
			if err := checkDisplayName("DisplayName", a.DisplayName); err != nil {
				return err
			}
		}
		if a.JoinMethod != "" && a.JoinMethod != "invited" && a.JoinMethod != "created" {
			return apperr.Invalid("JoinMethod", "Join method %q is not supported; use \"invited\" or \"created\".", a.JoinMethod)
		}
	}
	return s.updateDir(func(st *state, now time.Time) (change, error) {
		seen := make(map[string]bool, len(accounts))
		for _, a := range accounts {
			if seen[a.AccountID] || st.accounts[a.AccountID] != nil {
				return change{}, apperr.Conflict(directory.CodeAlreadyInDirectory,
					"Account %s is already in the Resource Directory (or listed twice).", a.AccountID)
			}
			seen[a.AccountID] = true
		}
		if len(st.accounts)+len(accounts) > s.opts.MaxAccounts {
			return change{}, apperr.Conflict(directory.CodeLimitExceeded,
				"Adding %d accounts to the %d already in the Resource Directory would exceed its maximum of %d.",
				len(accounts), len(st.accounts), s.opts.MaxAccounts)
		}
		if len(accounts) == 0 {
			return change{}, nil
		}
		added := make([]*account, len(accounts))
		for i, in := range accounts {
			a := &account{ID: in.AccountID, DisplayName: in.DisplayName, JoinTime: in.JoinTime.UTC().Truncate(time.Second), JoinMethod: in.JoinMethod}
			if a.DisplayName == "" {
				a.DisplayName = a.ID
			}
			if in.JoinTime.IsZero() {
				a.JoinTime = now
			}
			if a.JoinMethod == "" {
				a.JoinMethod = "invited"
			}
			st.accounts[a.ID] = a
			added[i] = a
		}
		// One sort for the whole batch rather than n sorted inserts.
		st.order = append(st.order, added...)
		slices.SortFunc(st.order, accountLess)
		return change{changed: true}, nil
	})
}

// ListDelegatedAdminsFor lists the delegated administrators of principal,
// sorted by enabled time and then account ID.
func (s *Sim) ListDelegatedAdminsFor(_ context.Context, principal string) ([]directory.DelegatedAdmin, error) {
	if principal == "" {
		return nil, apperr.Missing("ServicePrincipal")
	}
	var out []directory.DelegatedAdmin
	err := s.readDir(func(st *state, _ time.Time) error {
		ds := st.delegates[principal]
		out = make([]directory.DelegatedAdmin, 0, len(ds))
		for _, d := range ds {
			da := directory.DelegatedAdmin{AccountID: d.AccountID, EnabledTime: d.EnabledTime}
			if a := st.accounts[d.AccountID]; a != nil {
				da.DisplayName = a.DisplayName
			}
			out = append(out, da)
		}
		slices.SortFunc(out, func(a, b directory.DelegatedAdmin) int {
			if c := a.EnabledTime.Compare(b.EnabledTime); c != 0 {
				return c
			}
			return strings.Compare(a.AccountID, b.AccountID)
		})
		return nil
	})
	return out, err
}

// RegisterDelegatedAdminFor registers accountID for principal. Registering
// the account that already holds the role is a no-op.
func (s *Sim) RegisterDelegatedAdminFor(_ context.Context, accountID, principal string) error {
	if err := checkAccountID(accountID); err != nil {
		return err
	}
	if principal == "" {
		return apperr.Missing("ServicePrincipal")
	}
	return s.updateDir(func(st *state, now time.Time) (change, error) {
		if accountID == st.dir.ManagementAccountID {
			return change{}, apperr.Invalid("AccountId",
				"Account %s is the management account; choose a member account as delegated administrator.", accountID)
		}
		if st.accounts[accountID] == nil {
			return change{}, errAccountNotInDirectory(accountID)
		}
		if st.isDelegate(principal, accountID) {
			return change{}, nil
		}
		if ds := st.delegates[principal]; len(ds) >= s.opts.MaxDelegatedAdmins {
			holders := make([]string, len(ds))
			for i, d := range ds {
				holders[i] = d.AccountID
			}
			return change{}, apperr.Conflict(apperr.CodeDelegatedExists,
				"Account %s is already the delegated administrator for %s (at most %d allowed). Deregister it first.",
				strings.Join(holders, ", "), principal, s.opts.MaxDelegatedAdmins)
		}
		st.delegates[principal] = append(st.delegates[principal], delegate{AccountID: accountID, EnabledTime: now})
		return change{changed: true, event: newEvent(st.dir.ManagementAccountID, "RegisterDelegatedAdministrator",
			map[string]string{"AccountId": accountID, "ServicePrincipal": principal}, now)}, nil
	})
}

// DeregisterDelegatedAdminFor removes accountID as delegated administrator
// of principal.
func (s *Sim) DeregisterDelegatedAdminFor(_ context.Context, accountID, principal string) error {
	if err := checkAccountID(accountID); err != nil {
		return err
	}
	if principal == "" {
		return apperr.Missing("ServicePrincipal")
	}
	return s.updateDir(func(st *state, now time.Time) (change, error) {
		ds := st.delegates[principal]
		i := slices.IndexFunc(ds, func(d delegate) bool { return d.AccountID == accountID })
		if i < 0 {
			return change{}, apperr.NotFound("DelegatedAdministrator",
				"Account %s is not a delegated administrator for %s.", accountID, principal)
		}
		ds = slices.Delete(slices.Clone(ds), i, i+1)
		if len(ds) == 0 {
			delete(st.delegates, principal)
		} else {
			st.delegates[principal] = ds
		}
		return change{changed: true, event: newEvent(st.dir.ManagementAccountID, "DeregisterDelegatedAdministrator",
			map[string]string{"AccountId": accountID, "ServicePrincipal": principal}, now)}, nil
	})
}

// GetAccount returns an account of the directory.
func (s *Sim) GetAccount(_ context.Context, accountID string) (directory.Account, error) {
	if err := checkAccountID(accountID); err != nil {
		return directory.Account{}, err
	}
	var out directory.Account
	err := s.readDir(func(st *state, _ time.Time) error {
		a := st.accounts[accountID]
		if a == nil {
			return errAccountNotInDirectory(accountID)
		}
		out = a.view()
		return nil
	})
	return out, err
}

// GetInvitation returns one invitation (GetHandshake).
func (s *Sim) GetInvitation(_ context.Context, id string) (directory.Invitation, error) {
	if id == "" {
		return directory.Invitation{}, apperr.Missing("InvitationId")
	}
	var out directory.Invitation
	err := s.readDir(func(st *state, now time.Time) error {
		inv := st.invByID[id]
		if inv == nil {
			return errInvitationNotFound(id)
		}
		out = inv.view(now)
		return nil
	})
	return out, err
}

// ---- identifiers ----------------------------------------------------------

// EmailAccountID is the UID of the standalone account behind a login email
// in the simulation: deterministic, so the same email always joins as the
// same account, and case-insensitive like login names.
func EmailAccountID(email string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(email)))
	n := binary.BigEndian.Uint64(sum[:8]) % 9_000_000_000_000_000
	return fmt.Sprintf("%016d", n+1_000_000_000_000_000) // 16 digits, no leading zero
}

// isEmail accepts plain addresses (no display names, no quoting): what the
// console sends and what RD's login emails look like.
func isEmail(s string) bool {
	if len(s) > 254 {
		return false
	}
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || len(local) > 64 || domain == "" || strings.Contains(domain, "@") {
		return false
	}
	for _, r := range local {
		if !(r < utf8.RuneSelf && (isAlnum(byte(r)) || strings.ContainsRune(".!#$%&'*+/=?^_`{|}~-", r))) {
			return false
		}
	}
	if local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
		return false
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			if !isAlnum(l[i]) && l[i] != '-' {
				return false
			}
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

const tokenAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// randomToken returns n random lowercase letters and digits.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	for i := range b {
		b[i] = tokenAlphabet[int(b[i])%len(tokenAlphabet)]
	}
	return string(b)
}
