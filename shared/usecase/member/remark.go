package member

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sase-multiaccount/backend/shared/action"
	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/port/directory"
	"github.com/sase-multiaccount/backend/shared/port/store"
	"github.com/sase-multiaccount/backend/shared/usecase/audit"
	"github.com/sase-multiaccount/backend/shared/validate"
)

// RemarkInput is the body of update-member-remark.
type RemarkInput struct {
	AccountID string `json:"AccountId"`
	Remark    *string
	Version   *int64
}

// RemarkOutput is the answer of update-member-remark.
type RemarkOutput struct {
	Member Member
}

// UpdateRemark sets or clears a member's remark, optionally only at Version.
func (s *Service) UpdateRemark(ctx context.Context, sc Scope, in RemarkInput) (RemarkOutput, error) {
	if err := validate.AccountID("AccountId", in.AccountID); err != nil {
		return RemarkOutput{}, err
	}
	if in.Remark == nil {
		return RemarkOutput{}, apperr.Missing("Remark")
	}
	if err := validate.Remark("Remark", *in.Remark); err != nil {
		return RemarkOutput{}, err
	}
	var version int64
	if in.Version != nil {
		if *in.Version < 1 {
			return RemarkOutput{}, apperr.Invalid("Version", "Version %d must be 1 or more (use the Version list-members returned).", *in.Version)
		}
		version = *in.Version
	}
	// An unchanged remark writes nothing: same Version, no record.
	record := s.audit.With(sc.Directory.ID, sc.Actor, func(before, after store.Member) audit.Entry {
		return audit.Entry{Action: action.UpdateMemberRemark, Target: after.AccountID, Result: "Updated",
			Detail: map[string]string{"OldRemark": before.Remark, "NewRemark": after.Remark, "Version": audit.Itoa(after.Version)}}
	})
	_, after, err := s.store.UpdateRemark(ctx, sc.Directory.ID, in.AccountID, *in.Remark, version, s.now().UTC().Truncate(time.Millisecond), record)
	if err != nil {
		return RemarkOutput{}, fmt.Errorf("update remark: %w", err)
	}
	out := view(after)
	out.FolderPath = s.folderPathOf(ctx, sc.Directory.ID, after.AccountID)
	return RemarkOutput{Member: out}, nil
}

// folderPathOf is one account's folder path from the mirror: its row and
// the folders (two small reads, at once), as list-members shows it; "" when
// the mirror does not know the account or cannot be read (the path is
// informative, never a reason to fail a change already made).
func (s *Service) folderPathOf(ctx context.Context, dirID, accountID string) string {
	var folders []store.MirrorFolder
	var ferr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		folders, ferr = s.mirror.ReadMirrorFolders(ctx, dirID)
	}()
	a, ok, err := s.mirror.ReadMirrorAccount(ctx, dirID, accountID)
	<-done
	if err = errors.Join(err, ferr); err != nil {
		s.log.Warn().Err(err).Str("directory_id", dirID).Msg("update-member-remark: folder path left out: the directory mirror could not be read")
	}
	if err != nil || !ok {
		return ""
	}
	fs := make([]directory.Folder, len(folders))
	for i, f := range folders {
		fs[i] = directory.Folder{ID: f.ID, Name: f.Name, ParentID: f.ParentID}
	}
	return directory.NewFolderTree(fs).Path(a.FolderID)
}
