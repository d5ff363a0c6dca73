package member

import (
	"context"
	"fmt"
	"slices"
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

func (s *Service) tree(ctx context.Context) (*directory.FolderTree, error) {
	fs, err := s.folders.ListFolders(ctx)
	if err != nil {
		return nil, fmt.Errorf("list folders: %w", err)
	}
	return directory.NewFolderTree(fs), nil
}

// ListFolders is list-folders: the tree in the directory's order (root
// first, depth-first by name) with each folder's path and how many
// accounts it holds directly.
//
// Once the directory mirror has been synced it is one store read and no RD
// call (folders in the tree's order, as RD gives them).
func (s *Service) ListFolders(ctx context.Context, sc Scope) (FoldersOutput, error) {
	fs, accounts, err := s.foldersAndAccounts(ctx, sc.Directory.ID)
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

// foldersAndAccounts reads the mirror once synced, else RD (the folder tree
// and the cached account list).
func (s *Service) foldersAndAccounts(ctx context.Context, dirID string) ([]directory.Folder, []directory.Account, error) {
	m, err := s.mirror.ReadMirror(ctx, dirID)
	if err != nil {
		return nil, nil, err
	}
	if !m.Marks.SyncTime.IsZero() {
		accounts := make([]directory.Account, len(m.Accounts))
		for i, a := range m.Accounts {
			accounts[i] = directory.Account{AccountID: a.AccountID, DisplayName: a.DisplayName, FolderID: a.FolderID, JoinTime: a.JoinTime}
		}
		return treeOrder(mirrorFolders(m.Folders)), accounts, nil
	}
	fs, err := s.folders.ListFolders(ctx)
	if err != nil {
		return nil, nil, err
	}
	accounts, err := s.accounts.ListAccounts(ctx)
	if err != nil {
		return nil, nil, err
	}
	return fs, accounts, nil
}

// treeOrder sorts folders as RD's ListFolders does: the root first, then
// depth-first with siblings by name.
func treeOrder(fs []directory.Folder) []directory.Folder {
	children := map[string][]directory.Folder{}
	var roots []directory.Folder
	for _, f := range fs {
		if f.ParentID == "" {
			roots = append(roots, f)
		} else {
			children[f.ParentID] = append(children[f.ParentID], f)
		}
	}
	out := make([]directory.Folder, 0, len(fs))
	var visit func(f directory.Folder)
	visit = func(f directory.Folder) {
		out = append(out, f)
		kids := children[f.ID]
		slices.SortFunc(kids, func(a, b directory.Folder) int { return strings.Compare(a.Name, b.Name) })
		for _, k := range kids {
			visit(k)
		}
	}
	for _, r := range roots {
		visit(r)
	}
	return out
}
