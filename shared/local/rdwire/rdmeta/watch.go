package rdmeta

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
)

// Watch is an http.Handler in front of an RD endpoint that checks every
// exchange against the extract: requests answered 200 against the
// action's parameters (CheckAccepted), every answer against its fields or
// documented error codes (CheckAnswer). Put it in front of a server that
// answers from its simulation only: an injected fault is not RD's answer.
type Watch struct {
	meta *Meta
	next http.Handler

	mu         sync.Mutex
	violations []string
	seen       map[string]int // exchanges per action
}

// NewWatch checks the traffic that next serves.
func NewWatch(meta *Meta, next http.Handler) *Watch {
	return &Watch{meta: meta, next: next, seen: map[string]int{}}
}

// ServeHTTP serves r through next and checks the exchange.
func (w *Watch) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	params := map[string]string{}
	for _, vals := range []string{r.URL.RawQuery, string(body)} {
		q, _ := url.ParseQuery(vals)
		for k, v := range q {
			params[k] = v[0]
		}
	}
	rec := httptest.NewRecorder()
	w.next.ServeHTTP(rec, r)
	action := params["Action"]
	found := w.meta.CheckAnswer(action, rec.Code, rec.Body.Bytes())
	if rec.Code == http.StatusOK {
		found = append(found, w.meta.CheckAccepted(action, params)...)
	}
	w.mu.Lock()
	w.violations = append(w.violations, found...)
	w.seen[action]++
	w.mu.Unlock()
	for k, v := range rec.Header() {
		rw.Header()[k] = v
	}
	rw.WriteHeader(rec.Code)
	_, _ = rw.Write(rec.Body.Bytes())
}

// Violations returns what the exchanges so far broke, in order.
func (w *Watch) Violations() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.violations...)
}

// Seen returns how many exchanges of each action were checked.
func (w *Watch) Seen() map[string]int {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make(map[string]int, len(w.seen))
	for k, v := range w.seen {
		out[k] = v
	}
	return out
}
