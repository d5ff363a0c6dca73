package simulation

import (
	"time"

	"github.com/sase-multiaccount/backend/shared/events"
)

// change is what a successful mutation reports.
type change struct {
	changed bool               // false: nothing to save (an idempotent repeat)
	event   *events.CloudEvent // published after the save, outside the lock
}

// update runs fn under the write lock. When fn changed the state it is saved
// before anything is returned; if the save fails the state is put back as it
// was saved last, so memory never holds a change the file does not. The
// event is published only after the lock is released, because a subscriber
// (the local event bus) may call straight back into the Sim.
func (s *Sim) update(fn func(st *state, now time.Time) (change, error)) error {
	ch, err := func() (change, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		ch, err := fn(s.st, s.now())
		if err != nil || !ch.changed {
			return ch, err
		}
		if err := s.saveLocked(); err != nil {
			s.restoreLocked()
			return change{}, err
		}
		return ch, nil
	}()
	if err != nil {
		return err
	}
	if ch.event != nil && s.opts.Publish != nil {
		// EventBridge stamps its publish time in milliseconds, after the
		// call (eventTime has whole seconds); directory-events files the
		// records of events under it.
		ev := *ch.event
		ev.AliyunPublishTime = s.opts.Now().UTC().Format("2006-01-02T15:04:05.000Z")
		s.opts.Publish(ev)
	}
	return nil
}

// updateDir is update for the actions that need the directory: NotFound
// when none is enabled, before fn runs.
func (s *Sim) updateDir(fn func(st *state, now time.Time) (change, error)) error {
	return s.update(func(st *state, now time.Time) (change, error) {
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
