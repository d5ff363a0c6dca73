package follow

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// Sealer encrypts webhook signing secrets before they reach the store
// (AES-256-GCM, bound to the webhook), so that reading the table is not
// enough to sign webhooks. Its key is derived from the deployment's
// page-token key, which every function already holds: replacing that key
// makes the stored secrets unreadable, and every webhook then needs
// RotateSecret.
type Sealer struct{ aead cipher.AEAD }

const sealPrefix = "v1:"

// NewSealer derives the sealing key from secret.
func NewSealer(secret []byte) (*Sealer, error) {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("sase webhook secret sealing v1"))
	block, err := aes.NewCipher(mac.Sum(nil))
	if err != nil {
		return nil, fmt.Errorf("webhook secret sealing: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("webhook secret sealing: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts secret for the webhook (dirID, id); "" stays "".
func (s *Sealer) Seal(dirID, id, secret string) (string, error) {
	if secret == "" {
		return "", nil
	}
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("seal webhook secret: %w", err)
	}
	out := s.aead.Seal(nonce, nonce, []byte(secret), []byte(dirID+"/"+id))
	return sealPrefix + base64.RawStdEncoding.EncodeToString(out), nil
}

// Open decrypts what Seal returned for the same webhook.
func (s *Sealer) Open(dirID, id, sealed string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	rest, ok := strings.CutPrefix(sealed, sealPrefix)
	raw, err := base64.RawStdEncoding.DecodeString(rest)
	n := s.aead.NonceSize()
	if !ok || err != nil || len(raw) < n {
		return "", errors.New("the stored webhook secret is not in a known form")
	}
	plain, err := s.aead.Open(nil, raw[:n], raw[n:], []byte(dirID+"/"+id))
	if err != nil {
		return "", errors.New("the stored webhook secret cannot be opened (was PAGE_TOKEN_KEY replaced? put-webhook with RotateSecret issues a new one)")
	}
	return string(plain), nil
}
