// The pages of a person with no tab to open: a member account's people see
// who manages their account; anyone else of the owner, the management
// account or the delegated administrator sees who they are, that they have
// no access yet and who can grant it; an account outside the directory is
// told why it cannot use the console. Which page comes from the tabs
// AllowedActions unlocks (none); the account's role only picks the words.
import { h, replace } from './dom.js';
import { S } from './strings.js';
import { errorBox } from './ui.js';

// renderNoTabs shows the page of a person with no tab, and returns its
// view name.
export function renderNoTabs(main, setup) {
  if (setup.Caller.Role === 'Member') {
    renderMember(main, setup);
    return 'member';
  }
  renderNoAccess(main, setup);
  return 'noaccess';
}

function renderMember(main, setup) {
  const rd = setup.ResourceDirectory || {};
  replace(main, h('section', { class: 'card', 'data-view': 'member' },
    h('h1', { text: S.memberTitle }),
    h('p', { id: 'member-text', text: S.memberText(setup.Caller.AccountId, rd.DirectoryId || '') }),
    h('p', { id: 'managed-by', text: S.managedBy(rd.ManagementAccountId || '', rd.ManagementAccountName || '') }),
    h('p', { class: 'muted', text: S.readOnly })));
}

// whoGrants names who can grant this person access, as the server's
// Forbidden.AccessRole message does.
function whoGrants(setup) {
  const c = setup.Caller;
  const ma = setup.ResourceDirectory?.ManagementAccountId;
  if (!ma) return S.grantByRoot(c.AccountId);
  if (c.Role === 'DelegatedAdministrator') return S.grantByDA(c.AccountId, ma);
  return S.grantByMA(ma);
}

function renderNoAccess(main, setup) {
  const c = setup.Caller;
  replace(main, h('section', { class: 'card', 'data-view': 'noaccess' },
    h('h1', { text: S.noAccessTitle }),
    h('p', { id: 'noaccess-who', text: S.noAccessWho(c.UserName, c.UserId, c.AccountId) }),
    h('p', { id: 'noaccess-text', text: S.noAccessText(S.accessRoles[c.AccessRole] || c.AccessRole) }),
    h('p', { id: 'noaccess-grant', text: whoGrants(setup) }),
    h('p', { class: 'muted', text: S.noAccessNext })));
}

export function renderOutsider(main, sess, err) {
  replace(main, h('section', { class: 'card', 'data-view': 'outsider' },
    h('h1', { text: S.outsiderTitle }),
    h('p', { id: 'outsider-text', text: S.outsiderText(sess.account) }),
    h('p', { text: S.outsiderNext }),
    errorBox(err)));
}
