package simulation

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/sase-multiaccount/backend/shared/validate"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/port/directory"
)

// formatVersion is bumped when the file layout changes incompatibly, so an
// old file is refused with a clear message instead of being misread.
const formatVersion = 1

// fileState is the state file: the whole simulation, rewritten on every change.
type fileState struct {
	FormatVersion   int                       `json:"FormatVersion"`
	OwnerAccountID  string                    `json:"OwnerAccountId"`
	Directory       *fileDirectory            `json:"Directory"`
	Accounts        []fileAccount             `json:"Accounts"`
	Invitations     []fileInvitation          `json:"Invitations"`
	DelegatedAdmins map[string][]fileDelegate `json:"DelegatedAdmins"`
	NextSeq         int64                     `json:"NextSeq"`
}

type fileDirectory struct {
	ID                  string    `json:"Id"`
	ManagementAccountID string    `json:"ManagementAccountId"`
	CreateTime          time.Time `json:"CreateTime"`
}

type fileAccount struct {
	AccountID   string    `json:"AccountId"`
	DisplayName string    `json:"DisplayName"`
	JoinTime    time.Time `json:"JoinTime"`
	JoinMethod  string    `json:"JoinMethod"`
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

func (s *Sim) encode() ([]byte, error) {
	st := s.st
	f := fileState{
		FormatVersion:   formatVersion,
		OwnerAccountID:  s.opts.OwnerAccountID,
		Accounts:        make([]fileAccount, len(st.order)),
		Invitations:     make([]fileInvitation, len(st.invitations)),
		DelegatedAdmins: make(map[string][]fileDelegate, len(st.delegates)),
		NextSeq:         st.nextSeq,
	}
	if st.dir != nil {
		f.Directory = &fileDirectory{ID: st.dir.ID, ManagementAccountID: st.dir.ManagementAccountID, CreateTime: st.dir.CreateTime}
	}
	for i, a := range st.order {
		f.Accounts[i] = fileAccount{AccountID: a.ID, DisplayName: a.DisplayName, JoinTime: a.JoinTime, JoinMethod: a.JoinMethod}
	}
	for i, inv := range st.invitations {
		f.Invitations[i] = fileInvitation{
			ID: inv.ID, TargetEntity: inv.TargetEntity, TargetType: inv.TargetType, InviteeID: inv.InviteeID,
			Status: inv.Status, Note: inv.Note, CreateTime: inv.CreateTime, ExpireTime: inv.ExpireTime,
			ModifyTime: inv.ModifyTime, Seq: inv.Seq,
		}
	}
	for p, ds := range st.delegates {
		fds := make([]fileDelegate, len(ds))
		for i, d := range ds {
			fds[i] = fileDelegate(d)
		}
		f.DelegatedAdmins[p] = fds
	}
	data, err := json.Marshal(f)
	if err != nil {
		return nil, fmt.Errorf("encode simulation state: %w", err)
	}
	return data, nil
}

// decode parses and checks a state file. Every inconsistency is reported,
// because a hand-edited file that loads half-right would make the
// simulation lie about RD.
func (s *Sim) decode(data []byte) (*state, error) {
	var f fileState
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("not valid JSON state: %w", err)
	}
	if dec.More() {
		return nil, errors.New("unexpected data after the JSON state")
	}
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
		if len(f.Accounts) > 0 || len(f.Invitations) > 0 || len(f.DelegatedAdmins) > 0 {
			return nil, errors.New("accounts, invitations or delegated administrators without a directory")
		}
		return st, nil
	}
	d := f.Directory
	if !strings.HasPrefix(d.ID, "rd-") || d.ManagementAccountID != f.OwnerAccountID || d.CreateTime.IsZero() {
		return nil, fmt.Errorf("directory %q: needs an rd- ID, the owner as management account and a create time", d.ID)
	}
	st.dir = &directory.Directory{ID: d.ID, ManagementAccountID: d.ManagementAccountID, CreateTime: d.CreateTime.UTC()}

	st.order = make([]*account, 0, len(f.Accounts))
	for _, fa := range f.Accounts {
		if !validate.IsAccountID(fa.AccountID) || fa.DisplayName == "" || fa.JoinTime.IsZero() ||
			(fa.JoinMethod != "invited" && fa.JoinMethod != "created") {
			return nil, fmt.Errorf("account %q: needs a 16-digit ID, a display name, a join time and join method invited or created", fa.AccountID)
		}
		if st.accounts[fa.AccountID] != nil {
			return nil, fmt.Errorf("account %s is listed twice", fa.AccountID)
		}
		a := &account{ID: fa.AccountID, DisplayName: fa.DisplayName, JoinTime: fa.JoinTime.UTC(), JoinMethod: fa.JoinMethod}
		st.accounts[a.ID] = a
		st.order = append(st.order, a)
	}
	if st.accounts[d.ManagementAccountID] == nil {
		return nil, fmt.Errorf("the management account %s is not among the accounts", d.ManagementAccountID)
	}
	slices.SortFunc(st.order, accountLess)

	for _, fi := range f.Invitations {
		switch fi.Status {
		case directory.StatusPending, directory.StatusAccepted, directory.StatusCancelled, directory.StatusDeclined:
		default:
			return nil, fmt.Errorf("invitation %q: status %q is not stored (Expired is derived from ExpireTime)", fi.ID, fi.Status)
		}
		if !strings.HasPrefix(fi.ID, "h-") || st.invByID[fi.ID] != nil {
			return nil, fmt.Errorf("invitation %q: needs a unique h- ID", fi.ID)
		}
		if (fi.TargetType != directory.TargetAccount && fi.TargetType != directory.TargetEmail) || !validate.IsAccountID(fi.InviteeID) {
			return nil, fmt.Errorf("invitation %s: bad target type %q or invitee %q", fi.ID, fi.TargetType, fi.InviteeID)
		}
		if fi.Seq <= 0 || fi.Seq > f.NextSeq {
			return nil, fmt.Errorf("invitation %s: sequence %d outside 1..%d", fi.ID, fi.Seq, f.NextSeq)
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

	for p, fds := range f.DelegatedAdmins {
		if p == "" || len(fds) == 0 {
			return nil, fmt.Errorf("delegated administrators: empty principal %q or empty list", p)
		}
		ds := make([]delegate, 0, len(fds))
		for _, fd := range fds {
			if st.accounts[fd.AccountID] == nil || fd.AccountID == d.ManagementAccountID ||
				slices.ContainsFunc(ds, func(x delegate) bool { return x.AccountID == fd.AccountID }) {
				return nil, fmt.Errorf("delegated administrator %q of %s: must be a member listed once", fd.AccountID, p)
			}
			ds = append(ds, delegate{AccountID: fd.AccountID, EnabledTime: fd.EnabledTime.UTC()})
		}
		st.delegates[p] = ds
	}
	return st, nil
}

// load reads the state file at Open. A missing file is a fresh owner
// account; anything unreadable stops Open rather than silently starting
// over and losing the developer's directory.
func (s *Sim) load() error {
	path := s.opts.Path
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return apperr.Wrap(err, apperr.KindInternal, apperr.CodeInternal,
			"Cannot create the folder of the Resource Directory simulation state file %s: %v", path, err)
	}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		data, err = s.encode()
		if err != nil {
			return apperr.Internal(err)
		}
		s.lastGood = data
		return nil
	case err != nil:
		return apperr.Wrap(err, apperr.KindInternal, apperr.CodeInternal,
			"Cannot read the Resource Directory simulation state file %s: %v", path, err)
	}
	st, err := s.decode(data)
	if err != nil {
		return apperr.Wrap(fmt.Errorf("state file %s: %w", path, err), apperr.KindInternal, apperr.CodeInternal,
			"The Resource Directory simulation state file %s is corrupt: %v. Fix it, or delete it to start without a directory.", path, err)
	}
	s.st = st
	s.lastGood = data
	return nil
}

// saveLocked writes the whole state. Callers hold s.mu.
func (s *Sim) saveLocked() error {
	if s.opts.Path == "" {
		return nil
	}
	data, err := s.encode()
	if err != nil {
		return apperr.Internal(err)
	}
	if err := writeFileAtomic(s.opts.Path, data); err != nil {
		return apperr.Wrap(err, apperr.KindInternal, apperr.CodeInternal,
			"The Resource Directory simulation could not save its state file %s, so nothing was changed: %v", s.opts.Path, err)
	}
	s.lastGood = data
	s.writes++
	return nil
}

// restoreLocked puts memory back to the last saved state after a failed
// save. That content was decoded successfully before, so it cannot fail
// unless there is a bug.
func (s *Sim) restoreLocked() {
	st, err := s.decode(s.lastGood)
	if err != nil {
		panic(fmt.Sprintf("simulation: last saved state no longer decodes: %v", err))
	}
	s.st = st
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
