package dirsync

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sase-multiaccount/backend/shared/action"
	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/events"
	"github.com/sase-multiaccount/backend/shared/port/directory"
	"github.com/sase-multiaccount/backend/shared/port/store"
	"github.com/sase-multiaccount/backend/shared/usecase/audit"
	"github.com/sase-multiaccount/backend/shared/validate"
)

// ResourceManager API calls (ActionTrail eventName) the function acts on.
const (
	EventRemoveCloudAccount  = "RemoveCloudAccount"
	EventDeleteAccount       = "DeleteAccount"
	EventUpdateAccount       = "UpdateAccount"
	EventRegisterDelegated   = "RegisterDelegatedAdministrator"
	EventDeregisterDelegated = "DeregisterDelegatedAdministrator"
	EventDestroyDirectory    = "DestroyResourceDirectory"
)

// HandledEvents lists the eventName values acted on, for the EventBridge rule.
var HandledEvents = []string{
	EventRemoveCloudAccount, EventDeleteAccount, EventUpdateAccount,
	EventRegisterDelegated, EventDeregisterDelegated, EventDestroyDirectory,
}

// Envelope types of ActionTrail records of API calls (research: the product
// prefix of RD's type is UNCONFIRMED, so only the suffix is checked).
var actionTrailTypes = []string{":ActionTrail:ApiCall", ":ActionTrail:ConsoleOperation"}

// RulePattern is the EventBridge event pattern of the directory-events
// trigger: ActionTrail API-call records of the ResourceManager calls in
// HandledEvents from source acs.resourcemanager (pinned: the handler refuses
// any other source as well), and failed calls are filtered by the function
// (errorCode), not by the rule.
func RulePattern() string {
	type suffix struct {
		Suffix string `json:"suffix"`
	}
	var types []suffix
	for _, t := range actionTrailTypes {
		types = append(types, suffix{t})
	}
	p := map[string]any{
		"source": []string{events.SourceResourceManager},
		"type":   types,
		"data":   map[string][]string{"serviceName": {events.ServiceResourceManager}, "eventName": HandledEvents},
	}
	b, _ := json.Marshal(p) // cannot fail: strings only
	return string(b)
}

// Results of one event (Summary.Result).
const (
	ResultRemoved      = "Removed"      // the member left SASE with its account
	ResultRenamed      = "Renamed"      // AccountName refreshed
	ResultRegistered   = "Registered"   // SASE delegated administrator registered: roles invalidated
	ResultDeregistered = "Deregistered" // SASE delegated administrator deregistered: roles invalidated
	ResultDestroyed    = "Destroyed"    // the directory is gone: roles invalidated
	ResultNoChange     = "NoChange"     // ours, but SASE already reflects it (Reason says why)
	ResultDuplicate    = "Duplicate"    // source+id processed before
	ResultIgnored      = "Ignored"      // not ours or unusable; acknowledged (Reason says why)
)

// An event is a hint, never proof (docs/DESIGN.md "Events"): before acting,
// the handler reads the truth from Resource Directory, so that a forged or
// replayed event changes nothing RD does not confirm. Extra RD calls per
// event: a removal or a rename, one GetAccount; a delegated-administrator
// event, one ListDelegatedAdministrators.

