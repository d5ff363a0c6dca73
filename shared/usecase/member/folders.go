package member

import (
	"context"
	"fmt"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/port/directory"
)

// FolderView is a folder as list-folders shows it.
type FolderView struct {
	FolderID       string `json:"FolderId"`
	FolderName     string
	ParentFolderID string `json:"ParentFolderId"`
	FolderPath     string
	AccountCount   int
}

// FoldersOutput is the answer of list-folders.
type FoldersOutput struct {
	Folders []FolderView
}

func (s *Service) tree(ctx context.Context) (*directory.FolderTree, error) {
	fs, err := s.Folders.ListFolders(ctx)
	if err != nil {
		return nil, fmt.Errorf("list folders: %w", err)
	}
	return directory.NewFolderTree(fs), nil
}

// ListFolders is list-folders: the tree in the directory's order (root
// first, depth-first by name) with each folder's path and how many
// accounts it holds directly.
func (s *Service) ListFolders(ctx context.Context, _ Scope) (FoldersOutput, error) {
	fs, err := s.Folders.ListFolders(ctx)
	if err != nil {
		return FoldersOutput{}, fmt.Errorf("list folders: %w", err)
	}
	accounts, err := s.Accounts.ListAccounts(ctx)
	if err != nil {
		return FoldersOutput{}, fmt.Errorf("list folders: %w", err)
	}
	t := directory.NewFolderTree(fs)
	counts := map[string]int{}
	for _, a := range accounts {
		counts[a.FolderID]++
	}
	out := FoldersOutput{Folders: make([]FolderView, 0, len(fs))}
	for _, f := range fs {
		out.Folders = append(out.Folders, FolderView{FolderID: f.ID, FolderName: f.Name, ParentFolderID: f.ParentID,
			FolderPath: t.Path(f.ID), AccountCount: counts[f.ID]})
	}
	return out, nil
}

func errFolderNotFound(id string) error {
	return apperr.NotFound(apperr.CodeFolderNotFound, "Folder %q is not a folder of this Resource Directory.", id)
}
