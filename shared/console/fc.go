package console

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/aliyun/fc-runtime-go-sdk/events"
	"github.com/aliyun/fc-runtime-go-sdk/fccontext"
)

// FCHandler serves h as an FC3 HTTP trigger function: the trigger event
// becomes an *http.Request, the recorded answer the trigger response. The
// console is plain net/http so that the same handler runs under the local
// server, in tests and in FC.
func FCHandler(h http.Handler) func(context.Context, events.HTTPTriggerEvent) (*events.HTTPTriggerResponse, error) {
	return func(ctx context.Context, e events.HTTPTriggerEvent) (*events.HTTPTriggerResponse, error) {
		if fc, ok := fccontext.FromContext(ctx); ok && fc != nil && fc.RequestID != "" {
			ctx = WithRequestID(ctx, fc.RequestID)
		}
		r, err := toRequest(ctx, e)
		if err != nil {
			return &events.HTTPTriggerResponse{StatusCode: http.StatusBadRequest,
				Headers: map[string]string{"Content-Type": "text/plain; charset=utf-8"}, Body: err.Error()}, nil
		}
		rec := &recorder{header: http.Header{}}
		h.ServeHTTP(rec, r)
		return rec.response(), nil
	}
}

func toRequest(ctx context.Context, e events.HTTPTriggerEvent) (*http.Request, error) {
	method := strings.ToUpper(deref(e.TriggerContext.Http.Method))
	p := deref(e.RawPath)
	if p == "" {
		p = deref(e.TriggerContext.Http.Path)
	}
	if p == "" {
		p = "/"
	}
	q := url.Values{}
	if e.QueryParameters != nil {
		for k, v := range *e.QueryParameters {
			q.Set(k, v)
		}
	}
	body := []byte(deref(e.Body))
	if e.IsBase64Encoded != nil && *e.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(string(body))
		if err != nil {
			return nil, fmt.Errorf("the request body is marked base64 but does not decode")
		}
		body = b
	}
	u := &url.URL{Path: p, RawQuery: q.Encode()}
	r, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("bad request line: %w", err)
	}
	if e.Headers != nil {
		for k, v := range *e.Headers {
			r.Header.Set(k, v)
		}
	}
	r.Host = deref(e.TriggerContext.DomainName)
	return r, nil
}

// recorder is the http.ResponseWriter of one trigger invocation.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *recorder) Header() http.Header { return w.header }

func (w *recorder) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *recorder) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(b)
}

func (w *recorder) response() *events.HTTPTriggerResponse {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	h := make(map[string]string, len(w.header))
	for k, v := range w.header {
		h[k] = strings.Join(v, ",")
	}
	out := &events.HTTPTriggerResponse{StatusCode: w.status, Headers: h}
	if b := w.body.Bytes(); utf8.Valid(b) {
		out.Body = string(b)
	} else {
		out.Body, out.IsBase64Encoded = base64.StdEncoding.EncodeToString(b), true
	}
	return out
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
