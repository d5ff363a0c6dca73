package simulation

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/sase-multiaccount/backend/shared/apperr"
)

// Persistence: the state file (persist.go) is a snapshot; every change
// appends the records it touched to Path+".log", one JSON object a line,
// with one write and one fsync. A change therefore costs the same at 10
// accounts as at 10,000 (the whole-file rewrite it replaces cost 74 ms per
// change at 10,000). Open replays the log onto the snapshot, checks the
// result like a state file, and compacts (new snapshot, empty log); so does
// a save once the log outgrows the state.

// logRecord is one line of the log: the new value of one record, or its
// deletion; Kind "reset" drops everything (the directory was destroyed).
type logRecord struct {
	Kind       string          `json:"K"`
	ID         string          `json:"Id,omitempty"`
	Deleted    bool            `json:"Del,omitempty"`
	Meta       *logMeta        `json:"Meta,omitempty"`
	Account    *fileAccount    `json:"Account,omitempty"`
	Invitation *fileInvitation `json:"Invitation,omitempty"`
	Delegates  []fileDelegate  `json:"Delegates,omitempty"`
	Folder     *fileFolder     `json:"Folder,omitempty"`
}

type logMeta struct {
	Directory *fileDirectory `json:"Directory"`
	NextSeq   int64          `json:"NextSeq"`
}

// image is the persisted state by record key: what the files hold, kept
// in step with every successful append so a failed save can restore
// memory without reading the disk.
type image struct {
	meta        logMeta
	accounts    map[string]fileAccount
	invitations map[string]fileInvitation
	delegates   map[string][]fileDelegate
	folders     map[string]fileFolder
}

func newImage() *image {
	return &image{accounts: map[string]fileAccount{}, invitations: map[string]fileInvitation{},
		delegates: map[string][]fileDelegate{}, folders: map[string]fileFolder{}}
}

func imageOf(f fileState) *image {
	im := newImage()
	im.meta = logMeta{Directory: f.Directory, NextSeq: f.NextSeq}
	for _, a := range f.Accounts {
		im.accounts[a.AccountID] = a
	}
	for _, inv := range f.Invitations {
		im.invitations[inv.ID] = inv
	}
	for p, ds := range f.DelegatedAdmins {
		im.delegates[p] = ds
	}
	for _, fd := range f.Folders {
		im.folders[fd.ID] = fd
	}
	return im
}

func (im *image) size() int {
	return len(im.accounts) + len(im.invitations) + len(im.delegates) + len(im.folders) + 1
}

// apply replays one record; a record that names nothing it can change is
// corruption.
func (im *image) apply(r logRecord) error {
	switch {
	case r.Kind == kindReset:
		*im = *newImage()
	case r.Kind == kindMeta && r.Meta != nil:
		im.meta = *r.Meta
	case r.Kind == kindAccount && r.ID != "":
		if r.Deleted {
			delete(im.accounts, r.ID)
		} else if r.Account != nil && r.Account.AccountID == r.ID {
			im.accounts[r.ID] = *r.Account
		} else {
			return fmt.Errorf("account record %q without its account", r.ID)
		}
	case r.Kind == kindInvitation && r.ID != "" && r.Invitation != nil && r.Invitation.ID == r.ID:
		im.invitations[r.ID] = *r.Invitation
	case r.Kind == kindDelegates && r.ID != "":
		if r.Deleted {
			delete(im.delegates, r.ID)
		} else {
			im.delegates[r.ID] = r.Delegates
		}
	case r.Kind == kindFolder && r.ID != "":
		if r.Deleted {
			delete(im.folders, r.ID)
		} else if r.Folder != nil && r.Folder.ID == r.ID {
			im.folders[r.ID] = *r.Folder
		} else {
			return fmt.Errorf("folder record %q without its folder", r.ID)
		}
	default:
		return fmt.Errorf("record of kind %q for %q is incomplete", r.Kind, r.ID)
	}
	return nil
}

