package store

import (
	"context"
	"time"

	"github.com/sase-multiaccount/backend/shared/apperr"
)

// MaxWebhooks is the most webhooks a directory may have.
const MaxWebhooks = 10

// How many requests to its URL a webhook keeps for the console: the last
// deliveries, and the last test-webhook requests.
const (
	RecentAttempts = 20
	RecentTests    = 5
)

// Attempt is one request to a webhook's URL: a delivery of a change, or a
// test.
type Attempt struct {
	Time       time.Time
	ChangeID   string // the change delivered; "test" for test-webhook
	StatusCode int    // the receiver's HTTP status; 0 when none came
	Error      string // why it failed, shortened; "" on success
	Duration   time.Duration
}

// Webhook is one receiver of a directory's membership changes, with its
// delivery progress: a webhook is an outbox reader whose position in the
// feed is one small row (docs/DESIGN.md §13).
type Webhook struct {
	DirectoryID string
	ID          string
	Owner       string // the account that manages it: the MA's, or the DA's own
	URL         string
	Description string
	Types       []ChangeType // the changes it receives; never empty
	Enabled     bool
	CreateTime  time.Time
	UpdateTime  time.Time
	// Secrets are stored as the use case hands them (sealed); the store
	// never reads them. OldSecret signs too until OldSecretExpires.
	Secret           string
	OldSecret        string
	OldSecretExpires time.Time
	Version          int64 // 1 after create, +1 on every change of the fields above
	Delivery         Delivery
	// Recent are the last RecentAttempts deliveries and Tests the last
	// RecentTests test requests, newest first. ListWebhooks and
	// PutWebhook return them; AllWebhooks may leave them out (the poll
	// does not need them, and reads every second).
	Recent []Attempt
	Tests  []Attempt
}

// Delivery is a webhook's progress through the feed.
type Delivery struct {
	Cursor           int64 // the last feed position handled (delivered, or not for this webhook)
	LastDeliveryTime time.Time
	LastStatus       string // the receiver's HTTP status, or Timeout, AddressRefused, Failed
	LastError        string
	Attempts         int       // failed attempts at the change after Cursor
	NextAttempt      time.Time // no attempt before it (backoff)
	FailingSince     time.Time // the first failure of the current streak; zero when healthy
	// AttemptSeq numbers the deliveries recorded in Recent: an Advance
	// with an Attempt sets it one higher. A store keeps the attempts by
	// it without reading them back (the poll leaves them out).
	AttemptSeq int64
	// The lease: one deliverer at a time per webhook, so deliveries keep
	// the feed's order.
	LeaseOwner string
	LeaseUntil time.Time
}

// WebhookWrite is a change of a webhook's settings by a person
// (put-webhook, delete-webhook), with its audit record.
type WebhookWrite struct {
	Webhook Webhook // the settings; on create also Delivery.Cursor (where delivery starts)
	// ExpectVersion 0 creates (the ID must be new); otherwise the stored
	// version must equal it (else apperr Conflict Conflict.Version).
	ExpectVersion int64
	// ClearFailure resets Attempts, NextAttempt and FailingSince (a
	// webhook enabled again resumes at once, from its Cursor).
	ClearFailure bool
	Record       AuditEvent
}

// Advance is a deliverer's update of a webhook's progress. It applies only
// while Owner holds the lease and the settings are still at Version (else
// apperr Conflict: someone else delivers, or the settings changed).
type Advance struct {
	Owner    string
	Version  int64
	Delivery Delivery // the new progress (its lease fields included)
	// Disable turns the webhook off (failing for too long) with Record,
	// in the same unit; the settings' Version moves.
	Disable bool
	Record  *AuditEvent
	// Attempt, when set, is the delivery attempt numbered
	// Delivery.AttemptSeq: it joins Recent, in the same write.
	Attempt *Attempt
}

// Webhooks keeps the webhooks and their progress.
type Webhooks interface {
	// ListWebhooks returns the directory's webhooks by ID: one read.
	ListWebhooks(ctx context.Context, dirID string) ([]Webhook, error)
	// AllWebhooks returns every directory's webhooks and the head of each
	// directory's feed (FeedHead) that has one: one read, the delivery
	// loop's poll.
	AllWebhooks(ctx context.Context) (hooks []Webhook, heads map[string]int64, err error)
	// PutWebhook creates or changes one webhook's settings (never its
	// progress, but ClearFailure) with its audit record, in one unit, and
	// returns it as stored.
	PutWebhook(ctx context.Context, w WebhookWrite) (Webhook, error)
	// DeleteWebhook removes a webhook with its audit record (apperr
	// NotFound EntityNotExists.Webhook when absent).
	DeleteWebhook(ctx context.Context, dirID, id string, record AuditEvent) error
	// AcquireWebhook takes the webhook's lease for owner until until, if
	// it is free at now (or owner's already) and the progress is still at
	// cursor after attempts failed attempts (what the caller's poll read:
	// a deliverer that polled before another's failure must not skip that
	// failure's backoff); else apperr Conflict.
	AcquireWebhook(ctx context.Context, dirID, id, owner string, cursor int64, attempts int, now, until time.Time) error
	// AdvanceWebhook records progress (see Advance).
	AdvanceWebhook(ctx context.Context, dirID, id string, a Advance) error
	// RecordWebhookTest stores the webhook's Tests (newest first, at most
	// RecentTests: the caller's list with the new test first) with the
	// test's audit record, in one unit; apperr NotFound
	// EntityNotExists.Webhook when absent. Neither the settings' Version
	// nor the progress moves.
	RecordWebhookTest(ctx context.Context, dirID, id string, tests []Attempt, record AuditEvent) error
}

// CheckWebhookKey validates a webhook key.
func CheckWebhookKey(dirID, id string) error {
	if err := CheckDir(dirID); err != nil {
		return err
	}
	if id == "" {
		return apperr.Missing("WebhookId")
	}
	if len(id) > 64 || id[0] == '~' {
		return apperr.Invalid("WebhookId", "WebhookId must be at most 64 bytes and not start with \"~\".")
	}
	return nil
}

// WebhookNotFound is the NotFound error of a missing webhook.
func WebhookNotFound(dirID, id string) error {
	return apperr.NotFound(apperr.CodeWebhookNotFound, "Webhook %s does not exist in directory %s.", id, dirID)
}

// WebhookConflict is the Conflict of a stale webhook version.
func WebhookConflict(id string, want, got int64) error {
	return apperr.Conflict(apperr.CodeVersionConflict,
		"Webhook %s is at version %d, not %d: it was changed meanwhile. Read it again and retry.", id, got, want)
}

// LeaseConflict is the Conflict of a lease held elsewhere or lost.
func LeaseConflict(id string) error {
	return apperr.Conflict(apperr.CodeWebhookBusy, "Webhook %s is being delivered elsewhere, or changed meanwhile.", id)
}
