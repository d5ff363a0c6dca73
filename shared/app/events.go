package app

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/fccontext"
	"github.com/rs/zerolog"

	"github.com/sase-multiaccount/backend/shared/action"
	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/auth"
	"github.com/sase-multiaccount/backend/shared/endpoints"
	"github.com/sase-multiaccount/backend/shared/events"
	"github.com/sase-multiaccount/backend/shared/usecase/dirsync"
	"github.com/sase-multiaccount/backend/shared/validate"
)

// EventHandler is the FC handler of directory-events. It takes the payload
// unparsed: were it an events.CloudEvent argument, the SDK's own decoding
// would fail on a payload that is not a JSON object, the invocation would
// fail, and EventBridge would retry garbage for nothing. Such a payload is
// acknowledged as Ignored/Malformed instead.
type EventHandler func(ctx context.Context, payload []byte) (dirsync.Summary, error)

// TimerHandler is the FC handler of a timer-triggered function. The timer
// payload ({"triggerTime","triggerName","payload"}) is only logged.
type TimerHandler func(ctx context.Context, payload []byte) (endpoints.TimerCounts, error)

// DirSync returns the directory-change service over dir (normally
// a.Directory).
func (a *App) DirSync(dir dirsync.Directory) *dirsync.Service {
	return dirsync.New(dirsync.Deps{
		Store: a.Store, Mirror: a.Store, Policies: a.Store, Generations: a.Store, Directory: dir, Roles: a, Audit: a.Recorder,
		Owner: a.Config.OwnerAccountID, ServicePrincipal: a.Config.ServicePrincipal, Now: a.Recorder.Now,
	})
}

// EventHandler returns the handler of directory-events.
func (a *App) EventHandler() EventHandler { return a.eventHandler(a.DirSync(a.Directory)) }

// TimerHandler returns the handler of fn. One service per handler, so that
// a warm instance keeps what it cached between runs (check-handshakes keeps
// the directory).
func (a *App) TimerHandler(fn endpoints.Scheduled) TimerHandler {
	svc := a.DirSync(a.Directory)
	return func(ctx context.Context, payload []byte) (endpoints.TimerCounts, error) {
		start := time.Now()
		a.Credentials.Observe(ctx)
		reqID := invocationID(ctx)
		var t dirsync.TimerEvent
		_ = json.Unmarshal(payload, &t) // any payload starts a run; it is only logged
		n, err := fn.Run(ctx, svc, reqID)
		a.logInvocation(err, false, fn.Name(), reqID, start).
			Str("trigger_name", t.TriggerName).Str("trigger_time", t.TriggerTime).
			EmbedObject(n).Msg(fn.Name())
		return n, err
	}
}

func (a *App) eventHandler(svc *dirsync.Service) EventHandler {
	var kinds unrecognisedKinds
	return func(ctx context.Context, payload []byte) (dirsync.Summary, error) {
		start := time.Now()
		a.Credentials.Observe(ctx)
		reqID := invocationID(ctx)
		var ev events.CloudEvent
		var sum dirsync.Summary
		var err error
		if derr := json.Unmarshal(payload, &ev); derr != nil {
			sum = dirsync.Summary{Result: dirsync.ResultIgnored, Reason: dirsync.ReasonMalformed,
				Message: "The payload is not a CloudEvent JSON object: " + derr.Error()}
		} else {
			sum, err = svc.HandleEvent(ctx, ev)
		}
		a.logInvocation(err, sum.Reason == dirsync.ReasonMalformed, string(action.DirectoryEvents), reqID, start).
			Str("event_id", sum.EventID).Str("event_source", validate.Clip(ev.Source)).Str("event_name", sum.EventName).
			Str("account", sum.AccountID).Str("result", sum.Result).Str("reason", sum.Reason).Str("detail", sum.Message).
			Msg(string(action.DirectoryEvents))
		if typ := validate.Clip(ev.Type); dirsync.Unrecognised(sum.Reason) && kinds.first(typ, sum.EventName) {
			// Type and eventName only: the record names people and accounts.
			a.Log.Warn().Str("event_type", typ).Str("event_name", sum.EventName).Str("reason", sum.Reason).Msg(UnrecognisedEventMessage)
		}
		return sum, err
	}
}

// UnrecognisedEventMessage is the message of the line directory-events logs,
// once per instance, for each kind (type and eventName) of event it does
// not recognise (dirsync.Unrecognised): what the EventBridge rule really
// lets through (docs/DEPLOY.md "Reading what EventBridge delivers").
const UnrecognisedEventMessage = "directory-events: unrecognised event"

// maxUnrecognisedKinds bounds the kinds one instance remembers: the type
// and eventName come from whoever invokes the function.
const maxUnrecognisedKinds = 64

// unrecognisedKinds are the kinds of unrecognised event this instance has
// logged.
type unrecognisedKinds struct {
	mu   sync.Mutex
	seen map[[2]string]bool
}

// first reports whether the kind is new to this instance (and not beyond
// maxUnrecognisedKinds), and remembers it.
func (k *unrecognisedKinds) first(typ, name string) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	key := [2]string{typ, name}
	if k.seen[key] || len(k.seen) >= maxUnrecognisedKinds {
		return false
	}
	if k.seen == nil {
		k.seen = map[[2]string]bool{}
	}
	k.seen[key] = true
	return true
}

// logInvocation starts the one log line of an event or timer invocation:
// error when the invocation fails (it is retried), warn when the input was
// unusable (acknowledged, so never retried: the log is where it shows).
func (a *App) logInvocation(err error, unusable bool, function, reqID string, start time.Time) *zerolog.Event {
	var e *zerolog.Event
	switch {
	case err != nil:
		e = a.Log.Error().Err(err).Str("outcome", "retry")
	case unusable:
		e = a.Log.Warn().Str("outcome", "acknowledged")
	default:
		e = a.Log.Info().Str("outcome", "ok")
	}
	return e.Str("function", function).Str("request_id", reqID).Dur("duration", time.Since(start))
}

func invocationID(ctx context.Context) string {
	if fctx, ok := fccontext.FromContext(ctx); ok && fctx != nil {
		return fctx.RequestID
	}
	return ""
}

// EventHandlerOver is directory-events reading dir rather than a.Directory.
// The local server delivers the simulation's own events to such a handler
// over the simulation, synchronously, from inside the simulation's call:
// with DIRECTORY=resourcemanager locally, a.Directory is the SDK client whose
// connection pool the publishing call may be holding, and going through it
// again could wait for ever.
func (a *App) EventHandlerOver(dir dirsync.Directory) EventHandler {
	return a.eventHandler(a.DirSync(dir))
}

// NoTokens is the verifier of the event and timer functions: they take no
// bearer tokens.
type NoTokens struct{}

// Verify refuses every token.
func (NoTokens) Verify(context.Context, string) (auth.Caller, error) {
	return auth.Caller{}, apperr.Unauthenticated("This function is invoked by its trigger and accepts no bearer token.")
}
