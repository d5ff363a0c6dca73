package auth_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/auth"
)

const (
	testIssuer   = "https://issuer.example"
	testAudience = "sase-multi-account"
	testAccount  = "1234567890123456"
	testSubject  = "acs:ram::1234567890123456:user/alice"
	testUser     = "2034567890123456"
	testUserName = "alice@example.onaliyun.com"
)

// now is the fixed clock of every verifier in these tests.
var now = time.Date(2026, 11, 24, 8, 15, 16, 0, time.UTC)

func fixedNow() time.Time { return now }

// testKey is a signing key with the kid it is published under.
type testKey struct {
	kid    string
	method jwt.SigningMethod
	priv   crypto.Signer
}

func (k testKey) pub() crypto.PublicKey { return k.priv.Public() }

// Key generation (RSA especially) is the slow part; keys are made once and
// shared read-only by all tests.
var keys = sync.OnceValue(func() map[string]testKey {
	m := map[string]testKey{}
	for _, name := range []string{"es-a", "es-b", "es-c", "es-other"} {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		m[name] = testKey{kid: name, method: jwt.SigningMethodES256, priv: k}
	}
	for _, name := range []string{"rs-a", "rs-other"} {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		m[name] = testKey{kid: name, method: jwt.SigningMethodRS256, priv: k}
	}
	return m
})

func key(name string) testKey { return keys()[name] }

// withKID returns k published or claimed under another kid.
func (k testKey) withKID(kid string) testKey { k.kid = kid; return k }

