package setup

import (
	"context"
	"fmt"

	"github.com/sase-multiaccount/backend/shared/action"
	"github.com/sase-multiaccount/backend/shared/apperr"
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
	return EnableOutput{ResourceDirectory: viewDirectory(&d)}, nil
}
