package dirsync

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/sase-multiaccount/backend/shared/action"
	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/port/directory"
	"github.com/sase-multiaccount/backend/shared/port/store"
	"github.com/sase-multiaccount/backend/shared/usecase/audit"
)

// The handshake check (check-handshakes, a timer of about a minute).
// AcceptHandshake is the invitee's call: ActionTrail records it in the
// invitee's account and its event never reaches the management account's
// bus. So the check asks RD for the
// handshakes (one ListHandshakesForResourceDirectory page while there are
// at most 100) and acts on those accepted since its last run: each account
// is read with GetAccount (an email target, whose UID the handshake does
// not carry, with one full ListAccounts), put in the mirror and enrolled
// when the policy covers it. When nothing was accepted since the last run
// it makes that one RD call and writes nothing.

// HandshakeOverlap is how far before its last run the check looks again,
// for clock skew between RD's ModifyTime and this clock. Handshakes in
// the overlap whose account the mirror already holds are skipped without
// an RD call.
const HandshakeOverlap = 30 * time.Second

// HandshakeCounts is what check-handshakes returns.
type HandshakeCounts struct {
	Accepted int // handshakes accepted since the last run (with HandshakeOverlap)
	Mirrored int // accounts added to the directory mirror
	Enrolled int // accounts the enrollment policy made members
}

// MarshalZerologObject writes the counts as fields of the run's log line.
func (n HandshakeCounts) MarshalZerologObject(e *zerolog.Event) {
	e.Int("accepted", n.Accepted).Int("mirrored", n.Mirrored).Int("enrolled", n.Enrolled)
}

// Generations is the store's directory generation (store.Generations): the
// handshake check keeps the directory while it has not moved.
type Generations interface {
	Generation(ctx context.Context) (int64, error)
}

// dirCache is the directory as of a generation, so that a run where nothing
// changed needs no GetResourceDirectory.
type dirCache struct {
	mu  sync.Mutex
	gen int64
	d   *directory.Directory
}

// directoryAt returns the current directory; ok is false when none exists.
func (s *Service) directoryAt(ctx context.Context) (directory.Directory, bool, error) {
	gen, err := s.generations.Generation(ctx)
	if err != nil {
		return directory.Directory{}, false, fmt.Errorf("read directory generation: %w", err)
	}
	s.dirs.mu.Lock()
	if s.dirs.d != nil && s.dirs.gen == gen {
		d := *s.dirs.d
		s.dirs.mu.Unlock()
		return d, true, nil
	}
	s.dirs.mu.Unlock()
	d, ok, err := s.current(ctx)
	if err != nil || !ok {
		return d, ok, err
	}
	s.dirs.mu.Lock()
	s.dirs.gen, s.dirs.d = gen, &d
	s.dirs.mu.Unlock()
	return d, true, nil
}

// CheckHandshakes is one run of the handshake check.
func (s *Service) CheckHandshakes(ctx context.Context, requestID string) (HandshakeCounts, error) {
	var n HandshakeCounts
	start := s.now()
	d, ok, err := s.directoryAt(ctx)
	if err != nil || !ok {
		return n, wrapHandshakes(err)
	}
	marks, err := s.mirror.MirrorMarks(ctx, d.ID)
	if err != nil {
		return n, wrapHandshakes(fmt.Errorf("read mirror marks: %w", err))
	}
	if marks.SyncTime.IsZero() {
		// A mirror never synced (a new directory, a fresh deployment) is
		// built now, by a reconciliation, rather than at the next timed
		// run: candidates and folder paths come from it. That costs one
		// full read of the directory, once.
		rn, err := s.Reconcile(ctx, requestID)
		n.Enrolled = rn.Enrolled
		if err != nil {
			return n, wrapHandshakes(fmt.Errorf("first sync of the mirror: %w", err))
		}
		return n, nil
	}
	since := marks.HandshakeTime
	if since.IsZero() {
		since = marks.SyncTime // first check after the first sync
	}
	invs, err := s.dir.ListInvitations(ctx)
	if apperr.IsCode(err, apperr.CodeNoDirectory) {
		return n, nil
	}
	if err != nil {
		return n, wrapHandshakes(fmt.Errorf("list handshakes: %w", err))
	}
	var accepted []directory.Invitation
	if !since.IsZero() {
		for _, inv := range invs {
			if inv.Status == directory.StatusAccepted && !inv.ModifyTime.Before(since.Add(-HandshakeOverlap)) {
				accepted = append(accepted, inv)
			}
		}
	}
	n.Accepted = len(accepted)
	if len(accepted) > 0 {
		joined, err := s.joinedAccounts(ctx, d, accepted)
		if err != nil {
			return n, wrapHandshakes(err)
		}
		if len(joined) > 0 {
			// The policy before the mirror: a joined account the mirror
			// holds is skipped by the next check and, unseen no more, by
			// reconciliation.
			actor := audit.Actor{AccountID: s.owner, Principal: string(action.CheckHandshakes), Role: systemRole, RequestID: requestID}
			enrolled, err := s.enrollAccounts(ctx, d, joined, enrollment{by: action.CheckHandshakes, actor: actor})
			n.Enrolled = enrolled
			if err != nil {
				return n, wrapHandshakes(err)
			}
			ms := make([]store.MirrorAccount, len(joined))
			for i, a := range joined {
				ms[i] = MirrorAccount(a)
			}
			if err := s.mirror.PutMirrorAccounts(ctx, d.ID, ms); err != nil {
				return n, wrapHandshakes(fmt.Errorf("update directory mirror: %w", err))
			}
			n.Mirrored = len(joined)
		}
	}
	if since.IsZero() && marks.SyncTime.IsZero() {
		return n, nil // the first reconciliation sets the baseline
	}
	if err := s.mirror.SetHandshakeTime(ctx, d.ID, start); err != nil {
		return n, wrapHandshakes(fmt.Errorf("record the handshake check: %w", err))
	}
	return n, nil
}

// joinedAccounts reads, from RD, the accounts of accepted handshakes that
// the mirror does not hold yet.
func (s *Service) joinedAccounts(ctx context.Context, d directory.Directory, accepted []directory.Invitation) ([]directory.Account, error) {
	m, err := s.mirror.ReadMirror(ctx, d.ID)
	if err != nil {
		return nil, fmt.Errorf("read directory mirror: %w", err)
	}
	known := make(map[string]bool, len(m.Accounts))
	for _, a := range m.Accounts {
		known[a.AccountID] = true
	}
	var out []directory.Account
	byEmail := false
	for _, inv := range accepted {
		if inv.TargetType != directory.TargetAccount {
			byEmail = true
			continue
		}
		if known[inv.TargetEntity] {
			continue
		}
		acc, inRD, err := s.lookupAccount(ctx, inv.TargetEntity)
		if err != nil {
			return nil, err
		}
		if inRD { // else it joined and left again
			known[acc.AccountID] = true
			out = append(out, acc)
		}
	}
	if byEmail {
		all, err := s.dir.ListAccounts(ctx)
		if err != nil {
			return nil, fmt.Errorf("list accounts: %w", err)
		}
		for _, a := range all {
			if !known[a.AccountID] {
				known[a.AccountID] = true
				out = append(out, a)
			}
		}
	}
	return out, nil
}

func wrapHandshakes(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("check handshakes: %w", err)
}
