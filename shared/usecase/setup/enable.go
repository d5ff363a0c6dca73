package setup

import (
	"context"
	"fmt"

	"github.com/sase-multiaccount/backend/shared/action"
	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/port/directory"
	"github.com/sase-multiaccount/backend/shared/port/store"
	"github.com/sase-multiaccount/backend/shared/usecase/audit"
)

// EnableOutput is the answer of enable-directory.
type EnableOutput struct {
	ResourceDirectory *ResourceDirectory
}

// Enable makes the owner the management account of a new directory; for the
// management account it returns the existing directory (idempotent).
func (s *Service) Enable(ctx context.Context, sub Subject, actor audit.Actor) (EnableOutput, error) {
	if sub.Directory != nil {
		return EnableOutput{ResourceDirectory: viewDirectory(sub.Directory)}, nil
	}
	d, err := s.Directory.EnableDirectory(ctx)
	if apperr.IsCode(err, apperr.CodeDirectoryExists) {
		// Enabled meanwhile (a concurrent request, or a cached role): read it back.
		conflict := err
		d, err = s.Directory.GetDirectory(ctx)
		if err == nil && d.ManagementAccountID != sub.AccountID {
			return EnableOutput{}, apperr.Conflict(apperr.CodeDirectoryExists,
				"Account %s already belongs to resource directory %s.", sub.AccountID, d.ID)
		}
		if err == nil {
			return EnableOutput{ResourceDirectory: viewDirectory(&d)}, s.changed(ctx)
		}
		// The directory cannot be read back (the account is a member of
		// another one, which RD may not show it): the refusal says more
		// than the failed read.
		return EnableOutput{}, fmt.Errorf("enable directory: %w", conflict)
	}
	if err != nil {
		return EnableOutput{}, fmt.Errorf("enable directory: %w", err)
	}
	if err := s.changed(ctx); err != nil {
		return EnableOutput{}, err
	}
	if err := s.Audit.Record(ctx, d.ID, actor, audit.Entry{Action: action.EnableDirectory, Target: d.ID, Result: "Enabled"}); err != nil {
		return EnableOutput{}, err
	}
	s.firstMirror(ctx, d)
	return EnableOutput{ResourceDirectory: viewDirectory(&d)}, nil
}

// firstMirror writes the mirror of a new directory: the management account
// in the root folder, all RD holds then. From here events keep it current,
// so candidates and folder paths come from the mirror from the first
// second. A failed write is not the caller's failure (the directory exists):
// the handshake check builds the mirror at its next run instead.
func (s *Service) firstMirror(ctx context.Context, d directory.Directory) {
	m := store.Mirror{
		Accounts: []store.MirrorAccount{{AccountID: d.ManagementAccountID, DisplayName: d.ManagementAccountName,
			FolderID: d.RootFolderID, JoinTime: d.CreateTime}},
		Folders: []store.MirrorFolder{{ID: d.RootFolderID, Name: directory.RootFolderName}},
		Marks:   store.MirrorMarks{SyncTime: d.CreateTime},
	}
	if m.Marks.SyncTime.IsZero() || d.RootFolderID == "" {
		s.Log.Warn().Str("directory_id", d.ID).Msg("enable-directory: the new directory has no root folder or creation time; the handshake check builds its mirror")
		return
	}
	if err := s.Mirror.ReplaceMirror(ctx, d.ID, m); err != nil {
		s.Log.Warn().Err(err).Str("directory_id", d.ID).Msg("enable-directory: the directory mirror was not written; the handshake check builds it")
	}
}
