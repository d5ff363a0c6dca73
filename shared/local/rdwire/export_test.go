package rdwire

import "time"

// SetClock replaces the clock used to check request timestamps (the Sim
// keeps its own clock for directory data).
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	s.now = now
	s.mu.Unlock()
}
