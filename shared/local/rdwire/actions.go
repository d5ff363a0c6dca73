package rdwire

import (
	"context"
	"slices"
	"strconv"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/local/simulation"
	"github.com/sase-multiaccount/backend/shared/port/directory"
)

type handler func(s *Server, ctx context.Context, p params) (obj, *rpcError)

// handlers are the RD actions the server implements.
var handlers = map[string]handler{
	"GetResourceDirectory":               (*Server).getResourceDirectory,
	"EnableResourceDirectory":            (*Server).enableResourceDirectory,
	"ListAccounts":                       (*Server).listAccounts,
	"GetAccount":                         (*Server).getAccount,
	"InviteAccountToResourceDirectory":   (*Server).invite,
	"ListHandshakesForResourceDirectory": (*Server).listHandshakes,
	"GetHandshake":                       (*Server).getHandshake,
	"CancelHandshake":                    (*Server).cancelHandshake,
	"ListDelegatedAdministrators":        (*Server).listDelegated,
	"RegisterDelegatedAdministrator":     (*Server).registerDelegated,
	"DeregisterDelegatedAdministrator":   (*Server).deregisterDelegated,
	"ListFoldersForParent":               (*Server).listFoldersForParent,
	"GetFolder":                          (*Server).getFolder,
	"CreateFolder":                       (*Server).createFolder,
	"MoveAccount":                        (*Server).moveAccount,
	"CreateResourceAccount":              (*Server).createResourceAccount,
}

// Actions lists the RD actions the server implements, sorted.
func Actions() []string {
	out := make([]string, 0, len(handlers))
	for a := range handlers {
		out = append(out, a)
	}
	slices.Sort(out)
	return out
}

func (s *Server) getResourceDirectory(ctx context.Context, _ params) (obj, *rpcError) {
	d, err := s.sim.GetDirectory(ctx)
	if err != nil {
		return nil, toRD("GetResourceDirectory", err)
	}
	return obj{"ResourceDirectory": toRDDirectory(d)}, nil
}

func (s *Server) enableResourceDirectory(ctx context.Context, p params) (obj, *rpcError) {
	switch mode := p.get("EnableMode"); mode {
	case "CurrentAccount":
	case "":
		return nil, errMissing("EnableMode")
	case "NewManagementAccount":
		return nil, errInvalid("EnableMode", "This server simulates EnableMode CurrentAccount only.")
	default:
		return nil, errInvalid("EnableMode", "The specified EnableMode %q is invalid.", mode)
	}
	d, err := s.sim.EnableDirectory(ctx)
	if err != nil {
		if apperr.IsCode(err, apperr.CodeDirectoryExists) {
			if _, gerr := s.sim.GetDirectory(ctx); gerr != nil {
				// Refused for a directory, yet the owner has none of its
				// own: it is a member of another one.
				return nil, errf(409, simulation.CodeInAnotherDirectory,
					"The specified account is an Alibaba Cloud account or already exists in another resource directory.")
			}
		}
		return nil, toRD("EnableResourceDirectory", err)
	}
	return obj{"ResourceDirectory": toRDEnabledDirectory(d)}, nil
}

func (s *Server) listAccounts(ctx context.Context, p params) (obj, *rpcError) {
	number, size, e := page(p)
	if e != nil {
		return nil, e
	}
	d, err := s.sim.GetDirectory(ctx)
	if err != nil {
		return nil, toRD("ListAccounts", err)
	}
	tags, e := tagFilter(p)
	if e != nil {
		return nil, e
	}
	all, err := s.sim.ListAccountDetails(ctx)
	if err != nil {
		return nil, toRD("ListAccounts", err)
	}
	if len(tags) > 0 { // RD lists the accounts that carry every given tag
		all = slices.DeleteFunc(all, func(a simulation.AccountDetail) bool { return !s.hasTags(a.AccountID, tags) })
	}
	lo, hi := window(len(all), number, size)
	out := make([]rdListedAccount, 0, hi-lo)
	for _, a := range all[lo:hi] {
		la := rdListedAccount{AccountID: a.AccountID, rdMember: toRDMember(d, a)}
		if includeTags(p) {
			la.Tags = &nestedTags{Tag: s.tagsOf(a.AccountID)}
		}
		out = append(out, la)
	}
	return listPage(len(all), number, size, "Accounts", "Account", out), nil
}