// fileState is the image as a state file (sorted, so equal states encode
// equally).
func (im *image) fileState(owner string) fileState {
	f := fileState{FormatVersion: formatVersion, OwnerAccountID: owner, Directory: im.meta.Directory, NextSeq: im.meta.NextSeq,
		DelegatedAdmins: make(map[string][]fileDelegate, len(im.delegates))}
	for _, a := range im.accounts {
		f.Accounts = append(f.Accounts, a)
	}
	slices.SortFunc(f.Accounts, func(a, b fileAccount) int { return strings.Compare(a.AccountID, b.AccountID) })
	for _, inv := range im.invitations {
		f.Invitations = append(f.Invitations, inv)
	}
	slices.SortFunc(f.Invitations, func(a, b fileInvitation) int { return strings.Compare(a.ID, b.ID) })
	for p, ds := range im.delegates {
		f.DelegatedAdmins[p] = ds
	}
	for _, fd := range im.folders {
		f.Folders = append(f.Folders, fd)
	}
	slices.SortFunc(f.Folders, func(a, b fileFolder) int { return strings.Compare(a.ID, b.ID) })
	return f
}

func (s *Sim) logPath() string { return s.opts.Path + ".log" }

// load reads the state file and its log at Open. A missing file is a fresh
// owner account; anything unreadable stops Open rather than silently
// starting over and losing the developer's directory.
func (s *Sim) load() error {
	path := s.opts.Path
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return apperr.Wrap(err, apperr.KindInternal, apperr.CodeInternal,
			"Cannot create the folder of the Resource Directory simulation state file %s: %v", path, err)
	}
	f := s.snapshot() // the empty state
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// A new state: the snapshot is written at once, so the file names
		// its owner before the first change is logged.
		if err := s.compactLocked(); err != nil {
			return err
		}
	case err != nil:
		return apperr.Wrap(err, apperr.KindInternal, apperr.CodeInternal,
			"Cannot read the Resource Directory simulation state file %s: %v", path, err)
	default:
		if f, err = parseFile(data); err != nil {
			return corrupt(path, err)
		}
	}
	im := imageOf(f)
	logData, err := os.ReadFile(s.logPath())
	hasLog := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return apperr.Wrap(err, apperr.KindInternal, apperr.CodeInternal,
			"Cannot read the Resource Directory simulation log %s: %v", s.logPath(), err)
	}
	if hasLog {
		if err := replay(im, logData); err != nil {
			return corrupt(s.logPath(), err)
		}
		version, owner := f.FormatVersion, f.OwnerAccountID
		f = im.fileState(owner)
		f.FormatVersion = version
	}
	st, err := s.decode(f)
	if err != nil {
		where := path
		if hasLog {
			where = path + " (with its log " + s.logPath() + ")"
		}
		return corrupt(where, err)
	}
	s.st, s.saved = st, im
	if hasLog {
		return s.compactLocked()
	}
	return nil
}

func corrupt(path string, err error) error {
	return apperr.Wrap(fmt.Errorf("state file %s: %w", path, err), apperr.KindInternal, apperr.CodeInternal,
		"The Resource Directory simulation state file %s is corrupt: %v. Fix it, or delete it to start without a directory.", path, err)
}

// replay applies the log's lines to im. A last line without its newline is
// a write cut short by a crash: that change was never acknowledged, so it
// is dropped. Any other bad line is corruption.
func replay(im *image, data []byte) error {
	lines := bytes.Split(data, []byte{'\n'})
	for i, line := range lines {
		if len(line) == 0 {
			continue
		}
		var r logRecord
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil {
			if i == len(lines)-1 {
				return nil // torn last append
			}
			return fmt.Errorf("log line %d: %w", i+1, err)
		}
		if err := im.apply(r); err != nil {
			return fmt.Errorf("log line %d: %w", i+1, err)
		}
	}
	return nil
}

