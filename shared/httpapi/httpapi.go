// Package httpapi turns FC3 HTTP trigger events into calls of the use cases
// and their results back into responses. Everything every function does
// before and after its own work lives here, once: request IDs, CORS, method
// check, authentication, the role check, body limits and strict decoding, the
// error envelope, panic recovery, and one log line per request.
package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"reflect"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/events"
	"github.com/aliyun/fc-runtime-go-sdk/fccontext"
	"github.com/rs/zerolog"

	"github.com/sase-multiaccount/backend/shared/action"
	"github.com/sase-multiaccount/backend/shared/adapter/cloudcreds"
	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/auth"
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

// Authorizer applies the role policy (rolecheck.Checker).
type Authorizer interface {
	Authorize(ctx context.Context, accountID string, action action.Action) (rolecheck.Subject, error)
}

// Server holds what every endpoint shares.
type Server struct {
	Verifier       auth.Verifier
	Roles          Authorizer
	Credentials    *cloudcreds.Source // optional: refreshed from each invocation's FC context
	AllowedOrigins []string           // CORS; "*" allows any origin
	Log            zerolog.Logger
}

// Handler wraps ep into an FC3 HTTP handler.
func (s *Server) Handler(ep Endpoint) Handler {
	return func(ctx context.Context, e events.HTTPTriggerEvent) (resp *events.HTTPTriggerResponse, _ error) {
		start := time.Now()
		r := &Request{ID: requestID(ctx, e), Method: strings.ToUpper(deref(e.TriggerContext.Http.Method)),
			Query: derefMap(e.QueryParameters), headers: lowerKeys(derefMap(e.Headers))}
		if s.Credentials != nil {
			s.Credentials.Observe(ctx)
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
		return nil, apperr.New(apperr.KindMethod, "MethodNotAllowed", "%s accepts %s (and OPTIONS), not %s.", ep.Name, ep.Method, orNone(r.Method))
	}
	token, err := auth.BearerToken(r.Header("Authorization"))
	if err != nil {
		return nil, err
	}
	if r.Caller, err = s.Verifier.Verify(ctx, token); err != nil {
		return nil, err
	}
	if r.Subject, err = s.Roles.Authorize(ctx, r.Caller.AccountID, ep.Action); err != nil {
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

// body returns the decoded request body, enforcing the size limit.
func body(e events.HTTPTriggerEvent) ([]byte, error) {
	raw := deref(e.Body)
	if e.IsBase64Encoded != nil && *e.IsBase64Encoded {
		if base64.StdEncoding.DecodedLen(len(raw)) > MaxBody+2 {
			return nil, TooLarge()
		}
		b, err := base64.StdEncoding.DecodeString(raw)
		if err != nil {
			return nil, apperr.Malformed("The request body is marked base64 but does not decode.")
		}
		raw = string(b)
	}
	if len(raw) > MaxBody {
		return nil, TooLarge()
	}
	return []byte(raw), nil
}

// TooLarge is the error for a body over MaxBody.
func TooLarge() error {
	return apperr.New(apperr.KindTooLarge, "RequestEntityTooLarge", "The request body is larger than %d KiB.", MaxBody>>10)
}

// Decode reads the JSON object body strictly into v (see DecodeJSON).
func (r *Request) Decode(v any) error { return DecodeJSON(r.Body, v) }

// DecodeJSON reads a JSON object body strictly into v: a non-object, unknown
// fields, wrong types and trailing data are all 400 MalformedRequest, with a
// message that names the problem. The Content-Type header is not checked:
// the body must be a JSON object whatever it says (curl -d sends a form
// type), and bearer tokens make cross-site form posts useless anyway.
func DecodeJSON(body []byte, v any) error {
	b := strings.TrimLeft(string(body), " \t\r\n")
	if b == "" {
		return apperr.Malformed("The request body is empty; send a JSON object (at least {}).")
	}
	if b[0] != '{' {
		return apperr.Malformed("The request body must be a JSON object.")
	}
	dec := json.NewDecoder(strings.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return apperr.Wrap(err, apperr.KindMalformed, "MalformedRequest", "%s", describeJSONError(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return apperr.Malformed("The request body has data after the JSON object.")
	}
	// encoding/json matches names case-insensitively and lets a repeated
	// name win silently; the contract is PascalCase names, each once.
	return checkNames(json.NewDecoder(strings.NewReader(b)), reflect.TypeOf(v), "")
}

// checkNames walks the (already valid) JSON alongside t and refuses object
// keys that are not spelled exactly like a field, or that repeat.
func checkNames(dec *json.Decoder, t reflect.Type, path string) error {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	tok, err := dec.Token()
	if err != nil {
		return apperr.Malformed("The request body is not valid JSON.")
	}
	switch tok {
	case json.Delim('{'):
		seen := map[string]bool{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return apperr.Malformed("The request body is not valid JSON.")
			}
			key := kt.(string)
			name := path + key
			if seen[key] {
				return apperr.Malformed("Field %s appears more than once.", validate.Clip(name))
			}
			seen[key] = true
			var ft reflect.Type
			if t != nil && t.Kind() == reflect.Struct {
				f, ok := exactField(t, key)
				if !ok {
					return apperr.Malformed("Unknown field %q; check the spelling (names are PascalCase).", validate.Clip(name))
				}
				ft = f.Type
			}
			if err := checkNames(dec, ft, name+"."); err != nil {
				return err
			}
		}
		_, err = dec.Token() // '}'
	case json.Delim('['):
		var et reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			et = t.Elem()
		}
		for i := 0; dec.More(); i++ {
			if err := checkNames(dec, et, fmt.Sprintf("%s[%d].", strings.TrimSuffix(path, "."), i)); err != nil {
				return err
			}
		}
		_, err = dec.Token() // ']'
	}
	if err != nil {
		return apperr.Malformed("The request body is not valid JSON.")
	}
	return nil
}

// exactField finds the exported field whose JSON name is exactly key.
func exactField(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if name == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func describeJSONError(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "the body"
		}
		return fmt.Sprintf("Field %s must be %s, not a JSON %s.", field, jsonKind(te.Type.Kind().String()), te.Value)
	case errors.As(err, &se):
		return fmt.Sprintf("The request body is not valid JSON (at byte %d).", se.Offset)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return fmt.Sprintf("Unknown field %s; check the spelling (names are PascalCase).", strings.TrimPrefix(err.Error(), "json: unknown field "))
	default:
		return "The request body is not valid JSON: it ends early or is malformed."
	}
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "an array"
	case "struct", "map", "ptr":
		return "an object"
	default:
		return "a number"
	}
}

// AllowQuery refuses query parameters other than the named ones, so a typo
// (MaxResult=) is an error rather than silently ignored.
func (r *Request) AllowQuery(names ...string) error {
	for k := range r.Query {
		if !slices.Contains(names, k) {
			return apperr.Malformed("Unknown query parameter %q; %s accepts %s.", validate.Clip(k), "this function", strings.Join(names, ", "))
		}
	}
	return nil
}

// ---- responses ----

func (s *Server) respond(r *Request, status int, out any) *events.HTTPTriggerResponse {
	b, err := Envelope(r.ID, out)
	if err != nil {
		return s.errorResponse(r, apperr.Internal(err))
	}
	h := map[string]string{"Content-Type": "application/json; charset=utf-8", "X-Request-Id": r.ID, "Cache-Control": "no-store"}
	s.cors(r, h)
	return &events.HTTPTriggerResponse{StatusCode: status, Headers: h, Body: string(b)}
}

// Envelope is the JSON body of every answer: out (a JSON object) with
// RequestId first.
func Envelope(requestID string, out any) ([]byte, error) {
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("encode response: %w", err)
	}
	rid, _ := json.Marshal(requestID)
	body := make([]byte, 0, len(b)+len(rid)+16)
	body = append(body, `{"RequestId":`...)
	body = append(body, rid...)
	if len(b) > 2 { // a JSON object other than {}
		body = append(body, ',')
		body = append(body, b[1:]...)
	} else {
		body = append(body, '}')
	}
	return body, nil
}

