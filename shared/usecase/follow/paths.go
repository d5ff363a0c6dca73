package follow

import (
	"context"
	"fmt"

	"github.com/sase-multiaccount/backend/shared/port/directory"
	"github.com/sase-multiaccount/backend/shared/port/store"
)

// folderPath is the account's folder path from the instance's copy of the
// mirror ("" when the mirror does not know the account or cannot be read:
// the path is informative, never a reason to fail).
func (s *Service) folderPath(ctx context.Context, dirID, accountID string) string {
	paths, err := s.folderPaths(ctx, dirID)
	if err != nil {
		s.Log.Warn().Err(err).Str("directory_id", dirID).Msg("folder paths left out: the directory mirror could not be read")
		return ""
	}
	return paths[accountID]
}

// folderPaths returns the copy: unchecked for pathsMaxAge, then checked
// with one small read (the mirror's version), and read again only when
// the mirror changed.
func (s *Service) folderPaths(ctx context.Context, dirID string) (map[string]string, error) {
	now := s.Now()
	p := &s.paths
	p.mu.Lock()
	if p.dir == dirID && p.paths != nil && now.Sub(p.checked) < pathsMaxAge && !now.Before(p.checked) {
		defer p.mu.Unlock()
		return p.paths, nil
	}
	version, cur := p.version, p.paths
	if p.dir != dirID {
		cur = nil
	}
	p.mu.Unlock()
	marks, err := s.Store.MirrorMarks(ctx, dirID)
	if err != nil {
		return nil, fmt.Errorf("mirror marks: %w", err)
	}
	if cur == nil || marks.Version != version {
		m, err := s.Store.ReadMirror(ctx, dirID)
		if err != nil {
			return nil, fmt.Errorf("read mirror: %w", err)
		}
		cur, marks = pathsOf(m), m.Marks
	}
	p.mu.Lock()
	p.dir, p.version, p.checked, p.paths = dirID, marks.Version, now, cur
	p.mu.Unlock()
	return cur, nil
}

func pathsOf(m store.Mirror) map[string]string {
	fs := make([]directory.Folder, len(m.Folders))
	for i, f := range m.Folders {
		fs[i] = directory.Folder{ID: f.ID, Name: f.Name, ParentID: f.ParentID}
	}
	t := directory.NewFolderTree(fs)
	out := make(map[string]string, len(m.Accounts))
	for _, a := range m.Accounts {
		out[a.AccountID] = t.Path(a.FolderID)
	}
	return out
}
