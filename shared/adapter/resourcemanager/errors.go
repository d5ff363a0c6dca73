package resourcemanager

import (
	"context"
	"errors"
	"net"
	"strings"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/port/directory"
	"github.com/sase-multiaccount/backend/shared/redact"
)

// service is how RD is named in messages shown to console users.
const service = "Resource Directory"

// RD error codes the adapter maps (as RD's API metadata documents them:
// shared/local/rdwire/rdmeta/testdata/rd-api.json).
const (
	codeNotInUse            = "ResourceDirectoryNotInUse"         // GetResourceDirectory: no RD
	codeNoRD                = "EntityNotExists.ResourceDirectory" // other operations: no RD
	codeRDExists            = "EntityAlreadyExists.ResourceDirectory"
	codeInAnotherRD         = "NotSupport.AccountInAnotherResourceDirectory"
	codeHandshakeExists     = "EntityAlreadyExists.Handshake"
	codeAlreadyExistsPrefix = "EntityAlreadyExists."
	codeLimitPrefix         = "LimitExceeded."
	codeMemberQuota         = "LimitExceeded.Account"        // the directory's member quota
	codeInvitationRate      = "LimitExceeded.InvitationRate" // the directory's daily invitations
	// codeConcurrentCall: RD refused a write because another change to the
	// directory is in progress (documented with HTTP 429 in 2022-04-19;
	// Terraform's alicloud provider retries it on the RD writes). Nothing
	// was applied, so it is retried like throttling, writes included,
	// whatever status it comes with.
	codeConcurrentCall     = "ConcurrentCallNotSupported"
	codeHandshakeNotFound  = "EntityNotExists.Handshake"
	codeHandshakeInvalidID = "InvalidParameter.HandshakeId"
	codeHandshakeStatus    = "HandshakeStatusMismatch"
	codeAccountNotFound    = "EntityNotExists.Account"
	codeAlreadyRegistered  = "AccountAlreadyRegistered"
	codeNotRegistered      = "AccountNotRegistered"
	codeDelegatedExceeded  = "DelegatedAccountNumberExceeded"
	codeCannotRegisterMA   = "CannotRegisterMasterAsDelegatedAdministrator"
	codeBadPrincipal       = "InvalidParameter.ServicePrincipal"
	codeThrottlingPrefix   = "Throttling"
)

// rdError returns the RD service error in err's chain.
func rdError(err error) (*sdkerrors.ServerError, bool) {
	var se *sdkerrors.ServerError
	if errors.As(err, &se) {
		return se, true
	}
	return nil, false
}

// rdCode is the RD error code of err, or "".
func rdCode(err error) string {
	if se, ok := rdError(err); ok {
		return se.ErrorCode()
	}
	return ""
}

func isServerError(err error) bool {
	_, ok := rdError(err)
	return ok
}

type errClass int

const (
	classOther errClass = iota
	classThrottled
	classServer      // 5xx answer
	classTransport   // no answer: refused, reset, timeout
	classCredentials // the key or token was rejected
	classCanceled    // the caller's ctx ended
)

func classify(err error) errClass {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return classCanceled
	}
	if se, ok := rdError(err); ok {
		code := se.ErrorCode()
		switch {
		case strings.HasPrefix(code, codeThrottlingPrefix) || code == codeConcurrentCall || se.HttpStatus() == 429:
			return classThrottled
		case code == "SignatureDoesNotMatch" || code == "IncompleteSignature" ||
			strings.HasPrefix(code, "InvalidAccessKeyId") || strings.HasPrefix(code, "InvalidSecurityToken"):
			return classCredentials
		case se.HttpStatus() >= 500:
			return classServer
		}
		return classOther
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return classTransport
	}
	var ce *sdkerrors.ClientError
	if errors.As(err, &ce) && ce.ErrorCode() == sdkerrors.TimeoutErrorCode {
		return classTransport
	}
	return classOther
}

