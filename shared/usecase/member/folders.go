package member

import (
	"context"
	"fmt"
	"strings"

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

// tree is the folder tree indexed for paths and subtree tests.
type tree struct {
	byID  map[string]directory.Folder
	root  string
	paths map[string]string
}

func newTree(fs []directory.Folder) *tree {
	t := &tree{byID: make(map[string]directory.Folder, len(fs)), paths: make(map[string]string, len(fs))}
	for _, f := range fs {
		t.byID[f.ID] = f
		if f.ParentID == "" {
			t.root = f.ID
		}
	}
	return t
}

// path is the folder names from the root ("/" for the root,
// "/Production/Web" below it); "" for an unknown folder.
func (t *tree) path(id string) string {
	if p, ok := t.paths[id]; ok {
		return p
	}
	f, ok := t.byID[id]
	if !ok {
		return ""
	}
	p := "/"
	if f.ParentID != "" {
		parent := t.path(f.ParentID)
		p = strings.TrimSuffix(parent, "/") + "/" + f.Name
	}
	t.paths[id] = p
	return p
}

// within reports whether folder id is under (or is) ancestor.
func (t *tree) within(id, ancestor string) bool {
	for depth := 0; id != "" && depth <= directory.MaxFolderDepth+1; depth++ {
		if id == ancestor {
			return true
		}
		id = t.byID[id].ParentID
	}
	return false
}

func (s *Service) tree(ctx context.Context) (*tree, error) {
	fs, err := s.Folders.ListFolders(ctx)
	if err != nil {
		return nil, fmt.Errorf("list folders: %w", err)
	}
	return newTree(fs), nil
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
	t := newTree(fs)
	counts := map[string]int{}
	for _, a := range accounts {
		counts[a.FolderID]++
	}
	out := FoldersOutput{Folders: make([]FolderView, 0, len(fs))}
	for _, f := range fs {
		out.Folders = append(out.Folders, FolderView{FolderID: f.ID, FolderName: f.Name, ParentFolderID: f.ParentID,
			FolderPath: t.path(f.ID), AccountCount: counts[f.ID]})
	}
	return out, nil
}

func errFolderNotFound(id string) error {
	return apperr.NotFound(apperr.CodeFolderNotFound, "Folder %q is not a folder of this Resource Directory.", id)
}
