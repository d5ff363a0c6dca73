package dirsync

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sase-multiaccount/backend/shared/events"
	"github.com/sase-multiaccount/backend/shared/validate"
)

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
	ResponseElements  map[string]json.RawMessage `json:"responseElements"`
}

// parse validates the event. A non-empty reason means "acknowledge and
// ignore"; c.name is filled as far as it is known.
func (s *Service) parse(ev events.CloudEvent) (c call, reason, msg string) {
	rec, reason, msg := envelope(ev)
	if reason != "" {
		// What was refused: the record's eventName, when data holds one.
		if r, err := decodeRecord(ev.Data); err == nil {
			c.name = string(r.EventName)
		}
		return c, reason, msg
	}
	c = call{key: ev.Source + "|" + ev.ID, id: ev.ID, source: ev.Source, name: string(rec.EventName)}
	if reason, msg = handled(c.name, rec); reason != "" {
		return c, reason, msg
	}
	if reason, msg = s.parseTime(&c, ev, rec); reason != "" {
		return c, reason, msg
	}
	if reason, msg = parseCaller(&c, ev, rec); reason != "" {
		return c, reason, msg
	}
	reason, msg = s.parseSubject(&c, rec)
	return c, reason, msg
}

// envelope checks the CloudEvent around the record and decodes the record.
func envelope(ev events.CloudEvent) (rec record, reason, msg string) {
	if ev.ID == "" || ev.Source == "" {
		return rec, ReasonMalformed, "The event has no id or no source: it is not a CloudEvent."
	}
	if len(ev.ID) > maxIDLen || len(ev.Source) > maxIDLen {
		return rec, ReasonMalformed, fmt.Sprintf("The event's id or source is longer than %d bytes.", maxIDLen)
	}
	if ev.Source != events.SourceResourceManager {
		// The EventBridge rule pins the source too; this refuses an event
		// sent by anyone allowed to invoke the function directly.
		return rec, ReasonUntrustedSource, fmt.Sprintf("Event source %q is not %s.", validate.ClipTo(ev.Source, eventText), events.SourceResourceManager)
	}
	if !hasAnySuffix(ev.Type, actionTrailTypes) {
		return rec, ReasonNotAPICall, fmt.Sprintf("Event type %q is not an ActionTrail API call record.", validate.ClipTo(ev.Type, eventText))
	}
	rec, err := decodeRecord(ev.Data)
	if err != nil {
		return rec, ReasonMalformed, fmt.Sprintf("The event's data is not an ActionTrail record: %v.", err)
	}
	return rec, "", ""
}

// handled checks that the record is a successful ResourceManager call
// dirsync follows.
func handled(name string, rec record) (reason, msg string) {
	if !strings.EqualFold(string(rec.ServiceName), events.ServiceResourceManager) {
		return ReasonOtherService, fmt.Sprintf("The call was made to %q, not to ResourceManager.", validate.ClipTo(string(rec.ServiceName), eventText))
	}
	if rec.ErrorCode != "" {
		return ReasonFailedCall, fmt.Sprintf("The recorded call failed (%s); it changed nothing.", validate.ClipTo(string(rec.ErrorCode), eventText))
	}
	switch name {
	case EventRemoveCloudAccount, EventDeleteAccount, EventUpdateAccount, EventRegisterDelegated,
		EventDeregisterDelegated, EventDestroyDirectory, EventCreateResourceAccount, EventMoveAccount,
		EventCreateFolder, EventUpdateFolder, EventDeleteFolder:
		return "", ""
	}
	return ReasonUnhandled, fmt.Sprintf("%s calls do not change SASE members or roles.", validate.ClipTo(name, eventText))
}

