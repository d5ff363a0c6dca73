package server

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aliyun/fc-runtime-go-sdk/fc"

	"github.com/sase-multiaccount/backend/shared/auth"
	"github.com/sase-multiaccount/backend/shared/config"
	"github.com/sase-multiaccount/backend/shared/console"
	"github.com/sase-multiaccount/backend/shared/local/oidc"
)

// openConsole builds the local OpenID Connect provider and the console
// function over it, configured as an operator configures Alibaba Cloud OAuth
// in production: the console knows the issuer, the client ID and a client
// secret, and performs the code exchange server-side. It returns the
// verifier of the provider's ID tokens. The issuer is the server's own
// address (http://127.0.0.1:PORT), so the server must listen on PORT.
func (s *Server) openConsole(ctx context.Context, cfg config.Config) (auth.Verifier, error) {
	issuer := "http://127.0.0.1:" + strconv.Itoa(cfg.Port)
	secret := rand.Text() // a new one per run: only the console function knows it
	owner := cfg.OwnerAccountID
	s.oidc = oidc.New(s.signer, oidc.Options{Issuer: issuer, ClientSecret: secret, AccountClaim: cfg.JWT.AccountClaim, UserClaim: cfg.JWT.UserClaim,
		Picks: func(ctx context.Context) []oidc.Pick { return s.picks(ctx, owner) }})
	v, err := auth.NewVerifier(ctx, s.oidc.VerifierConfig())
	if err != nil {
		return nil, fmt.Errorf("console token verifier: %w", err)
	}
	s.closers = append(s.closers, func() error { v.Close(); return nil })

	ccfg, err := console.Load(func(name string) string {
		switch name {
		case "OIDC_ISSUER":
			return issuer
		case "OIDC_CLIENT_ID":
			return s.oidc.ClientID()
		case "OIDC_CLIENT_SECRET":
			return secret
		case "JWT_ACCOUNT_CLAIM":
			return cfg.JWT.AccountClaim
		}
		return "" // functions on the console's origin, page URL as redirect URI
	})
	if err != nil {
		return nil, err
	}
	if s.console, err = console.New(ccfg, console.Options{}); err != nil {
		return nil, err
	}
	return v, nil
}

// mountConsole serves the provider's endpoints and, at every path no
// function or helper claims, the console function (through the FC trigger
// path, like every function).
func (s *Server) mountConsole() {
	s.oidc.Mount(s.mux)
	s.mux.HandleFunc("/", s.invoke(fc.NewHandler(console.FCHandler(s.console))))
}

// LocalRAMUser is the RAM user of the owner among the sign-in page's quick
// picks: someone nobody granted access yet (NEW_USER_ACCESS, default None).
const LocalRAMUser = "bob@owner.onaliyun.com"

// picks are the sign-in page's quick picks: the owner, a RAM user of the
// owner, then the simulated directory's accounts.
func (s *Server) picks(ctx context.Context, owner string) []oidc.Pick {
	out := []oidc.Pick{{AccountID: owner, Label: "Owner"},
		{AccountID: owner, RAMUser: LocalRAMUser, Label: "RAM user of the owner, no access until granted"}}
	accounts, err := s.sim.ListAccounts(ctx)
	if err != nil {
		return out // no directory yet
	}
	var others []oidc.Pick
	for _, a := range accounts {
		if a.AccountID == owner {
			out[0].Label = "Owner, management account"
			continue
		}
		label := a.DisplayName
		if label == "" {
			label = "Directory account"
		}
		others = append(others, oidc.Pick{AccountID: a.AccountID, Label: label})
	}
	// The owner's people first, then by Account UID.
	slices.SortFunc(others, func(a, b oidc.Pick) int { return strings.Compare(a.AccountID, b.AccountID) })
	return append(out, others...)
}
