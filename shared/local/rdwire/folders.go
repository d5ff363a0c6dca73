package rdwire

import (
	"context"
	"strings"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/port/directory"
)

// The folder actions and the two account writes that involve folders.

func (s *Server) listFoldersForParent(ctx context.Context, p params) (obj, *rpcError) {
	number, size, e := page(p)
	if e != nil {
		return nil, e
	}
	d, err := s.sim.GetDirectory(ctx)
	if err != nil {
		return nil, toRD("ListFoldersForParent", err)
	}
	parent := p.get("ParentFolderId")
	if parent == "" {
		parent = d.RootFolderID // RD lists the root's children when none is given
	}
	all, err := s.sim.ListFoldersForParent(ctx, parent)
	if err != nil {
		return nil, toRD("ListFoldersForParent", err)
	}
	if kw := strings.ToLower(p.get("QueryKeyword")); kw != "" {
		kept := all[:0:0]
		for _, f := range all {
			if strings.Contains(strings.ToLower(f.Name), kw) {
				kept = append(kept, f)
			}
		}
		all = kept
	}
	lo, hi := window(len(all), number, size)
	out := make([]rdListedFolder, 0, hi-lo)
	for _, f := range all[lo:hi] {
		out = append(out, rdListedFolder{FolderID: f.ID, FolderName: f.Name, CreateTime: rdTimeMillis(f.CreateTime)})
	}
	return listPage(len(all), number, size, "Folders", "Folder", out), nil
}

func (s *Server) getFolder(ctx context.Context, p params) (obj, *rpcError) {
	if _, err := s.sim.GetDirectory(ctx); err != nil {
		return nil, toRD("GetFolder", err)
	}
	f, err := s.sim.GetFolderDetail(ctx, p.get("FolderId"))
	if err != nil {
		return nil, toRD("GetFolder", err)
	}
	return obj{"Folder": rdFolder{rdCreatedFolder: toRDCreatedFolder(f.Folder), ResourceDirectoryPath: f.Path}}, nil
}

func (s *Server) createFolder(ctx context.Context, p params) (obj, *rpcError) {
	f, err := s.sim.CreateFolder(ctx, p.get("FolderName"), p.get("ParentFolderId"))
	if err != nil {
		return nil, toRDWith("CreateFolder", err, p)
	}
	return obj{"Folder": toRDCreatedFolder(f)}, nil
}

func (s *Server) moveAccount(ctx context.Context, p params) (obj, *rpcError) {
	if err := s.sim.MoveAccount(ctx, p.get("AccountId"), p.get("DestinationFolderId")); err != nil {
		return nil, toRD("MoveAccount", err)
	}
	return obj{}, nil
}

// createResourceAccount creates the account, then tags it; the Sim keeps
// no tags, the server does.
func (s *Server) createResourceAccount(ctx context.Context, p params) (obj, *rpcError) {
	tags, e := tagFilter(p)
	if e != nil {
		return nil, e
	}
	a, err := s.sim.CreateResourceAccount(ctx, directory.NewAccount{
		DisplayName: p.get("DisplayName"), FolderID: p.get("ParentFolderId"), AccountNamePrefix: p.get("AccountNamePrefix")})
	if err != nil {
		return nil, toRDWith("CreateResourceAccount", err, p)
	}
	d, err := s.sim.GetDirectory(ctx)
	if err != nil {
		return nil, toRD("CreateResourceAccount", err)
	}
	detail, err := s.sim.GetAccountDetail(ctx, a.AccountID)
	if err != nil {
		return nil, toRD("CreateResourceAccount", err)
	}
	s.tag(a.AccountID, tags)
	m := toRDMember(d, detail)
	return obj{"Account": rdCreatedAccount{
		AccountID: a.AccountID, AccountName: accountName(d, detail),
		DisplayName: m.DisplayName, FolderID: m.FolderID, ResourceDirectoryID: m.ResourceDirectoryID,
		JoinMethod: m.JoinMethod, JoinTime: m.JoinTime, ModifyTime: m.ModifyTime, Status: m.Status, Type: m.Type,
	}}, nil
}

// folderRD maps the folder refusals; ok false when err is not one.
func folderRD(action string, ae *apperr.Error) (*rpcError, bool) {
	switch ae.Code {
	case apperr.CodeFolderNotFound:
		return errf(404, "EntityNotExists.Folder", "%s", ae.Message), true
	case apperr.CodeFolderDepth:
		return errf(409, "LimitExceeded.Folder.Depth", "%s", ae.Message), true
	case apperr.CodeLimitExceeded:
		if action == "CreateFolder" {
			return errf(409, "QuotaExceeded.Folder.Count", "%s", ae.Message), true
		}
	}
	return nil, false
}
