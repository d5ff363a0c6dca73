package follow

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sase-multiaccount/backend/shared/action"
	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/port/store"
	"github.com/sase-multiaccount/backend/shared/usecase/audit"
	"github.com/sase-multiaccount/backend/shared/validate"
	"github.com/sase-multiaccount/backend/shared/webhook"
)

// PutInput is the body of put-webhook.
type PutInput struct {
	WebhookID    string `json:"WebhookId"` // empty: create
	URL          string `json:"Url"`
	Description  string
	Types        []string // empty: every change type
	Enabled      *bool    // absent: true on create, unchanged on replace
	RotateSecret bool
}

// PutOutput is the answer of put-webhook; Secret only when one was issued
// (create, RotateSecret): it is never shown again.
type PutOutput struct {
	Webhook Webhook
	Secret  string `json:",omitempty"`
}

// PutWebhook is put-webhook: create or replace one webhook, audited.
func (s *Service) PutWebhook(ctx context.Context, sc Scope, in PutInput) (PutOutput, error) {
	if in.URL == "" {
		return PutOutput{}, apperr.Missing("Url")
	}
	if err := validate.Text("Description", in.Description, maxDescription); err != nil {
		return PutOutput{}, err
	}
	types, err := checkTypes(in.Types)
	if err != nil {
		return PutOutput{}, err
	}
	if err := s.Sender.CheckURL(ctx, in.URL); err != nil {
		return PutOutput{}, err
	}
	hooks, err := s.Store.ListWebhooks(ctx, sc.Directory.ID)
	if err != nil {
		return PutOutput{}, fmt.Errorf("put webhook: %w", err)
	}
	now := s.Now().UTC()
	if in.WebhookID == "" {
		return s.create(ctx, sc, in, types, len(hooks), now)
	}
	cur, err := find(hooks, sc, in.WebhookID)
	if err != nil {
		return PutOutput{}, err
	}
	return s.replace(ctx, sc, cur, in, types, now)
}

func (s *Service) create(ctx context.Context, sc Scope, in PutInput, types []store.ChangeType, count int, now time.Time) (PutOutput, error) {
	if count >= store.MaxWebhooks {
		return PutOutput{}, apperr.Conflict(apperr.CodeWebhookLimit,
			"Directory %s has %d webhooks, the most it may have: delete one first.", sc.Directory.ID, count)
	}
	head, err := s.Store.FeedHead(ctx, sc.Directory.ID)
	if err != nil {
		return PutOutput{}, fmt.Errorf("put webhook: %w", err)
	}
	w := store.Webhook{DirectoryID: sc.Directory.ID, ID: newWebhookID(), Owner: sc.Actor.AccountID, URL: in.URL,
		Description: in.Description, Types: types, Enabled: in.Enabled == nil || *in.Enabled, CreateTime: now, UpdateTime: now,
		Delivery: store.Delivery{Cursor: head}} // changes from now on
	secret, err := s.issue(&w)
	if err != nil {
		return PutOutput{}, err
	}
	stored, err := s.write(ctx, sc, w, 0, false, "Created", false)
	if err != nil {
		return PutOutput{}, err
	}
	return PutOutput{Webhook: webhookView(stored, head), Secret: secret}, nil
}

func (s *Service) replace(ctx context.Context, sc Scope, cur store.Webhook, in PutInput, types []store.ChangeType, now time.Time) (PutOutput, error) {
	w := cur
	w.URL, w.Description, w.Types, w.UpdateTime = in.URL, in.Description, types, now
	if in.Enabled != nil {
		w.Enabled = *in.Enabled
	}
	var secret string
	if in.RotateSecret {
		old, expires := w.Secret, now.Add(RotationOverlap)
		var err error
		if secret, err = s.issue(&w); err != nil {
			return PutOutput{}, err
		}
		w.OldSecret, w.OldSecretExpires = old, expires
	}
	resumed := w.Enabled && !cur.Enabled
	stored, err := s.write(ctx, sc, w, cur.Version, resumed, "Updated", in.RotateSecret)
	if err != nil {
		return PutOutput{}, err
	}
	head, err := s.Store.FeedHead(ctx, sc.Directory.ID)
	if err != nil {
		return PutOutput{}, fmt.Errorf("put webhook: %w", err)
	}
	return PutOutput{Webhook: webhookView(stored, head), Secret: secret}, nil
}

