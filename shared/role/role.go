// Package role names the roles an account can have in a deployment. It is
// vocabulary only: rolecheck decides a caller's role from the directory, and
// the use cases record and report it.
package role

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
