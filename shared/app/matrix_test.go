package app_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sase-multiaccount/backend/shared/action"
	"github.com/sase-multiaccount/backend/shared/role"
	"github.com/sase-multiaccount/backend/shared/rolecheck"
)

// designMatrix is DESIGN.md §2 written out by hand, independently of
// rolecheck.Policy, so that a change to the policy table that drifts from the
// design fails here rather than passing the matrix below by construction.
var designMatrix = func() map[action.Action]map[rolecheck.Role]rolecheck.Decision {
	const (
		ok  = rolecheck.Allow
		no  = rolecheck.Deny
		nd  = rolecheck.NoDirectory
		dup = rolecheck.InDirectory
	)
	type row struct{ owner, ma, da, member, none rolecheck.Decision }
	rows := map[action.Action]row{
		action.DescribeSetup:            {ok, ok, ok, ok, no},
		action.EnableDirectory:          {ok, ok, dup, dup, no},
		action.InviteAccounts:           {nd, ok, no, no, no},
		action.ListInvitations:          {nd, ok, no, no, no},
		action.CancelInvitation:         {nd, ok, no, no, no},
		action.RegisterDelegatedAdmin:   {nd, ok, no, no, no},
		action.DeregisterDelegatedAdmin: {nd, ok, no, no, no},
		action.ListCandidates:           {nd, ok, ok, no, no},
		action.ListFolders:              {nd, ok, ok, no, no},
		action.AddMembers:               {nd, ok, ok, no, no},
		action.ListMembers:              {nd, ok, ok, no, no},
		action.UpdateMemberRemark:       {nd, ok, ok, no, no},
		action.DeleteMembers:            {nd, ok, ok, no, no},
		action.ListAuditEvents:          {nd, ok, ok, no, no},
		action.GetEnrollmentPolicy:      {nd, ok, ok, no, no},
		action.UpdateEnrollmentPolicy:   {nd, ok, ok, no, no},
		action.ListAccess:               {nd, ok, ok, no, no},
		action.GrantAccess:              {nd, ok, ok, no, no},
		action.RevokeAccess:             {nd, ok, ok, no, no},
		action.GetMember:                {nd, ok, ok, no, no},
		action.ListMemberChanges:        {nd, ok, ok, no, no},
		action.ListWebhooks:             {nd, ok, ok, no, no},
		action.PutWebhook:               {nd, ok, ok, no, no},
		action.DeleteWebhook:            {nd, ok, ok, no, no},
		action.TestWebhook:              {nd, ok, ok, no, no},
	}
	out := map[action.Action]map[rolecheck.Role]rolecheck.Decision{}
	for a, r := range rows {
		out[a] = map[rolecheck.Role]rolecheck.Decision{
			rolecheck.RoleOwner: r.owner, rolecheck.RoleManagement: r.ma, rolecheck.RoleDelegated: r.da,
			rolecheck.RoleMember: r.member, rolecheck.RoleNone: r.none,
		}
	}
	return out
}()

// designAccess is API.md's access-role table written out by hand: the least
// access role each action needs where the account's role allows it.
// Viewer: describe-setup, list-*, get-* but list-access; Operator: add,
// remark and delete members; the rest: Administrator.
var designAccess = map[action.Action]role.Access{
	action.DescribeSetup:            role.NoAccess,
	action.EnableDirectory:          role.Administrator,
	action.InviteAccounts:           role.Administrator,
	action.ListInvitations:          role.Viewer,
	action.CancelInvitation:         role.Administrator,
	action.RegisterDelegatedAdmin:   role.Administrator,
	action.DeregisterDelegatedAdmin: role.Administrator,
	action.ListCandidates:           role.Viewer,
	action.ListFolders:              role.Viewer,
	action.AddMembers:               role.Operator,
	action.ListMembers:              role.Viewer,
	action.UpdateMemberRemark:       role.Operator,
	action.DeleteMembers:            role.Operator,
	action.ListAuditEvents:          role.Viewer,
	action.GetEnrollmentPolicy:      role.Viewer,
	action.UpdateEnrollmentPolicy:   role.Administrator,
	action.ListAccess:               role.Administrator,
	action.GrantAccess:              role.Administrator,
	action.RevokeAccess:             role.Administrator,
	action.GetMember:                role.Viewer,
	action.ListMemberChanges:        role.Viewer,
	action.ListWebhooks:             role.Administrator,
	action.PutWebhook:               role.Administrator,
	action.DeleteWebhook:            role.Administrator,
	action.TestWebhook:              role.Administrator,
}

