// Package setup holds the use cases of setup steps 1-3: describe the setup,
// enable the directory, invite accounts, and designate the delegated
// administrator. It talks to Resource Directory through directory.Service.
package setup

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sase-multiaccount/backend/shared/action"
	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/pagetoken"
	"github.com/sase-multiaccount/backend/shared/port/directory"
	"github.com/sase-multiaccount/backend/shared/rolecheck"
	"github.com/sase-multiaccount/backend/shared/usecase/audit"
	"github.com/sase-multiaccount/backend/shared/validate"
)

// Limits of API.md.
const (
	MaxTargets = 20
	MaxNoteLen = 1024
)

// MemberCounter is what setup reads from the member store.
type MemberCounter interface {
	CountMembers(ctx context.Context, dirID string) (int, error)
}

// Service runs the setup use cases.
type Service struct {
	Directory directory.Service
	Members   MemberCounter
	Audit     *audit.Recorder
	Tokens    *pagetoken.Codec
	// Changed is called after a change that alters roles (enable, delegated
	// administrator changes): it drops this instance's cached roles and
	// bumps the directory generation, so every instance drops theirs.
	Changed func(ctx context.Context) error
}

func (s *Service) changed(ctx context.Context) error {
	if s.Changed == nil {
		return nil
	}
	if err := s.Changed(ctx); err != nil {
		return fmt.Errorf("publish role change: %w", err)
	}
	return nil
}

// ResourceDirectory is a directory as the API shows it.
type ResourceDirectory struct {
	DirectoryId           string
	ManagementAccountId   string
	ManagementAccountName string
	CreateTime            string
}

func viewDirectory(d *directory.Directory) *ResourceDirectory {
	if d == nil {
		return nil
	}
	return &ResourceDirectory{DirectoryId: d.ID, ManagementAccountId: d.ManagementAccountID,
		ManagementAccountName: d.ManagementAccountName, CreateTime: audit.FormatTime(d.CreateTime)}
}

// DelegatedAdministrator is the delegated administrator as the API shows it.
type DelegatedAdministrator struct {
	AccountId             string
	DisplayName           string
	DelegationEnabledTime string
}

// ---- describe-setup ----

// Caller is the caller's account and role.
type Caller struct {
	AccountId string
	Role      rolecheck.Role
}

// Steps says which setup steps are done.
type Steps struct {
	DirectoryEnabled            bool
	MembersInvited              bool
	DelegatedAdministratorAdded bool
	MembersAdded                bool
}

// DescribeOutput is the answer of describe-setup for the owner, the
// management account and the delegated administrator.
type DescribeOutput struct {
	Caller                 Caller
	ResourceDirectory      *ResourceDirectory
	DelegatedAdministrator *DelegatedAdministrator
	Steps                  Steps
	DirectoryAccountCount  int
	MemberCount            int
}

// MemberDescribeOutput is what a member sees: only its role and the directory.
type MemberDescribeOutput struct {
	Caller            Caller
	ResourceDirectory *ResourceDirectory
}

// Describe reports the setup status to the caller's role: a DescribeOutput,
// or a MemberDescribeOutput for a member.
func (s *Service) Describe(ctx context.Context, sub rolecheck.Subject) (any, error) {
	caller := Caller{AccountId: sub.AccountID, Role: sub.Role}
	if sub.Role == rolecheck.RoleMember {
		return MemberDescribeOutput{Caller: caller, ResourceDirectory: viewDirectory(sub.Directory)}, nil
	}
	out := DescribeOutput{Caller: caller, ResourceDirectory: viewDirectory(sub.Directory)}
	if sub.Directory == nil {
		return out, nil
	}
	d := sub.Directory
	steps := &out.Steps
	steps.DirectoryEnabled = true
	// One RD call however large the directory: the MA is always in it, so
	// any further account means step 2 is done.
	n, err := s.Directory.CountAccounts(ctx)
	if err != nil {
		return nil, fmt.Errorf("describe setup: %w", err)
	}
	out.DirectoryAccountCount = n
	steps.MembersInvited = n > 1
	das, err := s.Directory.ListDelegatedAdmins(ctx)
	if err != nil {
		return nil, fmt.Errorf("describe setup: %w", err)
	}
	if len(das) > 0 {
		steps.DelegatedAdministratorAdded = true
		out.DelegatedAdministrator = viewDelegated(das[0])
	}
	if out.MemberCount, err = s.Members.CountMembers(ctx, d.ID); err != nil {
		return nil, fmt.Errorf("describe setup: %w", err)
	}
	steps.MembersAdded = out.MemberCount > 0
	return out, nil
}

