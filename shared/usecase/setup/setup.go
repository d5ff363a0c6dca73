// Package setup holds the use cases of setup steps 1-3: describe the setup,
// enable the directory, invite accounts, and designate the delegated
// administrator. It talks to Resource Directory through directory.Service.
package setup

import (
	"context"

	"github.com/sase-multiaccount/backend/shared/pagetoken"
	"github.com/sase-multiaccount/backend/shared/port/directory"
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

// Service runs the setup use cases.
type Service struct {
	Directory directory.Service
	Members   MemberCounter
	Audit     *audit.Recorder
	Tokens    *pagetoken.Codec
	// Changed is called after a change that alters roles (enable, delegated
	// administrator changes) so cached roles are dropped at once.
	Changed func()
}

func (s *Service) changed() {
	if s.Changed != nil {
		s.Changed()
	}
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

func viewDelegated(da directory.DelegatedAdmin) *DelegatedAdministrator {
	return &DelegatedAdministrator{AccountId: da.AccountID, DisplayName: da.DisplayName, DelegationEnabledTime: audit.FormatTime(da.EnabledTime)}
}