func (s *Server) getAccount(ctx context.Context, p params) (obj, *rpcError) {
	id := p.get("AccountId")
	d, err := s.sim.GetDirectory(ctx)
	if err != nil {
		return nil, toRD("GetAccount", err)
	}
	a, err := s.sim.GetAccountDetail(ctx, id)
	if err != nil {
		return nil, toRD("GetAccount", err)
	}
	ra := rdAccount{
		AccountID:   a.AccountID,
		AccountName: accountName(d, a),
		rdMember:    toRDMember(d, a),
	}
	if includeTags(p) {
		tags := s.tagsOf(a.AccountID)
		ra.Tags = &tags
	}
	return obj{"Account": ra}, nil
}

func (s *Server) invite(ctx context.Context, p params) (obj, *rpcError) {
	tags, e := tagFilter(p)
	if e != nil {
		return nil, e
	}
	inv, err := s.sim.Invite(ctx, p.get("TargetEntity"), p.get("TargetType"), p.get("Note"))
	if err == nil {
		// RD tags the account when it joins; the server keeps the tags
		// under the account's UID (derived from an email as the Sim does).
		uid := inv.TargetEntity
		if inv.TargetType == directory.TargetEmail {
			uid = simulation.EmailAccountID(inv.TargetEntity)
		}
		s.tag(uid, tags)
	}
	return s.handshakeAnswer(ctx, "InviteAccountToResourceDirectory", inv, err)
}

func (s *Server) listHandshakes(ctx context.Context, p params) (obj, *rpcError) {
	number, size, e := page(p)
	if e != nil {
		return nil, e
	}
	d, err := s.sim.GetDirectory(ctx)
	if err != nil {
		return nil, toRD("ListHandshakesForResourceDirectory", err)
	}
	all, err := s.sim.ListInvitationDetails(ctx)
	if err != nil {
		return nil, toRD("ListHandshakesForResourceDirectory", err)
	}
	lo, hi := window(len(all), number, size)
	out := make([]rdHandshake, 0, hi-lo)
	for _, inv := range all[lo:hi] {
		out = append(out, toRDHandshake(d, inv))
	}
	return listPage(len(all), number, size, "Handshakes", "Handshake", out), nil
}

func (s *Server) getHandshake(ctx context.Context, p params) (obj, *rpcError) {
	d, err := s.sim.GetDirectory(ctx)
	if err != nil {
		return nil, toRD("GetHandshake", err)
	}
	id := p.get("HandshakeId")
	if id == "" {
		return nil, toRD("GetHandshake", apperr.Missing("InvitationId"))
	}
	inv, err := s.sim.GetInvitationDetail(ctx, id)
	if err != nil {
		return nil, toRD("GetHandshake", err)
	}
	return obj{"Handshake": rdHandshakeDetail{rdHandshake: toRDHandshake(d, inv)}}, nil
}

func (s *Server) cancelHandshake(ctx context.Context, p params) (obj, *rpcError) {
	inv, err := s.sim.CancelInvitation(ctx, p.get("HandshakeId"))
	return s.handshakeAnswer(ctx, "CancelHandshake", inv, err)
}

// handshakeAnswer is the answer of an action that changed the invitation
// inv (err is the change's outcome): the handshake, with its directory.
func (s *Server) handshakeAnswer(ctx context.Context, action string, inv directory.Invitation, err error) (obj, *rpcError) {
	if err != nil {
		return nil, toRD(action, err)
	}
	d, err := s.sim.GetDirectory(ctx)
	if err != nil {
		return nil, toRD(action, err)
	}
	detail, err := s.sim.GetInvitationDetail(ctx, inv.ID)
	if err != nil {
		return nil, toRD(action, err)
	}
	return obj{"Handshake": toRDHandshake(d, detail)}, nil
}

