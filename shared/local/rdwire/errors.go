package rdwire

import (
	"strings"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/port/directory"
)

// Errors: the simulation speaks the port's vocabulary; these turn it into
// the codes RD returns.

// rdParam renames a port parameter to its RD name.
func rdParam(name string) string {
	if name == "InvitationId" {
		return "HandshakeId"
	}
	return name
}

// toRDWith is toRD for an action whose parameter errors RD names
// specially (paramRD), given the request's parameters.
func toRDWith(action string, err error, p params) *rpcError {
	if ae, ok := apperr.As(err); ok {
		if e, ok := paramRD(action, ae, p); ok {
			return e
		}
	}
	return toRD(action, err)
}

// toRD maps a Sim error to the RD answer of action.
func toRD(action string, err error) *rpcError {
	ae, ok := apperr.As(err)
	if !ok {
		return errf(500, "InternalError", "The request processing has failed due to some unknown error.")
	}
	msg := ae.Message
	if e, ok := folderRD(action, ae); ok {
		return e
	}
	if r, ok := directory.EnableRefusalByCode(ae.Code); ok {
		return errf(409, r.RDCode, "%s", msg)
	}
	if r, ok := directory.InviteRefusalByCode(ae.Code); ok {
		return errf(409, r.RDCode, "%s", msg)
	}
	switch ae.Kind {
	case apperr.KindNotFound:
		switch ae.Code {
		case apperr.CodeNoDirectory:
			if action == "GetResourceDirectory" {
				return errf(404, "ResourceDirectoryNotInUse", "The specified account is not an Alibaba Cloud account or a member account of the resource directory.")
			}
			return errf(404, "EntityNotExists.ResourceDirectory", "The resource directory for the account is not enabled. %s", msg)
		case apperr.CodeInvitationNotFound:
			return errf(404, "EntityNotExists.Handshake", "%s", msg)
		case apperr.CodeAccountNotFound:
			return errf(404, "EntityNotExists.Account", "%s", msg)
		case apperr.CodeDelegatedNotFound:
			return errf(409, "AccountNotRegistered", "%s", msg)
		}
		return errf(404, string(ae.Code), "%s", msg)
	case apperr.KindConflict:
		switch ae.Code {
		case apperr.CodeDirectoryExists:
			return errf(409, "EntityAlreadyExists.ResourceDirectory", "%s", msg)
		case apperr.CodeAlreadyInDirectory:
			return errf(409, "EntityAlreadyExists.ResourceDir.Account", "%s", msg)
		case apperr.CodeInvitationPending:
			return errf(409, "EntityAlreadyExists.Handshake", "%s", msg)
		case apperr.CodeLimitExceeded:
			// The Sim has one code for both quotas; its message names which.
			if strings.Contains(strings.ToLower(msg), "invitation") {
				return errf(409, "LimitExceeded.InvitationRate", "%s", msg)
			}
			return errf(409, "LimitExceeded.Account", "%s", msg)
		case apperr.CodeInvitationStatus:
			return errf(409, "HandshakeStatusMismatch", "%s", msg)
		case apperr.CodeDelegatedExists:
			return errf(409, "DelegatedAccountNumberExceeded", "%s", msg)
		}
		return errf(409, string(ae.Code), "%s", msg)
	case apperr.KindInvalid, apperr.KindMalformed:
		code := string(ae.Code)
		for _, prefix := range []string{"MissingParameter.", "InvalidParameter."} {
			if name, ok := strings.CutPrefix(code, prefix); ok {
				code = prefix + rdParam(name)
			}
		}
		if action == "InviteAccountToResourceDirectory" && code == "InvalidParameter.Note" {
			code = "InvalidParameter.Note.Length" // the Sim refuses a note only for its length
		}
		return paramAnswer(action, code, msg)
	case apperr.KindThrottled:
		return errf(400, "Throttling.User", "Request was denied due to user flow control.")
	case apperr.KindUnavailable:
		return errf(503, "ServiceUnavailable", "The request has failed due to a temporary failure of the server.")
	}
	return errf(500, "InternalError", "The request processing has failed due to some unknown error.")
}