// jwksOf returns the public JWKS of ks, built with jwkset like an issuer would.
func jwksOf(t testing.TB, ks ...testKey) []byte {
	t.Helper()
	store := jwkset.NewMemoryStorage()
	for _, k := range ks {
		jwk, err := jwkset.NewJWKFromKey(k.pub(), jwkset.JWKOptions{
			Metadata: jwkset.JWKMetadataOptions{KID: k.kid, ALG: jwkset.ALG(k.method.Alg()), USE: jwkset.UseSig},
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := store.KeyWrite(context.Background(), jwk); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := store.JSONPublic(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func claims(mod func(jwt.MapClaims)) jwt.MapClaims {
	c := jwt.MapClaims{
		"iss": testIssuer,
		"aud": testAudience,
		"sub": testSubject,
		"aid": testAccount,
		"uid": testUser,
		"upn": testUserName,
		"iat": now.Add(-time.Minute).Unix(),
		"nbf": now.Add(-time.Minute).Unix(),
		"exp": now.Add(time.Hour).Unix(),
		"jti": "j1",
	}
	if mod != nil {
		mod(c)
	}
	return c
}

func sign(t testing.TB, k testKey, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(k.method, c)
	if k.kid != "" {
		tok.Header["kid"] = k.kid
	}
	s, err := tok.SignedString(k.priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func pemPublic(t testing.TB, k testKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(k.pub())
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// staticConfig trusts es-a and rs-a.
func staticConfig(t testing.TB) auth.Config {
	return auth.Config{
		Issuer:   testIssuer,
		Audience: testAudience,
		JWKSJSON: jwksOf(t, key("es-a"), key("rs-a")),
		Now:      fixedNow,
	}
}

func newVerifier(t testing.TB, cfg auth.Config) *auth.JWTVerifier {
	t.Helper()
	v, err := auth.NewVerifier(t.Context(), cfg)
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	t.Cleanup(v.Close)
	return v
}

// wantUnauthenticated checks the error contract: apperr Unauthenticated, a
// message containing want, and neither the message nor the whole error
// chain echoing the token or any of its segments.
func wantUnauthenticated(t *testing.T, err error, token, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted; want rejection %q", want)
	}
	e, ok := apperr.As(err)
	if !ok || e.Kind != apperr.KindUnauthenticated || e.Code != "Unauthenticated" {
		t.Fatalf("error %v is not an apperr Unauthenticated", err)
	}
	if !strings.Contains(e.Message, want) {
		t.Errorf("message %q does not contain %q", e.Message, want)
	}
	for _, part := range strings.Split(token, ".") {
		if len(part) >= 8 && (strings.Contains(e.Message, part) || strings.Contains(err.Error(), part)) {
			t.Errorf("error echoes part of the token: %v", err)
		}
	}
}

func TestVerifyAccepts(t *testing.T) {
	v := newVerifier(t, staticConfig(t))
	tests := []struct {
		name  string
		token func(t *testing.T) string
		want  auth.Caller
	}{
		{"ES256", func(t *testing.T) string { return sign(t, key("es-a"), claims(nil)) },
			auth.Caller{AccountID: testAccount, UserID: testUser, UserName: testUserName, Principal: testSubject}},
		{"RS256", func(t *testing.T) string { return sign(t, key("rs-a"), claims(nil)) },
			auth.Caller{AccountID: testAccount, UserID: testUser, UserName: testUserName, Principal: testSubject}},
		{"no sub: principal is the person", func(t *testing.T) string {
			return sign(t, key("es-a"), claims(func(c jwt.MapClaims) { delete(c, "sub") }))
		}, auth.Caller{AccountID: testAccount, UserID: testUser, UserName: testUserName, Principal: testUser}},
		{"root identity: uid equals aid", func(t *testing.T) string {
			return sign(t, key("es-a"), claims(func(c jwt.MapClaims) { c["uid"] = testAccount; delete(c, "upn") }))
		}, auth.Caller{AccountID: testAccount, UserID: testAccount, Principal: testSubject}},
		{"login_name before name", func(t *testing.T) string {
			return sign(t, key("es-a"), claims(func(c jwt.MapClaims) { delete(c, "upn"); c["name"] = "Alice"; c["login_name"] = "alice" }))
		}, auth.Caller{AccountID: testAccount, UserID: testUser, UserName: "alice", Principal: testSubject}},
		{"a name with control characters is skipped", func(t *testing.T) string {
			return sign(t, key("es-a"), claims(func(c jwt.MapClaims) { c["upn"] = "alice\nFORGED"; c["name"] = "Alice" }))
		}, auth.Caller{AccountID: testAccount, UserID: testUser, UserName: "Alice", Principal: testSubject}},
		{"aud list containing ours", func(t *testing.T) string {
			return sign(t, key("es-a"), claims(func(c jwt.MapClaims) { c["aud"] = []string{"other", testAudience} }))
		}, auth.Caller{AccountID: testAccount, UserID: testUser, UserName: testUserName, Principal: testSubject}},
		{"no kid: tried against every key", func(t *testing.T) string {
			return sign(t, key("rs-a").withKID(""), claims(nil))
		}, auth.Caller{AccountID: testAccount, UserID: testUser, UserName: testUserName, Principal: testSubject}},
		{"no nbf and no iat", func(t *testing.T) string {
			return sign(t, key("es-a"), claims(func(c jwt.MapClaims) { delete(c, "nbf"); delete(c, "iat") }))
		}, auth.Caller{AccountID: testAccount, UserID: testUser, UserName: testUserName, Principal: testSubject}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := v.Verify(t.Context(), tt.token(t))
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got != tt.want {
				t.Errorf("caller = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestVerifyRejects(t *testing.T) {
	v := newVerifier(t, staticConfig(t))
	leeway := auth.DefaultLeeway
	at := func(d time.Duration) int64 { return now.Add(d).Unix() }
	withClaims := func(mod func(jwt.MapClaims)) func(t *testing.T) string {
		return func(t *testing.T) string { return sign(t, key("es-a"), claims(mod)) }
	}

	tests := []struct {
		name  string
		token func(t *testing.T) string
		want  string
	}{
		{"missing token", func(*testing.T) string { return "" }, "missing bearer token"},
		{"one segment", func(*testing.T) string { return "not-a-jwt" }, "malformed"},
		{"garbage segments", func(*testing.T) string { return "a.b.c" }, "malformed"},
		{"four segments", func(t *testing.T) string { return sign(t, key("es-a"), claims(nil)) + ".x" }, "malformed"},
		{"alg none", func(t *testing.T) string {
			tok := jwt.NewWithClaims(jwt.SigningMethodNone, claims(nil))
			tok.Header["kid"] = "es-a"
			s, err := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}, "algorithm not accepted"},
		{"HS256 keyed with the RSA public key PEM", func(t *testing.T) string {
			tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims(nil))
			tok.Header["kid"] = "rs-a"
			s, err := tok.SignedString(pemPublic(t, key("rs-a")))
			if err != nil {
				t.Fatal(err)
			}
			return s
		}, "algorithm not accepted"},
		{"HS256 keyed with the EC public key PEM, no kid", func(t *testing.T) string {
			s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims(nil)).SignedString(pemPublic(t, key("es-a")))
			if err != nil {
				t.Fatal(err)
			}
			return s
		}, "algorithm not accepted"},
		{"RS384 with the trusted key", func(t *testing.T) string {
			k := key("rs-a")
			k.method = jwt.SigningMethodRS384
			return sign(t, k, claims(nil))
		}, "algorithm not accepted"},
		{"unknown alg", func(*testing.T) string {
			enc := base64.RawURLEncoding.EncodeToString
			return enc([]byte(`{"alg":"XX256","typ":"JWT"}`)) + "." + enc([]byte(`{}`)) + ".c2ln"
		}, "algorithm not accepted"},
		{"unknown kid", func(t *testing.T) string { return sign(t, key("es-b"), claims(nil)) }, "signing key (kid) is not known"},
		{"another key under a trusted kid", func(t *testing.T) string {
			return sign(t, key("es-other").withKID("es-a"), claims(nil))
		}, "signature is invalid"},
		{"another RSA key under a trusted kid", func(t *testing.T) string {
			return sign(t, key("rs-other").withKID("rs-a"), claims(nil))
		}, "signature is invalid"},
		{"another key, no kid", func(t *testing.T) string {
			return sign(t, key("es-other").withKID(""), claims(nil))
		}, "signature is invalid"},
		{"ES256 naming the RSA key's kid", func(t *testing.T) string {
			return sign(t, key("es-other").withKID("rs-a"), claims(nil))
		}, "signing key could not be used"},
		{"kid not a string", func(t *testing.T) string {
			tok := jwt.NewWithClaims(jwt.SigningMethodES256, claims(nil))
			tok.Header["kid"] = 7
			s, err := tok.SignedString(key("es-a").priv)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}, "signing key could not be used"},
		{"payload swapped after signing", func(t *testing.T) string {
			good := strings.Split(sign(t, key("es-a"), claims(nil)), ".")
			evil := strings.Split(sign(t, key("es-other").withKID("es-a"), claims(func(c jwt.MapClaims) { c["aid"] = "6543210987654321" })), ".")
			return good[0] + "." + evil[1] + "." + good[2]
		}, "signature is invalid"},
		{"expired", withClaims(func(c jwt.MapClaims) { c["exp"] = at(-leeway) }), "token expired"},
		{"not yet valid", withClaims(func(c jwt.MapClaims) { c["nbf"] = at(leeway + time.Second) }), "not valid yet"},
		{"issued in the future", withClaims(func(c jwt.MapClaims) { c["iat"] = at(leeway + time.Second) }), "issued in the future"},
		{"no exp", withClaims(func(c jwt.MapClaims) { delete(c, "exp") }), "no expiry (exp)"},
		{"exp not a number", withClaims(func(c jwt.MapClaims) { c["exp"] = "tomorrow" }), "wrong type"},
		{"wrong issuer", withClaims(func(c jwt.MapClaims) { c["iss"] = "https://evil.example" }), "issuer not accepted"},
		{"issuer differs in case", withClaims(func(c jwt.MapClaims) { c["iss"] = strings.ToUpper(testIssuer) }), "issuer not accepted"},
		{"no issuer", withClaims(func(c jwt.MapClaims) { delete(c, "iss") }), "no issuer (iss)"},
		{"wrong audience", withClaims(func(c jwt.MapClaims) { c["aud"] = "another-app" }), "audience not accepted"},
		{"audience list without ours", withClaims(func(c jwt.MapClaims) { c["aud"] = []string{"a", "b"} }), "audience not accepted"},
		{"no audience", withClaims(func(c jwt.MapClaims) { delete(c, "aud") }), "no audience (aud)"},
		{"no account claim", withClaims(func(c jwt.MapClaims) { delete(c, "aid") }), `no account claim "aid"`},
		{"account claim is a number", withClaims(func(c jwt.MapClaims) { c["aid"] = 1234567890123456 }), "not a 16-digit account ID"},
		{"account claim 15 digits", withClaims(func(c jwt.MapClaims) { c["aid"] = "123456789012345" }), "not a 16-digit account ID"},
		{"account claim 17 digits", withClaims(func(c jwt.MapClaims) { c["aid"] = "12345678901234567" }), "not a 16-digit account ID"},
		{"account claim with a letter", withClaims(func(c jwt.MapClaims) { c["aid"] = "123456789012345x" }), "not a 16-digit account ID"},
		{"account claim with non-ASCII digits", withClaims(func(c jwt.MapClaims) { c["aid"] = strings.Repeat("٣", 16) }), "not a 16-digit account ID"},
		{"account claim padded", withClaims(func(c jwt.MapClaims) { c["aid"] = " " + testAccount }), "not a 16-digit account ID"},
		{"account claim empty", withClaims(func(c jwt.MapClaims) { c["aid"] = "" }), "not a 16-digit account ID"},
		{"no user claim", withClaims(func(c jwt.MapClaims) { delete(c, "uid") }), `no user claim "uid" (JWT_USER_CLAIM)`},
		{"user claim is a number", withClaims(func(c jwt.MapClaims) { c["uid"] = 2034567890123456 }), "not a UID string"},
		{"user claim with a letter", withClaims(func(c jwt.MapClaims) { c["uid"] = "20345678901234x6" }), "not a UID string"},
		{"user claim empty", withClaims(func(c jwt.MapClaims) { c["uid"] = "" }), "not a UID string"},
		{"user claim of 65 digits", withClaims(func(c jwt.MapClaims) { c["uid"] = strings.Repeat("1", 65) }), "not a UID string"},
		{"sub not a string", withClaims(func(c jwt.MapClaims) { c["sub"] = 42 }), "subject (sub) is not a string"},
		{"sub with a newline", withClaims(func(c jwt.MapClaims) { c["sub"] = "alice\nFORGED audit line" }), "control characters"},
		{"sub too long", withClaims(func(c jwt.MapClaims) { c["sub"] = strings.Repeat("a", auth.MaxPrincipalBytes+1) }), "longer than"},
		{"over 8 KiB, validly signed", withClaims(func(c jwt.MapClaims) { c["pad"] = strings.Repeat("x", auth.MaxTokenBytes) }), "larger than 8 KiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token := tt.token(t)
			got, err := v.Verify(t.Context(), token)
			wantUnauthenticated(t, err, token, tt.want)
			if got != (auth.Caller{}) {
				t.Errorf("rejected token still yielded caller %+v", got)
			}
		})
	}
}

// TestVerifyAlgAllowList uses a JWKS whose keys declare no alg (common, and
// what FC's trigger config shows), so nothing but the verifier's own allow-list
// stands between a trusted RSA key and the RS384/RS512/PS256 it could verify.
func TestVerifyAlgAllowList(t *testing.T) {
	store := jwkset.NewMemoryStorage()
	for _, k := range []testKey{key("rs-a"), key("es-a")} {
		jwk, err := jwkset.NewJWKFromKey(k.pub(), jwkset.JWKOptions{Metadata: jwkset.JWKMetadataOptions{KID: k.kid}})
		if err != nil {
			t.Fatal(err)
		}
		if err := store.KeyWrite(t.Context(), jwk); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := store.JSONPublic(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), `"alg"`) {
		t.Fatalf("fixture JWKS declares an alg: %s", raw)
	}
	v := newVerifier(t, auth.Config{Issuer: testIssuer, Audience: testAudience, JWKSJSON: raw, Now: fixedNow})

	for _, m := range []jwt.SigningMethod{jwt.SigningMethodRS256, jwt.SigningMethodES256} {
		k := key("rs-a")
		if m == jwt.SigningMethodES256 {
			k = key("es-a")
		}
		if _, err := v.Verify(t.Context(), sign(t, k, claims(nil))); err != nil {
			t.Fatalf("%s with an alg-less JWK: %v", m.Alg(), err)
		}
	}
	for _, m := range []jwt.SigningMethod{jwt.SigningMethodRS384, jwt.SigningMethodRS512, jwt.SigningMethodPS256} {
		t.Run(m.Alg(), func(t *testing.T) {
			k := key("rs-a")
			k.method = m
			token := sign(t, k, claims(nil))
			_, err := v.Verify(t.Context(), token)
			wantUnauthenticated(t, err, token, "algorithm not accepted")
		})
	}
}

// TestVerifyLeeway pins the edges: a claim exactly leeway past its limit is
// still accepted, one second more is not.
func TestVerifyLeeway(t *testing.T) {
	for _, leeway := range []time.Duration{0, 10 * time.Second} {
		cfg := staticConfig(t)
		cfg.Leeway = leeway
		if leeway == 0 {
			leeway = auth.DefaultLeeway
		}
		v := newVerifier(t, cfg)
		at := func(d time.Duration) int64 { return now.Add(d).Unix() }
		tests := []struct {
			name string
			mod  func(jwt.MapClaims)
			want string // "" means accepted
		}{
			{"exp just inside leeway", func(c jwt.MapClaims) { c["exp"] = at(-leeway + time.Second) }, ""},
			{"exp at leeway", func(c jwt.MapClaims) { c["exp"] = at(-leeway) }, "token expired"},
			{"nbf at leeway", func(c jwt.MapClaims) { c["nbf"] = at(leeway) }, ""},
			{"nbf past leeway", func(c jwt.MapClaims) { c["nbf"] = at(leeway + time.Second) }, "not valid yet"},
			{"iat at leeway", func(c jwt.MapClaims) { c["iat"] = at(leeway) }, ""},
			{"iat past leeway", func(c jwt.MapClaims) { c["iat"] = at(leeway + time.Second) }, "issued in the future"},
		}
		for _, tt := range tests {
			t.Run(leeway.String()+"/"+tt.name, func(t *testing.T) {
				token := sign(t, key("es-a"), claims(tt.mod))
				_, err := v.Verify(t.Context(), token)
				if tt.want == "" {
					if err != nil {
						t.Fatalf("Verify: %v", err)
					}
					return
				}
				wantUnauthenticated(t, err, token, tt.want)
			})
		}
	}
}

func TestVerifyCustomAccountClaim(t *testing.T) {
	cfg := staticConfig(t)
	cfg.AccountClaim = "account_uid"
	v := newVerifier(t, cfg)

	token := sign(t, key("es-a"), claims(func(c jwt.MapClaims) { c["account_uid"] = "6543210987654321" }))
	got, err := v.Verify(t.Context(), token)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if got.AccountID != "6543210987654321" {
		t.Errorf("AccountID = %q, want the account_uid claim", got.AccountID)
	}

	// The default claim alone is not enough once another is configured.
	token = sign(t, key("es-a"), claims(nil))
	_, err = v.Verify(t.Context(), token)
	wantUnauthenticated(t, err, token, `no account claim "account_uid"`)
}

func TestJWKSFromFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(path, jwksOf(t, key("rs-a")), 0o600); err != nil {
		t.Fatal(err)
	}
	v := newVerifier(t, auth.Config{Issuer: testIssuer, Audience: testAudience, JWKSFile: path, Now: fixedNow})

	if _, err := v.Verify(t.Context(), sign(t, key("rs-a"), claims(nil))); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	token := sign(t, key("es-a"), claims(nil))
	_, err := v.Verify(t.Context(), token)
	wantUnauthenticated(t, err, token, "not known")
}

func TestNewVerifierConfigErrors(t *testing.T) {
	jwks := jwksOf(t, key("es-a"))
	file := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(file, jwks, 0o600); err != nil {
		t.Fatal(err)
	}
	privateJWKS := func() []byte {
		jwk, err := jwkset.NewJWKFromKey(key("es-a").priv, jwkset.JWKOptions{Marshal: jwkset.JWKMarshalOptions{Private: true}})
		if err != nil {
			t.Fatal(err)
		}
		store := jwkset.NewMemoryStorage()
		if err := store.KeyWrite(t.Context(), jwk); err != nil {
			t.Fatal(err)
		}
		raw, err := store.JSONPrivate(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}()
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	base := func(mod func(*auth.Config)) auth.Config {
		c := auth.Config{Issuer: testIssuer, Audience: testAudience}
		mod(&c)
		return c
	}

	tests := []struct {
		name string
		cfg  auth.Config
		want string
	}{
		{"no source", base(func(c *auth.Config) {}), "exactly one of"},
		{"file and inline", base(func(c *auth.Config) { c.JWKSFile = file; c.JWKSJSON = jwks }), "exactly one of"},
		{"file and URL", base(func(c *auth.Config) { c.JWKSFile = file; c.JWKSURL = "https://x.example/jwks" }), "exactly one of"},
		{"all three", base(func(c *auth.Config) {
			c.JWKSFile = file
			c.JWKSURL = "https://x.example/jwks"
			c.JWKSJSON = jwks
		}), "exactly one of"},
		{"no issuer", base(func(c *auth.Config) { c.Issuer = ""; c.JWKSJSON = jwks }), "Config.Issuer is required"},
		{"no audience", base(func(c *auth.Config) { c.Audience = ""; c.JWKSJSON = jwks }), "Config.Audience is required"},
		{"negative leeway", base(func(c *auth.Config) { c.JWKSJSON = jwks; c.Leeway = -time.Second }), "Config.Leeway"},
		{"huge leeway", base(func(c *auth.Config) { c.JWKSJSON = jwks; c.Leeway = time.Hour }), "Config.Leeway"},
		{"plain http URL", base(func(c *auth.Config) { c.JWKSURL = "http://x.example/jwks" }), "https://"},
		{"relative URL", base(func(c *auth.Config) { c.JWKSURL = "/jwks" }), "https://"},
		{"refresh without URL", base(func(c *auth.Config) { c.JWKSJSON = jwks; c.JWKSRefresh = time.Minute }), "only with Config.JWKSURL"},
		{"missing file", base(func(c *auth.Config) { c.JWKSFile = filepath.Join(t.TempDir(), "nope.json") }), "Config.JWKSFile"},
		{"not JSON", base(func(c *auth.Config) { c.JWKSJSON = []byte("-----BEGIN PUBLIC KEY-----") }), "not a JWKS"},
		{"empty set", base(func(c *auth.Config) { c.JWKSJSON = []byte(`{"keys":[]}`) }), "no RSA or P-256"},
		{"only a P-384 key", base(func(c *auth.Config) {
			c.JWKSJSON = jwksOf(t, testKey{kid: "p384", method: jwt.SigningMethodES384, priv: p384})
		}), "no RSA or P-256"},
		{"private key material", base(func(c *auth.Config) { c.JWKSJSON = privateJWKS }), "public keys only"},
		{"symmetric key", base(func(c *auth.Config) {
			c.JWKSJSON = []byte(`{"keys":[{"kty":"oct","kid":"h","k":"c2VjcmV0"}]}`)
		}), "public keys only"},
		{"duplicate kid", base(func(c *auth.Config) {
			c.JWKSJSON = jwksOf(t, key("es-a"), key("es-b").withKID("es-a"))
		}), `two keys have kid "es-a"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := auth.NewVerifier(t.Context(), tt.cfg)
			if err == nil {
				v.Close()
				t.Fatalf("NewVerifier accepted the config; want error containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

// jwksServer is an https JWKS endpoint whose key set the test can swap.
type jwksServer struct {
	*httptest.Server
	body    atomic.Pointer[[]byte]
	fetches atomic.Int64
	fetched chan struct{} // one (non-blocking) signal per fetch
	status  atomic.Int64
}

func newJWKSServer(t *testing.T, body []byte) *jwksServer {
	s := &jwksServer{fetched: make(chan struct{}, 64)}
	s.body.Store(&body)
	s.status.Store(http.StatusOK)
	s.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fetches.Add(1)
		select {
		case s.fetched <- struct{}{}:
		default:
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(int(s.status.Load()))
		w.Write(*s.body.Load())
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) serve(body []byte) { s.body.Store(&body) }

func (s *jwksServer) config() auth.Config {
	return auth.Config{
		Issuer:     testIssuer,
		Audience:   testAudience,
		JWKSURL:    s.URL + "/.well-known/jwks.json",
		HTTPClient: s.Client(),
		Now:        fixedNow,
	}
}

func TestJWKSURLRotation(t *testing.T) {
	srv := newJWKSServer(t, jwksOf(t, key("es-a")))
	v := newVerifier(t, srv.config())
	if n := srv.fetches.Load(); n != 1 {
		t.Fatalf("%d fetches at start-up, want 1", n)
	}

	if _, err := v.Verify(t.Context(), sign(t, key("es-a"), claims(nil))); err != nil {
		t.Fatalf("Verify with the initial key: %v", err)
	}
	if n := srv.fetches.Load(); n != 1 {
		t.Fatalf("a known kid caused a fetch (%d fetches)", n)
	}

	// The issuer rotates: es-b appears. The first token signed with it is
	// accepted without a restart, via one re-fetch.
	srv.serve(jwksOf(t, key("es-a"), key("es-b")))
	got, err := v.Verify(t.Context(), sign(t, key("es-b"), claims(nil)))
	if err != nil {
		t.Fatalf("Verify with the rotated-in key: %v", err)
	}
	if got.AccountID != testAccount {
		t.Errorf("AccountID = %q", got.AccountID)
	}
	if n := srv.fetches.Load(); n != 2 {
		t.Fatalf("%d fetches after rotation, want 2", n)
	}

	// Another unknown kid right away is answered from the cache: the
	// re-fetch is rate-limited, and the request does not wait for it.
	srv.serve(jwksOf(t, key("es-a"), key("es-b"), key("es-c")))
	for range 3 {
		token := sign(t, key("es-c"), claims(nil))
		_, err = v.Verify(t.Context(), token)
		wantUnauthenticated(t, err, token, "signing key (kid) is not known")
	}
	if n := srv.fetches.Load(); n != 2 {
		t.Fatalf("%d fetches, want the rate limit to hold them at 2", n)
	}
	// Known keys keep working meanwhile.
	if _, err := v.Verify(t.Context(), sign(t, key("es-b"), claims(nil))); err != nil {
		t.Fatalf("Verify with a cached key: %v", err)
	}
}

func TestJWKSURLPeriodicRefreshDropsRevokedKey(t *testing.T) {
	srv := newJWKSServer(t, jwksOf(t, key("es-a"), key("es-b")))
	cfg := srv.config()
	cfg.JWKSRefresh = 5 * time.Millisecond
	v := newVerifier(t, cfg)
	<-srv.fetched // the start-up fetch

	revoked := sign(t, key("es-a"), claims(nil))
	if _, err := v.Verify(t.Context(), revoked); err != nil {
		t.Fatalf("Verify before revocation: %v", err)
	}

	srv.serve(jwksOf(t, key("es-b")))
	// A fetch signal says a refresh reached the server, not that its result
	// is cached yet, so check after each refresh until the revocation shows
	// (bounded: it must show within a few refreshes).
	for i := 0; ; i++ {
		select {
		case <-srv.fetched:
		case <-t.Context().Done():
			t.Fatal("no periodic refresh")
		}
		if _, err := v.Verify(t.Context(), revoked); err != nil || i > 200 {
			break
		}
	}

	_, err := v.Verify(t.Context(), revoked)
	wantUnauthenticated(t, err, revoked, "not known")
	if _, err := v.Verify(t.Context(), sign(t, key("es-b"), claims(nil))); err != nil {
		t.Fatalf("Verify with the remaining key: %v", err)
	}
}

func TestJWKSURLStartupFailures(t *testing.T) {
	t.Run("server error", func(t *testing.T) {
		srv := newJWKSServer(t, []byte(`oops`))
		srv.status.Store(http.StatusInternalServerError)
		if v, err := auth.NewVerifier(t.Context(), srv.config()); err == nil {
			v.Close()
			t.Fatal("NewVerifier succeeded against a failing JWKS URL")
		}
	})
	t.Run("no usable key", func(t *testing.T) {
		srv := newJWKSServer(t, []byte(`{"keys":[]}`))
		_, err := auth.NewVerifier(t.Context(), srv.config())
		if err == nil || !strings.Contains(err.Error(), "no RSA or P-256") {
			t.Fatalf("err = %v, want no usable key", err)
		}
	})
	t.Run("untrusted certificate", func(t *testing.T) {
		srv := newJWKSServer(t, jwksOf(t, key("es-a")))
		cfg := srv.config()
		cfg.HTTPClient = nil // the default client does not trust httptest's CA
		if v, err := auth.NewVerifier(t.Context(), cfg); err == nil {
			v.Close()
			t.Fatal("NewVerifier trusted a self-signed JWKS endpoint")
		}
	})
	t.Run("cancelled context", func(t *testing.T) {
		srv := newJWKSServer(t, jwksOf(t, key("es-a")))
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if v, err := auth.NewVerifier(ctx, srv.config()); err == nil {
			v.Close()
			t.Fatal("NewVerifier succeeded with a cancelled context")
		}
	})
}

// TestVerifyConcurrent runs verifications while the key set rotates, for the
// race detector.
func TestVerifyConcurrent(t *testing.T) {
	srv := newJWKSServer(t, jwksOf(t, key("es-a"), key("rs-a")))
	v := newVerifier(t, srv.config())
	good := []string{sign(t, key("es-a"), claims(nil)), sign(t, key("rs-a"), claims(nil))}
	unknown := sign(t, key("es-b"), claims(nil))

	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 20 {
				if _, err := v.Verify(t.Context(), good[(g+i)%2]); err != nil {
					t.Errorf("Verify: %v", err)
					return
				}
				if _, err := v.Verify(t.Context(), unknown); err == nil {
					t.Error("unknown kid accepted")
					return
				}
			}
		})
	}
	srv.serve(jwksOf(t, key("es-a"), key("rs-a"), key("es-c")))
	wg.Wait()
}

func TestCloseIsIdempotent(t *testing.T) {
	srv := newJWKSServer(t, jwksOf(t, key("es-a")))
	v, err := auth.NewVerifier(t.Context(), srv.config())
	if err != nil {
		t.Fatal(err)
	}
	v.Close()
	v.Close()
	// Cached keys still verify after Close; only refreshing stops.
	if _, err := v.Verify(t.Context(), sign(t, key("es-a"), claims(nil))); err != nil {
		t.Fatalf("Verify after Close: %v", err)
	}
	newVerifier(t, staticConfig(t)).Close() // no refresh goroutine: still fine
	var nilV *auth.JWTVerifier
	nilV.Close()
}

func TestBearerToken(t *testing.T) {
	tests := []struct {
		header string
		want   string // token, or the error message fragment when wantErr
		err    bool
	}{
		{"Bearer abc.def.ghi", "abc.def.ghi", false},
		{"bearer abc.def.ghi", "abc.def.ghi", false},
		{"BEARER abc.def.ghi", "abc.def.ghi", false},
		{"  Bearer   abc.def.ghi  ", "abc.def.ghi", false},
		{"", "missing Authorization header", true},
		{"   ", "missing Authorization header", true},
		{"Bearer", "no bearer token", true},
		{"Bearer    ", "no bearer token", true},
		{"Basic dXNlcjpzZWNyZXRwYXNz", "must use the Bearer scheme", true},
		{"eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl", "must use the Bearer scheme", true},
		{"Bearerabc.def.ghi", "must use the Bearer scheme", true},
		{"Token abc", "must use the Bearer scheme", true},
		{"Bearer abc def", "without spaces", true},
		{"Bearer abc\tdef", "without spaces", true},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			got, err := auth.BearerToken(tt.header)
			if !tt.err {
				if err != nil || got != tt.want {
					t.Fatalf("BearerToken(%q) = %q, %v; want %q", tt.header, got, err, tt.want)
				}
				return
			}
			if got != "" {
				t.Errorf("returned %q alongside an error", got)
			}
			_, credential, _ := strings.Cut(strings.TrimSpace(tt.header), " ")
			if credential == "" {
				credential = strings.TrimSpace(tt.header)
			}
			wantUnauthenticated(t, err, credential, tt.want)
			if len(credential) >= 3 && strings.Contains(err.Error(), credential) {
				t.Errorf("error echoes the credential: %v", err)
			}
		})
	}
}

// BenchmarkVerify measures the per-request cost of an ES256 token against a
// static JWKS: Verify runs on every request.
func BenchmarkVerify(b *testing.B) {
	v, err := auth.NewVerifier(context.Background(), auth.Config{
		Issuer: testIssuer, Audience: testAudience, Now: fixedNow,
		JWKSJSON: jwksOf(b, key("es-a"), key("es-b"), key("rs-a")),
	})
	if err != nil {
		b.Fatal(err)
	}
	defer v.Close()
	token := sign(b, key("es-a"), claims(nil))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, token); err != nil {
			b.Fatal(err)
		}
	}
}

// A token without the account or user claim is refused with the names of
// the claims it does carry (so the operator sees which to configure), never
// their values.
func TestMissingClaimListsNamesOnly(t *testing.T) {
	v := newVerifier(t, staticConfig(t))
	for _, missing := range []string{"aid", "uid"} {
		token := sign(t, key("es-a"), claims(func(c jwt.MapClaims) {
			delete(c, missing)
			c["aliuid_hint"] = "secret-value-9876543210"
		}))
		_, err := v.Verify(t.Context(), token)
		e, ok := apperr.As(err)
		if !ok || e.Kind != apperr.KindUnauthenticated {
			t.Fatalf("without %s: %v", missing, err)
		}
		for _, name := range []string{`"aliuid_hint"`, `"aud"`, `"exp"`, `"sub"`, `"upn"`} {
			if !strings.Contains(e.Message, name) {
				t.Errorf("without %s: message %q does not list claim %s", missing, e.Message, name)
			}
		}
		for _, value := range []string{"secret-value", testSubject, testUserName, testIssuer} {
			if strings.Contains(e.Message, value) {
				t.Errorf("without %s: message %q carries the value %q", missing, e.Message, value)
			}
		}
	}
}

// With UserClaim NoUserClaim the tokens name no person: every caller is its
// account's root identity, whatever uid the token carries.
func TestNoUserClaim(t *testing.T) {
	cfg := staticConfig(t)
	cfg.UserClaim = auth.NoUserClaim
	v := newVerifier(t, cfg)
	for _, mod := range []func(jwt.MapClaims){func(c jwt.MapClaims) { delete(c, "uid") }, nil} {
		got, err := v.Verify(t.Context(), sign(t, key("es-a"), claims(mod)))
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		if got.UserID != testAccount {
			t.Errorf("UserID = %q, want the account %s (root identity)", got.UserID, testAccount)
		}
	}
}

func TestUserClaimMustDifferFromAccountClaim(t *testing.T) {
	cfg := staticConfig(t)
	cfg.UserClaim = "aid"
	if _, err := auth.NewVerifier(t.Context(), cfg); err == nil || !strings.Contains(err.Error(), "UserClaim") {
		t.Fatalf("NewVerifier with the same account and user claim: %v", err)
	}
}
