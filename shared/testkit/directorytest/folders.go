package directorytest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/local/simulation"
	"github.com/sase-multiaccount/backend/shared/port/directory"
)

func (e *env) folders() []directory.Folder {
	e.t.Helper()
	fs, err := e.svc.ListFolders(e.ctx)
	if err != nil {
		e.t.Fatalf("ListFolders: %v", err)
	}
	return fs
}

func (e *env) createFolder(name, parent string) directory.Folder {
	e.t.Helper()
	f, err := e.org.CreateFolder(e.ctx, name, parent)
	if err != nil {
		e.t.Fatalf("CreateFolder(%s, %s): %v", name, parent, err)
	}
	return f
}

func equalFolder(a, b directory.Folder) bool {
	return a.ID == b.ID && a.Name == b.Name && a.ParentID == b.ParentID && a.CreateTime.Equal(b.CreateTime)
}

func wantFolders(t *testing.T, got, want []directory.Folder) {
	t.Helper()
	if !slices.EqualFunc(got, want, equalFolder) {
		t.Fatalf("folders:\n got  %+v\n want %+v", got, want)
	}
}

// testFolderTree: the root, subfolders depth-first by name, GetFolder for
// each, and RD's refusals.
func (s *suite) testFolderTree(t *testing.T) {
	e := s.enabled(t)
	root := directory.Folder{ID: e.root(), Name: directory.RootFolderName, CreateTime: Start}
	wantFolders(t, e.folders(), []directory.Folder{root})

	t1 := e.clock.Advance(1500 * time.Millisecond) // RD reports folder times to the millisecond
	prod := e.createFolder("Production", "")
	wantProd := directory.Folder{ID: prod.ID, Name: "Production", ParentID: root.ID, CreateTime: t1}
	if !equalFolder(prod, wantProd) || !strings.HasPrefix(prod.ID, "fd-") {
		t.Fatalf("CreateFolder = %+v, want %+v with an fd- ID", prod, wantProd)
	}
	web := e.createFolder("Web", prod.ID)
	dev := e.createFolder("Dev", root.ID)
	api := e.createFolder("Api", prod.ID)
	wantFolders(t, e.folders(), []directory.Folder{root, dev, prod, api, web})

	for _, f := range []directory.Folder{root, prod, web} {
		got, err := e.svc.GetFolder(e.ctx, f.ID)
		noErr(t, "GetFolder "+f.Name, err)
		if !equalFolder(got, f) {
			t.Fatalf("GetFolder(%s) = %+v, want %+v", f.ID, got, f)
		}
	}
	_, err := e.svc.GetFolder(e.ctx, "fd-doesnotexist")
	wantErr(t, "GetFolder unknown", err, apperr.KindNotFound, apperr.CodeFolderNotFound)
	_, err = e.org.CreateFolder(e.ctx, "Web", prod.ID)
	wantErr(t, "sibling with the same name", err, apperr.KindConflict, apperr.CodeFolderExists)
	e.createFolder("Web", dev.ID) // the same name elsewhere is fine
	_, err = e.org.CreateFolder(e.ctx, "X", "fd-doesnotexist")
	wantErr(t, "unknown parent", err, apperr.KindNotFound, apperr.CodeFolderNotFound)
	_, err = e.org.CreateFolder(e.ctx, "bad/name", "")
	wantErr(t, "bad name", err, apperr.KindInvalid, apperr.InvalidParameter("FolderName"))
	_, err = e.org.CreateFolder(e.ctx, strings.Repeat("n", 25), "")
	wantErr(t, "long name", err, apperr.KindInvalid, apperr.InvalidParameter("FolderName"))

	// Five levels below the root, not six.
	parent := web.ID // level 2
	for _, name := range []string{"L3", "L4", "L5"} {
		parent = e.createFolder(name, parent).ID
	}
	_, err = e.org.CreateFolder(e.ctx, "L6", parent)
	wantErr(t, "sixth level", err, apperr.KindConflict, apperr.CodeFolderDepth)
}

func (s *suite) testFolderQuota(t *testing.T) {
	e := s.enabled(t, func(o *simulation.Options) { o.MaxFolders = 2 })
	e.createFolder("A", "")
	e.createFolder("B", "")
	_, err := e.org.CreateFolder(e.ctx, "C", "")
	wantErr(t, "third folder", err, apperr.KindConflict, apperr.CodeLimitExceeded)
}

// testMoveAccount: accounts join the root; MoveAccount moves them and every
// read shows the folder.
func (s *suite) testMoveAccount(t *testing.T) {
	e := s.enabled(t)
	root := e.root()
	m := e.join(uid(1), "Mover")
	if m.FolderID != root {
		t.Fatalf("joined account in folder %q, want the root %q", m.FolderID, root)
	}
	prod := e.createFolder("Production", "")
	noErr(t, "MoveAccount", e.org.MoveAccount(e.ctx, uid(1), prod.ID))
	noErr(t, "MoveAccount to where it is", e.org.MoveAccount(e.ctx, uid(1), prod.ID))
	m.FolderID = prod.ID
	wantAccounts(t, e.accounts(), []directory.Account{e.ma(), m})
	got, err := e.svc.GetAccount(e.ctx, uid(1))
	noErr(t, "GetAccount", err)
	if !equalAccount(got, m) {
		t.Fatalf("GetAccount = %+v, want %+v", got, m)
	}
	wantErr(t, "move unknown account", e.org.MoveAccount(e.ctx, uid(9), prod.ID), apperr.KindNotFound, apperr.CodeAccountNotFound)
	wantErr(t, "move to unknown folder", e.org.MoveAccount(e.ctx, uid(1), "fd-doesnotexist"), apperr.KindNotFound, apperr.CodeFolderNotFound)
	noErr(t, "MoveAccount back to the root", e.org.MoveAccount(e.ctx, uid(1), root))
	m.FolderID = root
	wantAccounts(t, e.accounts(), []directory.Account{e.ma(), m})
}