// callerRoles are the roles a caller can have; RoleSystem never calls.
var callerRoles = []rolecheck.Role{rolecheck.RoleOwner, rolecheck.RoleManagement, rolecheck.RoleDelegated, rolecheck.RoleMember, rolecheck.RoleNone}

func TestPolicyMatchesDesign(t *testing.T) {
	for action, rule := range rolecheck.Policy {
		cells := rule.Roles
		if rule.Access != designAccess[action] {
			t.Errorf("Policy[%s] needs access role %q, API.md says %q", action, rule.Access, designAccess[action])
		}
		want, ok := designMatrix[action]
		if !ok {
			t.Errorf("action %s is in rolecheck.Policy but not in DESIGN.md §2 (designMatrix)", action)
			continue
		}
		for role := range cells {
			if !slices.Contains(callerRoles, role) {
				t.Errorf("Policy[%s] has a cell for role %s, which no caller can have", action, role)
			}
		}
		for _, role := range callerRoles {
			if got := cells[role]; got != want[role] {
				t.Errorf("Policy[%s][%s] = %v, DESIGN.md §2 says %v", action, role, got, want[role])
			}
		}
	}
	for action := range designMatrix {
		if _, ok := rolecheck.Policy[action]; !ok {
			t.Errorf("DESIGN.md §2 action %s is missing from rolecheck.Policy", action)
		}
	}
}

func TestEveryPolicyActionIsOneEndpoint(t *testing.T) {
	k := newKit(t)
	seen := map[action.Action]string{}
	for _, ep := range k.app.Endpoints() {
		if _, ok := rolecheck.Policy[ep.Action]; !ok {
			t.Errorf("function %s asks for action %q, which the policy table does not know", ep.Name, ep.Action)
		}
		if prev, dup := seen[ep.Action]; dup {
			t.Errorf("functions %s and %s share action %s", prev, ep.Name, ep.Action)
		}
		seen[ep.Action] = ep.Name
		if ep.Name != string(ep.Action) {
			t.Errorf("function %s checks action %s", ep.Name, ep.Action)
		}
		if ep.Method != "GET" && ep.Method != "POST" {
			t.Errorf("function %s has method %s", ep.Name, ep.Method)
		}
	}
	for _, a := range rolecheck.Actions() {
		if _, ok := seen[a]; !ok {
			t.Errorf("policy action %s has no HTTP function", a)
		}
	}
	if len(seen) != 25 {
		t.Errorf("%d HTTP functions, API.md lists 25", len(seen))
	}
}

// matrixCase is a valid request of one action, the kind an allowed caller
// gets a 2xx for, and what that success looks like.
type matrixCase struct {
	request func(fx fixture) request
	// writes: an allowed call changes state (enable-directory only for the
	// owner before step 1; for the MA it is an idempotent read).
	writes func(role rolecheck.Role) bool
	verify func(t *testing.T, k *kit, role rolecheck.Role, r response)
	// setup, when set, adds what the request needs to the standard
	// fixture (matrix_follow_test.go).
	setup func(k *kit, fx fixture)
}

func always(rolecheck.Role) bool { return true }
func never(rolecheck.Role) bool  { return false }

