// Package apperr holds the typed errors every layer returns. A Kind says what
// went wrong in terms a caller can act on; httpapi maps each Kind to one HTTP
// status in one place. Code is the docs/API.md error code (for example
// "InvalidParameter.AccountId"), every one declared in codes.go; Message is
// safe to show to a console user.
package apperr

import (
	"errors"
	"fmt"
)

// Kind classifies an error for the HTTP mapping.
type Kind int

const (
	KindInternal        Kind = iota // 500 InternalError: a bug
	KindMalformed                   // 400 MalformedRequest
	KindInvalid                     // 400 InvalidParameter.* / MissingParameter.*
	KindUnauthenticated             // 401
	KindForbidden                   // 403
	KindNotFound                    // 404
	KindMethod                      // 405
	KindConflict                    // 409
	KindTooLarge                    // 413
	KindThrottled                   // 429
	KindUnavailable                 // 503
)

// Error is the one error type that crosses package boundaries.
type Error struct {
	Kind    Kind
	Code    Code
	Message string
	Err     error // the cause, for logs only; never shown to the caller
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return string(e.Code) + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// New builds an Error.
func New(kind Kind, code Code, format string, args ...any) *Error {
	return &Error{Kind: kind, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap builds an Error that keeps cause for logging.
func Wrap(cause error, kind Kind, code Code, format string, args ...any) *Error {
	return &Error{Kind: kind, Code: code, Message: fmt.Sprintf(format, args...), Err: cause}
}

// As returns the *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// IsKind reports whether err carries an *Error of the given kind.
func IsKind(err error, k Kind) bool {
	e, ok := As(err)
	return ok && e.Kind == k
}

// IsCode reports whether err carries an *Error with the given code.
func IsCode(err error, code Code) bool {
	e, ok := As(err)
	return ok && e.Code == code
}

// Constructors for the codes of docs/API.md. Each takes its code, except
// Missing and Invalid, whose code names the request parameter (see
// MissingParameter and InvalidParameter).

func Malformed(format string, args ...any) *Error {
	return New(KindMalformed, CodeMalformed, format, args...)
}

func Missing(param string) *Error {
	return New(KindInvalid, MissingParameter(param), "%s is required.", param)
}

func Invalid(param, format string, args ...any) *Error {
	return New(KindInvalid, InvalidParameter(param), format, args...)
}

func Unauthenticated(format string, args ...any) *Error {
	return New(KindUnauthenticated, CodeUnauthenticated, format, args...)
}

func Forbidden(format string, args ...any) *Error {
	return New(KindForbidden, CodeForbiddenRole, format, args...)
}

func NotFound(code Code, format string, args ...any) *Error {
	return New(KindNotFound, code, format, args...)
}

func Conflict(code Code, format string, args ...any) *Error {
	return New(KindConflict, code, format, args...)
}

func Throttled(service string, cause error) *Error {
	return Wrap(cause, KindThrottled, CodeThrottling,
		"%s is throttling requests; retried without success. Try again in a few seconds.", service)
}

func Unavailable(service string, cause error) *Error {
	return Wrap(cause, KindUnavailable, CodeUnavailable,
		"%s is unavailable right now; nothing was changed by the failing call. Try again later.", service)
}

func Internal(cause error) *Error {
	return Wrap(cause, KindInternal, CodeInternal, "An internal error occurred; it has been logged with the request ID.")
}

// PermissionDenied is a cloud service's RAM denial of permission (e.g.
// "ots:GetRow") to the function's role. Only the deployment's operator can
// grant it, so it is 503 (the service is unusable as deployed, not the
// caller's fault), and the message names the permission and where the role
// is defined.
func PermissionDenied(permission string, cause error) *Error {
	return Wrap(cause, KindUnavailable, CodePermission,
		"The function's role is not allowed to call %s. Grant it in the function role's policy (deploy/policy.go; docs/DEPLOY.md, \"The function role (least privilege)\") and redeploy.",
		permission)
}
