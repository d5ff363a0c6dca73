// Package role names the roles an account can have in a deployment and the
// access roles a person can have within it. It is vocabulary only:
// rolecheck decides a caller's roles from the directory and the grants, and
// the use cases record and report them.
package role

import (
	"fmt"
	"strings"

	"github.com/sase-multiaccount/backend/shared/validate"
)

// Account is what the directory says an account is.
type Account string

const (
	None       Account = "None"  // not related to this deployment
	Owner      Account = "Owner" // the deployment's account while no directory exists
	Management Account = "ManagementAccount"
	Delegated  Account = "DelegatedAdministrator"
	Member     Account = "Member"
	System     Account = "System" // events and reconciliation; never a caller's role
)

// Access is what a person may do within what their account may do
// (docs/API.md "People").
type Access string

// The access roles, from most to least.
const (
	Administrator Access = "Administrator" // everything the account may do, and manage access
	Operator      Access = "Operator"      // read, and add, remark and delete members
	Viewer        Access = "Viewer"        // read only (not the access list)
	NoAccess      Access = "None"          // describe-setup only
)

// AccessRoles lists the access roles from most to least.
var AccessRoles = []Access{Administrator, Operator, Viewer, NoAccess}

// Grantable are the access roles grant-access gives.
var Grantable = []Access{Administrator, Operator, Viewer}

// rank orders the access roles: a role may do what every lower one may.
func (a Access) rank() int {
	switch a {
	case Administrator:
		return 3
	case Operator:
		return 2
	case Viewer:
		return 1
	}
	return 0
}

// AtLeast reports whether a may do what least may.
func (a Access) AtLeast(least Access) bool { return a.rank() >= least.rank() }

// Valid reports whether a is one of AccessRoles.
func (a Access) Valid() bool {
	for _, r := range AccessRoles {
		if a == r {
			return true
		}
	}
	return false
}

// ParseAccess reads an access role by its name (exact case).
func ParseAccess(s string) (Access, error) {
	if a := Access(s); a.Valid() {
		return a, nil
	}
	return "", fmt.Errorf("%q is not an access role (Administrator, Operator, Viewer or None)", s)
}

// MaxUserIDLen is the longest person UID (grant-access: 1-64 digits).
const MaxUserIDLen = 64

// IsUserID reports whether s is a person's UID: 1 to 64 digits.
func IsUserID(s string) bool {
	if s == "" || len(s) > MaxUserIDLen {
		return false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Person is who signs in: the account's root identity (UserID equals
// AccountID), a RAM user or a RAM role session of the account.
type Person struct {
	AccountID string // the account's 16-digit UID
	UserID    string // the person's UID
	UserName  string // sign-in or display name; display and audit only, never for a decision
}

// Root reports whether p is its account's root identity.
func (p Person) Root() bool { return p.UserID == p.AccountID }

// Key is the person's identity as "<AccountId>:<UserId>" (the form of
// SASE_ADMINISTRATORS).
func (p Person) Key() string { return p.AccountID + ":" + p.UserID }

// Describe names the person for messages: "alice (UID 2…) of account 1…".
func (p Person) Describe() string {
	who := "UID " + p.UserID
	switch {
	case p.Root():
		who = "the root identity"
	case p.UserName != "":
		who = fmt.Sprintf("%s (UID %s)", validate.Clip(p.UserName), p.UserID)
	}
	return fmt.Sprintf("%s of account %s", who, p.AccountID)
}

// ParsePeople reads a comma-separated list of "<AccountId>:<UserId>" pairs
// (SASE_ADMINISTRATORS); blanks are skipped.
func ParsePeople(s string) ([]Person, error) {
	var out []Person
	for _, pair := range strings.Split(s, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		acct, user, ok := strings.Cut(pair, ":")
		if !ok || !validate.IsAccountID(acct) || !IsUserID(user) {
			return nil, fmt.Errorf("%q is not <AccountId>:<UserId> (16 digits, a colon, 1-%d digits)", validate.Clip(pair), MaxUserIDLen)
		}
		out = append(out, Person{AccountID: acct, UserID: user})
	}
	return out, nil
}
