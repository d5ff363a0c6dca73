package server

import (
	"context"
	"time"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/httpapi"
	"github.com/sase-multiaccount/backend/shared/local/simulation"
	"github.com/sase-multiaccount/backend/shared/port/directory"
	"github.com/sase-multiaccount/backend/shared/validate"
)

// answer is a helper's JSON object; directoryChange adds "Event".
type answer map[string]any

// directoryChange makes one change in the simulated directory. By default
// its ActionTrail event goes to the local event bus, as EventBridge would
// deliver it. With "DeliverEvent": false the event is returned as "Event"
// instead (null when the change was a no-op and emitted none), so that a
// test can deliver it later (POST /directory-events), twice, out of order
// or never.
func directoryChange(ctx context.Context, sim *simulation.Sim, deliver *bool, fn func(ctx context.Context) (answer, error)) (answer, error) {
	if deliver == nil || *deliver {
		return fn(ctx)
	}
	cctx, capture := simulation.CaptureEvents(ctx)
	out, err := fn(cctx)
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = answer{}
	}
	out["Event"] = nil
	if evs := capture.Events(); len(evs) > 0 {
		out["Event"] = evs[len(evs)-1]
	}
	return out, nil
}

// createFolder is the MA creating a folder (RD CreateFolder).
func createFolder(sim *simulation.Sim) helper {
	return func(ctx context.Context, body []byte) (any, error) {
		var in struct {
			FolderName     string
			ParentFolderID string `json:"ParentFolderId"`
			DeliverEvent   *bool
		}
		if err := httpapi.DecodeJSON(body, &in); err != nil {
			return nil, err
		}
		if in.FolderName == "" {
			return nil, apperr.Missing("FolderName")
		}
		return directoryChange(ctx, sim, in.DeliverEvent, func(ctx context.Context) (answer, error) {
			f, err := sim.CreateFolder(ctx, in.FolderName, in.ParentFolderID)
			if err != nil {
				return nil, err
			}
			return answer{"Folder": folderOf(ctx, sim, f)}, nil
		})
	}
}

// moveAccount is the MA moving an account to another folder (RD MoveAccount).
func moveAccount(sim *simulation.Sim) helper {
	return func(ctx context.Context, body []byte) (any, error) {
		var in struct {
			AccountID    string `json:"AccountId"`
			FolderID     string `json:"FolderId"`
			DeliverEvent *bool
		}
		if err := httpapi.DecodeJSON(body, &in); err != nil {
			return nil, err
		}
		if err := validate.AccountID("AccountId", in.AccountID); err != nil {
			return nil, err
		}
		if in.FolderID == "" {
			return nil, apperr.Missing("FolderId")
		}
		return directoryChange(ctx, sim, in.DeliverEvent, func(ctx context.Context) (answer, error) {
			if err := sim.MoveAccount(ctx, in.AccountID, in.FolderID); err != nil {
				return nil, err
			}
			acc, err := sim.GetAccount(ctx, in.AccountID)
			return answer{"Account": accountOf(ctx, sim, acc)}, err
		})
	}
}

// createAccount is the MA creating a resource account (RD
// CreateResourceAccount).
func createAccount(sim *simulation.Sim) helper {
	return func(ctx context.Context, body []byte) (any, error) {
		var in struct {
			DisplayName  string
			FolderID     string `json:"FolderId"`
			DeliverEvent *bool
		}
		if err := httpapi.DecodeJSON(body, &in); err != nil {
			return nil, err
		}
		if in.DisplayName == "" {
			return nil, apperr.Missing("DisplayName")
		}
		return directoryChange(ctx, sim, in.DeliverEvent, func(ctx context.Context) (answer, error) {
			acc, err := sim.CreateResourceAccount(ctx, directory.NewAccount{DisplayName: in.DisplayName, FolderID: in.FolderID})
			if err != nil {
				return nil, err
			}
			return answer{"Account": accountOf(ctx, sim, acc)}, nil
		})
	}
}

type accountView struct {
	AccountID   string `json:"AccountId"`
	DisplayName string
	JoinTime    string
	FolderID    string `json:"FolderId"`
	FolderPath  string
}

type folderView struct {
	FolderID       string `json:"FolderId"`
	FolderName     string
	ParentFolderID string `json:"ParentFolderId"`
	FolderPath     string
}

// folders is the directory's folder tree, for paths (empty on failure:
// the path is a convenience of the answer, the change is made).
func folders(ctx context.Context, sim *simulation.Sim) *directory.FolderTree {
	fs, _ := sim.ListFolders(ctx)
	return directory.NewFolderTree(fs)
}

func accountOf(ctx context.Context, sim *simulation.Sim, a directory.Account) accountView {
	return accountView{AccountID: a.AccountID, DisplayName: a.DisplayName, JoinTime: a.JoinTime.UTC().Format(time.RFC3339),
		FolderID: a.FolderID, FolderPath: folders(ctx, sim).Path(a.FolderID)}
}

func folderOf(ctx context.Context, sim *simulation.Sim, f directory.Folder) folderView {
	return folderView{FolderID: f.ID, FolderName: f.Name, ParentFolderID: f.ParentID, FolderPath: folders(ctx, sim).Path(f.ID)}
}
