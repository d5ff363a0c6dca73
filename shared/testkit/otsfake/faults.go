package otsfake

import (
	"slices"
	"time"
)

// FaultKind is what an injected fault does to a request.
type FaultKind int

const (
	// FaultError answers with Status and an otsprotocol.Error{Code, Message}
	// without applying the request.
	FaultError FaultKind = iota
	// FaultReset drops the connection (TCP reset) without applying the
	// request.
	FaultReset
	// FaultResetAfterApply applies the request, then drops the connection
	// instead of answering: the write happened but the client never learns.
	FaultResetAfterApply
	// FaultHang never answers; the request is not applied. The client gives
	// up at its request timeout.
	FaultHang
)

// Fault is an injected failure of whole requests.
type Fault struct {
	Action  string // e.g. "PutRow"; "" matches every action
	Table   string // when set, only requests naming this table (row actions)
	Kind    FaultKind
	Status  int    // FaultError: HTTP status (default 503)
	Code    string // FaultError: error code (default OTSServerBusy)
	Message string // FaultError: message (default "Server is busy.")
	// Times is how many matching requests fail; 0 means every one until
	// ClearFaults.
	Times int

	hits int
}

// Inject adds a fault. Faults are matched in the order they were added.
func (s *Server) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Kind == FaultError {
		if f.Status == 0 {
			f.Status = 503
		}
		if f.Code == "" {
			f.Code, f.Message = "OTSServerBusy", "Server is busy."
		}
	}
	s.faults = append(s.faults, &f)
}

// Codes and message of the service's answer to a request the caller's RAM
// policy does not allow (Tablestore's error codes, "Permission verification
// errors": 403, not retried).
const (
	CodeNoPermission    = "OTSNoPermissionAccess"
	MessageNoPermission = "You have no permission to access the requested resource, please contact the resource owner"
)

// Denial is the fault of a function role whose policy lacks the ots:<action>
// permission: every request for action ("" for every action) is answered
// 403 OTSNoPermissionAccess after its signature was checked, as the service
// authorizes only authenticated requests.
func Denial(action string) Fault {
	return Fault{Action: action, Kind: FaultError, Status: 403, Code: CodeNoPermission, Message: MessageNoPermission}
}

// RowFault fails one row of a BatchWriteRow (or BatchGetRow) with a per-row
// error while the other rows of the batch are applied, as the service does
// on a partial failure (HTTP 200, per-row is_ok = false).
type RowFault struct {
	Action     string // "BatchWriteRow" or "BatchGetRow"; "" matches both
	Table      string
	PrimaryKey []any // int64, string or []byte values, in key order
	Code       string
	Message    string
	Times      int // 0 = until ClearFaults
	hits       int
}

// InjectRow adds a per-row fault.
func (s *Server) InjectRow(f RowFault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Message == "" {
		f.Message = f.Code
	}
	s.rowFaults = append(s.rowFaults, &f)
}

// OnRequest sets a hook called with the action of every authenticated
// request before the server handles it (nil removes it). It runs outside
// the server's lock, so it may itself make requests: tests use it to slip
// a concurrent change between two requests of the code under test.
func (s *Server) OnRequest(hook func(action string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onRequest = hook
}

// SetLatency makes every later request take d before it is handled, like
// a call over a real network (0 removes it). Calls made in parallel wait
// in parallel; calls made one after the other add up.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// ClearFaults removes every injected fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults, s.rowFaults = nil, nil
}

// takeFault returns the first fault matching the request and uses one hit.
func (s *Server) takeFault(action string, tables []string) *Fault {
	for i, f := range s.faults {
		if (f.Action != "" && f.Action != action) || (f.Table != "" && !slices.Contains(tables, f.Table)) {
			continue
		}
		f.hits++
		if f.Times > 0 && f.hits >= f.Times {
			s.faults = slices.Delete(s.faults, i, i+1)
		}
		cp := *f
		return &cp
	}
	return nil
}

// takeRowFault returns the per-row error for a key, if one is injected.
func (s *Server) takeRowFault(action, tableName string, key []value) *opError {
	for i, f := range s.rowFaults {
		if (f.Action != "" && f.Action != action) || f.Table != tableName || !keyMatches(f.PrimaryKey, key) {
			continue
		}
		f.hits++
		if f.Times > 0 && f.hits >= f.Times {
			s.rowFaults = slices.Delete(s.rowFaults, i, i+1)
		}
		return &opError{500, f.Code, f.Message}
	}
	return nil
}

func keyMatches(want []any, key []value) bool {
	if len(want) != len(key) {
		return false
	}
	for i, w := range want {
		v := key[i]
		switch w := w.(type) {
		case int64:
			if v.t != vtInteger || v.i != w {
				return false
			}
		case int:
			if v.t != vtInteger || v.i != int64(w) {
				return false
			}
		case string:
			if v.t != vtString || v.s != w {
				return false
			}
		case []byte:
			if v.t != vtBlob || v.s != string(w) {
				return false
			}
		default:
			return false
		}
	}
	return true
}
