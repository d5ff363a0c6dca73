package oidc

import (
	"context"

	"github.com/golang-jwt/jwt/v5"

	"github.com/sase-multiaccount/backend/shared/auth"
)

// ByIssuer verifies a token with the verifier of its issuer: `make run`
// accepts both the console's ID tokens (this provider) and the tokens of
// POST /_local/token (issuer sase-local), each under its own issuer,
// audience and key. The unverified iss only chooses the verifier; that
// verifier checks everything, iss included.
type ByIssuer struct {
	Verifiers map[string]auth.Verifier
	Default   auth.Verifier // tokens of any other issuer: it refuses them with its usual message
}

// Verify implements auth.Verifier.
func (b ByIssuer) Verify(ctx context.Context, token string) (auth.Caller, error) {
	if len(token) <= auth.MaxTokenBytes {
		var claims jwt.RegisteredClaims
		if _, _, err := jwt.NewParser().ParseUnverified(token, &claims); err == nil {
			if v, ok := b.Verifiers[claims.Issuer]; ok {
				return v.Verify(ctx, token)
			}
		}
	}
	return b.Default.Verify(ctx, token)
}