// ErrorEnvelope is err as an HTTP status and the error body (Code, Message).
func ErrorEnvelope(err error) (int, any) {
	status, e := Classify(err)
	return status, errorBody{Code: e.Code, Message: e.Message}
}

// errorBody is the API.md error envelope.
type errorBody struct {
	Code    string
	Message string
}

func (s *Server) errorResponse(r *Request, err error) *events.HTTPTriggerResponse {
	status, body := ErrorEnvelope(err)
	return s.respond(r, status, body)
}

// statuses maps each error kind to its HTTP status: the one place it is done.
var statuses = map[apperr.Kind]int{
	apperr.KindInternal:        http.StatusInternalServerError,
	apperr.KindMalformed:       http.StatusBadRequest,
	apperr.KindInvalid:         http.StatusBadRequest,
	apperr.KindUnauthenticated: http.StatusUnauthorized,
	apperr.KindForbidden:       http.StatusForbidden,
	apperr.KindNotFound:        http.StatusNotFound,
	apperr.KindMethod:          http.StatusMethodNotAllowed,
	apperr.KindConflict:        http.StatusConflict,
	apperr.KindTooLarge:        http.StatusRequestEntityTooLarge,
	apperr.KindThrottled:       http.StatusTooManyRequests,
	apperr.KindUnavailable:     http.StatusServiceUnavailable,
}

