package follow

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sase-multiaccount/backend/shared/action"
	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/port/store"
	"github.com/sase-multiaccount/backend/shared/usecase/audit"
	"github.com/sase-multiaccount/backend/shared/validate"
	"github.com/sase-multiaccount/backend/shared/webhook"
)

// RotationOverlap is how long a replaced secret keeps signing.
const RotationOverlap = 24 * time.Hour

// maxDescription is the longest Description, in code points.
const maxDescription = 256

// Webhook is a webhook as list-webhooks shows it (never its secret).
type Webhook struct {
	WebhookID        string `json:"WebhookId"`
	OwnerAccountID   string `json:"OwnerAccountId"`
	URL              string `json:"Url"`
	Description      string
	Types            []store.ChangeType
	Enabled          bool
	CreateTime       string
	LastDeliveryTime string
	LastStatus       string
	LastError        string
	PendingCount     int64 // feed positions after the webhook's cursor
	FailingSince     string
	RecentAttempts   []Attempt // newest first: deliveries and tests
}

// Attempt is one request to a webhook's URL as list-webhooks shows it.
type Attempt struct {
	Time       string
	ChangeID   string `json:"ChangeId"` // "test" for test-webhook
	StatusCode int    // 0 when no answer came
	Error      string `json:",omitempty"`
	DurationMs int64
}

// testChangeID is the ChangeId of a test-webhook request.
const testChangeID = "test"

func webhookView(w store.Webhook, head int64) Webhook {
	d := w.Delivery
	return Webhook{WebhookID: w.ID, OwnerAccountID: w.Owner, URL: w.URL, Description: w.Description, Types: w.Types,
		Enabled: w.Enabled, CreateTime: audit.FormatTime(w.CreateTime), LastDeliveryTime: audit.FormatTime(d.LastDeliveryTime),
		LastStatus: d.LastStatus, LastError: d.LastError, PendingCount: max(head-d.Cursor, 0),
		FailingSince: audit.FormatTime(d.FailingSince), RecentAttempts: recentView(w)}
}

// recentView merges the webhook's recent deliveries and tests, newest
// first, the last store.RecentAttempts of them.
func recentView(w store.Webhook) []Attempt {
	all := append(slices.Clone(w.Recent), w.Tests...)
	slices.SortStableFunc(all, func(a, b store.Attempt) int { return b.Time.Compare(a.Time) })
	out := make([]Attempt, 0, min(len(all), store.RecentAttempts))
	for _, a := range all[:min(len(all), store.RecentAttempts)] {
		out = append(out, Attempt{Time: audit.FormatTime(a.Time), ChangeID: a.ChangeID, StatusCode: a.StatusCode,
			Error: a.Error, DurationMs: a.Duration.Milliseconds()})
	}
	return out
}

// WebhooksOutput is the answer of list-webhooks.
type WebhooksOutput struct{ Webhooks []Webhook }

// ListWebhooks is list-webhooks: the directory's webhooks (the delegated
// administrator's own only, for it). Two store reads.
func (s *Service) ListWebhooks(ctx context.Context, sc Scope) (WebhooksOutput, error) {
	hooks, err := s.Store.ListWebhooks(ctx, sc.Directory.ID)
	if err != nil {
		return WebhooksOutput{}, fmt.Errorf("list webhooks: %w", err)
	}
	head, err := s.Store.FeedHead(ctx, sc.Directory.ID)
	if err != nil {
		return WebhooksOutput{}, fmt.Errorf("list webhooks: %w", err)
	}
	out := WebhooksOutput{Webhooks: []Webhook{}}
	for _, w := range hooks {
		if sc.managesAll() || w.Owner == sc.Actor.AccountID {
			out.Webhooks = append(out.Webhooks, webhookView(w, head))
		}
	}
	return out, nil
}

// find returns the webhook id of the directory that the actor manages;
// one the actor may not manage does not exist for it.
func find(hooks []store.Webhook, sc Scope, id string) (store.Webhook, error) {
	for _, w := range hooks {
		if w.ID == id && (sc.managesAll() || w.Owner == sc.Actor.AccountID) {
			return w, nil
		}
	}
	return store.Webhook{}, store.WebhookNotFound(sc.Directory.ID, id)
}

func (s *Service) lookup(ctx context.Context, sc Scope, id string) (store.Webhook, error) {
	if id == "" {
		return store.Webhook{}, apperr.Missing("WebhookId")
	}
	if err := validate.Text("WebhookId", id, 64); err != nil {
		return store.Webhook{}, err
	}
	hooks, err := s.Store.ListWebhooks(ctx, sc.Directory.ID)
	if err != nil {
		return store.Webhook{}, err
	}
	return find(hooks, sc, id)
}

