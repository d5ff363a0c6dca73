package rdwire

import (
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/local/rdwire/rdmeta"
)

// RD's codes for the parameter errors of the actions whose codes name the
// entity (Folder.Name, Account.DisplayName) rather than the parameter, as
// ResourceManager 2020-03-31's API metadata documents them
// (shared/local/rdwire/rdmeta/testdata/rd-api.json).

// paramRD maps a Sim parameter error of action; ok false when action
// documents no special code for it.
func paramRD(action string, ae *apperr.Error, p params) (*rpcError, bool) {
	type key struct{ action, code string }
	length := func(param string, lo, hi int) bool {
		n := utf8.RuneCountInString(p.get(param))
		return n < lo || n > hi
	}
	msg := ae.Message
	switch (key{action, string(ae.Code)}) {
	case key{"CreateFolder", "MissingParameter.FolderName"}:
		return errf(400, "MissingParameter.Folder.Name", "%s", msg), true
	case key{"CreateFolder", "InvalidParameter.FolderName"}:
		if length("FolderName", 1, 24) {
			return errf(400, "InvalidParameter.Folder.Name.Length", "%s", msg), true
		}
		return errf(400, "InvalidParameter.Folder.Name", "%s", msg), true
	case key{"CreateFolder", string(apperr.CodeFolderExists)}:
		return errf(400, "InvalidParameter.Folder.Name.AlreadyUsed", "%s", msg), true
	case key{"CreateResourceAccount", "MissingParameter.DisplayName"}:
		return errf(400, "MissingParameter.Account.DisplayName", "%s", msg), true
	case key{"CreateResourceAccount", "InvalidParameter.DisplayName"}:
		if length("DisplayName", 2, 50) {
			return errf(400, "InvalidParameter.Account.DisplayName.Length", "%s", msg), true
		}
		return errf(400, "InvalidParameter.Account.DisplayName", "%s", msg), true
	case key{"CreateResourceAccount", "InvalidParameter.AccountNamePrefix"}:
		if length("AccountNamePrefix", 2, 37) {
			return errf(400, "InvalidParameter.Account.AccountNamePrefix.Length", "%s", msg), true
		}
		return errf(400, "InvalidParameter.Account.AccountNamePrefix", "%s", msg), true
	case key{"CreateResourceAccount", string(apperr.CodeDisplayNameExists)}:
		return errf(409, "InvalidParameter.Account.DisplayName.AlreadyUsed", "%s", msg), true
	case key{"CreateResourceAccount", string(apperr.CodeAccountNameExists)}:
		return errf(409, "EntityAlreadyExists.ResourceDirectory.Account", "%s", msg), true
	}
	return nil, false
}

// paramAnswer is the answer to a parameter error: RD's named code
// (MissingParameter.X, InvalidParameter.X) where the action's metadata
// documents it, else the gateway's plain MissingParameter or
// InvalidParameter, which every action may answer.
func paramAnswer(action, code, msg string) *rpcError {
	if documented(action, code, 400) {
		return errf(400, code, "%s", msg)
	}
	prefix, name, _ := strings.Cut(code, ".")
	if prefix == "MissingParameter" {
		return errMissing(name)
	}
	return errInvalid(name, "%s", msg)
}

// documented reports whether RD's API metadata (rdmeta) lists the error
// for action.
func documented(action, code string, status int) bool {
	meta, err := loadMeta()
	if err != nil {
		return false
	}
	for _, e := range meta.Actions[action].Errors {
		if e.Code == code && e.Status == status {
			return true
		}
	}
	return false
}

var loadMeta = sync.OnceValues(rdmeta.Load)

// errMissing and errInvalid are the gateway's common answers for an
// action's parameter that RD documents no specific code for.
func errMissing(name string) *rpcError {
	return errf(400, "MissingParameter", "The input parameter %s that is mandatory for processing this request is not supplied.", name)
}

func errInvalid(name, format string, args ...any) *rpcError {
	e := errf(400, "InvalidParameter", format, args...)
	if !strings.Contains(e.Message, name) {
		e.Message = "The specified value of parameter " + name + " is not valid. " + e.Message
	}
	return e
}