func (s *Server) checkPrincipal(p params, required bool) (string, *rpcError) {
	principal := p.get("ServicePrincipal")
	if principal == "" {
		if required {
			return "", errMissing("ServicePrincipal")
		}
		return "", nil
	}
	if !s.knownPrincipal(principal) {
		return "", errf(409, "InvalidParameter.ServicePrincipal", "The specified service principal %s is invalid.", principal)
	}
	return principal, nil
}

func (s *Server) listDelegated(ctx context.Context, p params) (obj, *rpcError) {
	number, size, e := page(p)
	if e != nil {
		return nil, e
	}
	principals := s.allPrincipals()
	if want := p.get("ServicePrincipal"); want != "" {
		principals = []string{want} // RD filters; an unknown principal has no administrators
	}
	all := []rdDelegated{} // none is "Account":[], never null, as RD answers
	for _, pr := range principals {
		admins, err := s.sim.ListDelegatedAdminsFor(ctx, pr)
		if err != nil {
			return nil, toRD("ListDelegatedAdministrators", err)
		}
		for _, a := range admins {
			joinMethod := ""
			if acc, err := s.sim.GetAccount(ctx, a.AccountID); err == nil {
				joinMethod = acc.JoinMethod
			}
			all = append(all, rdDelegated{
				AccountID:             a.AccountID,
				DisplayName:           a.DisplayName,
				JoinMethod:            joinMethod,
				ServicePrincipal:      pr,
				DelegationEnabledTime: strconv.FormatInt(a.EnabledTime.UnixMilli(), 10),
			})
		}
	}
	if len(principals) == 0 { // no principal known: still "no directory" when there is none
		if _, err := s.sim.GetDirectory(ctx); err != nil {
			return nil, toRD("ListDelegatedAdministrators", err)
		}
	}
	lo, hi := window(len(all), number, size)
	return listPage(len(all), number, size, "Accounts", "Account", all[lo:hi]), nil
}

func (s *Server) registerDelegated(ctx context.Context, p params) (obj, *rpcError) {
	principal, e := s.checkPrincipal(p, true)
	if e != nil {
		return nil, e
	}
	id := p.get("AccountId")
	// The Sim treats a repeat as a no-op (the port's semantics); RD refuses.
	already := false
	if admins, err := s.sim.ListDelegatedAdminsFor(ctx, principal); err == nil {
		already = slices.ContainsFunc(admins, func(a directory.DelegatedAdmin) bool { return a.AccountID == id })
	}
	if err := s.sim.RegisterDelegatedAdminFor(ctx, id, principal); err != nil {
		if apperr.IsCode(err, apperr.InvalidParameter("AccountId")) {
			if d, derr := s.sim.GetDirectory(ctx); derr == nil && d.ManagementAccountID == id {
				return nil, errf(409, "CannotRegisterMasterAsDelegatedAdministrator",
					"The management account %s cannot be registered as a delegated administrator.", id)
			}
		}
		if apperr.IsCode(err, apperr.CodeAccountNotFound) {
			// RD documents no code for an account outside the directory:
			// the gateway's InvalidParameter.
			return nil, errInvalid("AccountId", "The account %s is not a member of the resource directory.", id)
		}
		return nil, toRD("RegisterDelegatedAdministrator", err)
	}
	if already {
		return nil, errf(409, "AccountAlreadyRegistered", "The account %s is already registered as a delegated administrator of %s.", id, principal)
	}
	return obj{}, nil
}

func (s *Server) deregisterDelegated(ctx context.Context, p params) (obj, *rpcError) {
	principal, e := s.checkPrincipal(p, true)
	if e != nil {
		return nil, e
	}
	if err := s.sim.DeregisterDelegatedAdminFor(ctx, p.get("AccountId"), principal); err != nil {
		return nil, toRD("DeregisterDelegatedAdministrator", err)
	}
	return obj{}, nil
}