// recordsLocked turns the dirty keys into log records (each key once, at
// its last position).
func (s *Sim) recordsLocked() []logRecord {
	st := s.st
	last := make(map[recordKey]int, len(st.dirty))
	for i, k := range st.dirty {
		last[k] = i
	}
	out := make([]logRecord, 0, len(last))
	for i, k := range st.dirty {
		if last[k] != i {
			continue
		}
		r := logRecord{Kind: k.kind, ID: k.id}
		switch k.kind {
		case kindMeta:
			r.Meta = &logMeta{Directory: fileDir(st.dir), NextSeq: st.nextSeq}
		case kindAccount:
			if a := st.accounts[k.id]; a != nil {
				fa := fileAcc(a)
				r.Account = &fa
			} else {
				r.Deleted = true
			}
		case kindInvitation:
			if inv := st.invByID[k.id]; inv != nil {
				fi := fileInv(inv)
				r.Invitation = &fi
			} else {
				r.Deleted = true // not reachable: invitations are never deleted but by a reset
			}
		case kindDelegates:
			if ds := st.delegates[k.id]; len(ds) > 0 {
				r.Delegates = fileDelegates(ds)
			} else {
				r.Deleted = true
			}
		case kindFolder:
			if f := st.folders[k.id]; f != nil {
				ff := fileFold(f)
				r.Folder = &ff
			} else {
				r.Deleted = true
			}
		}
		out = append(out, r)
	}
	return out
}

// saveLocked persists the records changed since the last save. Callers
// hold s.mu.
func (s *Sim) saveLocked() error {
	defer func() { s.st.dirty = s.st.dirty[:0] }()
	if s.opts.Path == "" {
		return nil
	}
	if s.needSnapshot {
		// A save failed earlier: the log may lack changes the image has
		// lost, so only a whole snapshot is safe.
		if err := s.compactLocked(); err != nil {
			return err
		}
		s.writes++
		return nil
	}
	recs := s.recordsLocked()
	var buf bytes.Buffer
	for _, r := range recs {
		line, err := json.Marshal(r)
		if err != nil {
			return apperr.Internal(fmt.Errorf("encode simulation log record: %w", err))
		}
		buf.Write(line)
		buf.WriteByte('\n')
	}
	if err := appendSync(s.logPath(), buf.Bytes()); err != nil {
		s.needSnapshot = true
		return apperr.Wrap(err, apperr.KindInternal, apperr.CodeInternal,
			"The Resource Directory simulation could not save its state to %s, so nothing was changed: %v", s.logPath(), err)
	}
	for _, r := range recs {
		_ = s.saved.apply(r) // built from memory just now: always complete
	}
	s.writes++
	s.logRecords += len(recs)
	if s.logRecords > minCompact && s.logRecords > 2*s.saved.size() {
		// Amortized: the rewrite happens after as many appends as there are records.
		_ = s.compactLocked() // the log already holds every change; a failed compaction loses nothing
	}
	return nil
}

// minCompact is how many log records Open leaves for the next compaction
// at the least (a small state is not rewritten every few changes).
const minCompact = 10000

// compactLocked writes the whole state as the snapshot and empties the log.
func (s *Sim) compactLocked() error {
	f := s.snapshot()
	data, err := encodeFile(f)
	if err != nil {
		return apperr.Internal(err)
	}
	if err := writeFileAtomic(s.opts.Path, data); err != nil {
		s.needSnapshot = true
		return apperr.Wrap(err, apperr.KindInternal, apperr.CodeInternal,
			"The Resource Directory simulation could not save its state file %s, so nothing was changed: %v", s.opts.Path, err)
	}
	if err := os.Remove(s.logPath()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		// The snapshot already holds everything; replaying the old log onto
		// it again only rewrites records to the values they have.
		_ = err
	}
	s.saved, s.needSnapshot, s.logRecords = imageOf(f), false, 0
	return nil
}

// restoreLocked puts memory back to the last saved state after a failed
// save. The image decoded successfully before, so it cannot fail unless
// there is a bug.
func (s *Sim) restoreLocked() {
	st, err := s.decode(s.saved.fileState(s.opts.OwnerAccountID))
	if err != nil {
		panic(fmt.Sprintf("simulation: last saved state no longer decodes: %v", err))
	}
	s.st = st
}

// appendSync appends data to path (created 0600) and syncs it. The file is
// opened per append so that a removed folder fails the save instead of
// writing into an unlinked file.
func appendSync(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open log: %w", err)
	}
	w := bufio.NewWriter(f)
	_, werr := w.Write(data)
	if werr == nil {
		werr = w.Flush()
	}
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return fmt.Errorf("append to log: %w", werr)
	}
	return nil
}
