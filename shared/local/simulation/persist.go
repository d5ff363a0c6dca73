package simulation

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/sase-multiaccount/backend/shared/validate"

	"github.com/sase-multiaccount/backend/shared/port/directory"
)

// formatVersion is bumped when the file layout changes incompatibly, so an
// old file is refused with a clear message instead of being misread.
const formatVersion = 1

// fileState is the state file: the whole simulation as of its last
// compaction. Changes since then are records appended to the log next to
// it (log.go), so a change costs one small append, not a rewrite.
type fileState struct {
	FormatVersion   int                       `json:"FormatVersion"`
	OwnerAccountID  string                    `json:"OwnerAccountId"`
	Directory       *fileDirectory            `json:"Directory"`
	Accounts        []fileAccount             `json:"Accounts"`
	Invitations     []fileInvitation          `json:"Invitations"`
	DelegatedAdmins map[string][]fileDelegate `json:"DelegatedAdmins"`
	Folders         []fileFolder              `json:"Folders,omitempty"`
	NextSeq         int64                     `json:"NextSeq"`
}

type fileFolder struct {
	ID         string    `json:"Id"`
	Name       string    `json:"Name"`
	ParentID   string    `json:"ParentId"`
	CreateTime time.Time `json:"CreateTime"`
}

type fileDirectory struct {
	ID                  string    `json:"Id"`
	ManagementAccountID string    `json:"ManagementAccountId"`
	CreateTime          time.Time `json:"CreateTime"`
	RootFolderID        string    `json:"RootFolderId,omitempty"` // absent in older files: derived from the ID
}

type fileAccount struct {
	AccountID   string    `json:"AccountId"`
	DisplayName string    `json:"DisplayName"`
	JoinTime    time.Time `json:"JoinTime"`
	JoinMethod  string    `json:"JoinMethod"`
	ModifyTime  time.Time `json:"ModifyTime,omitzero"` // absent in older files: JoinTime
	FolderID    string    `json:"FolderId,omitempty"`  // absent in older files: the root folder
	NamePrefix  string    `json:"AccountNamePrefix,omitempty"`
}

type fileInvitation struct {
	ID           string    `json:"Id"`
	TargetEntity string    `json:"TargetEntity"`
	TargetType   string    `json:"TargetType"`
	InviteeID    string    `json:"InviteeAccountId"`
	Status       string    `json:"Status"`
	Note         string    `json:"Note,omitempty"`
	CreateTime   time.Time `json:"CreateTime"`
	ExpireTime   time.Time `json:"ExpireTime"`
	ModifyTime   time.Time `json:"ModifyTime"`
	Seq          int64     `json:"Seq"`
}

type fileDelegate struct {
	AccountID   string    `json:"AccountId"`
	EnabledTime time.Time `json:"EnabledTime"`
}

func fileDir(d *directory.Directory) *fileDirectory {
	if d == nil {
		return nil
	}
	return &fileDirectory{ID: d.ID, ManagementAccountID: d.ManagementAccountID, CreateTime: d.CreateTime, RootFolderID: d.RootFolderID}
}

func fileAcc(a *account) fileAccount {
	return fileAccount{AccountID: a.ID, DisplayName: a.DisplayName, JoinTime: a.JoinTime, JoinMethod: a.JoinMethod,
		ModifyTime: a.ModifyTime, FolderID: a.FolderID, NamePrefix: a.NamePrefix}
}

func fileInv(inv *invitation) fileInvitation {
	return fileInvitation{
		ID: inv.ID, TargetEntity: inv.TargetEntity, TargetType: inv.TargetType, InviteeID: inv.InviteeID,
		Status: inv.Status, Note: inv.Note, CreateTime: inv.CreateTime, ExpireTime: inv.ExpireTime,
		ModifyTime: inv.ModifyTime, Seq: inv.Seq,
	}
}

func fileDelegates(ds []delegate) []fileDelegate {
	out := make([]fileDelegate, len(ds))
	for i, d := range ds {
		out[i] = fileDelegate(d)
	}
	return out
}

func fileFold(f *folder) fileFolder {
	return fileFolder{ID: f.ID, Name: f.Name, ParentID: f.ParentID, CreateTime: f.CreateTime}
}

// snapshot is the whole state in file form.
func (s *Sim) snapshot() fileState {
	st := s.st
	f := fileState{
		FormatVersion:   formatVersion,
		OwnerAccountID:  s.opts.OwnerAccountID,
		Directory:       fileDir(st.dir),
		Accounts:        make([]fileAccount, len(st.order)),
		Invitations:     make([]fileInvitation, len(st.invitations)),
		DelegatedAdmins: make(map[string][]fileDelegate, len(st.delegates)),
		NextSeq:         st.nextSeq,
	}
	for i, a := range st.order {
		f.Accounts[i] = fileAcc(a)
	}
	for i, inv := range st.invitations {
		f.Invitations[i] = fileInv(inv)
	}
	for p, ds := range st.delegates {
		f.DelegatedAdmins[p] = fileDelegates(ds)
	}
	for _, fd := range st.folders {
		f.Folders = append(f.Folders, fileFold(fd))
	}
	slices.SortFunc(f.Folders, func(a, b fileFolder) int { return strings.Compare(a.ID, b.ID) })
	return f
}

