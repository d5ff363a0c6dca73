package rdwire

import (
	"net/url"
	"slices"
	"time"
)

// Calls returns how many requests named action have arrived, whatever
// their answer (a rejected signature, an injected fault, success).
func (s *Server) Calls(action string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[action]
}

// CallCounts returns the number of requests per action.
func (s *Server) CallCounts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.calls))
	for k, v := range s.calls {
		out[k] = v
	}
	return out
}

// TotalCalls returns the number of requests of all actions.
func (s *Server) TotalCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, v := range s.calls {
		n += v
	}
	return n
}

// SignatureFailures returns how many requests failed the signature check.
func (s *Server) SignatureFailures() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sigFails
}

// Requests returns the requests received so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.log)
}

// ResetCalls forgets the counts and the request log.
func (s *Server) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = map[string]int{}
	s.log = nil
	s.sigFails = 0
}

func (s *Server) countSignatureFailure() {
	s.mu.Lock()
	s.sigFails++
	s.mu.Unlock()
}

func (s *Server) record(action string, p params, status int, code string) {
	v := url.Values{}
	for k, val := range p {
		if k != "Signature" {
			v.Set(k, val)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	const maxLog = 10000
	if len(s.log) >= maxLog {
		s.log = slices.Delete(s.log, 0, len(s.log)-maxLog+1)
	}
	s.log = append(s.log, Request{Action: action, Params: v, Status: status, Code: code})
}

// useNonce records nonce; false when it was used within MaxSkew.
func (s *Server) useNonce(nonce string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.nonces[nonce]; ok && now.Sub(t) < MaxSkew {
		return false
	}
	if len(s.nonces) > 4096 {
		for n, t := range s.nonces {
			if now.Sub(t) >= MaxSkew {
				delete(s.nonces, n)
			}
		}
	}
	s.nonces[nonce] = now
	return true
}