// fail maps an RD error that the calling method did not handle itself to
// the port's error vocabulary: throttling 429, RD down 503, no directory
// 404, everything else (permissions, credentials, protocol) 500 with a
// message an operator can act on. The SDK error stays in the chain for logs.
func fail(o op, err error) error {
	if _, ok := apperr.As(err); ok {
		return err
	}
	code := rdCode(err)
	switch classify(err) {
	case classThrottled:
		if code == codeConcurrentCall {
			return apperr.Wrap(err, apperr.KindThrottled, apperr.CodeThrottling,
				"%s kept refusing %s because another change to the directory was in progress; nothing was changed. Try again in a few seconds.",
				service, describe(o.action))
		}
		return apperr.Throttled(service, err)
	case classServer, classTransport, classCanceled:
		if o.write {
			return apperr.Wrap(err, apperr.KindUnavailable, apperr.CodeUnavailable,
				"%s did not confirm %s; it may or may not have been applied. Refresh and check before trying again.",
				service, describe(o.action))
		}
		return apperr.Unavailable(service, err)
	case classCredentials:
		return apperr.Wrap(err, apperr.KindInternal, apperr.CodeInternal,
			"%s rejected the function's credentials (%s). Check the function role and its STS token.", service, code)
	}
	switch {
	case code == codeNotInUse || code == codeNoRD:
		return noDirectory(err)
	case code == codeFolderNotFound: // e.g. InviteAccountToResourceDirectory's folder (2022-04-19)
		return apperr.Wrap(err, apperr.KindNotFound, apperr.CodeFolderNotFound,
			"%s did not find a folder %s needs: %s", service, describe(o.action), ensureStop(rdMessage(err)))
	case isParamError(err):
		return paramError(err)
	case isPermissionCode(code):
		return permissionDenied(o.action, err)
	case isAccountStateCode(code):
		return apperr.Wrap(err, apperr.KindConflict, apperr.CodeEnablePrecondition,
			"%s refused %s because of the state of the account (%s): %s Fix what it names in the Alibaba Cloud console, then try again.",
			service, describe(o.action), code, ensureStop(rdMessage(err)))
	case errors.Is(err, errNoCredentials):
		return apperr.Wrap(err, apperr.KindInternal, apperr.CodeInternal,
			"The function has no credentials for %s; check the function role.", service)
	}
	return apperr.Internal(err)
}

// isPermissionCode reports a RAM denial: the function role lacks a permission.
func isPermissionCode(code string) bool {
	switch code {
	case "NoPermission", "AccessDenied", "ActionUnauthorized", "Forbidden.NotSupportRAM", "Forbedden.NotSupportRAM":
		return true
	}
	return (code == "Forbidden" || strings.HasPrefix(code, "Forbidden.")) && !isAccountStateCode(code)
}

// isAccountStateCode reports a gateway refusal caused by the state of the
// Alibaba Cloud account itself (risk control, real-name verification), not
// by the role or the request.
func isAccountStateCode(code string) bool {
	return code == "Forbidden.RiskControl" || code == "Forbidden.UserVerification"
}

// permissionDenied is a RAM denial of action: the deployment's function
// role lacks a permission, which only its operator can grant.
func permissionDenied(action string, err error) error {
	return apperr.PermissionDenied("resourcemanager:"+action, err)
}

// isParamError reports a 400 MissingParameter[.X] / InvalidParameter[.X]
// answer: a value the caller chose that RD refuses (the gateway's plain
// codes name no parameter).
func isParamError(err error) bool {
	se, ok := rdError(err)
	if !ok || se.HttpStatus() != 400 {
		return false
	}
	code := se.ErrorCode()
	return code == "MissingParameter" || code == "InvalidParameter" ||
		strings.HasPrefix(code, "MissingParameter.") || strings.HasPrefix(code, "InvalidParameter.")
}

// portParams renames RD parameters to the port's names.
var portParams = map[string]string{"HandshakeId": "InvitationId"}

// paramError turns an RD parameter error into the port's
// MissingParameter.X / InvalidParameter.X, keeping RD's explanation.
func paramError(err error) error {
	se, _ := rdError(err)
	prefix, name, _ := strings.Cut(se.ErrorCode(), ".")
	if n, ok := portParams[name]; ok {
		name = n
	}
	code := apperr.InvalidParameter(name)
	if prefix == "MissingParameter" {
		code = apperr.MissingParameter(name)
	}
	if name == "" {
		code, name = apperr.Code(prefix), "a parameter"
	}
	msg := strings.TrimSpace(redact.Text(se.Message()))
	if msg == "" || strings.ContainsAny(msg, "<>{}") { // empty, or a non-JSON body
		if prefix == "MissingParameter" {
			msg = name + " is required."
		} else {
			msg = "The value of " + name + " is not accepted by " + service + "."
		}
	}
	return apperr.Wrap(err, apperr.KindInvalid, code, "%s", msg)
}

