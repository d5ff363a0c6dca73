package endpoints

import (
	"context"
	"fmt"
	"net/http"

	"github.com/sase-multiaccount/backend/shared/action"
	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/httpapi"
	"github.com/sase-multiaccount/backend/shared/port/directory"
	"github.com/sase-multiaccount/backend/shared/rolecheck"
	"github.com/sase-multiaccount/backend/shared/usecase/access"
	"github.com/sase-multiaccount/backend/shared/usecase/audit"
	"github.com/sase-multiaccount/backend/shared/usecase/enroll"
	"github.com/sase-multiaccount/backend/shared/usecase/member"
	"github.com/sase-multiaccount/backend/shared/usecase/setup"
)

// DescribeSetup declares describe-setup (docs/API.md).
var DescribeSetup = HTTP{Action: action.DescribeSetup, Method: http.MethodGet,
	Handle: func(ctx context.Context, uc UseCases, r *httpapi.Request) (any, error) {
		if err := r.AllowQuery(); err != nil {
			return nil, err
		}
		return uc.Setup.Describe(ctx, setupSubject(r))
	},
}

// EnableDirectory declares enable-directory (docs/API.md).
var EnableDirectory = HTTP{Action: action.EnableDirectory, Method: http.MethodPost,
	Handle: func(ctx context.Context, uc UseCases, r *httpapi.Request) (any, error) {
		var in struct{}
		if err := r.Decode(&in); err != nil {
			return nil, err
		}
		return uc.Setup.Enable(ctx, setupSubject(r), actor(r))
	},
}

// InviteAccounts declares invite-accounts (docs/API.md).
var InviteAccounts = HTTP{Action: action.InviteAccounts, Method: http.MethodPost,
	Handle: inDirectory(func(ctx context.Context, uc UseCases, r *httpapi.Request, d directory.Directory) (any, error) {
		var in setup.InviteInput
		if err := r.Decode(&in); err != nil {
			return nil, err
		}
		return uc.Setup.Invite(ctx, d, actor(r), in)
	}),
}

// ListInvitations declares list-invitations (docs/API.md).
var ListInvitations = HTTP{Action: action.ListInvitations, Method: http.MethodGet,
	Handle: inDirectory(func(ctx context.Context, uc UseCases, r *httpapi.Request, d directory.Directory) (any, error) {
		if err := r.AllowQuery("Status", "MaxResults", "NextToken"); err != nil {
			return nil, err
		}
		return uc.Setup.ListInvitations(ctx, d, setup.ListInvitationsInput{
			Status: r.Query["Status"], MaxResults: r.Query["MaxResults"], NextToken: r.Query["NextToken"]})
	}),
}

// CancelInvitation declares cancel-invitation (docs/API.md).
var CancelInvitation = HTTP{Action: action.CancelInvitation, Method: http.MethodPost,
	Handle: inDirectory(func(ctx context.Context, uc UseCases, r *httpapi.Request, d directory.Directory) (any, error) {
		var in setup.CancelInput
		if err := r.Decode(&in); err != nil {
			return nil, err
		}
		return uc.Setup.Cancel(ctx, d, actor(r), in)
	}),
}

// RegisterDelegatedAdmin declares register-delegated-admin (docs/API.md).
var RegisterDelegatedAdmin = HTTP{Action: action.RegisterDelegatedAdmin, Method: http.MethodPost,
	Handle: inDirectory(func(ctx context.Context, uc UseCases, r *httpapi.Request, d directory.Directory) (any, error) {
		var in setup.DelegatedInput
		if err := r.Decode(&in); err != nil {
			return nil, err
		}
		return uc.Setup.Register(ctx, d, actor(r), in)
	}),
}

// DeregisterDelegatedAdmin declares deregister-delegated-admin (docs/API.md).
var DeregisterDelegatedAdmin = HTTP{Action: action.DeregisterDelegatedAdmin, Method: http.MethodPost,
	Handle: inDirectory(func(ctx context.Context, uc UseCases, r *httpapi.Request, d directory.Directory) (any, error) {
		var in setup.DelegatedInput
		if err := r.Decode(&in); err != nil {
			return nil, err
		}
		return uc.Setup.Deregister(ctx, d, actor(r), in)
	}),
}

