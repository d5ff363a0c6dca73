// Package member holds the member use cases of step 4 and member management:
// list candidates, add, list, remark, delete. It imports no cloud SDK: the
// store and the directory come in through small interfaces.
package member

import (
	"context"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/pagetoken"
	"github.com/sase-multiaccount/backend/shared/port/directory"
	"github.com/sase-multiaccount/backend/shared/port/store"
	"github.com/sase-multiaccount/backend/shared/usecase/audit"
)

// MaxBatch is the most members one add or delete request may name.
const MaxBatch = 100

// scanPage is how many rows a full scan (keyword search, candidates) reads per store call.
const scanPage = 1000

// Accounts is what member use cases read from Resource Directory: a list
// that may be cached for a few seconds (accountcache), and a fresh read.
type Accounts interface {
	ListAccounts(ctx context.Context) ([]directory.Account, error)
	RefreshAccounts(ctx context.Context) ([]directory.Account, error)
}

// Folders is the directory's folder tree (directory.Service.ListFolders).
type Folders interface {
	ListFolders(ctx context.Context) ([]directory.Folder, error)
}

// Auditor records the changes member use cases make (audit.Recorder).
type Auditor interface {
	Record(ctx context.Context, dirID string, actor audit.Actor, entries ...audit.Entry) error
	// With makes the record of each change a store call applies; the store
	// writes it in the same unit as the change.
	With(dirID string, actor audit.Actor, entry func(before, after store.Member) audit.Entry) store.AuditOf
}

// Mirror is the store's directory mirror as member use cases read it
// (store.DirectoryMirror).
type Mirror interface {
	ReadMirror(ctx context.Context, dirID string) (store.Mirror, error)
	MirrorMarks(ctx context.Context, dirID string) (store.MirrorMarks, error)
	MemberIDs(ctx context.Context, dirID string) ([]string, error)
	ReadMirrorAccount(ctx context.Context, dirID, accountID string) (store.MirrorAccount, bool, error)
	ReadMirrorFolders(ctx context.Context, dirID string) ([]store.MirrorFolder, error)
}

// Changes is the store's membership feed (store.Feed): keyword search
// follows it to bring its copy of the members up to date.
type Changes interface {
	ListChanges(ctx context.Context, dirID string, after int64, limit int) ([]store.Change, int64, bool, error)
	FeedHead(ctx context.Context, dirID string) (int64, error)
}

// AccountLookup reads one account from Resource Directory
// (directory.Service.GetAccount): NotFound CodeAccountNotFound when absent.
type AccountLookup interface {
	GetAccount(ctx context.Context, accountID string) (directory.Account, error)
}

// Deps are what a Service works with. New requires every one of them;
// tests pass fakes.
type Deps struct {
	Store    store.Members
	Feed     Changes
	Accounts Accounts
	Folders  Folders
	// Mirror serves candidates (two store reads, no RD call) once it has
	// been synced; Lookup then confirms, with one GetAccount, an account
	// add-members names that the mirror lacks.
	Mirror Mirror
	Lookup AccountLookup
	Audit  Auditor
	Tokens *pagetoken.Codec
	Now    func() time.Time
	Log    zerolog.Logger
}

// Service runs the member use cases for one deployment.
type Service struct {
	store    store.Members
	feed     Changes
	accounts Accounts
	folders  Folders
	mirror   Mirror
	lookup   AccountLookup
	audit    Auditor
	tokens   *pagetoken.Codec
	now      func() time.Time
	log      zerolog.Logger

	snaps snapshots     // keyword search (snapshot.go)
	cands candidateSnap // candidates from the mirror (candidates.go)
}

// New is the Service over d. A missing dependency is a wiring mistake, so
// it panics naming every one.
func New(d Deps) *Service {
	var missing []string
	for _, dep := range []struct {
		name   string
		absent bool
	}{
		{"Store", d.Store == nil}, {"Feed", d.Feed == nil}, {"Accounts", d.Accounts == nil}, {"Folders", d.Folders == nil},
		{"Mirror", d.Mirror == nil}, {"Lookup", d.Lookup == nil}, {"Audit", d.Audit == nil},
		{"Tokens", d.Tokens == nil}, {"Now", d.Now == nil},
	} {
		if dep.absent {
			missing = append(missing, dep.name)
		}
	}
	if len(missing) > 0 {
		panic("member.New: missing " + strings.Join(missing, ", "))
	}
	return &Service{store: d.Store, feed: d.Feed, accounts: d.Accounts, folders: d.Folders, mirror: d.Mirror, lookup: d.Lookup,
		audit: d.Audit, tokens: d.Tokens, now: d.Now, log: d.Log}
}

// Scope is the directory a request acts on and who acts.
type Scope struct {
	Directory directory.Directory
	Actor     audit.Actor
}

// Member is a member as the API shows it.
type Member struct {
	AccountID   string `json:"AccountId"`
	AccountName string
	AddTime     string
	Remark      string
	AddedBy     string
	Version     int64
	FolderPath  string // where the account is in the directory ("" until the mirror knows)
}

func view(m store.Member) Member {
	return Member{
		AccountID: m.AccountID, AccountName: m.AccountName, AddTime: audit.FormatTime(m.AddTime),
		Remark: m.Remark, AddedBy: m.AddedBy, Version: m.Version,
	}
}

// failure turns a per-item store error into a code and message for the caller.
func failure(err error) (apperr.Code, string) {
	if e, ok := apperr.As(err); ok && e.Kind != apperr.KindInternal {
		return e.Code, e.Message
	}
	return apperr.CodeInternal, "The member could not be written; try again."
}

// listPosition is where a page of list-members or list-candidates ends,
// carried in the page token.
type listPosition struct {
	AddTimeMs int64  `json:"t,omitempty"`
	AccountID string `json:"a"`
}

// scan visits every member of the directory in q's order.
func (s *Service) scan(ctx context.Context, dirID string, q store.ListQuery, visit func(store.Member)) error {
	for {
		ms, more, err := s.store.ListMembers(ctx, dirID, q)
		if err != nil {
			return err
		}
		for _, m := range ms {
			visit(m)
		}
		if !more || len(ms) == 0 {
			return nil
		}
		last := ms[len(ms)-1]
		q.After = &store.Position{AddTime: last.AddTime, AccountID: last.AccountID}
	}
}
