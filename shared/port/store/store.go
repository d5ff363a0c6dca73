// Package store is the persistence port: members of SASE, the audit trail,
// processed-event keys, the directory generation, and the directory's
// mirror, enrollment policy and access grants. Its adapters are
// shared/adapter/tablestore (production) and shared/local/embedded (bbolt,
// make run); shared/testkit/storetest holds the contract suite every adapter
// must pass. Errors are *apperr.Error values (NotFound, Conflict,
// Unavailable, Throttled) so that callers never see an SDK type.
package store

import (
	"context"
	"time"

	"github.com/sase-multiaccount/backend/shared/apperr"
)

// Member is one SASE member row, keyed by (DirectoryID, AccountID).
type Member struct {
	DirectoryID string
	AccountID   string // 16-digit Alibaba Cloud account UID
	AccountName string // the account's RD display name when it was added or last renamed
	AddTime     time.Time
	AddedBy     string // account UID of the caller who added it
	Remark      string
	Version     int64     // 1 after add, +1 on every change
	UpdateTime  time.Time // last change of any field
	NameTime    time.Time // when AccountName was observed; older renames never overwrite newer ones
}

// AddStatus is the per-item outcome of AddMembers.
type AddStatus string

const (
	Added         AddStatus = "Added"
	AlreadyExists AddStatus = "AlreadyExists"
	AddFailed     AddStatus = "Failed"
)

// AddResult reports one item of AddMembers, in input order.
type AddResult struct {
	AccountID string
	Status    AddStatus
	Err       error // set when Status == AddFailed (an *apperr.Error)
}

// DeleteStatus is the per-item outcome of DeleteMembers.
type DeleteStatus string

const (
	Deleted      DeleteStatus = "Deleted"
	NotFound     DeleteStatus = "NotFound"
	DeleteFailed DeleteStatus = "Failed"
)

// DeleteResult reports one item of DeleteMembers, in input order.
type DeleteResult struct {
	AccountID string
	Status    DeleteStatus
	Member    Member // the deleted row, when Status == Deleted
	Err       error  // set when Status == DeleteFailed
}

// SortBy names a list order.
type SortBy string

const (
	SortByAddTime   SortBy = "AddTime"
	SortByAccountID SortBy = "AccountId"
)

// Position is a key in list order. A page starts strictly after it. For
// SortByAccountID only AccountID matters; for SortByAddTime the order is
// (AddTime, AccountID), so ties are broken deterministically.
type Position struct {
	AddTime   time.Time
	AccountID string
}

// ListQuery selects one page of members of a directory.
type ListQuery struct {
	SortBy SortBy
	Desc   bool
	Limit  int       // 1..1000
	After  *Position // nil: from the start
}

// AuditOf makes the audit record of one change the store applies, from the
// row before and after it (zero Member for "none": before of an add, after
// of a delete). The store writes the record in the same unit as the change
// (docs/DESIGN.md "Integrity"): after a crash at any instant there is no
// applied change without its record and no record of a change that did not
// happen. nil records nothing and leaves no feed entry, so copies that
// follow the feed (keyword search) would miss the change: only tests pass nil.
type AuditOf func(before, after Member) AuditEvent

// Members is the member table.
type Members interface {
	// AddMembers inserts every member whose row does not exist yet, each
	// with its audit record. Members must be distinct. The slice of results
	// is in input order; err is non-nil only when no item's outcome is known.
	AddMembers(ctx context.Context, dirID string, ms []Member, audit AuditOf) ([]AddResult, error)
	// GetMember returns apperr NotFound (EntityNotExists.Member) when absent.
	GetMember(ctx context.Context, dirID, accountID string) (Member, error)
	// UpdateRemark sets the remark and bumps Version, with its audit record.
	// expectVersion 0 means any version; otherwise a different stored
	// version is apperr Conflict (Conflict.Version). A remark equal to the
	// stored one changes nothing (same Version, no record). It returns the
	// row before and after.
	UpdateRemark(ctx context.Context, dirID, accountID, remark string, expectVersion int64, now time.Time, audit AuditOf) (before, after Member, err error)
	// RenameMember sets AccountName when asOf is newer than the stored
	// NameTime, with its audit record when the name changes; it reports
	// whether it changed anything. A missing member is not an error
	// (changed == false).
	RenameMember(ctx context.Context, dirID, accountID, name string, asOf time.Time, audit AuditOf) (changed bool, err error)
	// DeleteMembers removes the rows, each with its audit record; ids must
	// be distinct.
	DeleteMembers(ctx context.Context, dirID string, accountIDs []string, audit AuditOf) ([]DeleteResult, error)
	// ListMembers returns up to q.Limit members after q.After in the order
	// asked, and whether more follow.
	ListMembers(ctx context.Context, dirID string, q ListQuery) (ms []Member, more bool, err error)
	// CountMembers returns the exact number of members of the directory.
	CountMembers(ctx context.Context, dirID string) (int, error)
	// MemberState is CountMembers plus the directory's members version: a
	// number that moves with every member change (in the same unit), so a
	// reader can tell in one read that a copy of the member list it holds
	// is still current.
	MemberState(ctx context.Context, dirID string) (count int, version int64, err error)
}

// AuditEvent is one record of the audit trail.
type AuditEvent struct {
	DirectoryID    string
	ID             string // unique, sorts in time order (see audit.NewID); newest = greatest
	Time           time.Time
	ActorAccountID string
	ActorPrincipal string
	ActorRole      string // a rolecheck role name, or "System"
	// The person who made the change (docs/API.md "People"); empty in
	// System records and in records written before people were known.
	ActorUserID     string
	ActorUserName   string
	ActorAccessRole string
	Action          string // the function name, e.g. "add-members"
	Target          string // e.g. an account UID or an invitation ID
	Result          string // e.g. "Success", "Added", "Deleted"
	RequestID       string
	Detail          map[string]string // e.g. {"OldRemark": "...", "NewRemark": "..."}
}

