package enroll

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sase-multiaccount/backend/shared/action"
	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/port/directory"
	"github.com/sase-multiaccount/backend/shared/port/store"
	"github.com/sase-multiaccount/backend/shared/usecase/audit"
	"github.com/sase-multiaccount/backend/shared/validate"
)

// Limits of update-enrollment-policy (docs/API.md).
const (
	MaxFolders    = 20
	MaxExclusions = 1000
	MaxPreview    = 100
	addBatch      = 100
)

// Store is what the policy use cases need from the store.
type Store interface {
	GetPolicy(ctx context.Context, dirID string) (store.EnrollmentPolicy, error)
	PutPolicy(ctx context.Context, dirID string, p store.EnrollmentPolicy, expectVersion int64, record store.AuditEvent) (store.EnrollmentPolicy, error)
	ReadMirror(ctx context.Context, dirID string) (store.Mirror, error)
	MemberIDs(ctx context.Context, dirID string) ([]string, error)
	AddMembers(ctx context.Context, dirID string, ms []store.Member, audit store.AuditOf) ([]store.AddResult, error)
}

// Directory is read when the mirror was never synced (a fresh deployment).
type Directory interface {
	ListAccounts(ctx context.Context) ([]directory.Account, error)
	ListFolders(ctx context.Context) ([]directory.Folder, error)
}

// Auditor makes audit records (audit.Recorder).
type Auditor interface {
	With(dirID string, actor audit.Actor, entry func(before, after store.Member) audit.Entry) store.AuditOf
}

// Service runs get-enrollment-policy and update-enrollment-policy.
type Service struct {
	Store     Store
	Directory Directory
	Audit     Auditor
	Now       func() time.Time
}

// Exclusion is an excluded account as the API shows it.
type Exclusion struct {
	AccountID string `json:"AccountId"`
	Reason    string
}

// Policy is the policy as the API shows it.
type Policy struct {
	Mode              string
	FolderIDs         []string `json:"FolderIds"`
	IncludeSubfolders bool
	ExcludedAccounts  []Exclusion
	Version           int64
	UpdateTime        string `json:",omitempty"`
	UpdatedBy         string `json:",omitempty"`
}

// GetOutput is the answer of get-enrollment-policy.
type GetOutput struct{ Policy Policy }

// UpdateInput is the body of update-enrollment-policy.
type UpdateInput struct {
	Mode              string
	FolderIDs         []string `json:"FolderIds"`
	IncludeSubfolders bool
	ExcludedAccounts  []Exclusion
	ApplyToExisting   bool
	Version           *int64
	DryRun            bool
}

// PreviewAccount is an account the policy would add.
type PreviewAccount struct {
	AccountID   string `json:"AccountId"`
	DisplayName string
	FolderPath  string
}

// Preview is what the policy covers now.
type Preview struct {
	WouldAddCount int
	WouldAdd      []PreviewAccount
	ExcludedCount int // accounts in scope, not members, that the exclusions keep out
}

// UpdateOutput is the answer of update-enrollment-policy.
type UpdateOutput struct {
	DryRun     bool
	Policy     Policy
	Preview    Preview
	AddedCount int
}

func view(p store.EnrollmentPolicy) Policy {
	out := Policy{Mode: p.Mode, FolderIDs: append([]string{}, p.FolderIDs...), IncludeSubfolders: p.IncludeSubfolders,
		ExcludedAccounts: make([]Exclusion, 0, len(p.Excluded)), Version: p.Version, UpdatedBy: p.UpdatedBy}
	if out.Mode == "" {
		out.Mode = store.PolicyOff
	}
	if !p.UpdateTime.IsZero() {
		out.UpdateTime = audit.FormatTime(p.UpdateTime)
	}
	for _, e := range p.Excluded {
		out.ExcludedAccounts = append(out.ExcludedAccounts, Exclusion{AccountID: e.AccountID, Reason: e.Reason})
	}
	return out
}

// Get is get-enrollment-policy: one store read.
func (s *Service) Get(ctx context.Context, d directory.Directory) (GetOutput, error) {
	p, err := s.Store.GetPolicy(ctx, d.ID)
	if err != nil {
		return GetOutput{}, fmt.Errorf("get enrollment policy: %w", err)
	}
	return GetOutput{Policy: view(p)}, nil
}

