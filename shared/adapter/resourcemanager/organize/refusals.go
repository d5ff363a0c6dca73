package organize

import (
	"strings"

	rdadapter "github.com/sase-multiaccount/backend/shared/adapter/resourcemanager"
	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/port/directory"
)

// createFolderFailed maps a CreateFolder refusal to the port's vocabulary.
func createFolderFailed(o call, err error, name, parentID string) error {
	switch code := rdadapter.RDCode(err); {
	case code == codeFolderNotFound || code == codeBadParent:
		return rdadapter.FolderNotFound(err, parentID)
	case code == codeFolderNameUsed || code == codeFolderExists:
		return apperr.Wrap(err, apperr.KindConflict, apperr.CodeFolderExists,
			"A folder named %q already exists there.", name)
	case code == "MissingParameter.Folder.Name":
		return apperr.Wrap(err, apperr.KindInvalid, apperr.MissingParameter("FolderName"), "The folder name is required.")
	case strings.HasPrefix(code, folderNamePrefix):
		return apperr.Wrap(err, apperr.KindInvalid, apperr.InvalidParameter("FolderName"),
			"%s refuses the folder name %q: 1 to 24 characters, Chinese characters, English letters, digits, _ . and -.", service, name)
	case code == codeFolderDepth:
		return apperr.Wrap(err, apperr.KindConflict, apperr.CodeFolderDepth,
			"%s allows at most %d levels of folders below the root.", service, directory.MaxFolderDepth)
	case code == codeFolderQuota:
		return apperr.Wrap(err, apperr.KindConflict, apperr.CodeLimitExceeded,
			"The resource directory has reached its folder quota. Delete a folder or ask for a higher quota.")
	}
	return rdadapter.Fail(o.action, o.write, err)
}

// createAccountFailed maps a CreateResourceAccount refusal to the port's
// vocabulary. The 409s about payers and financial relationships (RD
// documents more than a dozen) are the accounts' state: a Conflict that
// quotes RD.
func createAccountFailed(o call, err error, in directory.NewAccount, prefix string) error {
	switch code := rdadapter.RDCode(err); {
	case code == codeFolderNotFound || code == codeBadParent:
		return rdadapter.FolderNotFound(err, in.FolderID)
	case code == codeMemberQuota:
		return apperr.Wrap(err, apperr.KindConflict, apperr.CodeLimitExceeded,
			"The resource directory has reached its member quota. Remove members or ask for a higher quota.")
	case code == codeDisplayNameUsed:
		return apperr.Wrap(err, apperr.KindConflict, apperr.CodeDisplayNameExists,
			"Another account of the resource directory is named %q; display names are unique.", in.DisplayName)
	case code == codeAccountNameUsed:
		return apperr.Wrap(err, apperr.KindConflict, apperr.CodeAccountNameExists,
			"The account name prefix %q is taken in this resource directory; choose another.", prefix)
	case code == "MissingParameter.Account.DisplayName":
		return apperr.Wrap(err, apperr.KindInvalid, apperr.MissingParameter("DisplayName"), "The display name is required.")
	case strings.HasPrefix(code, displayNamePrefix):
		return apperr.Wrap(err, apperr.KindInvalid, apperr.InvalidParameter("DisplayName"),
			"%s refuses the display name %q: 2 to 50 characters, Chinese characters, English letters, digits, spaces, _ . and -.", service, in.DisplayName)
	case strings.HasPrefix(code, accountNamePrefixCode):
		return apperr.Wrap(err, apperr.KindInvalid, apperr.InvalidParameter("AccountNamePrefix"),
			"%s refuses the account name prefix %q: 2 to 37 English letters, digits, _ . and -, starting and ending with a letter or digit, no two of _ . - in a row.", service, prefix)
	case code == codeSiteNotSupported:
		return apperr.Wrap(err, apperr.KindConflict, apperr.CodeAccountSite,
			"%s does not let this account's site (China or international) create member accounts: %s", service, rdadapter.RDMessage(err))
	}
	if rdadapter.Status(err) == 409 {
		return apperr.Wrap(err, apperr.KindConflict, apperr.CodeEnablePrecondition,
			"%s refused to create the account (%s): %s Fix what it names in the Alibaba Cloud console, then try again.",
			service, rdadapter.RDCode(err), rdadapter.RDMessage(err))
	}
	return rdadapter.Fail(o.action, o.write, err)
}
