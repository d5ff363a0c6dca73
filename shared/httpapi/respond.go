package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/aliyun/fc-runtime-go-sdk/events"

	"github.com/sase-multiaccount/backend/shared/apperr"
)

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
	Code    apperr.Code
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
