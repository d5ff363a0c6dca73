package simulation

import (
	"context"
	"time"
	"unicode/utf8"

	"github.com/sase-multiaccount/backend/shared/validate"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/port/directory"
)

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
func (s *Sim) EnableDirectory(ctx context.Context) (directory.Directory, error) {
	var d directory.Directory
	err := s.update(ctx, func(st *state, now time.Time) (change, error) {
		if st.dir != nil {
			return change{}, apperr.Conflict(apperr.CodeDirectoryExists,
				"A Resource Directory (%s) already exists; its management account is %s.",
				st.dir.ID, st.dir.ManagementAccountID)
		}
		if err := s.ownerRefusal(); err != nil {
			return change{}, err
		}
		owner := s.opts.OwnerAccountID
		st.dir = &directory.Directory{ID: "rd-" + randomToken(10), ManagementAccountID: owner, CreateTime: now,
			RootFolderID: "r-" + randomToken(6)}
		st.mark(kindMeta, "")
		st.addAccount(&account{ID: owner, DisplayName: s.opts.OwnerDisplayName, JoinTime: now, JoinMethod: "created", ModifyTime: now})
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
func (s *Sim) Invite(ctx context.Context, targetEntity, targetType, note string) (directory.Invitation, error) {
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
	err := s.updateDir(ctx, func(st *state, now time.Time) (change, error) {
		if inviteeID == st.dir.ManagementAccountID {
			return change{}, apperr.Conflict(apperr.CodeAlreadyInDirectory,
				"%s is the management account of the Resource Directory and cannot be invited.", targetEntity)
		}
		if st.accounts[inviteeID] != nil {
			return change{}, apperr.Conflict(apperr.CodeAlreadyInDirectory,
				"%s is already in the Resource Directory (account %s).", targetEntity, inviteeID)
		}
		if err := s.targetRefusal(targetEntity, inviteeID); err != nil {
			return change{}, err
		}
		if p := st.pendingFor(inviteeID, now); p != nil {
			return change{}, apperr.Conflict(apperr.CodeInvitationPending,
				"%s already has a pending invitation (%s) that expires at %s. Cancel it or wait for an answer.",
				targetEntity, p.ID, p.ExpireTime.Format(time.RFC3339))
		}
		// Only accepted invitations take a seat, so the member quota is
		// checked against the accounts already in; acceptance checks again.
		if len(st.accounts) >= s.opts.MaxAccounts {
			return change{}, errDirectoryFull(s.opts.MaxAccounts)
		}
		if n := st.pendingCount(now); n >= s.opts.MaxPendingInvitations {
			return change{}, apperr.Conflict(apperr.CodeLimitExceeded,
				"There are already %d pending invitations, the maximum. Cancel some or wait until they are answered or expire.", n)
		}
		id := "h-" + randomToken(16)
		for st.invByID[id] != nil {
			id = "h-" + randomToken(16)
		}
		st.nextSeq++
		st.mark(kindMeta, "")
		at := handshakeTime(now)
		inv := &invitation{
			Invitation: directory.Invitation{
				ID: id, TargetEntity: targetEntity, TargetType: targetType, Status: directory.StatusPending,
				Note: note, CreateTime: at, ExpireTime: at.Add(s.opts.InvitationTTL),
			},
			InviteeID: inviteeID, ModifyTime: at, Seq: st.nextSeq,
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
func (s *Sim) CancelInvitation(ctx context.Context, invitationID string) (directory.Invitation, error) {
	inv, _, err := s.answer(ctx, invitationID, directory.StatusCancelled, "CancelHandshake", "")
	return inv, err
}

// answer moves a pending invitation to status. The MA cancels; the invitee
// accepts or declines, and RD records those calls in the invitee's account.
func (s *Sim) answer(ctx context.Context, invitationID, status, eventName, displayName string) (directory.Invitation, directory.Account, error) {
	if invitationID == "" {
		return directory.Invitation{}, directory.Account{}, apperr.Missing("InvitationId")
	}
	var out directory.Invitation
	var joined directory.Account
	err := s.updateDir(ctx, func(st *state, now time.Time) (change, error) {
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
				return change{}, apperr.Conflict(apperr.CodeAlreadyInDirectory,
					"Account %s is already in the Resource Directory.", inv.InviteeID)
			}
			if len(st.accounts) >= s.opts.MaxAccounts {
				return change{}, errDirectoryFull(s.opts.MaxAccounts)
			}
			name := displayName
			if name == "" {
				name = inv.TargetEntity
			}
			a := &account{ID: inv.InviteeID, DisplayName: name, JoinTime: now, JoinMethod: "invited", ModifyTime: now}
			st.addAccount(a)
			joined = a.view()
		}
		st.setStatus(inv, status, handshakeTime(now))
		out = inv.view(now)
		// Accepting and declining are the invitee's calls: ActionTrail
		// records them in the invitee's account, so they never reach the
		// owner's bus; only a capturing caller sees them.
		return change{changed: true, elsewhere: caller != st.dir.ManagementAccountID,
			event: newEvent(caller, eventName, map[string]string{"HandshakeId": inv.ID}, now)}, nil
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
