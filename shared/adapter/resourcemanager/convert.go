package resourcemanager

import (
	"strconv"
	"strings"
	"time"

	rm "github.com/aliyun/alibaba-cloud-sdk-go/services/resourcemanager"

	"github.com/sase-multiaccount/backend/shared/port/directory"
)

// parseTime reads the time formats RD answers with: ISO 8601 UTC strings
// ("2021-01-18T08:04:45Z", optionally with fractional seconds or an offset)
// and, for DelegationEnabledTime, epoch milliseconds ("1616652684164").
// Anything else is the zero time: one odd field must not fail a listing.
func parseTime(s string) time.Time {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC()
	}
	for _, layout := range []string{"2006-01-02T15:04Z", "2006-01-02 15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil && ms > 0 {
		return time.UnixMilli(ms).UTC()
	}
	return time.Time{}
}

func toDirectory(d rm.ResourceDirectory) directory.Directory {
	return directory.Directory{
		ID:                    d.ResourceDirectoryId,
		ManagementAccountID:   d.MasterAccountId,
		ManagementAccountName: d.MasterAccountName,
		CreateTime:            parseTime(d.CreateTime),
		RootFolderID:          d.RootFolderId,
	}
}

func toInvitation(h rm.Handshake) directory.Invitation {
	return directory.Invitation{
		ID:           h.HandshakeId,
		TargetEntity: h.TargetEntity,
		TargetType:   h.TargetType,
		Status:       h.Status,
		Note:         h.Note,
		CreateTime:   parseTime(h.CreateTime),
		ExpireTime:   parseTime(h.ExpireTime),
		ModifyTime:   parseTime(h.ModifyTime),
	}
}

func toAccount(a rm.AccountInListAccounts) directory.Account {
	return directory.Account{
		AccountID:   a.AccountId,
		DisplayName: a.DisplayName,
		JoinTime:    parseTime(a.JoinTime),
		JoinMethod:  a.JoinMethod,
		FolderID:    a.FolderId,
	}
}

func toFolder(f rm.Folder) directory.Folder {
	return directory.Folder{ID: f.FolderId, Name: f.FolderName, ParentID: f.ParentFolderId, CreateTime: parseTime(f.CreateTime)}
}

func toDelegatedAdmin(a rm.Account) directory.DelegatedAdmin {
	return directory.DelegatedAdmin{
		AccountID:   a.AccountId,
		DisplayName: a.DisplayName,
		EnabledTime: parseTime(a.DelegationEnabledTime),
	}
}
