// Package action names the bundle's functions. An Action is both a
// function's name (its folder under functions/, its FC function name, its
// path on the local server) and what the policy table and the audit trail
// call what it does. Each name is written once, here; everything else uses
// these constants, so a misspelt name does not compile.
package action

// Action is one function of the bundle.
type Action string

// The HTTP functions (docs/API.md).
const (
	DescribeSetup            Action = "describe-setup"
	EnableDirectory          Action = "enable-directory"
	InviteAccounts           Action = "invite-accounts"
	ListInvitations          Action = "list-invitations"
	CancelInvitation         Action = "cancel-invitation"
	RegisterDelegatedAdmin   Action = "register-delegated-admin"
	DeregisterDelegatedAdmin Action = "deregister-delegated-admin"
	ListCandidates           Action = "list-candidates"
	ListFolders              Action = "list-folders"
	AddMembers               Action = "add-members"
	ListMembers              Action = "list-members"
	UpdateMemberRemark       Action = "update-member-remark"
	DeleteMembers            Action = "delete-members"
	ListAuditEvents          Action = "list-audit-events"
	GetEnrollmentPolicy      Action = "get-enrollment-policy"
	UpdateEnrollmentPolicy   Action = "update-enrollment-policy"
	ListAccess               Action = "list-access"
	GrantAccess              Action = "grant-access"
	RevokeAccess             Action = "revoke-access"
)

// Following membership (docs/API.md "Following membership").
const (
	GetMember         Action = "get-member"
	ListMemberChanges Action = "list-member-changes"
	ListWebhooks      Action = "list-webhooks"
	PutWebhook        Action = "put-webhook"
	DeleteWebhook     Action = "delete-webhook"
	TestWebhook       Action = "test-webhook"
	// DeliverWebhooks is the timer function that delivers the feed to the
	// webhooks; it acts as the System role.
	DeliverWebhooks Action = "deliver-webhooks"
)

// The event and timer functions: they act as the System role.
const (
	DirectoryEvents  Action = "directory-events"
	ReconcileMembers Action = "reconcile-members"
	CheckHandshakes  Action = "check-handshakes"
)

// Console is the function that serves the console page and its sign-in
// (DESIGN.md §9). It is no API action: no role check, no audit record.
const Console Action = "console"

// String returns the function name.
func (a Action) String() string { return string(a) }
