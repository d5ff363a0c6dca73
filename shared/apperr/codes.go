package apperr

// Code is an error code: the Code of an error response (docs/API.md) and of
// a per-item failure. Every code the service returns is declared here; the
// strings are the wire format and never change.
type Code string

// Codes of every function.
const (
	CodeInternal        Code = "InternalError"
	CodeMalformed       Code = "MalformedRequest"
	CodeUnauthenticated Code = "Unauthenticated"
	CodeForbiddenRole   Code = "Forbidden.Role"
	// CodeForbiddenAccess: the account's role allows the action, the
	// person's access role does not (docs/API.md "People").
	CodeForbiddenAccess  Code = "Forbidden.AccessRole"
	CodeMethodNotAllowed Code = "MethodNotAllowed"
	CodeTooLarge         Code = "RequestEntityTooLarge"
	CodeThrottling       Code = "Throttling"
	CodeUnavailable      Code = "ServiceUnavailable"
	// CodePermission: a cloud service denied the function's role a call
	// (RAM); the message names the permission and where the role is defined.
	CodePermission Code = "ServiceUnavailable.Permission"

	// CodeNoFunction is the local server's answer to a path that names no
	// function.
	CodeNoFunction Code = "NotFound"
)

// Codes used by the directory and member ports.
const (
	CodeNoDirectory        Code = "EntityNotExists.ResourceDirectory"
	CodeDirectoryExists    Code = "EntityAlreadyExists.ResourceDirectory"
	CodeMemberNotFound     Code = "EntityNotExists.Member"
	CodeInvitationNotFound Code = "EntityNotExists.Invitation"
	CodeAccountNotFound    Code = "EntityNotExists.Account"
	CodeDelegatedNotFound  Code = "EntityNotExists.DelegatedAdministrator"
	CodeDelegatedExists    Code = "Conflict.DelegatedAdministratorExists"
	CodeVersionConflict    Code = "Conflict.Version"
	CodeInvitationStatus   Code = "Conflict.InvitationStatus"
	CodeFolderNotFound     Code = "EntityNotExists.Folder"
	CodeGrantNotFound      Code = "EntityNotExists.Grant"
	// CodePermanentAdmin: a root identity or a SASE_ADMINISTRATORS entry is
	// an Administrator for good; no grant changes that.
	CodePermanentAdmin Code = "Conflict.PermanentAdministrator"

	// Folder refusals of CreateFolder. RD answers a sibling's name with
	// 400 InvalidParameter.Folder.Name.AlreadyUsed; the port calls it a
	// Conflict with this code.
	CodeFolderExists Code = "EntityAlreadyExists.Folder" // a sibling has the name
	CodeFolderDepth  Code = "LimitExceeded.Folder.Depth" // more than 5 levels below the root

	// CodeTrustedService is the Conflict code for RD refusing SASE's
	// service principal (InvalidParameter.ServicePrincipal): SASE is not a
	// trusted service of the directory, or the principal is misconfigured.
	CodeTrustedService Code = "Conflict.TrustedService"

	// Per-target invitation failures a directory.Service returns.
	CodeAlreadyInDirectory Code = "AlreadyInDirectory" // target already in this directory (or is its MA)
	CodeInvitationPending  Code = "InvitationPending"  // a pending invitation for the target exists
	CodeLimitExceeded      Code = "LimitExceeded"      // member or invitation quota reached
)

// Resource Directory refusals caused by the state of an account (the
// directory port's EnableRefusals and InviteRefusals pair each with RD's
// code and advice; docs/API.md "Resource Directory refusals").
const (
	// enable-directory (409): the owner account cannot be a management account yet.
	CodeEnterpriseVerificationRequired Code = "Conflict.EnterpriseVerificationRequired" // EnterpriseRealNameVerificationError
	CodeEnterpriseNameRequired         Code = "Conflict.EnterpriseNameRequired"         // Invalid.EnterpriseName
	CodeSecureMobilePhoneRequired      Code = "Conflict.SecureMobilePhoneRequired"      // MissingSecureMobilePhone
	CodeSecurityInfoRequired           Code = "Conflict.SecurityInfoRequired"           // MissingSecurityInfo
	CodeOwnerAccountType               Code = "Conflict.AccountTypeNotSupported"        // Invalid.AccountType
	CodeAccountSite                    Code = "Conflict.AccountSiteNotSupported"        // NotSupport.Account.Site
	// CodeEnablePrecondition: any other 409 of EnableResourceDirectory; the
	// message quotes RD's code and message.
	CodeEnablePrecondition Code = "Conflict.DirectoryPrecondition"

	// Per-target invitation failures.
	CodeInAnotherDirectory    Code = "InAnotherDirectory"            // NotSupport.AccountInAnotherResourceDirectory
	CodeLegalEntityMismatch   Code = "LegalEntityMismatch"           // LegalEntityMismatch
	CodeTargetAccountType     Code = "AccountTypeNotSupported"       // Invalid.AccountType
	CodeInvitationTargetLimit Code = "InvitationTargetLimitExceeded" // LimitExceeded.Invitation.InvalidTarget
)

// Per-item failures of add-members.
const (
	CodeManagementAccount Code = "ManagementAccount" // the management account cannot be a member
	CodeNotInDirectory    Code = "NotInDirectory"    // the account is not in the directory
)

// Codes RD returns that the port has no constant for (the local simulation
// of RD returns them; the local-only actions are not behind the port).
const (
	// CodeDenyTrustedService: RemoveCloudAccount of a delegated administrator.
	CodeDenyTrustedService Code = "Deny.TrustedService"
	// CodeDirectoryNotEmpty: DestroyResourceDirectory while members remain.
	CodeDirectoryNotEmpty Code = "DeleteConflict.ResourceDirectory.Account"
)

// Refusals of the directory Organizer's CreateResourceAccount (no function
// calls it; the local helpers do).
const (
	// CodeDisplayNameExists: another account of the directory has the
	// display name (RD's InvalidParameter.Account.DisplayName.AlreadyUsed).
	CodeDisplayNameExists Code = "Conflict.DisplayNameExists"
	// CodeAccountNameExists: the login-name prefix is taken (RD's
	// EntityAlreadyExists.ResourceDirectory.Account).
	CodeAccountNameExists Code = "Conflict.AccountNameExists"
)

// MissingParameter is the code for a required request parameter that is
// absent: MissingParameter.<name>.
func MissingParameter(name string) Code { return Code("MissingParameter." + name) }

// InvalidParameter is the code for a request parameter with a bad value:
// InvalidParameter.<name>.
func InvalidParameter(name string) Code { return Code("InvalidParameter." + name) }

// Codes of following membership (docs/API.md "Following membership").
const (
	CodeWebhookNotFound Code = "EntityNotExists.Webhook"
	CodeWebhookLimit    Code = "LimitExceeded.Webhook" // at most store.MaxWebhooks per directory
	// CodeWebhookBusy: another deliverer holds the webhook's lease, or its
	// settings changed under a deliverer. Internal: no client sees it.
	CodeWebhookBusy Code = "Conflict.WebhookBusy"
)
