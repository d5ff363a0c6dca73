// Package app wires configuration into adapters, use cases and HTTP
// handlers: the one place that knows which adapter serves which port. A
// function's main.go and the local server both start from here, so they run
// exactly the same handlers.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/sase-multiaccount/backend/shared/audit"
	"github.com/sase-multiaccount/backend/shared/auth"
	"github.com/sase-multiaccount/backend/shared/auth/localkey"
	"github.com/sase-multiaccount/backend/shared/cloudcreds"
	"github.com/sase-multiaccount/backend/shared/config"
	"github.com/sase-multiaccount/backend/shared/directory"
	"github.com/sase-multiaccount/backend/shared/directory/accountcache"
	"github.com/sase-multiaccount/backend/shared/directory/rdwire"
	"github.com/sase-multiaccount/backend/shared/directory/resourcemanager"
	"github.com/sase-multiaccount/backend/shared/directory/simulation"
	"github.com/sase-multiaccount/backend/shared/events"
	"github.com/sase-multiaccount/backend/shared/httpapi"
	"github.com/sase-multiaccount/backend/shared/member"
	"github.com/sase-multiaccount/backend/shared/pagetoken"
	"github.com/sase-multiaccount/backend/shared/rolecheck"
	"github.com/sase-multiaccount/backend/shared/setup"
	"github.com/sase-multiaccount/backend/shared/store"
	"github.com/sase-multiaccount/backend/shared/store/embedded"
	"github.com/sase-multiaccount/backend/shared/store/tablestore"
)

// App is a wired deployment.
type App struct {
	Config      config.Config
	Log         zerolog.Logger
	Credentials *cloudcreds.Source
	Store       store.Store
	Directory   directory.Service
	Simulation  *simulation.Sim  // set when DIRECTORY=simulated
	Signer      *localkey.Signer // set when no JWT issuer is configured (local only)
	Roles       *rolecheck.Checker
	Accounts    *accountcache.Cache // the account list shared by role checks and member use cases
	Members     *member.Service
	Setup       *setup.Service
	AuditLog    *audit.Lister
	Recorder    *audit.Recorder
	HTTP        *httpapi.Server

	closers   []func() error
	simEvents atomic.Pointer[func(events.CloudEvent)] // see RouteSimulationEvents (events.go)
}

// Options override adapters (tests, the local server).
type Options struct {
	Store     store.Store
	Directory directory.Service
	Verifier  auth.Verifier
	LogOutput io.Writer // default os.Stdout
	Now       func() time.Time
	// Publish also receives the simulation's directory events (local server).
	Publish func(events.CloudEvent)
}

// New builds the App for cfg.
func New(ctx context.Context, cfg config.Config, opts Options) (_ *App, err error) {
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
		if a.Directory, err = a.openDirectory(cfg, now, opts.Publish); err != nil {
			return nil, err
		}
	}
	verifier := opts.Verifier
	if verifier == nil {
		if verifier, err = a.openVerifier(ctx, cfg); err != nil {
			return nil, err
		}
	}

	tokens := pagetoken.New(cfg.PageTokenKey)
	a.Accounts = accountcache.New(a.Directory, cfg.AccountsCacheTTL)
	a.Accounts.SetClock(now)
	a.Roles = rolecheck.NewChecker(cachedAccounts{a.Directory, a.Accounts}, cfg.OwnerAccountID, cfg.RoleCacheTTL)
	a.Recorder = &audit.Recorder{Store: a.Store, Now: now, Log: a.Log}
	a.Members = &member.Service{Store: a.Store, Accounts: a.Accounts, Audit: a.Recorder, Tokens: tokens, Now: now}
	a.Setup = &setup.Service{Directory: a.Directory, Members: a.Store, Audit: a.Recorder, Tokens: tokens, Changed: a.Invalidate}
	a.AuditLog = &audit.Lister{Store: a.Store, Tokens: tokens}
	a.HTTP = &httpapi.Server{Verifier: verifier, Roles: a.Roles, Credentials: a.Credentials,
		AllowedOrigins: cfg.AllowedOrigins, Log: a.Log}
	return a, nil
}

func (a *App) openStore(cfg config.Config) (store.Store, error) {
	switch cfg.Store {
	case "embedded":
		s, err := embedded.Open(filepath.Join(cfg.DataDir, "store.db"))
		if err != nil {
			return nil, fmt.Errorf("open embedded store: %w", err)
		}
		return s, nil
	default: // "tablestore" (config.Load admits nothing else)
		s, err := tablestore.New(tablestore.Config{Endpoint: cfg.Tablestore.Endpoint, Instance: cfg.Tablestore.Instance,
			TablePrefix: cfg.Tablestore.TablePrefix, Credentials: a.Credentials})
		if err != nil {
			return nil, fmt.Errorf("tablestore client: %w", err)
		}
		return s, nil
	}
}

