package otsfake

var readActions = map[string]bool{
	"GetRow": true, "GetRange": true, "BatchGetRow": true, "DescribeTable": true, "ListTable": true,
}

var writeActions = map[string]bool{
	"PutRow": true, "UpdateRow": true, "DeleteRow": true, "BatchWriteRow": true,
}

// Count returns how many requests for action reached the server (every
// HTTP request, retries and failed ones included).
func (s *Server) Count(action string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[action]
}

// Counts returns a copy of the per-action request counts.
func (s *Server) Counts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.counts))
	for k, v := range s.counts {
		out[k] = v
	}
	return out
}

// Reads is the number of row and table read requests (GetRow, GetRange,
// BatchGetRow, DescribeTable, ListTable).
func (s *Server) Reads() int { return s.sum(readActions) }

// Writes is the number of row write requests (PutRow, UpdateRow,
// DeleteRow, BatchWriteRow).
func (s *Server) Writes() int { return s.sum(writeActions) }

func (s *Server) sum(set map[string]bool) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for a, c := range s.counts {
		if set[a] {
			n += c
		}
	}
	return n
}

// ResetCounts zeroes the request counts.
func (s *Server) ResetCounts() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.counts)
}
