package dirsync_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sase-multiaccount/backend/shared/action"
	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/events"
	"github.com/sase-multiaccount/backend/shared/local/simulation"
	"github.com/sase-multiaccount/backend/shared/role"
	"github.com/sase-multiaccount/backend/shared/rolecheck"
	"github.com/sase-multiaccount/backend/shared/usecase/dirsync"
)

func TestAccountLeavingRemovesMember(t *testing.T) {
	for _, name := range []string{dirsync.EventRemoveCloudAccount, dirsync.EventDeleteAccount} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			e.addMembers(t0.Add(time.Minute), member1, member2)
			if err := e.sim.RemoveAccount(e.ctx, member1); err != nil {
				t.Fatal(err)
			}
			ev := event(owner, name, t0.Add(10*time.Minute), "AccountId", member1)
			sum := e.handle(ev)
			wantResult(t, sum, dirsync.ResultRemoved, "")
			if sum.EventID != ev.ID || sum.EventName != name || sum.AccountID != member1 {
				t.Fatalf("summary %+v", sum)
			}
			if _, ok := e.member(member1); ok {
				t.Fatal("member1 is still a member")
			}
			if _, ok := e.member(member2); !ok {
				t.Fatal("member2 was removed too")
			}
			if e.roles.count() != 1 {
				t.Fatalf("role cache invalidated %d times, want 1", e.roles.count())
			}
			trail := e.audit(e.d.ID)
			if len(trail) != 1 {
				t.Fatalf("audit: %+v", trail)
			}
			a := trail[0]
			if a.ActorRole != "System" || a.Action != "directory-events" || a.Target != member1 || a.Result != "Removed" ||
				a.RequestID != ev.ID || a.ActorAccountID != owner || a.Detail["EventName"] != name ||
				a.Detail["AccountName"] != "team-1" {
				t.Fatalf("audit record: %+v", a)
			}
		})
	}
}

func TestRenameRefreshesAccountName(t *testing.T) {
	e := newEnv(t)
	e.addMembers(t0.Add(time.Minute), member1)
	e.rdRename(member1, "payments-prod")
	ev := event(owner, dirsync.EventUpdateAccount, t0.Add(10*time.Minute), "AccountId", member1, "NewDisplayName", "payments-prod")
	wantResult(t, e.handle(ev), dirsync.ResultRenamed, "")
	m, _ := e.member(member1)
	if m.AccountName != "payments-prod" || m.Version != 2 {
		t.Fatalf("member after rename: %+v", m)
	}
	a := e.audit(e.d.ID)[0]
	if a.ActorRole != "System" || a.Result != "Renamed" || a.RequestID != ev.ID ||
		a.Detail["OldName"] != "team-1" || a.Detail["NewName"] != "payments-prod" {
		t.Fatalf("audit record: %+v", a)
	}
	// The same name again (another event) changes nothing and audits nothing.
	again := event(owner, dirsync.EventUpdateAccount, t0.Add(11*time.Minute), "AccountId", member1, "NewDisplayName", "payments-prod")
	wantResult(t, e.handle(again), dirsync.ResultNoChange, dirsync.ReasonSameName)
	if n := len(e.audit(e.d.ID)); n != 1 {
		t.Fatalf("%d audit records, want 1", n)
	}
}

// ActionTrail writes eventTime to the second: a rename in the same second
// as, but after, the member was added must still win over the name read at
// add time.
func TestRenameInTheSecondOfTheAdd(t *testing.T) {
	e := newEnv(t)
	e.addMembers(t0.Add(time.Minute+300*time.Millisecond), member1)
	e.rdRename(member1, "late")
	wantResult(t, e.handle(event(owner, dirsync.EventUpdateAccount, t0.Add(time.Minute), "AccountId", member1, "NewDisplayName", "late")),
		dirsync.ResultRenamed, "")
	// A rename stamped a whole second before the add is older than the
	// name the add read (RD reports the name, so only the time decides).
	wantResult(t, e.handle(event(owner, dirsync.EventUpdateAccount, t0.Add(59*time.Second), "AccountId", member1, "NewDisplayName", "late")),
		dirsync.ResultNoChange, dirsync.ReasonNewerName)
	if m, _ := e.member(member1); m.AccountName != "late" {
		t.Fatalf("name %q", m.AccountName)
	}
}

