package setup

import (
	"context"
	"fmt"

	"github.com/sase-multiaccount/backend/shared/action"
	"github.com/sase-multiaccount/backend/shared/port/directory"
	"github.com/sase-multiaccount/backend/shared/role"
)

// Caller is the caller: the account and its role, and the person with
// their access role and the functions they may call now (the console
// shows what AllowedActions lists, and nothing else).
type Caller struct {
	AccountID      string `json:"AccountId"`
	Role           role.Account
	UserID         string `json:"UserId"`
	UserName       string
	AccessRole     role.Access
	AllowedActions []action.Action
}

// Subject is an authorized caller: its account, the role the directory
// gives it, its directory (nil before step 1), and the person.
type Subject struct {
	AccountID string
	Role      role.Account
	Directory *directory.Directory

	UserID, UserName string
	Access           role.Access
	Allowed          []action.Action // what the policy table lets this person call now
}

// Steps says which setup steps are done.
type Steps struct {
	DirectoryEnabled            bool
	MembersInvited              bool
	DelegatedAdministratorAdded bool
	MembersAdded                bool
}

// DescribeOutput is the answer of describe-setup. A member, and a person
// with access role None, sees only the caller and the directory (who can
// grant access): Status is nil for them, and its fields are left out of the
// JSON. The other people of the owner, the management account and the
// delegated administrator get Status.
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
	caller := Caller{AccountID: sub.AccountID, Role: sub.Role, UserID: sub.UserID, UserName: sub.UserName,
		AccessRole: sub.Access, AllowedActions: append([]action.Action{}, sub.Allowed...)}
	out := DescribeOutput{Caller: caller, ResourceDirectory: viewDirectory(sub.Directory)}
	if sub.Role == role.Member || !sub.Access.AtLeast(role.Viewer) {
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
