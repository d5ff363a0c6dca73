// Package httpapi turns FC3 HTTP trigger events into calls of the use cases
// and their results back into responses. Everything every function does
// before and after its own work lives here, once: request IDs, CORS, method
// check, authentication, the role check, body limits and strict decoding, the
// error envelope, panic recovery, and one log line per request.
package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/events"
	"github.com/aliyun/fc-runtime-go-sdk/fccontext"
	"github.com/rs/zerolog"

	"github.com/sase-multiaccount/backend/shared/action"
	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/auth"
	"github.com/sase-multiaccount/backend/shared/role"
	"github.com/sase-multiaccount/backend/shared/rolecheck"
	"github.com/sase-multiaccount/backend/shared/validate"
)

// MaxBody is the largest accepted request body (API.md: 64 KiB).
const MaxBody = 64 << 10

// Handler is the FC3 HTTP function signature, started with fc.Start.
type Handler func(ctx context.Context, e events.HTTPTriggerEvent) (*events.HTTPTriggerResponse, error)

// Endpoint is one HTTP function.
type Endpoint struct {
	Name   string
	Method string // http.MethodGet or http.MethodPost
	Action action.Action
	// Handle does the function's own work. The request is authenticated and
	// authorized; the result is rendered as the JSON body with RequestId.
	Handle func(ctx context.Context, r *Request) (any, error)
}

// Request is what a handler gets.
type Request struct {
	ID      string
	Method  string
	Query   map[string]string
	Body    []byte
	Caller  auth.Caller
	Subject rolecheck.Subject
	headers map[string]string // lower-case keys
}

// Header returns a request header, case-insensitively.
func (r *Request) Header(name string) string { return r.headers[strings.ToLower(name)] }

// Authorizer applies the policy table to a person (rolecheck.Checker).
type Authorizer interface {
	Authorize(ctx context.Context, p role.Person, action action.Action) (rolecheck.Subject, error)
}

// Server holds what every endpoint shares.
type Server struct {
	Verifier auth.Verifier
	Roles    Authorizer
	// OnInvoke, when set, sees each invocation's context first: the app
	// refreshes the function role's STS credentials from it.
	OnInvoke       func(context.Context)
	AllowedOrigins []string // CORS; "*" allows any origin
	Log            zerolog.Logger
}

// Handler wraps ep into an FC3 HTTP handler.
func (s *Server) Handler(ep Endpoint) Handler {
	return func(ctx context.Context, e events.HTTPTriggerEvent) (resp *events.HTTPTriggerResponse, _ error) {
		start := time.Now()
		r := &Request{ID: requestID(ctx, e), Method: strings.ToUpper(deref(e.TriggerContext.Http.Method)),
			Query: derefMap(e.QueryParameters), headers: lowerKeys(derefMap(e.Headers))}
		if s.OnInvoke != nil {
			s.OnInvoke(ctx)
		}
		var err error
		defer func() {
			if p := recover(); p != nil {
				err = apperr.Internal(fmt.Errorf("panic: %v\n%s", p, debug.Stack()))
				resp = s.errorResponse(r, err)
			}
			s.logRequest(ep, r, resp, err, time.Since(start))
		}()

		if r.Method == http.MethodOptions {
			return s.preflight(ep, r), nil
		}
		var out any
		if out, err = s.serve(ctx, ep, r, e); err != nil {
			return s.errorResponse(r, err), nil
		}
		return s.respond(r, http.StatusOK, out), nil
	}
}

func (s *Server) serve(ctx context.Context, ep Endpoint, r *Request, e events.HTTPTriggerEvent) (any, error) {
	if r.Method != ep.Method {
		return nil, apperr.New(apperr.KindMethod, apperr.CodeMethodNotAllowed, "%s accepts %s (and OPTIONS), not %s.", ep.Name, ep.Method, orNone(r.Method))
	}
	token, err := auth.BearerToken(r.Header("Authorization"))
	if err != nil {
		return nil, err
	}
	if r.Caller, err = s.Verifier.Verify(ctx, token); err != nil {
		return nil, err
	}
	person := role.Person{AccountID: r.Caller.AccountID, UserID: r.Caller.UserID, UserName: r.Caller.UserName}
	if r.Subject, err = s.Roles.Authorize(ctx, person, ep.Action); err != nil {
		return nil, err
	}
	if ep.Method == http.MethodPost {
		// A write takes its input from the body only: a query parameter
		// (?DryRun=true) would otherwise be ignored silently and the write done.
		if len(r.Query) > 0 {
			return nil, apperr.Malformed("%s takes no query parameters (got %q); send every field in the JSON body.",
				ep.Name, validate.Clip(slices.Sorted(maps.Keys(r.Query))[0]))
		}
		if r.Body, err = body(e); err != nil {
			return nil, err
		}
	}
	return ep.Handle(ctx, r)
}

func (s *Server) logRequest(ep Endpoint, r *Request, resp *events.HTTPTriggerResponse, err error, d time.Duration) {
	status := 0
	if resp != nil {
		status = resp.StatusCode
	}
	lvl := zerolog.InfoLevel
	switch {
	case status >= 500:
		lvl = zerolog.ErrorLevel
	case status >= 400:
		lvl = zerolog.WarnLevel
	}
	ev := s.Log.WithLevel(lvl).Str("request_id", r.ID).Str("function", ep.Name).Str("method", r.Method).
		Str("account", r.Caller.AccountID).Str("user", r.Caller.UserID).Str("role", string(r.Subject.Role)).
		Str("access", string(r.Subject.Access)).Str("action", string(ep.Action)).
		Int("status", status).Float64("duration_ms", float64(d.Microseconds())/1000)
	if err != nil {
		_, e := Classify(err)
		ev = ev.Str("code", string(e.Code))
		if status >= 500 {
			ev = ev.Err(err) // the cause, for the operator; never sent to the caller
		}
	}
	ev.Msg("request")
}

func requestID(ctx context.Context, e events.HTTPTriggerEvent) string {
	if fc, ok := fccontext.FromContext(ctx); ok && fc != nil && fc.RequestID != "" {
		return fc.RequestID
	}
	if id := deref(e.TriggerContext.RequestId); id != "" && len(id) <= 128 {
		return id
	}
	return NewRequestID()
}

// NewRequestID returns a random ID in the 8-4-4-4-12 shape FC uses.
func NewRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return strings.ToUpper(h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:])
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func derefMap(p *map[string]string) map[string]string {
	if p == nil || *p == nil {
		return map[string]string{}
	}
	return *p
}

func lowerKeys(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[strings.ToLower(k)] = v
	}
	return out
}

func orNone(m string) string {
	if m == "" {
		return "no method"
	}
	return m
}
