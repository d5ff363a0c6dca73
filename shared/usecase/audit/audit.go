// Package audit records who changed what, and lists the trail. Every state
// change of the bundle goes through Recorder.Record after it is applied.
package audit

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/sase-multiaccount/backend/shared/action"
	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/pagetoken"
	"github.com/sase-multiaccount/backend/shared/port/store"
	"github.com/sase-multiaccount/backend/shared/validate"
)

// Actor is who caused a change: a verified caller with its role, or the
// system (events, reconciliation).
type Actor struct {
	AccountID string
	Principal string
	Role      string
	RequestID string
	// The person (docs/API.md "People"); empty for the system.
	UserID, UserName, AccessRole string
}

// record is the audit record of e made by a at the time at.
func (a Actor) record(dirID string, e Entry, at time.Time) store.AuditEvent {
	id := e.ID
	if id == "" {
		id = NewID(at)
	}
	return store.AuditEvent{DirectoryID: dirID, ID: id, Time: at,
		ActorAccountID: a.AccountID, ActorPrincipal: a.Principal, ActorRole: a.Role,
		ActorUserID: a.UserID, ActorUserName: a.UserName, ActorAccessRole: a.AccessRole, RequestID: a.RequestID,
		Action: string(e.Action), Target: e.Target, Result: e.Result, Detail: e.Detail}
}

// NewID returns a unique ID that sorts by time: 13-digit Unix ms, a sequence
// number that keeps IDs from one instance in order within a millisecond, and
// random bytes so IDs from different instances never collide.
func NewID(t time.Time) string {
	ms := t.UnixMilli()
	idMu.Lock()
	if ms <= idLastMs {
		ms = idLastMs // never go back, even if the clock does
		idSeq++
	} else {
		idLastMs, idSeq = ms, 0
	}
	seq := idSeq
	idMu.Unlock()
	var b [5]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%013d-%06x-%s", ms, seq&0xffffff, hex.EncodeToString(b[:]))
}

// EventRecordID is the audit ID of the record of an event: its time (so it
// sorts with the others) and a digest of its key (source and id).
func EventRecordID(t time.Time, key string) string {
	sum := sha256.Sum256([]byte(key))
	return fmt.Sprintf("%013d-ev%04x-%s", t.UnixMilli(), 0, hex.EncodeToString(sum[:5]))
}

var (
	idMu     sync.Mutex
	idLastMs int64
	idSeq    uint32
)

// Store is what auditing needs from the store.
type Store interface {
	AppendAudit(ctx context.Context, events []store.AuditEvent) error
	ListAudit(ctx context.Context, dirID string, limit int, before string) ([]store.AuditEvent, bool, error)
	ListAuditByTarget(ctx context.Context, dirID, target string, limit int, before string) ([]store.AuditEvent, bool, error)
}

// Recorder writes audit events.
type Recorder struct {
	Store Store
	Now   func() time.Time
	Log   zerolog.Logger
}

// Entry is one change to record.
type Entry struct {
	// ID, when set, is the record's ID instead of a new one: a record of a
	// directory event has an ID derived from the event (EventRecordID), so
	// that a redelivery writes the same record again, not a second one.
	ID     string
	Action action.Action
	Target string
	Result string
	Detail map[string]string
}

// Record appends one event per entry, all stamped with the same actor. The
// change they describe is already applied, so a failure must not vanish: the
// events are logged in full at error level (an operator can replay them from
// the log store) and the error says the change itself succeeded.
func (r *Recorder) Record(ctx context.Context, dirID string, actor Actor, entries ...Entry) error {
	if len(entries) == 0 {
		return nil
	}
	now := r.Now().UTC()
	evs := make([]store.AuditEvent, len(entries))
	for i, e := range entries {
		evs[i] = actor.record(dirID, e, now)
	}
	err := r.Store.AppendAudit(ctx, evs)
	if err == nil {
		return nil
	}
	for _, ev := range evs {
		r.Log.Error().Err(err).Str("audit_directory", ev.DirectoryID).Str("audit_id", ev.ID).
			Str("audit_action", ev.Action).Str("audit_target", ev.Target).Str("audit_result", ev.Result).
			Str("audit_actor", ev.ActorAccountID).Str("audit_role", ev.ActorRole).Interface("audit_detail", ev.Detail).
			Msg("audit record not stored; the change it describes was applied")
	}
	if e, ok := apperr.As(err); ok && (e.Kind == apperr.KindUnavailable || e.Kind == apperr.KindThrottled) {
		return apperr.Wrap(err, e.Kind, e.Code,
			"The change was applied, but its audit record could not be stored (it was logged instead). Do not repeat the request.")
	}
	return fmt.Errorf("append audit: %w", err)
}

