package app_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sase-multiaccount/backend/shared/endpoints"
	"github.com/sase-multiaccount/backend/shared/local/simulation"
	"github.com/sase-multiaccount/backend/shared/port/directory"
	"github.com/sase-multiaccount/backend/shared/usecase/dirsync"
)

type describeOut struct {
	Caller            struct{ AccountId, Role string }
	ResourceDirectory *struct {
		DirectoryId, ManagementAccountId, ManagementAccountName, CreateTime string
	}
	DelegatedAdministrator *struct{ AccountId, DisplayName, DelegationEnabledTime string }
	Steps                  struct {
		DirectoryEnabled, MembersInvited, DelegatedAdministratorAdded, MembersAdded bool
	}
	DirectoryAccountCount, MemberCount int
}

type inviteOut struct {
	Results []struct{ Target, Status, InvitationId, Code, Message string }
}

func describe(t *testing.T, k *kit, as string) describeOut {
	t.Helper()
	r := k.get(t, "describe-setup", as, nil)
	wantOK(t, r)
	var out describeOut
	r.decode(t, &out)
	return out
}

// TestSetupFlow walks the four steps through the HTTP functions, as the
// console would, checking describe-setup and the roles at every turn.
func TestSetupFlow(t *testing.T) {
	k := newKit(t)
	const alpha, bravo = "6100000000000001", "6200000000000002"
	email := "Carol@Example.com"
	carol := simulation.EmailAccountID(email)

	// Before step 1.
	d := describe(t, k, ownerID)
	if d.Caller.Role != "Owner" || d.Caller.AccountId != ownerID || d.ResourceDirectory != nil || d.DelegatedAdministrator != nil ||
		d.Steps.DirectoryEnabled || d.Steps.MembersInvited || d.Steps.DelegatedAdministratorAdded || d.Steps.MembersAdded {
		t.Fatalf("owner before step 1: %+v", d)
	}
	r := k.get(t, "describe-setup", ownerID, nil)
	if string(r.Obj["ResourceDirectory"]) != "null" || string(r.Obj["DelegatedAdministrator"]) != "null" {
		t.Fatalf("absent objects must be null: %s", r.Body)
	}
	wantErr(t, k.get(t, "describe-setup", alpha, nil), 403, "Forbidden.Role")
	wantErr(t, k.get(t, "list-members", ownerID, nil), 404, "EntityNotExists.ResourceDirectory", "enable-directory")

	// Step 1, twice: the same directory.
	k.clock.Advance(time.Second)
	r = k.post(t, "enable-directory", ownerID, "{}")
	wantOK(t, r)
	var en struct {
		ResourceDirectory struct{ DirectoryId, ManagementAccountId, ManagementAccountName, CreateTime string }
	}
	r.decode(t, &en)
	rd := en.ResourceDirectory
	if !strings.HasPrefix(rd.DirectoryId, "rd-") || rd.ManagementAccountId != ownerID || rd.ManagementAccountName == "" || rd.CreateTime != "2026-11-24T08:00:01Z" {
		t.Fatalf("enable-directory: %+v", rd)
	}
	k.clock.Advance(time.Second)
	r = k.post(t, "enable-directory", ownerID, "{}")
	wantOK(t, r)
	var again struct {
		ResourceDirectory struct{ DirectoryId, CreateTime string }
	}
	r.decode(t, &again)
	if again.ResourceDirectory.DirectoryId != rd.DirectoryId || again.ResourceDirectory.CreateTime != rd.CreateTime {
		t.Fatalf("enable again: %+v, first %+v", again.ResourceDirectory, rd)
	}
	d = describe(t, k, ownerID)
	if d.Caller.Role != "ManagementAccount" || d.ResourceDirectory == nil || d.ResourceDirectory.DirectoryId != rd.DirectoryId ||
		!d.Steps.DirectoryEnabled || d.Steps.MembersInvited || d.DirectoryAccountCount != 1 || d.MemberCount != 0 {
		t.Fatalf("after step 1: %+v", d)
	}

	// Step 2: invite two accounts and an email.
	r = k.post(t, "invite-accounts", ownerID, map[string]any{"Note": "Join SASE", "Targets": []map[string]string{
		{"AccountId": alpha}, {"AccountId": bravo}, {"Email": email}, {"AccountId": alpha}}})
	wantOK(t, r)
	var inv inviteOut
	r.decode(t, &inv)
	if len(inv.Results) != 3 {
		t.Fatalf("repeated targets count once: %+v", inv)
	}
	ids := map[string]string{}
	for _, res := range inv.Results {
		if res.Status != "Invited" || !strings.HasPrefix(res.InvitationId, "h-") {
			t.Fatalf("invite result %+v", res)
		}
		ids[res.Target] = res.InvitationId
	}
	if _, ok := ids[strings.ToLower(email)]; !ok {
		t.Fatalf("email target not reported lower-cased: %+v", inv)
	}
	// list-invitations: all pending, newest first, paged.
	var listed []string
	q := map[string]string{"MaxResults": "2", "Status": "Pending"}
	for {
		r := k.get(t, "list-invitations", ownerID, q)
		wantOK(t, r)
		var out struct {
			Invitations []struct{ InvitationId, TargetEntity, TargetType, Status, Note, CreateTime, ExpireTime string }
			TotalCount  int
			NextToken   *string
		}
		r.decode(t, &out)
		if out.TotalCount != 3 {
			t.Fatalf("list-invitations TotalCount %d", out.TotalCount)
		}
		for _, i := range out.Invitations {
			if i.Status != "Pending" || i.Note != "Join SASE" || i.CreateTime == "" || i.ExpireTime <= i.CreateTime {
				t.Errorf("invitation %+v", i)
			}
			listed = append(listed, i.InvitationId)
		}
		if out.NextToken == nil {
			break
		}
		q["NextToken"] = *out.NextToken
	}
	if len(listed) != 3 || !slices.Contains(listed, ids[alpha]) || !slices.Contains(listed, ids[bravo]) {
		t.Fatalf("listed invitations %v, sent %v", listed, ids)
	}

	// Alpha and Bravo accept; Carol's is cancelled.
	if _, err := k.sim.AcceptInvitation(k.ctx, ids[alpha], "Alpha Ops"); err != nil {
		t.Fatal(err)
	}
	if _, err := k.sim.AcceptInvitation(k.ctx, ids[bravo], "Bravo Dev"); err != nil {
		t.Fatal(err)
	}
	// RD tells the management account nothing; check-handshakes' timer
	// puts them in the directory mirror, where candidates come from.
	if n, err := k.app.TimerHandler(endpoints.CheckHandshakes)(k.ctx, []byte(`{}`)); err != nil || n.(dirsync.HandshakeCounts).Mirrored != 2 {
		t.Fatalf("handshake check after two acceptances: %+v, %v", n, err)
	}
	r = k.post(t, "cancel-invitation", ownerID, map[string]string{"InvitationId": ids[strings.ToLower(email)]})
	wantOK(t, r)
	var c struct {
		Invitation struct{ InvitationId, Status, TargetType string }
	}
	r.decode(t, &c)
	if c.Invitation.Status != "Cancelled" || c.Invitation.TargetType != "Email" {
		t.Fatalf("cancel-invitation: %+v", c)
	}
	wantErr(t, k.post(t, "cancel-invitation", ownerID, map[string]string{"InvitationId": ids[strings.ToLower(email)]}), 409, "Conflict.InvitationStatus", "Cancelled")
	wantErr(t, k.post(t, "cancel-invitation", ownerID, map[string]string{"InvitationId": ids[alpha]}), 409, "Conflict.InvitationStatus", "Accepted")
	wantErr(t, k.post(t, "cancel-invitation", ownerID, map[string]string{"InvitationId": "h-doesnotexist00"}), 404, "EntityNotExists.Invitation", "h-doesnotexist00")
	wantErr(t, k.post(t, "cancel-invitation", ownerID, map[string]string{"InvitationId": "nothandshake"}), 400, "InvalidParameter.InvitationId")
	wantErr(t, k.post(t, "cancel-invitation", ownerID, map[string]string{}), 400, "MissingParameter.InvitationId")
	if _, err := k.sim.GetAccount(k.ctx, carol); err == nil {
		t.Fatal("a cancelled invitee joined")
	}

	d = describe(t, k, ownerID)
	if !d.Steps.MembersInvited || d.DirectoryAccountCount != 3 || d.Steps.DelegatedAdministratorAdded {
		t.Fatalf("after step 2: %+v", d)
	}
	// A member sees only its role and the directory.
	r = k.get(t, "describe-setup", alpha, nil)
	wantOK(t, r)
	if got := r.keys(); !slices.Equal(got, []string{"Caller", "RequestId", "ResourceDirectory"}) {
		t.Fatalf("member describe-setup keys %v", got)
	}
	wantErr(t, k.post(t, "enable-directory", alpha, "{}"), 409, "EntityAlreadyExists.ResourceDirectory", rd.DirectoryId)

	// Step 3.
	wantErr(t, k.post(t, "register-delegated-admin", ownerID, map[string]string{"AccountId": ownerID}), 400, "InvalidParameter.AccountId", "management account")
	wantErr(t, k.post(t, "register-delegated-admin", ownerID, map[string]string{"AccountId": carol}), 404, "EntityNotExists.Account", carol)
	before := k.snapshot()
	wantErr(t, k.post(t, "deregister-delegated-admin", ownerID, map[string]string{"AccountId": alpha}), 404, "EntityNotExists.DelegatedAdministrator", alpha)
	if after := k.snapshot(); after != before {
		t.Fatalf("a refused deregister wrote:\n%s", diff(before, after))
	}
	k.clock.Advance(time.Second)
	r = k.post(t, "register-delegated-admin", ownerID, map[string]string{"AccountId": alpha})
	wantOK(t, r)
	var reg struct {
		DelegatedAdministrator struct{ AccountId, DisplayName, DelegationEnabledTime string }
	}
	r.decode(t, &reg)
	if reg.DelegatedAdministrator.AccountId != alpha || reg.DelegatedAdministrator.DisplayName != "Alpha Ops" || reg.DelegatedAdministrator.DelegationEnabledTime != "2026-11-24T08:00:03Z" {
		t.Fatalf("register-delegated-admin: %+v", reg)
	}
	before = k.snapshot()
	r = k.post(t, "register-delegated-admin", ownerID, map[string]string{"AccountId": alpha})
	wantOK(t, r)
	var reg2 struct {
		DelegatedAdministrator struct{ AccountId, DelegationEnabledTime string }
	}
	r.decode(t, &reg2)
	if reg2.DelegatedAdministrator.AccountId != alpha || reg2.DelegatedAdministrator.DelegationEnabledTime != reg.DelegatedAdministrator.DelegationEnabledTime {
		t.Fatalf("register again: %+v", reg2)
	}
	wantErr(t, k.post(t, "register-delegated-admin", ownerID, map[string]string{"AccountId": bravo}), 409, "Conflict.DelegatedAdministratorExists", alpha)
	wantErr(t, k.post(t, "deregister-delegated-admin", ownerID, map[string]string{"AccountId": bravo}), 404, "EntityNotExists.DelegatedAdministrator", bravo)
	if after := k.snapshot(); after != before {
		t.Fatalf("idempotent or refused DA changes wrote:\n%s", diff(before, after))
	}
	// The new DA's role is effective at once (the role cache was dropped).
	d = describe(t, k, alpha)
	if d.Caller.Role != "DelegatedAdministrator" || !d.Steps.DelegatedAdministratorAdded || d.DelegatedAdministrator == nil || d.DelegatedAdministrator.AccountId != alpha {
		t.Fatalf("DA describe-setup: %+v", d)
	}
	wantErr(t, k.get(t, "list-invitations", alpha, nil), 403, "Forbidden.Role", "DelegatedAdministrator")

	// Step 4, by the DA.
	r = k.get(t, "list-candidates", alpha, nil)
	wantOK(t, r)
	var cands struct {
		Accounts []struct{ AccountId, DisplayName, JoinTime string }
	}
	r.decode(t, &cands)
	if len(cands.Accounts) != 2 || cands.Accounts[0].AccountId != alpha || cands.Accounts[1].AccountId != bravo || cands.Accounts[1].DisplayName != "Bravo Dev" {
		t.Fatalf("candidates: %+v", cands)
	}
	r = k.post(t, "add-members", alpha, items(bravo))
	wantOK(t, r)
	d = describe(t, k, ownerID)
	if !d.Steps.MembersAdded || d.MemberCount != 1 {
		t.Fatalf("after step 4: %+v", d)
	}
	r = k.get(t, "list-candidates", ownerID, map[string]string{"Keyword": "ALPHA"})
	r.decode(t, &cands)
	if len(cands.Accounts) != 1 || cands.Accounts[0].AccountId != alpha {
		t.Fatalf("candidates with keyword: %+v", cands)
	}

	// Deregistering ends the DA's access at once.
	r = k.post(t, "deregister-delegated-admin", ownerID, map[string]string{"AccountId": alpha})
	wantOK(t, r)
	if got := r.keys(); !slices.Equal(got, []string{"RequestId"}) {
		t.Fatalf("deregister answered %v", got)
	}
	wantErr(t, k.post(t, "add-members", alpha, items(alpha)), 403, "Forbidden.Role", "Member")
	if d := describe(t, k, alpha); d.Caller.Role != "Member" {
		t.Fatalf("after deregistering: %+v", d.Caller)
	}
}