// ListCandidates declares list-candidates (docs/API.md).
var ListCandidates = HTTP{Action: action.ListCandidates, Method: http.MethodGet,
	Handle: inDirectory(func(ctx context.Context, uc UseCases, r *httpapi.Request, d directory.Directory) (any, error) {
		if err := r.AllowQuery("Keyword", "FolderId", "MaxResults", "NextToken"); err != nil {
			return nil, err
		}
		return uc.Members.Candidates(ctx, scope(r, d), member.CandidatesInput{
			Keyword: r.Query["Keyword"], FolderID: r.Query["FolderId"], MaxResults: r.Query["MaxResults"], NextToken: r.Query["NextToken"]})
	}),
}

// ListFolders declares list-folders (docs/API.md).
var ListFolders = HTTP{Action: action.ListFolders, Method: http.MethodGet,
	Handle: inDirectory(func(ctx context.Context, uc UseCases, r *httpapi.Request, d directory.Directory) (any, error) {
		if err := r.AllowQuery(); err != nil {
			return nil, err
		}
		return uc.Members.ListFolders(ctx, scope(r, d))
	}),
}

// AddMembers declares add-members (docs/API.md).
var AddMembers = HTTP{Action: action.AddMembers, Method: http.MethodPost,
	Handle: inDirectory(func(ctx context.Context, uc UseCases, r *httpapi.Request, d directory.Directory) (any, error) {
		var in member.AddInput
		if err := r.Decode(&in); err != nil {
			return nil, err
		}
		return uc.Members.Add(ctx, scope(r, d), in)
	}),
}

// ListMembers declares list-members (docs/API.md).
var ListMembers = HTTP{Action: action.ListMembers, Method: http.MethodGet,
	Handle: inDirectory(func(ctx context.Context, uc UseCases, r *httpapi.Request, d directory.Directory) (any, error) {
		if err := r.AllowQuery("Keyword", "SortBy", "SortOrder", "MaxResults", "NextToken"); err != nil {
			return nil, err
		}
		return uc.Members.List(ctx, scope(r, d), member.ListInput{
			Keyword: r.Query["Keyword"], SortBy: r.Query["SortBy"], SortOrder: r.Query["SortOrder"],
			MaxResults: r.Query["MaxResults"], NextToken: r.Query["NextToken"]})
	}),
}

// UpdateMemberRemark declares update-member-remark (docs/API.md).
var UpdateMemberRemark = HTTP{Action: action.UpdateMemberRemark, Method: http.MethodPost,
	Handle: inDirectory(func(ctx context.Context, uc UseCases, r *httpapi.Request, d directory.Directory) (any, error) {
		var in member.RemarkInput
		if err := r.Decode(&in); err != nil {
			return nil, err
		}
		return uc.Members.UpdateRemark(ctx, scope(r, d), in)
	}),
}

// DeleteMembers declares delete-members (docs/API.md).
var DeleteMembers = HTTP{Action: action.DeleteMembers, Method: http.MethodPost,
	Handle: inDirectory(func(ctx context.Context, uc UseCases, r *httpapi.Request, d directory.Directory) (any, error) {
		var in member.DeleteInput
		if err := r.Decode(&in); err != nil {
			return nil, err
		}
		return uc.Members.Delete(ctx, scope(r, d), in)
	}),
}

// ListAuditEvents declares list-audit-events (docs/API.md).
var ListAuditEvents = HTTP{Action: action.ListAuditEvents, Method: http.MethodGet,
	Handle: inDirectory(func(ctx context.Context, uc UseCases, r *httpapi.Request, d directory.Directory) (any, error) {
		if err := r.AllowQuery("Target", "MaxResults", "NextToken"); err != nil {
			return nil, err
		}
		return uc.AuditLog.List(ctx, d.ID, audit.ListInput{Target: r.Query["Target"],
			MaxResults: r.Query["MaxResults"], NextToken: r.Query["NextToken"]})
	}),
}