var matrixCases = map[action.Action]matrixCase{
	action.DescribeSetup: {
		request: func(fixture) request { return request{Fn: "describe-setup"} },
		writes:  never,
		verify: func(t *testing.T, k *kit, role rolecheck.Role, r response) {
			var out struct {
				Caller struct{ AccountId, Role string }
			}
			r.decode(t, &out)
			if out.Caller.Role != string(role) {
				t.Errorf("Caller.Role = %q, want %q", out.Caller.Role, role)
			}
			if role == rolecheck.RoleMember {
				if got := r.keys(); !slices.Equal(got, []string{"Caller", "RequestId", "ResourceDirectory"}) {
					t.Errorf("a member sees %v, want only Caller and ResourceDirectory", got)
				}
			}
		},
	},
	action.EnableDirectory: {
		request: func(fixture) request { return request{Fn: "enable-directory", Body: "{}"} },
		writes:  func(role rolecheck.Role) bool { return role == rolecheck.RoleOwner },
		verify: func(t *testing.T, k *kit, role rolecheck.Role, r response) {
			var out struct {
				ResourceDirectory struct{ DirectoryId, ManagementAccountId string }
			}
			r.decode(t, &out)
			if out.ResourceDirectory.ManagementAccountId != ownerID || !strings.HasPrefix(out.ResourceDirectory.DirectoryId, "rd-") {
				t.Errorf("ResourceDirectory = %+v", out.ResourceDirectory)
			}
		},
	},
	action.InviteAccounts: {
		request: func(fixture) request {
			return request{Fn: "invite-accounts", Body: map[string]any{"Targets": []map[string]string{{"AccountId": freshID}}, "Note": "welcome"}}
		},
		writes: always,
		verify: func(t *testing.T, k *kit, role rolecheck.Role, r response) {
			var out struct {
				Results []struct{ Target, Status, InvitationId string }
			}
			r.decode(t, &out)
			if len(out.Results) != 1 || out.Results[0].Status != "Invited" || !strings.HasPrefix(out.Results[0].InvitationId, "h-") {
				t.Errorf("Results = %+v", out.Results)
			}
		},
	},
	action.ListInvitations: {
		request: func(fixture) request {
			return request{Fn: "list-invitations", Query: map[string]string{"Status": "Pending"}}
		},
		writes: never,
		verify: func(t *testing.T, k *kit, role rolecheck.Role, r response) {
			var out struct {
				Invitations []struct{ InvitationId string }
				TotalCount  int
			}
			r.decode(t, &out)
			if len(out.Invitations) != 1 || out.TotalCount != 1 {
				t.Errorf("list-invitations = %+v", out)
			}
		},
	},
	action.CancelInvitation: {
		request: func(fx fixture) request {
			return request{Fn: "cancel-invitation", Body: map[string]string{"InvitationId": fx.pending.ID}}
		},
		writes: always,
		verify: func(t *testing.T, k *kit, role rolecheck.Role, r response) {
			var out struct{ Invitation struct{ Status string } }
			r.decode(t, &out)
			if out.Invitation.Status != "Cancelled" {
				t.Errorf("Invitation.Status = %q", out.Invitation.Status)
			}
		},
	},
	action.RegisterDelegatedAdmin: {
		// The matrix kit allows two delegated administrators, so that
		// registering a second one is a real write while DA exists.
		request: func(fixture) request {
			return request{Fn: "register-delegated-admin", Body: map[string]string{"AccountId": member2ID}}
		},
		writes: always,
		verify: func(t *testing.T, k *kit, role rolecheck.Role, r response) {
			var out struct {
				DelegatedAdministrator struct{ AccountId, DisplayName string }
			}
			r.decode(t, &out)
			if out.DelegatedAdministrator.AccountId != member2ID || out.DelegatedAdministrator.DisplayName != "Mona Member" {
				t.Errorf("DelegatedAdministrator = %+v", out.DelegatedAdministrator)
			}
		},
	},
	action.DeregisterDelegatedAdmin: {
		request: func(fixture) request {
			return request{Fn: "deregister-delegated-admin", Body: map[string]string{"AccountId": daID}}
		},
		writes: always,
		verify: func(t *testing.T, k *kit, role rolecheck.Role, r response) {
			if got := r.keys(); !slices.Equal(got, []string{"RequestId"}) {
				t.Errorf("deregister answered keys %v, want {}", got)
			}
		},
	},
	action.ListFolders: {
		request: func(fixture) request { return request{Fn: "list-folders"} },
		writes:  never,
		verify: func(t *testing.T, k *kit, role rolecheck.Role, r response) {
			var out struct {
				Folders []struct{ FolderPath string }
			}
			r.decode(t, &out)
			if len(out.Folders) == 0 || out.Folders[0].FolderPath != "/" {
				t.Errorf("folders = %+v, want the root first", out.Folders)
			}
		},
	},
	action.ListCandidates: {
		request: func(fixture) request { return request{Fn: "list-candidates"} },
		writes:  never,
		verify: func(t *testing.T, k *kit, role rolecheck.Role, r response) {
			var out struct {
				Accounts   []struct{ AccountId string }
				TotalCount int
			}
			r.decode(t, &out)
			var ids []string
			for _, a := range out.Accounts {
				ids = append(ids, a.AccountId)
			}
			want := []string{daID, memberID, member2ID, candID, cand2ID}
			if !slices.Equal(sortedCopy(ids), sortedCopy(want)) || out.TotalCount != len(want) {
				t.Errorf("candidates = %v (total %d), want %v", ids, out.TotalCount, want)
			}
		},
	},
	action.AddMembers: {
		request: func(fixture) request {
			return request{Fn: "add-members", Body: map[string]any{"Members": []map[string]string{{"AccountId": candID, "Remark": "matrix"}}}}
		},
		writes: always,
		verify: func(t *testing.T, k *kit, role rolecheck.Role, r response) {
			var out struct {
				AddedCount int
				Results    []struct{ AccountId, Status string }
			}
			r.decode(t, &out)
			if out.AddedCount != 1 || len(out.Results) != 1 || out.Results[0].Status != "Added" {
				t.Errorf("add-members = %+v", out)
			}
		},
	},
	action.ListMembers: {
		request: func(fixture) request { return request{Fn: "list-members"} },
		writes:  never,
		verify: func(t *testing.T, k *kit, role rolecheck.Role, r response) {
			var out struct {
				Members    []struct{ AccountId string }
				TotalCount int
			}
			r.decode(t, &out)
			if out.TotalCount != 1 || len(out.Members) != 1 || out.Members[0].AccountId != saseID {
				t.Errorf("list-members = %+v", out)
			}
		},
	},
	action.UpdateMemberRemark: {
		request: func(fixture) request {
			return request{Fn: "update-member-remark", Body: map[string]any{"AccountId": saseID, "Remark": "changed", "Version": 1}}
		},
		writes: always,
		verify: func(t *testing.T, k *kit, role rolecheck.Role, r response) {
			var out struct {
				Member struct {
					Remark  string
					Version int64
				}
			}
			r.decode(t, &out)
			if out.Member.Remark != "changed" || out.Member.Version != 2 {
				t.Errorf("Member = %+v", out.Member)
			}
		},
	},
	action.DeleteMembers: {
		request: func(fixture) request {
			return request{Fn: "delete-members", Body: map[string]any{"AccountIds": []string{saseID}}}
		},
		writes: always,
		verify: func(t *testing.T, k *kit, role rolecheck.Role, r response) {
			var out struct{ DeletedCount int }
			r.decode(t, &out)
			if out.DeletedCount != 1 {
				t.Errorf("DeletedCount = %d", out.DeletedCount)
			}
		},
	},
	action.ListAuditEvents: {
		request: func(fixture) request { return request{Fn: "list-audit-events"} },
		writes:  never,
		verify: func(t *testing.T, k *kit, role rolecheck.Role, r response) {
			if _, ok := r.Obj["Events"]; !ok {
				t.Errorf("no Events in %s", r.Body)
			}
		},
	},
	action.GetEnrollmentPolicy: {
		request: func(fixture) request { return request{Fn: "get-enrollment-policy"} },
		writes:  never,
		verify: func(t *testing.T, k *kit, role rolecheck.Role, r response) {
			var out struct{ Policy struct{ Mode string } }
			r.decode(t, &out)
			if out.Policy.Mode != "Off" {
				t.Errorf("Policy = %s", r.Body)
			}
		},
	},
	action.UpdateEnrollmentPolicy: {
		request: func(fixture) request {
			return request{Fn: "update-enrollment-policy", Body: map[string]any{"Mode": "AllAccounts", "Version": 0}}
		},
		writes: always,
		verify: func(t *testing.T, k *kit, role rolecheck.Role, r response) {
			var out struct {
				Policy  struct{ Version int64 }
				Preview struct{ WouldAddCount int }
			}
			r.decode(t, &out)
			if out.Policy.Version != 1 || out.Preview.WouldAddCount == 0 {
				t.Errorf("answer %s", r.Body)
			}
		},
	},
}

