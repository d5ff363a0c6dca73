// Package auth turns a bearer token into a Caller. The account UID comes only
// from a verified token: never from a header, the body or the FC request
// context (which names the function owner, not the caller).
package auth

import "context"

// Caller is the verified identity of a request.
type Caller struct {
	AccountID string // 16-digit account UID from the configured claim
	Principal string // the token subject (a RAM user or role), for the audit trail
}

// Verifier checks a bearer token. Every failure is an apperr
// Unauthenticated error whose message says what was wrong without echoing
// the token.
type Verifier interface {
	Verify(ctx context.Context, token string) (Caller, error)
}
