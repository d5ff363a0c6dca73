package simulation

import (
	"slices"
	"strings"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/port/directory"
	"github.com/sase-multiaccount/backend/shared/validate"
)

// CodeInAnotherDirectory is the RD code for an owner that already belongs
// to another resource directory (EnableResourceDirectory answers it with
// 409); the port reports it as apperr.CodeDirectoryExists.
const CodeInAnotherDirectory = "NotSupport.AccountInAnotherResourceDirectory"

// OwnerConditionCodes are the values Options.OwnerConditions accepts, in the
// order the Sim checks them.
func OwnerConditionCodes() []string {
	out := []string{CodeInAnotherDirectory}
	for _, r := range directory.EnableRefusals {
		out = append(out, r.RDCode)
	}
	return out
}

// TargetConditionCodes are the values Options.TargetConditions accepts.
func TargetConditionCodes() []string {
	out := make([]string, len(directory.InviteRefusals))
	for i, r := range directory.InviteRefusals {
		out[i] = r.RDCode
	}
	return out
}

// checkConditions validates the owner and target conditions of opts and
// keys the target conditions by invitee UID (an email becomes the UID the
// Sim gives its account), so a mistyped code fails at Open rather than
// silently making an eligible account.
func checkConditions(opts *Options) error {
	known := OwnerConditionCodes()
	for _, c := range opts.OwnerConditions {
		if !slices.Contains(known, c) {
			return apperr.Invalid("OwnerConditions", "Owner condition %q is not one the simulation knows; use one of %s.",
				c, strings.Join(known, ", "))
		}
	}
	if len(opts.TargetConditions) == 0 {
		return nil
	}
	targets := TargetConditionCodes()
	byID := make(map[string]string, len(opts.TargetConditions))
	for target, c := range opts.TargetConditions {
		if !slices.Contains(targets, c) {
			return apperr.Invalid("TargetConditions", "Target condition %q (for %s) is not one the simulation knows; use one of %s.",
				c, target, strings.Join(targets, ", "))
		}
		id := target
		switch {
		case validate.IsAccountID(target):
		case isEmail(target):
			id = EmailAccountID(target)
		default:
			return apperr.Invalid("TargetConditions", "Target %q is neither an account UID (16 digits) nor an email address.", target)
		}
		byID[id] = c
	}
	opts.TargetConditions = byID
	return nil
}

// ownerRefusal is RD's refusal of EnableResourceDirectory for an owner in
// one of Options.OwnerConditions, in the port's vocabulary (the wire
// server turns it back into RD's code).
func (s *Sim) ownerRefusal() error {
	for _, c := range OwnerConditionCodes() {
		if !slices.Contains(s.opts.OwnerConditions, c) {
			continue
		}
		if c == CodeInAnotherDirectory {
			return apperr.Conflict(apperr.CodeDirectoryExists,
				"Account %s is a member of another resource directory, so it cannot enable its own. Leave that directory first.",
				s.opts.OwnerAccountID)
		}
		r, _ := directory.EnableRefusalByRDCode(c)
		return apperr.Conflict(r.Code, "%s", r.Advice)
	}
	return nil
}

// targetRefusal is RD's refusal of an invitation to inviteeID configured in
// Options.TargetConditions, nil when the target is eligible.
func (s *Sim) targetRefusal(targetEntity, inviteeID string) error {
	c, ok := s.opts.TargetConditions[inviteeID]
	if !ok {
		return nil
	}
	r, _ := directory.InviteRefusalByRDCode(c)
	return apperr.Conflict(r.Code, "%s: %s", targetEntity, r.Advice)
}
