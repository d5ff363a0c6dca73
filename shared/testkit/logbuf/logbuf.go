// Package logbuf is a log sink for tests: loggers write to it from several
// goroutines while the test reads what they wrote.
package logbuf

import (
	"strings"
	"sync"
)

// Buffer is a goroutine-safe strings.Builder.
type Buffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String is everything written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
