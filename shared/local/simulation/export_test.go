package simulation

// Writes reports how many times the state file was saved, so tests can
// check that a bulk change is one write.
func (s *Sim) Writes() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.writes
}
