// Package localkey is the identity provider of `make run` and of tests: an
// ES256 key pair whose public half the local server's verifier trusts, and
// which mints tokens for POST /_local/token (API.md). Tokens it mints go
// through the same JWTVerifier as production tokens, so local runs exercise
// the real verification path. It is never built into a function.
package localkey

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/auth"
	"github.com/sase-multiaccount/backend/shared/role"
	"github.com/sase-multiaccount/backend/shared/validate"
)

const (
	Issuer   = "sase-local"
	Audience = "sase-multi-account"
	// KeyFile is the private key's file name under the LoadOrCreate dir.
	KeyFile = "jwt-signing-key.pem"
)

// Signer holds a private key and mints tokens with it. It is safe for
// concurrent use.
type Signer struct {
	key    crypto.Signer
	method jwt.SigningMethod
	kid    string
	jwks   []byte
	now    func() time.Time
}

// New returns a Signer with a fresh in-memory P-256 key (ES256).
func New() (*Signer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("localkey: generating key: %w", err)
	}
	return newSigner(key)
}

// LoadOrCreate returns the Signer whose key is stored in dir/KeyFile,
// creating dir (0700) and the key (0600) on first use. Reusing the key means
// tokens minted before a restart of `make run` stay valid after it.
func LoadOrCreate(dir string) (*Signer, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("localkey: creating key directory: %w", err)
	}
	path := filepath.Join(dir, KeyFile)
	s, err := load(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return s, err
	}

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("localkey: generating key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("localkey: encoding key: %w", err)
	}
	if err := publish(dir, path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})); err != nil {
		return nil, err
	}
	// Load what is on disk rather than the key just made: when two processes
	// start together, the first to publish wins and both must use its key.
	return load(path)
}

