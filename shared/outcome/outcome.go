// Package outcome names the per-item statuses of the batch functions: the
// Status of each entry of Results in the answers of add-members,
// delete-members and invite-accounts (docs/API.md). Each word is written
// once, here; the use cases set these constants and the answers carry them
// as they are, so the JSON strings are these values.
package outcome

// ItemStatus is what a batch function did with one item of its input.
type ItemStatus string

const (
	Added         ItemStatus = "Added"         // add-members: the account is a member now
	AlreadyMember ItemStatus = "AlreadyMember" // add-members: it was a member already; nothing changed
	Deleted       ItemStatus = "Deleted"       // delete-members: the member is gone
	NotMember     ItemStatus = "NotMember"     // delete-members: it was no member; nothing to do
	Invited       ItemStatus = "Invited"       // invite-accounts: the invitation was sent
	Failed        ItemStatus = "Failed"        // any: this item failed (Code and Message say why)
)
