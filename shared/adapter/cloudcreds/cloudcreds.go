// Package cloudcreds holds the function role's current STS credentials.
//
// Function Compute hands every invocation the role's credentials in the FC
// context (x-fc-access-key-id, x-fc-access-key-secret, x-fc-security-token);
// they rotate. The HTTP and
// event wrappers call Observe at the start of every invocation, and the cloud
// adapters (Tablestore, Resource Directory) read Current when they sign a
// request, so a rotation needs no client rebuild. Outside FC the
// ALIBABA_CLOUD_* environment variables are the fallback.
package cloudcreds

import (
	"context"
	"os"
	"sync"

	"github.com/aliyun/fc-runtime-go-sdk/fccontext"
)

// Credentials are an access key pair with an optional STS token.
type Credentials struct {
	AccessKeyID     string
	AccessKeySecret string
	SecurityToken   string
}

// Valid reports whether a key pair is present.
func (c Credentials) Valid() bool { return c.AccessKeyID != "" && c.AccessKeySecret != "" }

// Source is a concurrency-safe holder of the latest credentials.
type Source struct {
	mu  sync.RWMutex
	cur Credentials
	gen uint64 // bumped on every change, so adapters can rebuild what depends on the key
}

// FromEnv returns a Source primed from ALIBABA_CLOUD_ACCESS_KEY_ID,
// ALIBABA_CLOUD_ACCESS_KEY_SECRET and ALIBABA_CLOUD_SECURITY_TOKEN.
func FromEnv() *Source {
	return Static(Credentials{
		AccessKeyID:     os.Getenv("ALIBABA_CLOUD_ACCESS_KEY_ID"),
		AccessKeySecret: os.Getenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
		SecurityToken:   os.Getenv("ALIBABA_CLOUD_SECURITY_TOKEN"),
	})
}

// Static returns a Source holding c (tests, local runs).
func Static(c Credentials) *Source { return &Source{cur: c} }

// Set replaces the credentials if they differ.
func (s *Source) Set(c Credentials) {
	if !c.Valid() {
		return
	}
	s.mu.Lock()
	if c != s.cur {
		s.cur = c
		s.gen++
	}
	s.mu.Unlock()
}

// Observe takes the credentials of the FC invocation in ctx, if any.
func (s *Source) Observe(ctx context.Context) {
	if fc, ok := fccontext.FromContext(ctx); ok && fc != nil {
		s.Set(Credentials{
			AccessKeyID:     fc.Credentials.AccessKeyId,
			AccessKeySecret: fc.Credentials.AccessKeySecret,
			SecurityToken:   fc.Credentials.SecurityToken,
		})
	}
}

// Current returns the latest credentials and their generation.
func (s *Source) Current() (Credentials, uint64) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.cur, s.gen
}
