package directory

import "github.com/sase-multiaccount/backend/shared/apperr"

// Refusal is a documented Resource Directory refusal (HTTP 409) caused by
// the state of an account rather than by the request: the port code the
// functions answer with, RD's own code, and what the user does about it.
// The SDK adapter maps RDCode to Code; the simulation can be configured to
// refuse with any of them (so a first run on an unverified account can be
// rehearsed locally), and the RD wire server maps Code back to RDCode.
// One table serves all three so the advice a console user reads is the same
// locally and in the cloud.
type Refusal struct {
	Code   apperr.Code // port (API) error code
	RDCode string      // Resource Directory's error code
	Advice string      // what is wrong and what to do, for console users
}

// EnableRefusals are EnableResourceDirectory's documented 409 answers that
// say the owner account cannot become a management account yet (the
// ResourceDirectoryMaster 2022-04-19 and ResourceManager 2020-03-31 error
// tables). EntityAlreadyExists.ResourceDirectory
// and NotSupport.AccountInAnotherResourceDirectory are not here: both mean a
// directory already exists, and the port answers them with
// apperr.CodeDirectoryExists.
var EnableRefusals = []Refusal{
	{
		Code:   apperr.CodeEnterpriseVerificationRequired,
		RDCode: "EnterpriseRealNameVerificationError",
		Advice: "The account has not passed enterprise real-name verification, which Resource Directory requires of a management account " +
			"(individual verification is not enough). Complete enterprise real-name verification for the account in the Alibaba Cloud console, then enable the directory again.",
	},
	{
		Code:   apperr.CodeEnterpriseNameRequired,
		RDCode: "Invalid.EnterpriseName",
		Advice: "The account has no enterprise name. Set the enterprise name in the account's information in the Alibaba Cloud console, then enable the directory again.",
	},
	{
		Code:   apperr.CodeSecureMobilePhoneRequired,
		RDCode: "MissingSecureMobilePhone",
		Advice: "The account has no secure mobile phone bound. Bind a secure mobile phone in the account's security settings in the Alibaba Cloud console, then enable the directory again.",
	},
	{
		Code:   apperr.CodeSecurityInfoRequired,
		RDCode: "MissingSecurityInfo",
		Advice: "The account's security information is incomplete. Complete it (secure mobile phone and email) in the account's security settings in the Alibaba Cloud console, then enable the directory again.",
	},
	{
		Code:   apperr.CodeOwnerAccountType,
		RDCode: "Invalid.AccountType",
		Advice: "Resource Directory does not accept this type of account as a management account. Deploy the functions in an enterprise-verified Alibaba Cloud account that is not itself a directory member, and enable the directory from there.",
	},
	{
		Code:   apperr.CodeAccountSite,
		RDCode: "NotSupport.Account.Site",
		Advice: "Resource Directory cannot be enabled for an account registered on this site (China site versus international site). Use an account registered on a supported site, or enable the directory in that site's console.",
	},
}

// InviteRefusals are InviteAccountToResourceDirectory's documented 409
// answers about one target account. The port reports them as per-target
// failures: they do not fail a whole invite-accounts request.
var InviteRefusals = []Refusal{
	{
		Code:   apperr.CodeInAnotherDirectory,
		RDCode: "NotSupport.AccountInAnotherResourceDirectory",
		Advice: "The account belongs to another resource directory (as a member or as its management account). It must leave that directory before it can be invited.",
	},
	{
		Code:   apperr.CodeLegalEntityMismatch,
		RDCode: "LegalEntityMismatch",
		Advice: "The account's real-name entity does not match the management account's, which Resource Directory requires for this invitation. Invite an account verified under the same enterprise, or change the account's verification first.",
	},
	{
		Code:   apperr.CodeTargetAccountType,
		RDCode: "Invalid.AccountType",
		Advice: "Resource Directory cannot invite this type of account. Invite an Alibaba Cloud account (not a RAM user or an account of a type RD refuses).",
	},
	{
		Code:   apperr.CodeInvitationTargetLimit,
		RDCode: "LimitExceeded.Invitation.InvalidTarget",
		Advice: "Resource Directory has refused too many invitations to this target and accepts no more for now. Check that the account ID or email is the intended one and that the account can join a directory, then try again later.",
	},
}

// EnableRefusalByRDCode returns the EnableRefusals entry for RD's code.
func EnableRefusalByRDCode(rdCode string) (Refusal, bool) { return find(EnableRefusals, rdCode, "") }

// EnableRefusalByCode returns the EnableRefusals entry for a port code.
func EnableRefusalByCode(code apperr.Code) (Refusal, bool) { return find(EnableRefusals, "", code) }

// InviteRefusalByRDCode returns the InviteRefusals entry for RD's code.
func InviteRefusalByRDCode(rdCode string) (Refusal, bool) { return find(InviteRefusals, rdCode, "") }

// InviteRefusalByCode returns the InviteRefusals entry for a port code.
func InviteRefusalByCode(code apperr.Code) (Refusal, bool) { return find(InviteRefusals, "", code) }

// find looks an entry up by RD code (when rdCode is set) or by port code.
func find(list []Refusal, rdCode string, code apperr.Code) (Refusal, bool) {
	for _, r := range list {
		if (rdCode != "" && r.RDCode == rdCode) || (rdCode == "" && r.Code == code) {
			return r, true
		}
	}
	return Refusal{}, false
}
