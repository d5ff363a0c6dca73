// Package app wires configuration into adapters, use cases and HTTP
// handlers: the one place that knows which adapter serves which port. A
// function's main.go and the local server both start from here, so they run
// exactly the same handlers. The local-only adapters (the directory
// simulation, the RD wire server in front of it, the local signing key) are
// built by shared/local/server and passed in through Options, so that no
// function binary links them.
package app

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/rs/zerolog"

	"github.com/sase-multiaccount/backend/shared/adapter/accountcache"
	"github.com/sase-multiaccount/backend/shared/adapter/cloudcreds"
	"github.com/sase-multiaccount/backend/shared/adapter/resourcemanager"
	"github.com/sase-multiaccount/backend/shared/adapter/tablestore"
	"github.com/sase-multiaccount/backend/shared/auth"
	"github.com/sase-multiaccount/backend/shared/config"
	"github.com/sase-multiaccount/backend/shared/httpapi"
	"github.com/sase-multiaccount/backend/shared/pagetoken"
	"github.com/sase-multiaccount/backend/shared/port/directory"
	"github.com/sase-multiaccount/backend/shared/port/store"
	"github.com/sase-multiaccount/backend/shared/rolecheck"
	"github.com/sase-multiaccount/backend/shared/usecase/access"
	"github.com/sase-multiaccount/backend/shared/usecase/audit"
	"github.com/sase-multiaccount/backend/shared/usecase/enroll"
	"github.com/sase-multiaccount/backend/shared/usecase/follow"
	"github.com/sase-multiaccount/backend/shared/usecase/member"
	"github.com/sase-multiaccount/backend/shared/usecase/setup"
)

// App is a wired deployment.
type App struct {
	Config      config.Config
	Log         zerolog.Logger
	Credentials *cloudcreds.Source
	Store       store.Store
	Directory   directory.Service
	Roles       *rolecheck.Checker
	Accounts    *accountcache.Cache // the account list shared by role checks and member use cases
	Members     *member.Service
	Setup       *setup.Service
	AuditLog    *audit.Lister
	Policy      *enroll.Service
	Access      *access.Service
	Recorder    *audit.Recorder
	Follow      *follow.Service   // following membership (follow.go)
	Deliverer   *follow.Deliverer // webhook delivery of this instance
	HTTP        *httpapi.Server

	closers []func() error
}

// Options override adapters (tests, the local server). Directory is
// required when the configuration names a local-only directory
// (DIRECTORY=simulated, or resourcemanager without RD_ENDPOINT outside FC),
// and Verifier when no JWT_ISSUER is configured: shared/local/server builds
// those (`make run`). The App does not close what Options hand it.
type Options struct {
	Store     store.Store
	Directory directory.Service
	Verifier  auth.Verifier
	LogOutput io.Writer // default os.Stdout
	// PageTokenKey is used when the configuration has none (outside FC).
	PageTokenKey []byte
	Now          func() time.Time
	// AllowLoopbackWebhooks admits webhook URLs http://127.0.0.1:<port>
	// (make run only, so a test can receive).
	AllowLoopbackWebhooks bool
}

// LocalDirectory reports whether cfg names a directory only the local server
// provides: the simulation, directly or behind the RD wire protocol.
func LocalDirectory(cfg config.Config) bool {
	return cfg.Directory == "simulated" || (cfg.Directory == "resourcemanager" && !cfg.InFC && cfg.RDEndpoint == "")
}

// LocalVerifier reports whether cfg asks for the local signing key (no
// JWT_ISSUER), which only the local server provides.
func LocalVerifier(cfg config.Config) bool { return cfg.JWT.Issuer == "" }

// New builds the App for cfg. It refuses, before opening anything, a
// configuration that needs a local-only adapter Options does not provide.
func New(ctx context.Context, cfg config.Config, opts Options) (_ *App, err error) {
	if err := needsLocal(cfg, opts); err != nil {
		return nil, err
	}
	a := &App{Config: cfg, Credentials: cloudcreds.FromEnv()}
	defer func() {
		if err != nil {
			_ = a.Close()
		}
	}()
	out := opts.LogOutput
	if out == nil {
		out = os.Stdout
	}
	lvl, _ := zerolog.ParseLevel(cfg.LogLevel)
	a.Log = zerolog.New(out).Level(lvl).With().Timestamp().Logger()
	now := opts.Now
	if now == nil {
		now = time.Now
	}

	if a.Store = opts.Store; a.Store == nil {
		if a.Store, err = a.openStore(cfg); err != nil {
			return nil, err
		}
		a.closers = append(a.closers, a.Store.Close)
	}
	if a.Directory = opts.Directory; a.Directory == nil {
		if a.Directory, err = a.openDirectory(cfg); err != nil {
			return nil, err
		}
	}
	verifier := opts.Verifier
	if verifier == nil {
		if verifier, err = a.openVerifier(ctx, cfg); err != nil {
			return nil, err
		}
	}

	key := cfg.PageTokenKey
	if key == nil {
		// Outside FC without PAGE_TOKEN_KEY (config refuses that in FC): the
		// local server passes the key it keeps under DATA_DIR; anything else
		// gets a random key that lives as long as the process.
		if key = opts.PageTokenKey; key == nil {
			key = make([]byte, 32)
			_, _ = rand.Read(key)
		}
	}
	tokens := pagetoken.New(key)
	a.Accounts = accountcache.New(a.Directory, cfg.AccountsCacheTTL, accountcache.WithClock(now))
	a.Roles = rolecheck.NewChecker(cachedAccounts{a.Directory, a.Accounts}, a.Store, cfg.OwnerAccountID, cfg.RoleCacheTTL, rolecheck.WithClock(now))
	a.Roles.UsePeople(rolecheck.People{Grants: a.Store, Administrators: cfg.Administrators, NewUser: cfg.NewUserAccess,
		Logf: func(format string, args ...any) { a.Log.Warn().Msgf(format, args...) }})
	a.Recorder = &audit.Recorder{Store: a.Store, Now: now, Log: a.Log}
	a.Members = member.New(member.Deps{Store: a.Store, Feed: a.Store, Accounts: a.Accounts, Folders: a.Directory, Mirror: a.Store, Lookup: a.Directory,
		Audit: a.Recorder, Tokens: tokens, Now: now, Log: a.Log})
	a.Setup = &setup.Service{Directory: a.Directory, Members: a.Store, Mirror: a.Store, Audit: a.Recorder, Tokens: tokens, Log: a.Log, Changed: a.Changed}
	a.AuditLog = &audit.Lister{Store: a.Store, Tokens: tokens}
	a.Policy = &enroll.Service{Store: a.Store, Directory: a.Directory, Audit: a.Recorder, Now: now}
	a.Access = &access.Service{Store: a.Store, Directory: a.Directory, Audit: a.Recorder, Tokens: tokens, Now: now,
		Permanent: a.Roles.Permanent, Changed: a.Roles.Invalidate}
	if err := a.newFollow(tokens, key, opts, now); err != nil {
		return nil, err
	}
	a.HTTP = &httpapi.Server{Verifier: verifier, Roles: a.Roles, OnInvoke: a.Credentials.Observe,
		AllowedOrigins: cfg.AllowedOrigins, Log: a.Log}
	return a, nil
}