func (a *App) openDirectory(cfg config.Config, now func() time.Time, publish func(events.CloudEvent)) (directory.Service, error) {
	switch {
	case cfg.Directory == "resourcemanager" && (cfg.InFC || cfg.RDEndpoint != ""):
		rd, err := resourcemanager.New(resourcemanager.Config{Endpoint: cfg.RDEndpoint,
			ServicePrincipal: cfg.ServicePrincipal, Credentials: a.Credentials})
		if err != nil {
			return nil, fmt.Errorf("resource directory client: %w", err)
		}
		return rd, nil
	case cfg.Directory == "resourcemanager":
		// Local SDK path: the simulation behind the RD wire protocol on a
		// loopback port, driven by the production adapter.
		sim, err := a.openSimulation(cfg, now, publish)
		if err != nil {
			return nil, err
		}
		srv := rdwire.NewServer(sim, rdwire.TestCredentials)
		srv.AllowServicePrincipals(cfg.ServicePrincipal)
		endpoint, stop, err := srv.Start("127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("local RD wire server: %w", err)
		}
		a.closers = append(a.closers, func() error { return stop(context.Background()) })
		rd, err := resourcemanager.New(resourcemanager.Config{Endpoint: endpoint, Scheme: "HTTP",
			ServicePrincipal: cfg.ServicePrincipal, Credentials: cloudcreds.Static(rdwire.TestCredentials)})
		if err != nil {
			return nil, fmt.Errorf("resource directory client: %w", err)
		}
		a.Log.Info().Str("rd_endpoint", endpoint).Msg("directory: simulation behind the RD wire protocol, through alibaba-cloud-sdk-go")
		return rd, nil
	default:
		return a.openSimulation(cfg, now, publish)
	}
}

func (a *App) openSimulation(cfg config.Config, now func() time.Time, publish func(events.CloudEvent)) (*simulation.Sim, error) {
	sim, err := simulation.Open(simulation.Options{
		Path:                  filepath.Join(cfg.DataDir, "directory.json"),
		OwnerAccountID:        cfg.OwnerAccountID,
		ServicePrincipal:      cfg.ServicePrincipal,
		MaxAccounts:           cfg.SimMaxAccounts,
		MaxPendingInvitations: cfg.SimMaxPending,
		Now:                   now,
		Publish: func(ev events.CloudEvent) {
			// Roles may have changed; a real deployment learns this from
			// the directory-events function.
			if a.Roles != nil {
				a.Invalidate()
			}
			if publish != nil {
				publish(ev)
			}
			a.routeSimulationEvent(ev)
		},
	})
	if err != nil {
		return nil, fmt.Errorf("open directory simulation: %w", err)
	}
	a.Simulation = sim
	return sim, nil
}

func (a *App) openVerifier(ctx context.Context, cfg config.Config) (auth.Verifier, error) {
	var vc auth.Config
	if cfg.JWT.Issuer == "" {
		signer, err := localkey.LoadOrCreate(cfg.DataDir)
		if err != nil {
			return nil, fmt.Errorf("local signing key: %w", err)
		}
		a.Signer = signer
		vc = signer.VerifierConfig()
	} else {
		vc = auth.Config{Issuer: cfg.JWT.Issuer, Audience: cfg.JWT.Audience, AccountClaim: cfg.JWT.AccountClaim,
			JWKSURL: cfg.JWT.JWKSURL, JWKSFile: cfg.JWT.JWKSFile, JWKSJSON: []byte(cfg.JWT.JWKSJSON)}
		if cfg.JWT.JWKSJSON == "" {
			vc.JWKSJSON = nil
		}
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

// cachedAccounts is the directory as the role check reads it: the account
// list comes from the shared short-lived cache.
type cachedAccounts struct {
	directory.Service
	accounts *accountcache.Cache
}

func (c cachedAccounts) ListAccounts(ctx context.Context) ([]directory.Account, error) {
	return c.accounts.ListAccounts(ctx)
}

// HTTPHandler returns the FC3 handler of the named function.
func (a *App) HTTPHandler(name string) (httpapi.Handler, error) {
	for _, ep := range a.Endpoints() {
		if ep.Name == name {
			return a.HTTP.Handler(ep), nil
		}
	}
	return nil, fmt.Errorf("no HTTP function named %q", name)
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