func viewDelegated(da directory.DelegatedAdmin) *DelegatedAdministrator {
	return &DelegatedAdministrator{AccountId: da.AccountID, DisplayName: da.DisplayName, DelegationEnabledTime: audit.FormatTime(da.EnabledTime)}
}

// ---- enable-directory ----

// EnableOutput is the answer of enable-directory.
type EnableOutput struct {
	ResourceDirectory *ResourceDirectory
}

// Enable makes the owner the management account of a new directory; for the
// management account it returns the existing directory (idempotent).
func (s *Service) Enable(ctx context.Context, sub rolecheck.Subject, actor audit.Actor) (EnableOutput, error) {
	if sub.Directory != nil {
		return EnableOutput{ResourceDirectory: viewDirectory(sub.Directory)}, nil
	}
	d, err := s.Directory.EnableDirectory(ctx)
	if apperr.IsCode(err, apperr.CodeDirectoryExists) {
		// Enabled meanwhile (a concurrent request, or a cached role): read it back.
		d, err = s.Directory.GetDirectory(ctx)
		if err == nil && d.ManagementAccountID != sub.AccountID {
			return EnableOutput{}, apperr.Conflict(apperr.CodeDirectoryExists,
				"Account %s already belongs to resource directory %s.", sub.AccountID, d.ID)
		}
		if err == nil {
			return EnableOutput{ResourceDirectory: viewDirectory(&d)}, s.changed(ctx)
		}
	}
	if err != nil {
		return EnableOutput{}, fmt.Errorf("enable directory: %w", err)
	}
	if err := s.changed(ctx); err != nil {
		return EnableOutput{}, err
	}
	if err := s.Audit.Record(ctx, d.ID, actor, audit.Entry{Action: action.EnableDirectory, Target: d.ID, Result: "Enabled"}); err != nil {
		return EnableOutput{}, err
	}
	return EnableOutput{ResourceDirectory: viewDirectory(&d)}, nil
}

// ---- invite-accounts ----

// Target is one invitee: exactly one of AccountId or Email.
type Target struct {
	AccountId string
	Email     string
}

// InviteInput is the body of invite-accounts.
type InviteInput struct {
	Targets []Target
	Note    string
}

// InviteResult is one item of the answer.
type InviteResult struct {
	Target       string
	Status       string // Invited | Failed
	InvitationId string `json:",omitempty"`
	Code         string `json:",omitempty"`
	Message      string `json:",omitempty"`
}

// InviteOutput is the answer of invite-accounts.
type InviteOutput struct {
	Results []InviteResult
}

// Invite sends one RD invitation per target. Input errors fail the whole
// request; a failure for one target is reported in its result, because the
// invitations before it have been sent already.
func (s *Service) Invite(ctx context.Context, d directory.Directory, actor audit.Actor, in InviteInput) (InviteOutput, error) {
	if len(in.Targets) == 0 {
		return InviteOutput{}, apperr.Missing("Targets")
	}
	if len(in.Targets) > MaxTargets {
		return InviteOutput{}, apperr.Invalid("Targets", "Targets has %d entries; at most %d are allowed per request.", len(in.Targets), MaxTargets)
	}
	if err := validate.Text("Note", in.Note, MaxNoteLen); err != nil {
		return InviteOutput{}, err
	}
	type target struct{ entity, kind string }
	var targets []target
	seen := map[string]bool{}
	for i, t := range in.Targets {
		var tg target
		switch {
		case t.AccountId != "" && t.Email != "":
			return InviteOutput{}, apperr.Invalid("Targets", "Targets[%d] has both AccountId and Email; give exactly one.", i)
		case t.AccountId != "":
			if !validate.IsAccountID(t.AccountId) {
				return InviteOutput{}, apperr.Invalid("Targets", "Targets[%d].AccountId %q is not an account UID: it must be 16 digits.", i, validate.Clip(t.AccountId))
			}
			tg = target{t.AccountId, directory.TargetAccount}
		case t.Email != "":
			if err := validate.Email("Targets", t.Email); err != nil {
				return InviteOutput{}, apperr.Invalid("Targets", "Targets[%d].Email %q is not a valid email address.", i, validate.Clip(t.Email))
			}
			tg = target{strings.ToLower(t.Email), directory.TargetEmail}
		default:
			return InviteOutput{}, apperr.Missing(fmt.Sprintf("Targets[%d].AccountId", i))
		}
		if !seen[tg.entity] {
			seen[tg.entity] = true
			targets = append(targets, tg)
		}
	}
	out := InviteOutput{Results: make([]InviteResult, len(targets))}
	var entries []audit.Entry
	for i, t := range targets {
		r := &out.Results[i]
		r.Target = t.entity
		inv, err := s.Directory.Invite(ctx, t.entity, t.kind, in.Note)
		if err != nil {
			e, ok := apperr.As(err)
			if !ok || e.Kind == apperr.KindInternal {
				return InviteOutput{}, fmt.Errorf("invite %s: %w", t.entity, err)
			}
			r.Status, r.Code, r.Message = "Failed", e.Code, e.Message
			continue
		}
		r.Status, r.InvitationId = "Invited", inv.ID
		entries = append(entries, audit.Entry{Action: action.InviteAccounts, Target: t.entity, Result: "Invited",
			Detail: map[string]string{"InvitationId": inv.ID, "TargetType": t.kind}})
	}
	if err := s.Audit.Record(ctx, d.ID, actor, entries...); err != nil {
		return InviteOutput{}, err
	}
	return out, nil
}

