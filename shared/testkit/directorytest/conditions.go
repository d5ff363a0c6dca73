package directorytest

import (
	"strings"
	"testing"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/local/simulation"
	"github.com/sase-multiaccount/backend/shared/port/directory"
)

// testEnableRefused: an owner RD refuses (not enterprise-verified, no
// secure phone, …) gets the port's Conflict for that refusal with advice
// that says what to do, and no directory is created; the first condition
// RD checks wins when there are several.
func (s *suite) testEnableRefused(t *testing.T) {
	for _, r := range directory.EnableRefusals {
		t.Run(r.RDCode, func(t *testing.T) {
			e := s.setup(t, func(o *simulation.Options) { o.OwnerConditions = []string{r.RDCode} })
			_, err := e.svc.EnableDirectory(e.ctx)
			ae := wantErr(t, "enable", err, apperr.KindConflict, r.Code)
			if ae.Message != r.Advice {
				t.Errorf("message %q, want the advice %q", ae.Message, r.Advice)
			}
			_, err = e.svc.GetDirectory(e.ctx)
			wantErr(t, "after a refused enable", err, apperr.KindNotFound, apperr.CodeNoDirectory)
		})
	}
	t.Run("in another directory", func(t *testing.T) {
		e := s.setup(t, func(o *simulation.Options) { o.OwnerConditions = []string{simulation.CodeInAnotherDirectory} })
		_, err := e.svc.EnableDirectory(e.ctx)
		wantErr(t, "enable", err, apperr.KindConflict, apperr.CodeDirectoryExists)
	})
	t.Run("several", func(t *testing.T) {
		e := s.setup(t, func(o *simulation.Options) {
			o.OwnerConditions = []string{"MissingSecureMobilePhone", "EnterpriseRealNameVerificationError"}
		})
		_, err := e.svc.EnableDirectory(e.ctx)
		wantErr(t, "enable", err, apperr.KindConflict, "Conflict.EnterpriseVerificationRequired")
	})
}

// testInviteRefused: targets RD refuses get per-target Conflicts naming the
// target; the directory and other targets are unaffected.
func (s *suite) testInviteRefused(t *testing.T) {
	conds := map[string]string{}
	for i, r := range directory.InviteRefusals {
		conds[uid(30+i)] = r.RDCode
	}
	e := s.enabled(t, func(o *simulation.Options) { o.TargetConditions = conds })
	for i, r := range directory.InviteRefusals {
		_, err := e.svc.Invite(e.ctx, uid(30+i), directory.TargetAccount, "")
		ae := wantErr(t, r.RDCode, err, apperr.KindConflict, r.Code)
		if !strings.Contains(ae.Message, uid(30+i)) {
			t.Errorf("%s: message %q should name the target", r.RDCode, ae.Message)
		}
	}
	inv := e.invite(uid(1))
	list := e.invitations()
	if len(list) != 1 || list[0].ID != inv.ID {
		t.Fatalf("invitations %+v: only the eligible target is invited", list)
	}
}
