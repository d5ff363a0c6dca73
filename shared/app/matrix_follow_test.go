package app_test

import (
	"testing"

	"github.com/sase-multiaccount/backend/shared/action"
	"github.com/sase-multiaccount/backend/shared/port/store"
	"github.com/sase-multiaccount/backend/shared/rolecheck"
)

// The matrix cases of following membership (docs/API.md).
func init() {
	for a, c := range followCases {
		matrixCases[a] = c
	}
}

const matrixHook = "wh-matrix"

// seedWebhook gives the directory a webhook of the DA (so both the MA and
// the DA manage it) whose URL the dialer refuses at once.
func seedWebhook(k *kit, fx fixture) {
	k.tb.Helper()
	sealed, err := k.app.Follow.Seal.Seal(fx.dir.ID, matrixHook, "whsec_bWF0cml4LXNlY3JldA==")
	if err != nil {
		k.tb.Fatal(err)
	}
	rec := store.AuditEvent{DirectoryID: fx.dir.ID, ID: "0000000000000-seed", Time: k.clock.Now(), Action: "put-webhook", Target: matrixHook}
	_, err = k.raw.PutWebhook(k.ctx, store.WebhookWrite{Record: rec, Webhook: store.Webhook{DirectoryID: fx.dir.ID, ID: matrixHook,
		Owner: daID, URL: "https://127.0.0.1:1/", Types: store.ChangeTypes, Enabled: true, Secret: sealed}})
	if err != nil {
		k.tb.Fatal(err)
	}
}

var followCases = map[action.Action]matrixCase{
	action.GetMember: {
		request: func(fixture) request { return request{Fn: "get-member", Query: map[string]string{"AccountId": saseID}} },
		writes:  never,
		verify: func(t *testing.T, k *kit, role rolecheck.Role, r response) {
			var out struct {
				Member struct{ AccountId, Remark string }
			}
			r.decode(t, &out)
			if out.Member.AccountId != saseID || out.Member.Remark != "seeded" {
				t.Errorf("get-member = %s", r.Body)
			}
		},
	},
	action.ListMemberChanges: {
		request: func(fixture) request { return request{Fn: "list-member-changes"} },
		writes:  never,
		verify: func(t *testing.T, k *kit, role rolecheck.Role, r response) {
			var out struct {
				Changes    []any
				NextCursor string
			}
			r.decode(t, &out)
			if out.Changes == nil || out.NextCursor == "" {
				t.Errorf("list-member-changes = %s", r.Body)
			}
		},
	},
	action.ListWebhooks: {
		request: func(fixture) request { return request{Fn: "list-webhooks"} },
		setup:   seedWebhook,
		writes:  never,
		verify: func(t *testing.T, k *kit, role rolecheck.Role, r response) {
			var out struct{ Webhooks []struct{ WebhookId string } }
			r.decode(t, &out)
			if len(out.Webhooks) != 1 || out.Webhooks[0].WebhookId != matrixHook {
				t.Errorf("list-webhooks = %s", r.Body)
			}
		},
	},
	action.PutWebhook: {
		request: func(fixture) request {
			return request{Fn: "put-webhook", Body: map[string]any{"Url": "https://93.184.216.34/hook", "Types": []string{"MemberAdded"}}}
		},
		writes: always,
		verify: func(t *testing.T, k *kit, role rolecheck.Role, r response) {
			var out struct {
				Webhook struct{ WebhookId string }
				Secret  string
			}
			r.decode(t, &out)
			if out.Webhook.WebhookId == "" || len(out.Secret) < 20 {
				t.Errorf("put-webhook = %s", r.Body)
			}
		},
	},
	action.DeleteWebhook: {
		request: func(fixture) request {
			return request{Fn: "delete-webhook", Body: map[string]any{"WebhookId": matrixHook}}
		},
		setup:  seedWebhook,
		writes: always,
		verify: func(t *testing.T, k *kit, role rolecheck.Role, r response) {},
	},
	action.TestWebhook: {
		request: func(fixture) request {
			return request{Fn: "test-webhook", Body: map[string]any{"WebhookId": matrixHook}}
		},
		setup:  seedWebhook,
		writes: always,
		verify: func(t *testing.T, k *kit, role rolecheck.Role, r response) {
			var out struct {
				StatusCode int
				Success    bool
				Error      string
			}
			r.decode(t, &out)
			if out.Success || out.StatusCode != 0 || out.Error == "" {
				t.Errorf("test-webhook to a refused address = %s", r.Body)
			}
		},
	},
}