func TestDuplicateDeliveryChangesNothing(t *testing.T) {
	e := newEnv(t)
	e.addMembers(t0.Add(time.Minute), member1, member2)
	rename := event(owner, dirsync.EventUpdateAccount, t0.Add(10*time.Minute), "AccountId", member1, "NewDisplayName", "first")
	remove := event(owner, dirsync.EventRemoveCloudAccount, t0.Add(11*time.Minute), "AccountId", member2)
	register := event(owner, dirsync.EventRegisterDelegated, t0.Add(12*time.Minute), "AccountId", delegate, "ServicePrincipal", "csas.aliyuncs.com")
	e.rdRename(member1, "first")
	e.rdRemove(member2)
	e.rdRegister(delegate)
	for _, ev := range []events.CloudEvent{rename, remove, register} {
		if sum := e.handle(ev); sum.Result == dirsync.ResultDuplicate {
			t.Fatalf("first delivery: %+v", sum)
		}
	}
	// A newer rename, then every event again, twice.
	e.rdRename(member1, "second")
	wantResult(t, e.handle(event(owner, dirsync.EventUpdateAccount, t0.Add(20*time.Minute), "AccountId", member1, "NewDisplayName", "second")),
		dirsync.ResultRenamed, "")
	before, invalidations, writes := len(e.audit(e.d.ID)), e.roles.count(), e.store.count("DeleteMembers")+e.store.count("RenameMember")
	for range 2 {
		for _, ev := range []events.CloudEvent{rename, remove, register} {
			wantResult(t, e.handle(ev), dirsync.ResultDuplicate, "")
		}
	}
	if m, _ := e.member(member1); m.AccountName != "second" {
		t.Fatalf("a redelivered rename overwrote the newer name: %q", m.AccountName)
	}
	if n := len(e.audit(e.d.ID)); n != before {
		t.Fatalf("audit grew from %d to %d on duplicates", before, n)
	}
	if e.roles.count() != invalidations {
		t.Fatal("a duplicate invalidated the role cache again")
	}
	if n := e.store.count("DeleteMembers") + e.store.count("RenameMember"); n != writes {
		t.Fatalf("duplicates wrote members: %d member writes, want %d", n, writes)
	}
}

// The same event delivered concurrently is applied once.
func TestConcurrentDuplicates(t *testing.T) {
	e := newEnv(t)
	e.addMembers(t0.Add(time.Minute), member1)
	e.rdRemove(member1)
	ev := event(owner, dirsync.EventRemoveCloudAccount, t0.Add(10*time.Minute), "AccountId", member1)
	var wg sync.WaitGroup
	results := make([]dirsync.Summary, 8)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sum, err := e.svc.HandleEvent(e.ctx, ev)
			if err != nil {
				t.Error(err)
			}
			results[i] = sum
		}()
	}
	wg.Wait()
	removed := 0
	for _, r := range results {
		switch r.Result {
		case dirsync.ResultRemoved:
			removed++
		case dirsync.ResultDuplicate:
		case dirsync.ResultNoChange: // ran alongside the one that removed it, before its mark
			if r.Reason != dirsync.ReasonNotMember {
				t.Fatalf("result %+v", r)
			}
		default:
			t.Fatalf("result %+v", r)
		}
	}
	if removed != 1 || len(e.audit(e.d.ID)) != 1 {
		t.Fatalf("removed %d times, %d audit records; want 1 and 1", removed, len(e.audit(e.d.ID)))
	}
}

