package dirsync

import (
	"context"
	"fmt"

	"github.com/sase-multiaccount/backend/shared/action"
	"github.com/sase-multiaccount/backend/shared/port/directory"
	"github.com/sase-multiaccount/backend/shared/port/store"
	"github.com/sase-multiaccount/backend/shared/usecase/audit"
	"github.com/sase-multiaccount/backend/shared/usecase/enroll"
)

// ReasonNotInScope says the enrollment policy does not enroll the account
// (Off, another folder, excluded, the management account, or a member
// already).
const ReasonNotInScope = "NotEnrolledByPolicy"

// enrollAccounts makes members of the accounts the enrollment policy
// enrolls (never the management account, never an excluded one), batch per
// AddMembers call, each with its System audit record naming the policy
// version, in the same unit as the member row. An account that is a member
// already is left alone. Costs: one GetPolicy, one ReadMirrorFolders for a
// Folders policy (and RD's ListFolders when the mirror lacks an account's
// folder), one AddMembers per 100 accounts enrolled.
//
// joinedSince (reconciliation) limits enrollment to accounts that joined
// the directory since the policy took its current form: those an event or
// the handshake check should have added. Accounts that were there before
// join only through ApplyToExisting or by moving into scope later.
func (s *Service) enrollAccounts(ctx context.Context, d directory.Directory, accounts []directory.Account, by action.Action, actor audit.Actor, joinedSince bool) (int, error) {
	if len(accounts) == 0 {
		return 0, nil
	}
	p, err := s.policies.GetPolicy(ctx, d.ID)
	if err != nil {
		return 0, fmt.Errorf("read enrollment policy: %w", err)
	}
	var folders []directory.Folder
	switch p.Mode {
	case store.PolicyAllAccounts:
	case store.PolicyFolders:
		fs, err := s.mirror.ReadMirrorFolders(ctx, d.ID)
		if err != nil {
			return 0, fmt.Errorf("read mirror folders: %w", err)
		}
		folders = enroll.Folders(fs)
		// A mirror without the account's folder (never synced, or the
		// folder's event not seen yet): the tree from RD, once.
		tree := directory.NewFolderTree(folders)
		for _, a := range accounts {
			if !tree.Has(a.FolderID) {
				if folders, err = s.dir.ListFolders(ctx); err != nil {
					return 0, fmt.Errorf("list folders: %w", err)
				}
				break
			}
		}
	default:
		return 0, nil
	}
	scope := enroll.NewScope(p, folders, d.ManagementAccountID)
	now := s.now()
	var ms []store.Member
	path := map[string]string{}
	for _, a := range accounts {
		if joinedSince && a.JoinTime.Before(p.UpdateTime) {
			continue
		}
		if scope.Enrolls(a.AccountID, a.FolderID) {
			ms = append(ms, enroll.Member(d.ID, a.AccountID, a.DisplayName, now))
			path[a.AccountID] = scope.Path(a.FolderID)
		}
	}
	record := s.audit.With(d.ID, actor, func(_, m store.Member) audit.Entry {
		return audit.Entry{Action: by, Target: m.AccountID, Result: ResultEnrolled, Detail: map[string]string{
			"AccountName": m.AccountName, "FolderPath": path[m.AccountID], "PolicyVersion": scope.Version(), "PolicyMode": p.Mode}}
	})
	enrolled := 0
	for start := 0; start < len(ms); start += batch {
		res, err := s.store.AddMembers(ctx, d.ID, ms[start:min(start+batch, len(ms))], record)
		if err != nil {
			return enrolled, fmt.Errorf("enroll members: %w", err)
		}
		for _, r := range res {
			switch r.Status {
			case store.Added:
				enrolled++
			case store.AddFailed:
				return enrolled, fmt.Errorf("enroll member %s: %w", r.AccountID, r.Err)
			}
		}
	}
	return enrolled, nil
}

// enrollFromEvent: an account was created in or moved into a folder. The
// mirror has RD's answer; the policy decides whether it becomes a member.
func (s *Service) enrollFromEvent(ctx context.Context, d directory.Directory, c call, acc directory.Account, sum Summary) (Summary, error) {
	n, err := s.enrollAccounts(ctx, d, []directory.Account{acc}, action.DirectoryEvents, s.actor(c), false)
	if err != nil {
		return sum, err
	}
	if n == 1 {
		sum.Result = ResultEnrolled
		return sum, nil
	}
	sum.Result, sum.Reason = ResultMirrored, ReasonNotInScope
	sum.Message = fmt.Sprintf("The directory mirror has account %s in folder %s; the enrollment policy does not add it (not in scope, excluded, or a member already).", acc.AccountID, acc.FolderID)
	return sum, nil
}
