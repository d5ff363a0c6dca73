// Package directory is the Resource Directory port: what the functions need
// from RD, seen from the account the deployment runs in (the owner). The
// in-process simulation (local/simulation) and the alibaba-cloud-sdk-go
// adapter (adapter/resourcemanager) both implement Service and both pass
// the contract suite in testkit/directorytest.
//
// Errors are *apperr.Error values with the API.md codes below, so the use
// cases never see an SDK error.
package directory

import (
	"context"
	"time"
)

// DefaultServicePrincipal is SASE's trusted-service principal (configurable:
// SASE_SERVICE_PRINCIPAL; UNCONFIRMED upstream).
const DefaultServicePrincipal = "csas.aliyuncs.com"

// Directory is a Resource Directory.
type Directory struct {
	ID                    string // rd-…
	ManagementAccountID   string
	ManagementAccountName string
	CreateTime            time.Time
	RootFolderID          string // r-…: every account is in the root or one of its subfolders
}

// Account is an account of the directory (ListAccounts includes the MA).
type Account struct {
	AccountID   string
	DisplayName string
	JoinTime    time.Time
	JoinMethod  string // "invited" | "created"
	FolderID    string // the folder the account is in (the root folder's ID when in none)
}

// Folder is a folder of the directory. The root folder (RootFolderName, no
// parent) holds up to MaxFolderDepth levels of subfolders.
type Folder struct {
	ID         string // r-… for the root, fd-… for the others
	Name       string
	ParentID   string // "" for the root
	CreateTime time.Time
}

// RootFolderName is the name RD gives the root folder.
const RootFolderName = "Root"

// MaxFolderDepth is how many levels of folders RD allows below the root.
const MaxFolderDepth = 5

// NewAccount is what CreateResourceAccount needs.
type NewAccount struct {
	DisplayName string
	FolderID    string // "" = the root folder
	// AccountNamePrefix is the login name's prefix (prefix@<directory>.aliyunid.com);
	// "" lets the adapter derive one from the display name.
	AccountNamePrefix string
}

// Invitation statuses (RD handshakes).
const (
	StatusPending   = "Pending"
	StatusAccepted  = "Accepted"
	StatusCancelled = "Cancelled"
	StatusDeclined  = "Declined"
	StatusExpired   = "Expired"
)

// Target types of an invitation.
const (
	TargetAccount = "Account"
	TargetEmail   = "Email"
)

// Invitation is an RD handshake sent by the management account.
type Invitation struct {
	ID           string // h-…
	TargetEntity string // account UID or email
	TargetType   string // TargetAccount | TargetEmail
	Status       string
	Note         string
	CreateTime   time.Time
	ExpireTime   time.Time
	ModifyTime   time.Time // the last status change (acceptance, cancellation, expiry)
}

// DelegatedAdmin is a delegated administrator for the configured principal.
type DelegatedAdmin struct {
	AccountID   string
	DisplayName string
	EnabledTime time.Time
}

// Service is the Resource Directory as the owner account's role sees it.
// Its errors are *apperr.Error values; the kind and code each call answers
// are listed in docs/DESIGN.md "The directory port's errors".
type Service interface {
	GetDirectory(ctx context.Context) (Directory, error)
	EnableDirectory(ctx context.Context) (Directory, error)
	ListAccounts(ctx context.Context) ([]Account, error)
	// GetAccount reads one account: NotFound CodeAccountNotFound when it is
	// not in the directory. One RD call; events use it to check a hint.
	GetAccount(ctx context.Context, accountID string) (Account, error)
	// CountAccounts is len(ListAccounts) at the cost of one RD call (a
	// one-item page carries TotalCount), for describe-setup.
	CountAccounts(ctx context.Context) (int, error)
	Invite(ctx context.Context, targetEntity, targetType, note string) (Invitation, error)
	ListInvitations(ctx context.Context) ([]Invitation, error)
	CancelInvitation(ctx context.Context, invitationID string) (Invitation, error)
	ListDelegatedAdmins(ctx context.Context) ([]DelegatedAdmin, error)
	RegisterDelegatedAdmin(ctx context.Context, accountID string) error
	DeregisterDelegatedAdmin(ctx context.Context, accountID string) error

	// ListFolders returns the whole folder tree: the root first, then
	// depth-first with siblings by name. The SDK adapter pays one RD call per
	// folder (RD lists one parent's children per call; at most 100 folders).
	ListFolders(ctx context.Context) ([]Folder, error)
	GetFolder(ctx context.Context, folderID string) (Folder, error)
}

// Organizer is what changes the directory's shape: the MA's calls the
// functions never make (so the function role is not granted them) but the
// local helpers, tests and operator tools do. The simulation implements it,
// and adapter/resourcemanager/organize over the SDK; the contract suite covers both.
type Organizer interface {
	// CreateFolder creates a folder under parentID ("" = the root).
	CreateFolder(ctx context.Context, name, parentID string) (Folder, error)
	// MoveAccount moves an account to another folder.
	MoveAccount(ctx context.Context, accountID, folderID string) error
	// CreateResourceAccount creates a new account in the directory
	// (JoinMethod "created").
	CreateResourceAccount(ctx context.Context, in NewAccount) (Account, error)
}
