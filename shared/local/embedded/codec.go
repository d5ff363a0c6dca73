package embedded

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"time"

	"github.com/sase-multiaccount/backend/shared/port/store"
)

// Times are stored as Unix milliseconds, like add_time in Tablestore, so both
// adapters hand back the same values and order ties the same way.

func toMs(t time.Time) int64 { return t.UnixMilli() }

// fromMs is the inverse of toMs; it returns UTC, and the zero time for the
// value the zero time was stored as.
func fromMs(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// truncMs is what a time looks like after a round trip through the store.
func truncMs(t time.Time) time.Time { return fromMs(toMs(t)) }

// orderedMs encodes ms as 8 big-endian bytes whose byte order is the numeric
// order, negative values included (times before 1970, and the zero time), by
// flipping the sign bit.
func orderedMs(ms int64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(ms)^(1<<63))
	return b[:]
}

func parseOrderedMs(b []byte) int64 {
	return int64(binary.BigEndian.Uint64(b) ^ (1 << 63))
}

// timeKey is the by_add_time index key: AddTime then AccountID, the list
// order of store.SortByAddTime.
func timeKey(addMs int64, accountID string) []byte {
	k := make([]byte, 0, 8+len(accountID))
	k = append(k, orderedMs(addMs)...)
	return append(k, accountID...)
}

// msBound is the smallest index key after every key of millisecond ms.
func msBound(ms int64) []byte {
	if ms == math.MaxInt64 {
		return []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	}
	return orderedMs(ms + 1)
}

// memberRec is a member row. DirectoryID is the enclosing bucket and
// AccountID the key, but AccountID is kept in the value too so that a row is
// self-describing when inspected with the bbolt CLI.
type memberRec struct {
	AccountID   string `json:"account_id"`
	AccountName string `json:"account_name"`
	AddTime     int64  `json:"add_time"`
	AddedBy     string `json:"added_by"`
	Remark      string `json:"remark"`
	Version     int64  `json:"version"`
	UpdateTime  int64  `json:"update_time"`
	NameTime    int64  `json:"name_time"`
}

func encodeMember(m store.Member) ([]byte, error) {
	return json.Marshal(memberRec{
		AccountID:   m.AccountID,
		AccountName: m.AccountName,
		AddTime:     toMs(m.AddTime),
		AddedBy:     m.AddedBy,
		Remark:      m.Remark,
		Version:     m.Version,
		UpdateTime:  toMs(m.UpdateTime),
		NameTime:    toMs(m.NameTime),
	})
}

func decodeMember(dirID, accountID string, v []byte) (store.Member, error) {
	var r memberRec
	if err := json.Unmarshal(v, &r); err != nil {
		return store.Member{}, corrupt("member %s/%s: %v", dirID, accountID, err)
	}
	if r.AccountID != accountID || r.Version < 1 {
		return store.Member{}, corrupt("member %s/%s: row says account %q version %d", dirID, accountID, r.AccountID, r.Version)
	}
	return store.Member{
		DirectoryID: dirID,
		AccountID:   accountID,
		AccountName: r.AccountName,
		AddTime:     fromMs(r.AddTime),
		AddedBy:     r.AddedBy,
		Remark:      r.Remark,
		Version:     r.Version,
		UpdateTime:  fromMs(r.UpdateTime),
		NameTime:    fromMs(r.NameTime),
	}, nil
}

// auditRec is an audit row; DirectoryID and ID are the bucket and the key.
type auditRec struct {
	Time           int64             `json:"time"`
	ActorAccountID string            `json:"actor_account_id"`
	ActorPrincipal string            `json:"actor_principal"`
	ActorRole      string            `json:"actor_role"`
	ActorUserID    string            `json:"actor_user_id,omitempty"`
	ActorUserName  string            `json:"actor_user_name,omitempty"`
	ActorAccess    string            `json:"actor_access_role,omitempty"`
	Action         string            `json:"action"`
	Target         string            `json:"target"`
	Result         string            `json:"result"`
	RequestID      string            `json:"request_id"`
	Detail         map[string]string `json:"detail,omitempty"`
}

func encodeAudit(e store.AuditEvent) ([]byte, error) {
	return json.Marshal(auditRec{
		Time:           toMs(e.Time),
		ActorAccountID: e.ActorAccountID,
		ActorPrincipal: e.ActorPrincipal,
		ActorRole:      e.ActorRole,
		ActorUserID:    e.ActorUserID,
		ActorUserName:  e.ActorUserName,
		ActorAccess:    e.ActorAccessRole,
		Action:         e.Action,
		Target:         e.Target,
		Result:         e.Result,
		RequestID:      e.RequestID,
		Detail:         e.Detail,
	})
}

func decodeAudit(dirID, id string, v []byte) (store.AuditEvent, error) {
	var r auditRec
	if err := json.Unmarshal(v, &r); err != nil {
		return store.AuditEvent{}, corrupt("audit event %s/%s: %v", dirID, id, err)
	}
	return store.AuditEvent{
		DirectoryID:     dirID,
		ID:              id,
		Time:            fromMs(r.Time),
		ActorAccountID:  r.ActorAccountID,
		ActorPrincipal:  r.ActorPrincipal,
		ActorRole:       r.ActorRole,
		ActorUserID:     r.ActorUserID,
		ActorUserName:   r.ActorUserName,
		ActorAccessRole: r.ActorAccess,
		Action:          r.Action,
		Target:          r.Target,
		Result:          r.Result,
		RequestID:       r.RequestID,
		Detail:          r.Detail,
	}, nil
}

func encodeCount(n uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], n)
	return b[:]
}