func encodeFile(f fileState) ([]byte, error) {
	data, err := json.Marshal(f)
	if err != nil {
		return nil, fmt.Errorf("encode simulation state: %w", err)
	}
	return data, nil
}

// parseFile parses a state file; decode checks it. Every inconsistency is reported,
// because a hand-edited file that loads half-right would make the
// simulation lie about RD.
func parseFile(data []byte) (fileState, error) {
	var f fileState
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return f, fmt.Errorf("not valid JSON state: %w", err)
	}
	if dec.More() {
		return f, errors.New("unexpected data after the JSON state")
	}
	return f, nil
}

// decode checks a state (the file plus its log) and builds the model.
func (s *Sim) decode(f fileState) (*state, error) {
	if f.FormatVersion != formatVersion {
		return nil, fmt.Errorf("format version %d, expected %d", f.FormatVersion, formatVersion)
	}
	if f.OwnerAccountID != s.opts.OwnerAccountID {
		return nil, fmt.Errorf("it belongs to owner account %q, not %q (set the owner back or delete the file)",
			f.OwnerAccountID, s.opts.OwnerAccountID)
	}
	st := newState()
	st.nextSeq = f.NextSeq
	if f.Directory == nil {
		if len(f.Accounts) > 0 || len(f.Invitations) > 0 || len(f.DelegatedAdmins) > 0 || len(f.Folders) > 0 {
			return nil, errors.New("accounts, invitations or delegated administrators without a directory")
		}
		return st, nil
	}
	d := f.Directory
	if !strings.HasPrefix(d.ID, "rd-") || d.ManagementAccountID != f.OwnerAccountID || d.CreateTime.IsZero() {
		return nil, fmt.Errorf("directory %q: needs an rd- ID, the owner as management account and a create time", d.ID)
	}
	st.dir = &directory.Directory{ID: d.ID, ManagementAccountID: d.ManagementAccountID, CreateTime: d.CreateTime.UTC(), RootFolderID: d.RootFolderID}
	if st.dir.RootFolderID == "" {
		// Files written before folders: the ID the RD wire server showed then.
		id := strings.TrimPrefix(d.ID, "rd-")
		st.dir.RootFolderID = "r-" + id[:min(6, len(id))]
	}
	if err := decodeFolders(st, f.Folders); err != nil {
		return nil, err
	}
	if err := decodeAccounts(st, f.Accounts); err != nil {
		return nil, err
	}
	if err := decodeInvitations(st, f.Invitations, f.NextSeq); err != nil {
		return nil, err
	}
	if err := decodeDelegates(st, f.DelegatedAdmins); err != nil {
		return nil, err
	}
	return st, nil
}

// decodeAccounts checks the accounts (16-digit unique IDs, existing
// folders, the management account among them) and adds them to st in
// listing order.
func decodeAccounts(st *state, fas []fileAccount) error {
	st.order = make([]*account, 0, len(fas))
	for _, fa := range fas {
		if !validate.IsAccountID(fa.AccountID) || fa.DisplayName == "" || fa.JoinTime.IsZero() ||
			(fa.JoinMethod != "invited" && fa.JoinMethod != "created") {
			return fmt.Errorf("account %q: needs a 16-digit ID, a display name, a join time and join method invited or created", fa.AccountID)
		}
		if st.accounts[fa.AccountID] != nil {
			return fmt.Errorf("account %s is listed twice", fa.AccountID)
		}
		a := &account{ID: fa.AccountID, DisplayName: fa.DisplayName, JoinTime: fa.JoinTime.UTC(), JoinMethod: fa.JoinMethod,
			ModifyTime: fa.ModifyTime.UTC(), FolderID: fa.FolderID, NamePrefix: fa.NamePrefix}
		if a.ModifyTime.IsZero() {
			a.ModifyTime = a.JoinTime
		}
		if a.FolderID == "" {
			a.FolderID = st.dir.RootFolderID
		}
		if !st.folderExists(a.FolderID) {
			return fmt.Errorf("account %s: folder %q does not exist", fa.AccountID, fa.FolderID)
		}
		st.accounts[a.ID] = a
		st.order = append(st.order, a)
	}
	if st.accounts[st.dir.ManagementAccountID] == nil {
		return fmt.Errorf("the management account %s is not among the accounts", st.dir.ManagementAccountID)
	}
	slices.SortFunc(st.order, accountLess)
	return nil
}