func TestReorderedEvents(t *testing.T) {
	t.Run("older rename after newer", func(t *testing.T) {
		e := newEnv(t)
		e.addMembers(t0.Add(time.Minute), member1)
		older := event(owner, dirsync.EventUpdateAccount, t0.Add(10*time.Minute), "AccountId", member1, "NewDisplayName", "older")
		newer := event(owner, dirsync.EventUpdateAccount, t0.Add(20*time.Minute), "AccountId", member1, "NewDisplayName", "newer")
		e.rdRename(member1, "older")
		e.rdRename(member1, "newer")
		wantResult(t, e.handle(newer), dirsync.ResultRenamed, "")
		// RD reports "newer" now: the late event is not confirmed.
		sum := e.handle(older)
		wantResult(t, sum, dirsync.ResultNoChange, dirsync.ReasonNotConfirmed)
		if m, _ := e.member(member1); m.AccountName != "newer" {
			t.Fatalf("name %q, want newer", m.AccountName)
		}
		if n := len(e.audit(e.d.ID)); n != 1 {
			t.Fatalf("%d audit records, want 1", n)
		}
	})
	t.Run("renames in order", func(t *testing.T) {
		e := newEnv(t)
		e.addMembers(t0.Add(time.Minute), member1)
		e.rdRename(member1, "older")
		wantResult(t, e.handle(event(owner, dirsync.EventUpdateAccount, t0.Add(10*time.Minute), "AccountId", member1, "NewDisplayName", "older")), dirsync.ResultRenamed, "")
		e.rdRename(member1, "newer")
		wantResult(t, e.handle(event(owner, dirsync.EventUpdateAccount, t0.Add(20*time.Minute), "AccountId", member1, "NewDisplayName", "newer")), dirsync.ResultRenamed, "")
		if m, _ := e.member(member1); m.AccountName != "newer" {
			t.Fatalf("name %q, want newer", m.AccountName)
		}
	})
	t.Run("rename older than the add", func(t *testing.T) {
		e := newEnv(t)
		e.addMembers(t0.Add(30*time.Minute), member1) // the add read the current name
		// RD still reports the name the add read: a stale rename to another
		// name is not confirmed; one to that name is older than the add's.
		wantResult(t, e.handle(event(owner, dirsync.EventUpdateAccount, t0.Add(10*time.Minute), "AccountId", member1, "NewDisplayName", "stale")),
			dirsync.ResultNoChange, dirsync.ReasonNotConfirmed)
		wantResult(t, e.handle(event(owner, dirsync.EventUpdateAccount, t0.Add(10*time.Minute), "AccountId", member1, "NewDisplayName", "team-1")),
			dirsync.ResultNoChange, dirsync.ReasonNewerName)
		if m, _ := e.member(member1); m.AccountName != "team-1" {
			t.Fatalf("name %q", m.AccountName)
		}
	})
	t.Run("late removal of a member added again", func(t *testing.T) {
		// The account left at +10m, was invited back, and added again at
		// +30m; the removal event arrives only now.
		e := newEnv(t)
		e.addMembers(t0.Add(30*time.Minute), member1)
		sum := e.handle(event(owner, dirsync.EventRemoveCloudAccount, t0.Add(10*time.Minute), "AccountId", member1))
		wantResult(t, sum, dirsync.ResultNoChange, dirsync.ReasonAddedAfterEvent)
		if _, ok := e.member(member1); !ok {
			t.Fatal("a stale removal removed the re-added member")
		}
		if len(e.audit(e.d.ID)) != 0 {
			t.Fatal("a stale removal was audited")
		}
	})
	t.Run("rename after removal", func(t *testing.T) {
		e := newEnv(t)
		e.addMembers(t0.Add(time.Minute), member1)
		e.rdRemove(member1)
		wantResult(t, e.handle(event(owner, dirsync.EventRemoveCloudAccount, t0.Add(20*time.Minute), "AccountId", member1)), dirsync.ResultRemoved, "")
		wantResult(t, e.handle(event(owner, dirsync.EventUpdateAccount, t0.Add(10*time.Minute), "AccountId", member1, "NewDisplayName", "x")),
			dirsync.ResultNoChange, dirsync.ReasonNotMember)
		if _, ok := e.member(member1); ok {
			t.Fatal("a late rename brought the member back")
		}
	})
}