// ---- list-invitations ----

// Invitation is an invitation as the API shows it.
type Invitation struct {
	InvitationId string
	TargetEntity string
	TargetType   string
	Status       string
	Note         string
	CreateTime   string
	ExpireTime   string
}

func viewInvitation(i directory.Invitation) Invitation {
	return Invitation{InvitationId: i.ID, TargetEntity: i.TargetEntity, TargetType: i.TargetType, Status: i.Status,
		Note: i.Note, CreateTime: audit.FormatTime(i.CreateTime), ExpireTime: audit.FormatTime(i.ExpireTime)}
}

// ListInvitationsInput is the query of list-invitations.
type ListInvitationsInput struct {
	Status     string
	MaxResults string
	NextToken  string
}

// ListInvitationsOutput is the answer of list-invitations.
type ListInvitationsOutput struct {
	Invitations []Invitation
	TotalCount  int
	NextToken   string `json:",omitempty"`
}

type invitationPosition struct {
	CreateMs int64  `json:"t"`
	ID       string `json:"i"`
}

// ListInvitations lists invitations, newest first, optionally by status.
func (s *Service) ListInvitations(ctx context.Context, d directory.Directory, in ListInvitationsInput) (ListInvitationsOutput, error) {
	limit, err := validate.MaxResults(in.MaxResults, 20, 100)
	if err != nil {
		return ListInvitationsOutput{}, err
	}
	status, err := validate.OneOf("Status", in.Status, "", directory.StatusPending, directory.StatusAccepted,
		directory.StatusCancelled, directory.StatusDeclined, directory.StatusExpired)
	if err != nil {
		return ListInvitationsOutput{}, err
	}
	binding := "invitations\x00" + d.ID + "\x00" + status
	var pos *invitationPosition
	if in.NextToken != "" {
		pos = &invitationPosition{}
		if err := s.Tokens.Decode(in.NextToken, binding, pos); err != nil {
			return ListInvitationsOutput{}, err
		}
	}
	all, err := s.Directory.ListInvitations(ctx)
	if err != nil {
		return ListInvitationsOutput{}, fmt.Errorf("list invitations: %w", err)
	}
	newestFirst := func(a, b directory.Invitation) int {
		if c := b.CreateTime.Compare(a.CreateTime); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	}
	all = slices.DeleteFunc(all, func(i directory.Invitation) bool { return status != "" && i.Status != status })
	slices.SortFunc(all, newestFirst)
	start := 0
	if pos != nil {
		key := directory.Invitation{ID: pos.ID, CreateTime: time.UnixMilli(pos.CreateMs)}
		start, _ = slices.BinarySearchFunc(all, key, func(a, k directory.Invitation) int {
			// Compare at the token's millisecond precision.
			a.CreateTime = a.CreateTime.Truncate(time.Millisecond)
			return newestFirst(a, k)
		})
		if start < len(all) && all[start].ID == pos.ID {
			start++
		}
	}
	end := min(start+limit, len(all))
	out := ListInvitationsOutput{Invitations: make([]Invitation, 0, end-start), TotalCount: len(all)}
	for _, i := range all[start:end] {
		out.Invitations = append(out.Invitations, viewInvitation(i))
	}
	if end < len(all) {
		last := all[end-1]
		out.NextToken = s.Tokens.Encode(binding, invitationPosition{CreateMs: last.CreateTime.UnixMilli(), ID: last.ID})
	}
	return out, nil
}

// ---- cancel-invitation ----