// GetEnrollmentPolicy declares get-enrollment-policy (docs/API.md).
var GetEnrollmentPolicy = HTTP{Action: action.GetEnrollmentPolicy, Method: http.MethodGet,
	Handle: inDirectory(func(ctx context.Context, uc UseCases, r *httpapi.Request, d directory.Directory) (any, error) {
		if err := r.AllowQuery(); err != nil {
			return nil, err
		}
		return uc.Policy.Get(ctx, d)
	}),
}

// UpdateEnrollmentPolicy declares update-enrollment-policy (docs/API.md).
var UpdateEnrollmentPolicy = HTTP{Action: action.UpdateEnrollmentPolicy, Method: http.MethodPost,
	Handle: inDirectory(func(ctx context.Context, uc UseCases, r *httpapi.Request, d directory.Directory) (any, error) {
		var in enroll.UpdateInput
		if err := r.Decode(&in); err != nil {
			return nil, err
		}
		return uc.Policy.Update(ctx, d, actor(r), in)
	}),
}

// ListAccess declares list-access (docs/API.md).
var ListAccess = HTTP{Action: action.ListAccess, Method: http.MethodGet,
	Handle: inDirectory(func(ctx context.Context, uc UseCases, r *httpapi.Request, d directory.Directory) (any, error) {
		if err := r.AllowQuery("AccountId", "MaxResults", "NextToken"); err != nil {
			return nil, err
		}
		return uc.Access.List(ctx, accessScope(r, d), access.ListInput{
			AccountID: r.Query["AccountId"], MaxResults: r.Query["MaxResults"], NextToken: r.Query["NextToken"]})
	}),
}

// GrantAccess declares grant-access (docs/API.md).
var GrantAccess = HTTP{Action: action.GrantAccess, Method: http.MethodPost,
	Handle: inDirectory(func(ctx context.Context, uc UseCases, r *httpapi.Request, d directory.Directory) (any, error) {
		var in access.GrantInput
		if err := r.Decode(&in); err != nil {
			return nil, err
		}
		return uc.Access.Grant(ctx, accessScope(r, d), in)
	}),
}

// RevokeAccess declares revoke-access (docs/API.md).
var RevokeAccess = HTTP{Action: action.RevokeAccess, Method: http.MethodPost,
	Handle: inDirectory(func(ctx context.Context, uc UseCases, r *httpapi.Request, d directory.Directory) (any, error) {
		var in access.RevokeInput
		if err := r.Decode(&in); err != nil {
			return nil, err
		}
		return uc.Access.Revoke(ctx, accessScope(r, d), in)
	}),
}

// actor is the person who makes a change, for its audit record.
func actor(r *httpapi.Request) audit.Actor {
	return audit.Actor{AccountID: r.Caller.AccountID, Principal: r.Caller.Principal, Role: string(r.Subject.Role), RequestID: r.ID,
		UserID: r.Caller.UserID, UserName: r.Caller.UserName, AccessRole: string(r.Subject.Access)}
}

func setupSubject(r *httpapi.Request) setup.Subject {
	s := r.Subject
	return setup.Subject{AccountID: s.AccountID, Role: s.Role, Directory: s.Directory,
		UserID: s.UserID, UserName: s.UserName, Access: s.Access, Allowed: rolecheck.Allowed(s.Role, s.Access)}
}

func accessScope(r *httpapi.Request, d directory.Directory) access.Scope {
	return access.Scope{Directory: d, Role: r.Subject.Role, Actor: actor(r)}
}

func scope(r *httpapi.Request, d directory.Directory) member.Scope {
	return member.Scope{Directory: d, Actor: actor(r)}
}

// inDirectory adapts the handler of an action that acts in the caller's
// directory: it gets the directory as a value. The policy allows such
// actions only to roles that have a directory, so a subject without one is
// a bug (500), not a nil dereference.
func inDirectory(h func(ctx context.Context, uc UseCases, r *httpapi.Request, d directory.Directory) (any, error)) func(context.Context, UseCases, *httpapi.Request) (any, error) {
	return func(ctx context.Context, uc UseCases, r *httpapi.Request) (any, error) {
		sc, ok := r.Subject.Scoped()
		if !ok {
			return nil, apperr.Internal(fmt.Errorf("endpoints: role %s was allowed an action in a directory without one", r.Subject.Role))
		}
		return h(ctx, uc, r, sc.Directory)
	}
}