// Events that are not about this deployment are acknowledged and change
// nothing: no member write, no audit, no processed-event read or mark.
func TestForeignEvents(t *testing.T) {
	at := t0.Add(10 * time.Minute)
	cases := []struct {
		name   string
		ev     events.CloudEvent
		result string
		reason string
	}{
		{"removal in another directory", event(stranger, dirsync.EventRemoveCloudAccount, at, "AccountId", member1),
			dirsync.ResultIgnored, dirsync.ReasonOtherDirectory},
		{"rename in another directory", event(stranger, dirsync.EventUpdateAccount, at, "AccountId", member1, "NewDisplayName", "evil"),
			dirsync.ResultIgnored, dirsync.ReasonOtherDirectory},
		{"delegated admin of another directory", event(stranger, dirsync.EventRegisterDelegated, at, "AccountId", member1, "ServicePrincipal", "csas.aliyuncs.com"),
			dirsync.ResultIgnored, dirsync.ReasonOtherDirectory},
		{"destroy of another directory", event(stranger, dirsync.EventDestroyDirectory, at),
			dirsync.ResultIgnored, dirsync.ReasonOtherDirectory},
		{"another service principal", event(owner, dirsync.EventRegisterDelegated, at, "AccountId", member1, "ServicePrincipal", "config.aliyuncs.com"),
			dirsync.ResultIgnored, dirsync.ReasonOtherPrincipal},
		{"another service principal, deregistered", event(owner, dirsync.EventDeregisterDelegated, at, "AccountId", member1, "ServicePrincipal", "cloudfw.aliyuncs.com"),
			dirsync.ResultIgnored, dirsync.ReasonOtherPrincipal},
		{"account that is not a member", event(owner, dirsync.EventRemoveCloudAccount, at, "AccountId", member3),
			dirsync.ResultNoChange, dirsync.ReasonNotMember},
		{"rename of an account that is not a member", event(owner, dirsync.EventUpdateAccount, at, "AccountId", member3, "NewDisplayName", "n"),
			dirsync.ResultNoChange, dirsync.ReasonNotMember},
		{"unhandled ResourceManager call", event(owner, "InviteAccountToResourceDirectory", at, "TargetEntity", member1),
			dirsync.ResultIgnored, dirsync.ReasonUnhandled},
		{"account type change only", event(owner, dirsync.EventUpdateAccount, at, "AccountId", member1, "NewAccountType", "ResourceAccount"),
			dirsync.ResultIgnored, dirsync.ReasonNoDisplayName},
		{"another service", func() events.CloudEvent {
			ev := event(owner, "DeleteInstance", at, "InstanceId", "i-1")
			ev.Type = "ecs:ActionTrail:ApiCall"
			return withData(ev, `{"eventName":"DeleteInstance","serviceName":"Ecs","eventTime":"`+at.Format(time.RFC3339)+`","userIdentity":{"accountId":"`+owner+`"}}`)
		}(), dirsync.ResultIgnored, dirsync.ReasonOtherService},
		{"native resourcemanager event", func() events.CloudEvent {
			ev := event(owner, "x", at)
			ev.Type = "resourcemanager:ResourceSharing:AssociationStatusChange"
			return ev
		}(), dirsync.ResultIgnored, dirsync.ReasonNotAPICall},
		{"failed call", withData(event(owner, dirsync.EventRemoveCloudAccount, at),
			`{"eventName":"RemoveCloudAccount","serviceName":"ResourceManager","eventTime":"`+at.Format(time.RFC3339)+`","errorCode":"Deny.TrustedService","errorMessage":"…","userIdentity":{"accountId":"`+owner+`"},"requestParameters":{"AccountId":"`+member1+`"}}`),
			dirsync.ResultIgnored, dirsync.ReasonFailedCall},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			e.addMembers(t0.Add(time.Minute), member1, member2)
			claims := e.store.count("EventProcessed") + e.store.count("MarkEventProcessed")
			wantResult(t, e.handle(c.ev), c.result, c.reason)
			for _, id := range []string{member1, member2} {
				m, ok := e.member(id)
				if !ok || m.Version != 1 {
					t.Fatalf("member %s changed: %+v %v", id, m, ok)
				}
			}
			if n := len(e.audit(e.d.ID)) + len(e.audit(dirsync.NoDirectoryID)); n != 0 {
				t.Fatalf("%d audit records for a foreign event", n)
			}
			if c.result == dirsync.ResultIgnored && c.reason != dirsync.ReasonOtherDirectory && e.store.count("EventProcessed")+e.store.count("MarkEventProcessed") != claims {
				t.Fatal("an event that is not ours touched the processed-events table")
			}
			if c.reason == dirsync.ReasonOtherPrincipal && e.roles.count() != 0 {
				t.Fatal("another principal's delegated administrator invalidated SASE's roles")
			}
		})
	}
}