func noDirectory(cause error) error {
	return apperr.Wrap(cause, apperr.KindNotFound, apperr.CodeNoDirectory,
		"No resource directory is enabled for this account. Enable it first (step 1).")
}

// describe names an RD write for messages.
func describe(action string) string {
	switch action {
	case actEnable:
		return "enabling the resource directory"
	case actInvite:
		return "the invitation"
	case actCancelHandshake:
		return "cancelling the invitation"
	case actRegister:
		return "registering the delegated administrator"
	case actDeregister:
		return "removing the delegated administrator"
	}
	return action
}

// rdMessage is RD's message of err, or "(no message)".
func rdMessage(err error) string {
	if se, ok := rdError(err); ok {
		if m := strings.TrimSpace(redact.Text(se.Message())); m != "" && !strings.ContainsAny(m, "<>{}") {
			return m
		}
	}
	return "(no message)"
}

// enableRefused maps an EnableResourceDirectory refusal about the owner
// account (409) to the port's Conflict that says what to do; nil when err
// is not one. A 409 that EnableRefusals does not name still becomes a 409
// quoting RD, not a 500: it is about the account, not a bug here.
func enableRefused(err error) error {
	se, ok := rdError(err)
	if !ok {
		return nil
	}
	if r, ok := directory.EnableRefusalByRDCode(se.ErrorCode()); ok {
		return apperr.Wrap(err, apperr.KindConflict, r.Code, "%s", r.Advice)
	}
	if se.HttpStatus() == 409 && se.ErrorCode() != "" && !isPermissionCode(se.ErrorCode()) {
		return apperr.Wrap(err, apperr.KindConflict, apperr.CodeEnablePrecondition,
			"%s refused to enable the directory for this account with %s: %s Fix what it names in the Alibaba Cloud console, then try again.",
			service, se.ErrorCode(), ensureStop(rdMessage(err)))
	}
	return nil
}

func ensureStop(s string) string {
	if strings.HasSuffix(s, ".") {
		return s
	}
	return s + "."
}

func accountNotFound(cause error, accountID string) error {
	return apperr.Wrap(cause, apperr.KindNotFound, apperr.CodeAccountNotFound,
		"Account %s is not in this resource directory. Invite it first.", accountID)
}

// delegatedExists is the port's Conflict for a role held by others, naming
// them when known.
func delegatedExists(cause error, holders []directory.DelegatedAdmin) error {
	if len(holders) == 0 {
		return apperr.Wrap(cause, apperr.KindConflict, apperr.CodeDelegatedExists,
			"Another account is already SASE's delegated administrator. Remove it before registering another account.")
	}
	names := make([]string, len(holders))
	for i, h := range holders {
		names[i] = h.AccountID
		if h.DisplayName != "" {
			names[i] += " (" + h.DisplayName + ")"
		}
	}
	if len(names) == 1 {
		return apperr.Wrap(cause, apperr.KindConflict, apperr.CodeDelegatedExists,
			"Account %s is already SASE's delegated administrator. Remove it before registering another account.", names[0])
	}
	return apperr.Wrap(cause, apperr.KindConflict, apperr.CodeDelegatedExists,
		"Accounts %s already are SASE's delegated administrators, as many as SASE allows. Remove one before registering another account.",
		strings.Join(names, ", "))
}

func badPrincipal(cause error, principal string) error {
	return apperr.Wrap(cause, apperr.KindConflict, apperr.CodeTrustedService,
		"%s does not accept SASE's service principal %q: enable SASE as a trusted service of the resource directory, or correct the configured principal.",
		service, principal)
}

type emptyAnswerError string

func (e emptyAnswerError) Error() string {
	return "resourcemanager: " + string(e) + " answered 2xx without the expected object"
}

func errEmpty(action string) error { return emptyAnswerError(action) }
