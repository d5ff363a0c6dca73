// Package events holds the shapes EventBridge delivers: a CloudEvents 1.0
// envelope with Alibaba extensions, whose data is an ActionTrail ApiCall
// record for Resource Directory changes. Time fields are strings on purpose:
// EventBridge sends values such as "2020-11-19T21:04:42.179PRC" that
// time.Time cannot decode.
package events

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"time"
)

// CloudEvent is one event as EventBridge delivers it to a function.
type CloudEvent struct {
	ID                 string          `json:"id"`
	Source             string          `json:"source"`
	SpecVersion        string          `json:"specversion"`
	Type               string          `json:"type"`
	Subject            string          `json:"subject,omitempty"`
	Time               string          `json:"time,omitempty"`
	DataContentType    string          `json:"datacontenttype,omitempty"`
	AliyunAccountID    string          `json:"aliyunaccountid,omitempty"`
	AliyunPublishTime  string          `json:"aliyunpublishtime,omitempty"`
	AliyunEventBusName string          `json:"aliyuneventbusname,omitempty"`
	AliyunRegionID     string          `json:"aliyunregionid,omitempty"`
	AliyunPublishAddr  string          `json:"aliyunpublishaddr,omitempty"`
	Data               json.RawMessage `json:"data,omitempty"`
}

// UserIdentity is ActionTrail's record of who made the call.
type UserIdentity struct {
	Type        string `json:"type,omitempty"`
	AccountID   string `json:"accountId"`
	PrincipalID string `json:"principalId,omitempty"`
	UserName    string `json:"userName,omitempty"`
}

// ActionTrailRecord is the data of an "<product>:ActionTrail:ApiCall" event.
type ActionTrailRecord struct {
	EventID           string            `json:"eventId"`
	EventVersion      string            `json:"eventVersion,omitempty"`
	EventType         string            `json:"eventType"`
	EventRW           string            `json:"eventRW,omitempty"`
	EventName         string            `json:"eventName"`
	ServiceName       string            `json:"serviceName"`
	EventSource       string            `json:"eventSource,omitempty"`
	AcsRegion         string            `json:"acsRegion,omitempty"`
	RequestID         string            `json:"requestId,omitempty"`
	EventTime         string            `json:"eventTime"`
	SourceIPAddress   string            `json:"sourceIpAddress,omitempty"`
	UserAgent         string            `json:"userAgent,omitempty"`
	UserIdentity      UserIdentity      `json:"userIdentity"`
	RequestParameters map[string]string `json:"requestParameters,omitempty"`
	// ResponseElements carries what the call created (CreateResourceAccount's
	// new AccountId, CreateFolder's FolderId): ActionTrail records write
	// calls' responses there; the exact RD keys are UNCONFIRMED.
	ResponseElements map[string]string `json:"responseElements,omitempty"`
}

// Values used for Resource Directory ActionTrail events.
const (
	SourceResourceManager      = "acs.resourcemanager"
	TypeResourceManagerAPICall = "resourcemanager:ActionTrail:ApiCall"
	ServiceResourceManager     = "ResourceManager"
)

// NewActionTrailEvent builds the CloudEvent EventBridge would deliver for an
// RD API call made by accountID. The local simulation publishes these.
func NewActionTrailEvent(accountID, eventName string, params map[string]string, at time.Time) CloudEvent {
	return NewActionTrailEventWithResponse(accountID, eventName, params, nil, at)
}

// NewActionTrailEventWithResponse is NewActionTrailEvent for a call whose
// record carries response elements (what the call created).
func NewActionTrailEventWithResponse(accountID, eventName string, params, response map[string]string, at time.Time) CloudEvent {
	at = at.UTC()
	id := randomID()
	rec := ActionTrailRecord{
		EventID:           id,
		EventVersion:      "1",
		EventType:         "ApiCall",
		EventRW:           "Write",
		EventName:         eventName,
		ServiceName:       ServiceResourceManager,
		EventSource:       "resourcemanager.aliyuncs.com",
		AcsRegion:         "cn-hangzhou",
		RequestID:         randomID(),
		EventTime:         at.Format(time.RFC3339),
		UserIdentity:      UserIdentity{Type: "root-account", AccountID: accountID, PrincipalID: accountID},
		RequestParameters: params,
		ResponseElements:  response,
	}
	data, _ := json.Marshal(rec) // cannot fail: only strings and string maps
	return CloudEvent{
		ID:                 id,
		Source:             SourceResourceManager,
		SpecVersion:        "1.0",
		Type:               TypeResourceManagerAPICall,
		Subject:            "acs:resourcemanager::" + accountID + ":" + eventName,
		Time:               at.Format(time.RFC3339),
		DataContentType:    "application/json;charset=utf-8",
		AliyunAccountID:    accountID,
		AliyunPublishTime:  at.Format("2006-01-02T15:04:05.000Z"),
		AliyunEventBusName: "default",
		AliyunRegionID:     "cn-hangzhou",
		Data:               data,
	}
}

func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
