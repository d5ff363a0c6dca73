package simulation

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sase-multiaccount/backend/shared/validate"

	"github.com/sase-multiaccount/backend/shared/apperr"
)

func errNoDirectory() error {
	return apperr.NotFound(apperr.CodeNoDirectory,
		"No Resource Directory is enabled for this account. Enable the Resource Directory first (setup step 1).")
}

func errAccountNotInDirectory(id string) error {
	return apperr.NotFound(apperr.CodeAccountNotFound, "Account %s is not in the Resource Directory.", id)
}

func errInvitationNotFound(id string) error {
	return apperr.NotFound(apperr.CodeInvitationNotFound, "Invitation %q does not exist in this Resource Directory.", id)
}

func errInvitationStatus(inv *invitation, now time.Time) error {
	return apperr.Conflict(apperr.CodeInvitationStatus,
		"Invitation %s is %s, not Pending; only a pending invitation can be accepted, declined or cancelled.",
		inv.ID, effectiveStatus(inv, now))
}

func errDirectoryFull(max int) error {
	return apperr.Conflict(apperr.CodeLimitExceeded,
		"The Resource Directory already has %d accounts, its maximum. Remove an account or raise the quota first.", max)
}

func checkAccountID(id string) error {
	if id == "" {
		return apperr.Missing("AccountId")
	}
	if !validate.IsAccountID(id) {
		return apperr.Invalid("AccountId", "Account ID %q is not an Alibaba Cloud account UID (16 digits).", id)
	}
	return nil
}

func checkDisplayName(param, name string) error {
	if strings.TrimSpace(name) == "" {
		return apperr.Missing(param)
	}
	if n := utf8.RuneCountInString(name); n > maxDisplayNameLen {
		return apperr.Invalid(param, "The display name is %d characters long; at most %d are allowed.", n, maxDisplayNameLen)
	}
	if !utf8.ValidString(name) || strings.ContainsFunc(name, unicode.IsControl) {
		return apperr.Invalid(param, "The display name must be valid text without control characters.")
	}
	return nil
}
