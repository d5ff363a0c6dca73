package rdwire

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Protocol constants of ResourceManager 2020-03-31 (RPC style).
const (
	APIVersion = "2020-03-31"
	HostID     = "resourcemanager.aliyuncs.com"

	// MaxSkew is how far a request's Timestamp may be from the server's
	// clock, and how long a SignatureNonce is remembered.
	MaxSkew = 15 * time.Minute

	maxBody = 64 << 10
)

// rpcError is an RD error answer: status plus the {RequestId, HostId, Code,
// Message} body the SDK parses into *errors.ServerError.
type rpcError struct {
	Status  int
	Code    string
	Message string
	Body    string // raw body instead of JSON (fault injection)
}

func (e *rpcError) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message) }

func errf(status int, code, format string, args ...any) *rpcError {
	return &rpcError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// params are a request's parameters: the query string plus a form body,
// each name at most once (RPC parameters are never repeated; lists are
// flattened as Name.1, Name.2).
type params map[string]string

func (p params) get(name string) string { return p[name] }

// parseParams reads query and form parameters the way RD's gateway does.
func parseParams(r *http.Request) (params, *rpcError) {
	p := params{}
	add := func(vals url.Values, where string) *rpcError {
		for k, vs := range vals {
			if len(vs) != 1 {
				return errf(400, "InvalidParameter", "Parameter %s is given %d times in the %s.", k, len(vs), where)
			}
			if _, dup := p[k]; dup {
				return errf(400, "InvalidParameter", "Parameter %s is given in both the query string and the body.", k)
			}
			p[k] = vs[0]
		}
		return nil
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, errf(400, "InvalidParameter", "The query string cannot be parsed: %v", err)
	}
	if e := add(q, "query string"); e != nil {
		return nil, e
	}
	if r.Body != nil {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
		if err != nil {
			return nil, errf(400, "InvalidParameter", "The body cannot be read: %v", err)
		}
		if len(body) > maxBody {
			return nil, errf(400, "InvalidParameter", "The body is larger than %d bytes.", maxBody)
		}
		if len(body) > 0 {
			mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
			if mt != "application/x-www-form-urlencoded" {
				return nil, errf(400, "InvalidParameter", "An RPC body must be application/x-www-form-urlencoded, not %q.", mt)
			}
			form, err := url.ParseQuery(string(body))
			if err != nil {
				return nil, errf(400, "InvalidParameter", "The form body cannot be parsed: %v", err)
			}
			if e := add(form, "body"); e != nil {
				return nil, e
			}
		}
	}
	return p, nil
}

// percentEncode is RD's POP encoding: URL query encoding with space as %20,
// '*' as %2A and '~' kept.
func percentEncode(s string) string {
	s = url.QueryEscape(s)
	s = strings.ReplaceAll(s, "+", "%20")
	s = strings.ReplaceAll(s, "*", "%2A")
	return strings.ReplaceAll(s, "%7E", "~")
}

// StringToSign builds the RPC string to sign: METHOD&%2F&encode(canonical
// query), the canonical query being every parameter but Signature, sorted by
// name, each name and value percent-encoded.
func StringToSign(method string, p map[string]string) string {
	v := url.Values{}
	for k, val := range p {
		if k != "Signature" {
			v.Set(k, val)
		}
	}
	canonical := v.Encode() // sorted by key, QueryEscape'd
	canonical = strings.ReplaceAll(canonical, "+", "%20")
	canonical = strings.ReplaceAll(canonical, "*", "%2A")
	canonical = strings.ReplaceAll(canonical, "%7E", "~")
	return strings.ToUpper(method) + "&" + percentEncode("/") + "&" + percentEncode(canonical)
}

// Sign is base64(HMAC-SHA1(secret + "&", stringToSign)).
func Sign(stringToSign, accessKeySecret string) string {
	m := hmac.New(sha1.New, []byte(accessKeySecret+"&"))
	m.Write([]byte(stringToSign))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// authenticate checks the common parameters and the signature of a request.
func (s *Server) authenticate(method string, p params, now time.Time) *rpcError {
	for _, name := range []string{"AccessKeyId", "Signature", "SignatureMethod", "SignatureVersion", "SignatureNonce", "Timestamp"} {
		if p.get(name) == "" {
			return errMissingCommon(name)
		}
	}
	if p.get("SignatureMethod") != "HMAC-SHA1" {
		return errf(400, "IncompleteSignature", "Signature method %q is not supported; use HMAC-SHA1.", p.get("SignatureMethod"))
	}
	if p.get("SignatureVersion") != "1.0" {
		return errf(400, "IncompleteSignature", "Signature version %q is not supported; use 1.0.", p.get("SignatureVersion"))
	}
	if st := p.get("SignatureType"); st != "" {
		return errf(400, "IncompleteSignature", "Signature type %q is not supported by this server.", st)
	}
	ts, err := time.Parse("2006-01-02T15:04:05Z", p.get("Timestamp"))
	if err != nil {
		return errf(400, "InvalidTimeStamp.Format", "Specified time stamp %q is not in the format yyyy-MM-ddTHH:mm:ssZ (UTC).", p.get("Timestamp"))
	}
	if d := now.Sub(ts); d > MaxSkew || d < -MaxSkew {
		return errf(400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired (server time %s).", now.UTC().Format(time.RFC3339))
	}
	creds := s.creds
	if p.get("AccessKeyId") != creds.AccessKeyID {
		return errf(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
	}
	switch tok := p.get("SecurityToken"); {
	case creds.SecurityToken == "" && tok != "":
		return errf(400, "InvalidSecurityToken.MismatchWithAccessKey", "The security token does not belong to the access key.")
	case creds.SecurityToken != "" && tok == "":
		return errf(400, "MissingSecurityToken", "The access key is an STS key; SecurityToken is required.")
	case tok != creds.SecurityToken:
		return errf(400, "InvalidSecurityToken.MismatchWithAccessKey", "The security token does not belong to the access key.")
	}
	sts := StringToSign(method, p)
	want := Sign(sts, creds.AccessKeySecret)
	if !hmac.Equal([]byte(want), []byte(p.get("Signature"))) {
		s.countSignatureFailure()
		// The SDK compares this with its own string to sign to tell a
		// wrong secret from a canonicalisation bug.
		return errf(400, "SignatureDoesNotMatch",
			"Specified signature is not matched with our calculation. server string to sign is:%s", sts)
	}
	if !s.useNonce(p.get("SignatureNonce"), now) {
		return errf(400, "SignatureNonceUsed", "Specified signature nonce was used already.")
	}
	return nil
}

// page reads PageNumber (default 1) and PageSize (default 10, 1-100).
func page(p params) (number, size int, e *rpcError) {
	number, size = 1, 10
	if v := p.get("PageNumber"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return 0, 0, errInvalid("PageNumber", "The specified PageNumber %q is invalid; it must be an integer of at least 1.", v)
		}
		number = n
	}
	if v := p.get("PageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return 0, 0, errInvalid("PageSize", "The specified PageSize %q is invalid; it must be an integer from 1 to 100.", v)
		}
		size = n
	}
	return number, size, nil
}

// window returns the [lo, hi) bounds of page number of size within n items.
func window(n, number, size int) (lo, hi int) {
	lo = (number - 1) * size
	if lo > n || lo < 0 { // lo < 0: overflow of a huge PageNumber
		lo = n
	}
	hi = min(lo+size, n)
	return lo, hi
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := strings.ToUpper(hex.EncodeToString(b[:]))
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func writeJSON(w http.ResponseWriter, status int, requestID string, body any) {
	buf, err := json.Marshal(body)
	if err != nil {
		status = 500
		buf, _ = json.Marshal(errorBody{RequestID: requestID, HostID: HostID, Code: "InternalError", Message: "The response could not be encoded."})
	}
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.Header().Set("x-acs-request-id", requestID)
	w.WriteHeader(status)
	_, _ = w.Write(buf)
}

type errorBody struct {
	RequestID string `json:"RequestId"`
	HostID    string `json:"HostId"`
	Code      string `json:"Code"`
	Message   string `json:"Message"`
	Recommend string `json:"Recommend,omitempty"`
}

func writeError(w http.ResponseWriter, requestID string, e *rpcError) {
	if e.Body != "" {
		w.Header().Set("Content-Type", "text/html;charset=utf-8")
		w.Header().Set("x-acs-request-id", requestID)
		w.WriteHeader(e.Status)
		_, _ = io.WriteString(w, e.Body)
		return
	}
	writeJSON(w, e.Status, requestID, errorBody{
		RequestID: requestID, HostID: HostID, Code: e.Code, Message: e.Message,
		Recommend: "https://api.aliyun.com/troubleshoot?q=" + url.QueryEscape(e.Code),
	})
}

// errMissingCommon is the gateway's answer to a missing common parameter:
// Missing{Name} (Alibaba's common error codes), unlike an action's own
// parameters, which are MissingParameter.{Name}.
func errMissingCommon(name string) *rpcError {
	return errf(400, "Missing"+name, "%s is mandatory for this action.", name)
}

// rdTime formats a handshake time as RD does: ISO 8601 UTC to the second
// ("2018-08-24T09:55:41Z").
func rdTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05Z")
}

// rdTimeMillis formats a directory or account time as RD does: ISO 8601
// UTC to the millisecond ("2021-12-08T02:15:31.744Z", always three digits).
func rdTimeMillis(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}
