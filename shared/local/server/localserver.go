// Package localserver is `make run`: every HTTP function of the bundle on one
// port, each mounted at /<function-name>, plus the /_local/* helpers of
// API.md. A request goes through the same path FC uses: it becomes an FC3
// HTTPTriggerEvent JSON payload, is invoked through fc.NewHandler (the SDK's
// own decode/encode), and the HTTPTriggerResponse JSON becomes the reply.
// Nothing here is built into a function.
package server

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/aliyun/fc-runtime-go-sdk/events"
	"github.com/aliyun/fc-runtime-go-sdk/fc"
	"github.com/aliyun/fc-runtime-go-sdk/fccontext"

	"github.com/sase-multiaccount/backend/shared/app"
	"github.com/sase-multiaccount/backend/shared/console"
	direvents "github.com/sase-multiaccount/backend/shared/events"
	"github.com/sase-multiaccount/backend/shared/httpapi"
	"github.com/sase-multiaccount/backend/shared/local/localkey"
	"github.com/sase-multiaccount/backend/shared/local/oidc"
	"github.com/sase-multiaccount/backend/shared/local/simulation"
)

// maxForward bounds what the server reads of a body; larger bodies still
// reach the function truncated to just over its limit, so the function's own
// 413 answers them (FC itself accepts far larger payloads).
const maxForward = httpapi.MaxBody + 1

// Server serves an App over plain HTTP. Open builds it.
type Server struct {
	app     *app.App
	mux     *http.ServeMux
	sim     *simulation.Sim
	signer  *localkey.Signer
	oidc    *oidc.Provider   // the local OpenID Connect provider (console.go)
	console *console.Handler // the console function
	closers []func() error
	// simEvents receives the simulation's events (see mountEvents).
	simEvents atomic.Pointer[func(direvents.CloudEvent)]
}

// mount mounts every function of s.app and the local helpers.
func (s *Server) mount() {
	s.mux = http.NewServeMux()
	for _, ep := range s.app.Endpoints() {
		h := fc.NewHandler(s.app.HTTP.Handler(ep))
		fn := s.invoke(h)
		s.mux.HandleFunc("/"+ep.Name, fn)
		s.mux.HandleFunc("/"+ep.Name+"/", fn) // functions ignore the rest of the path
	}
	s.mountEvents()  // events.go
	s.mountHelpers() // helpers.go
	s.mountConsole() // console.go: the console at /, its OIDC provider
}

// Timeouts of make run's HTTP server: a slow or stuck client must not hold
// a connection for ever. The write timeout is FC's default function
// timeout, the longest a function runs in the cloud.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 60 * time.Second
	idleTimeout       = 120 * time.Second
)

// HTTPServer is the http.Server make run listens with, serving s at addr.
func (s *Server) HTTPServer(addr string) *http.Server {
	return &http.Server{Addr: addr, Handler: s, ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout: readTimeout, WriteTimeout: writeTimeout, IdleTimeout: idleTimeout}
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// invoke converts the HTTP request into an FC3 event, invokes the function
// through the SDK's JSON path, and writes its response.
func (s *Server) invoke(h fc.Handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxForward))
		if err != nil {
			http.Error(w, "cannot read body", http.StatusBadRequest)
			return
		}
		reqID := httpapi.NewRequestID()
		payload, err := json.Marshal(toEvent(r, body, reqID))
		if err != nil {
			http.Error(w, "cannot encode event", http.StatusInternalServerError)
			return
		}
		ctx := fccontext.NewContext(r.Context(), &fccontext.FcContext{RequestID: reqID, AccountId: s.app.Config.OwnerAccountID, Region: "local"})
		out, err := h.Invoke(ctx, payload)
		if err != nil {
			http.Error(w, "function error: "+err.Error(), http.StatusBadGateway)
			return
		}
		var resp events.HTTPTriggerResponse
		if err := json.Unmarshal(out, &resp); err != nil {
			http.Error(w, "function returned an invalid response", http.StatusBadGateway)
			return
		}
		for k, v := range resp.Headers {
			w.Header().Set(k, v)
		}
		b := []byte(resp.Body)
		if resp.IsBase64Encoded {
			if b, err = base64.StdEncoding.DecodeString(resp.Body); err != nil {
				http.Error(w, "function returned invalid base64", http.StatusBadGateway)
				return
			}
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = w.Write(b)
	}
}

// toEvent builds the HTTPTriggerEvent FC3 would deliver: repeated headers and
// query values comma-joined, binary bodies base64-encoded.
func toEvent(r *http.Request, body []byte, reqID string) events.HTTPTriggerEvent {
	headers := map[string]string{}
	for k, v := range r.Header {
		headers[k] = strings.Join(v, ",")
	}
	query := map[string]string{}
	for k, v := range r.URL.Query() {
		query[k] = strings.Join(v, ",")
	}
	b64 := !utf8.Valid(body)
	b := string(body)
	if b64 {
		b = base64.StdEncoding.EncodeToString(body)
	}
	now := time.Now().UTC()
	version, path, method, proto := "v1", r.URL.Path, r.Method, r.Proto
	ip, ua, t, epoch := r.RemoteAddr, r.UserAgent(), now.Format(time.RFC3339), strconv.FormatInt(now.UnixMilli(), 10)
	domain := r.Host
	e := events.HTTPTriggerEvent{Version: &version, RawPath: &path, Body: &b, IsBase64Encoded: &b64,
		Headers: &headers, QueryParameters: &query}
	e.TriggerContext.DomainName = &domain
	e.TriggerContext.RequestId = &reqID
	e.TriggerContext.Time = &t
	e.TriggerContext.TimeEpoch = &epoch
	e.TriggerContext.Http.Method = &method
	e.TriggerContext.Http.Path = &path
	e.TriggerContext.Http.Protocol = &proto
	e.TriggerContext.Http.SourceIp = &ip
	e.TriggerContext.Http.UserAgent = &ua
	return e
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
