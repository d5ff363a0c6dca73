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
// included).
func NewFolderTree(fs []Folder) *FolderTree {
	t := &FolderTree{byID: make(map[string]Folder, len(fs)), paths: make(map[string]string, len(fs))}
	for _, f := range fs {
		t.byID[f.ID] = f
		if f.ParentID == "" {
			t.root = f.ID
		}
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
func (t *FolderTree) Path(id string) string {
	if p, ok := t.paths[id]; ok {
		return p
	}
	f, ok := t.byID[id]
	if !ok {
		return ""
	}
	p := "/"
	if f.ParentID != "" {
		p = strings.TrimSuffix(t.Path(f.ParentID), "/") + "/" + f.Name
	}
	t.paths[id] = p
	return p
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
