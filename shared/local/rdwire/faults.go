package rdwire

import (
	"net/http"
	"slices"
	"time"
)

// Fault changes how the server answers matching calls. A matching call
// takes the first fault with uses left: it waits Delay (stopping early if
// the client goes away), then answers with the error if Code or Status is
// set, or normally otherwise. Faults apply to authenticated calls only.
type Fault struct {
	Action  string        // RD action, e.g. "ListAccounts"; "" matches every action
	Times   int           // number of calls affected; 0 = until ClearFaults
	Status  int           // HTTP status; 0 with a Code means 400
	Code    string        // RD error code, e.g. "Throttling.User"
	Message string        // error message; a default when empty
	Body    string        // raw (non-JSON) error body, e.g. a gateway's HTML page
	Delay   time.Duration // answer this late
	// Arrived, when set, is called when a matching call arrives, before the
	// delay (tests use it to act while a call is in flight).
	Arrived func()

	used int
}

// Throttle makes the next times calls of action answer 400 Throttling.User.
func Throttle(action string, times int) Fault {
	return Fault{Action: action, Times: times, Status: 400, Code: "Throttling.User",
		Message: "Request was denied due to user flow control."}
}

// Unavailable makes the next times calls of action answer 503 ServiceUnavailable.
func Unavailable(action string, times int) Fault {
	return Fault{Action: action, Times: times, Status: 503, Code: "ServiceUnavailable",
		Message: "The request has failed due to a temporary failure of the server."}
}

// Fail makes the next times calls of action answer status with code.
func Fail(action string, times, status int, code string) Fault {
	return Fault{Action: action, Times: times, Status: status, Code: code}
}

// ConcurrentCall makes the next times calls of action answer 429
// ConcurrentCallNotSupported, RD's refusal of a write while another change
// to the directory is in progress (documented, with this message, for
// writes of ResourceDirectoryMaster 2022-04-19).
func ConcurrentCall(action string, times int) Fault {
	return Fault{Action: action, Times: times, Status: 429, Code: "ConcurrentCallNotSupported",
		Message: "The operation conflicts with other operations. Please try again later."}
}

// Slow makes the next times calls of action answer after delay.
func Slow(action string, times int, delay time.Duration) Fault {
	return Fault{Action: action, Times: times, Delay: delay}
}

// Inject adds a fault after the ones already queued.
func (s *Server) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f.used = 0
	s.faults = append(s.faults, &f)
}

// ClearFaults removes every fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	s.faults = nil
	s.mu.Unlock()
}

// answer is the fault's error answer; nil when it only delays.
func (f *Fault) answer() *rpcError {
	if f.Code == "" && f.Status == 0 && f.Body == "" {
		return nil
	}
	e := &rpcError{Status: f.Status, Code: f.Code, Message: f.Message, Body: f.Body}
	if e.Status == 0 {
		e.Status = 400
	}
	if e.Code == "" && e.Body == "" {
		e.Code = http.StatusText(e.Status)
	}
	if e.Message == "" {
		e.Message = "Injected fault: " + e.Code
	}
	return e
}

func (s *Server) takeFault(action string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.Action != "" && f.Action != action {
			continue
		}
		f.used++
		cp := *f
		if f.Times > 0 && f.used >= f.Times {
			s.faults = slices.Delete(s.faults, i, i+1)
		}
		return &cp
	}
	return nil
}
