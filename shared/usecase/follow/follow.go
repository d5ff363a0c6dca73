// Package follow is following membership (docs/DESIGN.md §13): one member
// by UID, the change feed read from a cursor, and webhooks — their
// settings, and the delivery of the feed to them. It imports no cloud SDK:
// the store and the outbound HTTP client come in through small interfaces.
package follow

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/sase-multiaccount/backend/shared/pagetoken"
	"github.com/sase-multiaccount/backend/shared/port/directory"
	"github.com/sase-multiaccount/backend/shared/port/store"
	"github.com/sase-multiaccount/backend/shared/usecase/audit"
)

// Store is what following membership reads and writes.
type Store interface {
	GetMember(ctx context.Context, dirID, accountID string) (store.Member, error)
	MirrorMarks(ctx context.Context, dirID string) (store.MirrorMarks, error)
	ReadMirror(ctx context.Context, dirID string) (store.Mirror, error)
	AppendAudit(ctx context.Context, events []store.AuditEvent) error
	store.Feed
	store.Webhooks
}

// Sender makes the requests to webhook URLs (shared/adapter/outbound):
// the URL rules, and the POST itself with its bounded time and read.
type Sender interface {
	CheckURL(ctx context.Context, url string) error
	Post(ctx context.Context, url string, header http.Header, body []byte) (status int, err error)
}

// Auditor makes audit records (audit.Recorder).
type Auditor interface {
	With(dirID string, actor audit.Actor, entry func(before, after store.Member) audit.Entry) store.AuditOf
}

// Service serves following membership for one deployment.
type Service struct {
	Store  Store
	Sender Sender
	Audit  Auditor
	Tokens *pagetoken.Codec
	Seal   *Sealer
	Now    func() time.Time
	Log    zerolog.Logger

	paths folderPaths // the instance's copy of the folder paths (paths.go)
}

// Scope is the directory a request acts on and who acts.
type Scope struct {
	Directory directory.Directory
	Actor     audit.Actor
}

// managesAll reports whether the actor's account is the management
// account, which manages every webhook of the directory; the delegated
// administrator manages its own.
func (sc Scope) managesAll() bool { return sc.Actor.AccountID == sc.Directory.ManagementAccountID }

// record is the audit record of one change a follow use case makes.
func (s *Service) record(sc Scope, e audit.Entry) store.AuditEvent {
	return s.Audit.With(sc.Directory.ID, sc.Actor, func(store.Member, store.Member) audit.Entry { return e })(store.Member{}, store.Member{})
}

// folderPaths maps account UIDs to folder paths from the directory
// mirror, re-checked against the mirror's version at most once per
// pathsMaxAge, so a warm instance answers get-member with one store read.
type folderPaths struct {
	mu      sync.Mutex
	dir     string
	version int64
	checked time.Time
	paths   map[string]string
}

// pathsMaxAge is how old the copy's check may be when reused.
const pathsMaxAge = time.Second
