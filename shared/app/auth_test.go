package app_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"

	"github.com/sase-multiaccount/backend/shared/auth"
	"github.com/sase-multiaccount/backend/shared/local/localkey"
)

// claimsFor returns valid claims for account; mod edits them.
func claimsFor(account string, mod func(jwt.MapClaims)) jwt.MapClaims {
	now := time.Now()
	c := jwt.MapClaims{
		"iss": localkey.Issuer,
		"aud": localkey.Audience,
		"aid": account,
		"uid": account,
		"sub": "alice@" + account,
		"iat": now.Add(-time.Minute).Unix(),
		"nbf": now.Add(-time.Minute).Unix(),
		"exp": now.Add(time.Hour).Unix(),
	}
	if mod != nil {
		mod(c)
	}
	return c
}

// publicKeyPEM is the signer's public key as PEM: what an attacker who
// fetched the JWKS holds, and the key of the HS256 confusion attack.
func publicKeyPEM(t *testing.T, s *localkey.Signer) []byte {
	t.Helper()
	var set jwkset.JWKSMarshal
	if err := json.Unmarshal(s.JWKS(), &set); err != nil || len(set.Keys) != 1 {
		t.Fatalf("JWKS: %v (%d keys)", err, len(set.Keys))
	}
	jwk, err := jwkset.NewJWKFromMarshal(set.Keys[0], jwkset.JWKMarshalOptions{}, jwkset.JWKValidateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(jwk.Key())
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func TestTokensRejected(t *testing.T) {
	k := newKit(t)
	k.standard()
	mint := func(mod func(jwt.MapClaims)) func(t *testing.T) string {
		return func(t *testing.T) string {
			s, err := k.signer.MintClaims(claimsFor(ownerID, mod))
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
	}
	other, err := localkey.New()
	if err != nil {
		t.Fatal(err)
	}
	otherKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.RawURLEncoding.EncodeToString

	cases := []struct {
		name    string
		header  func(t *testing.T) *string // the Authorization header; nil = absent
		mention string
	}{
		{"missing header", func(*testing.T) *string { return nil }, "missing"},
		{"empty header", func(*testing.T) *string { return ptr("") }, "missing"},
		{"Basic scheme", func(*testing.T) *string { return ptr("Basic dXNlcjpwYXNz") }, "Bearer"},
		{"bare token without scheme", func(t *testing.T) *string { return ptr(k.token(ownerID)) }, "Bearer"},
		{"Bearer without token", func(*testing.T) *string { return ptr("Bearer ") }, "token"},
		{"two values", func(t *testing.T) *string { return ptr("Bearer " + k.token(ownerID) + " " + k.token(ownerID)) }, "single"},
		{"malformed", func(*testing.T) *string { return ptr("Bearer not-a-jwt") }, "malformed"},
		{"malformed segments", func(*testing.T) *string { return ptr("Bearer a.b.c") }, "malformed"},
		{"garbage payload", func(*testing.T) *string {
			return ptr("Bearer " + b64([]byte(`{"alg":"ES256"}`)) + "." + b64([]byte("[1,2")) + ".c2ln")
		}, "malformed"},
		{"huge token", func(*testing.T) *string { return ptr("Bearer " + strings.Repeat("a", 9<<10)) }, "larger"},
		{"expired", bearer(mint(func(c jwt.MapClaims) {
			c["iat"], c["nbf"], c["exp"] = time.Now().Add(-2*time.Hour).Unix(), time.Now().Add(-2*time.Hour).Unix(), time.Now().Add(-time.Hour).Unix()
		})), "expired"},
		{"not yet valid", bearer(mint(func(c jwt.MapClaims) { c["nbf"] = time.Now().Add(time.Hour).Unix() })), "not valid yet"},
		{"issued in the future", bearer(mint(func(c jwt.MapClaims) { c["iat"] = time.Now().Add(time.Hour).Unix() })), "future"},
		{"no exp", bearer(mint(func(c jwt.MapClaims) { delete(c, "exp") })), "exp"},
		{"wrong issuer", bearer(mint(func(c jwt.MapClaims) { c["iss"] = "https://evil.example" })), "issuer"},
		{"no issuer", bearer(mint(func(c jwt.MapClaims) { delete(c, "iss") })), "issuer"},
		{"wrong audience", bearer(mint(func(c jwt.MapClaims) { c["aud"] = "another-app" })), "audience"},
		{"audience list without ours", bearer(mint(func(c jwt.MapClaims) { c["aud"] = []string{"a", "b"} })), "audience"},
		{"alg none", bearer(func(t *testing.T) string {
			tok := jwt.NewWithClaims(jwt.SigningMethodNone, claimsFor(ownerID, nil))
			tok.Header["kid"] = k.signer.KeyID()
			s, err := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}), "algorithm"},
		{"alg none hand-made, empty signature", bearer(func(*testing.T) string {
			claims, _ := json.Marshal(claimsFor(ownerID, nil))
			return b64([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + b64(claims) + "."
		}), ""},
		{"HS256 keyed with the public key", bearer(func(t *testing.T) string {
			tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claimsFor(ownerID, nil))
			tok.Header["kid"] = k.signer.KeyID()
			s, err := tok.SignedString(publicKeyPEM(t, k.signer))
			if err != nil {
				t.Fatal(err)
			}
			return s
		}), "algorithm"},
		{"signed by another local key", bearer(func(t *testing.T) string {
			s, err := other.MintClaims(claimsFor(ownerID, nil))
			if err != nil {
				t.Fatal(err)
			}
			return s
		}), "key"},
		{"another key under the trusted kid", bearer(func(t *testing.T) string {
			tok := jwt.NewWithClaims(jwt.SigningMethodES256, claimsFor(ownerID, nil))
			tok.Header["kid"] = k.signer.KeyID()
			s, err := tok.SignedString(otherKey)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}), "signature"},
		{"payload swapped after signing", bearer(func(t *testing.T) string {
			good := strings.Split(k.token(strangerID), ".")
			evil, _ := json.Marshal(claimsFor(ownerID, nil))
			return good[0] + "." + b64(evil) + "." + good[2]
		}), "signature"},
		{"no account claim", bearer(mint(func(c jwt.MapClaims) { delete(c, "aid") })), "account"},
		{"no user claim", bearer(mint(func(c jwt.MapClaims) { delete(c, "uid") })), "JWT_USER_CLAIM"},
		{"user claim with letters", bearer(mint(func(c jwt.MapClaims) { c["uid"] = "alice" })), "user claim"},
		{"account claim a number", bearer(mint(func(c jwt.MapClaims) { c["aid"] = 1000000000000001 })), "account"},
		{"account claim 15 digits", bearer(mint(func(c jwt.MapClaims) { c["aid"] = "100000000000001" })), "account"},
		{"account claim 17 digits", bearer(mint(func(c jwt.MapClaims) { c["aid"] = "10000000000000011" })), "account"},
		{"account claim with letters", bearer(mint(func(c jwt.MapClaims) { c["aid"] = "10000000000000a1" })), "account"},
		{"account claim with Arabic-Indic digits", bearer(mint(func(c jwt.MapClaims) { c["aid"] = "١٠٠٠٠٠٠٠٠٠٠٠٠٠٠١" })), "account"},
		{"account claim a list", bearer(mint(func(c jwt.MapClaims) { c["aid"] = []string{ownerID} })), "account"},
		{"subject with control characters", bearer(mint(func(c jwt.MapClaims) { c["sub"] = "alice\nrole=admin" })), "subject"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			hdr := tc.header(t)
			for _, fn := range []string{"describe-setup", "add-members"} {
				before := k.snapshot()
				rq := request{Fn: fn, Auth: hdr, Body: `{"Members":[{"AccountId":"` + candID + `"}]}`}
				r := k.do(t, rq)
				wantErr(t, r, 401, "Unauthenticated", tc.mention)
				if after := k.snapshot(); after != before {
					t.Errorf("%s with a rejected token wrote:\n%s", fn, diff(before, after))
				}
			}
		})
	}
	// The token never reaches the log.
	if logs := k.logs.String(); strings.Contains(logs, k.token(ownerID)) {
		t.Errorf("a bearer token was logged")
	}
}

func ptr(s string) *string { return &s }

func bearer(tok func(t *testing.T) string) func(t *testing.T) *string {
	return func(t *testing.T) *string { return ptr("Bearer " + tok(t)) }
}

func TestTokenAccepted(t *testing.T) {
	k := newKit(t)
	k.standard()
	// Scheme case-insensitive; audience as a list; no sub: the account is the principal.
	s, err := k.signer.MintClaims(claimsFor(daID, func(c jwt.MapClaims) {
		c["aud"] = []string{"x", localkey.Audience}
		delete(c, "sub")
	}))
	if err != nil {
		t.Fatal(err)
	}
	r := k.do(t, request{Fn: "describe-setup", Auth: ptr("bearer  " + s)})
	wantOK(t, r)
	var out struct {
		Caller struct{ AccountId, Role string }
	}
	r.decode(t, &out)
	if out.Caller.AccountId != daID || out.Caller.Role != "DelegatedAdministrator" {
		t.Fatalf("Caller = %+v", out.Caller)
	}
	// Expired within the 30 s leeway still passes.
	s, err = k.signer.MintClaims(claimsFor(daID, func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-5 * time.Second).Unix() }))
	if err != nil {
		t.Fatal(err)
	}
	wantOK(t, k.do(t, request{Fn: "describe-setup", Auth: ptr("Bearer " + s)}))
}

// TestAccountOnlyFromToken: the account comes only from the verified token.
// Headers, the body and requestContext.accountId naming another account
// change nothing.
func TestAccountOnlyFromToken(t *testing.T) {
	k := newKit(t)
	fx := k.standard()
	spoof := map[string]string{
		"X-Acs-Account-Id": ownerID, "X-Fc-Account-Id": ownerID, "X-Account-Id": ownerID,
		"X-Acs-Caller-Uid": ownerID, "X-Forwarded-User": ownerID, "X-Caller-Account": ownerID,
	}
	before := k.snapshot()

	// A stranger claiming to be the MA everywhere but the token.
	for _, fn := range []string{"describe-setup", "list-members", "list-audit-events"} {
		r := k.do(t, request{Fn: fn, As: strangerID, Headers: spoof, CtxAccount: ownerID})
		wantErr(t, r, 403, "Forbidden.Role", strangerID)
	}
	r := k.do(t, request{Fn: "add-members", As: strangerID, Headers: spoof, CtxAccount: ownerID,
		Body: map[string]any{"Members": []map[string]string{{"AccountId": candID}}}})
	wantErr(t, r, 403, "Forbidden.Role")
	// An account claim in the body is not a field: refused, not believed.
	r = k.do(t, request{Fn: "update-member-remark", As: memberID, Headers: spoof,
		Body: map[string]any{"AccountId": saseID, "Remark": "x", "CallerAccountId": ownerID}})
	wantErr(t, r, 403, "Forbidden.Role")
	if after := k.snapshot(); after != before {
		t.Fatalf("spoofed requests wrote:\n%s", diff(before, after))
	}

	// The MA whose requestContext names the stranger is still the MA, and
	// the audit trail records the token's account and subject.
	r = k.do(t, request{Fn: "describe-setup", As: ownerID, CtxAccount: strangerID,
		Headers: map[string]string{"X-Acs-Account-Id": strangerID}})
	wantOK(t, r)
	var out struct {
		Caller struct{ AccountId, Role string }
	}
	r.decode(t, &out)
	if out.Caller.AccountId != ownerID || out.Caller.Role != "ManagementAccount" {
		t.Fatalf("Caller = %+v", out.Caller)
	}
	r = k.do(t, request{Fn: "add-members", As: daID, CtxAccount: strangerID,
		Headers: map[string]string{"X-Acs-Account-Id": ownerID},
		Body:    map[string]any{"Members": []map[string]string{{"AccountId": candID}}}})
	wantOK(t, r)
	m, ok := k.member(fx.dir.ID, candID)
	if !ok || m.AddedBy != daID {
		t.Fatalf("member %+v (ok %v): AddedBy must be the token's account %s", m, ok, daID)
	}
	evs := k.allAudit(fx.dir.ID)
	if len(evs) == 0 || evs[0].ActorAccountID != daID || evs[0].ActorPrincipal != "user@"+daID || evs[0].ActorRole != "DelegatedAdministrator" {
		t.Fatalf("newest audit event %+v: want the token's account, subject and role", evs[0])
	}
}

// TestVerifierOnlyTrustsItsSigner is a guard for the kit itself: a verifier
// built from VerifierConfig accepts exactly the kit signer's tokens.
func TestVerifierOnlyTrustsItsSigner(t *testing.T) {
	k := newKit(t)
	other, err := localkey.New()
	if err != nil {
		t.Fatal(err)
	}
	tok, err := other.Mint(ownerID, "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.verifier.Verify(context.Background(), tok); err == nil {
		t.Fatal("the kit verifier accepted another key's token")
	}
	if _, err := k.verifier.Verify(context.Background(), k.token(ownerID)); err != nil {
		t.Fatalf("the kit verifier refused its own token: %v", err)
	}
	var _ auth.Verifier = k.verifier
}
