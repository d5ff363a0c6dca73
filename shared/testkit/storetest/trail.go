package storetest

import (
	"fmt"

	"github.com/sase-multiaccount/backend/shared/action"
	"github.com/sase-multiaccount/backend/shared/port/store"
)

// ReplayTrail replays the member records of an audit trail, oldest first,
// as the member use cases write them: add-members (Detail "Remark"),
// update-member-remark ("OldRemark", "NewRemark") and delete-members. It
// returns the members the trail says exist, with their remarks, and every
// record that does not fit what came before (an add of a member, a delete
// or remark of a non-member, a remark from another text): the crash tests
// compare the result with the member table.
func ReplayTrail(oldestFirst []store.AuditEvent) (members map[string]string, problems []string) {
	members = map[string]string{}
	for _, ev := range oldestFirst {
		remark, in := members[ev.Target]
		switch action.Action(ev.Action) {
		case action.AddMembers:
			if in {
				problems = append(problems, fmt.Sprintf("record %s adds %s, already a member", ev.ID, ev.Target))
			}
			members[ev.Target] = ev.Detail["Remark"]
		case action.UpdateMemberRemark:
			if !in || remark != ev.Detail["OldRemark"] {
				problems = append(problems, fmt.Sprintf("record %s changes the remark of %s from %q; the trail says member=%v remark=%q",
					ev.ID, ev.Target, ev.Detail["OldRemark"], in, remark))
			}
			members[ev.Target] = ev.Detail["NewRemark"]
		case action.DeleteMembers:
			if !in {
				problems = append(problems, fmt.Sprintf("record %s deletes %s, not a member", ev.ID, ev.Target))
			}
			delete(members, ev.Target)
		}
	}
	return members, problems
}