// People of the delegated administrator the access cases act on.
const (
	grantTarget  = "2000000000000888" // grant-access gives them Viewer
	revokeTarget = "2000000000000999" // the matrix kit gives them Viewer; revoke-access takes it
)

func init() {
	matrixCases[action.ListAccess] = matrixCase{
		request: func(fixture) request { return request{Fn: "list-access"} },
		writes:  never,
		verify: func(t *testing.T, k *kit, r rolecheck.Role, resp response) {
			var out struct {
				Grants []struct{ AccountId, UserId, AccessRole string }
			}
			resp.decode(t, &out)
			// The DA's people's grants, and the MA's for the MA: never a
			// member's or a stranger's (the kit seeds some).
			for _, g := range out.Grants {
				if g.AccountId != daID && (r != rolecheck.RoleManagement || g.AccountId != ownerID) {
					t.Errorf("%s sees the grant %+v", r, g)
				}
			}
			if !slices.ContainsFunc(out.Grants, func(g struct{ AccountId, UserId, AccessRole string }) bool { return g.UserId == revokeTarget }) {
				t.Errorf("grants %+v lack the DA's person %s", out.Grants, revokeTarget)
			}
		},
	}
	matrixCases[action.GrantAccess] = matrixCase{
		request: func(fixture) request {
			return request{Fn: "grant-access", Body: map[string]any{"AccountId": daID, "UserId": grantTarget, "AccessRole": "Viewer"}}
		},
		writes: always,
		verify: func(t *testing.T, k *kit, r rolecheck.Role, resp response) {
			var out struct {
				Grant struct{ AccountId, UserId, AccessRole, GrantedBy string }
			}
			resp.decode(t, &out)
			if out.Grant.AccountId != daID || out.Grant.UserId != grantTarget || out.Grant.AccessRole != "Viewer" || out.Grant.GrantedBy == "" {
				t.Errorf("Grant = %+v", out.Grant)
			}
		},
	}
	matrixCases[action.RevokeAccess] = matrixCase{
		request: func(fixture) request {
			return request{Fn: "revoke-access", Body: map[string]any{"AccountId": daID, "UserId": revokeTarget}}
		},
		writes: always,
		verify: func(t *testing.T, k *kit, r rolecheck.Role, resp response) {
			if got := resp.keys(); !slices.Equal(got, []string{"RequestId"}) {
				t.Errorf("revoke answered keys %v, want {}", got)
			}
		},
	}
}

