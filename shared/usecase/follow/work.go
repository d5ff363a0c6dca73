package follow

import (
	"context"
	"strconv"
	"time"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/port/store"
	"github.com/sase-multiaccount/backend/shared/usecase/audit"
)

// work delivers w's changes after its cursor, in order, until it is caught
// up, an attempt fails (the next one waits for the backoff), or the lease
// is lost. Progress is written after every delivery, so a worker that
// dies redelivers at most the change it was sending.
func (d *Deliverer) work(ctx context.Context, w store.Webhook) {
	now := d.Service.Now()
	if err := d.Service.Store.AcquireWebhook(ctx, w.DirectoryID, w.ID, d.Owner, w.Delivery.Cursor, w.Delivery.Attempts, now, now.Add(d.Lease)); err != nil {
		return // another deliverer has it, or it changed since the poll
	}
	st := w.Delivery
	st.LeaseOwner, st.LeaseUntil = d.Owner, now.Add(d.Lease)
	for {
		chs, next, more, err := d.Service.Store.ListChanges(ctx, w.DirectoryID, st.Cursor, pageSize)
		if apperr.IsCode(err, apperr.InvalidParameter("Cursor")) {
			// Stopped longer than the feed keeps changes: go on from the
			// oldest kept, and say so in the trail.
			rec := d.systemRecord(w, "ChangesExpired", map[string]string{"Cursor": audit.Itoa(st.Cursor)})
			st.Cursor = 0
			if !d.advance(ctx, w, st, &rec) {
				return
			}
			continue
		}
		if err != nil {
			d.Service.Log.Warn().Err(err).Str("webhook_id", w.ID).Msg("deliver-webhooks: cannot read the feed")
			d.advance(ctx, w, d.released(st), nil)
			return
		}
		for _, c := range chs {
			if !wants(w, c.Type) {
				st.Cursor = c.Seq
				continue
			}
			if !d.deliver(ctx, w, &st, c) {
				return
			}
		}
		st.Cursor = max(st.Cursor, next)
		if !more {
			d.advance(ctx, w, d.released(st), nil)
			return
		}
	}
}

// deliver sends one change and records the outcome; false stops the
// worker (a failure, or the lease is gone).
func (d *Deliverer) deliver(ctx context.Context, w store.Webhook, st *store.Delivery, c store.Change) bool {
	start := time.Now()
	res := d.Service.send(ctx, w, c.Record.ID, d.event(ctx, c), d.Service.Now())
	now := d.Service.Now()
	st.LastDeliveryTime, st.LastStatus, st.LastError = now, res.outcome(), res.errText
	st.AttemptSeq++
	a := res.attempt(now, c.Record.ID, time.Since(start))
	if !res.ok() {
		d.failed(ctx, w, *st, now, &a)
		return false
	}
	d.stats.Delivered.Add(1)
	st.Cursor, st.Attempts, st.NextAttempt, st.FailingSince = c.Seq, 0, time.Time{}, time.Time{}
	st.LeaseUntil = now.Add(d.Lease)
	err := d.Service.Store.AdvanceWebhook(ctx, w.DirectoryID, w.ID, store.Advance{Owner: d.Owner, Version: w.Version, Delivery: *st, Attempt: &a})
	return d.advanced(w, err)
}

// failed records a failed attempt: the next waits for the backoff; after
// DisableAfter of failures the webhook is disabled, with an audit record.
func (d *Deliverer) failed(ctx context.Context, w store.Webhook, st store.Delivery, now time.Time, at *store.Attempt) {
	d.stats.Failed.Add(1)
	if st.FailingSince.IsZero() {
		st.FailingSince = now
	}
	st.Attempts++
	st.NextAttempt = now.Add(d.backoff(st.Attempts))
	a := store.Advance{Owner: d.Owner, Version: w.Version, Delivery: d.released(st), Attempt: at}
	if now.Sub(st.FailingSince) >= d.DisableAfter {
		d.stats.Disabled.Add(1)
		rec := d.systemRecord(w, "Disabled", map[string]string{"FailingSince": audit.FormatTime(st.FailingSince),
			"Attempts": strconv.Itoa(st.Attempts), "LastStatus": st.LastStatus, "Cursor": audit.Itoa(st.Cursor)})
		a.Disable, a.Record = true, &rec
	}
	if err := d.Service.Store.AdvanceWebhook(ctx, w.DirectoryID, w.ID, a); err != nil {
		d.Service.Log.Warn().Err(err).Str("webhook_id", w.ID).Msg("deliver-webhooks: cannot record a failed attempt")
	}
}

// released is st without the lease.
func (d *Deliverer) released(st store.Delivery) store.Delivery {
	st.LeaseOwner, st.LeaseUntil = "", time.Time{}
	return st
}

// advance writes st; false when the lease or the settings changed (the
// worker stops: someone else delivers now, or the webhook was changed).
func (d *Deliverer) advance(ctx context.Context, w store.Webhook, st store.Delivery, rec *store.AuditEvent) bool {
	err := d.Service.Store.AdvanceWebhook(ctx, w.DirectoryID, w.ID, store.Advance{Owner: d.Owner, Version: w.Version, Delivery: st, Record: rec})
	return d.advanced(w, err)
}

// advanced reports whether an advance was recorded (err nil), and logs
// why not.
func (d *Deliverer) advanced(w store.Webhook, err error) bool {
	if err != nil {
		d.Service.Log.Info().Err(err).Str("webhook_id", w.ID).Msg("deliver-webhooks: progress not recorded; the worker stops")
		return false
	}
	return true
}
