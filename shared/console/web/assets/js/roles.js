// What a member and an outsider see: who manages the account, read-only;
// or why this account cannot use the console.
import { h, replace } from './dom.js';
import { S } from './strings.js';
import { errorBox } from './ui.js';

export function renderMember(main, setup, sess) {
  const rd = setup.ResourceDirectory || {};
  replace(main, h('section', { class: 'card', 'data-view': 'member' },
    h('h1', { text: S.memberTitle }),
    h('p', { id: 'member-text', text: S.memberText(sess.account, rd.DirectoryId || '') }),
    h('p', { id: 'managed-by', text: S.managedBy(rd.ManagementAccountId || '', rd.ManagementAccountName || '') }),
    h('p', { class: 'muted', text: S.readOnly })));
}

export function renderOutsider(main, sess, err) {
  replace(main, h('section', { class: 'card', 'data-view': 'outsider' },
    h('h1', { text: S.outsiderTitle }),
    h('p', { id: 'outsider-text', text: S.outsiderText(sess.account) }),
    h('p', { text: S.outsiderNext }),
    errorBox(err)));
}