// roleAccount is the caller of each role in the standard fixture.
var roleAccount = map[rolecheck.Role]string{
	rolecheck.RoleOwner:      ownerID,
	rolecheck.RoleManagement: ownerID,
	rolecheck.RoleDelegated:  daID,
	rolecheck.RoleMember:     memberID,
	rolecheck.RoleNone:       strangerID,
}

// A matrix person: the root identity of the caller's account, or a RAM user
// of it (matrixUser) with an access role. In a directory the RAM user's
// access role is a grant, seeded in the store, also for a member's and a
// stranger's person (where it must count for nothing); before the
// directory it comes from SASE_ADMINISTRATORS (Administrator) or
// NEW_USER_ACCESS (Operator, Viewer).
const (
	matrixUser = "2000000000000777"
	rootPerson = "Root"
)

// matrixPeople are the people of every account role in the matrix.
var matrixPeople = []string{rootPerson, string(role.Administrator), string(role.Operator), string(role.Viewer), string(role.NoAccess)}

// matrixKit is the fresh deployment of one cell, with the person's access.
func matrixKit(t *testing.T, rd bool, who string, mc matrixCase) (*kit, fixture) {
	opts := []kitOption{withMaxDelegated(2)}
	if !rd {
		switch role.Access(who) {
		case role.Administrator:
			opts = append(opts, withEnv("SASE_ADMINISTRATORS", ownerID+":"+matrixUser+","+strangerID+":"+matrixUser))
		case role.Operator, role.Viewer:
			opts = append(opts, withEnv("NEW_USER_ACCESS", who))
		}
	}
	k := newKit(t, opts...)
	if !rd {
		return k, fixture{}
	}
	fx := k.standard()
	if mc.setup != nil {
		mc.setup(k, fx)
	}
	// revoke-access's target, a person of the DA.
	k.seedGrant(fx.dir.ID, daID, revokeTarget, role.Viewer)
	if who != rootPerson && who != string(role.NoAccess) {
		for _, acct := range roleAccount {
			k.seedGrant(fx.dir.ID, acct, matrixUser, role.Access(who))
		}
	}
	k.app.Invalidate()
	return k, fx
}

