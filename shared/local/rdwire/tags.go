package rdwire

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Tags: RD tags an account created or invited with Tag.N, lists them with
// IncludeTags and filters ListAccounts by them. The Sim keeps no tags, so
// the server keeps them, in memory (a restart forgets them).

// tag adds tags to accountID's, a key given again taking the new value.
func (s *Server) tag(accountID string, tags []rdTag) {
	if len(tags) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	have := s.tags[accountID]
	for _, t := range tags {
		if i := slices.IndexFunc(have, func(h rdTag) bool { return h.Key == t.Key }); i >= 0 {
			have[i] = t
		} else {
			have = append(have, t)
		}
	}
	s.tags[accountID] = have
}

// tagsOf is accountID's tags, [] when none.
func (s *Server) tagsOf(accountID string) []rdTag {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]rdTag{}, s.tags[accountID]...)
}

// hasTags reports whether accountID carries every tag of want.
func (s *Server) hasTags(accountID string, want []rdTag) bool {
	have := s.tagsOf(accountID)
	for _, w := range want {
		if !slices.ContainsFunc(have, func(h rdTag) bool { return h == w }) {
			return false
		}
	}
	return true
}

// tagFilter reads the Tag.N.Key / Tag.N.Value parameters (N from 1, at
// most 20; RD's metadata states no bound, this server keeps 20). A value
// without its key is refused.
func tagFilter(p params) ([]rdTag, *rpcError) {
	var out []rdTag
	for k := range p {
		if !strings.HasPrefix(k, "Tag.") {
			continue
		}
		rest := strings.TrimPrefix(k, "Tag.")
		n, field, ok := strings.Cut(rest, ".")
		i, err := strconv.Atoi(n)
		if !ok || err != nil || i < 1 || i > 20 || (field != "Key" && field != "Value") {
			return nil, errInvalid("Tag", "Parameter %s is not Tag.N.Key or Tag.N.Value with N from 1 to 20.", k)
		}
	}
	for i := 1; i <= 20; i++ {
		key, value := p.get(fmt.Sprintf("Tag.%d.Key", i)), p.get(fmt.Sprintf("Tag.%d.Value", i))
		if key == "" && value == "" {
			continue
		}
		if key == "" {
			return nil, errMissing(fmt.Sprintf("Tag.%d.Key (Tag.%d.Value is given)", i, i))
		}
		out = append(out, rdTag{Key: key, Value: value})
	}
	return out, nil
}
