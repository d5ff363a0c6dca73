package member_test

import (
	"slices"
	"testing"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/usecase/member"
)

// TestFoldersAndCandidatesByFolder: list-folders gives paths and account
// counts; list-candidates?FolderId= keeps the folder and its subfolders,
// shows each account's FolderPath, and refuses an unknown folder.
func TestFoldersAndCandidatesByFolder(t *testing.T) {
	e := newEnv(t, 4)
	prod, err := e.Sim.CreateFolder(e.Ctx, "Production", "")
	if err != nil {
		t.Fatal(err)
	}
	web, err := e.Sim.CreateFolder(e.Ctx, "Web", prod.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Sim.MoveAccount(e.Ctx, uid(1), prod.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.Sim.MoveAccount(e.Ctx, uid(2), web.ID); err != nil {
		t.Fatal(err)
	}

	fs, err := e.svc.ListFolders(e.Ctx, e.sc)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	var counts []int
	for _, f := range fs.Folders {
		paths = append(paths, f.FolderPath)
		counts = append(counts, f.AccountCount)
	}
	if !slices.Equal(paths, []string{"/", "/Production", "/Production/Web"}) || !slices.Equal(counts, []int{3, 1, 1}) {
		t.Fatalf("folders %v counts %v", paths, counts) // root: the MA and accounts 3, 4
	}

	out, err := e.svc.Candidates(e.Ctx, e.sc, member.CandidatesInput{FolderID: prod.ID})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range out.Accounts {
		got = append(got, c.AccountID+" "+c.FolderPath)
	}
	if want := []string{uid(1) + " /Production", uid(2) + " /Production/Web"}; !slices.Equal(got, want) || out.TotalCount != 2 {
		t.Fatalf("candidates in /Production = %v (total %d), want %v", got, out.TotalCount, want)
	}
	all, err := e.svc.Candidates(e.Ctx, e.sc, member.CandidatesInput{})
	if err != nil || all.TotalCount != 4 || all.Accounts[2].FolderPath != "/" {
		t.Fatalf("all candidates: %+v %v", all, err)
	}
	_, err = e.svc.Candidates(e.Ctx, e.sc, member.CandidatesInput{FolderID: "fd-unknown"})
	if !apperr.IsCode(err, apperr.CodeFolderNotFound) || !apperr.IsKind(err, apperr.KindNotFound) {
		t.Fatalf("unknown folder: %v, want 404 %s", err, apperr.CodeFolderNotFound)
	}
}
