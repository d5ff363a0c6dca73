// The Access tab: who may do what. It lists the grants (list-access),
// grants an access role to a person by UID (grant-access), and changes or
// revokes a grant after a confirmation (grant-access at the grant's
// Version, revoke-access): each control only where AllowedActions lists
// its action. The server decides who may grant what; its refusals show as
// errors with their Code and RequestId.
import { h, replace, uid, timeEl } from './dom.js';
import { S } from './strings.js';
import { call } from './api.js';
import { announce, busy, confirmDialog, errorBox, pager, PageTokens } from './ui.js';

const PAGE = 20;
// The access roles grant-access gives (revoke-access takes a grant away).
const ROLES = ['Administrator', 'Operator', 'Viewer'];
const tokens = new PageTokens();

const roleName = (r) => S.accessRoles[r] || r;
// personName names a person in messages: their name, else their UID.
const personName = (g) => g.UserName || g.UserId;

export async function renderAccess(el, ctx) {
  const v = { ctx, area: h('div', { id: 'access-table' }), status: h('div', { id: 'access-status' }) };
  v.reload = () => load(v);
  tokens.reset();
  replace(el, h('section', { 'data-view': 'access' },
    h('h1', { text: S.accessTitle }), h('p', { class: 'hint', text: S.accessLead }),
    ctx.can('grant-access') ? grantForm(v) : null,
    h('div', { class: 'toolbar' }, h('button', { type: 'button', id: 'access-refresh', text: S.refresh,
      on: { click: () => { tokens.reset(); v.reload(); } } })),
    v.status, v.area));
  await v.reload();
}

// accountsOf lists the accounts whose people have grants, the caller's
// own first: the management account and the delegated administrator.
function accountsOf(setup) {
  const ma = setup.ResourceDirectory?.ManagementAccountId;
  const da = setup.DelegatedAdministrator?.AccountId;
  const own = setup.Caller.AccountId;
  const list = [ma && { id: ma, label: S.accountAsMA(ma) }, da && { id: da, label: S.accountAsDA(da) }].filter(Boolean);
  return list.sort((a, b) => (b.id === own) - (a.id === own));
}

// grantForm grants a person (an account and a UID) an access role, only
// if they have no grant yet (Version 0): a change goes through the list.
function grantForm(v) {
  const account = h('select', { id: 'grant-account', name: 'account' },
    accountsOf(v.ctx.setup).map((a) => h('option', { value: a.id, text: a.label })));
  const user = h('input', { id: 'grant-user', name: 'user', type: 'text', inputmode: 'numeric', autocomplete: 'off', 'aria-describedby': 'grant-user-hint' });
  const radioName = uid('grant-role');
  const radios = ROLES.map((r) => h('div', { class: 'radio' },
    h('input', { type: 'radio', name: radioName, id: `grant-role-${r}`, value: r, checked: r === 'Viewer' }),
    h('label', { for: `grant-role-${r}`, text: S.roleWithHelp(roleName(r), S.accessRoleHelp[r]) })));
  const out = h('div', { id: 'grant-result' });
  const btn = h('button', { type: 'submit', class: 'primary', id: 'grant', text: S.grant });
  const form = h('form', { class: 'form card', id: 'grant-form', on: { submit: (e) => {
    e.preventDefault();
    const role = form.querySelector(`input[name="${radioName}"]:checked`).value;
    busy(btn, () => grant(v, { AccountId: account.value, UserId: user.value.trim(), AccessRole: role, Version: 0 }, out, user));
  } } },
  h('h2', { text: S.grantTitle }),
  h('label', { for: 'grant-account', text: S.grantAccount }), account,
  h('label', { for: 'grant-user', text: S.grantUserId }), user, h('p', { id: 'grant-user-hint', class: 'hint', text: S.grantUserIdHint }),
  h('fieldset', {}, h('legend', { text: S.colAccessRole }), radios),
  h('div', { class: 'actions' }, btn), out);
  return form;
}

async function grant(v, body, out, user) {
  try {
    const g = (await call('grant-access', { body })).Grant;
    const text = S.granted(personName(g), roleName(g.AccessRole));
    replace(out, h('p', { class: 'notice', role: 'status', text }));
    announce(text);
    user.value = '';
    tokens.reset();
    await v.reload();
  } catch (err) {
    replace(out, errorBox(err), err.code === 'Conflict.Version' ? h('p', { text: S.grantExists }) : null);
  }
}