// Audit is the audit trail.
type Audit interface {
	// AppendAudit writes the events (any number; adapters batch them).
	AppendAudit(ctx context.Context, events []AuditEvent) error
	// ListAudit returns up to limit events of the directory, newest first,
	// with IDs strictly less than before ("" = from the newest).
	ListAudit(ctx context.Context, dirID string, limit int, before string) (events []AuditEvent, more bool, err error)
	// ListAuditByTarget is ListAudit narrowed to the events whose Target is
	// target (an account's timeline), at the cost of one read per page.
	ListAuditByTarget(ctx context.Context, dirID, target string, limit int, before string) (events []AuditEvent, more bool, err error)
}

// ProcessedEvents remembers the events whose effect is done, so that a
// redelivery (EventBridge delivers at least once) is acknowledged without
// work. The mark is written after the effect, never before: an instance
// that dies mid-event leaves no mark, and the redelivery applies the effect
// again, which is safe because every effect is idempotent (a change and its
// audit record are one unit; records of events have IDs derived from the
// event).
type ProcessedEvents interface {
	// EventProcessed reports whether key is marked and the mark has not
	// expired.
	EventProcessed(ctx context.Context, key string) (bool, error)
	// MarkEventProcessed marks key until expires.
	MarkEventProcessed(ctx context.Context, key string, expires time.Time) error
}

// Generations is the directory generation: a number that every change of
// the directory or of its delegated administrator bumps (made by a function
// or announced by an event), and every change of an access grant (Grants),
// so that every warm instance of every function can tell that its cached
// role and grant answers are stale (docs/DESIGN.md "Integrity").
type Generations interface {
	// Generation returns the current generation (0 before the first bump).
	Generation(ctx context.Context) (int64, error)
	// BumpGeneration increments it and returns the new value.
	BumpGeneration(ctx context.Context) (int64, error)
}

// Store is everything an adapter provides.
type Store interface {
	Members
	Audit
	ProcessedEvents
	Generations
	DirectoryMirror
	Policies
	Grants
	Feed
	Webhooks
	Close() error
}

// MaxKeyLen is the longest identifier (directory, account, audit event ID,
// event key) an adapter accepts. It is the Tablestore limit on a string
// primary-key column, so both adapters accept the same identifiers.
const MaxKeyLen = 1024

// CheckDir validates a directory ID; the adapters share it so that both
// refuse the same input with the same error.
func CheckDir(dirID string) error {
	if dirID == "" {
		return apperr.Missing("DirectoryId")
	}
	if len(dirID) > MaxKeyLen {
		return apperr.Invalid("DirectoryId", "DirectoryId must be at most %d bytes.", MaxKeyLen)
	}
	return nil
}

// CheckAccount validates an account ID (see CheckDir).
func CheckAccount(accountID string) error {
	if accountID == "" {
		return apperr.Missing("AccountId")
	}
	if len(accountID) > MaxKeyLen {
		return apperr.Invalid("AccountId", "AccountId must be at most %d bytes.", MaxKeyLen)
	}
	return nil
}

// CheckMemberKey validates the key of a member row: CheckDir, then
// CheckAccount.
func CheckMemberKey(dirID, accountID string) error {
	if err := CheckDir(dirID); err != nil {
		return err
	}
	return CheckAccount(accountID)
}

// CheckAuditEvents validates every event of an AppendAudit call before an
// adapter writes any of them.
func CheckAuditEvents(events []AuditEvent) error {
	for i, e := range events {
		if err := CheckDir(e.DirectoryID); err != nil {
			return apperr.Invalid("AuditEvent", "audit event %d: %v", i, err)
		}
		if e.ID == "" || len(e.ID) > MaxKeyLen {
			return apperr.Invalid("AuditEvent", "audit event %d: ID must be 1 to %d bytes.", i, MaxKeyLen)
		}
	}
	return nil
}

// CheckEventKey validates a ProcessedEvents key.
func CheckEventKey(key string) error {
	if key == "" || len(key) > MaxKeyLen {
		return apperr.Invalid("EventKey", "An event key must be 1 to %d bytes.", MaxKeyLen)
	}
	return nil
}

// MaxListLimit is the largest page size a list call allows
// (ListQuery.Limit, the limit of ListAudit).
const MaxListLimit = 1000

// CheckLimit validates the page size of a list call.
func CheckLimit(limit int) error {
	if limit < 1 || limit > MaxListLimit {
		return apperr.Invalid("MaxResults", "The page size must be between 1 and %d; got %d.", MaxListLimit, limit)
	}
	return nil
}

// CheckListQuery validates a ListQuery.
func CheckListQuery(q ListQuery) error {
	if err := CheckLimit(q.Limit); err != nil {
		return err
	}
	if q.SortBy != SortByAddTime && q.SortBy != SortByAccountID {
		return apperr.Invalid("SortBy", "SortBy must be %s or %s; got %q.", SortByAddTime, SortByAccountID, q.SortBy)
	}
	return nil
}

// MemberNotFound is the NotFound error for a missing member row.
func MemberNotFound(dirID, accountID string) error {
	return apperr.NotFound(apperr.CodeMemberNotFound, "Account %s is not a SASE member of directory %s.", accountID, dirID)
}
