// Package setup holds the use cases of setup steps 1-3: describe the setup,
// enable the directory, invite accounts, and designate the delegated
// administrator. It talks to Resource Directory through the small Directory
// interface below (a directory.Service satisfies it).
package setup

import (
	"context"
	"fmt"

	"github.com/rs/zerolog"

	"github.com/sase-multiaccount/backend/shared/pagetoken"
	"github.com/sase-multiaccount/backend/shared/port/directory"
	"github.com/sase-multiaccount/backend/shared/port/store"
	"github.com/sase-multiaccount/backend/shared/usecase/audit"
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

// Directory is what setup asks Resource Directory: directory.Service but
// ListAccounts (describe-setup counts the accounts, it never lists them).
type Directory interface {
	GetDirectory(ctx context.Context) (directory.Directory, error)
	EnableDirectory(ctx context.Context) (directory.Directory, error)
	CountAccounts(ctx context.Context) (int, error)
	Invite(ctx context.Context, targetEntity, targetType, note string) (directory.Invitation, error)
	ListInvitations(ctx context.Context) ([]directory.Invitation, error)
	CancelInvitation(ctx context.Context, invitationID string) (directory.Invitation, error)
	ListDelegatedAdmins(ctx context.Context) ([]directory.DelegatedAdmin, error)
	RegisterDelegatedAdmin(ctx context.Context, accountID string) error
	DeregisterDelegatedAdmin(ctx context.Context, accountID string) error
}

// Auditor records the changes setup makes (audit.Recorder).
type Auditor interface {
	Record(ctx context.Context, dirID string, actor audit.Actor, entries ...audit.Entry) error
}

// MirrorWriter writes a new directory's first mirror (store.DirectoryMirror).
type MirrorWriter interface {
	ReplaceMirror(ctx context.Context, dirID string, m store.Mirror) error
}

// Service runs the setup use cases.
type Service struct {
	Directory Directory
	Members   MemberCounter
	Mirror    MirrorWriter
	Audit     Auditor
	Tokens    *pagetoken.Codec
	Log       zerolog.Logger
	// Changed is called after a change that alters roles (enable, delegated
	// administrator changes): it drops this instance's cached roles and
	// bumps the directory generation, so every instance drops theirs.
	// Required, like every field: tests pass a counter.
	Changed func(ctx context.Context) error
}

func (s *Service) changed(ctx context.Context) error {
	if err := s.Changed(ctx); err != nil {
		return fmt.Errorf("publish role change: %w", err)
	}
	return nil
}

// ResourceDirectory is a directory as the API shows it.
type ResourceDirectory struct {
	DirectoryID           string `json:"DirectoryId"`
	ManagementAccountID   string `json:"ManagementAccountId"`
	ManagementAccountName string
	CreateTime            string
}

func viewDirectory(d *directory.Directory) *ResourceDirectory {
	if d == nil {
		return nil
	}
	return &ResourceDirectory{DirectoryID: d.ID, ManagementAccountID: d.ManagementAccountID,
		ManagementAccountName: d.ManagementAccountName, CreateTime: audit.FormatTime(d.CreateTime)}
}

// DelegatedAdministrator is the delegated administrator as the API shows it.
type DelegatedAdministrator struct {
	AccountID             string `json:"AccountId"`
	DisplayName           string
	DelegationEnabledTime string
}

func viewDelegated(da directory.DelegatedAdmin) *DelegatedAdministrator {
	return &DelegatedAdministrator{AccountID: da.AccountID, DisplayName: da.DisplayName, DelegationEnabledTime: audit.FormatTime(da.EnabledTime)}
}