// parseTime reads when the call happened (c.rawTime, c.upper) and the
// time its own audit record is filed under (c.pos).
func (s *Service) parseTime(c *call, ev events.CloudEvent, rec record) (reason, msg string) {
	c.rawTime = string(rec.EventTime)
	if c.rawTime == "" {
		c.rawTime = ev.Time
	}
	at, window, ok := parseEventTime(c.rawTime)
	if !ok {
		return ReasonMalformed, fmt.Sprintf("eventTime %q is not an RFC 3339 time.", validate.ClipTo(c.rawTime, eventText))
	}
	if at.After(s.now().Add(maxClockSkew)) {
		return ReasonMalformed, fmt.Sprintf("eventTime %q lies in the future.", validate.ClipTo(c.rawTime, eventText))
	}
	c.upper = at.Truncate(window).Add(window)
	c.pos = recordTime(ev, at, c.upper, s.now())
	return "", ""
}

// parseCaller reads who made the call: its account (c.caller) and
// principal.
func parseCaller(c *call, ev events.CloudEvent, rec record) (reason, msg string) {
	c.caller = string(rec.UserIdentity.AccountID)
	if c.caller == "" {
		c.caller = ev.AliyunAccountID
	}
	if !validate.IsAccountID(c.caller) {
		return ReasonMalformed, fmt.Sprintf("The caller's account ID %q (userIdentity.accountId) is not a 16-digit UID.", validate.ClipTo(c.caller, eventText))
	}
	c.principal = string(rec.UserIdentity.UserName)
	if c.principal == "" {
		c.principal = string(rec.UserIdentity.PrincipalID)
	}
	c.principal = validate.ClipTo(c.principal, eventText)
	return "", ""
}

// parseSubject reads what the call acted on: the folder, or the account
// with its new name or the service principal; a directory's destruction
// names nothing.
func (s *Service) parseSubject(c *call, rec record) (reason, msg string) {
	params := rec.RequestParameters
	switch c.name {
	case EventDestroyDirectory:
		return "", ""
	case EventCreateFolder, EventUpdateFolder, EventDeleteFolder:
		c.folder = param(params, "FolderId")
		if c.name == EventCreateFolder {
			c.folder = nested(rec.ResponseElements, "Folder", "FolderId")
		}
		if c.folder == "" || len(c.folder) > maxIDLen || strings.ContainsAny(c.folder, "|\x00") {
			return ReasonMalformed, fmt.Sprintf("The event names no usable folder ID (%q).", validate.ClipTo(c.folder, eventText))
		}
		return "", ""
	case EventCreateResourceAccount:
		c.account = nested(rec.ResponseElements, "Account", "AccountId")
	default:
		c.account = param(params, "AccountId")
	}
	if !validate.IsAccountID(c.account) {
		return ReasonMalformed, fmt.Sprintf("requestParameters.AccountId %q is not a 16-digit UID.", validate.ClipTo(c.account, eventText))
	}
	switch c.name {
	case EventUpdateAccount:
		c.newName = param(params, "NewDisplayName")
		if strings.TrimSpace(c.newName) == "" {
			return ReasonNoDisplayName, "The update changed no display name."
		}
		// Same rules as a remark: at most 256 code points, no control characters.
		if err := validate.Remark("NewDisplayName", c.newName); err != nil {
			return ReasonMalformed, fmt.Sprintf("requestParameters.NewDisplayName is not a usable name: %v.", err)
		}
	case EventRegisterDelegated, EventDeregisterDelegated:
		c.svc = param(params, "ServicePrincipal")
		if !strings.EqualFold(c.svc, s.principal) {
			return ReasonOtherPrincipal, fmt.Sprintf("Service principal %q is not SASE's (%s).", validate.ClipTo(c.svc, eventText), s.principal)
		}
	}
	return "", ""
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

// nested returns responseElements' name, at the top level or inside the
// object outer (ActionTrail records the response as the API returns it,
// e.g. {"Account":{"AccountId":…}}).
func nested(resp map[string]json.RawMessage, outer, name string) string {
	if v := param(resp, name); v != "" {
		return v
	}
	for k, raw := range resp {
		if strings.EqualFold(k, outer) {
			var inner map[string]json.RawMessage
			if json.Unmarshal(raw, &inner) == nil {
				return param(inner, name)
			}
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
