// The console's tabs, in order. A tab shows when describe-setup's
// AllowedActions lists one of the actions that unlock it: the server's
// policy table decides who may do what, the page only follows it. Adding a
// tab is one entry here (and its strings).
import { S } from './strings.js';
import { renderSetup } from './setup.js';
import { renderMembers } from './members.js';
import { renderPolicy } from './policy.js';
import { renderAudit } from './audit.js';
import { renderAccess } from './access.js';
import { renderIntegrations } from './integrations.js';

export const TABS = [
  // Setup: the owner's step 1, the management account's steps, and their
  // status for whoever may read the directory.
  { name: 'setup', label: S.tabSetup, unlockedBy: ['enable-directory', 'list-invitations', 'list-members'], render: renderSetup },
  { name: 'members', label: S.tabMembers, unlockedBy: ['list-members'], render: renderMembers },
  { name: 'policy', label: S.tabPolicy, unlockedBy: ['get-enrollment-policy'], render: renderPolicy },
  { name: 'audit', label: S.tabAudit, unlockedBy: ['list-audit-events'], render: renderAudit },
  { name: 'access', label: S.tabAccess, unlockedBy: ['list-access'], render: renderAccess },
  { name: 'integrations', label: S.tabIntegrations, unlockedBy: ['list-webhooks'], render: renderIntegrations },
];

// permits turns AllowedActions into a test: can('add-members').
export function permits(allowedActions) {
  const set = new Set(allowedActions || []);
  return (action) => set.has(action);
}

// tabsFor lists the tabs a person may open.
export function tabsFor(can) {
  return TABS.filter((t) => t.unlockedBy.some(can));
}

// defaultTab is the member list once members are added, or when this
// person has no setup step to take; else the first tab (Setup).
export function defaultTab(tabs, setup, can) {
  const names = tabs.map((t) => t.name);
  if (names.includes('members') && (setup.Steps?.MembersAdded || !can('invite-accounts'))) return 'members';
  return names[0];
}
