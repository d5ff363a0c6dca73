package setup

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sase-multiaccount/backend/shared/port/directory"
	"github.com/sase-multiaccount/backend/shared/usecase/audit"
	"github.com/sase-multiaccount/backend/shared/validate"
)

// Invitation is an invitation as the API shows it.
type Invitation struct {
	InvitationID string `json:"InvitationId"`
	TargetEntity string
	TargetType   string
	Status       string
	Note         string
	CreateTime   string
	ExpireTime   string
}

func viewInvitation(i directory.Invitation) Invitation {
	return Invitation{InvitationID: i.ID, TargetEntity: i.TargetEntity, TargetType: i.TargetType, Status: i.Status,
		Note: i.Note, CreateTime: audit.FormatTime(i.CreateTime), ExpireTime: audit.FormatTime(i.ExpireTime)}
}

// ListInvitationsInput is the query of list-invitations.
type ListInvitationsInput struct {
	Status     string
	MaxResults string
	NextToken  string
}

// ListInvitationsOutput is the answer of list-invitations.
type ListInvitationsOutput struct {
	Invitations []Invitation
	TotalCount  int
	NextToken   string `json:",omitempty"`
}

type invitationPosition struct {
	CreateMs int64  `json:"t"`
	ID       string `json:"i"`
}

// ListInvitations lists invitations, newest first, optionally by status.
func (s *Service) ListInvitations(ctx context.Context, d directory.Directory, in ListInvitationsInput) (ListInvitationsOutput, error) {
	limit, err := validate.MaxResults(in.MaxResults, 20, 100)
	if err != nil {
		return ListInvitationsOutput{}, err
	}
	status, err := validate.OneOf("Status", in.Status, "", directory.StatusPending, directory.StatusAccepted,
		directory.StatusCancelled, directory.StatusDeclined, directory.StatusExpired)
	if err != nil {
		return ListInvitationsOutput{}, err
	}
	binding := "invitations\x00" + d.ID + "\x00" + status
	var pos *invitationPosition
	if in.NextToken != "" {
		pos = &invitationPosition{}
		if err := s.Tokens.Decode(in.NextToken, binding, pos); err != nil {
			return ListInvitationsOutput{}, err
		}
	}
	all, err := s.Directory.ListInvitations(ctx)
	if err != nil {
		return ListInvitationsOutput{}, fmt.Errorf("list invitations: %w", err)
	}
	newestFirst := func(a, b directory.Invitation) int {
		if c := b.CreateTime.Compare(a.CreateTime); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	}
	all = slices.DeleteFunc(all, func(i directory.Invitation) bool { return status != "" && i.Status != status })
	slices.SortFunc(all, newestFirst)
	start := 0
	if pos != nil {
		key := directory.Invitation{ID: pos.ID, CreateTime: time.UnixMilli(pos.CreateMs)}
		start, _ = slices.BinarySearchFunc(all, key, func(a, k directory.Invitation) int {
			// Compare at the token's millisecond precision.
			a.CreateTime = a.CreateTime.Truncate(time.Millisecond)
			return newestFirst(a, k)
		})
		if start < len(all) && all[start].ID == pos.ID {
			start++
		}
	}
	end := min(start+limit, len(all))
	out := ListInvitationsOutput{Invitations: make([]Invitation, 0, end-start), TotalCount: len(all)}
	for _, i := range all[start:end] {
		out.Invitations = append(out.Invitations, viewInvitation(i))
	}
	if end < len(all) {
		last := all[end-1]
		out.NextToken = s.Tokens.Encode(binding, invitationPosition{CreateMs: last.CreateTime.UnixMilli(), ID: last.ID})
	}
	return out, nil
}