func TestInviteAccounts(t *testing.T) {
	k := newKit(t, withMaxPending(3))
	k.standard() // one pending invitation (7000000000000077)
	before := k.snapshot()
	malformed := []struct {
		targets []map[string]string
		mention string
	}{
		{[]map[string]string{{"AccountId": freshID}, {"AccountId": "123"}}, "123"},
		{[]map[string]string{{"AccountId": freshID}, {"Email": "not-an-email"}}, "not-an-email"},
		{[]map[string]string{{"Email": "Carol <carol@example.com>"}}, "carol@example.com"},
		{[]map[string]string{{"Email": "carol@localhost"}}, "carol@localhost"},
		{[]map[string]string{{"Email": "a@b.co\n"}}, "Email"},
		{[]map[string]string{{"AccountId": freshID, "Email": "a@b.co"}}, "exactly one"},
	}
	for _, m := range malformed {
		r := k.post(t, "invite-accounts", ownerID, map[string]any{"Targets": m.targets})
		wantErr(t, r, 400, "InvalidParameter.Targets", m.mention)
	}
	wantErr(t, k.post(t, "invite-accounts", ownerID, map[string]any{"Targets": []map[string]string{{}}}), 400, "MissingParameter.Targets[0].AccountId")
	if after := k.snapshot(); after != before {
		t.Fatalf("malformed invitations wrote (a malformed target must fail the whole request):\n%s", diff(before, after))
	}

	// Per-target failures do not fail the request.
	r := k.post(t, "invite-accounts", ownerID, map[string]any{"Targets": []map[string]string{
		{"AccountId": ownerID}, {"AccountId": memberID}, {"AccountId": "7000000000000077"}, {"AccountId": freshID},
		{"Email": "dave@example.com"}, {"AccountId": "7000000000000078"},
	}})
	wantOK(t, r)
	var out inviteOut
	r.decode(t, &out)
	want := []string{"Failed:AlreadyInDirectory", "Failed:AlreadyInDirectory", "Failed:InvitationPending", "Invited:", "Invited:", "Failed:LimitExceeded"}
	if len(out.Results) != len(want) {
		t.Fatalf("invite results %+v", out.Results)
	}
	for i, w := range want {
		res := out.Results[i]
		if res.Status+":"+res.Code != w || (res.Status == "Failed") != (res.Message != "") || (res.Status == "Invited") != strings.HasPrefix(res.InvitationId, "h-") {
			t.Errorf("result %d = %+v, want %s", i, res, w)
		}
	}
	invs, _ := k.sim.ListInvitations(k.ctx)
	pending := 0
	for _, i := range invs {
		if i.Status == directory.StatusPending {
			pending++
		}
	}
	if pending != 3 {
		t.Fatalf("%d pending invitations, want the quota of 3", pending)
	}
}

