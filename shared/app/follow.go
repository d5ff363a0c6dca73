package app

import (
	"context"
	"encoding/json"
	"time"

	"github.com/sase-multiaccount/backend/shared/action"
	"github.com/sase-multiaccount/backend/shared/adapter/outbound"
	"github.com/sase-multiaccount/backend/shared/pagetoken"
	"github.com/sase-multiaccount/backend/shared/usecase/dirsync"
	"github.com/sase-multiaccount/backend/shared/usecase/follow"
)

// newFollow builds following membership: the use cases and the deliverer
// (one per instance: its ID names the instance in webhook leases).
func (a *App) newFollow(tokens *pagetoken.Codec, key []byte, opts Options, now func() time.Time) error {
	seal, err := follow.NewSealer(key)
	if err != nil {
		return err
	}
	sender := outbound.New(outbound.Options{AllowLoopbackHTTP: opts.AllowLoopbackWebhooks})
	a.Follow = &follow.Service{Store: a.Store, Sender: sender, Audit: a.Recorder, Tokens: tokens, Seal: seal, Now: now, Log: a.Log}
	d := follow.NewDeliverer(a.Follow)
	d.Retry, d.DisableAfter = a.Config.Webhooks.Retry, a.Config.Webhooks.DisableAfter
	a.Deliverer = d
	return nil
}

// DeliverSummary is the answer of deliver-webhooks.
type DeliverSummary struct {
	Polls, Delivered, Failed, Disabled int64
}

// DeliverHandler is the FC handler of deliver-webhooks (timer trigger).
type DeliverHandler func(ctx context.Context, payload []byte) (DeliverSummary, error)

// DeliverHandler returns the handler of deliver-webhooks: one session of
// WEBHOOK_SESSION, polling every WEBHOOK_POLL_INTERVAL, then waiting for
// the deliveries it started. It never fails the invocation: a delivery
// that failed is retried by the deliverer's own schedule.
func (a *App) DeliverHandler() DeliverHandler {
	return func(ctx context.Context, payload []byte) (DeliverSummary, error) {
		start := time.Now()
		a.Credentials.Observe(ctx)
		reqID := invocationID(ctx)
		var t dirsync.TimerEvent
		_ = json.Unmarshal(payload, &t) // any payload starts a session; it is only logged
		st := a.Deliverer.Stats()
		before := summary(st)
		a.Deliverer.Run(ctx, a.Config.Webhooks.PollInterval, a.Follow.Now().Add(a.Config.Webhooks.Session))
		after := summary(st)
		n := DeliverSummary{Polls: after.Polls - before.Polls, Delivered: after.Delivered - before.Delivered,
			Failed: after.Failed - before.Failed, Disabled: after.Disabled - before.Disabled}
		a.logInvocation(nil, false, string(action.DeliverWebhooks), reqID, start).Str("trigger_name", t.TriggerName).
			Int64("polls", n.Polls).Int64("delivered", n.Delivered).Int64("failed", n.Failed).Int64("disabled", n.Disabled).
			Msg(string(action.DeliverWebhooks))
		return n, nil
	}
}

func summary(st *follow.DeliveryStats) DeliverSummary {
	return DeliverSummary{Polls: st.Polls.Load(), Delivered: st.Delivered.Load(), Failed: st.Failed.Load(), Disabled: st.Disabled.Load()}
}

// RunDeliveries is make run's delivery loop: the deliverer polls every
// WEBHOOK_POLL_INTERVAL until ctx ends.
func (a *App) RunDeliveries(ctx context.Context) {
	a.Deliverer.Run(ctx, a.Config.Webhooks.PollInterval, time.Time{})
}

// DeliverOnce is deliver-webhooks as make run's POST /deliver-webhooks
// runs it: one poll, then the deliveries it started.
func (a *App) DeliverOnce(ctx context.Context, _ []byte) (DeliverSummary, error) {
	st := a.Deliverer.Stats()
	before := summary(st)
	_, err := a.Deliverer.Poll(ctx)
	a.Deliverer.Wait()
	after := summary(st)
	return DeliverSummary{Polls: 1, Delivered: after.Delivered - before.Delivered, Failed: after.Failed - before.Failed,
		Disabled: after.Disabled - before.Disabled}, err
}
