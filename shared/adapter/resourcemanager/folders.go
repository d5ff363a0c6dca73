package resourcemanager

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	rm "github.com/aliyun/alibaba-cloud-sdk-go/services/resourcemanager"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/port/directory"
)

// RD folder actions the adapter calls.
const (
	actListFolders = "ListFoldersForParent"
	actGetFolder   = "GetFolder"
)

// codeFolderNotFound is RD's answer for an unknown folder.
const codeFolderNotFound = "EntityNotExists.Folder"

// Organizer support: the organize package makes RD's write calls on the
// functions' pooled, retrying client without this package calling them
// (so the function role, granted exactly what this package calls, is not
// granted account creation).

// Call runs fn (one SDK request) like every call of this package: pooled
// client, retries (writes are never re-sent after a lost answer), ctx.
// It returns the raw error, for RDCode; Fail maps what the caller did not.
func (c *Client) Call(ctx context.Context, action string, write bool, fn func(*rm.Client) error) error {
	return c.call(ctx, op{action: action, write: write}, fn)
}

// Fail maps an RD error to the port's vocabulary (throttling, RD down, no
// directory, parameter errors, permissions) as this package's own calls do.
func Fail(action string, write bool, err error) error {
	return fail(op{action: action, write: write}, err)
}

// RDCode is the RD error code in err's chain, or "".
func RDCode(err error) string { return rdCode(err) }

// RDMessage is RD's message of err, ending with a stop, or "(no message)."
func RDMessage(err error) string { return ensureStop(rdMessage(err)) }

// Status is the HTTP status of the RD answer in err's chain, or 0.
func Status(err error) int {
	if se, ok := rdError(err); ok {
		return se.HttpStatus()
	}
	return 0
}

// EmptyAnswer is the error for a 2xx answer without the expected object.
func EmptyAnswer(action string) error { return errEmpty(action) }

// FolderNotFound and AccountNotFound are the port's NotFound errors.
func FolderNotFound(cause error, folderID string) error { return folderNotFound(cause, folderID) }

// AccountNotFound is the port's NotFound for an account outside the directory.
func AccountNotFound(cause error, accountID string) error { return accountNotFound(cause, accountID) }

// ParseTime reads RD's time strings.
func ParseTime(s string) time.Time { return parseTime(s) }

// ListFolders reads the tree: GetResourceDirectory for the root, then
// ListFoldersForParent for every folder, breadth-first (RD has no call that
// lists all folders), one call per 100 children. At RD's default quota of
// 100 folders that is at most about 100 calls; the directory mirror
// (DESIGN.md §10) keeps functions from paying it per request.
func (c *Client) ListFolders(ctx context.Context) ([]directory.Folder, error) {
	d, err := c.GetDirectory(ctx)
	if err != nil {
		return nil, err
	}
	if d.RootFolderID == "" {
		return nil, fail(op{action: actGetRD}, errEmpty(actGetRD))
	}
	root := directory.Folder{ID: d.RootFolderID, Name: directory.RootFolderName, CreateTime: d.CreateTime}
	children := map[string][]directory.Folder{}
	queue := []string{root.ID}
	seen := map[string]bool{root.ID: true}
	for len(queue) > 0 {
		parent := queue[0]
		queue = queue[1:]
		kids, err := c.listChildren(ctx, parent)
		if err != nil {
			return nil, err
		}
		for _, k := range kids {
			if seen[k.ID] { // a malformed answer must not loop
				continue
			}
			seen[k.ID] = true
			children[parent] = append(children[parent], k)
			queue = append(queue, k.ID)
		}
	}
	out := []directory.Folder{root}
	var walk func(parent string)
	walk = func(parent string) {
		kids := children[parent]
		slices.SortFunc(kids, func(a, b directory.Folder) int {
			if c := strings.Compare(a.Name, b.Name); c != 0 {
				return c
			}
			return strings.Compare(a.ID, b.ID)
		})
		for _, k := range kids {
			out = append(out, k)
			walk(k.ID)
		}
	}
	walk(root.ID)
	return out, nil
}

// listChildren reads one folder's subfolders (ListFoldersForParent, all
// pages). The listed folders carry no parent: it is the one asked for.
func (c *Client) listChildren(ctx context.Context, parent string) ([]directory.Folder, error) {
	o := op{action: actListFolders}
	out, err := listAll(func(page int) ([]rm.Folder, int, int, error) {
		var resp *rm.ListFoldersForParentResponse
		err := c.call(ctx, o, func(rc *rm.Client) (err error) {
			req := rm.CreateListFoldersForParentRequest()
			req.ParentFolderId = parent
			req.PageNumber = requests.NewInteger(page)
			req.PageSize = requests.NewInteger(pageSize)
			resp, err = rc.ListFoldersForParent(req)
			return err
		})
		if err != nil {
			return nil, 0, 0, err
		}
		return resp.Folders.Folder, resp.PageSize, resp.TotalCount, nil
	}, func(f rm.Folder) string { return f.FolderId }, func(f rm.Folder) directory.Folder {
		v := toFolder(f)
		v.ParentID = parent
		return v
	})
	if err != nil {
		if rdCode(err) == codeFolderNotFound {
			return nil, folderNotFound(err, parent)
		}
		return nil, fail(o, err)
	}
	return out, nil
}

// GetFolder calls GetFolder once.
func (c *Client) GetFolder(ctx context.Context, folderID string) (directory.Folder, error) {
	o := op{action: actGetFolder}
	var resp *rm.GetFolderResponse
	err := c.call(ctx, o, func(rc *rm.Client) (err error) {
		req := rm.CreateGetFolderRequest()
		req.FolderId = folderID
		resp, err = rc.GetFolder(req)
		return err
	})
	if err != nil {
		switch rdCode(err) {
		case codeFolderNotFound, "InvalidParameter.FolderId":
			return directory.Folder{}, folderNotFound(err, folderID)
		}
		return directory.Folder{}, fail(o, err)
	}
	if resp.Folder.FolderId != folderID {
		return directory.Folder{}, folderNotFound(nil, folderID)
	}
	return toFolder(resp.Folder), nil
}

func folderNotFound(cause error, folderID string) error {
	return apperr.Wrap(cause, apperr.KindNotFound, apperr.CodeFolderNotFound,
		"Folder %q does not exist in this resource directory.", folderID)
}
