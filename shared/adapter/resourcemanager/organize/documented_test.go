package organize_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sase-multiaccount/backend/shared/adapter/cloudcreds"
	"github.com/sase-multiaccount/backend/shared/adapter/resourcemanager"
	"github.com/sase-multiaccount/backend/shared/adapter/resourcemanager/organize"
	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/httpapi"
	"github.com/sase-multiaccount/backend/shared/local/rdwire"
	"github.com/sase-multiaccount/backend/shared/local/rdwire/rdmeta"
	"github.com/sase-multiaccount/backend/shared/local/simulation"
	"github.com/sase-multiaccount/backend/shared/port/directory"
	"github.com/sase-multiaccount/backend/shared/testkit/directorytest"
)

// rdEnv is the production adapter and Organizer over the RD wire server,
// with an enabled directory and one member.
type rdEnv struct {
	srv  *rdwire.Server
	svc  *resourcemanager.Client
	org  *organize.Organizer
	root string
}

func newRDEnv(t *testing.T) rdEnv {
	t.Helper()
	sim, err := simulation.Open(simulation.Options{OwnerAccountID: directorytest.OwnerAccountID})
	if err != nil {
		t.Fatal(err)
	}
	srv := rdwire.NewServer(sim, rdwire.TestCredentials)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	c, err := resourcemanager.New(resourcemanager.Config{
		Endpoint: strings.TrimPrefix(hs.URL, "http://"), Scheme: "HTTP", Credentials: cloudcreds.Static(rdwire.TestCredentials),
		BackoffBase: time.Millisecond, MaxBackoff: 2 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.EnableDirectory(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.SeedAccounts(t.Context(), []directory.Account{{AccountID: member}}); err != nil {
		t.Fatal(err)
	}
	return rdEnv{srv: srv, svc: c, org: organize.New(c), root: d.RootFolderID}
}

const member = "2000000000000001"

// rdCalls makes, for each RD action the functions or the Organizer call,
// a port call whose first request is that action (before, when given,
// queues the faults that lead there).
var rdCalls = map[string]struct {
	before func(srv *rdwire.Server)
	call   func(ctx context.Context, e rdEnv) error
}{
	"GetResourceDirectory":    {call: func(ctx context.Context, e rdEnv) error { _, err := e.svc.GetDirectory(ctx); return err }},
	"EnableResourceDirectory": {call: func(ctx context.Context, e rdEnv) error { _, err := e.svc.EnableDirectory(ctx); return err }},
	"ListAccounts":            {call: func(ctx context.Context, e rdEnv) error { _, err := e.svc.ListAccounts(ctx); return err }},
	"GetAccount":              {call: func(ctx context.Context, e rdEnv) error { _, err := e.svc.GetAccount(ctx, member); return err }},
	"InviteAccountToResourceDirectory": {call: func(ctx context.Context, e rdEnv) error {
		_, err := e.svc.Invite(ctx, "2000000000000005", directory.TargetAccount, "")
		return err
	}},
	"ListHandshakesForResourceDirectory": {call: func(ctx context.Context, e rdEnv) error { _, err := e.svc.ListInvitations(ctx); return err }},
	"GetHandshake": { // read when CancelHandshake says the invitation is not pending
		before: func(srv *rdwire.Server) {
			srv.Inject(rdwire.Fail("CancelHandshake", 1, 409, "HandshakeStatusMismatch"))
		},
		call: func(ctx context.Context, e rdEnv) error { _, err := e.svc.CancelInvitation(ctx, "h-x"); return err },
	},
	"CancelHandshake":                  {call: func(ctx context.Context, e rdEnv) error { _, err := e.svc.CancelInvitation(ctx, "h-x"); return err }},
	"ListDelegatedAdministrators":      {call: func(ctx context.Context, e rdEnv) error { _, err := e.svc.ListDelegatedAdmins(ctx); return err }},
	"RegisterDelegatedAdministrator":   {call: func(ctx context.Context, e rdEnv) error { return e.svc.RegisterDelegatedAdmin(ctx, member) }},
	"DeregisterDelegatedAdministrator": {call: func(ctx context.Context, e rdEnv) error { return e.svc.DeregisterDelegatedAdmin(ctx, member) }},
	"ListFoldersForParent":             {call: func(ctx context.Context, e rdEnv) error { _, err := e.svc.ListFolders(ctx); return err }},
	"GetFolder":                        {call: func(ctx context.Context, e rdEnv) error { _, err := e.svc.GetFolder(ctx, e.root); return err }},
	"CreateFolder":                     {call: func(ctx context.Context, e rdEnv) error { _, err := e.org.CreateFolder(ctx, "Prod", ""); return err }},
	"MoveAccount":                      {call: func(ctx context.Context, e rdEnv) error { return e.org.MoveAccount(ctx, member, e.root) }},
	"CreateResourceAccount": {call: func(ctx context.Context, e rdEnv) error {
		_, err := e.org.CreateResourceAccount(ctx, directory.NewAccount{DisplayName: "Web"})
		return err
	}},
}

// clearCodes are the codes the adapter must answer clearly for action:
// every code documented for it and for the whole service, and the
// gateway's codes but those of a request the adapter got wrong (signing,
// an unknown action or version: bugs or a broken deployment, rightly 500).
func clearCodes(meta *rdmeta.Meta, action string) []rdmeta.ErrorDoc {
	out := append(meta.Actions[action].Errors, meta.ServiceWideErrors...)
	for _, e := range meta.GatewayErrors {
		if e.Kind != "signing" && (e.Kind != "request" || e.Code == "MissingParameter" || e.Code == "InvalidParameter") {
			out = append(out, e)
		}
	}
	return out
}

// TestEveryDocumentedCodeIsClear: every error code Alibaba Cloud documents
// for an RD action the functions or the Organizer call (rdmeta) reaches
// the HTTP edge as a clear 4xx or 503, never 500, with a message that is
// not the generic internal one.
func TestEveryDocumentedCodeIsClear(t *testing.T) {
	meta, err := rdmeta.Load()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, action := range meta.ActionNames() {
		c, ok := rdCalls[action]
		if !ok {
			t.Errorf("%s is documented but this test makes no call that reaches it", action)
			continue
		}
		e := newRDEnv(t)
		for _, doc := range clearCodes(meta, action) {
			e.srv.ClearFaults()
			e.srv.ResetCalls()
			if c.before != nil {
				c.before(e.srv)
			}
			e.srv.Inject(rdwire.Fail(action, 0, doc.Status, doc.Code))
			err := c.call(t.Context(), e)
			if e.srv.Calls(action) == 0 {
				t.Errorf("%s %s: the call never reached %s", action, doc.Code, action)
				continue
			}
			n++
			if err == nil {
				continue // the port's no-op (AccountAlreadyRegistered)
			}
			status, ae := httpapi.Classify(err)
			if status >= 500 && status != http.StatusServiceUnavailable || status < 400 {
				t.Errorf("%s answered %d %s: HTTP %d %s (%s)", action, doc.Status, doc.Code, status, ae.Code, ae.Message)
			} else if ae.Code == apperr.CodeInternal {
				t.Errorf("%s answered %d %s: the generic %s", action, doc.Status, doc.Code, ae.Code)
			}
		}
	}
	t.Logf("%d documented answers of %d actions tried", n, len(meta.ActionNames()))
	if n < 200 {
		t.Errorf("only %d documented answers were tried", n)
	}
}
