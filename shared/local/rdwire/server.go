// Package rdwire is a local Resource Directory endpoint: an http.Handler
// that speaks ResourceManager 2020-03-31 over the RPC wire protocol exactly
// as the SDK sees the cloud (POST with query-string parameters, HMAC-SHA1
// signature, JSON bodies, {RequestId,HostId,Code,Message} errors, the
// ListAccounts vs GetAccount Tags shapes) and answers from a
// *simulation.Sim. The real alibaba-cloud-sdk-go client, pointed at it,
// exercises the production adapter (adapter/resourcemanager) end to end:
// in tests, and in `make run` with DIRECTORY=resourcemanager.
//
// It also injects faults (throttling, 5xx, slow answers) and counts calls
// per action, so tests can prove retries and call budgets.
package rdwire

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/sase-multiaccount/backend/shared/adapter/cloudcreds"
	"github.com/sase-multiaccount/backend/shared/local/simulation"
	"github.com/sase-multiaccount/backend/shared/port/directory"
)

// TestCredentials are credentials for local runs and tests: an STS-style
// key with a security token, like the function role's.
var TestCredentials = cloudcreds.Credentials{
	AccessKeyID:     "STS.rdwire-local-key",
	AccessKeySecret: "rdwire-local-secret",
	SecurityToken:   "rdwire-local-security-token",
}

// KnownServicePrincipals are trusted-service principals the server accepts
// by default (RD answers InvalidParameter.ServicePrincipal for others).
var KnownServicePrincipals = []string{
	directory.DefaultServicePrincipal, // SASE
	"actiontrail.aliyuncs.com",
	"cloudfw.aliyuncs.com",
	"config.aliyuncs.com",
	"sas.aliyuncs.com",
}

// Server is the RD wire endpoint. Create it with NewServer; it is safe for
// concurrent use.
type Server struct {
	sim   *simulation.Sim
	creds cloudcreds.Credentials

	mu         sync.Mutex
	principals map[string]bool
	tags       map[string][]rdTag // account UID -> tags (tags.go)
	faults     []*Fault
	calls      map[string]int
	log        []Request
	sigFails   int
	nonces     map[string]time.Time
	now        func() time.Time
}

// Request is one request the server received, as it was answered.
type Request struct {
	Action string
	Params url.Values // every parameter but Signature
	Status int
	Code   string // RD error code; "" on success
}

// NewServer answers RD calls signed with creds from sim.
func NewServer(sim *simulation.Sim, creds cloudcreds.Credentials) *Server {
	s := &Server{
		sim:        sim,
		creds:      creds,
		principals: map[string]bool{},
		tags:       map[string][]rdTag{},
		calls:      map[string]int{},
		nonces:     map[string]time.Time{},
		now:        time.Now,
	}
	s.AllowServicePrincipals(KnownServicePrincipals...)
	return s
}

// AllowServicePrincipals adds trusted-service principals the server accepts
// (use it when the Sim and the adapter are configured with another one).
func (s *Server) AllowServicePrincipals(principals ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range principals {
		if p != "" {
			s.principals[p] = true
		}
	}
}

func (s *Server) knownPrincipal(p string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.principals[p]
}

func (s *Server) allPrincipals() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.principals))
	for p := range s.principals {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// ServeHTTP answers one RD RPC request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.serve(w, r, newRequestID())
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request, requestID string) {
	fail := func(action string, p params, e *rpcError) {
		s.record(action, p, e.Status, e.Code)
		writeError(w, requestID, e)
	}
	action, p, e := s.admit(r)
	if e != nil {
		fail(action, p, e)
		return
	}
	if f := s.takeFault(action); f != nil {
		if !s.wait(r, f) {
			s.record(action, p, 0, "ClientGone")
			return
		}
		if e := f.answer(); e != nil {
			fail(action, p, e)
			return
		}
	}
	body, e := handlers[action](s, r.Context(), p)
	if e != nil {
		fail(action, p, e)
		return
	}
	s.record(action, p, 200, "")
	body.set("RequestId", requestID)
	writeJSON(w, 200, requestID, body)
}

// admit is RD's gateway: it reads the request and checks the method, path,
// action, version, format and signature. The action and parameters come
// back as far as they could be read, for the request log.
func (s *Server) admit(r *http.Request) (string, params, *rpcError) {
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		return "", nil, errf(403, "UnsupportedHTTPMethod", "HTTP method %s is not supported; use POST or GET.", r.Method)
	}
	if r.URL.Path != "/" && r.URL.Path != "" {
		return "", nil, errf(404, "InvalidAction.NotFound", "RPC requests go to \"/\", not %q.", r.URL.Path)
	}
	p, perr := parseParams(r)
	if perr != nil {
		return "", nil, perr
	}
	action := p.get("Action")
	if action == "" {
		return "", p, errMissingCommon("Action")
	}
	s.mu.Lock()
	s.calls[action]++ // counted on arrival, whatever the answer
	now := s.now()
	s.mu.Unlock()
	if _, ok := handlers[action]; !ok {
		return action, p, errf(404, "InvalidAction.NotFound", "Specified api %s is not found, please check your url and method.", action)
	}
	switch v := p.get("Version"); {
	case v == "":
		return action, p, errMissingCommon("Version")
	case v != APIVersion:
		return action, p, errf(400, "InvalidVersion", "Specified parameter Version %q is not valid; ResourceManager is %s.", v, APIVersion)
	}
	if f := p.get("Format"); f != "JSON" && f != "json" {
		return action, p, errInvalid("Format", "Format %q is not supported by this server; use JSON.", f)
	}
	return action, p, s.authenticate(r.Method, p, now)
}

// wait holds an answer for the fault's delay; false when the client went
// away first.
func (s *Server) wait(r *http.Request, f *Fault) bool {
	if f.Arrived != nil {
		f.Arrived()
	}
	if f.Delay <= 0 {
		return true
	}
	t := time.NewTimer(f.Delay)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// obj is a JSON object answer.
type obj map[string]any

func (o obj) set(k string, v any) { o[k] = v }

// Start serves s on addr, which must be a loopback address such as
// "127.0.0.1:0" (the server accepts one fixed key: never expose it). It
// returns the host:port to put in the adapter's Endpoint (scheme HTTP) and a
// function that stops the listener.
func (s *Server) Start(addr string) (endpoint string, stop func(context.Context) error, err error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "", nil, fmt.Errorf("rdwire: address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return "", nil, fmt.Errorf("rdwire: address %q is not a loopback address", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("rdwire: listen %s: %w", addr, err)
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }() // returns http.ErrServerClosed after stop
	return ln.Addr().String(), srv.Shutdown, nil
}