// needsLocal is the error for a local-only mode without its adapter.
func needsLocal(cfg config.Config, opts Options) error {
	var errs []error
	if opts.Store == nil && cfg.Store == "embedded" {
		errs = append(errs, errors.New("STORE=embedded runs only under make run (scripts/localserver), which opens the bbolt file; use STORE=tablestore"))
	}
	if opts.Directory == nil {
		switch {
		case cfg.Directory == "simulated":
			errs = append(errs, errors.New("DIRECTORY=simulated runs only under make run (scripts/localserver); use DIRECTORY=resourcemanager"))
		case LocalDirectory(cfg):
			errs = append(errs, errors.New("DIRECTORY=resourcemanager without RD_ENDPOINT runs only under make run (scripts/localserver), "+
				"which serves the simulation over the RD wire protocol; set RD_ENDPOINT"))
		}
	}
	if opts.Verifier == nil && LocalVerifier(cfg) {
		errs = append(errs, errors.New("no JWT_ISSUER: the local signing key runs only under make run (scripts/localserver); "+
			"set JWT_ISSUER, JWT_AUDIENCE and one of JWKS_URL, JWKS_FILE, JWKS_JSON"))
	}
	return errors.Join(errs...)
}

// openStore is the production store (needsLocal refused STORE=embedded
// without a store in Options: only the local server opens that one).
func (a *App) openStore(cfg config.Config) (store.Store, error) {
	s, err := tablestore.New(tablestore.Config{Endpoint: cfg.Tablestore.Endpoint, Instance: cfg.Tablestore.Instance,
		TablePrefix: cfg.Tablestore.TablePrefix, Credentials: a.Credentials, Log: &a.Log})
	if err != nil {
		return nil, fmt.Errorf("tablestore client: %w", err)
	}
	return s, nil
}

func (a *App) openDirectory(cfg config.Config) (directory.Service, error) {
	rd, err := resourcemanager.New(resourcemanager.Config{Endpoint: cfg.RDEndpoint,
		ServicePrincipal: cfg.ServicePrincipal, Credentials: a.Credentials, Log: &a.Log})
	if err != nil {
		return nil, fmt.Errorf("resource directory client: %w", err)
	}
	return rd, nil
}

func (a *App) openVerifier(ctx context.Context, cfg config.Config) (auth.Verifier, error) {
	vc := auth.Config{Issuer: cfg.JWT.Issuer, Audience: cfg.JWT.Audience, AccountClaim: cfg.JWT.AccountClaim, UserClaim: cfg.JWT.UserClaim,
		JWKSURL: cfg.JWT.JWKSURL, JWKSFile: cfg.JWT.JWKSFile, JWKSJSON: []byte(cfg.JWT.JWKSJSON)}
	if cfg.JWT.JWKSJSON == "" {
		vc.JWKSJSON = nil
	}
	v, err := auth.NewVerifier(ctx, vc)
	if err != nil {
		return nil, fmt.Errorf("token verifier: %w", err)
	}
	a.closers = append(a.closers, func() error { v.Close(); return nil })
	return v, nil
}

// Invalidate drops every per-instance cache of directory answers (roles,
// the account list): after a change made here or announced by an event.
func (a *App) Invalidate() {
	a.Roles.Invalidate()
	a.Accounts.Invalidate()
}

// Changed publishes a change of roles: this instance's caches go at once,
// and the directory generation in the store moves, so every warm instance
// of every function drops its answers within a second.
func (a *App) Changed(ctx context.Context) error {
	a.Invalidate()
	if _, err := a.Store.BumpGeneration(ctx); err != nil {
		return fmt.Errorf("bump directory generation: %w", err)
	}
	return nil
}

// cachedAccounts is the directory as the role check reads it: the account
// list comes from the shared short-lived cache.
type cachedAccounts struct {
	directory.Service
	accounts *accountcache.Cache
}

func (c cachedAccounts) ListAccounts(ctx context.Context) ([]directory.Account, error) {
	return c.accounts.ListAccounts(ctx)
}

// Close releases the adapters.
func (a *App) Close() error {
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		errs = append(errs, a.closers[i]())
	}
	a.closers = nil
	return errors.Join(errs...)
}