async function load(v) {
  let res;
  try {
    res = await call('list-access', { query: { MaxResults: PAGE, NextToken: tokens.current } });
  } catch (err) { replace(v.area, errorBox(err, v.reload)); return; }
  tokens.setNext(res.NextToken);
  const grants = res.Grants || [];
  if (!grants.length && tokens.page === 0) { replace(v.area, h('p', { class: 'empty', id: 'access-empty', text: S.accessEmpty })); return; }
  const acts = v.ctx.can('grant-access') || v.ctx.can('revoke-access');
  replace(v.area, h('div', { class: 'table-wrap' }, h('table', { class: 'table access' },
    h('caption', { class: 'sr-only', text: S.accessTitle }),
    h('thead', {}, h('tr', {}, [S.account, S.colPerson, S.colAccessRole, S.colGrantedBy, S.colLastSignIn, acts ? S.actions : null]
      .filter(Boolean).map((t) => h('th', { scope: 'col', text: t })))),
    h('tbody', {}, grants.map((g) => grantRow(v, g, acts))))),
  pager({ page: tokens.page, pageSize: PAGE, hasNext: tokens.hasNext, label: S.accessTitle,
    onPrev: () => { tokens.prev(); v.reload(); }, onNext: () => { tokens.next(); v.reload(); } }));
}

// grantRow is one grant. Nobody changes their own grant: the caller's row
// has no actions.
function grantRow(v, g, acts) {
  const c = v.ctx.setup.Caller;
  const self = g.AccountId === c.AccountId && g.UserId === c.UserId;
  return h('tr', { 'data-account': g.AccountId, 'data-user': g.UserId },
    h('td', { class: 'mono', text: g.AccountId }),
    h('td', { class: 'person' }, g.UserName ? [h('span', { class: 'name', text: g.UserName }), ' '] : null,
      h('span', { class: 'mono muted small uid', text: g.UserId }), self ? ` ${S.you}` : null),
    h('td', { class: 'access-role', 'data-role': g.AccessRole, text: roleName(g.AccessRole) }),
    h('td', { class: 'granted-by' }, h('span', { class: 'mono', text: g.GrantedBy }), ' ', h('span', { class: 'muted small' }, timeEl(g.GrantTime))),
    h('td', { class: 'last-sign-in' }, g.LastSignInTime ? timeEl(g.LastSignInTime) : h('span', { class: 'muted', text: S.notSignedIn })),
    acts ? h('td', { class: 'row-actions' }, self ? null : rowActions(v, g)) : null);
}

function rowActions(v, g) {
  const who = personName(g);
  const out = [];
  if (v.ctx.can('grant-access')) {
    const sel = h('select', { class: 'role-select', 'aria-label': S.accessRoleOf(who) }, ROLES.map((r) => h('option', { value: r, text: roleName(r) })));
    sel.value = g.AccessRole;
    const btn = h('button', { type: 'button', class: 'link change', text: S.change, 'aria-label': S.changeOf(who), disabled: true });
    sel.addEventListener('change', () => { btn.disabled = sel.value === g.AccessRole; });
    btn.addEventListener('click', () => changeGrant(v, g, sel.value, btn));
    out.push(sel, ' ', btn);
  }
  if (v.ctx.can('revoke-access')) {
    const btn = h('button', { type: 'button', class: 'link danger revoke', text: S.revoke, 'aria-label': S.revokeOf(who) });
    btn.addEventListener('click', () => revokeGrant(v, g, btn));
    out.push(' ', btn);
  }
  return out;
}

// changeGrant asks, then changes the access role at the Version listed
// (409 Conflict.Version when someone changed it meanwhile).
async function changeGrant(v, g, to, btn) {
  const who = personName(g);
  if (!(await confirmDialog(S.changeTitle, S.changeConfirm(who, g.AccountId, roleName(g.AccessRole), roleName(to)), S.change))) return;
  await busy(btn, async () => {
    try {
      const res = await call('grant-access', { body: { AccountId: g.AccountId, UserId: g.UserId, AccessRole: to, Version: g.Version } });
      notice(v, S.granted(who, roleName(res.Grant.AccessRole)));
    } catch (err) { replace(v.status, errorBox(err)); }
  });
  await v.reload();
}

async function revokeGrant(v, g, btn) {
  const who = personName(g);
  if (!(await confirmDialog(S.revokeTitle, S.revokeConfirm(who, g.AccountId), S.revoke))) return;
  await busy(btn, async () => {
    try {
      await call('revoke-access', { body: { AccountId: g.AccountId, UserId: g.UserId } });
      notice(v, S.revoked(who));
    } catch (err) { replace(v.status, errorBox(err)); }
  });
  await v.reload();
}

function notice(v, text) {
  announce(text);
  replace(v.status, h('p', { class: 'notice', id: 'access-notice', role: 'status', text }));
}