// expected is the design's answer for a cell: designMatrix for the
// account's role, then designAccess for the person's access role.
func expected(act action.Action, r rolecheck.Role, who string) rolecheck.Decision {
	d := designMatrix[act][r]
	if d != rolecheck.Allow || who == rootPerson {
		return d
	}
	access := role.Access(who)
	if r == rolecheck.RoleMember || r == rolecheck.RoleNone {
		access = role.NoAccess // their people's grants count for nothing
	}
	if !access.AtLeast(designAccess[act]) {
		return rolecheck.DenyAccess
	}
	return d
}

// TestRoleMatrix calls every action of rolecheck.Policy as every caller role
// and every person of it, before step 1 (owner, anyone else) and after it
// (MA, DA, member, anyone else), each cell on a fresh deployment. An allowed
// cell answers 200; every other cell answers exactly the status and code of
// API.md and writes nothing: the directory, the member rows, the member
// count, the grants and the audit trail are compared before and after. The
// requests are the same valid ones that succeed for allowed cells, so
// "nothing written" is not vacuous.
func TestRoleMatrix(t *testing.T) {
	phases := []struct {
		name  string
		rd    bool
		roles []rolecheck.Role
	}{
		{"no-RD", false, []rolecheck.Role{rolecheck.RoleOwner, rolecheck.RoleNone}},
		{"RD", true, []rolecheck.Role{rolecheck.RoleManagement, rolecheck.RoleDelegated, rolecheck.RoleMember, rolecheck.RoleNone}},
	}
	for _, act := range rolecheck.Actions() {
		mc, ok := matrixCases[act]
		if !ok {
			t.Errorf("action %s has no matrix case: add one to matrixCases", act)
			continue
		}
		for _, ph := range phases {
			for _, r := range ph.roles {
				for _, who := range matrixPeople {
					t.Run(string(act)+"/"+ph.name+"/"+string(r)+"/"+who, func(t *testing.T) {
						t.Parallel()
						k, fx := matrixKit(t, ph.rd, who, mc)
						rq := mc.request(fx)
						rq.As = roleAccount[r]
						if who != rootPerson {
							rq.User, rq.Name = matrixUser, "matrix@example.onaliyun.com"
						}
						matrixCell(t, k, fx, act, r, who, rq)
					})
				}
			}
		}
	}
}

// matrixCell sends rq and checks the answer and the writes against the
// design.
func matrixCell(t *testing.T, k *kit, fx fixture, act action.Action, r rolecheck.Role, who string, rq request) {
	mc := matrixCases[act]
	before := k.snapshot()
	resp := k.do(t, rq)
	after := k.snapshot()
	switch expected(act, r, who) {
	case rolecheck.Allow:
		wantOK(t, resp)
		mc.verify(t, k, r, resp)
		if mc.writes(r) && before == after {
			t.Errorf("an allowed %s changed nothing; the denied cells' no-write check would be vacuous", act)
		}
		if !mc.writes(r) && before != after {
			t.Errorf("%s by %s wrote:\n%s", act, r, diff(before, after))
		}
		return
	case rolecheck.NoDirectory:
		wantErr(t, resp, 404, "EntityNotExists.ResourceDirectory", "enable-directory")
	case rolecheck.InDirectory:
		wantErr(t, resp, 409, "EntityAlreadyExists.ResourceDirectory", fx.dir.ID)
	case rolecheck.DenyAccess:
		wantErr(t, resp, 403, "Forbidden.AccessRole", string(act), who, rq.As, rq.User, "matrix@example.onaliyun.com")
	default:
		mention := string(r)
		if r == rolecheck.RoleNone {
			mention = "none"
		}
		wantErr(t, resp, 403, "Forbidden.Role", mention, string(act), rq.As)
	}
	if before != after {
		t.Errorf("denied %s by %s (%s) wrote:\n%s", act, r, who, diff(before, after))
	}
}

