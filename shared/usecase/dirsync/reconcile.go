package dirsync

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/sase-multiaccount/backend/shared/action"
	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/port/directory"
	"github.com/sase-multiaccount/backend/shared/port/store"
	"github.com/sase-multiaccount/backend/shared/usecase/audit"
)

// Counts is what reconcile-members returns.
type Counts struct {
	Checked int // members compared with the directory
	Removed int // members whose account is no longer in the directory
	Renamed int // members whose AccountName was refreshed
	// Enrolled counts accounts the enrollment policy made members: joins
	// and moves into scope that neither an event nor the handshake check
	// saw (enrollUnseen).
	Enrolled int `json:",omitempty"`
}

// MarshalZerologObject writes the counts as fields of the run's log line.
func (n Counts) MarshalZerologObject(e *zerolog.Event) {
	e.Int("checked", n.Checked).Int("removed", n.Removed).Int("renamed", n.Renamed).Int("enrolled", n.Enrolled)
}

// TimerEvent is the payload of an FC timer trigger.
type TimerEvent struct {
	TriggerTime string `json:"triggerTime"`
	TriggerName string `json:"triggerName"`
	Payload     string `json:"payload"`
}

type renameTo struct {
	m    store.Member
	name string
}

// Reconcile is the backstop of events: after a run, the members, their
// names, the directory mirror (and with it the folder paths) and the
// enrollments are what every event since the last run would have made of
// them, whether those events arrived or not (docs/DESIGN.md §10).
//
// It reads the mirror as the last run and the events since left it, then
// every page of ListAccounts and the folder tree. Members whose account
// left are removed and stale names refreshed; accounts that are no members
// and whose arrival the mirror does not show (not in it: joined; in another
// folder there: moved) go to the enrollment policy (enrollUnseen); each
// change is audited as System with requestID. Last, the mirror is rebuilt
// from the listing and the full-sync time recorded: a run that fails before
// leaves the mirror as it was, so the next run sees the same arrivals.
//
// It is safe concurrently with events, delete/add requests and itself:
//   - the accounts are listed first, at start, and a member added at or
//     after start is never removed (its account may have joined after the
//     listing);
//   - a removal is confirmed by a second listing, because RD's page-number
//     pagination can skip an account when another leaves mid-listing;
//   - names are written with asOf = start, so a newer rename (an event, a
//     later run) is never overwritten;
//   - a member removed or renamed concurrently is counted and audited by
//     whoever changed it, once; an enrollment is one conditional add.
func (s *Service) Reconcile(ctx context.Context, requestID string) (Counts, error) {
	var n Counts
	start := s.now()
	d, ok, err := s.current(ctx)
	if err != nil || !ok {
		return n, wrapReconcile(err)
	}
	// Read before listing RD: read after, the mirror could hold a move newer
	// than the listing, and the listing's older folder would pass for a move.
	seen, err := s.mirror.ReadMirror(ctx, d.ID)
	if err != nil {
		return n, wrapReconcile(fmt.Errorf("read directory mirror: %w", err))
	}
	accounts, ok, err := s.accounts(ctx, d)
	if err != nil || !ok {
		return n, wrapReconcile(err)
	}
	folders, err := s.dir.ListFolders(ctx)
	if err != nil {
		return n, wrapReconcile(fmt.Errorf("list folders: %w", err))
	}
	actor := audit.Actor{AccountID: s.owner, Principal: string(action.ReconcileMembers), Role: systemRole, RequestID: requestID}
	isMember, ok, err := s.correct(ctx, d, accounts, start, actor, &n)
	if err != nil || !ok {
		return n, wrapReconcile(err)
	}
	n.Enrolled, err = s.enrollUnseen(ctx, d, accounts, isMember, seen.Accounts, folders, actor)
	if err != nil {
		return n, wrapReconcile(err)
	}
	return n, wrapReconcile(s.rebuildMirror(ctx, d, accounts, folders, start))
}

// correct removes the members whose account left and refreshes stale
// names, counting into n; it returns every member it read. ok is false
// when the directory is gone. A failure stops the run with the counts of
// what was done; the next run (or the timer's retry) picks up the rest.
func (s *Service) correct(ctx context.Context, d directory.Directory, accounts map[string]directory.Account, start time.Time,
	actor audit.Actor, n *Counts) (isMember map[string]bool, ok bool, err error) {
	dr, err := s.drift(ctx, d, accounts, start)
	n.Checked = dr.checked
	if err != nil {
		return nil, false, err
	}
	if dr.gone, ok, err = s.confirmGone(ctx, d, dr.gone); err != nil || !ok {
		return nil, ok, err
	}
	for i := 0; i < len(dr.gone); i += batch {
		removed, err := s.removeGone(ctx, d, actor, dr.gone[i:min(i+batch, len(dr.gone))])
		n.Removed += removed
		if removed > 0 {
			// those accounts are no longer members of the directory
			err = errors.Join(err, s.invalidate(ctx))
		}
		if err != nil {
			return nil, false, err
		}
	}
	for i := 0; i < len(dr.renames); i += batch {
		renamed, err := s.refreshNames(ctx, d, actor, dr.renames[i:min(i+batch, len(dr.renames))], start)
		n.Renamed += renamed
		if err != nil {
			return nil, false, err
		}
	}
	return dr.isMember, true, nil
}

