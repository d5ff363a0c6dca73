package tablestore

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/port/store"
)

// A webhook's recent requests (store.Webhook.Recent and Tests). Delivery
// attempt n is column recent_<n mod RecentAttempts>, written with the
// progress in the UpdateRow the deliverer makes anyway: recording it costs
// no call and no read. The poll (AllWebhooks, once a second) does not
// read these columns; the console's list does.
const (
	colAttemptSeq  = "attempt_seq"
	colRecentTests = "recent_tests" // JSON array, newest first
	recentPrefix   = "recent_"
)

// attemptJSON is a store.Attempt in a column.
type attemptJSON struct {
	N          int64  `json:"n,omitempty"` // the attempt's number (deliveries)
	Time       int64  `json:"t"`
	ChangeID   string `json:"c"`
	StatusCode int    `json:"s,omitempty"`
	Error      string `json:"e,omitempty"`
	DurationMs int64  `json:"d"`
}

func toAttemptJSON(n int64, a store.Attempt) attemptJSON {
	return attemptJSON{N: n, Time: toMs(a.Time), ChangeID: a.ChangeID, StatusCode: a.StatusCode, Error: a.Error,
		DurationMs: a.Duration.Milliseconds()}
}

func (j attemptJSON) attempt() store.Attempt {
	return store.Attempt{Time: msTime(j.Time), ChangeID: j.ChangeID, StatusCode: j.StatusCode, Error: j.Error,
		Duration: time.Duration(j.DurationMs) * time.Millisecond}
}

func recentColumn(n int64) string {
	return recentPrefix + strconv.FormatInt(n%store.RecentAttempts, 10)
}

// attemptColumn is the column that records delivery attempt n.
func attemptColumn(n int64, a store.Attempt) (column, error) {
	v, err := json.Marshal(toAttemptJSON(n, a))
	if err != nil {
		return column{}, apperr.Internal(err)
	}
	return column{recentColumn(n), string(v)}, nil
}

// decodeAttempts reads the recent deliveries (newest first, by number)
// and tests of a webhook row.
func decodeAttempts(c columns) (recent, tests []store.Attempt, err error) {
	var js []attemptJSON
	for i := range int64(store.RecentAttempts) {
		v, err := c.str(recentColumn(i))
		if err != nil {
			return nil, nil, err
		}
		if v == "" {
			continue
		}
		var j attemptJSON
		if err := json.Unmarshal([]byte(v), &j); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", recentColumn(i), err)
		}
		js = append(js, j)
	}
	slices.SortFunc(js, func(a, b attemptJSON) int { return cmp.Compare(b.N, a.N) })
	for _, j := range js {
		recent = append(recent, j.attempt())
	}
	v, err := c.str(colRecentTests)
	if err != nil || v == "" {
		return recent, nil, err
	}
	js = nil
	if err := json.Unmarshal([]byte(v), &js); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", colRecentTests, err)
	}
	for _, j := range js {
		tests = append(tests, j.attempt())
	}
	return recent, tests, nil
}

// pollColumns are the columns the poll reads: the settings and the
// progress, not the recent requests.
var pollColumns = func() []string {
	cols, _ := settingColumns(store.Webhook{}, 0)
	names := []string{colCreateTime, colSeq}
	for _, c := range append(cols, deliveryColumns(store.Delivery{})...) {
		names = append(names, c.name)
	}
	return names
}()

// RecordWebhookTest implements store.Webhooks: one UpdateRow (EXPECT_EXIST)
// of the tests' column with the audit rows, in one BatchWriteRow.
func (s *Store) RecordWebhookTest(ctx context.Context, dirID, id string, tests []store.Attempt, record store.AuditEvent) error {
	if err := store.CheckWebhookKey(dirID, id); err != nil {
		return err
	}
	js := make([]attemptJSON, 0, store.RecentTests)
	for _, a := range tests[:min(len(tests), store.RecentTests)] {
		js = append(js, toAttemptJSON(0, a))
	}
	v, err := json.Marshal(js)
	if err != nil {
		return apperr.Internal(err)
	}
	ch := s.webhookUpdate(dirID, id, []column{{colRecentTests, string(v)}}, nil)
	err = s.writeWebhook(ctx, "RecordWebhookTest", ch, &record)
	if isConditionFailed(err) {
		return store.WebhookNotFound(dirID, id)
	}
	return err
}