// issue gives w a new secret (sealed in w) and returns it in the clear.
func (s *Service) issue(w *store.Webhook) (string, error) {
	secret, err := webhook.NewSecret()
	if err != nil {
		return "", apperr.Internal(err)
	}
	if w.Secret, err = s.Seal.Seal(w.DirectoryID, w.ID, secret); err != nil {
		return "", apperr.Internal(err)
	}
	return secret, nil
}

// write stores w's settings with their audit record (never the secret).
func (s *Service) write(ctx context.Context, sc Scope, w store.Webhook, expect int64, resumed bool, result string, rotated bool) (store.Webhook, error) {
	types := make([]string, len(w.Types))
	for i, t := range w.Types {
		types[i] = string(t)
	}
	detail := map[string]string{"Url": validate.Clip(w.URL), "Types": strings.Join(types, ","), "Enabled": strconv.FormatBool(w.Enabled)}
	if rotated {
		detail["SecretRotated"] = "true"
	}
	if resumed {
		detail["Resumed"] = "true"
	}
	rec := s.record(sc, audit.Entry{Action: action.PutWebhook, Target: w.ID, Result: result, Detail: detail})
	stored, err := s.Store.PutWebhook(ctx, store.WebhookWrite{Webhook: w, ExpectVersion: expect, ClearFailure: resumed, Record: rec})
	if err != nil {
		return store.Webhook{}, fmt.Errorf("put webhook: %w", err)
	}
	return stored, nil
}

// sendResult is what a receiver did with one request.
type sendResult struct {
	status  int    // its HTTP status; 0 when none came
	kind    string // when none came: Timeout, AddressRefused, Failed
	errText string
}

func (r sendResult) ok() bool { return r.status >= 200 && r.status < 300 }

// maxErrorText is the longest error text kept (LastError, and with each
// of the 25 requests a webhook row keeps), in bytes.
const maxErrorText = 160

// attempt is r as the webhook's recent requests keep it.
func (r sendResult) attempt(at time.Time, changeID string, took time.Duration) store.Attempt {
	a := store.Attempt{Time: at.UTC(), ChangeID: changeID, StatusCode: r.status, Duration: took}
	if !r.ok() {
		a.Error = validate.ClipTo(cmp.Or(r.errText, r.outcome()), maxErrorText)
	}
	return a
}

// outcome is the LastStatus of a webhook and the Result of its records.
func (r sendResult) outcome() string {
	if r.status != 0 {
		return strconv.Itoa(r.status)
	}
	return r.kind
}

// send signs and posts ev to w as message id.
func (s *Service) send(ctx context.Context, w store.Webhook, id string, ev webhook.Event, now time.Time) sendResult {
	secrets, err := s.secrets(w, now)
	if err != nil {
		return sendResult{kind: "Failed", errText: err.Error()}
	}
	body, err := ev.Body()
	if err != nil {
		return sendResult{kind: "Failed", errText: err.Error()}
	}
	h, err := webhook.Headers(id, now, body, secrets)
	if err != nil {
		return sendResult{kind: "Failed", errText: err.Error()}
	}
	status, err := s.Sender.Post(ctx, w.URL, h, body)
	if err != nil {
		kind := "Failed"
		var o interface{ Outcome() string }
		if errors.As(err, &o) {
			kind = o.Outcome()
		}
		return sendResult{kind: kind, errText: validate.ClipTo(err.Error(), maxErrorText)}
	}
	if status < 200 || status > 299 {
		return sendResult{status: status, errText: fmt.Sprintf("the receiver answered %d", status)}
	}
	return sendResult{status: status}
}