// memberDrift is how the members differ from the directory's accounts.
type memberDrift struct {
	gone     []store.Member  // members whose account is not listed
	renames  []renameTo      // members whose name is not the listed one
	isMember map[string]bool // every member read
	checked  int             // how many were read
}

// drift reads every member of d and compares it with accounts. Members
// added at or after start are left alone: they were in the directory then.
func (s *Service) drift(ctx context.Context, d directory.Directory, accounts map[string]directory.Account, start time.Time) (memberDrift, error) {
	dr := memberDrift{isMember: map[string]bool{}}
	q := store.ListQuery{SortBy: store.SortByAccountID, Limit: scanPage}
	for {
		ms, more, err := s.store.ListMembers(ctx, d.ID, q)
		if err != nil {
			return dr, fmt.Errorf("list members: %w", err)
		}
		for _, m := range ms {
			dr.checked++
			dr.isMember[m.AccountID] = true
			if !m.AddTime.Before(start) {
				continue // added during this run: it was in the directory then
			}
			a, in := accounts[m.AccountID]
			switch {
			case !in:
				dr.gone = append(dr.gone, m)
			case a.DisplayName != "" && a.DisplayName != m.AccountName:
				dr.renames = append(dr.renames, renameTo{m: m, name: a.DisplayName})
			}
		}
		if !more || len(ms) == 0 {
			return dr, nil
		}
		q.After = &store.Position{AccountID: ms[len(ms)-1].AccountID}
	}
}

// confirmGone keeps the members whose account a second listing lacks too:
// RD's page-number pagination can skip an account when another leaves
// mid-listing. ok is false when the directory is gone.
func (s *Service) confirmGone(ctx context.Context, d directory.Directory, gone []store.Member) (_ []store.Member, ok bool, err error) {
	if len(gone) == 0 {
		return gone, true, nil
	}
	again, ok, err := s.accounts(ctx, d)
	if err != nil || !ok {
		return nil, ok, err
	}
	kept := gone[:0]
	for _, m := range gone {
		if _, in := again[m.AccountID]; !in {
			kept = append(kept, m)
		}
	}
	return kept, true, nil
}

// accounts lists the directory's accounts by ID. ok is false when the
// directory is gone. A listing without the management account is refused:
// an incomplete listing must not remove anyone.
func (s *Service) accounts(ctx context.Context, d directory.Directory) (map[string]directory.Account, bool, error) {
	list, err := s.dir.ListAccounts(ctx)
	if apperr.IsCode(err, apperr.CodeNoDirectory) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("list accounts: %w", err)
	}
	byID := make(map[string]directory.Account, len(list))
	for _, a := range list {
		byID[a.AccountID] = a
	}
	if _, in := byID[d.ManagementAccountID]; !in {
		return nil, false, apperr.Unavailable("Resource Directory", fmt.Errorf(
			"ListAccounts of %s returned %d accounts without the management account %s: the listing is incomplete, nothing was changed",
			d.ID, len(list), d.ManagementAccountID))
	}
	return byID, true, nil
}

// removeGone deletes one batch and audits what it deleted.
func (s *Service) removeGone(ctx context.Context, d directory.Directory, actor audit.Actor, batch []store.Member) (int, error) {
	ids := make([]string, len(batch))
	for i, m := range batch {
		ids[i] = m.AccountID
	}
	record := s.audit.With(d.ID, actor, func(m, _ store.Member) audit.Entry {
		return audit.Entry{Action: action.ReconcileMembers, Target: m.AccountID, Result: ResultRemoved,
			Detail: map[string]string{"AccountName": m.AccountName, "Remark": m.Remark, "Reason": "NotInResourceDirectory"}}
	})
	res, err := s.store.DeleteMembers(ctx, d.ID, ids, record)
	if err != nil {
		return 0, fmt.Errorf("delete members: %w", err)
	}
	removed := 0
	var failed error
	for _, r := range res {
		switch r.Status {
		case store.Deleted:
			removed++
		case store.DeleteFailed:
			if failed == nil {
				failed = fmt.Errorf("delete member %s: %w", r.AccountID, r.Err)
			}
		}
	}
	return removed, failed
}

// refreshNames renames one batch and audits what changed.
func (s *Service) refreshNames(ctx context.Context, d directory.Directory, actor audit.Actor, batch []renameTo, asOf time.Time) (int, error) {
	record := s.audit.With(d.ID, actor, func(before, after store.Member) audit.Entry {
		return audit.Entry{Action: action.ReconcileMembers, Target: after.AccountID, Result: ResultRenamed,
			Detail: map[string]string{"OldName": before.AccountName, "NewName": after.AccountName}}
	})
	renamed := 0
	for _, r := range batch {
		changed, err := s.store.RenameMember(ctx, d.ID, r.m.AccountID, r.name, asOf, record)
		if err != nil {
			return renamed, fmt.Errorf("rename member %s: %w", r.m.AccountID, err)
		}
		if changed {
			renamed++
		}
	}
	return renamed, nil
}

func wrapReconcile(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("reconcile members: %w", err)
}