// validate checks the input's shape and returns the policy it asks for
// (folders not yet checked against the directory).
func validateInput(in UpdateInput) (store.EnrollmentPolicy, error) {
	var p store.EnrollmentPolicy
	switch in.Mode {
	case "":
		return p, apperr.Missing("Mode")
	case store.PolicyOff, store.PolicyAllAccounts, store.PolicyFolders:
	default:
		return p, apperr.Invalid("Mode", "Mode must be %s, %s or %s; got %q.", store.PolicyOff, store.PolicyAllAccounts, store.PolicyFolders, validate.Clip(in.Mode))
	}
	p.Mode = in.Mode
	if in.Mode == store.PolicyFolders {
		if len(in.FolderIDs) == 0 {
			return p, apperr.Missing("FolderIds")
		}
		for _, id := range in.FolderIDs {
			if err := validate.Text("FolderIds", id, 64); err != nil {
				return p, err
			}
			if id == "" {
				return p, apperr.Invalid("FolderIds", "FolderIds holds an empty folder ID.")
			}
			if !slices.Contains(p.FolderIDs, id) {
				p.FolderIDs = append(p.FolderIDs, id)
			}
		}
		if len(p.FolderIDs) > MaxFolders {
			return p, apperr.Invalid("FolderIds", "FolderIds names %d folders; at most %d are allowed.", len(p.FolderIDs), MaxFolders)
		}
		p.IncludeSubfolders = in.IncludeSubfolders
	} else if len(in.FolderIDs) > 0 {
		return p, apperr.Invalid("FolderIds", "Mode %s takes no FolderIds; only %s does.", in.Mode, store.PolicyFolders)
	}
	if len(in.ExcludedAccounts) > MaxExclusions {
		return p, apperr.Invalid("ExcludedAccounts", "ExcludedAccounts has %d entries; at most %d are allowed.", len(in.ExcludedAccounts), MaxExclusions)
	}
	seen := map[string]bool{}
	for i, e := range in.ExcludedAccounts {
		if !validate.IsAccountID(e.AccountID) {
			return p, apperr.Invalid("ExcludedAccounts", "ExcludedAccounts[%d].AccountId %q is not an account UID: it must be 16 digits.", i, validate.Clip(e.AccountID))
		}
		if err := validate.Remark(fmt.Sprintf("ExcludedAccounts[%d].Reason", i), e.Reason); err != nil {
			return p, err
		}
		if !seen[e.AccountID] {
			seen[e.AccountID] = true
			p.Excluded = append(p.Excluded, store.Exclusion{AccountID: e.AccountID, Reason: e.Reason})
		}
	}
	return p, nil
}

// directoryView is the accounts and folders a preview reads: the mirror
// once synced, else Resource Directory.
type directoryView struct {
	accounts []directory.Account
	folders  []directory.Folder
}

func (s *Service) read(ctx context.Context, dirID string) (directoryView, error) {
	m, err := s.Store.ReadMirror(ctx, dirID)
	if err != nil {
		return directoryView{}, fmt.Errorf("read directory mirror: %w", err)
	}
	if !m.Marks.SyncTime.IsZero() {
		v := directoryView{folders: Folders(m.Folders), accounts: make([]directory.Account, len(m.Accounts))}
		for i, a := range m.Accounts {
			v.accounts[i] = directory.Account{AccountID: a.AccountID, DisplayName: a.DisplayName, FolderID: a.FolderID, JoinTime: a.JoinTime}
		}
		return v, nil
	}
	fs, err := s.Directory.ListFolders(ctx)
	if err != nil {
		return directoryView{}, fmt.Errorf("list folders: %w", err)
	}
	as, err := s.Directory.ListAccounts(ctx)
	if err != nil {
		return directoryView{}, fmt.Errorf("list accounts: %w", err)
	}
	return directoryView{accounts: as, folders: fs}, nil
}