// Garbage is acknowledged (nil error: no retry storm) and writes nothing.
func TestGarbageIsAcknowledged(t *testing.T) {
	at := t0.Add(10 * time.Minute)
	good := event(owner, dirsync.EventRemoveCloudAccount, at, "AccountId", member1)
	rec := func(fields string) string {
		return `{"eventName":"RemoveCloudAccount","serviceName":"ResourceManager","userIdentity":{"accountId":"` + owner + `"}` + fields + `}`
	}
	ts := `,"eventTime":"` + at.Format(time.RFC3339) + `"`
	cases := map[string]events.CloudEvent{
		"no id":                  func() events.CloudEvent { ev := good; ev.ID = ""; return ev }(),
		"no source":              func() events.CloudEvent { ev := good; ev.Source = ""; return ev }(),
		"huge id":                func() events.CloudEvent { ev := good; ev.ID = strings.Repeat("x", 5000); return ev }(),
		"no type":                func() events.CloudEvent { ev := good; ev.Type = ""; return ev }(),
		"no data":                withData(good, ``),
		"data null":              withData(good, `null`),
		"data is text":           withData(good, `"garbage"`),
		"data is a number":       withData(good, `42`),
		"data is an array":       withData(good, `[1,2,3]`),
		"data string of garbage": withData(good, `"{not json"`),
		"eventName is an object": withData(good, `{"eventName":{"x":1},"serviceName":"ResourceManager"}`),
		"userIdentity is text":   withData(good, `{"eventName":"RemoveCloudAccount","serviceName":"ResourceManager","userIdentity":"root"}`),
		"no AccountId":           withData(good, rec(ts)),
		"AccountId not a UID":    withData(good, rec(ts+`,"requestParameters":{"AccountId":"12345"}`)),
		"AccountId is an object": withData(good, rec(ts+`,"requestParameters":{"AccountId":{"id":1}}`)),
		"no eventTime": func() events.CloudEvent {
			ev := withData(good, rec(`,"requestParameters":{"AccountId":"`+member1+`"}`))
			ev.Time = ""
			return ev
		}(),
		"eventTime not a time":    withData(good, rec(`,"eventTime":"yesterday","requestParameters":{"AccountId":"`+member1+`"}`)),
		"eventTime in the future": withData(good, rec(`,"eventTime":"2999-01-01T00:00:00Z","requestParameters":{"AccountId":"`+member1+`"}`)),
		"caller not a UID": withData(good, `{"eventName":"RemoveCloudAccount","serviceName":"ResourceManager","userIdentity":{"accountId":"root"}`+
			ts+`,"requestParameters":{"AccountId":"`+member1+`"}}`),
		"control characters in a name": withData(good, `{"eventName":"UpdateAccount","serviceName":"ResourceManager","userIdentity":{"accountId":"`+owner+`"}`+
			ts+`,"requestParameters":{"AccountId":"`+member1+`","NewDisplayName":"a\u0007b"}}`),
	}
	for name, ev := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			e.addMembers(t0.Add(time.Minute), member1)
			sum, err := e.svc.HandleEvent(e.ctx, ev)
			if err != nil {
				t.Fatalf("error %v: garbage must be acknowledged", err)
			}
			if sum.Result != dirsync.ResultIgnored || sum.Message == "" {
				t.Fatalf("summary %+v", sum)
			}
			if e.store.writes() != 0 {
				t.Fatalf("garbage wrote to the store: %v", e.store.calls)
			}
			if _, ok := e.member(member1); !ok {
				t.Fatal("garbage removed a member")
			}
		})
	}
}

// Lenient parsing of real-world shapes: numbers for IDs, requestParameters
// with non-string values, data delivered as a JSON string, "PRC" times.
func TestLenientRecordShapes(t *testing.T) {
	e := newEnv(t)
	e.addMembers(t0.Add(time.Minute), member1, member2)
	e.rdRename(member1, "numbers")
	e.rdRemove(member2)
	at := t0.Add(10 * time.Minute)
	prc := at.In(time.FixedZone("CST", 8*3600)).Format("2006-01-02T15:04:05.000") + "PRC"
	ev := withData(event(owner, dirsync.EventUpdateAccount, at),
		`{"eventName":"UpdateAccount","serviceName":"ResourceManager","eventVersion":1,"eventTime":"`+prc+`",`+
			`"userIdentity":{"accountId":`+owner+`,"type":"ram-user","userName":"alice"},`+
			`"requestParameters":{"accountId":`+member1+`,"NewDisplayName":"numbers","IncludeTags":true,"Tag":[{"Key":"k"}]}}`)
	wantResult(t, e.handle(ev), dirsync.ResultRenamed, "")
	if a := e.audit(e.d.ID)[0]; a.ActorPrincipal != "alice" || a.ActorAccountID != owner {
		t.Fatalf("actor %+v", a)
	}
	quoted := withData(event(owner, dirsync.EventRemoveCloudAccount, at),
		`"{\"eventName\":\"RemoveCloudAccount\",\"serviceName\":\"ResourceManager\",\"eventTime\":\"`+at.Format(time.RFC3339)+
			`\",\"userIdentity\":{\"accountId\":\"`+owner+`\"},\"requestParameters\":{\"AccountId\":\"`+member2+`\"}}"`)
	wantResult(t, e.handle(quoted), dirsync.ResultRemoved, "")
}