// TestEscalationAttempts: a member or stranger may not make itself delegated
// administrator, and the DA may not remove itself or invite.
func TestEscalationAttempts(t *testing.T) {
	k := newKit(t)
	k.enable()
	k.seedAccounts(map[string]string{memberID: "Mike Member", daID: ""})
	before := k.snapshot()
	for _, who := range []string{memberID, strangerID} {
		r := k.post(t, "register-delegated-admin", who, map[string]string{"AccountId": who})
		wantErr(t, r, 403, "Forbidden.Role")
		r = k.post(t, "add-members", who, map[string]any{"Members": []map[string]string{{"AccountId": who}}})
		wantErr(t, r, 403, "Forbidden.Role")
	}
	if after := k.snapshot(); after != before {
		t.Fatalf("escalation attempts wrote:\n%s", diff(before, after))
	}
	wantOK(t, k.post(t, "register-delegated-admin", ownerID, map[string]string{"AccountId": daID}))
	before = k.snapshot()
	wantErr(t, k.post(t, "deregister-delegated-admin", daID, map[string]string{"AccountId": daID}), 403, "Forbidden.Role")
	wantErr(t, k.post(t, "invite-accounts", daID, map[string]any{"Targets": []map[string]string{{"AccountId": freshID}}}), 403, "Forbidden.Role")
	if after := k.snapshot(); after != before {
		t.Fatalf("DA escalation attempts wrote:\n%s", diff(before, after))
	}
}

// TestRoleCacheTTL: roles are cached per instance for ROLE_CACHE_TTL
// (DESIGN.md §2). A change made through this instance (enable, register,
// deregister) takes effect at once; a change made elsewhere in RD is seen
// when the entry expires, or at once when a directory event reaches the
// instance's cache.
func TestRoleCacheTTL(t *testing.T) {
	for _, events := range []bool{false, true} {
		name := "no events"
		opts := []kitOption{withEnv("ROLE_CACHE_TTL", "60s")}
		if events {
			name = "events invalidate"
			opts = append(opts, withEventInvalidation())
		}
		t.Run(name, func(t *testing.T) {
			k := newKit(t, opts...)
			k.enable()
			const alpha = "6100000000000001"
			wantErr(t, k.get(t, "describe-setup", alpha, nil), 403, "Forbidden.Role") // cached: none
			inv, err := k.sim.Invite(k.ctx, alpha, "Account", "")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := k.sim.AcceptInvitation(k.ctx, inv.ID, "Alpha"); err != nil {
				t.Fatal(err)
			}
			k.clock.Advance(59 * time.Second)
			r := k.get(t, "describe-setup", alpha, nil)
			if events {
				wantOK(t, r)
			} else {
				wantErr(t, r, 403, "Forbidden.Role")
			}
			k.clock.Advance(2 * time.Second)
			wantOK(t, k.get(t, "describe-setup", alpha, nil))
			// Registered through this instance: at once, whatever was cached.
			wantErr(t, k.get(t, "list-members", alpha, nil), 403, "Forbidden.Role")
			wantOK(t, k.post(t, "register-delegated-admin", ownerID, map[string]string{"AccountId": alpha}))
			wantOK(t, k.get(t, "list-members", alpha, nil))
			// Deregistered in RD directly (not through this instance).
			if err := k.sim.DeregisterDelegatedAdmin(k.ctx, alpha); err != nil {
				t.Fatal(err)
			}
			r = k.get(t, "list-members", alpha, nil)
			if events {
				wantErr(t, r, 403, "Forbidden.Role")
			} else {
				wantOK(t, r) // stale for at most the TTL
			}
			k.clock.Advance(61 * time.Second)
			wantErr(t, k.get(t, "list-members", alpha, nil), 403, "Forbidden.Role")
		})
	}
	t.Run("TTL 0 disables the cache", func(t *testing.T) {
		k := newKit(t, withEnv("ROLE_CACHE_TTL", "0s"))
		k.standard()
		for range 3 {
			k.get(t, "list-members", daID, nil)
			if got := k.dir.take(); got["GetDirectory"] != 1 || got["ListDelegatedAdmins"] != 1 {
				t.Fatalf("directory calls %v with the cache off", got)
			}
		}
	})
}
