package app

import (
	"context"
	"net/http"

	"github.com/sase-multiaccount/backend/shared/audit"
	"github.com/sase-multiaccount/backend/shared/httpapi"
	"github.com/sase-multiaccount/backend/shared/member"
	"github.com/sase-multiaccount/backend/shared/rolecheck"
	"github.com/sase-multiaccount/backend/shared/setup"
)

// Endpoints lists every HTTP function: name, method, policy action, and the
// few lines that decode the input and call the use case.
func (a *App) Endpoints() []httpapi.Endpoint {
	return []httpapi.Endpoint{
		{Name: "describe-setup", Method: http.MethodGet, Action: rolecheck.DescribeSetup,
			Handle: func(ctx context.Context, r *httpapi.Request) (any, error) {
				if err := r.AllowQuery(); err != nil {
					return nil, err
				}
				return a.Setup.Describe(ctx, r.Subject)
			}},
		{Name: "enable-directory", Method: http.MethodPost, Action: rolecheck.EnableDirectory,
			Handle: func(ctx context.Context, r *httpapi.Request) (any, error) {
				var in struct{}
				if err := r.Decode(&in); err != nil {
					return nil, err
				}
				return a.Setup.Enable(ctx, r.Subject, actor(r))
			}},
		{Name: "invite-accounts", Method: http.MethodPost, Action: rolecheck.InviteAccounts,
			Handle: func(ctx context.Context, r *httpapi.Request) (any, error) {
				var in setup.InviteInput
				if err := r.Decode(&in); err != nil {
					return nil, err
				}
				return a.Setup.Invite(ctx, *r.Subject.Directory, actor(r), in)
			}},
		{Name: "list-invitations", Method: http.MethodGet, Action: rolecheck.ListInvitations,
			Handle: func(ctx context.Context, r *httpapi.Request) (any, error) {
				if err := r.AllowQuery("Status", "MaxResults", "NextToken"); err != nil {
					return nil, err
				}
				return a.Setup.ListInvitations(ctx, *r.Subject.Directory, setup.ListInvitationsInput{
					Status: r.Query["Status"], MaxResults: r.Query["MaxResults"], NextToken: r.Query["NextToken"]})
			}},
		{Name: "cancel-invitation", Method: http.MethodPost, Action: rolecheck.CancelInvitation,
			Handle: func(ctx context.Context, r *httpapi.Request) (any, error) {
				var in setup.CancelInput
				if err := r.Decode(&in); err != nil {
					return nil, err
				}
				return a.Setup.Cancel(ctx, *r.Subject.Directory, actor(r), in)
			}},
		{Name: "register-delegated-admin", Method: http.MethodPost, Action: rolecheck.RegisterDelegatedAdmin,
			Handle: func(ctx context.Context, r *httpapi.Request) (any, error) {
				var in setup.DelegatedInput
				if err := r.Decode(&in); err != nil {
					return nil, err
				}
				return a.Setup.Register(ctx, *r.Subject.Directory, actor(r), in)
			}},
		{Name: "deregister-delegated-admin", Method: http.MethodPost, Action: rolecheck.DeregisterDelegatedAdmin,
			Handle: func(ctx context.Context, r *httpapi.Request) (any, error) {
				var in setup.DelegatedInput
				if err := r.Decode(&in); err != nil {
					return nil, err
				}
				return a.Setup.Deregister(ctx, *r.Subject.Directory, actor(r), in)
			}},
		{Name: "list-candidates", Method: http.MethodGet, Action: rolecheck.ListCandidates,
			Handle: func(ctx context.Context, r *httpapi.Request) (any, error) {
				if err := r.AllowQuery("Keyword", "MaxResults", "NextToken"); err != nil {
					return nil, err
				}
				return a.Members.Candidates(ctx, scope(r), member.CandidatesInput{
					Keyword: r.Query["Keyword"], MaxResults: r.Query["MaxResults"], NextToken: r.Query["NextToken"]})
			}},
		{Name: "add-members", Method: http.MethodPost, Action: rolecheck.AddMembers,
			Handle: func(ctx context.Context, r *httpapi.Request) (any, error) {
				var in member.AddInput
				if err := r.Decode(&in); err != nil {
					return nil, err
				}
				return a.Members.Add(ctx, scope(r), in)
			}},
		{Name: "list-members", Method: http.MethodGet, Action: rolecheck.ListMembers,
			Handle: func(ctx context.Context, r *httpapi.Request) (any, error) {
				if err := r.AllowQuery("Keyword", "SortBy", "SortOrder", "MaxResults", "NextToken"); err != nil {
					return nil, err
				}
				return a.Members.List(ctx, scope(r), member.ListInput{
					Keyword: r.Query["Keyword"], SortBy: r.Query["SortBy"], SortOrder: r.Query["SortOrder"],
					MaxResults: r.Query["MaxResults"], NextToken: r.Query["NextToken"]})
			}},
		{Name: "update-member-remark", Method: http.MethodPost, Action: rolecheck.UpdateMemberRemark,
			Handle: func(ctx context.Context, r *httpapi.Request) (any, error) {
				var in member.RemarkInput
				if err := r.Decode(&in); err != nil {
					return nil, err
				}
				return a.Members.UpdateRemark(ctx, scope(r), in)
			}},
		{Name: "delete-members", Method: http.MethodPost, Action: rolecheck.DeleteMembers,
			Handle: func(ctx context.Context, r *httpapi.Request) (any, error) {
				var in member.DeleteInput
				if err := r.Decode(&in); err != nil {
					return nil, err
				}
				return a.Members.Delete(ctx, scope(r), in)
			}},
		{Name: "list-audit-events", Method: http.MethodGet, Action: rolecheck.ListAuditEvents,
			Handle: func(ctx context.Context, r *httpapi.Request) (any, error) {
				if err := r.AllowQuery("MaxResults", "NextToken"); err != nil {
					return nil, err
				}
				return a.AuditLog.List(ctx, r.Subject.Directory.ID, audit.ListInput{
					MaxResults: r.Query["MaxResults"], NextToken: r.Query["NextToken"]})
			}},
	}
}

func actor(r *httpapi.Request) audit.Actor {
	return audit.Actor{AccountID: r.Caller.AccountID, Principal: r.Caller.Principal, Role: string(r.Subject.Role), RequestID: r.ID}
}

// scope is only called for actions the policy allows with a directory.
func scope(r *httpapi.Request) member.Scope {
	return member.Scope{Directory: *r.Subject.Directory, Actor: actor(r)}
}