// decodeInvitations checks the invitations (stored statuses, unique h- IDs,
// sequences up to nextSeq) and adds them to st in creation order, with the
// pending index.
func decodeInvitations(st *state, fis []fileInvitation, nextSeq int64) error {
	for _, fi := range fis {
		switch fi.Status {
		case directory.StatusPending, directory.StatusAccepted, directory.StatusCancelled, directory.StatusDeclined:
		default:
			return fmt.Errorf("invitation %q: status %q is not stored (Expired is derived from ExpireTime)", fi.ID, fi.Status)
		}
		if !strings.HasPrefix(fi.ID, "h-") || st.invByID[fi.ID] != nil {
			return fmt.Errorf("invitation %q: needs a unique h- ID", fi.ID)
		}
		if (fi.TargetType != directory.TargetAccount && fi.TargetType != directory.TargetEmail) || !validate.IsAccountID(fi.InviteeID) {
			return fmt.Errorf("invitation %s: bad target type %q or invitee %q", fi.ID, fi.TargetType, fi.InviteeID)
		}
		if fi.Seq <= 0 || fi.Seq > nextSeq {
			return fmt.Errorf("invitation %s: sequence %d outside 1..%d", fi.ID, fi.Seq, nextSeq)
		}
		inv := &invitation{
			Invitation: directory.Invitation{
				ID: fi.ID, TargetEntity: fi.TargetEntity, TargetType: fi.TargetType, Status: fi.Status, Note: fi.Note,
				CreateTime: fi.CreateTime.UTC(), ExpireTime: fi.ExpireTime.UTC(),
			},
			InviteeID: fi.InviteeID, ModifyTime: fi.ModifyTime.UTC(), Seq: fi.Seq,
		}
		st.invitations = append(st.invitations, inv)
		st.invByID[inv.ID] = inv
	}
	slices.SortFunc(st.invitations, func(a, b *invitation) int { return cmp.Compare(a.Seq, b.Seq) })
	for _, inv := range st.invitations {
		if inv.Status == directory.StatusPending {
			st.pending[inv.InviteeID] = inv // the later of two pending ones wins; an invite checks only the newest
		}
	}
	return nil
}

// decodeDelegates checks the delegated administrators (members other than
// the management account, each listed once per principal) and adds them.
func decodeDelegates(st *state, fdm map[string][]fileDelegate) error {
	for p, fds := range fdm {
		if p == "" || len(fds) == 0 {
			return fmt.Errorf("delegated administrators: empty principal %q or empty list", p)
		}
		ds := make([]delegate, 0, len(fds))
		for _, fd := range fds {
			if st.accounts[fd.AccountID] == nil || fd.AccountID == st.dir.ManagementAccountID ||
				slices.ContainsFunc(ds, func(x delegate) bool { return x.AccountID == fd.AccountID }) {
				return fmt.Errorf("delegated administrator %q of %s: must be a member listed once", fd.AccountID, p)
			}
			ds = append(ds, delegate{AccountID: fd.AccountID, EnabledTime: fd.EnabledTime.UTC()})
		}
		st.delegates[p] = ds
	}
	return nil
}

// decodeFolders checks the folders (unique IDs, existing parents, no
// cycles, at most MaxFolderDepth levels) and adds them to st.
func decodeFolders(st *state, fs []fileFolder) error {
	for _, ff := range fs {
		if !strings.HasPrefix(ff.ID, "fd-") || st.folders[ff.ID] != nil || ff.Name == "" || ff.CreateTime.IsZero() {
			return fmt.Errorf("folder %q: needs a unique fd- ID, a name and a create time", ff.ID)
		}
		st.folders[ff.ID] = &folder{ID: ff.ID, Name: ff.Name, ParentID: ff.ParentID, CreateTime: ff.CreateTime.UTC()}
	}
	for _, f := range st.folders {
		n := 0
		for p := f; p != nil; p = st.folders[p.ParentID] {
			if n++; n > directory.MaxFolderDepth {
				return fmt.Errorf("folder %s: more than %d levels below the root, or in a cycle", f.ID, directory.MaxFolderDepth)
			}
			if st.folders[p.ParentID] == nil && p.ParentID != st.dir.RootFolderID {
				return fmt.Errorf("folder %s: parent %q does not exist", p.ID, p.ParentID)
			}
		}
	}
	return nil
}

// writeFileAtomic replaces path with data so that a crash leaves either the
// old or the new file, never a torn one: temp file in the same folder,
// fsync, rename, fsync of the folder. The file is private (0600): it is
// the developer's local account data.
func writeFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("create temp file: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if err = f.Chmod(0o600); err != nil {
		return fmt.Errorf("chmod temp file: %w", err)
	}
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("write temp file: %w", err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("sync temp file: %w", err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("close temp file: %w", err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("rename temp file: %w", err)
	}
	// The rename is durable only once the folder entry is; failing to sync
	// the folder after a successful rename still leaves a whole file.
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}
