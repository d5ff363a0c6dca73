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
		return nil, toRD("CreateFolder", err)
	}
	return obj{"Folder": toRDCreatedFolder(f)}, nil
}

func (s *Server) moveAccount(ctx context.Context, p params) (obj, *rpcError) {
	if err := s.sim.MoveAccount(ctx, p.get("AccountId"), p.get("DestinationFolderId")); err != nil {
		return nil, toRD("MoveAccount", err)
	}
	return obj{}, nil
}

func (s *Server) createResourceAccount(ctx context.Context, p params) (obj, *rpcError) {
	prefix := p.get("AccountNamePrefix")
	if prefix == "" {
		return nil, errf(400, "MissingParameter.AccountNamePrefix", "The input parameter AccountNamePrefix that is mandatory for processing this request is not supplied.")
	}
	if tags, e := tagFilter(p); e != nil {
		return nil, e
	} else if len(tags) > 0 {
		return nil, errf(400, "InvalidParameter.Tag", "This local server does not keep tags; create the account without Tag.N.")
	}
	a, err := s.sim.CreateResourceAccount(ctx, directory.NewAccount{
		DisplayName: p.get("DisplayName"), FolderID: p.get("ParentFolderId"), AccountNamePrefix: prefix})
	if err != nil {
		return nil, toRD("CreateResourceAccount", err)
	}
	d, err := s.sim.GetDirectory(ctx)
	if err != nil {
		return nil, toRD("CreateResourceAccount", err)
	}
	detail, err := s.sim.GetAccountDetail(ctx, a.AccountID)
	if err != nil {
		return nil, toRD("CreateResourceAccount", err)
	}
	return obj{"Account": rdAccount{
		AccountID:   a.AccountID,
		AccountName: prefix + "@" + d.ID + ".aliyunid.com",
		rdMember:    toRDMember(d, detail),
	}}, nil
}

// folderRD maps the folder refusals; ok false when err is not one.
func folderRD(action string, ae *apperr.Error) (*rpcError, bool) {
	switch ae.Code {
	case apperr.CodeFolderNotFound:
		return errf(404, "EntityNotExists.Folder", "%s", ae.Message), true
	case apperr.CodeFolderExists:
		return errf(409, "EntityAlreadyExists.Folder", "%s", ae.Message), true
	case apperr.CodeFolderDepth:
		return errf(409, "LimitExceeded.Folder.Depth", "%s", ae.Message), true
	case apperr.CodeLimitExceeded:
		if action == "CreateFolder" {
			return errf(409, "QuotaExceeded.Folder.Count", "%s", ae.Message), true
		}
	}
	return nil, false
}