// Classify returns the HTTP status and the typed error for err. Anything
// that is not an *apperr.Error is a bug: 500 InternalError.
func Classify(err error) (int, *apperr.Error) {
	e, ok := apperr.As(err)
	if !ok {
		e = apperr.Internal(err)
	}
	status, ok := statuses[e.Kind]
	if !ok {
		status = http.StatusInternalServerError
	}
	if status == http.StatusInternalServerError {
		e = apperr.Internal(err) // never leak a message written for logs
	}
	return status, e
}

// ---- CORS ----

func (s *Server) allowedOrigin(origin string) bool {
	return origin != "" && (slices.Contains(s.AllowedOrigins, "*") || slices.Contains(s.AllowedOrigins, origin))
}

func (s *Server) cors(r *Request, h map[string]string) {
	if origin := r.Header("Origin"); s.allowedOrigin(origin) {
		h["Access-Control-Allow-Origin"] = origin
		h["Access-Control-Expose-Headers"] = "X-Request-Id"
		h["Vary"] = "Origin"
	}
}

func (s *Server) preflight(ep Endpoint, r *Request) *events.HTTPTriggerResponse {
	h := map[string]string{"X-Request-Id": r.ID}
	if origin := r.Header("Origin"); s.allowedOrigin(origin) {
		h["Access-Control-Allow-Origin"] = origin
		h["Access-Control-Allow-Methods"] = ep.Method + ", OPTIONS"
		h["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
		h["Access-Control-Max-Age"] = "600"
		h["Vary"] = "Origin"
	}
	return &events.HTTPTriggerResponse{StatusCode: http.StatusNoContent, Headers: h}
}

// ---- logging ----

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
		Str("account", r.Caller.AccountID).Str("role", string(r.Subject.Role)).Str("action", string(ep.Action)).
		Int("status", status).Float64("duration_ms", float64(d.Microseconds())/1000)
	if err != nil {
		_, e := Classify(err)
		ev = ev.Str("code", e.Code)
		if status >= 500 {
			ev = ev.Err(err) // the cause, for the operator; never sent to the caller
		}
	}
	ev.Msg("request")
}

// ---- small helpers ----

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
