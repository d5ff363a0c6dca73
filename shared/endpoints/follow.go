package endpoints

import (
	"context"
	"net/http"

	"github.com/sase-multiaccount/backend/shared/action"
	"github.com/sase-multiaccount/backend/shared/httpapi"
	"github.com/sase-multiaccount/backend/shared/port/directory"
	"github.com/sase-multiaccount/backend/shared/usecase/follow"
)

// Following membership (docs/API.md "Following membership: lookup, change
// feed, webhooks").

// GetMember declares get-member.
var GetMember = HTTP{Action: action.GetMember, Method: http.MethodGet,
	Handle: inDirectory(func(ctx context.Context, uc UseCases, r *httpapi.Request, d directory.Directory) (any, error) {
		if err := r.AllowQuery("AccountId"); err != nil {
			return nil, err
		}
		return uc.Follow.Get(ctx, followScope(r, d), r.Query["AccountId"])
	}),
}

// ListMemberChanges declares list-member-changes.
var ListMemberChanges = HTTP{Action: action.ListMemberChanges, Method: http.MethodGet,
	Handle: inDirectory(func(ctx context.Context, uc UseCases, r *httpapi.Request, d directory.Directory) (any, error) {
		if err := r.AllowQuery("Cursor", "MaxResults"); err != nil {
			return nil, err
		}
		return uc.Follow.ListChanges(ctx, followScope(r, d), follow.ChangesInput{Cursor: r.Query["Cursor"], MaxResults: r.Query["MaxResults"]})
	}),
}

// ListWebhooks declares list-webhooks.
var ListWebhooks = HTTP{Action: action.ListWebhooks, Method: http.MethodGet,
	Handle: inDirectory(func(ctx context.Context, uc UseCases, r *httpapi.Request, d directory.Directory) (any, error) {
		if err := r.AllowQuery(); err != nil {
			return nil, err
		}
		return uc.Follow.ListWebhooks(ctx, followScope(r, d))
	}),
}

// PutWebhook declares put-webhook.
var PutWebhook = HTTP{Action: action.PutWebhook, Method: http.MethodPost,
	Handle: inDirectory(func(ctx context.Context, uc UseCases, r *httpapi.Request, d directory.Directory) (any, error) {
		var in follow.PutInput
		if err := r.Decode(&in); err != nil {
			return nil, err
		}
		return uc.Follow.PutWebhook(ctx, followScope(r, d), in)
	}),
}

// DeleteWebhook declares delete-webhook.
var DeleteWebhook = HTTP{Action: action.DeleteWebhook, Method: http.MethodPost,
	Handle: inDirectory(func(ctx context.Context, uc UseCases, r *httpapi.Request, d directory.Directory) (any, error) {
		var in follow.IDInput
		if err := r.Decode(&in); err != nil {
			return nil, err
		}
		return uc.Follow.DeleteWebhook(ctx, followScope(r, d), in)
	}),
}

// TestWebhook declares test-webhook.
var TestWebhook = HTTP{Action: action.TestWebhook, Method: http.MethodPost,
	Handle: inDirectory(func(ctx context.Context, uc UseCases, r *httpapi.Request, d directory.Directory) (any, error) {
		var in follow.IDInput
		if err := r.Decode(&in); err != nil {
			return nil, err
		}
		return uc.Follow.TestWebhook(ctx, followScope(r, d), in)
	}),
}

// DeliverWebhooks declares the timer function that delivers the change
// feed to the webhooks.
var DeliverWebhooks = Scheduled{Action: action.DeliverWebhooks,
	Cron: "30 * * * * *"} // every minute, each run a session of WEBHOOK_SESSION

func followScope(r *httpapi.Request, d directory.Directory) follow.Scope {
	return follow.Scope{Directory: d, Actor: actor(r)}
}
