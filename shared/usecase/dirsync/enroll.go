package dirsync

import (
	"context"
	"fmt"
	"slices"
	"strings"

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

// enrollment is how one caller applies the policy.
type enrollment struct {
	by    action.Action
	actor audit.Actor
	// folders is RD's folder tree when the caller has just read it
	// (reconciliation); nil reads the mirror's.
	folders []directory.Folder
	// unseen: the accounts arrived where RD lists them without the mirror
	// seeing it (their event was lost). One that joined the directory is
	// enrolled only if it joined at or after the policy's UpdateTime, as
	// its event would have been; one that moved (moved[id]) is judged by
	// the policy now, as its MoveAccount event would have been.
	unseen bool
	moved  map[string]bool
}

// enrollAccounts makes members of the accounts the enrollment policy
// enrolls (never the management account, never an excluded one), batch per
// AddMembers call, each with its System audit record naming the policy
// version, in the same unit as the member row. An account that is a member
// already is left alone. Costs: one GetPolicy, one ReadMirrorFolders for a
// Folders policy unless e.folders is given (and RD's ListFolders when the
// mirror lacks an account's folder), one AddMembers per 100 accounts
// enrolled.
func (s *Service) enrollAccounts(ctx context.Context, d directory.Directory, accounts []directory.Account, e enrollment) (int, error) {
	if len(accounts) == 0 {
		return 0, nil
	}
	p, err := s.policies.GetPolicy(ctx, d.ID)
	if err != nil {
		return 0, fmt.Errorf("read enrollment policy: %w", err)
	}
	if p.Mode != store.PolicyAllAccounts && p.Mode != store.PolicyFolders {
		return 0, nil
	}
	folders := e.folders
	if p.Mode == store.PolicyFolders && folders == nil {
		if folders, err = s.policyFolders(ctx, d, accounts); err != nil {
			return 0, err
		}
	}
	scope := enroll.NewScope(p, folders, d.ManagementAccountID)
	now := s.now()
	var ms []store.Member
	path := map[string]string{}
	for _, a := range accounts {
		if e.unseen && !e.moved[a.AccountID] && a.JoinTime.Before(p.UpdateTime) {
			continue // joined before the policy took its current form
		}
		if scope.Enrolls(a.AccountID, a.FolderID) {
			ms = append(ms, enroll.Member(d.ID, a.AccountID, a.DisplayName, now))
			path[a.AccountID] = scope.Path(a.FolderID)
		}
	}
	record := s.audit.With(d.ID, e.actor, func(_, m store.Member) audit.Entry {
		return audit.Entry{Action: e.by, Target: m.AccountID, Result: ResultEnrolled, Detail: map[string]string{
			"AccountName": m.AccountName, "FolderPath": path[m.AccountID], "PolicyVersion": scope.Version(), "PolicyMode": p.Mode}}
	})
	return s.addEnrolled(ctx, d, ms, record)
}

// policyFolders is the mirror's folder tree, or RD's when the mirror lacks
// an account's folder (never synced, or the folder's event not seen yet).
func (s *Service) policyFolders(ctx context.Context, d directory.Directory, accounts []directory.Account) ([]directory.Folder, error) {
	fs, err := s.mirror.ReadMirrorFolders(ctx, d.ID)
	if err != nil {
		return nil, fmt.Errorf("read mirror folders: %w", err)
	}
	folders := enroll.Folders(fs)
	tree := directory.NewFolderTree(folders)
	for _, a := range accounts {
		if !tree.Has(a.FolderID) {
			if folders, err = s.dir.ListFolders(ctx); err != nil {
				return nil, fmt.Errorf("list folders: %w", err)
			}
			break
		}
	}
	return folders, nil
}

// addEnrolled writes the enrolled members, batch per AddMembers call.
func (s *Service) addEnrolled(ctx context.Context, d directory.Directory, ms []store.Member, record store.AuditOf) (int, error) {
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

// enrollArrival applies the policy to the account an event names, before
// the mirror takes RD's answer: once the mirror shows the account where RD
// has it, reconciliation no longer sees it arrive, so a failure here must
// leave the mirror as it was. CreateResourceAccount and MoveAccount are
// arrivals, judged by the policy now. Any other account event (a rename, a
// removal RD does not confirm) first reads the account's mirror row: an
// account the mirror lacks, or holds in another folder, arrived unseen (its
// event lost) and is judged as reconciliation judges it.
func (s *Service) enrollArrival(ctx context.Context, d directory.Directory, c call, acc directory.Account) (bool, error) {
	e := enrollment{by: action.DirectoryEvents, actor: s.actor(c)}
	if c.name != EventCreateResourceAccount && c.name != EventMoveAccount {
		prev, seen, err := s.mirror.ReadMirrorAccount(ctx, d.ID, acc.AccountID)
		if err != nil {
			return false, fmt.Errorf("read directory mirror: %w", err)
		}
		if seen && prev.FolderID == acc.FolderID {
			return false, nil
		}
		e.unseen, e.moved = true, map[string]bool{acc.AccountID: seen}
	}
	n, err := s.enrollAccounts(ctx, d, []directory.Account{acc}, e)
	return n == 1, err
}

// enrollUnseen is reconciliation's share of the policy: the accounts RD
// lists that are no members and whose arrival the mirror, as the last run
// and the events since left it, does not show (absent from it: joined;
// in another folder there: moved). This is what their lost events would
// have enrolled.
func (s *Service) enrollUnseen(ctx context.Context, d directory.Directory, accounts map[string]directory.Account, isMember map[string]bool,
	seen []store.MirrorAccount, folders []directory.Folder, actor audit.Actor) (int, error) {
	was := make(map[string]string, len(seen))
	for _, a := range seen {
		was[a.AccountID] = a.FolderID
	}
	e := enrollment{by: action.ReconcileMembers, actor: actor, folders: folders, unseen: true, moved: map[string]bool{}}
	var arrived []directory.Account
	for id, a := range accounts {
		folder, inMirror := was[id]
		if isMember[id] || (inMirror && folder == a.FolderID) {
			continue
		}
		arrived = append(arrived, a)
		e.moved[id] = inMirror
	}
	slices.SortFunc(arrived, func(a, b directory.Account) int { return strings.Compare(a.AccountID, b.AccountID) })
	return s.enrollAccounts(ctx, d, arrived, e)
}