// Reasons of NoChange and Ignored (Summary.Reason).
const (
	ReasonMalformed        = "Malformed"               // not a CloudEvent with a usable ActionTrail record
	ReasonNotAPICall       = "NotActionTrailApiCall"   // another kind of event
	ReasonOtherService     = "OtherService"            // serviceName is not ResourceManager
	ReasonFailedCall       = "FailedCall"              // the recorded API call failed (errorCode set)
	ReasonUnhandled        = "UnhandledEvent"          // a ResourceManager call SASE does not follow
	ReasonOtherPrincipal   = "OtherServicePrincipal"   // delegated administrator of another trusted service
	ReasonNoDisplayName    = "NoDisplayName"           // UpdateAccount without NewDisplayName
	ReasonNoDirectory      = "NoDirectory"             // no directory exists (any more)
	ReasonOtherDirectory   = "OtherDirectory"          // the caller is not our directory's management account
	ReasonNotMember        = "NotMember"               // the account is not a SASE member
	ReasonAddedAfterEvent  = "MemberAddedAfterEvent"   // stale removal: the member was added after it
	ReasonNewerName        = "NewerNameKnown"          // stale rename: a newer name was observed
	ReasonSameName         = "SameName"                // the member already has this name
	ReasonDirectoryExists  = "DirectoryStillExists"    // destroy recorded, but the directory still answers
	ReasonDirectoryCreated = "DirectoryRecreated"      // stale destroy: the current directory is newer
	ReasonUntrustedSource  = "UntrustedSource"         // source is not acs.resourcemanager
	ReasonStillInDirectory = "StillInDirectory"        // removal not confirmed: RD still lists the account
	ReasonNotConfirmed     = "NotConfirmedByDirectory" // RD does not show what the event says
)

// Summary is what directory-events returns for one event.
type Summary struct {
	EventId   string `json:",omitempty"`
	EventName string `json:",omitempty"`
	AccountId string `json:",omitempty"`
	Result    string
	Reason    string `json:",omitempty"`
	Message   string `json:",omitempty"`
}

// maxIDLen bounds source and id: together they are a store key.
const maxIDLen = 256

// maxClockSkew is how far in the future an eventTime may lie. A rename stamped
// far ahead would otherwise pin its name against every later rename.
const maxClockSkew = 5 * time.Minute

// call is a validated ActionTrail record of a handled ResourceManager call.
type call struct {
	key       string // source|id
	id        string
	source    string
	name      string    // eventName
	rawTime   string    // eventTime as sent
	upper     time.Time // the call happened before this (eventTime + its precision)
	pos       time.Time // where the event's own audit record sorts (see recordTime)
	caller    string    // userIdentity.accountId (the envelope's account when absent)
	principal string    // userIdentity.userName or principalId
	account   string    // requestParameters.AccountId
	newName   string    // requestParameters.NewDisplayName
	svc       string    // requestParameters.ServicePrincipal
}

// HandleEvent processes one CloudEvent. It returns an error only when the
// store or the directory failed, so that EventBridge retries. Everything
// else, including unusable input, is acknowledged with a Summary.
//
// Exactly-once effect: the event is marked processed only after its effect,
// and every effect is idempotent (a member change and its audit record are
// one unit in the store; a record without a change has an ID derived from
// the event). An instance that dies mid-event leaves no mark, so
// EventBridge's redelivery does the work; one that dies after the effect
// leaves work that the redelivery finds done.
func (s *Service) HandleEvent(ctx context.Context, ev events.CloudEvent) (Summary, error) {
	sum := Summary{EventId: clip(ev.ID)}
	c, reason, msg := s.parse(ev)
	if reason != "" {
		sum.EventName, sum.Result, sum.Reason, sum.Message = clip(c.name), ResultIgnored, reason, msg
		return sum, nil
	}
	sum.EventId, sum.EventName, sum.AccountId = ev.ID, c.name, c.account

	done, err := s.Store.EventProcessed(ctx, c.key)
	if err != nil {
		return sum, fmt.Errorf("directory event %s: %w", c.key, err)
	}
	if done {
		sum.Result = ResultDuplicate
		sum.Message = "This event (source and id) was processed before; nothing was changed."
		return sum, nil
	}
	out, err := s.apply(ctx, c, sum)
	if err != nil {
		return out, fmt.Errorf("directory event %s (%s): %w", c.key, c.name, err)
	}
	if err := s.Store.MarkEventProcessed(ctx, c.key, s.now().Add(s.dedupTTL())); err != nil {
		// The effect is done; a redelivery finds it done and changes nothing.
		return out, fmt.Errorf("directory event %s: mark processed: %w", c.key, err)
	}
	return out, nil
}

