package tablestore

import (
	"context"
	"encoding/json"
	"fmt"

	ots "github.com/aliyun/aliyun-tablestore-go-sdk/tablestore"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/port/store"
)

// Webhooks (store.Webhooks): sase_webhooks PK (directory_id, webhook_id),
// one row per webhook with its settings and its progress, and the feed's
// counter row "~feed" (feed.go), so that the delivery loop's poll — every
// webhook and every feed head — is one GetRange.

const (
	colOwner        = "owner_account_id"
	colURL          = "url"
	colDescription  = "description"
	colTypes        = "types" // JSON array
	colEnabled      = "enabled"
	colCreateTime   = "create_time"
	colSecret       = "secret"
	colOldSecret    = "old_secret"
	colOldExpires   = "old_secret_expires"
	colCursor       = "cursor"
	colLastDelivery = "last_delivery_time"
	colLastStatus   = "last_status"
	colLastError    = "last_error"
	colAttempts     = "attempts"
	colNextAttempt  = "next_attempt"
	colFailingSince = "failing_since"
	colLeaseOwner   = "lease_owner"
	colLeaseUntil   = "lease_until"
)

func (s *Store) webhookPK(dirID, id string) *ots.PrimaryKey {
	return pk(colDir, dirID, colWebhookID, id)
}

// column is a column a webhook write sets.
type column struct {
	name  string
	value any
}

// settingColumns are the columns put-webhook owns.
func settingColumns(w store.Webhook, version int64) ([]column, error) {
	types, err := json.Marshal(w.Types)
	if err != nil {
		return nil, apperr.Internal(err)
	}
	return []column{{colOwner, w.Owner}, {colURL, w.URL}, {colDescription, w.Description}, {colTypes, string(types)}, {colEnabled, w.Enabled},
		{colUpdateTime, timeMs(w.UpdateTime)}, {colSecret, w.Secret}, {colOldSecret, w.OldSecret},
		{colOldExpires, timeMs(w.OldSecretExpires)}, {colVersion, version}}, nil
}

// deliveryColumns are the columns the deliverer owns.
func deliveryColumns(d store.Delivery) []column {
	return []column{{colCursor, d.Cursor}, {colLastDelivery, timeMs(d.LastDeliveryTime)}, {colLastStatus, d.LastStatus},
		{colLastError, d.LastError}, {colAttempts, int64(d.Attempts)}, {colNextAttempt, timeMs(d.NextAttempt)},
		{colFailingSince, timeMs(d.FailingSince)}, {colLeaseOwner, d.LeaseOwner}, {colLeaseUntil, timeMs(d.LeaseUntil)},
		{colAttemptSeq, d.AttemptSeq}}
}

func decodeWebhook(r *ots.Row) (store.Webhook, error) {
	kv := pkValues(r.PrimaryKey)
	dir, _ := kv[colDir].(string)
	id, _ := kv[colWebhookID].(string)
	c := &colReader{c: columnsOf(r.Columns)}
	enabled, _ := c.c[colEnabled].(bool)
	w := store.Webhook{DirectoryID: dir, ID: id, Owner: c.str(colOwner), URL: c.str(colURL), Description: c.str(colDescription), Enabled: enabled,
		CreateTime: msTime(c.int(colCreateTime)), UpdateTime: msTime(c.int(colUpdateTime)), Secret: c.str(colSecret),
		OldSecret: c.str(colOldSecret), OldSecretExpires: msTime(c.int(colOldExpires)), Version: c.int(colVersion),
		Delivery: store.Delivery{Cursor: c.int(colCursor), LastDeliveryTime: msTime(c.int(colLastDelivery)),
			LastStatus: c.str(colLastStatus), LastError: c.str(colLastError), Attempts: int(c.int(colAttempts)),
			NextAttempt: msTime(c.int(colNextAttempt)), FailingSince: msTime(c.int(colFailingSince)),
			LeaseOwner: c.str(colLeaseOwner), LeaseUntil: msTime(c.int(colLeaseUntil))}}
	w.Delivery.AttemptSeq, _ = c.c[colAttemptSeq].(int64) // rows written before attempts were kept have none
	if err := json.Unmarshal([]byte(c.str(colTypes)), &w.Types); err != nil {
		c.errs = append(c.errs, fmt.Errorf("types: %w", err))
	}
	var err error
	if w.Recent, w.Tests, err = decodeAttempts(c.c); err != nil {
		c.errs = append(c.errs, err)
	}
	if len(c.errs) > 0 {
		return store.Webhook{}, apperr.Internal(fmt.Errorf("tablestore: corrupt webhook row %s/%s: %v", dir, id, c.errs))
	}
	return w, nil
}

// webhookRows reads the rows from start to end: webhooks, and the heads of
// the feed counters among them.
func (s *Store) webhookRows(ctx context.Context, op string, start, end *ots.PrimaryKey, cols ...string) ([]store.Webhook, map[string]int64, error) {
	rows, err := s.rangeRows(ctx, op, s.cfg.WebhooksTable, start, end, ots.FORWARD, 0, cols...)
	if err != nil {
		return nil, nil, err
	}
	var hooks []store.Webhook
	heads := map[string]int64{}
	for _, r := range rows {
		kv := pkValues(r.PrimaryKey)
		if kv[colWebhookID] == feedHeadItem {
			n, err := columnsOf(r.Columns).int(colSeq)
			if err != nil {
				return nil, nil, apperr.Internal(fmt.Errorf("tablestore: feed counter %v: %w", kv[colDir], err))
			}
			heads[kv[colDir].(string)] = n
			continue
		}
		w, err := decodeWebhook(r)
		if err != nil {
			return nil, nil, err
		}
		hooks = append(hooks, w)
	}
	return hooks, heads, nil
}

// ListWebhooks implements store.Webhooks: one GetRange.
func (s *Store) ListWebhooks(ctx context.Context, dirID string) ([]store.Webhook, error) {
	if err := store.CheckDir(dirID); err != nil {
		return nil, err
	}
	hooks, _, err := s.webhookRows(ctx, "ListWebhooks", pk(colDir, dirID, colWebhookID, pkMin), pk(colDir, dirID, colWebhookID, pkMax))
	return hooks, err
}

// AllWebhooks implements store.Webhooks: one GetRange of the whole table,
// without the recent requests.
func (s *Store) AllWebhooks(ctx context.Context) ([]store.Webhook, map[string]int64, error) {
	return s.webhookRows(ctx, "AllWebhooks", pk(colDir, pkMin, colWebhookID, pkMin), pk(colDir, pkMax, colWebhookID, pkMax), pollColumns...)
}

func (s *Store) getWebhook(ctx context.Context, op, dirID, id string) (store.Webhook, bool, error) {
	found, row, err := s.getRow(ctx, op, s.cfg.WebhooksTable, s.webhookPK(dirID, id))
	if err != nil || !found {
		return store.Webhook{}, false, err
	}
	w, err := decodeWebhook(&ots.Row{PrimaryKey: &row.PrimaryKey, Columns: row.Columns})
	return w, err == nil, err
}
