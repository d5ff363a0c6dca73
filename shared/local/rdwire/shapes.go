package rdwire

import (
	"strings"

	"github.com/sase-multiaccount/backend/shared/local/simulation"
	"github.com/sase-multiaccount/backend/shared/port/directory"
)

// The response shapes: field names and nesting exactly as RD answers.

// rdEnabledDirectory is EnableResourceDirectory's ResourceDirectory.
type rdEnabledDirectory struct {
	ResourceDirectoryID string `json:"ResourceDirectoryId"`
	MasterAccountID     string `json:"MasterAccountId"`
	MasterAccountName   string `json:"MasterAccountName"`
	RootFolderID        string `json:"RootFolderId"`
	CreateTime          string `json:"CreateTime"`
}

// rdDirectory is GetResourceDirectory's: the enabled one plus its settings.
type rdDirectory struct {
	rdEnabledDirectory
	ControlPolicyStatus  string `json:"ControlPolicyStatus"`
	MemberDeletionStatus string `json:"MemberDeletionStatus"`
}

type rdTag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

// rdMember is what both account shapes say of an account after its
// AccountId (and AccountName); embedded, its fields stand in its place.
type rdMember struct {
	DisplayName           string `json:"DisplayName"`
	FolderID              string `json:"FolderId"`
	ResourceDirectoryID   string `json:"ResourceDirectoryId"`
	ResourceDirectoryPath string `json:"ResourceDirectoryPath"`
	JoinMethod            string `json:"JoinMethod"`
	JoinTime              string `json:"JoinTime"`
	ModifyTime            string `json:"ModifyTime"`
	Status                string `json:"Status"`
	Type                  string `json:"Type"`
}

// rdListedAccount is an element of ListAccounts' Accounts.Account: tags
// nested as {"Tags":{"Tag":[...]}}, and no AccountName.
type rdListedAccount struct {
	AccountID string `json:"AccountId"`
	rdMember
	Tags *nestedTags `json:"Tags,omitempty"`
}

type nestedTags struct {
	Tag []rdTag `json:"Tag"`
}

// rdAccount is GetAccount's Account: tags as a flat {"Tags":[...]}.
type rdAccount struct {
	AccountID   string `json:"AccountId"`
	AccountName string `json:"AccountName"`
	rdMember
	Tags *[]rdTag `json:"Tags,omitempty"` // present (maybe []) when IncludeTags
}

// rdCreatedAccount is CreateResourceAccount's Account: no path, no tags.
type rdCreatedAccount struct {
	AccountID           string `json:"AccountId"`
	AccountName         string `json:"AccountName"`
	DisplayName         string `json:"DisplayName"`
	FolderID            string `json:"FolderId"`
	ResourceDirectoryID string `json:"ResourceDirectoryId"`
	JoinMethod          string `json:"JoinMethod"`
	JoinTime            string `json:"JoinTime"`
	ModifyTime          string `json:"ModifyTime"`
	Status              string `json:"Status"`
	Type                string `json:"Type"`
}

// accountName is an account's login name: <prefix>@<directory>.aliyunid.com
// for a created account; the Sim knows no login name of an invited one.
func accountName(d directory.Directory, a simulation.AccountDetail) string {
	if a.AccountNamePrefix != "" {
		return a.AccountNamePrefix + "@" + d.ID + ".aliyunid.com"
	}
	return a.AccountID + "@sim.aliyunid.com"
}

// rdDelegated is an element of ListDelegatedAdministrators' Accounts.Account.
type rdDelegated struct {
	AccountID             string `json:"AccountId"`
	DisplayName           string `json:"DisplayName"`
	JoinMethod            string `json:"JoinMethod"`
	ServicePrincipal      string `json:"ServicePrincipal"`
	DelegationEnabledTime string `json:"DelegationEnabledTime"` // epoch milliseconds
}

// rdHandshake is the Handshake of the invitation writes and of
// ListHandshakesForResourceDirectory.
type rdHandshake struct {
	HandshakeID         string `json:"HandshakeId"`
	ResourceDirectoryID string `json:"ResourceDirectoryId"`
	MasterAccountID     string `json:"MasterAccountId"`
	MasterAccountName   string `json:"MasterAccountName"`
	TargetEntity        string `json:"TargetEntity"`
	TargetType          string `json:"TargetType"`
	Note                string `json:"Note"`
	Status              string `json:"Status"`
	CreateTime          string `json:"CreateTime"`
	ModifyTime          string `json:"ModifyTime"`
	ExpireTime          string `json:"ExpireTime"`
}