func (s *Service) apply(ctx context.Context, c call, sum Summary) (Summary, error) {
	switch c.name {
	case EventRemoveCloudAccount, EventDeleteAccount:
		return s.remove(ctx, c, sum)
	case EventUpdateAccount:
		return s.rename(ctx, c, sum)
	case EventRegisterDelegated, EventDeregisterDelegated:
		return s.delegated(ctx, c, sum)
	default: // EventDestroyDirectory; parse lets nothing else through
		return s.destroyed(ctx, c, sum)
	}
}

// ---- the changes -------------------------------------------------------------

func (s *Service) actor(c call) audit.Actor {
	return audit.Actor{AccountID: c.caller, Principal: c.principal, Role: systemRole, RequestID: c.id}
}

func (c call) detail(kv ...string) map[string]string {
	d := map[string]string{"EventId": c.id, "EventName": c.name, "EventSource": c.source, "EventTime": c.rawTime}
	for i := 0; i+1 < len(kv); i += 2 {
		d[kv[i]] = kv[i+1]
	}
	return d
}

// current returns the directory; ok is false when none exists.
func (s *Service) current(ctx context.Context) (d directory.Directory, ok bool, err error) {
	d, err = s.Directory.GetDirectory(ctx)
	if apperr.IsCode(err, apperr.CodeNoDirectory) {
		return directory.Directory{}, false, nil
	}
	if err != nil {
		return directory.Directory{}, false, fmt.Errorf("get directory: %w", err)
	}
	return d, true, nil
}

// ours returns the directory the event is about, or the Summary that says
// why it is not ours.
func (s *Service) ours(ctx context.Context, c call, sum Summary) (directory.Directory, *Summary, error) {
	d, ok, err := s.current(ctx)
	if err != nil {
		return d, nil, err
	}
	if !ok {
		sum.Result, sum.Reason = ResultNoChange, ReasonNoDirectory
		sum.Message = "No Resource Directory exists; there is nothing to update."
		return d, &sum, nil
	}
	if c.caller != d.ManagementAccountID {
		sum.Result, sum.Reason = ResultIgnored, ReasonOtherDirectory
		sum.Message = fmt.Sprintf("The call was made by account %s, not by %s, the management account of directory %s.",
			c.caller, d.ManagementAccountID, d.ID)
		return d, &sum, nil
	}
	return d, nil, nil
}

// member returns the member row, or the Summary when there is none.
func (s *Service) member(ctx context.Context, d directory.Directory, c call, sum Summary) (store.Member, *Summary, error) {
	m, err := s.Store.GetMember(ctx, d.ID, c.account)
	if apperr.IsCode(err, apperr.CodeMemberNotFound) {
		sum.Result, sum.Reason = ResultNoChange, ReasonNotMember
		sum.Message = fmt.Sprintf("Account %s is not a SASE member of directory %s.", c.account, d.ID)
		return m, &sum, nil
	}
	if err != nil {
		return m, nil, fmt.Errorf("get member: %w", err)
	}
	return m, nil, nil
}

