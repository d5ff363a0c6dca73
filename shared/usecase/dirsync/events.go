package dirsync

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/sase-multiaccount/backend/shared/events"
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

	EventCreateResourceAccount = "CreateResourceAccount"
	EventMoveAccount           = "MoveAccount"
	EventCreateFolder          = "CreateFolder"
	EventUpdateFolder          = "UpdateFolder"
	EventDeleteFolder          = "DeleteFolder"
)

// HandledEvents lists the eventName values acted on, for the EventBridge rule.
var HandledEvents = []string{
	EventRemoveCloudAccount, EventDeleteAccount, EventUpdateAccount,
	EventRegisterDelegated, EventDeregisterDelegated, EventDestroyDirectory,
	EventCreateResourceAccount, EventMoveAccount, EventCreateFolder, EventUpdateFolder, EventDeleteFolder,
}

// Envelope types of ActionTrail records of API calls (the product prefix of
// RD's type is UNCONFIRMED, so only the suffix is checked).
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
	ResultMirrored     = "Mirrored"     // the directory mirror took RD's answer; no member changed
	ResultEnrolled     = "Enrolled"     // the enrollment policy made the account a member
	ResultNoChange     = "NoChange"     // ours, but SASE already reflects it (Reason says why)
	ResultDuplicate    = "Duplicate"    // source+id processed before
	ResultIgnored      = "Ignored"      // not ours or unusable; acknowledged (Reason says why)
)

// An event is a hint, never proof (docs/DESIGN.md "Resource Directory changes"): before acting,
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

// Unrecognised reports whether reason says the function did not recognise
// the event: another source or type, data that is no usable ActionTrail
// record, another service's call, or a ResourceManager call it does not
// follow. The rule (RulePattern) should let none of them through, but
// which source and type RD's ActionTrail events carry on EventBridge is
// UNCONFIRMED (docs/DEPLOY.md), so the function logs each kind it meets.
func Unrecognised(reason string) bool {
	switch reason {
	case ReasonUntrustedSource, ReasonNotAPICall, ReasonMalformed, ReasonOtherService, ReasonUnhandled:
		return true
	}
	return false
}

// Summary is what directory-events returns for one event.
type Summary struct {
	EventID   string `json:"EventId,omitempty"`
	EventName string `json:",omitempty"`
	AccountID string `json:"AccountId,omitempty"`
	Result    string
	Reason    string `json:",omitempty"`
	Message   string `json:",omitempty"`
}

// maxIDLen bounds source and id: together they are a store key.
const maxIDLen = 256

// eventText is how many bytes of text copied from an event go into
// summaries, logs and audit (validate.ClipTo).
const eventText = 128

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
	folder    string    // the folder of a folder event
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
	sum := Summary{EventID: validate.ClipTo(ev.ID, eventText)}
	c, reason, msg := s.parse(ev)
	if reason != "" {
		sum.EventName, sum.Result, sum.Reason, sum.Message = validate.ClipTo(c.name, eventText), ResultIgnored, reason, msg
		return sum, nil
	}
	sum.EventID, sum.EventName, sum.AccountID = ev.ID, c.name, c.account

	done, err := s.store.EventProcessed(ctx, c.key)
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
	if err := s.store.MarkEventProcessed(ctx, c.key, s.now().Add(DedupTTL)); err != nil {
		// The effect is done; a redelivery finds it done and changes nothing.
		return out, fmt.Errorf("directory event %s: mark processed: %w", c.key, err)
	}
	return out, nil
}

func (s *Service) apply(ctx context.Context, c call, sum Summary) (Summary, error) {
	switch c.name {
	case EventRemoveCloudAccount, EventDeleteAccount, EventUpdateAccount, EventCreateResourceAccount, EventMoveAccount:
		return s.accountEvent(ctx, c, sum)
	case EventCreateFolder, EventUpdateFolder, EventDeleteFolder:
		return s.folderEvent(ctx, c, sum)
	case EventRegisterDelegated, EventDeregisterDelegated:
		return s.delegated(ctx, c, sum)
	default: // EventDestroyDirectory; parse lets nothing else through
		return s.destroyed(ctx, c, sum)
	}
}
