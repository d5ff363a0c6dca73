package embedded

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
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

// memberRec is a member row's fields; as JSON, the form earlier versions
// wrote (with AccountID, which is also the key).
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

// A member row is memberV1 then varints (add, update and name times in ms,
// version) and length-prefixed strings (name, added by, remark): a keyword
// search's snapshot decodes all 10,000, which JSON made most of its cost.
// Rows written as JSON (a "{") by earlier versions still decode.
const memberV1 = 1

func encodeMember(m store.Member) ([]byte, error) {
	v := make([]byte, 0, 1+4*binary.MaxVarintLen64+3*binary.MaxVarintLen32+len(m.AccountName)+len(m.AddedBy)+len(m.Remark))
	v = append(v, memberV1)
	for _, n := range []int64{toMs(m.AddTime), toMs(m.UpdateTime), toMs(m.NameTime), m.Version} {
		v = binary.AppendVarint(v, n)
	}
	for _, s := range []string{m.AccountName, m.AddedBy, m.Remark} {
		v = binary.AppendUvarint(v, uint64(len(s)))
		v = append(v, s...)
	}
	return v, nil
}

func decodeMember(dirID, accountID string, v []byte) (store.Member, error) {
	r, err := decodeMemberRec(v)
	if err != nil {
		return store.Member{}, corrupt("member %s/%s: %v", dirID, accountID, err)
	}
	if (r.AccountID != "" && r.AccountID != accountID) || r.Version < 1 {
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

// decodeMemberRec reads either form of a member row (AccountID is set only
// by the JSON form, which kept it).
func decodeMemberRec(v []byte) (memberRec, error) {
	var r memberRec
	if len(v) > 0 && v[0] == '{' {
		err := json.Unmarshal(v, &r)
		return r, err
	}
	if len(v) == 0 || v[0] != memberV1 {
		return r, fmt.Errorf("unknown row format %q", v[:min(len(v), 1)])
	}
	v = v[1:]
	for _, n := range []*int64{&r.AddTime, &r.UpdateTime, &r.NameTime, &r.Version} {
		x, k := binary.Varint(v)
		if k <= 0 {
			return r, errors.New("truncated row")
		}
		*n, v = x, v[k:]
	}
	for _, s := range []*string{&r.AccountName, &r.AddedBy, &r.Remark} {
		n, k := binary.Uvarint(v)
		if k <= 0 || uint64(len(v)-k) < n {
			return r, errors.New("truncated row")
		}
		*s, v = string(v[k:k+int(n)]), v[k+int(n):]
	}
	if len(v) != 0 {
		return r, errors.New("trailing bytes in row")
	}
	return r, nil
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