func (s *suite) testCreateResourceAccount(t *testing.T) {
	e := s.enabled(t, func(o *simulation.Options) { o.MaxAccounts = 3 })
	prod := e.createFolder("Production", "")
	t1 := e.clock.Advance(2500 * time.Millisecond)
	a, err := e.org.CreateResourceAccount(e.ctx, directory.NewAccount{DisplayName: "Web Prod", FolderID: prod.ID})
	noErr(t, "CreateResourceAccount", err)
	want := directory.Account{AccountID: a.AccountID, DisplayName: "Web Prod", JoinTime: t1, JoinMethod: "created", FolderID: prod.ID}
	if !equalAccount(a, want) || len(a.AccountID) != 16 || a.AccountID == OwnerAccountID {
		t.Fatalf("CreateResourceAccount = %+v, want %+v with a new 16-digit UID", a, want)
	}
	wantAccounts(t, e.accounts(), []directory.Account{e.ma(), want})

	inRoot, err := e.org.CreateResourceAccount(e.ctx, directory.NewAccount{DisplayName: "Sandbox"})
	noErr(t, "CreateResourceAccount in the root", err)
	if inRoot.FolderID != e.root() || inRoot.AccountID == a.AccountID {
		t.Fatalf("account created without a folder: %+v", inRoot)
	}
	_, err = e.org.CreateResourceAccount(e.ctx, directory.NewAccount{DisplayName: "Web Prod"})
	wantErr(t, "a display name in use", err, apperr.KindConflict, apperr.CodeDisplayNameExists)
	_, err = e.org.CreateResourceAccount(e.ctx, directory.NewAccount{DisplayName: "Full"})
	wantErr(t, "over the account quota", err, apperr.KindConflict, apperr.CodeLimitExceeded)
	_, err = e.org.CreateResourceAccount(e.ctx, directory.NewAccount{DisplayName: "Lost", FolderID: "fd-doesnotexist"})
	wantErr(t, "unknown folder", err, apperr.KindNotFound, apperr.CodeFolderNotFound)
}

// testNewAccountRules: RD's rules for a new account's display name and
// login-name prefix (the prefix is optional: RD chooses one).
func (s *suite) testNewAccountRules(t *testing.T) {
	e := s.enabled(t)
	for _, c := range []struct {
		in   directory.NewAccount
		code apperr.Code
	}{
		{directory.NewAccount{DisplayName: " "}, apperr.MissingParameter("DisplayName")},
		{directory.NewAccount{DisplayName: "A"}, apperr.InvalidParameter("DisplayName")},
		{directory.NewAccount{DisplayName: strings.Repeat("n", 51)}, apperr.InvalidParameter("DisplayName")},
		{directory.NewAccount{DisplayName: "Web/Prod"}, apperr.InvalidParameter("DisplayName")},
		{directory.NewAccount{DisplayName: "Web", AccountNamePrefix: "a"}, apperr.InvalidParameter("AccountNamePrefix")},
		{directory.NewAccount{DisplayName: "Web", AccountNamePrefix: strings.Repeat("a", 38)}, apperr.InvalidParameter("AccountNamePrefix")},
		{directory.NewAccount{DisplayName: "Web", AccountNamePrefix: "web--prod"}, apperr.InvalidParameter("AccountNamePrefix")},
		{directory.NewAccount{DisplayName: "Web", AccountNamePrefix: "-web"}, apperr.InvalidParameter("AccountNamePrefix")},
	} {
		_, err := e.org.CreateResourceAccount(e.ctx, c.in)
		wantErr(t, fmt.Sprintf("%+v", c.in), err, apperr.KindInvalid, c.code)
	}
	_, err := e.org.CreateResourceAccount(e.ctx, directory.NewAccount{DisplayName: "研发 Team_1.a-b", AccountNamePrefix: strings.Repeat("a", 36) + "9"})
	noErr(t, "the longest prefix, a display name with every allowed kind of character", err)
	_, err = e.org.CreateResourceAccount(e.ctx, directory.NewAccount{DisplayName: "Other", AccountNamePrefix: strings.Repeat("A", 36) + "9"})
	wantErr(t, "a prefix in use (case aside)", err, apperr.KindConflict, apperr.CodeAccountNameExists)
	_, err = e.org.CreateResourceAccount(e.ctx, directory.NewAccount{DisplayName: "No prefix"})
	noErr(t, "no prefix: RD chooses one", err)
}

// testFoldersNeedDirectory: every folder call is NotFound without a directory.
func (s *suite) testFoldersNeedDirectory(t *testing.T) {
	e := s.setup(t)
	_, err := e.svc.ListFolders(e.ctx)
	wantErr(t, "ListFolders", err, apperr.KindNotFound, apperr.CodeNoDirectory)
	_, err = e.org.CreateFolder(e.ctx, "A", "")
	wantErr(t, "CreateFolder", err, apperr.KindNotFound, apperr.CodeNoDirectory)
	_, err = e.org.CreateResourceAccount(e.ctx, directory.NewAccount{DisplayName: "Ab"})
	wantErr(t, "CreateResourceAccount", err, apperr.KindNotFound, apperr.CodeNoDirectory)
}
