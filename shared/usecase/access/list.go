package access

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/sase-multiaccount/backend/shared/port/store"
	"github.com/sase-multiaccount/backend/shared/role"
	"github.com/sase-multiaccount/backend/shared/validate"
)

// ListInput is the query of list-access.
type ListInput struct {
	AccountID  string // the MA or the DA: its people only
	MaxResults string
	NextToken  string
}

// ListOutput is the answer of list-access.
type ListOutput struct {
	Grants    []Grant
	NextToken string `json:",omitempty"`
}

type listPosition struct {
	After string `json:"a"` // role.Person.Key of the last grant of the previous page
}

// List is list-access: the grants of the people of the management account
// and the delegated administrator (an administrator of the delegated
// administrator sees its own people only), in (AccountId, UserId) order.
// One store read, and one RD call when the management account asks.
func (s *Service) List(ctx context.Context, sc Scope, in ListInput) (ListOutput, error) {
	limit, err := validate.MaxResults(in.MaxResults, 20, 100)
	if err != nil {
		return ListOutput{}, err
	}
	accounts, err := s.visible(ctx, sc, in.AccountID)
	if err != nil {
		return ListOutput{}, err
	}
	binding := "access|" + sc.Directory.ID + "|" + in.AccountID
	var pos listPosition
	if in.NextToken != "" {
		if err := s.Tokens.Decode(in.NextToken, binding, &pos); err != nil {
			return ListOutput{}, err
		}
	}
	all, err := s.Store.ListGrants(ctx, sc.Directory.ID)
	if err != nil {
		return ListOutput{}, fmt.Errorf("list grants: %w", err)
	}
	var page []store.Grant
	for _, g := range all {
		if slices.Contains(accounts, g.AccountID) && key(g) > pos.After {
			page = append(page, g)
		}
	}
	slices.SortFunc(page, func(a, b store.Grant) int { return strings.Compare(key(a), key(b)) })
	out := ListOutput{Grants: []Grant{}}
	for i, g := range page {
		if i == limit {
			out.NextToken = s.Tokens.Encode(binding, listPosition{After: key(page[i-1])})
			break
		}
		out.Grants = append(out.Grants, view(g))
	}
	return out, nil
}

// key orders grants by account, then person.
func key(g store.Grant) string { return role.Person{AccountID: g.AccountID, UserID: g.UserID}.Key() }

// visible are the accounts whose grants the caller sees: filter, when
// given, must be one of them.
func (s *Service) visible(ctx context.Context, sc Scope, filter string) ([]string, error) {
	if filter != "" {
		if err := validate.AccountID("AccountId", filter); err != nil {
			return nil, err
		}
		if _, err := s.target(ctx, sc, filter); err != nil {
			return nil, err
		}
		return []string{filter}, nil
	}
	if sc.Role == role.Delegated {
		return []string{sc.Actor.AccountID}, nil
	}
	accounts := []string{sc.Directory.ManagementAccountID}
	das, err := s.Directory.ListDelegatedAdmins(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the delegated administrator: %w", err)
	}
	for _, d := range das {
		accounts = append(accounts, d.AccountID)
	}
	return accounts, nil
}
