package simulation

import (
	"slices"
	"strings"
	"time"

	"github.com/sase-multiaccount/backend/shared/port/directory"
)

// The internal model: what persist.go writes to the state file after every
// change. Sim.mu guards it.

type account struct {
	ID          string
	DisplayName string
	JoinTime    time.Time
	JoinMethod  string
	ModifyTime  time.Time // last change RD reports (join, rename, move)
	FolderID    string    // never "": the root folder's ID when in no subfolder
	// NamePrefix is a created account's login-name prefix
	// (<prefix>@<directory>.aliyunid.com); "" for an invited account.
	NamePrefix string
}

// folder is a folder below the root (the root is the directory's
// RootFolderID, named directory.RootFolderName, and is not stored).
type folder struct {
	ID         string
	Name       string
	ParentID   string
	CreateTime time.Time
}

// Kinds of persisted records: what a change marks dirty so the state file's
// log gets only the records that changed (persist.go).
const (
	kindMeta       = "m" // the directory and the sequence counter
	kindAccount    = "a"
	kindInvitation = "i"
	kindDelegates  = "d" // one principal's list
	kindFolder     = "f"
	kindReset      = "reset" // the directory was destroyed: everything goes
)

type recordKey struct{ kind, id string }

type invitation struct {
	directory.Invitation           // Status is the stored one: never Expired
	InviteeID            string    // the account that may accept: the target UID, or the UID derived from the email
	ModifyTime           time.Time // last status change
	Seq                  int64     // creation order; IDs are random, times may tie
}

type delegate struct {
	AccountID   string
	EnabledTime time.Time
}

type state struct {
	dir         *directory.Directory // nil: no directory; ManagementAccountName is read from the MA account
	accounts    map[string]*account
	order       []*account // accounts sorted by (JoinTime, ID), kept on every change so listing is a copy
	invitations []*invitation
	invByID     map[string]*invitation
	pending     map[string]*invitation // invitee UID -> its pending invitation (may have expired since)
	delegates   map[string][]delegate  // principal -> delegated administrators in registration order
	folders     map[string]*folder     // subfolders of the root by ID
	nextSeq     int64

	dirty []recordKey // records changed since the last save, in order (may repeat)
}

// mark records that the record kind/id changed and must be saved.
func (st *state) mark(kind, id string) { st.dirty = append(st.dirty, recordKey{kind, id}) }

func newState() *state {
	return &state{
		accounts:  map[string]*account{},
		invByID:   map[string]*invitation{},
		pending:   map[string]*invitation{},
		delegates: map[string][]delegate{},
		folders:   map[string]*folder{},
	}
}

func accountLess(a, b *account) int {
	if c := a.JoinTime.Compare(b.JoinTime); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

func (st *state) addAccount(a *account) {
	if a.FolderID == "" {
		a.FolderID = st.dir.RootFolderID
	}
	st.mark(kindAccount, a.ID)
	st.accounts[a.ID] = a
	i, _ := slices.BinarySearchFunc(st.order, a, accountLess)
	st.order = slices.Insert(st.order, i, a)
}

func (st *state) removeAccount(id string) {
	a := st.accounts[id]
	if a == nil {
		return
	}
	st.mark(kindAccount, id)
	delete(st.accounts, id)
	if i, ok := slices.BinarySearchFunc(st.order, a, accountLess); ok {
		st.order = slices.Delete(st.order, i, i+1)
	}
}

func (st *state) addInvitation(inv *invitation) {
	st.mark(kindInvitation, inv.ID)
	st.invitations = append(st.invitations, inv)
	st.invByID[inv.ID] = inv
	if inv.Status == directory.StatusPending {
		st.pending[inv.InviteeID] = inv
	}
}

func (st *state) isDelegate(principal, accountID string) bool {
	return slices.ContainsFunc(st.delegates[principal], func(d delegate) bool { return d.AccountID == accountID })
}

// delegatedPrincipal returns a principal for which accountID is a delegated
// administrator, "" when none.
func (st *state) delegatedPrincipal(accountID string) string {
	principals := make([]string, 0, len(st.delegates))
	for p := range st.delegates {
		principals = append(principals, p)
	}
	slices.Sort(principals) // deterministic message when an account holds several
	for _, p := range principals {
		if st.isDelegate(p, accountID) {
			return p
		}
	}
	return ""
}

// effectiveStatus is what RD reports: a pending invitation past its
// expiry reads as Expired, without anything being written.
func effectiveStatus(inv *invitation, now time.Time) string {
	if inv.Status == directory.StatusPending && now.After(inv.ExpireTime) {
		return directory.StatusExpired
	}
	return inv.Status
}

func (inv *invitation) view(now time.Time) directory.Invitation {
	v := inv.Invitation
	v.Status = effectiveStatus(inv, now)
	v.ModifyTime = inv.ModifyTime
	if v.Status == directory.StatusExpired && inv.Status == directory.StatusPending {
		v.ModifyTime = inv.ExpireTime // when it expired, though nothing was written then
	}
	return v
}

// pendingFor returns the invitee's invitation that is still pending at now.
func (st *state) pendingFor(inviteeID string, now time.Time) *invitation {
	inv := st.pending[inviteeID]
	if inv == nil || effectiveStatus(inv, now) != directory.StatusPending {
		return nil
	}
	return inv
}

// pendingCount counts invitations still pending at now, dropping expired
// ones from the index on the way (it is derived data, never saved).
func (st *state) pendingCount(now time.Time) int {
	n := 0
	for id, inv := range st.pending {
		if effectiveStatus(inv, now) == directory.StatusPending {
			n++
		} else {
			delete(st.pending, id)
		}
	}
	return n
}

func (st *state) setStatus(inv *invitation, status string, now time.Time) {
	st.mark(kindInvitation, inv.ID)
	inv.Status = status
	inv.ModifyTime = now
	if st.pending[inv.InviteeID] == inv {
		delete(st.pending, inv.InviteeID)
	}
}

func (st *state) directoryView() directory.Directory {
	d := *st.dir
	if ma := st.accounts[d.ManagementAccountID]; ma != nil {
		d.ManagementAccountName = ma.DisplayName
	}
	return d
}

func (a *account) view() directory.Account {
	return directory.Account{AccountID: a.ID, DisplayName: a.DisplayName, JoinTime: a.JoinTime, JoinMethod: a.JoinMethod, FolderID: a.FolderID}
}