// rdHandshakeDetail is GetHandshake's: the real names too.
type rdHandshakeDetail struct {
	rdHandshake
	MasterAccountRealName  string `json:"MasterAccountRealName"`
	InvitedAccountRealName string `json:"InvitedAccountRealName"`
}

func toRDEnabledDirectory(d directory.Directory) rdEnabledDirectory {
	return rdEnabledDirectory{
		ResourceDirectoryID: d.ID,
		MasterAccountID:     d.ManagementAccountID,
		MasterAccountName:   d.ManagementAccountName,
		RootFolderID:        d.RootFolderID,
		CreateTime:          rdTimeMillis(d.CreateTime),
	}
}

func toRDDirectory(d directory.Directory) rdDirectory {
	return rdDirectory{rdEnabledDirectory: toRDEnabledDirectory(d), ControlPolicyStatus: "Disabled", MemberDeletionStatus: "Disabled"}
}

func accountStatus(a directory.Account) string {
	if a.JoinMethod == "invited" {
		return "InviteSuccess"
	}
	return "CreateSuccess"
}

func toRDMember(d directory.Directory, a simulation.AccountDetail) rdMember {
	typ := "CloudAccount"
	if a.JoinMethod == "created" && a.AccountID != d.ManagementAccountID {
		typ = "ResourceAccount"
	}
	return rdMember{
		DisplayName:           a.DisplayName,
		FolderID:              a.FolderID,
		ResourceDirectoryID:   d.ID,
		ResourceDirectoryPath: a.Path,
		JoinMethod:            a.JoinMethod,
		JoinTime:              rdTimeMillis(a.JoinTime),
		ModifyTime:            rdTimeMillis(a.ModifyTime),
		Status:                accountStatus(a.Account),
		Type:                  typ,
	}
}

// rdListedFolder is an element of ListFoldersForParent's Folders.Folder.
type rdListedFolder struct {
	FolderID   string `json:"FolderId"`
	FolderName string `json:"FolderName"`
	CreateTime string `json:"CreateTime"`
}

// rdCreatedFolder is CreateFolder's Folder.
type rdCreatedFolder struct {
	FolderID       string `json:"FolderId"`
	FolderName     string `json:"FolderName"`
	ParentFolderID string `json:"ParentFolderId"`
	CreateTime     string `json:"CreateTime"`
}

// rdFolder is GetFolder's Folder: CreateFolder's plus the path.
type rdFolder struct {
	rdCreatedFolder
	ResourceDirectoryPath string `json:"ResourceDirectoryPath"`
}

func toRDCreatedFolder(f directory.Folder) rdCreatedFolder {
	return rdCreatedFolder{FolderID: f.ID, FolderName: f.Name, ParentFolderID: f.ParentID, CreateTime: rdTimeMillis(f.CreateTime)}
}

func toRDHandshake(d directory.Directory, inv simulation.InvitationDetail) rdHandshake {
	return rdHandshake{
		HandshakeID:         inv.ID,
		ResourceDirectoryID: d.ID,
		MasterAccountID:     d.ManagementAccountID,
		MasterAccountName:   d.ManagementAccountName,
		TargetEntity:        inv.TargetEntity,
		TargetType:          inv.TargetType,
		Note:                inv.Note,
		Status:              inv.Status,
		CreateTime:          rdTime(inv.CreateTime),
		ModifyTime:          rdTime(inv.ModifyTime),
		ExpireTime:          rdTime(inv.ExpireTime),
	}
}

// listPage is a List action's answer: page number of size out of total
// items, the page's items nested as {listKey: {itemKey: items}}.
func listPage(total, number, size int, listKey, itemKey string, items any) obj {
	return obj{
		"TotalCount": total,
		"PageNumber": number,
		"PageSize":   size,
		listKey:      obj{itemKey: items},
	}
}

func includeTags(p params) bool { return strings.EqualFold(p.get("IncludeTags"), "true") }
