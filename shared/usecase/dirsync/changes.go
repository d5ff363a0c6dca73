package dirsync

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sase-multiaccount/backend/shared/action"
	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/port/directory"
	"github.com/sase-multiaccount/backend/shared/port/store"
	"github.com/sase-multiaccount/backend/shared/usecase/audit"
)

func (s *Service) actor(c call) audit.Actor {
	return audit.Actor{AccountID: c.caller, Principal: c.principal, Role: systemRole, RequestID: c.id}
}

func (c call) detail(kv ...string) map[string]string {
	d := map[string]string{"EventId": c.id, "EventName": c.name, "EventSource": c.source, "EventTime": c.rawTime}
	for i := 0; i+1 < len(kv); i += 2 {
		d[kv[i]] = kv[i+1]
	}
	return d
}

// current returns the directory; ok is false when none exists.
func (s *Service) current(ctx context.Context) (d directory.Directory, ok bool, err error) {
	d, err = s.dir.GetDirectory(ctx)
	if apperr.IsCode(err, apperr.CodeNoDirectory) {
		return directory.Directory{}, false, nil
	}
	if err != nil {
		return directory.Directory{}, false, fmt.Errorf("get directory: %w", err)
	}
	return d, true, nil
}

// ours returns the directory the event is about, or the Summary that says
// why it is not ours.
func (s *Service) ours(ctx context.Context, c call, sum Summary) (directory.Directory, *Summary, error) {
	d, ok, err := s.current(ctx)
	if err != nil {
		return d, nil, err
	}
	if !ok {
		sum.Result, sum.Reason = ResultNoChange, ReasonNoDirectory
		sum.Message = "No Resource Directory exists; there is nothing to update."
		return d, &sum, nil
	}
	if c.caller != d.ManagementAccountID {
		sum.Result, sum.Reason = ResultIgnored, ReasonOtherDirectory
		sum.Message = fmt.Sprintf("The call was made by account %s, not by %s, the management account of directory %s.",
			c.caller, d.ManagementAccountID, d.ID)
		return d, &sum, nil
	}
	return d, nil, nil
}

// member returns the member row, or the Summary when there is none.
func (s *Service) member(ctx context.Context, d directory.Directory, c call, sum Summary) (store.Member, *Summary, error) {
	m, err := s.store.GetMember(ctx, d.ID, c.account)
	if apperr.IsCode(err, apperr.CodeMemberNotFound) {
		sum.Result, sum.Reason = ResultNoChange, ReasonNotMember
		sum.Message = fmt.Sprintf("Account %s is not a SASE member of directory %s.", c.account, d.ID)
		return m, &sum, nil
	}
	if err != nil {
		return m, nil, fmt.Errorf("get member: %w", err)
	}
	return m, nil, nil
}

// remove: the account left the directory, so it leaves SASE. inRD is what
// GetAccount said a moment ago (the hint checked).
func (s *Service) remove(ctx context.Context, d directory.Directory, c call, inRD bool, sum Summary) (Summary, error) {
	m, done, err := s.member(ctx, d, c, sum)
	if err != nil || done != nil {
		return orSum(done, sum), err
	}
	if !m.AddTime.Before(c.upper) {
		// The account left, came back and was added again after this
		// event: the event is older than the member.
		sum.Result, sum.Reason = ResultNoChange, ReasonAddedAfterEvent
		sum.Message = fmt.Sprintf("Member %s was added at %s, after this %s at %s.",
			c.account, audit.FormatTime(m.AddTime), c.name, c.rawTime)
		return sum, nil
	}
	// The hint: does RD still list the account?
	if inRD {
		sum.Result, sum.Reason = ResultNoChange, ReasonStillInDirectory
		sum.Message = fmt.Sprintf("Resource Directory still lists account %s; the member stays.", c.account)
		return sum, nil
	}
	record := s.audit.With(d.ID, s.actor(c), func(m, _ store.Member) audit.Entry {
		return audit.Entry{Action: action.DirectoryEvents, Target: c.account, Result: ResultRemoved,
			Detail: c.detail("AccountName", m.AccountName, "Remark", m.Remark, "Reason", "LeftResourceDirectory")}
	})
	res, err := s.store.DeleteMembers(ctx, d.ID, []string{c.account}, record)
	if err != nil {
		return sum, fmt.Errorf("delete member: %w", err)
	}
	if len(res) != 1 {
		return sum, apperr.Internal(fmt.Errorf("delete member: %d results for 1 account", len(res)))
	}
	switch r := res[0]; r.Status {
	case store.Deleted:
		m = r.Member
	case store.NotFound: // removed meanwhile (delete-members, reconciliation, a twin event)
		sum.Result, sum.Reason = ResultNoChange, ReasonNotMember
		sum.Message = fmt.Sprintf("Account %s was removed from SASE meanwhile.", c.account)
		return sum, nil
	default:
		return sum, fmt.Errorf("delete member: %w", r.Err)
	}
	if err := s.invalidate(ctx); err != nil { // the account is no longer a member of the directory
		return sum, err
	}
	sum.Result = ResultRemoved
	return sum, nil
}

