package directory

import "strings"

// FolderTree indexes a directory's folders for their paths and subtrees:
// list-folders and list-candidates show paths, the local helpers answer
// with them.
type FolderTree struct {
	byID  map[string]Folder
	root  string
	paths map[string]string
}

// NewFolderTree indexes fs (every folder of one directory, the root
// included). The tree is read-only afterwards, so one tree may serve
// concurrent requests.
func NewFolderTree(fs []Folder) *FolderTree {
	t := &FolderTree{byID: make(map[string]Folder, len(fs)), paths: make(map[string]string, len(fs))}
	for _, f := range fs {
		t.byID[f.ID] = f
		if f.ParentID == "" {
			t.root = f.ID
		}
	}
	for _, f := range fs {
		t.paths[f.ID] = t.pathOf(f.ID, 0)
	}
	return t
}

// Has reports whether id is a folder of the tree.
func (t *FolderTree) Has(id string) bool {
	_, ok := t.byID[id]
	return ok
}

// Path is the folder names from the root ("/" for the root,
// "/Production/Web" below it); "" for an unknown folder.
func (t *FolderTree) Path(id string) string { return t.paths[id] }

// pathOf builds a folder's path; depth stops a cycle in bad data.
func (t *FolderTree) pathOf(id string, depth int) string {
	f, ok := t.byID[id]
	if !ok || depth > MaxFolderDepth+1 {
		return ""
	}
	if f.ParentID == "" {
		return "/"
	}
	return strings.TrimSuffix(t.pathOf(f.ParentID, depth+1), "/") + "/" + f.Name
}

// Within reports whether folder id is under (or is) ancestor.
func (t *FolderTree) Within(id, ancestor string) bool {
	for depth := 0; id != "" && depth <= MaxFolderDepth+1; depth++ {
		if id == ancestor {
			return true
		}
		id = t.byID[id].ParentID
	}
	return false
}