// publish writes data to path without ever exposing a partial file, and
// without replacing a key another process published first: the data goes
// to a 0600 temporary file that is then hard-linked into place (link fails
// if path exists, where rename would overwrite).
func publish(dir, path string, data []byte) error {
	tmp, err := os.CreateTemp(dir, ".tmp-"+KeyFile+"-*")
	if err != nil {
		return fmt.Errorf("localkey: writing key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("localkey: writing key: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("localkey: writing key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("localkey: writing key: %w", err)
	}
	err = os.Link(tmp.Name(), path)
	switch {
	case err == nil, errors.Is(err, fs.ErrExist):
		return nil
	default:
		// Some file systems (certain container mounts) have no hard links; a
		// rename is still atomic, only the first-writer-wins guarantee is lost.
		if rerr := os.Rename(tmp.Name(), path); rerr != nil {
			return fmt.Errorf("localkey: publishing key: %w", errors.Join(err, rerr))
		}
		return nil
	}
}

func load(path string) (*Signer, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("localkey: %w", err)
	}
	// Windows reports 0666 for any writable file, so the check means nothing there.
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("localkey: %s is accessible by other users (mode %04o); run chmod 600 on it, or delete it to get a new key", path, fi.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("localkey: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("localkey: %s is not a PEM PKCS#8 private key; delete it to get a new key", path)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("localkey: %s: %w; delete it to get a new key", path, err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("localkey: %s holds a %T, not an ECDSA P-256 or RSA key", path, key)
	}
	s, err := newSigner(signer)
	if err != nil {
		return nil, fmt.Errorf("localkey: %s: %w", path, err)
	}
	return s, nil
}

func newSigner(key crypto.Signer) (*Signer, error) {
	var method jwt.SigningMethod
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		if k.Curve != elliptic.P256() {
			return nil, fmt.Errorf("localkey: ECDSA key on %s; ES256 needs P-256", k.Curve.Params().Name)
		}
		method = jwt.SigningMethodES256
	case *rsa.PrivateKey:
		if k.N.BitLen() < 2048 {
			return nil, fmt.Errorf("localkey: RSA key of %d bits; RS256 needs at least 2048", k.N.BitLen())
		}
		method = jwt.SigningMethodRS256
	default:
		return nil, fmt.Errorf("localkey: unsupported key type %T", key)
	}

	kid, err := thumbprint(key.Public())
	if err != nil {
		return nil, err
	}
	jwk, err := jwkset.NewJWKFromKey(key.Public(), jwkset.JWKOptions{
		Metadata: jwkset.JWKMetadataOptions{KID: kid, ALG: jwkset.ALG(method.Alg()), USE: jwkset.UseSig},
	})
	if err != nil {
		return nil, fmt.Errorf("localkey: building JWK: %w", err)
	}
	set := jwkset.NewMemoryStorage()
	if err := set.KeyWrite(context.Background(), jwk); err != nil {
		return nil, fmt.Errorf("localkey: building JWKS: %w", err)
	}
	jwks, err := set.JSONPublic(context.Background())
	if err != nil {
		return nil, fmt.Errorf("localkey: building JWKS: %w", err)
	}
	return &Signer{key: key, method: method, kid: kid, jwks: jwks, now: time.Now}, nil
}

// thumbprint is the RFC 7638 JWK thumbprint of pub. Deriving the kid from
// the key keeps it stable across restarts and distinct between keys.
func thumbprint(pub crypto.PublicKey) (string, error) {
	jwk, err := jwkset.NewJWKFromKey(pub, jwkset.JWKOptions{})
	if err != nil {
		return "", fmt.Errorf("localkey: building JWK: %w", err)
	}
	m := jwk.Marshal()
	// RFC 7638 §3.2: the required members in lexicographic order, no
	// whitespace. The values are base64url, so they need no JSON escaping.
	var canonical string
	switch m.KTY {
	case jwkset.KtyEC:
		canonical = fmt.Sprintf(`{"crv":%q,"kty":"EC","x":%q,"y":%q}`, m.CRV, m.X, m.Y)
	case jwkset.KtyRSA:
		canonical = fmt.Sprintf(`{"e":%q,"kty":"RSA","n":%q}`, m.E, m.N)
	default:
		return "", fmt.Errorf("localkey: no thumbprint for key type %q", m.KTY)
	}
	sum := sha256.Sum256([]byte(canonical))
	return base64.RawURLEncoding.EncodeToString(sum[:]), nil
}

// Alg returns the JWS algorithm of this Signer's tokens (ES256 or RS256).
func (s *Signer) Alg() string { return s.method.Alg() }

// KeyID returns the kid every token of this Signer carries.
func (s *Signer) KeyID() string { return s.kid }

// Mint returns a token for the root identity of accountID valid for ttl
// from now (MintPerson for another person). principal becomes the sub
// claim; when empty, sub is omitted and the verifier uses the person's UID
// as principal. A malformed account ID is an InvalidParameter.AccountId
// error, so /_local/token can return it as is.
func (s *Signer) Mint(accountID, principal string, ttl time.Duration) (string, error) {
	return s.MintPerson(role.Person{AccountID: accountID, UserID: accountID}, principal, ttl)
}

// MintPerson returns a token for the person p with the claims of Alibaba
// Cloud OAuth's ID tokens (docs/API.md "People"): aid, uid, and p.UserName
// as upn, login_name and name when set.
func (s *Signer) MintPerson(p role.Person, principal string, ttl time.Duration) (string, error) {
	if !validate.IsAccountID(p.AccountID) {
		return "", apperr.Invalid("AccountId", "AccountId must be a string of 16 digits.")
	}
	if !role.IsUserID(p.UserID) {
		return "", apperr.Invalid("UserId", "UserId must be a string of 1 to %d digits.", role.MaxUserIDLen)
	}
	if ttl <= 0 {
		return "", apperr.Internal(fmt.Errorf("localkey: Mint ttl must be positive, got %s", ttl))
	}
	now := s.now()
	claims := jwt.MapClaims{
		"iss":                    Issuer,
		"aud":                    Audience,
		auth.DefaultAccountClaim: p.AccountID,
		auth.DefaultUserClaim:    p.UserID,
		"iat":                    jwt.NewNumericDate(now),
		"nbf":                    jwt.NewNumericDate(now),
		"exp":                    jwt.NewNumericDate(now.Add(ttl)),
		"jti":                    rand.Text(),
	}
	if p.UserName != "" {
		claims["upn"], claims["login_name"], claims["name"] = p.UserName, p.UserName, p.UserName
	}
	if principal != "" {
		claims["sub"] = principal
	}
	return s.MintClaims(claims)
}

// Subject is the opaque sub of a person's local tokens: stable per person,
// as Alibaba Cloud OAuth's is per person and application, and saying
// nothing about the person by itself.
func Subject(p role.Person) string {
	sum := sha256.Sum256([]byte("sase-local-sub|" + p.AccountID + "|" + p.UserID))
	return base64.RawURLEncoding.EncodeToString(sum[:18])
}

// MintClaims signs arbitrary claims with this Signer's key and kid. Tests
// use it for tokens Mint would refuse to make (expired, wrong audience, …).
func (s *Signer) MintClaims(claims jwt.MapClaims) (string, error) {
	t := jwt.NewWithClaims(s.method, claims)
	t.Header["kid"] = s.kid
	signed, err := t.SignedString(s.key)
	if err != nil {
		return "", apperr.Internal(fmt.Errorf("localkey: signing token: %w", err))
	}
	return signed, nil
}

// JWKS returns the public JWKS JSON ({"keys":[…]}) for this Signer. The
// caller gets its own copy.
func (s *Signer) JWKS() []byte { return append([]byte(nil), s.jwks...) }

// VerifierConfig returns an auth.Config that accepts exactly this Signer's
// tokens.
func (s *Signer) VerifierConfig() auth.Config {
	return auth.Config{
		Issuer:       Issuer,
		Audience:     Audience,
		AccountClaim: auth.DefaultAccountClaim,
		UserClaim:    auth.DefaultUserClaim,
		JWKSJSON:     s.JWKS(),
	}
}
