package simulation

import (
	"context"
	"sync"
	"time"

	"github.com/sase-multiaccount/backend/shared/events"
)

// change is what a successful mutation reports.
type change struct {
	changed bool               // false: nothing to save (an idempotent repeat)
	event   *events.CloudEvent // published after the save, outside the lock
	// elsewhere: the call is recorded in another account than the owner's
	// (an invitee accepting), so its event never reaches the owner's bus.
	elsewhere bool
}

// Capture collects the events of the changes made with a context from
// CaptureEvents, instead of publishing them: the local helpers' "DeliverEvent":
// false hands the event to the caller, who may deliver it later, twice or never.
type Capture struct {
	mu     sync.Mutex
	events []events.CloudEvent
}

type captureKey struct{}

// CaptureEvents returns a context under which the Sim's changes publish
// nothing; their events (also those recorded in other accounts) go to the
// returned Capture.
func CaptureEvents(ctx context.Context) (context.Context, *Capture) {
	c := &Capture{}
	return context.WithValue(ctx, captureKey{}, c), c
}

// Events returns the captured events in the order the changes were made.
func (c *Capture) Events() []events.CloudEvent {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]events.CloudEvent(nil), c.events...)
}

// update runs fn under the write lock. When fn changed the state, the
// changed records are saved before anything is returned; if the save fails
// the state is put back as it was saved last, so memory never holds a
// change the file does not. The event is published only after the lock is
// released, because a subscriber (the local event bus) may call straight
// back into the Sim.
func (s *Sim) update(ctx context.Context, fn func(st *state, now time.Time) (change, error)) error {
	ch, err := func() (change, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		ch, err := fn(s.st, s.now())
		if err != nil || !ch.changed {
			s.st.dirty = s.st.dirty[:0] // a refused call may have marked before refusing; it changed nothing
			return ch, err
		}
		if err := s.saveLocked(); err != nil {
			s.restoreLocked()
			return change{}, err
		}
		return ch, nil
	}()
	if err != nil || ch.event == nil {
		return err
	}
	// EventBridge stamps its publish time in milliseconds, after the call
	// (eventTime has whole seconds); directory-events files the records of
	// events under it.
	ev := *ch.event
	ev.AliyunPublishTime = s.opts.Now().UTC().Format("2006-01-02T15:04:05.000Z")
	if c, ok := ctx.Value(captureKey{}).(*Capture); ok {
		c.mu.Lock()
		c.events = append(c.events, ev)
		c.mu.Unlock()
		return nil
	}
	if !ch.elsewhere && s.opts.Publish != nil {
		s.opts.Publish(ev)
	}
	return nil
}

// updateDir is update for the actions that need the directory: NotFound
// when none is enabled, before fn runs.
func (s *Sim) updateDir(ctx context.Context, fn func(st *state, now time.Time) (change, error)) error {
	return s.update(ctx, func(st *state, now time.Time) (change, error) {
		if st.dir == nil {
			return change{}, errNoDirectory()
		}
		return fn(st, now)
	})
}

// readDir runs fn under the read lock; NotFound when no directory is
// enabled (every read needs one).
func (s *Sim) readDir(fn func(st *state, now time.Time) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st, now := s.st, s.now()
	if st.dir == nil {
		return errNoDirectory()
	}
	return fn(st, now)
}

func newEvent(caller, name string, params map[string]string, at time.Time) *events.CloudEvent {
	ev := events.NewActionTrailEvent(caller, name, params, at)
	return &ev
}
