package localkey_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/auth"
	"github.com/sase-multiaccount/backend/shared/local/localkey"
	"github.com/sase-multiaccount/backend/shared/role"
)

const account = "1000000000000001"

func verifier(t *testing.T, s *localkey.Signer) *auth.JWTVerifier {
	t.Helper()
	v, err := auth.NewVerifier(t.Context(), s.VerifierConfig())
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	t.Cleanup(v.Close)
	return v
}

func mint(t *testing.T, s *localkey.Signer, principal string) string {
	t.Helper()
	tok, err := s.Mint(account, principal, time.Hour)
	if err != nil {
		t.Fatalf("Mint: %v", err)
	}
	return tok
}

func TestMintVerifies(t *testing.T) {
	s, err := localkey.New()
	if err != nil {
		t.Fatal(err)
	}
	v := verifier(t, s)

	got, err := v.Verify(t.Context(), mint(t, s, "local-user"))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if want := (auth.Caller{AccountID: account, UserID: account, Principal: "local-user"}); got != want {
		t.Errorf("caller = %+v, want %+v (the root identity)", got, want)
	}

	got, err = v.Verify(t.Context(), mint(t, s, ""))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if got.Principal != account {
		t.Errorf("Principal = %q, want the account ID when no principal is given", got.Principal)
	}

	// A RAM user: the claims of Alibaba Cloud OAuth's ID tokens.
	p := role.Person{AccountID: account, UserID: "2000000000000042", UserName: "alice@example.onaliyun.com"}
	tok, err := s.MintPerson(p, localkey.Subject(p), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if got, err = v.Verify(t.Context(), tok); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if want := (auth.Caller{AccountID: account, UserID: p.UserID, UserName: p.UserName, Principal: localkey.Subject(p)}); got != want {
		t.Errorf("caller = %+v, want %+v", got, want)
	}
	if sub := localkey.Subject(p); strings.Contains(sub, p.UserID) || strings.Contains(sub, account) || sub == localkey.Subject(role.Person{AccountID: account, UserID: account}) {
		t.Errorf("Subject %q is not opaque and per person", sub)
	}
	if _, err := s.MintPerson(role.Person{AccountID: account, UserID: "alice"}, "", time.Hour); !apperr.IsCode(err, "InvalidParameter.UserId") {
		t.Errorf("MintPerson with a UserId of letters: %v", err)
	}
}

func TestMintClaims(t *testing.T) {
	s, err := localkey.New()
	if err != nil {
		t.Fatal(err)
	}
	tok := mint(t, s, "p")
	parsed, _, err := jwt.NewParser().ParseUnverified(tok, jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	if parsed.Header["alg"] != "ES256" || parsed.Header["kid"] != s.KeyID() {
		t.Errorf("header = %v, want ES256 with kid %q", parsed.Header, s.KeyID())
	}
	c := parsed.Claims.(jwt.MapClaims)
	for _, name := range []string{"iss", "aud", "sub", "aid", "iat", "nbf", "exp", "jti"} {
		if _, ok := c[name]; !ok {
			t.Errorf("claim %q missing from %v", name, c)
		}
	}
	if c["iss"] != localkey.Issuer || c["aud"] != localkey.Audience || c["aid"] != account {
		t.Errorf("claims = %v", c)
	}
	iat, _ := c.GetIssuedAt()
	exp, _ := c.GetExpirationTime()
	if d := exp.Sub(iat.Time); d != time.Hour {
		t.Errorf("exp - iat = %s, want 1h", d)
	}
	if other := mint(t, s, "p"); other == tok {
		t.Error("two mints gave the same token; jti should differ")
	}

	// Arbitrary claims carry the same key and kid, so tests can make tokens
	// that are validly signed but otherwise wrong.
	expired, err := s.MintClaims(jwt.MapClaims{
		"iss": localkey.Issuer, "aud": localkey.Audience, "aid": account,
		"exp": time.Now().Add(-time.Hour).Unix(),
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = verifier(t, s).Verify(t.Context(), expired)
	if e, ok := apperr.As(err); !ok || e.Kind != apperr.KindUnauthenticated || !strings.Contains(e.Message, "expired") {
		t.Errorf("expired MintClaims token: err = %v", err)
	}
}

func TestMintRejects(t *testing.T) {
	s, err := localkey.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"", "123", "12345678901234567", "abcdefghijklmnop"} {
		_, err := s.Mint(id, "", time.Hour)
		if !apperr.IsCode(err, apperr.InvalidParameter("AccountId")) {
			t.Errorf("Mint(%q): err = %v, want InvalidParameter.AccountId", id, err)
		}
	}
	for _, ttl := range []time.Duration{0, -time.Second} {
		if _, err := s.Mint(account, "", ttl); err == nil {
			t.Errorf("Mint with ttl %s succeeded", ttl)
		}
	}
}

func TestSignersAreDistinct(t *testing.T) {
	a, err := localkey.New()
	if err != nil {
		t.Fatal(err)
	}
	b, err := localkey.New()
	if err != nil {
		t.Fatal(err)
	}
	if a.KeyID() == b.KeyID() {
		t.Fatal("two keys share a kid")
	}
	_, err = verifier(t, a).Verify(t.Context(), mint(t, b, ""))
	if !apperr.IsKind(err, apperr.KindUnauthenticated) {
		t.Errorf("a's verifier accepted b's token: %v", err)
	}
}

func TestJWKSIsPublic(t *testing.T) {
	s, err := localkey.New()
	if err != nil {
		t.Fatal(err)
	}
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(s.JWKS(), &set); err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) != 1 {
		t.Fatalf("JWKS has %d keys, want 1", len(set.Keys))
	}
	k := set.Keys[0]
	for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"} {
		if _, ok := k[private]; ok {
			t.Errorf("JWKS exposes private member %q", private)
		}
	}
	want := map[string]any{"kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": s.KeyID()}
	for name, v := range want {
		if k[name] != v {
			t.Errorf("JWKS %s = %v, want %v", name, k[name], v)
		}
	}

	// JWKS hands out a copy: scribbling on it changes nothing.
	j := s.JWKS()
	clear(j)
	if _, err := auth.NewVerifier(t.Context(), s.VerifierConfig()); err != nil {
		t.Errorf("JWKS shares its buffer: %v", err)
	}
}

func TestLoadOrCreatePersists(t *testing.T) {
	dir := filepath.Join(t.TempDir(), ".local", "keys")
	first, err := localkey.LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, localkey.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" {
		if perm := fi.Mode().Perm(); perm != 0o600 {
			t.Errorf("key file mode %04o, want 0600", perm)
		}
		di, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if perm := di.Mode().Perm(); perm != 0o700 {
			t.Errorf("key dir mode %04o, want 0700", perm)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("dir holds %d entries, want only the key (temp file left behind?)", len(entries))
	}

	token := mint(t, first, "before-restart")

	// A restart: the same key comes back, and old tokens still verify.
	second, err := localkey.LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	if first.KeyID() != second.KeyID() || string(first.JWKS()) != string(second.JWKS()) {
		t.Fatal("LoadOrCreate made a new key instead of reusing the stored one")
	}
	if _, err := verifier(t, second).Verify(t.Context(), token); err != nil {
		t.Fatalf("token minted before the restart: %v", err)
	}
}

func TestLoadOrCreateConcurrentFirstRun(t *testing.T) {
	dir := t.TempDir()
	const n = 8
	kids := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			s, err := localkey.LoadOrCreate(dir)
			errs[i] = err
			if err == nil {
				kids[i] = s.KeyID()
			}
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("LoadOrCreate %d: %v", i, errs[i])
		}
		if kids[i] != kids[0] {
			t.Fatalf("concurrent first runs got different keys: %q vs %q", kids[i], kids[0])
		}
	}
}

func TestLoadOrCreateRefusesBadFiles(t *testing.T) {
	t.Run("readable by others", func(t *testing.T) {
		if runtime.GOOS == "windows" {
			return // no Unix permissions to check
		}
		dir := t.TempDir()
		if _, err := localkey.LoadOrCreate(dir); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(filepath.Join(dir, localkey.KeyFile), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := localkey.LoadOrCreate(dir)
		if err == nil || !strings.Contains(err.Error(), "chmod 600") {
			t.Fatalf("err = %v, want a refusal naming chmod 600", err)
		}
	})
	t.Run("not a key", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, localkey.KeyFile), []byte("garbage"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := localkey.LoadOrCreate(dir)
		if err == nil || !strings.Contains(err.Error(), "delete it") {
			t.Fatalf("err = %v, want a refusal saying to delete the file", err)
		}
	})
}