// TestExpiredInvitation: a pending invitation past its 14 days reads as
// Expired, cannot be cancelled, and the account can be invited again.
func TestExpiredInvitation(t *testing.T) {
	k := newKit(t)
	fx := k.standard()
	k.clock.Advance(15 * 24 * time.Hour)
	r := k.get(t, "list-invitations", ownerID, map[string]string{"Status": "Expired"})
	var out struct {
		Invitations []struct{ InvitationId, Status string }
	}
	r.decode(t, &out)
	if len(out.Invitations) != 1 || out.Invitations[0].InvitationId != fx.pending.ID || out.Invitations[0].Status != "Expired" {
		t.Fatalf("expired invitations: %+v", out)
	}
	r = k.get(t, "list-invitations", ownerID, map[string]string{"Status": "Pending"})
	r.decode(t, &out)
	if len(out.Invitations) != 0 {
		t.Fatalf("pending after expiry: %+v", out)
	}
	wantErr(t, k.post(t, "cancel-invitation", ownerID, map[string]string{"InvitationId": fx.pending.ID}), 409, "Conflict.InvitationStatus", "Expired")
	r = k.post(t, "invite-accounts", ownerID, map[string]any{"Targets": []map[string]string{{"AccountId": fx.pending.TargetEntity}}})
	var inv inviteOut
	r.decode(t, &inv)
	if len(inv.Results) != 1 || inv.Results[0].Status != "Invited" {
		t.Fatalf("re-invite after expiry: %+v", inv)
	}
}
