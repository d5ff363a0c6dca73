// Package endpoints declares every function of the bundle once, as data the
// compiler checks: its name (an action.Action), how it is triggered, and for
// an HTTP function its method and the few lines that decode the input and
// call the use case. A function's main.go passes its declaration to
// shared/app (app.RunHTTP(endpoints.AddMembers)); the local server mounts
// the same declarations; the deploy package lists them for s.yaml and
// template.yaml. Nothing matches functions by a name string.
package endpoints

import (
	"context"

	"github.com/rs/zerolog"

	"github.com/sase-multiaccount/backend/shared/action"
	"github.com/sase-multiaccount/backend/shared/httpapi"
	"github.com/sase-multiaccount/backend/shared/usecase/access"
	"github.com/sase-multiaccount/backend/shared/usecase/audit"
	"github.com/sase-multiaccount/backend/shared/usecase/dirsync"
	"github.com/sase-multiaccount/backend/shared/usecase/enroll"
	"github.com/sase-multiaccount/backend/shared/usecase/follow"
	"github.com/sase-multiaccount/backend/shared/usecase/member"
	"github.com/sase-multiaccount/backend/shared/usecase/setup"
)

// Trigger is how a function is invoked.
type Trigger string

// Trigger kinds.
const (
	HTTPTrigger Trigger = "http"        // FC3 HTTP trigger, one per HTTP function
	EventBridge Trigger = "eventbridge" // Resource Directory changes (ActionTrail ApiCall events)
	Timer       Trigger = "timer"       // periodic reconciliation
)

// Function is what every declaration has: the deploy package's view.
type Function struct {
	Action  action.Action
	Trigger Trigger
}

// Name is the function's name: its folder under functions/ and its FC name.
func (f Function) Name() string { return string(f.Action) }

// UseCases are what HTTP handlers call; shared/app builds them.
type UseCases struct {
	Members  *member.Service
	Setup    *setup.Service
	AuditLog *audit.Lister
	Policy   *enroll.Service
	Access   *access.Service
	Follow   *follow.Service
}

// HTTP declares one HTTP function.
type HTTP struct {
	Action action.Action
	Method string // http.MethodGet or http.MethodPost
	// Handle does the function's own work on an authenticated, authorized
	// request; its result is rendered as the JSON body with RequestId.
	Handle func(ctx context.Context, uc UseCases, r *httpapi.Request) (any, error)
}

// Name is the function's name.
func (h HTTP) Name() string { return string(h.Action) }

// Bind is h as the HTTP layer serves it, over uc.
func (h HTTP) Bind(uc UseCases) httpapi.Endpoint {
	return httpapi.Endpoint{Name: h.Name(), Method: h.Method, Action: h.Action,
		Handle: func(ctx context.Context, r *httpapi.Request) (any, error) { return h.Handle(ctx, uc, r) }}
}

// Event declares the EventBridge-triggered function.
type Event struct{ Action action.Action }

// Scheduled declares a timer-triggered function.
type Scheduled struct {
	Action action.Action
	// Run is one run over the instance's directory-change service, which
	// lives as long as the instance (a warm one keeps what it cached);
	// requestID goes into the audit records. The counts are the answer.
	Run func(ctx context.Context, svc *dirsync.Service, requestID string) (TimerCounts, error)
	// Cron is the timer's default schedule (FC's 6-field cron, seconds
	// first, UTC): s.yaml's and template.yaml's defaults must be this
	// (deploy tests), and docs/DEPLOY.md says why.
	Cron string
}

// Name is the function's name.
func (s Scheduled) Name() string { return string(s.Action) }

// TimerCounts is what a timer run answers (as JSON) and logs (as fields).
type TimerCounts interface {
	zerolog.LogObjectMarshaler
}

// The event and timer functions (docs/API.md "Event and timer functions").
var (
	DirectoryEvents  = Event{Action: action.DirectoryEvents}
	ReconcileMembers = Scheduled{Action: action.ReconcileMembers,
		Run: func(ctx context.Context, svc *dirsync.Service, requestID string) (TimerCounts, error) {
			return svc.Reconcile(ctx, requestID)
		},
		// Every 15 minutes: a lost event costs at most that long; a run is
		// 102 RD calls plus one per folder at 10,000 accounts
		// (docs/DEPLOY.md "Retries of directory-events").
		Cron: "0 */15 * * * *"}
	CheckHandshakes = Scheduled{Action: action.CheckHandshakes,
		Run: func(ctx context.Context, svc *dirsync.Service, requestID string) (TimerCounts, error) {
			return svc.CheckHandshakes(ctx, requestID)
		},
		Cron: "0 * * * * *"} // every minute: one RD call when nothing was accepted
)

// Timers lists the timer-triggered functions.
var Timers = []Scheduled{ReconcileMembers, CheckHandshakes}

// HTTPFunctions lists every HTTP function in the order docs/API.md gives.
var HTTPFunctions = []HTTP{
	DescribeSetup, EnableDirectory, InviteAccounts, ListInvitations, CancelInvitation,
	RegisterDelegatedAdmin, DeregisterDelegatedAdmin,
	ListCandidates, ListFolders, AddMembers, ListMembers, UpdateMemberRemark, DeleteMembers,
	ListAuditEvents, GetEnrollmentPolicy, UpdateEnrollmentPolicy,
	ListAccess, GrantAccess, RevokeAccess,
	GetMember, ListMemberChanges, ListWebhooks, PutWebhook, DeleteWebhook, TestWebhook,
}

// All lists every function of the bundle: the HTTP functions, the console,
// then the event and timer functions.
func All() []Function {
	out := make([]Function, 0, len(HTTPFunctions)+3+len(Timers))
	for _, h := range HTTPFunctions {
		out = append(out, Function{Action: h.Action, Trigger: HTTPTrigger})
	}
	out = append(out,
		Function{Action: Console.Action, Trigger: HTTPTrigger},
		Function{Action: DirectoryEvents.Action, Trigger: EventBridge})
	for _, s := range Timers {
		out = append(out, Function{Action: s.Action, Trigger: Timer})
	}
	return append(out, Function{Action: DeliverWebhooks.Action, Trigger: Timer})
}