// A store or directory failure anywhere returns the error (EventBridge
// retries) and leaves no processed mark; the redelivery applies the effect
// exactly once (one audit record per applied change), and a redelivery after
// that success is a Duplicate. Each call the event makes fails in turn.
func TestFaultMatrixRedeliveryAppliesOnce(t *testing.T) {
	type scenario struct {
		name   string
		setup  func(e *env)
		ev     func() events.CloudEvent
		calls  []string // "store:X" or "dir:X", in the order the handler makes them
		result string   // of the first successful delivery
		check  func(t *testing.T, e *env)
	}
	removed := func(t *testing.T, e *env) {
		if _, ok := e.member(member1); ok {
			t.Fatal("member1 is still a member")
		}
	}
	scenarios := []scenario{
		{
			name:  "removal",
			setup: func(e *env) { e.rdRemove(member1) },
			ev: func() events.CloudEvent {
				return event(owner, dirsync.EventRemoveCloudAccount, t0.Add(10*time.Minute), "AccountId", member1)
			},
			calls:  []string{"store:EventProcessed", "dir:GetDirectory", "store:GetMember", "dir:GetAccount", "store:DeleteMembers", "store:MarkEventProcessed"},
			result: dirsync.ResultRemoved,
			check:  removed,
		},
		{
			name:  "rename",
			setup: func(e *env) { e.rdRename(member1, "renamed") },
			ev: func() events.CloudEvent {
				return event(owner, dirsync.EventUpdateAccount, t0.Add(10*time.Minute), "AccountId", member1, "NewDisplayName", "renamed")
			},
			calls:  []string{"store:EventProcessed", "dir:GetDirectory", "store:GetMember", "dir:GetAccount", "store:RenameMember", "store:MarkEventProcessed"},
			result: dirsync.ResultRenamed,
			check: func(t *testing.T, e *env) {
				if m, _ := e.member(member1); m.AccountName != "renamed" || m.Version != 2 {
					t.Fatalf("member after the rename: %+v", m)
				}
			},
		},
		{
			name:  "delegated administrator",
			setup: func(e *env) { e.rdRegister(delegate) },
			ev: func() events.CloudEvent {
				return event(owner, dirsync.EventRegisterDelegated, t0.Add(10*time.Minute), "AccountId", delegate, "ServicePrincipal", "csas.aliyuncs.com")
			},
			calls:  []string{"store:EventProcessed", "dir:GetDirectory", "dir:ListDelegatedAdmins", "store:AppendAudit", "store:MarkEventProcessed"},
			result: dirsync.ResultRegistered,
			check:  func(*testing.T, *env) {},
		},
	}
	for _, sc := range scenarios {
		for _, call := range sc.calls {
			t.Run(sc.name+"/"+call, func(t *testing.T) {
				e := newEnv(t)
				e.addMembers(t0.Add(time.Minute), member1)
				sc.setup(e)
				ev := sc.ev()
				kind, method, _ := strings.Cut(call, ":")
				if kind == "store" {
					e.store.failOn(method, unavailable(method))
				} else {
					e.dir.failOn(method, apperr.Throttled("Resource Directory", nil))
				}
				_, err := e.svc.HandleEvent(e.ctx, ev)
				if err == nil {
					t.Fatal("no error: EventBridge would not retry")
				}
				if ae, ok := apperr.As(err); !ok || (ae.Kind != apperr.KindUnavailable && ae.Kind != apperr.KindThrottled) {
					t.Fatalf("error %v is not the transient *apperr.Error", err)
				}
				if n := e.store.count(method) + e.dir.count(method); n == 0 {
					t.Fatalf("%s was never called: the matrix is out of date", call)
				}
				if done, err := e.store.Store.EventProcessed(e.ctx, ev.Source+"|"+ev.ID); err != nil || done {
					t.Fatalf("after a failure the event is marked processed (%v, %v): the redelivery would be lost", done, err)
				}
				// Before the failing call's effect nothing is applied; a
				// change is never without its record.
				if call != "store:MarkEventProcessed" {
					if n := len(e.audit(e.d.ID)); n != 0 {
						t.Fatalf("%d audit records after a failure before the effect", n)
					}
					if m, ok := e.member(member1); !ok || m.Version != 1 {
						t.Fatalf("half-applied: member1 = %+v, %v", m, ok)
					}
				}

				// EventBridge's redelivery, once the store and RD are back.
				e.store.failOn(method, nil)
				e.dir.failOn(method, nil)
				sum := e.handle(ev)
				if call == "store:MarkEventProcessed" && sc.result != dirsync.ResultRegistered {
					// The effect was done; the redelivery finds it done.
					if sum.Result != dirsync.ResultNoChange {
						t.Fatalf("redelivery after a lost mark: %+v", sum)
					}
				} else {
					wantResult(t, sum, sc.result, "")
				}
				wantResult(t, e.handle(ev), dirsync.ResultDuplicate, "")
				sc.check(t, e)
				trail := e.audit(e.d.ID)
				if len(trail) != 1 || trail[0].RequestID != ev.ID || trail[0].Result != sc.result {
					t.Fatalf("audit after the redelivery: %+v; want exactly one %s record", trail, sc.result)
				}
			})
		}
	}
}

