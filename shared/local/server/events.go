package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/fc"
	"github.com/aliyun/fc-runtime-go-sdk/fccontext"

	"github.com/sase-multiaccount/backend/shared/action"
	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/endpoints"
	direvents "github.com/sase-multiaccount/backend/shared/events"
	"github.com/sase-multiaccount/backend/shared/httpapi"
)

// maxEventBody bounds what the server reads of an event or timer payload
// (EventBridge events are at most 256 KiB).
const maxEventBody = 256 << 10

// mountEvents serves the event and timer functions at POST /directory-events
// and POST /reconcile-members, without a token (in the cloud only their
// triggers can invoke them): the body is the payload exactly as EventBridge
// or the timer delivers it, and the answer is the function's JSON result,
// or 502 with FC's error shape when the function returns an error (EventBridge
// would retry). It also delivers every event the simulation publishes to
// directory-events, synchronously and through the same JSON path, which is
// what EventBridge does in the cloud: `make run` shows the whole loop. Each
// such event first drops the App's cached roles and account list, as the
// directory-events function does in a real deployment.
func (s *Server) mountEvents() {
	handlers := map[action.Action]fc.Handler{action.DirectoryEvents: fc.NewHandler(s.app.EventHandler()),
		action.DeliverWebhooks: fc.NewHandler(s.app.DeliverOnce)}
	for _, fn := range endpoints.Timers {
		handlers[fn.Action] = fc.NewHandler(s.app.TimerHandler(fn))
	}
	for name, h := range handlers {
		fn := s.invokeEvent(string(name), h)
		s.mux.HandleFunc("/"+string(name), fn)
		s.mux.HandleFunc("/"+string(name)+"/", fn)
	}

	// The simulation's own events go to a directory-events handler that reads
	// the simulation directly (see app.EventHandlerOver): the publishing call
	// may hold the SDK client's connections when DIRECTORY=resourcemanager.
	h := fc.NewHandler(s.app.EventHandlerOver(s.sim))
	a, owner := s.app, s.app.Config.OwnerAccountID
	deliver := func(ev direvents.CloudEvent) {
		// Roles may have changed; a real deployment learns this from the
		// directory-events function.
		a.Invalidate()
		payload, err := json.Marshal(ev)
		if err != nil {
			s.app.Log.Error().Err(err).Str("event_id", ev.ID).Msg("local event bus: cannot encode event")
			return
		}
		ctx := fccontext.NewContext(context.Background(),
			&fccontext.FcContext{RequestID: httpapi.NewRequestID(), AccountId: owner, Region: "local"})
		// The handler logs its outcome; a failure is what EventBridge would
		// retry, and locally reconcile-members corrects it.
		_, _ = h.Invoke(ctx, payload)
	}
	s.simEvents.Store(&deliver)
}

func (s *Server) invokeEvent(name string, h fc.Handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		reqID := httpapi.NewRequestID()
		w.Header().Set("X-Request-Id", reqID)
		if r.Method != http.MethodPost {
			writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"RequestId": reqID, "Code": string(apperr.CodeMethodNotAllowed),
				"Message": fmt.Sprintf("%s accepts POST with the event JSON as the body, not %s.", name, r.Method)})
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxEventBody))
		if err != nil {
			http.Error(w, "cannot read body", http.StatusBadRequest)
			return
		}
		ctx := fccontext.NewContext(r.Context(),
			&fccontext.FcContext{RequestID: reqID, AccountId: s.app.Config.OwnerAccountID, Region: "local"})
		out, err := h.Invoke(ctx, body)
		if err != nil {
			writeJSON(w, http.StatusBadGateway, map[string]string{"errorMessage": err.Error(), "errorType": fmt.Sprintf("%T", err)})
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(out)
	}
}

// RunHandshakeChecks runs check-handshakes every HANDSHAKE_CHECK_INTERVAL
// until ctx ends, as its timer does in the cloud: an invitee accepting
// (POST /_local/accept-invitation) sends no event to the management
// account's bus, so this is how make run notices it. 0 never runs it.
func (s *Server) RunHandshakeChecks(ctx context.Context) {
	every := s.app.Config.HandshakeCheckInterval
	if every <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.checkHandshakes(ctx, "local-ticker")
		}
	}
}

// checkHandshakes runs check-handshakes once, as its timer would; the
// handler logs its outcome.
func (s *Server) checkHandshakes(ctx context.Context, trigger string) {
	rctx := fccontext.NewContext(ctx, &fccontext.FcContext{RequestID: httpapi.NewRequestID(), Region: "local"})
	_, _ = s.app.TimerHandler(endpoints.CheckHandshakes)(rctx, []byte(`{"triggerName":"`+trigger+`"}`))
}