// CancelInput is the body of cancel-invitation.
type CancelInput struct {
	InvitationId string
}

// CancelOutput is the answer of cancel-invitation.
type CancelOutput struct {
	Invitation Invitation
}

// Cancel cancels a pending invitation.
func (s *Service) Cancel(ctx context.Context, d directory.Directory, actor audit.Actor, in CancelInput) (CancelOutput, error) {
	if in.InvitationId == "" {
		return CancelOutput{}, apperr.Missing("InvitationId")
	}
	if !strings.HasPrefix(in.InvitationId, "h-") || len(in.InvitationId) > 64 {
		return CancelOutput{}, apperr.Invalid("InvitationId", "InvitationId %q is not an invitation ID (h-…).", validate.Clip(in.InvitationId))
	}
	inv, err := s.Directory.CancelInvitation(ctx, in.InvitationId)
	if err != nil {
		return CancelOutput{}, fmt.Errorf("cancel invitation: %w", err)
	}
	if err := s.Audit.Record(ctx, d.ID, actor, audit.Entry{Action: action.CancelInvitation, Target: inv.ID, Result: "Cancelled",
		Detail: map[string]string{"TargetEntity": inv.TargetEntity}}); err != nil {
		return CancelOutput{}, err
	}
	return CancelOutput{Invitation: viewInvitation(inv)}, nil
}

// ---- register-/deregister-delegated-admin ----

// DelegatedInput is the body of both delegated administrator functions.
type DelegatedInput struct {
	AccountId string
}

// RegisterOutput is the answer of register-delegated-admin.
type RegisterOutput struct {
	DelegatedAdministrator *DelegatedAdministrator
}

// Register designates the delegated administrator (step 3). The same account
// again is a success; another account holding the role is a conflict.
func (s *Service) Register(ctx context.Context, d directory.Directory, actor audit.Actor, in DelegatedInput) (RegisterOutput, error) {
	if err := validate.AccountID("AccountId", in.AccountId); err != nil {
		return RegisterOutput{}, err
	}
	if in.AccountId == d.ManagementAccountID {
		return RegisterOutput{}, apperr.Invalid("AccountId",
			"AccountId %s is the management account; choose a member account of the directory as delegated administrator.", in.AccountId)
	}
	das, err := s.Directory.ListDelegatedAdmins(ctx)
	if err != nil {
		return RegisterOutput{}, fmt.Errorf("register delegated admin: %w", err)
	}
	for _, da := range das {
		if da.AccountID == in.AccountId {
			return RegisterOutput{DelegatedAdministrator: viewDelegated(da)}, nil
		}
	}
	if err := s.Directory.RegisterDelegatedAdmin(ctx, in.AccountId); err != nil {
		return RegisterOutput{}, fmt.Errorf("register delegated admin: %w", err)
	}
	if err := s.changed(ctx); err != nil {
		return RegisterOutput{}, err
	}
	if das, err = s.Directory.ListDelegatedAdmins(ctx); err != nil {
		return RegisterOutput{}, fmt.Errorf("register delegated admin: %w", err)
	}
	out := RegisterOutput{DelegatedAdministrator: &DelegatedAdministrator{AccountId: in.AccountId}}
	for _, da := range das {
		if da.AccountID == in.AccountId {
			out.DelegatedAdministrator = viewDelegated(da)
		}
	}
	if err := s.Audit.Record(ctx, d.ID, actor, audit.Entry{Action: action.RegisterDelegatedAdmin, Target: in.AccountId, Result: "Registered"}); err != nil {
		return RegisterOutput{}, err
	}
	return out, nil
}

// DeregisterOutput is the (empty) answer of deregister-delegated-admin.
type DeregisterOutput struct{}

// Deregister removes the delegated administrator.
func (s *Service) Deregister(ctx context.Context, d directory.Directory, actor audit.Actor, in DelegatedInput) (DeregisterOutput, error) {
	if err := validate.AccountID("AccountId", in.AccountId); err != nil {
		return DeregisterOutput{}, err
	}
	if err := s.Directory.DeregisterDelegatedAdmin(ctx, in.AccountId); err != nil {
		return DeregisterOutput{}, fmt.Errorf("deregister delegated admin: %w", err)
	}
	if err := s.changed(ctx); err != nil {
		return DeregisterOutput{}, err
	}
	if err := s.Audit.Record(ctx, d.ID, actor, audit.Entry{Action: action.DeregisterDelegatedAdmin, Target: in.AccountId, Result: "Deregistered"}); err != nil {
		return DeregisterOutput{}, err
	}
	return DeregisterOutput{}, nil
}