// rename: the account's display name changed. acc is what GetAccount said
// a moment ago (inRD false: not in the directory).
func (s *Service) rename(ctx context.Context, d directory.Directory, c call, acc directory.Account, inRD bool, sum Summary) (Summary, error) {
	m, done, err := s.member(ctx, d, c, sum)
	if err != nil || done != nil {
		return orSum(done, sum), err
	}
	// The store keeps the newest observation. The rename happened before
	// upper (eventTime plus its precision: ActionTrail writes seconds), so
	// the name holds as of upper; a member added at or after upper read it
	// already, one added earlier in the same second did not.
	asOf := c.upper
	// The hint: the name is the one RD reports now, not the event's.
	if !inRD {
		sum.Result, sum.Reason = ResultNoChange, ReasonNotConfirmed
		sum.Message = fmt.Sprintf("Resource Directory does not list account %s; its name is not changed.", c.account)
		return sum, nil
	}
	if acc.DisplayName != c.newName {
		sum.Result, sum.Reason = ResultNoChange, ReasonNotConfirmed
		sum.Message = fmt.Sprintf("Resource Directory names account %s %q, not %q; the event is not confirmed.", c.account, acc.DisplayName, c.newName)
		return sum, nil
	}
	record := s.audit.With(d.ID, s.actor(c), func(before, after store.Member) audit.Entry {
		return audit.Entry{Action: action.DirectoryEvents, Target: c.account, Result: ResultRenamed,
			Detail: c.detail("OldName", before.AccountName, "NewName", after.AccountName)}
	})
	changed, err := s.store.RenameMember(ctx, d.ID, c.account, c.newName, asOf, record)
	if err != nil {
		return sum, fmt.Errorf("rename member: %w", err)
	}
	if !changed {
		sum.Result, sum.Reason = ResultNoChange, ReasonSameName
		sum.Message = fmt.Sprintf("Member %s is already named %q.", c.account, c.newName)
		if !asOf.After(m.NameTime) {
			sum.Reason = ReasonNewerName
			sum.Message = fmt.Sprintf("Member %s's name was observed at %s, after this rename at %s; the newer name stays.",
				c.account, m.NameTime.UTC().Format(time.RFC3339Nano), c.rawTime)
		}
		return sum, nil
	}
	sum.Result = ResultRenamed
	return sum, nil
}

// delegated: SASE's delegated administrator changed; roles are re-resolved
// from the directory, so the order of such events does not matter.
func (s *Service) delegated(ctx context.Context, c call, sum Summary) (Summary, error) {
	d, done, err := s.ours(ctx, c, sum)
	if err != nil {
		return sum, err
	}
	if err := s.invalidate(ctx); err != nil { // even when not ours: a fresh answer is never wrong
		return sum, err
	}
	if done != nil {
		return *done, nil
	}
	result := ResultRegistered
	if c.name == EventDeregisterDelegated {
		result = ResultDeregistered
	}
	// The hint: is the account SASE's delegated administrator now?
	das, err := s.dir.ListDelegatedAdmins(ctx)
	if err != nil {
		return sum, fmt.Errorf("confirm delegated administrator: %w", err)
	}
	listed := slices.ContainsFunc(das, func(da directory.DelegatedAdmin) bool { return da.AccountID == c.account })
	if listed != (result == ResultRegistered) {
		sum.Result, sum.Reason = ResultNoChange, ReasonNotConfirmed
		sum.Message = fmt.Sprintf("Resource Directory does not confirm that account %s was %s; role answers were refreshed.",
			c.account, strings.ToLower(result))
		return sum, nil
	}
	if err := s.audit.Record(ctx, d.ID, s.actor(c), audit.Entry{
		ID: audit.EventRecordID(c.pos, c.key), Action: action.DirectoryEvents, Target: c.account, Result: result,
		Detail: c.detail("ServicePrincipal", c.svc, "Effect", "RoleCacheInvalidated"),
	}); err != nil {
		return sum, err
	}
	sum.Result = result
	return sum, nil
}

// destroyed: the directory is gone. Every role answer goes; the role check
// then finds no directory and answers 404 to everything but describe-setup
// and enable-directory. See the package documentation for the rest of what
// "nothing from the old directory is served" takes.
func (s *Service) destroyed(ctx context.Context, c call, sum Summary) (Summary, error) {
	d, ok, err := s.current(ctx)
	if err != nil {
		return sum, err
	}
	if err := s.invalidate(ctx); err != nil {
		return sum, err
	}
	if ok {
		switch {
		case c.caller != d.ManagementAccountID:
			sum.Result, sum.Reason = ResultIgnored, ReasonOtherDirectory
			sum.Message = fmt.Sprintf("The call was made by account %s, not by %s, the management account of directory %s.",
				c.caller, d.ManagementAccountID, d.ID)
		case !d.CreateTime.Before(c.upper):
			sum.Result, sum.Reason = ResultNoChange, ReasonDirectoryCreated
			sum.Message = fmt.Sprintf("Directory %s was created at %s, after this %s at %s.",
				d.ID, audit.FormatTime(d.CreateTime), c.name, c.rawTime)
		default:
			sum.Result, sum.Reason = ResultNoChange, ReasonDirectoryExists
			sum.Message = fmt.Sprintf("Directory %s still exists; role answers were refreshed.", d.ID)
		}
		return sum, nil
	}
	if c.caller != s.owner {
		sum.Result, sum.Reason = ResultIgnored, ReasonOtherDirectory
		sum.Message = fmt.Sprintf("The call was made by account %s, not by %s, the account of this deployment.", c.caller, s.owner)
		return sum, nil
	}
	if err := s.audit.Record(ctx, NoDirectoryID, s.actor(c), audit.Entry{
		ID: audit.EventRecordID(c.pos, c.key), Action: action.DirectoryEvents, Target: c.caller, Result: ResultDestroyed,
		Detail: c.detail("Effect", "RoleCacheInvalidated"),
	}); err != nil {
		return sum, err
	}
	sum.Result = ResultDestroyed
	return sum, nil
}

func orSum(done *Summary, sum Summary) Summary {
	if done != nil {
		return *done
	}
	return sum
}