// remove: the account left the directory, so it leaves SASE.
func (s *Service) remove(ctx context.Context, c call, sum Summary) (Summary, error) {
	d, done, err := s.ours(ctx, c, sum)
	if err != nil || done != nil {
		return orSum(done, sum), err
	}
	m, done, err := s.member(ctx, d, c, sum)
	if err != nil || done != nil {
		return orSum(done, sum), err
	}
	if !m.AddTime.Before(c.upper) {
		// The account left, came back and was added again after this
		// event: the event is older than the member.
		sum.Result, sum.Reason = ResultNoChange, ReasonAddedAfterEvent
		sum.Message = fmt.Sprintf("Member %s was added at %s, after this %s at %s.",
			c.account, audit.FormatTime(m.AddTime), c.name, c.rawTime)
		return sum, nil
	}
	// The hint: does RD still list the account?
	if _, err := s.Directory.GetAccount(ctx, c.account); err == nil {
		sum.Result, sum.Reason = ResultNoChange, ReasonStillInDirectory
		sum.Message = fmt.Sprintf("Resource Directory still lists account %s; the member stays.", c.account)
		return sum, nil
	} else if !apperr.IsCode(err, apperr.CodeAccountNotFound) {
		return sum, fmt.Errorf("confirm removal: %w", err)
	}
	record := s.Audit.With(d.ID, s.actor(c), func(m, _ store.Member) audit.Entry {
		return audit.Entry{Action: action.DirectoryEvents, Target: c.account, Result: ResultRemoved,
			Detail: c.detail("AccountName", m.AccountName, "Remark", m.Remark, "Reason", "LeftResourceDirectory")}
	})
	res, err := s.Store.DeleteMembers(ctx, d.ID, []string{c.account}, record)
	if err != nil {
		return sum, fmt.Errorf("delete member: %w", err)
	}
	if len(res) != 1 {
		return sum, apperr.Internal(fmt.Errorf("delete member: %d results for 1 account", len(res)))
	}
	switch r := res[0]; r.Status {
	case store.Deleted:
		m = r.Member
	case store.NotFound: // removed meanwhile (delete-members, reconciliation, a twin event)
		sum.Result, sum.Reason = ResultNoChange, ReasonNotMember
		sum.Message = fmt.Sprintf("Account %s was removed from SASE meanwhile.", c.account)
		return sum, nil
	default:
		return sum, fmt.Errorf("delete member: %w", r.Err)
	}
	if err := s.invalidate(ctx); err != nil { // the account is no longer a member of the directory
		return sum, err
	}
	sum.Result = ResultRemoved
	return sum, nil
}

// rename: the account's display name changed.
func (s *Service) rename(ctx context.Context, c call, sum Summary) (Summary, error) {
	d, done, err := s.ours(ctx, c, sum)
	if err != nil || done != nil {
		return orSum(done, sum), err
	}
	m, done, err := s.member(ctx, d, c, sum)
	if err != nil || done != nil {
		return orSum(done, sum), err
	}
	// The store keeps the newest observation. The rename happened before
	// upper (eventTime plus its precision: ActionTrail writes seconds), so
	// the name holds as of upper; a member added at or after upper read it
	// already, one added earlier in the same second did not.
	asOf := c.upper
	// The hint: the name is the one RD reports now, not the event's.
	acc, err := s.Directory.GetAccount(ctx, c.account)
	if apperr.IsCode(err, apperr.CodeAccountNotFound) {
		sum.Result, sum.Reason = ResultNoChange, ReasonNotConfirmed
		sum.Message = fmt.Sprintf("Resource Directory does not list account %s; its name is not changed.", c.account)
		return sum, nil
	}
	if err != nil {
		return sum, fmt.Errorf("confirm rename: %w", err)
	}
	if acc.DisplayName != c.newName {
		sum.Result, sum.Reason = ResultNoChange, ReasonNotConfirmed
		sum.Message = fmt.Sprintf("Resource Directory names account %s %q, not %q; the event is not confirmed.", c.account, acc.DisplayName, c.newName)
		return sum, nil
	}
	record := s.Audit.With(d.ID, s.actor(c), func(before, after store.Member) audit.Entry {
		return audit.Entry{Action: action.DirectoryEvents, Target: c.account, Result: ResultRenamed,
			Detail: c.detail("OldName", before.AccountName, "NewName", after.AccountName)}
	})
	changed, err := s.Store.RenameMember(ctx, d.ID, c.account, c.newName, asOf, record)
	if err != nil {
		return sum, fmt.Errorf("rename member: %w", err)
	}
	if !changed {
		sum.Result, sum.Reason = ResultNoChange, ReasonSameName
		sum.Message = fmt.Sprintf("Member %s is already named %q.", c.account, c.newName)
		if !asOf.After(m.NameTime) {
			sum.Reason = ReasonNewerName
			sum.Message = fmt.Sprintf("Member %s's name was observed at %s, after this rename at %s; the newer name stays.",
				c.account, m.NameTime.UTC().Format(time.RFC3339Nano), c.rawTime)
		}
		return sum, nil
	}
	sum.Result = ResultRenamed
	return sum, nil
}