// Events are hints: a forged event, or one RD does not confirm, changes
// nothing and writes no audit record.
func TestForgedEventsChangeNothing(t *testing.T) {
	at := t0.Add(10 * time.Minute)
	cases := []struct {
		name           string
		ev             events.CloudEvent
		result, reason string
	}{
		{"removal of an account RD still lists", event(owner, dirsync.EventRemoveCloudAccount, at, "AccountId", member1),
			dirsync.ResultNoChange, dirsync.ReasonStillInDirectory},
		{"deletion of an account RD still lists", event(owner, dirsync.EventDeleteAccount, at, "AccountId", member1),
			dirsync.ResultNoChange, dirsync.ReasonStillInDirectory},
		{"rename to a name RD does not report", event(owner, dirsync.EventUpdateAccount, at, "AccountId", member1, "NewDisplayName", "evil"),
			dirsync.ResultNoChange, dirsync.ReasonNotConfirmed},
		{"rename stamped in the near future", event(owner, dirsync.EventUpdateAccount, time.Now().Add(4*time.Minute), "AccountId", member1, "NewDisplayName", "pinned"),
			dirsync.ResultNoChange, dirsync.ReasonNotConfirmed},
		{"registration RD does not confirm", event(owner, dirsync.EventRegisterDelegated, at, "AccountId", member1, "ServicePrincipal", "csas.aliyuncs.com"),
			dirsync.ResultNoChange, dirsync.ReasonNotConfirmed},
		{"deregistration of the DA RD still lists", event(owner, dirsync.EventDeregisterDelegated, at, "AccountId", delegate, "ServicePrincipal", "csas.aliyuncs.com"),
			dirsync.ResultNoChange, dirsync.ReasonNotConfirmed},
		{"untrusted source", func() events.CloudEvent {
			ev := event(owner, dirsync.EventRemoveCloudAccount, at, "AccountId", member1)
			ev.Source = "evil.source"
			return ev
		}(), dirsync.ResultIgnored, dirsync.ReasonUntrustedSource},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			e.addMembers(t0.Add(time.Minute), member1)
			e.rdRegister(delegate)
			wantResult(t, e.handle(c.ev), c.result, c.reason)
			m, ok := e.member(member1)
			if !ok || m.Version != 1 || m.AccountName != "team-1" {
				t.Fatalf("member1 changed: %+v %v", m, ok)
			}
			if n := len(e.audit(e.d.ID)) + len(e.audit(dirsync.NoDirectoryID)); n != 0 {
				t.Fatalf("%d audit records for an unconfirmed event", n)
			}
			if e.store.count("DeleteMembers")+e.store.count("RenameMember")+e.store.count("AppendAudit") != 0 {
				t.Fatalf("store writes for an unconfirmed event: %v", e.store.calls)
			}
			if c.reason == dirsync.ReasonUntrustedSource && e.store.count("EventProcessed")+e.store.count("MarkEventProcessed") != 0 {
				t.Fatal("an untrusted event touched the processed-events table")
			}
		})
	}
	// The real rename, after a forged one: RD's name is applied.
	t.Run("real rename after a forged one", func(t *testing.T) {
		e := newEnv(t)
		e.addMembers(t0.Add(time.Minute), member1)
		wantResult(t, e.handle(event(owner, dirsync.EventUpdateAccount, time.Now().Add(4*time.Minute), "AccountId", member1, "NewDisplayName", "pinned")),
			dirsync.ResultNoChange, dirsync.ReasonNotConfirmed)
		e.rdRename(member1, "real")
		wantResult(t, e.handle(event(owner, dirsync.EventUpdateAccount, at, "AccountId", member1, "NewDisplayName", "real")), dirsync.ResultRenamed, "")
		if m, _ := e.member(member1); m.AccountName != "real" {
			t.Fatalf("name %q, want real", m.AccountName)
		}
	})
}

