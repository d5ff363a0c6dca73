package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/fc"
	"github.com/sase-multiaccount/backend/shared/adapter/cloudcreds"
	"github.com/sase-multiaccount/backend/shared/adapter/resourcemanager"
	"github.com/sase-multiaccount/backend/shared/app"
	"github.com/sase-multiaccount/backend/shared/local/rdwire"
	"github.com/sase-multiaccount/backend/shared/port/directory"
)

// twin is a second App instance of the kit's deployment, as a second warm
// FC instance is: the same store and directory, its own caches and clock.
func (k *kit) twin(tb testing.TB, c *clock) *kit { return k.twinOver(tb, c, k.sim) }

// twinOver is twin with its own way to the directory (the SDK adapter over
// the RD wire server, say).
func (k *kit) twinOver(tb testing.TB, c *clock, dir directory.Service) *kit {
	tb.Helper()
	a, err := app.New(k.ctx, k.app.Config, app.Options{
		Store: k.raw, Directory: dir, Verifier: k.verifier, LogOutput: k.logs, Now: c.Now,
	})
	if err != nil {
		tb.Fatalf("app.New (twin): %v", err)
	}
	tb.Cleanup(func() { _ = a.Close() })
	t := &kit{tb: tb, ctx: k.ctx, owner: k.owner, clock: c, app: a, sim: k.sim, dir: k.dir, store: k.store, raw: k.raw,
		signer: k.signer, verifier: k.verifier, logs: k.logs, tokens: map[string]string{},
		handlers: map[string]fc.Handler{}, methods: map[string]string{}}
	for _, ep := range a.Endpoints() {
		t.handlers[ep.Name] = fc.NewHandler(a.HTTP.Handler(ep))
		t.methods[ep.Name] = ep.Method
	}
	return t
}

// Two warm instances over one store (two FC instances of the same
// deployment), role cache TTL one hour: a delegated administrator
// deregistered through instance A is refused by instance B within a second,
// because A bumps the directory generation in the store and B reads it at
// most once per second. No sleeps: B's clock is moved.
func TestRoleChangeReachesAnotherInstanceWithinASecond(t *testing.T) {
	a := newKit(t, withEnv("ROLE_CACHE_TTL", "1h"))
	a.standard()
	bClock := &clock{t: t0}
	b := a.twin(t, bClock)

	// B authorizes the DA and caches the answer.
	wantOK(t, b.get(t, "list-members", daID, nil))
	wantOK(t, b.get(t, "list-members", daID, nil))

	// A deregisters it (setup use case, deregister-delegated-admin).
	wantOK(t, a.post(t, "deregister-delegated-admin", ownerID, map[string]string{"AccountId": daID}))
	if r := a.get(t, "list-members", daID, nil); r.Status != 403 {
		t.Fatalf("instance A after the deregistration: %s", r)
	}

	// B within the same second may still answer from its cache (it reused
	// a generation read less than a second old) ...
	bClock.Advance(500 * time.Millisecond)
	_ = b.get(t, "list-members", daID, nil)
	// ... but after more than a second it reads the generation, drops its
	// cache and asks the directory again.
	bClock.Advance(600 * time.Millisecond)
	r := b.get(t, "list-members", daID, nil)
	if r.Status != 403 {
		t.Fatalf("instance B 1.1 s after the deregistration on A: %s; want 403", r)
	}
	// The owner is unaffected on B.
	wantOK(t, b.get(t, "list-members", ownerID, nil))

	// And the other way round: A registers it again, B sees it within a second.
	wantOK(t, a.post(t, "register-delegated-admin", ownerID, map[string]string{"AccountId": daID}))
	bClock.Advance(1100 * time.Millisecond)
	if r := b.get(t, "list-members", daID, nil); r.Status != 200 {
		t.Fatalf("instance B after the registration on A: %s; want 200", r)
	}
}

// The same with instance B on the production Resource Directory adapter
// (alibaba-cloud-sdk-go) over the RD wire server: B learns of the change
// from the store's generation, then asks RD through the SDK afresh.
func TestRoleChangeReachesAnInstanceOnTheRDAdapter(t *testing.T) {
	a := newKit(t, withEnv("ROLE_CACHE_TTL", "1h"))
	a.standard()
	wire := rdwire.NewServer(a.sim, rdwire.TestCredentials)
	wire.AllowServicePrincipals(a.app.Config.ServicePrincipal)
	endpoint, stop, err := wire.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stop(context.Background()) })
	rd, err := resourcemanager.New(resourcemanager.Config{Endpoint: endpoint, Scheme: "HTTP",
		ServicePrincipal: a.app.Config.ServicePrincipal, Credentials: cloudcreds.Static(rdwire.TestCredentials)})
	if err != nil {
		t.Fatal(err)
	}
	bClock := &clock{t: t0}
	b := a.twinOver(t, bClock, rd)

	wantOK(t, b.get(t, "list-members", daID, nil))
	wantOK(t, a.post(t, "deregister-delegated-admin", ownerID, map[string]string{"AccountId": daID}))
	bClock.Advance(1100 * time.Millisecond)
	if r := b.get(t, "list-members", daID, nil); r.Status != 403 {
		t.Fatalf("instance B (SDK over the RD wire) 1.1 s after the deregistration on A: %s; want 403", r)
	}
	wantOK(t, b.get(t, "list-members", ownerID, nil))
}
