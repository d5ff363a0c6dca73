package store

import (
	"context"
	"time"

	"github.com/sase-multiaccount/backend/shared/apperr"
)

// Enrollment policy modes.
const (
	PolicyOff         = "Off"
	PolicyAllAccounts = "AllAccounts"
	PolicyFolders     = "Folders"
)

// Exclusion is an account the enrollment policy never enrolls, and why.
type Exclusion struct {
	AccountID string
	Reason    string
}

// EnrollmentPolicy is how directory accounts join SASE on their own
// (docs/DESIGN.md §10); one per directory.
type EnrollmentPolicy struct {
	Mode              string // PolicyOff, PolicyAllAccounts or PolicyFolders; "" reads as Off
	FolderIDs         []string
	IncludeSubfolders bool
	Excluded          []Exclusion
	Version           int64 // 0 before the first update, +1 on every update
	UpdateTime        time.Time
	UpdatedBy         string
}

// Policies keeps the enrollment policy.
type Policies interface {
	// GetPolicy returns the directory's policy (the zero policy, Version
	// 0, when it was never set): one read.
	GetPolicy(ctx context.Context, dirID string) (EnrollmentPolicy, error)
	// PutPolicy stores p as version expectVersion+1 if the stored version
	// is expectVersion (else apperr Conflict Conflict.Version), together
	// with its audit record in the same unit, and returns it as stored.
	PutPolicy(ctx context.Context, dirID string, p EnrollmentPolicy, expectVersion int64, record AuditEvent) (EnrollmentPolicy, error)
}

// PolicyConflict is the Conflict of a stale policy version.
func PolicyConflict(dirID string, want, got int64) error {
	return apperr.Conflict(apperr.CodeVersionConflict,
		"The enrollment policy of directory %s is at version %d, not %d: it was changed meanwhile. Read it again and retry.", dirID, got, want)
}
