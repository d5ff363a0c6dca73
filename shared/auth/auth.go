// Package auth turns a bearer token into a Caller. The account UID comes only
// from a verified token: never from a header, the body or the FC request
// context (which names the function owner, not the caller).
package auth

import "context"

// Caller is the verified identity of a request: a person of an account
// (docs/API.md "People").
type Caller struct {
	AccountID string // 16-digit account UID from the account claim (aid)
	UserID    string // the person's UID from the user claim (uid); AccountID for the root identity
	UserName  string // upn, login_name or name: display and audit only, never for a decision
	Principal string // the token subject (sub, opaque per person and application), for the audit trail
}

// Verifier checks a bearer token. Every failure is an apperr
// Unauthenticated error whose message says what was wrong without echoing
// the token.
type Verifier interface {
	Verify(ctx context.Context, token string) (Caller, error)
}
