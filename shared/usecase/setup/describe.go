package setup

import (
	"context"
	"fmt"

	"github.com/sase-multiaccount/backend/shared/port/directory"
	"github.com/sase-multiaccount/backend/shared/role"
)

// Caller is the caller's account and role.
type Caller struct {
	AccountID string `json:"AccountId"`
	Role      role.Account
}

// Subject is an authorized caller: its account, the role the directory
// gives it, and its directory (nil before step 1).
type Subject struct {
	AccountID string
	Role      role.Account
	Directory *directory.Directory
}

// Steps says which setup steps are done.
type Steps struct {
	DirectoryEnabled            bool
	MembersInvited              bool
	DelegatedAdministratorAdded bool
	MembersAdded                bool
}

// DescribeOutput is the answer of describe-setup. A member sees only its
// role and the directory: Status is nil for it, and its fields are left out
// of the JSON. The owner, the management account and the delegated
// administrator get Status.
type DescribeOutput struct {
	Caller            Caller
	ResourceDirectory *ResourceDirectory
	*Status
}

// Status is the progress of the setup steps.
type Status struct {
	DelegatedAdministrator *DelegatedAdministrator
	Steps                  Steps
	DirectoryAccountCount  int
	MemberCount            int
}

// Describe reports the setup status to the caller's role.
func (s *Service) Describe(ctx context.Context, sub Subject) (DescribeOutput, error) {
	caller := Caller{AccountID: sub.AccountID, Role: sub.Role}
	out := DescribeOutput{Caller: caller, ResourceDirectory: viewDirectory(sub.Directory)}
	if sub.Role == role.Member {
		return out, nil
	}
	out.Status = &Status{}
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
		return DescribeOutput{}, fmt.Errorf("describe setup: %w", err)
	}
	out.DirectoryAccountCount = n
	steps.MembersInvited = n > 1
	das, err := s.Directory.ListDelegatedAdmins(ctx)
	if err != nil {
		return DescribeOutput{}, fmt.Errorf("describe setup: %w", err)
	}
	if len(das) > 0 {
		steps.DelegatedAdministratorAdded = true
		out.DelegatedAdministrator = viewDelegated(das[0])
	}
	if out.MemberCount, err = s.Members.CountMembers(ctx, d.ID); err != nil {
		return DescribeOutput{}, fmt.Errorf("describe setup: %w", err)
	}
	steps.MembersAdded = out.MemberCount > 0
	return out, nil
}
