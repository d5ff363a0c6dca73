package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
)

// staticKeys loads a JWKS given as bytes. Unlike keyfunc.NewJWKSetJSON it
// refuses private or symmetric key material (a verifier holding a private
// key is a leak waiting to happen), skips key types it does not support the
// way the URL loader does, and insists on at least one key that can verify
// RS256 or ES256, so a wrong file fails at start-up.
func staticKeys(raw []byte) (keyfunc.Keyfunc, error) {
	var set jwkset.JWKSMarshal
	if err := json.Unmarshal(raw, &set); err != nil {
		return nil, fmt.Errorf("not a JWKS JSON document: %w", err)
	}
	store := jwkset.NewMemoryStorage()
	ctx := context.Background()
	kids := make(map[string]bool, len(set.Keys))
	usable := 0
	for i, m := range set.Keys {
		if m.D != "" || m.K != "" || m.P != "" || m.Q != "" {
			return nil, fmt.Errorf("key %d (kid %q) holds private or symmetric key material; configure public keys only", i, m.KID)
		}
		if m.KID != "" {
			if kids[m.KID] {
				// Only the first of two keys with one kid would ever be tried.
				return nil, fmt.Errorf("two keys have kid %q", m.KID)
			}
			kids[m.KID] = true
		}
		jwk, err := jwkset.NewJWKFromMarshal(m, jwkset.JWKMarshalOptions{}, jwkset.JWKValidateOptions{})
		if errors.Is(err, jwkset.ErrUnsupportedKey) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("key %d (kid %q): %w", i, m.KID, err)
		}
		if usableKey(jwk) {
			usable++
		}
		if err := store.KeyWrite(ctx, jwk); err != nil {
			return nil, fmt.Errorf("key %d (kid %q): %w", i, m.KID, err)
		}
	}
	if usable == 0 {
		return nil, errors.New("no RSA or P-256 EC public key usable for RS256/ES256")
	}
	return keyfunc.New(keyfunc.Options{Storage: store})
}

// usableKey reports whether jwk can verify one of the accepted algorithms.
// keyfunc rejects a token whose alg differs from a key's declared alg, so a
// key declared for another alg does not count.
func usableKey(jwk jwkset.JWK) bool {
	alg := jwk.Marshal().ALG
	switch k := jwk.Key().(type) {
	case *rsa.PublicKey:
		return alg == "" || alg == jwkset.AlgRS256
	case *ecdsa.PublicKey:
		return k.Curve == elliptic.P256() && (alg == "" || alg == jwkset.AlgES256)
	}
	return false
}

// remoteKeys fetches the JWKS URL once and starts keyfunc's refresh
// goroutine. The goroutine's context is detached from ctx, so a start-up
// deadline does not silently end refreshes later, but ctx still aborts the
// first fetch.
func remoteKeys(ctx context.Context, cfg Config) (keyfunc.Keyfunc, context.CancelFunc, error) {
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	detach := context.AfterFunc(ctx, cancel)

	failFirst := false
	kf, err := keyfunc.NewDefaultOverrideCtx(bg, []string{cfg.JWKSURL}, keyfunc.Override{
		Client:                    cfg.HTTPClient,
		HTTPTimeout:               jwksHTTPTimeout,
		NoErrorReturnFirstHTTPReq: &failFirst,
		RateLimitWaitMax:          unknownKIDWait,
		RefreshInterval:           cfg.JWKSRefresh,
	})
	if !detach() {
		cancel()
		return nil, nil, fmt.Errorf("auth: loading JWKS from %s: %w", cfg.JWKSURL, context.Cause(ctx))
	}
	if err != nil {
		cancel() // the refresh goroutine starts before the first fetch
		return nil, nil, fmt.Errorf("auth: loading JWKS from %s: %w", cfg.JWKSURL, err)
	}

	all, err := kf.Storage().KeyReadAll(bg)
	if err != nil {
		cancel()
		return nil, nil, fmt.Errorf("auth: reading JWKS from %s: %w", cfg.JWKSURL, err)
	}
	usable := 0
	for _, jwk := range all {
		if usableKey(jwk) {
			usable++
		}
	}
	if usable == 0 {
		cancel()
		return nil, nil, fmt.Errorf("auth: JWKS at %s has no RSA or P-256 EC public key usable for RS256/ES256", cfg.JWKSURL)
	}
	kf, err = keyfunc.New(keyfunc.Options{Ctx: bg, Storage: kidLookup{kf.Storage()}})
	if err != nil {
		cancel()
		return nil, nil, fmt.Errorf("auth: JWKS from %s: %w", cfg.JWKSURL, err)
	}
	return kf, cancel, nil
}

// kidLookup reports every failed key lookup as jwkset.ErrKeyNotFound. The
// HTTP-backed storage answers an unknown kid with a plain error instead when
// the re-fetch is rate-limited or times out, and to the caller both mean the
// same thing: the kid is not one we know.
type kidLookup struct{ jwkset.Storage }

func (s kidLookup) KeyRead(ctx context.Context, kid string) (jwkset.JWK, error) {
	jwk, err := s.Storage.KeyRead(ctx, kid)
	if err != nil && !errors.Is(err, jwkset.ErrKeyNotFound) {
		err = fmt.Errorf("%w: %w", jwkset.ErrKeyNotFound, err)
	}
	return jwk, err
}