// delegated: SASE's delegated administrator changed; roles are re-resolved
// from the directory, so the order of such events does not matter.
func (s *Service) delegated(ctx context.Context, c call, sum Summary) (Summary, error) {
	d, done, err := s.ours(ctx, c, sum)
	if err != nil {
		return sum, err
	}
	if err := s.invalidate(ctx); err != nil { // even when not ours: a fresh answer is never wrong
		return sum, err
	}
	if done != nil {
		return *done, nil
	}
	result := ResultRegistered
	if c.name == EventDeregisterDelegated {
		result = ResultDeregistered
	}
	// The hint: is the account SASE's delegated administrator now?
	das, err := s.Directory.ListDelegatedAdmins(ctx)
	if err != nil {
		return sum, fmt.Errorf("confirm delegated administrator: %w", err)
	}
	listed := slices.ContainsFunc(das, func(da directory.DelegatedAdmin) bool { return da.AccountID == c.account })
	if listed != (result == ResultRegistered) {
		sum.Result, sum.Reason = ResultNoChange, ReasonNotConfirmed
		sum.Message = fmt.Sprintf("Resource Directory does not confirm that account %s was %s; role answers were refreshed.",
			c.account, strings.ToLower(result))
		return sum, nil
	}
	if err := s.Audit.Record(ctx, d.ID, s.actor(c), audit.Entry{
		ID: audit.EventRecordID(c.pos, c.key), Action: action.DirectoryEvents, Target: c.account, Result: result,
		Detail: c.detail("ServicePrincipal", c.svc, "Effect", "RoleCacheInvalidated"),
	}); err != nil {
		return sum, err
	}
	sum.Result = result
	return sum, nil
}

// destroyed: the directory is gone. Every role answer goes; the role check
// then finds no directory and answers 404 to everything but describe-setup
// and enable-directory. See the package documentation for the rest of what
// "nothing from the old directory is served" takes.
func (s *Service) destroyed(ctx context.Context, c call, sum Summary) (Summary, error) {
	d, ok, err := s.current(ctx)
	if err != nil {
		return sum, err
	}
	if err := s.invalidate(ctx); err != nil {
		return sum, err
	}
	if ok {
		switch {
		case c.caller != d.ManagementAccountID:
			sum.Result, sum.Reason = ResultIgnored, ReasonOtherDirectory
			sum.Message = fmt.Sprintf("The call was made by account %s, not by %s, the management account of directory %s.",
				c.caller, d.ManagementAccountID, d.ID)
		case !d.CreateTime.Before(c.upper):
			sum.Result, sum.Reason = ResultNoChange, ReasonDirectoryCreated
			sum.Message = fmt.Sprintf("Directory %s was created at %s, after this %s at %s.",
				d.ID, audit.FormatTime(d.CreateTime), c.name, c.rawTime)
		default:
			sum.Result, sum.Reason = ResultNoChange, ReasonDirectoryExists
			sum.Message = fmt.Sprintf("Directory %s still exists; role answers were refreshed.", d.ID)
		}
		return sum, nil
	}
	if c.caller != s.Owner {
		sum.Result, sum.Reason = ResultIgnored, ReasonOtherDirectory
		sum.Message = fmt.Sprintf("The call was made by account %s, not by %s, the account of this deployment.", c.caller, s.Owner)
		return sum, nil
	}
	if err := s.Audit.Record(ctx, NoDirectoryID, s.actor(c), audit.Entry{
		ID: audit.EventRecordID(c.pos, c.key), Action: action.DirectoryEvents, Target: c.caller, Result: ResultDestroyed,
		Detail: c.detail("Effect", "RoleCacheInvalidated"),
	}); err != nil {
		return sum, err
	}
	sum.Result = ResultDestroyed
	return sum, nil
}

func orSum(done *Summary, sum Summary) Summary {
	if done != nil {
		return *done
	}
	return sum
}

// ---- parsing ---------------------------------------------------------------

