package app_test

import (
	"context"
	"testing"

	"github.com/sase-multiaccount/backend/shared/endpoints"
	"github.com/sase-multiaccount/backend/shared/port/directory"
	"github.com/sase-multiaccount/backend/shared/port/store"
)

type candidatesBody struct {
	Accounts []struct {
		AccountID  string `json:"AccountId"`
		FolderID   string `json:"FolderId"`
		FolderPath string
	}
	TotalCount int
}

// list-candidates from the directory mirror: folder paths and the FolderId
// filter come from the mirror; an account the mirror does not know yet
// appears once its event arrives, and add-members accepts it even before.
func TestCandidatesFromTheMirror(t *testing.T) {
	k := newKit(t)
	fx := k.standard()
	prod, err := k.sim.CreateFolder(k.ctx, "Production", "")
	if err != nil {
		t.Fatal(err)
	}
	web, err := k.sim.CreateFolder(k.ctx, "Web", prod.ID)
	if err != nil {
		t.Fatal(err)
	}
	inWeb, err := k.sim.CreateResourceAccount(k.ctx, directory.NewAccount{DisplayName: "web-1", FolderID: web.ID})
	if err != nil {
		t.Fatal(err)
	}
	k.reconcile(t)

	var all, byFolder candidatesBody
	k.get(t, "list-candidates", daID, map[string]string{"MaxResults": "100"}).decode(t, &all)
	k.get(t, "list-candidates", daID, map[string]string{"FolderId": prod.ID}).decode(t, &byFolder)
	if byFolder.TotalCount != 1 || byFolder.Accounts[0].AccountID != inWeb.AccountID || byFolder.Accounts[0].FolderPath != "/Production/Web" {
		t.Fatalf("candidates in /Production: %+v", byFolder)
	}
	if all.TotalCount < 2 {
		t.Fatalf("all candidates: %+v", all)
	}
	if r := k.get(t, "list-candidates", daID, map[string]string{"FolderId": "fd-nosuchfolder"}); r.Status != 404 || r.Code() != "EntityNotExists.Folder" {
		t.Fatalf("unknown folder: %s", r)
	}

	// Created after the sync, its event not delivered yet: not a candidate,
	// yet add-members confirms it with RD and adds it.
	late, err := k.sim.CreateResourceAccount(k.ctx, directory.NewAccount{DisplayName: "late", FolderID: web.ID})
	if err != nil {
		t.Fatal(err)
	}
	var again candidatesBody
	k.get(t, "list-candidates", daID, map[string]string{"FolderId": web.ID}).decode(t, &again)
	if again.TotalCount != 1 {
		t.Fatalf("candidates before the event: %+v", again)
	}
	r := k.post(t, "add-members", daID, map[string]any{"Members": []map[string]string{{"AccountId": late.AccountID}}})
	if r.Status != 200 {
		t.Fatalf("add-members of the late account: %s", r)
	}
	if _, ok := k.member(fx.dir.ID, late.AccountID); !ok {
		t.Fatalf("late account not added: %s", r)
	}
}

func (c *countingStore) MirrorMarks(ctx context.Context, dirID string) (store.MirrorMarks, error) {
	c.add("MirrorMarks")
	return c.Store.MirrorMarks(ctx, dirID)
}

func (c *countingStore) ReadMirror(ctx context.Context, dirID string) (store.Mirror, error) {
	c.add("ReadMirror")
	return c.Store.ReadMirror(ctx, dirID)
}

func (c *countingStore) MemberIDs(ctx context.Context, dirID string) ([]string, error) {
	c.add("MemberIDs")
	return c.Store.MemberIDs(ctx, dirID)
}

func (c *countingStore) ReplaceMirror(ctx context.Context, dirID string, m store.Mirror) error {
	c.add("ReplaceMirror")
	return c.Store.ReplaceMirror(ctx, dirID, m)
}

// reconcile runs reconcile-members once (it syncs the directory mirror).
func (k *kit) reconcile(tb testing.TB) {
	tb.Helper()
	if _, err := k.app.TimerHandler(endpoints.ReconcileMembers)(k.ctx, []byte(`{}`)); err != nil {
		tb.Fatal(err)
	}
}

func (c *countingStore) GetPolicy(ctx context.Context, dirID string) (store.EnrollmentPolicy, error) {
	c.add("GetPolicy")
	return c.Store.GetPolicy(ctx, dirID)
}

func (c *countingStore) PutPolicy(ctx context.Context, dirID string, p store.EnrollmentPolicy, v int64, rec store.AuditEvent) (store.EnrollmentPolicy, error) {
	c.add("PutPolicy")
	return c.Store.PutPolicy(ctx, dirID, p, v, rec)
}
