package follow

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sase-multiaccount/backend/shared/action"
	"github.com/sase-multiaccount/backend/shared/port/store"
	"github.com/sase-multiaccount/backend/shared/role"
	"github.com/sase-multiaccount/backend/shared/usecase/audit"
	"github.com/sase-multiaccount/backend/shared/webhook"
)

// Deliverer delivers the feed to the webhooks (docs/DESIGN.md §13): an
// outbox reader per webhook. Each poll is one store read (every webhook
// and every feed head); a webhook with changes due gets a worker of its
// own that delivers them one by one, in feed order, under the webhook's
// lease, recording its progress after each delivery. So a slow or dead
// receiver holds up its own webhook only, never a person's request (which
// only wrote the change) nor another webhook; and an instance that dies
// mid-delivery leaves the progress where it was: the change is delivered
// again (the same webhook-id) by whoever takes the lease next.
type Deliverer struct {
	Service *Service
	// Owner names this process in leases (NewDeliverer: random).
	Owner string
	// Lease is how long a worker holds a webhook between progress writes.
	Lease time.Duration
	// Retry is the backoff after each failed attempt; the last repeats.
	Retry []time.Duration
	// DisableAfter is how long a webhook may keep failing before it is
	// disabled (and audited).
	DisableAfter time.Duration

	wg      sync.WaitGroup
	mu      sync.Mutex
	working map[string]bool // webhooks this process has a worker for
	enabled atomic.Int64    // enabled webhooks the last poll saw
	stats   DeliveryStats
}

// DeliveryStats count a Deliverer's work.
type DeliveryStats struct {
	Polls, Delivered, Failed, Disabled atomic.Int64
}

// DefaultRetry is docs/API.md's schedule: about 5 s, 30 s, 2 min, 10 min,
// 1 h, then hourly.
var DefaultRetry = []time.Duration{5 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute, time.Hour}

// Delivery defaults.
const (
	DefaultLease        = 30 * time.Second
	DefaultDisableAfter = 24 * time.Hour
	pageSize            = 20
)

// NewDeliverer returns a Deliverer over s with the defaults.
func NewDeliverer(s *Service) *Deliverer {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return &Deliverer{Service: s, Owner: "deliverer-" + hex.EncodeToString(b[:]), Lease: DefaultLease,
		Retry: DefaultRetry, DisableAfter: DefaultDisableAfter}
}

// Stats are the counts so far.
func (d *Deliverer) Stats() *DeliveryStats { return &d.stats }

// Run polls every interval until ctx ends or until stop (zero: until ctx
// ends; a session with a stop also ends when no webhook is enabled), then
// waits for its workers.
func (d *Deliverer) Run(ctx context.Context, interval time.Duration, stop time.Time) {
	defer d.wg.Wait()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := d.Poll(ctx); err != nil && ctx.Err() == nil {
			d.Service.Log.Warn().Err(err).Msg("deliver-webhooks: poll failed; trying again")
		}
		if !stop.IsZero() && (!d.Service.Now().Add(interval).Before(stop) || d.enabled.Load() == 0) {
			return // a session ends early when no webhook is enabled: nothing to wait for
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Poll reads every webhook once and starts a worker for each that has
// changes due and no worker of this process yet; it does not wait for
// them (Wait does). It returns how many it started.
func (d *Deliverer) Poll(ctx context.Context) (int, error) {
	d.stats.Polls.Add(1)
	hooks, heads, err := d.Service.Store.AllWebhooks(ctx)
	if err != nil {
		return 0, fmt.Errorf("deliver webhooks: %w", err)
	}
	now := d.Service.Now()
	started, enabled := 0, 0
	for _, w := range hooks {
		if w.Enabled {
			enabled++
		}
		if !d.due(w, heads[w.DirectoryID], now) || !d.claim(w) {
			continue
		}
		started++
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			defer d.unclaim(w)
			d.work(ctx, w)
		}()
	}
	d.enabled.Store(int64(enabled))
	return started, nil
}

// Wait waits for the workers started so far.
func (d *Deliverer) Wait() { d.wg.Wait() }

func (d *Deliverer) due(w store.Webhook, head int64, now time.Time) bool {
	p := w.Delivery
	return w.Enabled && p.Cursor < head && !now.Before(p.NextAttempt) && (p.LeaseUntil.Before(now) || p.LeaseOwner == d.Owner)
}

func key(w store.Webhook) string { return w.DirectoryID + "/" + w.ID }

func (d *Deliverer) claim(w store.Webhook) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.working == nil {
		d.working = map[string]bool{}
	}
	if d.working[key(w)] {
		return false
	}
	d.working[key(w)] = true
	return true
}

func (d *Deliverer) unclaim(w store.Webhook) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.working, key(w))
}

// backoff is the wait after the n-th failed attempt (n ≥ 1).
func (d *Deliverer) backoff(n int) time.Duration {
	if len(d.Retry) == 0 {
		return time.Minute
	}
	return d.Retry[min(n, len(d.Retry))-1]
}

// event is the CloudEvent of one change.
func (d *Deliverer) event(ctx context.Context, c store.Change) webhook.Event {
	r := c.Record
	folder := d.Service.folderPath(ctx, r.DirectoryID, c.Member.AccountID)
	return webhook.NewEvent(r.DirectoryID, r.ID, string(c.Type), c.Member.AccountID, r.Time, view(c, folder))
}

func wants(w store.Webhook, t store.ChangeType) bool { return slices.Contains(w.Types, t) }

// systemRecord is the audit record of something the deliverer did.
func (d *Deliverer) systemRecord(w store.Webhook, result string, detail map[string]string) store.AuditEvent {
	actor := audit.Actor{Role: string(role.System), RequestID: d.Owner}
	return d.Service.Audit.With(w.DirectoryID, actor, func(store.Member, store.Member) audit.Entry {
		return audit.Entry{Action: action.DeliverWebhooks, Target: w.ID, Result: result, Detail: detail}
	})(store.Member{}, store.Member{})
}
