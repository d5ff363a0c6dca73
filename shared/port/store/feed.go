package store

import (
	"context"
	"time"

	"github.com/sase-multiaccount/backend/shared/apperr"
)

// ChangeType is the kind of a membership change (docs/API.md
// list-member-changes).
type ChangeType string

// The membership changes the feed carries.
const (
	MemberAdded         ChangeType = "MemberAdded"
	MemberRemoved       ChangeType = "MemberRemoved"
	MemberRemarkUpdated ChangeType = "MemberRemarkUpdated"
	// MemberRenamed is internal: the feed keeps renames so that an
	// instance's copy of the member list (keyword search) can follow every
	// write to a member row, but list-member-changes and webhooks do not
	// show them (they are not in ChangeTypes).
	MemberRenamed ChangeType = "MemberRenamed"
)

// ChangeTypes lists the public ones in the order docs/API.md gives.
var ChangeTypes = []ChangeType{MemberAdded, MemberRemoved, MemberRemarkUpdated}

// ChangeOf is the change an audited member write makes, from the row
// before and after it (as AuditOf sees them): an add (no row before), a
// removal (no row after), a remark update, a rename; "" for a write that
// changes neither. m is the row after the change, or before it for a
// removal.
func ChangeOf(before, after Member) (t ChangeType, m Member) {
	switch {
	case before.AccountID == "" && after.AccountID != "":
		return MemberAdded, after
	case after.AccountID == "" && before.AccountID != "":
		return MemberRemoved, before
	case before.AccountID != "" && before.Remark != after.Remark:
		return MemberRemarkUpdated, after
	case before.AccountID != "" && before.AccountName != after.AccountName:
		return MemberRenamed, after
	}
	return "", Member{}
}

// Change is one entry of a directory's membership change feed.
type Change struct {
	// Seq is the entry's position: 1, 2, 3, … in the order the changes
	// were committed. Positions of writes that never happened are skipped
	// by ListChanges (a reader never sees them).
	Seq    int64
	Type   ChangeType
	Member Member     // the row after the change (before it, for a removal)
	Record AuditEvent // the audit record written in the same unit (the change ID is Record.ID)
}

// FeedRetention is how long the feed keeps a change at least; adapters
// keep it a day longer, so a cursor FeedRetention old still works.
const FeedRetention = 30 * 24 * time.Hour

// Feed is the membership change feed (docs/DESIGN.md §13): the audit
// trail's membership records, oldest first, in commit order. Adapters
// write an entry for every audited change of AddMembers, DeleteMembers and
// UpdateRemark (ChangeOf), in the same unit as the change and its record;
// the feed is never written on its own.
type Feed interface {
	// ListChanges returns up to limit changes with Seq > after, oldest
	// first; next is where the following call continues (past positions
	// that hold no change), and more tells whether changes were left out
	// by the limit. A change not settled yet (a write in flight) ends the
	// page: nothing after it is returned before it. after whose entry is
	// no longer kept while later ones are (the consumer was away longer
	// than FeedRetention) is apperr Invalid CursorExpired.
	ListChanges(ctx context.Context, dirID string, after int64, limit int) (changes []Change, next int64, more bool, err error)
	// FeedHead is the latest position taken (0 before the first change);
	// a change at it may still be in flight.
	FeedHead(ctx context.Context, dirID string) (int64, error)
}

// CursorExpired is the error of a feed position no longer kept.
func CursorExpired(dirID string, after int64) error {
	return apperr.Invalid("Cursor",
		"Cursor points at change %d of directory %s, which is no longer kept (changes are kept %d days): changes after it may be lost. Start again without Cursor.",
		after, dirID, int(FeedRetention/(24*time.Hour)))
}

// CheckFeedQuery validates ListChanges' arguments.
func CheckFeedQuery(dirID string, after int64, limit int) error {
	if err := CheckDir(dirID); err != nil {
		return err
	}
	if after < 0 {
		return apperr.Invalid("Cursor", "A feed position cannot be negative; got %d.", after)
	}
	return CheckLimit(limit)
}