// Event is an audit event as list-audit-events returns it.
type Event struct {
	Time           string
	ActorAccountID string `json:"ActorAccountId"`
	ActorPrincipal string
	ActorRole      string
	// The person who made the change; empty in System records and in
	// records written before people were known.
	ActorUserID     string `json:"ActorUserId"`
	ActorUserName   string
	ActorAccessRole string
	Action          string
	Target          string
	Result          string
	RequestID       string            `json:"RequestId"`
	Detail          map[string]string `json:",omitempty"`
}

// ListInput is the query of list-audit-events.
type ListInput struct {
	Target     string // an account UID: its timeline only
	MaxResults string
	NextToken  string
}

// ListOutput is the answer of list-audit-events.
type ListOutput struct {
	Events    []Event
	NextToken string `json:",omitempty"`
}

// Lister serves list-audit-events.
type Lister struct {
	Store  Store
	Tokens *pagetoken.Codec
}

type auditPosition struct {
	Before string `json:"b"`
}

// List returns a page of the directory's trail, newest first.
func (l *Lister) List(ctx context.Context, dirID string, in ListInput) (ListOutput, error) {
	limit, err := validate.MaxResults(in.MaxResults, 20, 100)
	if err != nil {
		return ListOutput{}, err
	}
	if in.Target != "" {
		if err := validate.AccountID("Target", in.Target); err != nil {
			return ListOutput{}, err
		}
	}
	binding := "audit|" + dirID + "|" + in.Target
	var pos auditPosition
	if in.NextToken != "" {
		if err := l.Tokens.Decode(in.NextToken, binding, &pos); err != nil {
			return ListOutput{}, err
		}
	}
	var evs []store.AuditEvent
	var more bool
	if in.Target == "" {
		evs, more, err = l.Store.ListAudit(ctx, dirID, limit, pos.Before)
	} else {
		evs, more, err = l.Store.ListAuditByTarget(ctx, dirID, in.Target, limit, pos.Before)
	}
	if err != nil {
		return ListOutput{}, fmt.Errorf("list audit: %w", err)
	}
	out := ListOutput{Events: make([]Event, len(evs))}
	for i, e := range evs {
		out.Events[i] = Event{
			Time: FormatTime(e.Time), ActorAccountID: e.ActorAccountID, ActorPrincipal: e.ActorPrincipal, ActorRole: e.ActorRole,
			ActorUserID: e.ActorUserID, ActorUserName: e.ActorUserName, ActorAccessRole: e.ActorAccessRole,
			Action: e.Action, Target: e.Target, Result: e.Result,
			RequestID: e.RequestID, Detail: e.Detail,
		}
	}
	if more && len(evs) > 0 {
		out.NextToken = l.Tokens.Encode(binding, auditPosition{Before: evs[len(evs)-1].ID})
	}
	return out, nil
}

// FormatTime renders API times: RFC 3339 UTC, to the second as API.md shows.
func FormatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// Itoa is strconv.Itoa for Detail values.
func Itoa(n int64) string { return strconv.FormatInt(n, 10) }

// With is the record of each change a store call applies, stamped with
// actor: the store writes it in the same unit as the change (see
// store.AuditOf), so no change is left without its record.
func (r *Recorder) With(dirID string, actor Actor, entry func(before, after store.Member) Entry) store.AuditOf {
	return func(before, after store.Member) store.AuditEvent {
		return actor.record(dirID, entry(before, after), r.Now().UTC())
	}
}

// Event is the record of one change by actor, now (a change whose store
// call takes its record whole: the enrollment policy, a grant).
func (r *Recorder) Event(dirID string, actor Actor, e Entry) store.AuditEvent {
	return actor.record(dirID, e, r.Now().UTC())
}