// Delegated-administrator events drop cached role answers: the next check
// sees the directory's new answer instead of waiting for the TTL.
func TestDelegatedAdminEventsRefreshRoles(t *testing.T) {
	e := newEnv(t)
	roles := rolecheck.NewChecker(e.sim, e.store, owner, time.Hour)
	e.rebuild(func(d *dirsync.Deps) {
		d.Roles = changedFunc(func(context.Context) error { roles.Invalidate(); return nil })
	})
	role := func() rolecheck.Role {
		t.Helper()
		s, err := roles.Resolve(e.ctx, delegate)
		if err != nil {
			t.Fatal(err)
		}
		return s.Role
	}
	if r := role(); r != rolecheck.RoleMember {
		t.Fatalf("role %s", r)
	}
	if err := e.sim.RegisterDelegatedAdmin(e.ctx, delegate); err != nil {
		t.Fatal(err)
	}
	if r := role(); r != rolecheck.RoleMember {
		t.Fatalf("role %s: the cache should still answer (this test needs it)", r)
	}
	reg := event(owner, dirsync.EventRegisterDelegated, t0.Add(10*time.Minute), "AccountId", delegate, "ServicePrincipal", "csas.aliyuncs.com")
	wantResult(t, e.handle(reg), dirsync.ResultRegistered, "")
	if r := role(); r != rolecheck.RoleDelegated {
		t.Fatalf("after the event: role %s, want DelegatedAdministrator", r)
	}

	if err := e.sim.DeregisterDelegatedAdmin(e.ctx, delegate); err != nil {
		t.Fatal(err)
	}
	dereg := event(owner, dirsync.EventDeregisterDelegated, t0.Add(20*time.Minute), "AccountId", delegate, "ServicePrincipal", "csas.aliyuncs.com")
	wantResult(t, e.handle(dereg), dirsync.ResultDeregistered, "")
	if r := role(); r != rolecheck.RoleMember {
		t.Fatalf("after deregistration: role %s", r)
	}
	// Out of order: the older registration arrives late. Roles are read from
	// the directory, so the answer stays right, and RD does not confirm the
	// registration, so it is not audited.
	wantResult(t, e.handle(event(owner, dirsync.EventRegisterDelegated, t0.Add(5*time.Minute), "AccountId", delegate, "ServicePrincipal", "csas.aliyuncs.com")),
		dirsync.ResultNoChange, dirsync.ReasonNotConfirmed)
	if r := role(); r != rolecheck.RoleMember {
		t.Fatalf("after a late registration event: role %s", r)
	}
	trail := e.audit(e.d.ID)
	if len(trail) != 2 || trail[1].Result != "Registered" || trail[0].Result != "Deregistered" ||
		trail[0].ActorRole != "System" || trail[0].Detail["ServicePrincipal"] != "csas.aliyuncs.com" || trail[0].Target != delegate {
		t.Fatalf("audit: %+v", trail)
	}
}

func TestDestroyResourceDirectory(t *testing.T) {
	e := newEnv(t)
	roles := rolecheck.NewChecker(e.sim, e.store, owner, time.Hour)
	e.rebuild(func(d *dirsync.Deps) {
		d.Roles = changedFunc(func(context.Context) error { roles.Invalidate(); return nil })
	})
	if s, _ := roles.Resolve(e.ctx, owner); s.Role != rolecheck.RoleManagement {
		t.Fatalf("role %s", s.Role)
	}
	// Recorded, but the directory still answers: nothing to do.
	wantResult(t, e.handle(event(owner, dirsync.EventDestroyDirectory, t0.Add(5*time.Minute))),
		dirsync.ResultNoChange, dirsync.ReasonDirectoryExists)
	for _, id := range []string{delegate, member1, member2, member3} {
		if err := e.sim.RemoveAccount(e.ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.sim.DestroyDirectory(e.ctx); err != nil {
		t.Fatal(err)
	}
	ev := event(owner, dirsync.EventDestroyDirectory, t0.Add(10*time.Minute))
	wantResult(t, e.handle(ev), dirsync.ResultDestroyed, "")
	s, err := roles.Resolve(e.ctx, owner)
	if err != nil || s.Role != rolecheck.RoleOwner || s.Directory != nil {
		t.Fatalf("after destroy the owner resolves to %+v, %v; want Owner without directory", s, err)
	}
	if _, err := roles.Authorize(e.ctx, role.Person{AccountID: owner, UserID: owner}, action.ListMembers); !apperr.IsCode(err, apperr.CodeNoDirectory) {
		t.Fatalf("list-members after destroy: %v, want 404 %s", err, apperr.CodeNoDirectory)
	}
	trail := e.audit(dirsync.NoDirectoryID)
	if len(trail) != 1 || trail[0].Result != "Destroyed" || trail[0].ActorRole != "System" || trail[0].RequestID != ev.ID {
		t.Fatalf("audit: %+v", trail)
	}
	wantResult(t, e.handle(ev), dirsync.ResultDuplicate, "")

	// A directory enabled again: a late destroy event for the old one
	// changes nothing.
	again, err := simulation.Open(simulation.Options{OwnerAccountID: owner, Now: func() time.Time { return t0.Add(30 * time.Minute) }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := again.EnableDirectory(e.ctx); err != nil {
		t.Fatal(err)
	}
	e.dir.Directory = again
	late := event(owner, dirsync.EventDestroyDirectory, t0.Add(20*time.Minute))
	wantResult(t, e.handle(late), dirsync.ResultNoChange, dirsync.ReasonDirectoryCreated)
}