// record is the part of an ActionTrail record dirsync reads. Scalars are
// lenient (strings or numbers) and requestParameters may hold any JSON, so
// a record with a surprising field elsewhere is not lost.
type record struct {
	EventName    flexString `json:"eventName"`
	ServiceName  flexString `json:"serviceName"`
	EventTime    flexString `json:"eventTime"`
	ErrorCode    flexString `json:"errorCode"` // set when the recorded call failed
	UserIdentity struct {
		AccountID   flexString `json:"accountId"`
		PrincipalID flexString `json:"principalId"`
		UserName    flexString `json:"userName"`
	} `json:"userIdentity"`
	RequestParameters map[string]json.RawMessage `json:"requestParameters"`
}

// parse validates the event. A non-empty reason means "acknowledge and
// ignore"; c.name is filled as far as it is known.
func (s *Service) parse(ev events.CloudEvent) (c call, reason, msg string) {
	if ev.ID == "" || ev.Source == "" {
		return c, ReasonMalformed, "The event has no id or no source: it is not a CloudEvent."
	}
	if len(ev.ID) > maxIDLen || len(ev.Source) > maxIDLen {
		return c, ReasonMalformed, fmt.Sprintf("The event's id or source is longer than %d bytes.", maxIDLen)
	}
	if ev.Source != events.SourceResourceManager {
		// The EventBridge rule pins the source too; this refuses an event
		// sent by anyone allowed to invoke the function directly.
		return c, ReasonUntrustedSource, fmt.Sprintf("Event source %q is not %s.", clip(ev.Source), events.SourceResourceManager)
	}
	if !hasAnySuffix(ev.Type, actionTrailTypes) {
		return c, ReasonNotAPICall, fmt.Sprintf("Event type %q is not an ActionTrail API call record.", clip(ev.Type))
	}
	rec, err := decodeRecord(ev.Data)
	if err != nil {
		return c, ReasonMalformed, fmt.Sprintf("The event's data is not an ActionTrail record: %v.", err)
	}
	c = call{key: ev.Source + "|" + ev.ID, id: ev.ID, source: ev.Source, name: string(rec.EventName)}
	if !strings.EqualFold(string(rec.ServiceName), events.ServiceResourceManager) {
		return c, ReasonOtherService, fmt.Sprintf("The call was made to %q, not to ResourceManager.", clip(string(rec.ServiceName)))
	}
	if rec.ErrorCode != "" {
		return c, ReasonFailedCall, fmt.Sprintf("The recorded call failed (%s); it changed nothing.", clip(string(rec.ErrorCode)))
	}
	switch c.name {
	case EventRemoveCloudAccount, EventDeleteAccount, EventUpdateAccount, EventRegisterDelegated,
		EventDeregisterDelegated, EventDestroyDirectory:
	default:
		return c, ReasonUnhandled, fmt.Sprintf("%s calls do not change SASE members or roles.", clip(c.name))
	}

	c.rawTime = string(rec.EventTime)
	if c.rawTime == "" {
		c.rawTime = ev.Time
	}
	at, window, ok := parseEventTime(c.rawTime)
	if !ok {
		return c, ReasonMalformed, fmt.Sprintf("eventTime %q is not an RFC 3339 time.", clip(c.rawTime))
	}
	if at.After(s.now().Add(maxClockSkew)) {
		return c, ReasonMalformed, fmt.Sprintf("eventTime %q lies in the future.", clip(c.rawTime))
	}
	c.upper = at.Truncate(window).Add(window)
	c.pos = recordTime(ev, at, c.upper, s.now())

	c.caller = string(rec.UserIdentity.AccountID)
	if c.caller == "" {
		c.caller = ev.AliyunAccountID
	}
	if !validate.IsAccountID(c.caller) {
		return c, ReasonMalformed, fmt.Sprintf("The caller's account ID %q (userIdentity.accountId) is not a 16-digit UID.", clip(c.caller))
	}
	c.principal = string(rec.UserIdentity.UserName)
	if c.principal == "" {
		c.principal = string(rec.UserIdentity.PrincipalID)
	}
	c.principal = clip(c.principal)

	params := rec.RequestParameters
	if c.name == EventDestroyDirectory {
		return c, "", ""
	}
	c.account = param(params, "AccountId")
	if !validate.IsAccountID(c.account) {
		return c, ReasonMalformed, fmt.Sprintf("requestParameters.AccountId %q is not a 16-digit UID.", clip(c.account))
	}
	switch c.name {
	case EventUpdateAccount:
		c.newName = param(params, "NewDisplayName")
		if strings.TrimSpace(c.newName) == "" {
			return c, ReasonNoDisplayName, "The update changed no display name."
		}
		// Same rules as a remark: at most 256 code points, no control characters.
		if err := validate.Remark("NewDisplayName", c.newName); err != nil {
			return c, ReasonMalformed, fmt.Sprintf("requestParameters.NewDisplayName is not a usable name: %v.", err)
		}
	case EventRegisterDelegated, EventDeregisterDelegated:
		c.svc = param(params, "ServicePrincipal")
		if !strings.EqualFold(c.svc, s.principal()) {
			return c, ReasonOtherPrincipal, fmt.Sprintf("Service principal %q is not SASE's (%s).", clip(c.svc), s.principal())
		}
	}
	return c, "", ""
}