// IDInput is the body of delete-webhook and test-webhook.
type IDInput struct {
	WebhookID string `json:"WebhookId"`
}

// DeleteWebhook is delete-webhook, audited.
func (s *Service) DeleteWebhook(ctx context.Context, sc Scope, in IDInput) (struct{}, error) {
	w, err := s.lookup(ctx, sc, in.WebhookID)
	if err != nil {
		return struct{}{}, err
	}
	rec := s.record(sc, audit.Entry{Action: action.DeleteWebhook, Target: w.ID, Result: "Deleted",
		Detail: map[string]string{"Url": w.URL}})
	if err := s.Store.DeleteWebhook(ctx, sc.Directory.ID, w.ID, rec); err != nil {
		return struct{}{}, fmt.Errorf("delete webhook: %w", err)
	}
	return struct{}{}, nil
}

// secrets are the secrets that sign for w now: its own, and the one it
// replaced while that one is still valid.
func (s *Service) secrets(w store.Webhook, now time.Time) ([]string, error) {
	cur, err := s.Seal.Open(w.DirectoryID, w.ID, w.Secret)
	if err != nil {
		return nil, err
	}
	out := []string{cur}
	if w.OldSecret != "" && now.Before(w.OldSecretExpires) {
		old, err := s.Seal.Open(w.DirectoryID, w.ID, w.OldSecret)
		if err != nil {
			return nil, err
		}
		out = append(out, old)
	}
	return out, nil
}

// checkTypes validates Types: the known change types, each once; none
// means all.
func checkTypes(in []string) ([]store.ChangeType, error) {
	if len(in) == 0 {
		return slices.Clone(store.ChangeTypes), nil
	}
	var out []store.ChangeType
	for _, t := range in {
		ct := store.ChangeType(t)
		if !slices.Contains(store.ChangeTypes, ct) {
			return nil, apperr.Invalid("Types", "Types holds %q; allowed: %s.", validate.Clip(t), typeNames())
		}
		if !slices.Contains(out, ct) {
			out = append(out, ct)
		}
	}
	return out, nil
}

func typeNames() string {
	names := make([]string, len(store.ChangeTypes))
	for i, t := range store.ChangeTypes {
		names[i] = string(t)
	}
	return strings.Join(names, ", ")
}

func newWebhookID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "wh-" + hex.EncodeToString(b[:])
}

// TestOutput is the answer of test-webhook: what the receiver said.
type TestOutput struct {
	StatusCode int    // the receiver's HTTP status; 0 when none came
	Success    bool   // a 2xx within the time limit
	Error      string `json:",omitempty"` // why not, when there was no answer
}

// TestWebhook is test-webhook: one WebhookTest event now, signed like a
// delivery, outside the feed (the webhook's progress does not move);
// audited with the outcome, which joins the webhook's recent tests in the
// same write.
func (s *Service) TestWebhook(ctx context.Context, sc Scope, in IDInput) (TestOutput, error) {
	w, err := s.lookup(ctx, sc, in.WebhookID)
	if err != nil {
		return TestOutput{}, err
	}
	now, start := s.Now().UTC(), time.Now()
	id := "test-" + strings.TrimPrefix(newWebhookID(), "wh-")
	ev := webhook.NewEvent(sc.Directory.ID, id, "WebhookTest", "", now,
		map[string]string{"WebhookId": w.ID, "Message": "A test event from SASE multi-account management."})
	res := s.send(ctx, w, id, ev, now)
	out := TestOutput{StatusCode: res.status, Success: res.ok(), Error: res.errText}
	rec := s.record(sc, audit.Entry{Action: action.TestWebhook, Target: w.ID, Result: res.outcome(),
		Detail: map[string]string{"Url": w.URL}})
	tests := append([]store.Attempt{res.attempt(s.Now(), testChangeID, time.Since(start))}, w.Tests...)
	err = s.Store.RecordWebhookTest(ctx, sc.Directory.ID, w.ID, tests[:min(len(tests), store.RecentTests)], rec)
	if apperr.IsCode(err, apperr.CodeWebhookNotFound) {
		err = s.Store.AppendAudit(ctx, []store.AuditEvent{rec}) // deleted meanwhile: the test is audited all the same
	}
	if err != nil {
		return out, fmt.Errorf("test webhook: %w", err)
	}
	return out, nil
}