// Update is update-enrollment-policy.
func (s *Service) Update(ctx context.Context, d directory.Directory, actor audit.Actor, in UpdateInput) (UpdateOutput, error) {
	p, err := validateInput(in)
	if err != nil {
		return UpdateOutput{}, err
	}
	v, err := s.read(ctx, d.ID)
	if err != nil {
		return UpdateOutput{}, fmt.Errorf("update enrollment policy: %w", err)
	}
	tree := directory.NewFolderTree(v.folders)
	for _, id := range p.FolderIDs {
		if !tree.Has(id) {
			return UpdateOutput{}, apperr.NotFound(apperr.CodeFolderNotFound, "Folder %q (in FolderIds) is not a folder of this Resource Directory.", validate.Clip(id))
		}
	}
	cur, err := s.Store.GetPolicy(ctx, d.ID)
	if err != nil {
		return UpdateOutput{}, fmt.Errorf("update enrollment policy: %w", err)
	}
	if in.Version != nil && *in.Version != cur.Version {
		return UpdateOutput{}, store.PolicyConflict(d.ID, *in.Version, cur.Version)
	}
	ids, err := s.Store.MemberIDs(ctx, d.ID)
	if err != nil {
		return UpdateOutput{}, fmt.Errorf("update enrollment policy: %w", err)
	}
	members := make(map[string]bool, len(ids))
	for _, id := range ids {
		members[id] = true
	}
	now := s.Now().UTC()
	p.UpdateTime, p.UpdatedBy, p.Version = now, actor.AccountID, cur.Version
	scope := NewScope(p, v.folders, d.ManagementAccountID)
	preview, adds := previewOf(scope, v.accounts, members, d.ManagementAccountID)
	out := UpdateOutput{DryRun: in.DryRun, Policy: view(p), Preview: preview}
	if in.DryRun {
		return out, nil
	}
	record := s.Audit.With(d.ID, actor, func(_, _ store.Member) audit.Entry {
		return audit.Entry{Action: action.UpdateEnrollmentPolicy, Result: "Success", Detail: map[string]string{
			"Mode": p.Mode, "FolderIds": strings.Join(p.FolderIDs, ","), "IncludeSubfolders": strconv.FormatBool(p.IncludeSubfolders),
			"ExcludedAccounts": strconv.Itoa(len(p.Excluded)), "OldVersion": audit.Itoa(cur.Version), "Version": audit.Itoa(cur.Version + 1),
			"ApplyToExisting": strconv.FormatBool(in.ApplyToExisting), "WouldAddCount": strconv.Itoa(preview.WouldAddCount)}}
	})(store.Member{}, store.Member{})
	stored, err := s.Store.PutPolicy(ctx, d.ID, p, cur.Version, record)
	if err != nil {
		return UpdateOutput{}, fmt.Errorf("update enrollment policy: %w", err)
	}
	out.Policy = view(stored)
	if in.ApplyToExisting {
		added, err := s.apply(ctx, d, actor, stored.Version, adds, now)
		out.AddedCount = added
		if err != nil {
			return out, fmt.Errorf("update enrollment policy: the policy is version %d; applying it to existing accounts: %w", stored.Version, err)
		}
	}
	return out, nil
}

// previewOf is what the policy would add now: the accounts it enrolls
// that are not members, by UID.
func previewOf(scope *Scope, accounts []directory.Account, members map[string]bool, ma string) (Preview, []directory.Account) {
	var adds []directory.Account
	excluded := 0
	for _, a := range accounts {
		if a.AccountID == ma || members[a.AccountID] || !scope.Covers(a.FolderID) {
			continue
		}
		if scope.Excluded(a.AccountID) {
			excluded++
			continue
		}
		adds = append(adds, a)
	}
	slices.SortFunc(adds, func(a, b directory.Account) int { return strings.Compare(a.AccountID, b.AccountID) })
	pv := Preview{WouldAddCount: len(adds), WouldAdd: make([]PreviewAccount, 0, min(len(adds), MaxPreview)), ExcludedCount: excluded}
	for _, a := range adds[:min(len(adds), MaxPreview)] {
		pv.WouldAdd = append(pv.WouldAdd, PreviewAccount{AccountID: a.AccountID, DisplayName: a.DisplayName, FolderPath: scope.Path(a.FolderID)})
	}
	return pv, adds
}

// apply adds the accounts (ApplyToExisting), addBatch per store call, each
// with its audit record naming the policy version.
func (s *Service) apply(ctx context.Context, d directory.Directory, actor audit.Actor, version int64, adds []directory.Account, now time.Time) (int, error) {
	record := s.Audit.With(d.ID, actor, func(_, m store.Member) audit.Entry {
		return audit.Entry{Action: action.UpdateEnrollmentPolicy, Target: m.AccountID, Result: "Added",
			Detail: map[string]string{"AccountName": m.AccountName, "PolicyVersion": audit.Itoa(version), "Reason": "ApplyToExisting"}}
	})
	added := 0
	for start := 0; start < len(adds); start += addBatch {
		chunk := adds[start:min(start+addBatch, len(adds))]
		ms := make([]store.Member, len(chunk))
		for i, a := range chunk {
			ms[i] = Member(d.ID, a.AccountID, a.DisplayName, now)
			ms[i].AddedBy = actor.AccountID
		}
		res, err := s.Store.AddMembers(ctx, d.ID, ms, record)
		if err != nil {
			return added, err
		}
		for _, r := range res {
			switch r.Status {
			case store.Added:
				added++
			case store.AddFailed:
				return added, fmt.Errorf("add member %s: %w", r.AccountID, r.Err)
			}
		}
	}
	return added, nil
}
