package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/sase-multiaccount/backend/shared/adapter/cloudcreds"
	"github.com/sase-multiaccount/backend/shared/adapter/resourcemanager"
	"github.com/sase-multiaccount/backend/shared/app"
	"github.com/sase-multiaccount/backend/shared/auth"
	"github.com/sase-multiaccount/backend/shared/config"
	"github.com/sase-multiaccount/backend/shared/events"
	"github.com/sase-multiaccount/backend/shared/local/embedded"
	"github.com/sase-multiaccount/backend/shared/local/localkey"
	"github.com/sase-multiaccount/backend/shared/local/oidc"
	"github.com/sase-multiaccount/backend/shared/local/rdwire"
	"github.com/sase-multiaccount/backend/shared/local/simulation"
	"github.com/sase-multiaccount/backend/shared/port/directory"
)

// Open builds the local-only adapters cfg asks for, the App over them, and
// the Server that mounts every function of that App plus the /_local/*
// helpers. The adapters live here rather than in shared/app so that no
// function binary links them:
//
//   - the Resource Directory simulation, persisted under DATA_DIR
//     (DIRECTORY=simulated);
//   - with DIRECTORY=resourcemanager and no RD_ENDPOINT, the same simulation
//     behind the RD wire protocol on a loopback port, driven by the
//     production adapter through alibaba-cloud-sdk-go;
//   - the embedded store (bbolt) under DATA_DIR (STORE=embedded);
//   - the local signing key under DATA_DIR (no JWT_ISSUER), which
//     POST /_local/token mints with.
//
// opts may override the store, the log output and the clock; the directory
// and the verifier are Open's to build. Close releases everything.
func Open(ctx context.Context, cfg config.Config, opts app.Options) (_ *Server, err error) {
	if !app.LocalDirectory(cfg) || !app.LocalVerifier(cfg) {
		return nil, errors.New("the local server needs DIRECTORY=simulated (or resourcemanager without RD_ENDPOINT) " +
			"and no JWT_ISSUER (local signing key)")
	}
	if opts.Directory != nil || opts.Verifier != nil {
		return nil, errors.New("the local server builds the directory and the token verifier itself")
	}
	s := &Server{}
	defer func() {
		if err != nil {
			_ = s.Close()
		}
	}()
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	if s.sim, err = simulation.Open(simulation.Options{
		Path:                  filepath.Join(cfg.DataDir, "directory.json"),
		OwnerAccountID:        cfg.OwnerAccountID,
		ServicePrincipal:      cfg.ServicePrincipal,
		MaxAccounts:           cfg.SimMaxAccounts,
		MaxPendingInvitations: cfg.SimMaxPending,
		OwnerConditions:       cfg.SimOwnerConditions,
		TargetConditions:      cfg.SimTargetConditions,
		Now:                   now,
		Publish:               s.publish, // routed once the App exists (mountEvents)
	}); err != nil {
		return nil, fmt.Errorf("open directory simulation: %w", err)
	}
	if opts.Store == nil && cfg.Store == "embedded" {
		st, err := embedded.Open(filepath.Join(cfg.DataDir, "store.db"))
		if err != nil {
			return nil, fmt.Errorf("open embedded store: %w", err)
		}
		s.closers = append(s.closers, st.Close)
		opts.Store = st
	}
	var rdEndpoint string
	if opts.Directory, rdEndpoint, err = s.openDirectory(cfg); err != nil {
		return nil, err
	}
	if cfg.PageTokenKey == nil && opts.PageTokenKey == nil {
		if opts.PageTokenKey, err = pageTokenKey(cfg.DataDir); err != nil {
			return nil, err
		}
	}
	if s.signer, err = localkey.LoadOrCreate(cfg.DataDir); err != nil {
		return nil, fmt.Errorf("local signing key: %w", err)
	}
	v, err := auth.NewVerifier(ctx, s.signer.VerifierConfig())
	if err != nil {
		return nil, fmt.Errorf("token verifier: %w", err)
	}
	s.closers = append(s.closers, func() error { v.Close(); return nil })
	cv, err := s.openConsole(ctx, cfg) // console.go
	if err != nil {
		return nil, err
	}
	opts.AllowLoopbackWebhooks = true // a receiver on the laptop: http://127.0.0.1:<port>
	opts.Verifier = oidc.ByIssuer{Verifiers: map[string]auth.Verifier{s.oidc.Issuer(): cv}, Default: v}

	a, err := app.New(ctx, cfg, opts)
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, a.Close)
	s.app = a
	// One process at a time holds the store (the bbolt file is locked), so
	// a restarted make run takes over the webhook leases of the process
	// it replaces at once, instead of waiting for them to expire.
	a.Deliverer.Owner = "make-run"
	if rdEndpoint != "" {
		a.Log.Info().Str("rd_endpoint", rdEndpoint).Msg("directory: simulation behind the RD wire protocol, through alibaba-cloud-sdk-go")
	}
	s.mount()
	return s, nil
}

// openDirectory is the simulation itself (DIRECTORY=simulated) or, for
// DIRECTORY=resourcemanager, the production adapter talking to the
// simulation behind the RD wire protocol on a loopback port.
func (s *Server) openDirectory(cfg config.Config) (directory.Service, string, error) {
	if cfg.Directory != "resourcemanager" {
		return s.sim, "", nil
	}
	srv := rdwire.NewServer(s.sim, rdwire.TestCredentials)
	srv.AllowServicePrincipals(cfg.ServicePrincipal)
	endpoint, stop, err := srv.Start("127.0.0.1:0")
	if err != nil {
		return nil, "", fmt.Errorf("local RD wire server: %w", err)
	}
	s.closers = append(s.closers, func() error { return stop(context.Background()) })
	rd, err := resourcemanager.New(resourcemanager.Config{Endpoint: endpoint, Scheme: "HTTP",
		ServicePrincipal: cfg.ServicePrincipal, Credentials: cloudcreds.Static(rdwire.TestCredentials)})
	if err != nil {
		return nil, "", fmt.Errorf("resource directory client: %w", err)
	}
	return rd, endpoint, nil
}

// publish receives every event the simulation publishes, synchronously in
// the simulation's caller and outside its locks.
func (s *Server) publish(ev events.CloudEvent) {
	if deliver := s.simEvents.Load(); deliver != nil {
		(*deliver)(ev)
	}
}

// App is the App the server runs.
func (s *Server) App() *app.App { return s.app }

// Close releases the App and the local adapters.
func (s *Server) Close() error {
	var errs []error
	for i := len(s.closers) - 1; i >= 0; i-- {
		errs = append(errs, s.closers[i]())
	}
	s.closers = nil
	return errors.Join(errs...)
}

// pageTokenKey is make run's NextToken key: random, kept in
// DATA_DIR/page-token.key (mode 0600) so that tokens survive a restart,
// and never derivable from anything public.
func pageTokenKey(dataDir string) ([]byte, error) {
	path := filepath.Join(dataDir, "page-token.key")
	if b, err := os.ReadFile(path); err == nil && len(b) >= config.MinPageTokenKey {
		return b, nil
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("page token key: %w", err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("page token key: %w", err)
	}
	key := []byte(hex.EncodeToString(raw))
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("page token key: %w", err)
	}
	if err := os.WriteFile(path, key, 0o600); err != nil {
		return nil, fmt.Errorf("page token key: %w", err)
	}
	return key, nil
}
