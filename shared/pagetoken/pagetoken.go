// Package pagetoken makes NextToken values: opaque, bound to the directory
// and to the query that produced them, and tamper-evident. A token is
// base64url(JSON position) + "." + base64url(HMAC-SHA256(key, binding|payload)).
// The MAC is an integrity check, not secrecy: a position is never a secret,
// but a token edited by hand or replayed against another directory or query
// must be refused with 400 InvalidParameter.NextToken rather than silently
// paging somewhere else.
package pagetoken

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/sase-multiaccount/backend/shared/apperr"
)

// MaxLen bounds accepted tokens; ours are far shorter.
const MaxLen = 1024

// Codec signs and checks tokens with one key.
type Codec struct{ key []byte }

// New returns a Codec. Every instance of a deployment must use the same key
// so a token from one instance works on the next.
func New(key []byte) *Codec { return &Codec{key: append([]byte(nil), key...)} }

// Encode returns a token for position (any JSON-encodable value).
func (c *Codec) Encode(binding string, position any) string {
	payload, err := json.Marshal(position)
	if err != nil {
		panic("pagetoken: position not encodable: " + err.Error()) // our own types only: a bug
	}
	p := base64.RawURLEncoding.EncodeToString(payload)
	return p + "." + base64.RawURLEncoding.EncodeToString(c.mac(binding, p))
}

// Decode checks token against binding and fills position.
func (c *Codec) Decode(token, binding string, position any) error {
	bad := apperr.Invalid("NextToken",
		"NextToken is not valid for this query: use the NextToken of the previous page with the same parameters, or omit it to start over.")
	if len(token) > MaxLen {
		return bad
	}
	p, m, ok := strings.Cut(token, ".")
	if !ok {
		return bad
	}
	mac, err := base64.RawURLEncoding.DecodeString(m)
	if err != nil || !hmac.Equal(mac, c.mac(binding, p)) {
		return bad
	}
	payload, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return bad
	}
	if err := json.Unmarshal(payload, position); err != nil {
		return bad
	}
	return nil
}

func (c *Codec) mac(binding, payload string) []byte {
	h := hmac.New(sha256.New, c.key)
	h.Write([]byte(binding))
	h.Write([]byte{0})
	h.Write([]byte(payload))
	return h.Sum(nil)
}
