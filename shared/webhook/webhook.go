// Package webhook is the wire format of webhook deliveries (docs/API.md
// "Following membership"): the body is a CloudEvent 1.0 in structured mode,
// and the request is signed as the Standard Webhooks specification says
// (webhook-id, webhook-timestamp, webhook-signature), through the
// specification's own Go library, so that receivers can verify with any
// off-the-shelf implementation.
package webhook

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// Wire constants.
const (
	// SecretPrefix starts every signing secret; the rest is the base64 of
	// the key bytes (the specification's format).
	SecretPrefix = "whsec_"
	// ContentType is the structured mode of CloudEvents over HTTP.
	ContentType = "application/cloudevents+json"
	// TypePrefix starts every event type: <prefix>MemberAdded etc.
	TypePrefix = "com.aliyun.sase.multiaccount."
	// secretBytes is the key length: as long as the HMAC-SHA256 output.
	secretBytes = 32
)

// Header names of the Standard Webhooks specification.
const (
	HeaderID        = standardwebhooks.HeaderWebhookID
	HeaderTimestamp = standardwebhooks.HeaderWebhookTimestamp
	HeaderSignature = standardwebhooks.HeaderWebhookSignature
)

// NewSecret returns a new random signing secret, "whsec_" + base64(32 bytes).
func NewSecret() (string, error) {
	b := make([]byte, secretBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("webhook secret: %w", err)
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(b), nil
}

// Source is the CloudEvent source of a directory's events.
func Source(dirID string) string { return "sase-multiaccount/" + dirID }

// Event is a CloudEvent 1.0 in structured mode (JSON event format).
type Event struct {
	SpecVersion     string `json:"specversion"`
	ID              string `json:"id"`
	Source          string `json:"source"`
	Type            string `json:"type"`
	Subject         string `json:"subject,omitempty"`
	Time            string `json:"time"`
	DataContentType string `json:"datacontenttype"`
	Data            any    `json:"data"`
}

// NewEvent builds the event of one change: id the change ID, kind its type
// without the prefix (MemberAdded, …, WebhookTest), subject the account.
func NewEvent(dirID, id, kind, subject string, t time.Time, data any) Event {
	return Event{SpecVersion: "1.0", ID: id, Source: Source(dirID), Type: TypePrefix + kind, Subject: subject,
		Time: t.UTC().Format(time.RFC3339Nano), DataContentType: "application/json", Data: data}
}

// Body is the request body of e.
func (e Event) Body() ([]byte, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("webhook body: %w", err)
	}
	return b, nil
}

// Headers are the headers of a delivery of body as message id at t: the
// content type and the three Standard Webhooks headers, with one v1
// signature per secret (the current one first; while a rotated secret is
// still valid it signs too, so receivers can switch at their pace).
func Headers(id string, t time.Time, body []byte, secrets []string) (http.Header, error) {
	if len(secrets) == 0 {
		return nil, fmt.Errorf("webhook %s: no signing secret", id)
	}
	sigs := make([]string, 0, len(secrets))
	for _, s := range secrets {
		wh, err := standardwebhooks.NewWebhook(s)
		if err != nil {
			return nil, fmt.Errorf("webhook signing secret: %w", err)
		}
		sig, err := wh.Sign(id, t, body)
		if err != nil {
			return nil, fmt.Errorf("webhook signature: %w", err)
		}
		sigs = append(sigs, sig)
	}
	h := http.Header{}
	h.Set("Content-Type", ContentType)
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, strconv.FormatInt(t.Unix(), 10))
	h.Set(HeaderSignature, strings.Join(sigs, " "))
	return h, nil
}

// ValidSecret reports whether s has the secret format (for stored values).
func ValidSecret(s string) bool {
	rest, ok := strings.CutPrefix(s, SecretPrefix)
	if !ok {
		return false
	}
	b, err := base64.StdEncoding.DecodeString(rest)
	return err == nil && len(b) > 0
}
