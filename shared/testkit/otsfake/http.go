package otsfake

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/golang/protobuf/proto"
)

func (s *Server) now() int64 { return s.opts.Now().UnixMilli() }

func (s *Server) requestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ServeHTTP implements http.Handler: it checks and decodes the request,
// applies an injected fault if one matches, runs the action and answers.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	action := strings.TrimPrefix(r.URL.Path, "/")
	s.mu.Lock()
	s.counts[action]++
	s.mu.Unlock()
	w.Header().Set("x-ots-requestid", s.requestID())
	w.Header().Set("x-ots-date", time.Now().UTC().Format("2006-01-02T15:04:05.000Z"))

	h, req, oe := s.decodeRequest(r, action)
	if oe != nil {
		writeError(w, oe)
		return
	}
	s.simulateCall(action)
	s.mu.Lock()
	fault := s.takeFault(action, tablesOf(req))
	s.mu.Unlock()
	if fault != nil && serveFault(w, r, fault) {
		return
	}
	s.mu.Lock()
	resp, oe := h.run(s, req)
	s.mu.Unlock()
	if fault != nil && fault.Kind == FaultResetAfterApply {
		reset(w)
		return
	}
	if oe != nil {
		writeError(w, oe)
		return
	}
	writeResponse(w, resp)
}

// decodeRequest reads and checks a request the way the service does (POST,
// signature and headers, a known action, a well-formed protobuf body) and
// returns the action's handler and decoded request.
func (s *Server) decodeRequest(r *http.Request, action string) (handler, proto.Message, *opError) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return handler{}, nil, &opError{400, "OTSParameterInvalid", "cannot read request body: " + err.Error()}
	}
	if r.Method != http.MethodPost {
		return handler{}, nil, &opError{405, "OTSMethodNotAllowed", "Only POST is supported."}
	}
	if oe := s.authenticate(r, action, body); oe != nil {
		return handler{}, nil, oe
	}
	h, ok := handlers[action]
	if !ok {
		return handler{}, nil, &opError{400, "OTSUnsupportOperation", fmt.Sprintf("Unsupported operation: '%s'.", action)}
	}
	req := h.newReq()
	if err := proto.Unmarshal(body, req); err != nil {
		return handler{}, nil, errParam("Failed to parse the ProtoBuf message: %v", err)
	}
	return h, req, nil
}

// simulateCall runs the OnRequest hook and waits the SetLatency delay, the
// simulated network and service time of one call (so a test can count
// round trips on the clock).
func (s *Server) simulateCall(action string) {
	s.mu.Lock()
	hook, latency := s.onRequest, s.latency
	s.mu.Unlock()
	if hook != nil {
		hook(action)
	}
	if latency > 0 {
		time.Sleep(latency)
	}
}

// serveFault answers with an injected fault that replaces the action (an
// error, a reset, a hang) and reports whether it did; a reset after apply
// is left to the caller.
func serveFault(w http.ResponseWriter, r *http.Request, fault *Fault) bool {
	switch fault.Kind {
	case FaultError:
		writeError(w, &opError{fault.Status, fault.Code, fault.Message})
	case FaultReset:
		reset(w)
	case FaultHang:
		<-r.Context().Done() // the client gave up
	default:
		return false
	}
	return true
}

// writeResponse sends a successful answer with its body MD5.
func writeResponse(w http.ResponseWriter, resp proto.Message) {
	out, err := proto.Marshal(resp)
	if err != nil {
		// A response that does not marshal (a required field unset) is a
		// bug in the fake; fail loudly instead of sending half a message.
		writeError(w, &opError{500, "OTSInternalServerError", "otsfake: " + err.Error()})
		return
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.Header().Set("x-ots-contentmd5", md5b64(out))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
}

// reset drops the connection with a TCP RST, so the client sees
// "connection reset by peer" (or EOF) and no response.
func reset(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("otsfake: response writer cannot hijack")
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

func writeError(w http.ResponseWriter, oe *opError) {
	b, _ := proto.Marshal(oe.pbError())
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.WriteHeader(oe.status)
	_, _ = w.Write(b)
}

func md5b64(b []byte) string {
	sum := md5.Sum(b)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// authenticate checks the headers the SDK signs: API version, instance, date, body MD5, access key, STS token and the
// HMAC-SHA1 signature over "/Action\nPOST\n\n" plus every x-ots-* header but
// the signature, sorted by name.
func (s *Server) authenticate(r *http.Request, action string, body []byte) *opError {
	authFail := func(format string, args ...any) *opError {
		return &opError{403, "OTSAuthFailed", fmt.Sprintf(format, args...)}
	}
	for _, h := range []string{"x-ots-date", "x-ots-apiversion", "x-ots-accesskeyid", "x-ots-contentmd5", "x-ots-instancename", "x-ots-signature"} {
		if r.Header.Get(h) == "" {
			return &opError{400, "OTSMissingHeader", fmt.Sprintf("Missing header: '%s'.", h)}
		}
	}
	if v := r.Header.Get("x-ots-apiversion"); v != "2015-12-31" {
		return &opError{400, "OTSUnsupportedAPIVersion", fmt.Sprintf("API version %s is not supported.", v)}
	}
	if v := r.Header.Get("x-ots-instancename"); v != s.opts.Instance {
		return authFail("Request denied because instance %s does not exist or does not belong to you.", v)
	}
	// The SDK's date layout has a bug: only the first 19
	// characters are a time; the "fraction" is month, day and hour.
	date := r.Header.Get("x-ots-date")
	if len(date) < 19 {
		return authFail("Invalid date: %s.", date)
	}
	t, err := time.Parse("2006-01-02T15:04:05", date[:19])
	if err != nil {
		return authFail("Invalid date: %s.", date)
	}
	if d := time.Since(t); d > 15*time.Minute || d < -15*time.Minute {
		return authFail("Mismatch between the request time and the server time is greater than 15 minutes.")
	}
	if r.Header.Get("x-ots-contentmd5") != md5b64(body) {
		return authFail("Mismatch between MD5 value of request body and x-ots-contentmd5 in header.")
	}
	s.mu.Lock()
	cred, ok := s.creds[r.Header.Get("x-ots-accesskeyid")]
	s.mu.Unlock()
	if !ok {
		return authFail("The AccessKeyID does not exist or is disabled.")
	}
	if cred.token != "" && r.Header.Get("x-ots-ststoken") != cred.token {
		return authFail("The security token you provided is invalid or expired.")
	}
	if want := Sign(cred.secret, action, r.Header); r.Header.Get("x-ots-signature") != want {
		return authFail("Signature mismatch.")
	}
	return nil
}

// Sign computes the request signature the service expects for the headers
// (exported for tests that hand-craft requests).
func Sign(secret, action string, h http.Header) string {
	var names []string
	for name := range h {
		l := strings.ToLower(name)
		if strings.HasPrefix(l, "x-ots-") && l != "x-ots-signature" {
			names = append(names, l)
		}
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("/" + action + "\nPOST\n\n")
	for _, n := range names {
		b.WriteString(n + ":" + strings.TrimSpace(h.Get(n)) + "\n")
	}
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func unmarshal(b []byte, m proto.Message) error { return proto.Unmarshal(b, m) }

func marshal(m proto.Message) ([]byte, error) { return proto.Marshal(m) }