// recordTime is the time an event's own audit record (delegated
// administrator, destroy) is filed under. Its ID must be derived from the
// event, so that a redelivery rewrites the same record, yet it must sort
// with the records of member changes, which are filed at processing time.
// ActionTrail's eventTime has whole seconds only, and its upper bound lies
// up to a second ahead of changes processed after the event (and ties every
// event of one second), so EventBridge's publish time (milliseconds, after
// the call, before the delivery) is used when it is plausible: not before the
// call and not in the future.
func recordTime(ev events.CloudEvent, at, upper, now time.Time) time.Time {
	p, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(ev.AliyunPublishTime))
	if err != nil || p.Before(at) || p.After(now.Add(maxClockSkew)) {
		return upper
	}
	return p.UTC()
}

// decodeRecord reads data: a JSON object, or a JSON string holding one (a
// target configured with a non-JSON datacontenttype delivers that).
func decodeRecord(data json.RawMessage) (record, error) {
	var rec record
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '"' {
		var inner string
		if err := json.Unmarshal(data, &inner); err != nil {
			return rec, err
		}
		data = []byte(inner)
	}
	if len(data) == 0 || data[0] != '{' {
		return rec, errors.New("data is not a JSON object")
	}
	if err := json.Unmarshal(data, &rec); err != nil {
		return rec, err
	}
	return rec, nil
}

// param returns a request parameter as text, matching the name
// case-insensitively; numbers keep their exact digits.
func param(params map[string]json.RawMessage, name string) string {
	for k, v := range params {
		if strings.EqualFold(k, name) {
			var f flexString
			if json.Unmarshal(v, &f) == nil {
				return string(f)
			}
			return ""
		}
	}
	return ""
}

// flexString decodes a JSON string, a number (its literal digits) or null.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*f = ""
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return err
		}
		*f = flexString(n)
	default:
		return fmt.Errorf("expected a string, got %.20s", b)
	}
	return nil
}

// parseEventTime reads an RFC 3339 time, also with EventBridge's "PRC" zone
// suffix (China Standard Time, +08:00). window is the precision the value
// was written with: the event happened in [t, t+window).
func parseEventTime(s string) (t time.Time, window time.Duration, ok bool) {
	s = strings.TrimSpace(s)
	if strings.HasSuffix(s, "PRC") {
		s = strings.TrimSuffix(s, "PRC") + "+08:00"
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Year() < 2000 {
		return time.Time{}, 0, false
	}
	window = time.Second
	if i := strings.IndexByte(s, '.'); i >= 0 {
		digits := 0
		for _, r := range s[i+1:] {
			if r < '0' || r > '9' {
				break
			}
			digits++
		}
		window = time.Millisecond // the store keeps milliseconds
		for ; digits < 3; digits++ {
			window *= 10
		}
	}
	return t.UTC(), window, true
}

func hasAnySuffix(s string, suffixes []string) bool {
	for _, x := range suffixes {
		if strings.HasSuffix(s, x) {
			return true
		}
	}
	return false
}

// clip bounds text copied from an event into summaries, logs and audit.
func clip(s string) string {
	const max = 128
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
