// Every English string the console shows, in one place. The product
// document's own words are kept exactly: Multi-account Management, Added
// Member, The member is selected, OK, Account UID, Account Name, Add Time,
// Remarks, Delete. strings.zh.js has Simplified Chinese for the same keys;
// the language is chosen once, when the page loads (setLanguage reloads).
import { ZH } from './strings.zh.js';
import { ERRORS_ZH } from './errors.zh.js';

const LANG_KEY = 'sase-console-language'; // a preference, not a secret

// language is the page's language: "zh" when chosen, else English.
export const language = (() => {
  try { return localStorage.getItem(LANG_KEY) === 'zh' ? 'zh' : 'en'; } catch { return 'en'; }
})();

// setLanguage remembers the choice and reloads the page, which keeps the
// session (it is in this tab's session storage) and the page (the URL).
export function setLanguage(lang) {
  try { localStorage.setItem(LANG_KEY, lang); } catch { /* private mode: this page only */ }
  location.reload();
}

const EN = {
  product: 'SASE',
  language: '中文',
  languageLabel: '切换为简体中文 (Switch to Simplified Chinese)',
  settings: 'Settings',
  tabSetup: 'Setup',
  tabMembers: 'Multi-account Management',
  tabAudit: 'Audit trail',
  tabPolicy: 'Auto-enrollment',
  tabAccess: 'Access',
  loading: 'Loading…',
  working: 'Working…',

  // Sign-in
  signInTitle: 'Sign in to SASE multi-account management',
  signInLead: 'Sign in with your Alibaba Cloud account to manage the members of your resource directory in SASE.',
  signIn: 'Sign in',
  signOut: 'Sign out',
  signedOut: 'You have signed out.',
  sessionExpired: 'Your session has expired. Sign in again to return to the page you were on.',
  signInFailed: 'Sign-in failed.',
  stateMismatch: 'The sign-in answer does not belong to a sign-in started here (state mismatch). Nothing was signed in; start again.',
  nonceMismatch: 'The ID token was not issued for this sign-in (nonce mismatch). Nothing was signed in; start again.',
  tokenInvalid: (why) => `The ID token was refused: ${why}. Nothing was signed in; start again.`,
  configFailed: 'The console could not load its configuration.',
  retry: 'Retry',

  // Header
  person: 'Signed in as',
  account: 'Account',
  role: 'Role',
  directory: 'Directory',
  noDirectory: 'none yet',
  roles: {
    Owner: 'Owner',
    ManagementAccount: 'Management account',
    DelegatedAdministrator: 'Delegated administrator',
    Member: 'Member',
    None: 'No access',
    System: 'System',
  },
  accessRole: 'Access',
  // A person's access role (API.md, "People"); English shows the API's own words.
  accessRoles: { Administrator: 'Administrator', Operator: 'Operator', Viewer: 'Viewer', None: 'None' },
  // Labels of API statuses and actions; English shows the API's own words.
  statuses: {},
  actionNames: {},

  // Errors
  errorCode: 'Code',
  errorMessage: 'Message',
  errorExplained: 'Explanation',
  serverMessage: 'Server message',
  requestId: 'RequestId',
  copy: 'Copy',
  copied: 'Copied',
  networkError: 'The request did not reach the server. Check your connection and try again.',

  // Generic
  ok: 'OK',
  cancel: 'Cancel',
  close: 'Close',
  previous: 'Previous',
  next: 'Next',
  search: 'Search',
  clear: 'Clear',
  done: 'Done',
  toDo: 'To do',
  total: (n) => `Total ${n}`,
  pageOf: (p, n) => `Page ${p} of ${n}`,
  page: (p) => `Page ${p}`,
  pageSize: 'Per page',

  // Setup
  setupTitle: 'Set up multi-account management',
  setupLead: 'The setup involves four steps, completed in order.',
  step1: 'Step 1: Enable a resource directory',
  step1Text: 'Resource Directory consolidates your Alibaba Cloud accounts. The current account becomes the management account.',
  enable: 'Enable resource directory',
  enabledAs: (id, ma) => `Resource directory ${id}; management account ${ma}.`,
  step2: 'Step 2: Invite members',
  step2Text: 'Invite the Alibaba Cloud accounts of your enterprise. Each accepted invitation adds an account to the directory.',
  inviteTargets: 'Account UIDs or emails',
  inviteTargetsHint: 'Up to 20, separated by commas, spaces or new lines.',
  inviteNote: 'Note to the invitees',
  invite: 'Invite',
  directoryAccounts: (n) => `${n} account(s) in the directory besides the management account.`,
  pendingTitle: 'Pending invitations',
  pendingNone: 'No pending invitations. Invited accounts appear here until they accept.',
  target: 'Target',
  created: 'Created',
  expires: 'Expires',
  cancelInvitation: 'Cancel invitation',
  cancelInvitationOf: (t) => `Cancel the invitation of ${t}`,
  step3: 'Step 3: Add a delegated administrator account',
  step3Text: 'Designate one member as the delegated administrator for SASE. It manages SASE members without the management account\u2019s privileges.',
  currentDA: (id, name) => `Delegated administrator: ${id}${name ? ' (' + name + ')' : ''}.`,
  removeDA: 'Remove delegated administrator',
  removeDAConfirm: (id) => `Remove ${id} as SASE's delegated administrator? It will no longer manage SASE members.`,
  chooseDA: 'Choose the delegated administrator',
  otherAccount: 'Or enter an Account UID',
  setDA: 'Set as delegated administrator',
  noCandidatesDA: 'No directory account can be chosen yet: invite accounts in step 2 and wait until they accept.',
  chooseOne: 'Choose an account or enter an Account UID.',
  step4: 'Step 4: Add members in the SASE console',
  step4Text: 'On the Multi-account Management tab, click Added Member and move accounts to The member is selected list.',
  goToMembers: 'Go to Multi-account Management',
  membersCount: (n) => `${n} member(s) added to SASE.`,
  onlyMA: 'Steps 1 to 3 are done by the management account\u2019s Administrators.',

  // Members
  membersTitle: 'Multi-account Management',
  addedMember: 'Added Member',
  searchMembers: 'Search members by UID, name or remark',
  deleteSelected: (n) => `Delete selected (${n})`,
  exportCsv: 'Export CSV',
  exporting: (n, t) => `Exporting… ${n} of ${t}`,
  exported: (n) => `Exported ${n} member(s).`,
  colSelect: 'Select',
  selectAllPage: 'Select all members on this page',
  selectMember: (id) => `Select member ${id}`,
  accountUid: 'Account UID',
  accountName: 'Account Name',
  addTime: 'Add Time',
  remark: 'Remark',
  actions: 'Actions',
  remarks: 'Remarks',
  delete: 'Delete',
  sortBy: (col, dir) => `Sort by ${col}, ${dir === 'Asc' ? 'ascending' : 'descending'}`,
  membersEmpty: 'No members yet. Click Added Member to add accounts of your resource directory to SASE.',
  membersEmptyReadOnly: 'No members yet.',
  membersNoMatch: (k) => `No member matches "${k}". Clear the search to see every member.`,
  deleteTitle: 'Delete',
  deleteOne: (id) => `Delete member ${id}? After deletion, the current account no longer manages that member.`,
  deleteMany: (n) => `Delete these ${n} members? After deletion, the current account no longer manages them.`,
  deleteResults: (n) => `${n} member(s) deleted.`,
  resultsTitle: 'Results',

  // Added Member dialog
  candidatesTitle: 'Directory accounts',
  searchCandidates: 'Search accounts by UID or name',
  selectedTitle: 'The member is selected',
  selectedCount: (n, max) => `${n} / ${max}`,
  moveSelected: 'Move selected \u2192',
  moveAll: 'Move all on this page \u2192',
  removeSelected: '\u2190 Remove selected',
  removeAll: 'Remove all',
  selectCandidate: (id, name) => `${id}${name ? ' \u00b7 ' + name : ''}`,
  candidatesEmpty: 'Every directory account is already a member. Invite more accounts in Setup, step 2.',
  candidatesNoMatch: (k) => `No account matches "${k}".`,
  candidatesNoneInFolder: 'No account of this folder (or its subfolders) is waiting to be added.',
  folder: 'Folder',
  allFolders: 'All folders',
  selectedEmpty: 'Nothing selected yet: tick accounts on the left and move them here.',
  maxSelected: (max) => `At most ${max} accounts can be added at once.`,
  addResults: (n) => `${n} member(s) added.`,
  alreadyMembers: (n) => `${n} account(s) were members already.`,
  addFailed: (failed, added) => `${failed} account(s) could not be added; ${added} added. The failures are listed first.`,

  // Remarks
  remarkTitle: (id) => `Remarks: ${id}`,
  remarkLabel: 'Remark',
  remarkRules: 'Up to 256 characters, no control characters. Leave it empty to clear the remark.',
  remarkCount: (n, max) => `${n} / ${max}`,
  remarkTooLong: 'The remark is longer than 256 characters.',
  remarkControl: 'The remark contains control characters.',
  remarkSaved: 'Remark saved.',
  conflictTitle: 'Someone else changed this remark',
  conflictText: (v) => `The remark was changed while you were editing it (it is now at version ${v}).`,
  theirRemark: 'Current remark',
  yourRemark: 'Your remark',
  emptyRemark: '(empty)',
  keepTheirs: 'Keep current remark',
  overwrite: 'Overwrite with mine',
  memberGone: 'This account is no longer a member.',

  // Audit
  auditTitle: 'Audit trail',
  auditEmpty: 'No audit events yet. Every change made here or announced by the directory appears in this list.',
  auditTimelineEmpty: 'No audit events for this account yet.',
  timelineOf: 'Timeline of one account',
  showTimeline: 'Show timeline',
  showAll: 'Show all events',
  timelineFor: (uid) => `Showing the timeline of account ${uid}.`,
  time: 'Time',
  actor: 'Actor',
  action: 'Action',
  result: 'Result',
  detail: 'Detail',
  refresh: 'Refresh',
  actorPerson: (name, access, account) => `${name} (${access}) of ${account}`,

  // Member and outsider
  memberTitle: 'Your account is a member',
  memberText: (acct, rd) => `Account ${acct} is a member of resource directory ${rd}.`,
  managedBy: (id, name) => `It is managed by the management account ${id}${name ? ' (' + name + ')' : ''}. Only the management account and SASE's delegated administrator can manage SASE members.`,
  readOnly: 'This view is read-only.',
  outsiderTitle: 'This account cannot use this console',
  outsiderText: (acct) => `Account ${acct} is not the owner of this SASE deployment, nor the management account, the delegated administrator or a member of its resource directory.`,
  outsiderNext: 'Sign in with another account, or ask the management account to invite this one.',
  notAllowedHere: 'Your role cannot open this page.',

  // A person without access
  noAccessTitle: 'You have no access yet',
  noAccessWho: (name, uid, acct) => `You are signed in as ${name && name !== uid ? `${name} (UID ${uid})` : `UID ${uid}`} of account ${acct}.`,
  noAccessText: (access) => `Your access role is ${access}: you can sign in, but there is nothing you may see or change here yet.`,
  grantByRoot: (acct) => `The root identity of account ${acct}, or a person named in SASE_ADMINISTRATORS, can grant you access.`,
  grantByMA: (ma) => `An Administrator of the management account ${ma} can grant you access, on the console's Access tab.`,
  grantByDA: (da, ma) => `An Administrator of account ${da} (the delegated administrator) or of the management account ${ma} can grant you access, on the console's Access tab.`,
  noAccessNext: 'Give them your UID. Once they have granted you an access role, reload this page.',

  // Access
  accessTitle: 'Access',
  accessLead: 'Each person of the management account or of the delegated administrator acts with an access role. The accounts\u2019 root identities and the people named in SASE_ADMINISTRATORS are always Administrators and are not listed here.',
  accessRoleHelp: {
    Administrator: 'everything the account may do, and managing access',
    Operator: 'read everything; add members, edit remarks, delete members',
    Viewer: 'read only',
  },
  roleWithHelp: (role, help) => `${role}: ${help}`,
  grantTitle: 'Grant access',
  grantAccount: 'Account',
  accountAsMA: (id) => `${id} (management account)`,
  accountAsDA: (id) => `${id} (delegated administrator)`,
  grantUserId: 'UID of the person',
  grantUserIdHint: 'The RAM user\u2019s (or role\u2019s) UID, 1 to 64 digits. A person without access sees their UID when they sign in.',
  grant: 'Grant',
  granted: (person, access) => `${person} now has the access role ${access}.`,
  grantExists: 'This person already has a grant: change it in the list below.',
  colPerson: 'Person',
  colAccessRole: 'Access role',
  colGrantedBy: 'Granted by',
  colLastSignIn: 'Last sign-in',
  notSignedIn: 'not since the grant',
  you: '(you)',
  accessRoleOf: (person) => `Access role of ${person}`,
  change: 'Change',
  changeOf: (person) => `Change the access role of ${person}`,
  changeTitle: 'Change access role',
  changeConfirm: (person, acct, from, to) => `Change the access role of ${person} of account ${acct} from ${from} to ${to}? It takes effect within a second.`,
  revoke: 'Revoke',
  revokeOf: (person) => `Revoke the access of ${person}`,
  revokeTitle: 'Revoke access',
  revokeConfirm: (person, acct) => `Revoke the access of ${person} of account ${acct}? They can still sign in, with the access role of people nobody granted one (None unless the deployment says otherwise).`,
  revoked: (person) => `The access of ${person} is revoked.`,
  accessEmpty: 'No grants yet. Grant a person an access role by their UID above.',

  // Enrollment policy (Auto-enrollment)
  policyTitle: 'Auto-enrollment',
  policyLead: 'Accounts that join the resource directory can become SASE members on their own: accounts created in or moved into a covered folder within seconds, invited accounts within a minute of accepting. The policy never removes a member and never adds the management account.',
  policyMode: 'Mode',
  policyModes: { Off: 'Off', AllAccounts: 'All accounts', Folders: 'Selected folders' },
  policyVersion: 'Version',
  policyUpdated: 'Last changed',
  policyFolders: 'Folders',
  includeSubfolders: 'Include subfolders',
  exclusions: 'Excluded accounts',
  exclusionsHint: 'These accounts are never added by the policy. Give each a reason (up to 256 characters, no control characters).',
  exclusionReason: 'Reason',
  addExclusion: 'Add excluded account',
  remove: 'Remove',
  applyToExisting: 'Also add, now, every account the policy covers that is not a member yet',
  preview: 'Preview',
  save: 'Save',
  reload: 'Reload',
  folderPath: 'Folder',
  previewTitle: 'Accounts the policy would add',
  wouldAdd: (n, excluded) => `The policy covers ${n} account(s) that are not members yet${excluded ? `; ${excluded} more are excluded` : ''}.`,
  savedSummary: (v, n, added) => `Saved as version ${v}. It covers ${n} account(s) that were not members; ${added} added now.`,
  previewFirst: (n) => `Showing the first ${n}, by Account UID.`,
  previewReady: (n) => `Preview: ${n} account(s) would be added.`,
  policySaved: (v) => `Policy saved as version ${v}.`,
  policyConflict: 'Someone else changed the policy while you were editing it.',
  policyReadOnly: 'You can read the policy; your access role does not let you change it.',
};

export const S = language === 'zh' ? { ...EN, ...ZH } : EN;

// errorText is the Chinese text of an error Code (exact, else its prefix's
// ".*" entry), or '' in English, where the server's message says it.
export function errorText(code) {
  if (language !== 'zh' || !code) return '';
  return ERRORS_ZH[code] || ERRORS_ZH[`${code.split('.')[0]}.*`] || '';
}
document.documentElement.lang = language === 'zh' ? 'zh-CN' : 'en';
