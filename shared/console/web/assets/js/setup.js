// Setup: the four steps of the product document, with their status from
// describe-setup and each step's action where AllowedActions lists it.
import { h, replace, uid, timeEl } from './dom.js';
import { S } from './strings.js';
import { call } from './api.js';
import { announce, busy, confirmDialog, errorBox, resultsList } from './ui.js';

// The actions of steps 1 to 3: a person with none of them sees their status.
const STEP_ACTIONS = ['enable-directory', 'invite-accounts', 'cancel-invitation', 'register-delegated-admin', 'deregister-delegated-admin'];

export async function renderSetup(el, ctx) {
  const { setup: s, can } = ctx;
  const steps = s.Steps || {};
  const list = h('ol', { class: 'steps' });
  replace(el, h('section', { 'data-view': 'setup' },
    h('h1', { text: S.setupTitle }), h('p', { class: 'muted', text: S.setupLead }),
    STEP_ACTIONS.some(can) ? null : h('p', { class: 'notice', text: S.onlyMA }), list));
  // A step changes the role (step 1) or the tabs: render the whole page anew.
  const rerender = async () => { await ctx.refresh(); await ctx.reroute(); };

  list.append(step('step-1', S.step1, steps.DirectoryEnabled, S.step1Text, enableStep(s, can, rerender)));
  list.append(step('step-2', S.step2, steps.MembersInvited, S.step2Text, await inviteStep(s, can)));
  list.append(step('step-3', S.step3, steps.DelegatedAdministratorAdded, S.step3Text, await daStep(s, can, rerender)));
  list.append(step('step-4', S.step4, steps.MembersAdded, S.step4Text,
    h('p', { text: S.membersCount(s.MemberCount || 0) }),
    steps.DirectoryEnabled && can('list-members')
      ? h('button', { type: 'button', class: 'primary', id: 'go-members', text: S.goToMembers, on: { click: () => ctx.go('members') } }) : null));
}

function step(id, title, done, text, ...body) {
  return h('li', { class: done ? 'step done' : 'step', id, 'data-done': done ? 'true' : 'false' },
    h('h2', {}, h('span', { text: title }), ' ', h('span', { class: done ? 'badge ok' : 'badge', text: done ? S.done : S.toDo })),
    h('p', { class: 'muted', text }), ...body);
}

function countLine(s) {
  return s.Steps?.DirectoryEnabled ? h('p', { text: S.directoryAccounts(s.DirectoryAccountCount - 1) }) : null;
}

function enableStep(s, can, rerender) {
  const rd = s.ResourceDirectory;
  if (rd) return h('p', { id: 'rd-info', text: S.enabledAs(rd.DirectoryId, rd.ManagementAccountId) });
  if (!can('enable-directory')) return null;
  const out = h('div');
  const btn = h('button', { type: 'button', class: 'primary', id: 'enable', text: S.enable, on: { click: () => busy(btn, async () => {
    try {
      await call('enable-directory', { body: {} });
      announce(S.done);
      await rerender();
    } catch (err) { replace(out, errorBox(err)); }
  }) } });
  return h('div', {}, btn, out);
}

// parseTargets reads UIDs and emails: anything with @ is an email.
function parseTargets(text) {
  return text.split(/[\s,;]+/).filter(Boolean).map((t) => (t.includes('@') ? { Email: t } : { AccountId: t }));
}

// inviteStep is step 2: the account count, the invitation form and the
// pending invitations, each as AllowedActions permits.
async function inviteStep(s, can) {
  const pending = h('div', { id: 'pending' });
  if (can('list-invitations')) await renderPending(pending, can);
  return h('div', {}, countLine(s), can('invite-accounts') ? inviteForm(pending, can) : null,
    can('list-invitations') ? pending : null);
}

function inviteForm(pending, can) {
  const tId = uid('targets');
  const nId = uid('note');
  const targets = h('textarea', { id: tId, name: 'targets', rows: 3, 'aria-describedby': `${tId}-hint` });
  const note = h('input', { id: nId, name: 'note', type: 'text', maxlength: 1024 });
  const out = h('div', { id: 'invite-results' });
  const btn = h('button', { type: 'submit', class: 'primary', id: 'invite', text: S.invite });
  const form = h('form', { class: 'form', on: { submit: (e) => { e.preventDefault(); busy(btn, async () => {
    try {
      const res = await call('invite-accounts', { body: { Targets: parseTargets(targets.value), Note: note.value } });
      replace(out, resultsList(res.Results, 'Target'));
      targets.value = '';
      announce(S.done);
      if (can('list-invitations')) await renderPending(pending, can);
    } catch (err) { replace(out, errorBox(err)); }
  }); } } },
  h('label', { for: tId, text: S.inviteTargets }), targets, h('p', { id: `${tId}-hint`, class: 'hint', text: S.inviteTargetsHint }),
  h('label', { for: nId, text: S.inviteNote }), note, h('div', { class: 'actions' }, btn));
  return h('div', {}, form, out);
}

async function renderPending(el, can) {
  let res;
  try {
    res = await call('list-invitations', { query: { Status: 'Pending', MaxResults: 100 } });
  } catch (err) { replace(el, errorBox(err)); return; }
  const inv = res.Invitations || [];
  if (!inv.length) { replace(el, h('h3', { text: S.pendingTitle }), h('p', { class: 'muted', text: S.pendingNone })); return; }
  const out = h('div');
  const cancel = can('cancel-invitation');
  const cancelBtn = (i) => {
    const btn = h('button', { type: 'button', class: 'link', text: S.cancelInvitation, 'aria-label': S.cancelInvitationOf(i.TargetEntity) });
    btn.addEventListener('click', () => busy(btn, async () => {
      try {
        await call('cancel-invitation', { body: { InvitationId: i.InvitationId } });
        await renderPending(el, can);
      } catch (err) { replace(out, errorBox(err)); }
    }));
    return h('td', {}, btn);
  };
  replace(el, h('h3', { text: `${S.pendingTitle} (${res.TotalCount})` }), out, h('div', { class: 'table-wrap' }, h('table', { class: 'table' },
    h('thead', {}, h('tr', {}, [S.target, S.created, S.expires, cancel ? S.actions : null].filter(Boolean).map((t) => h('th', { scope: 'col', text: t })))),
    h('tbody', {}, inv.map((i) => h('tr', { 'data-invitation': i.InvitationId },
      h('td', { class: 'mono', text: i.TargetEntity }), h('td', {}, timeEl(i.CreateTime)), h('td', {}, timeEl(i.ExpireTime)),
      cancel ? cancelBtn(i) : null))))));
}

async function daStep(s, can, rerender) {
  const da = s.DelegatedAdministrator;
  const out = h('div');
  if (da) {
    const info = h('p', { id: 'da-info', text: S.currentDA(da.AccountId, da.DisplayName) });
    if (!can('deregister-delegated-admin')) return info;
    const btn = h('button', { type: 'button', id: 'remove-da', text: S.removeDA });
    btn.addEventListener('click', async () => {
      if (!(await confirmDialog(S.removeDA, S.removeDAConfirm(da.AccountId), S.removeDA))) return;
      await busy(btn, async () => {
        try {
          await call('deregister-delegated-admin', { body: { AccountId: da.AccountId } });
          await rerender();
        } catch (err) { replace(out, errorBox(err)); }
      });
    });
    return h('div', {}, info, btn, out);
  }
  if (!can('register-delegated-admin')) return null;
  let accounts = [];
  try {
    accounts = (await call('list-candidates', { query: { MaxResults: 100 } })).Accounts || [];
  } catch (err) { return errorBox(err); }
  const name = uid('da');
  const otherId = uid('da-other');
  const other = h('input', { id: otherId, type: 'text', inputmode: 'numeric', name: 'da-other' });
  const btn = h('button', { type: 'submit', class: 'primary', id: 'set-da', text: S.setDA });
  const radios = accounts.map((a) => {
    const id = uid('da-opt');
    return h('div', { class: 'radio' }, h('input', { type: 'radio', name, id, value: a.AccountId }),
      h('label', { for: id, text: S.selectCandidate(a.AccountId, a.DisplayName) }));
  });
  const form = h('form', { class: 'form', on: { submit: (e) => { e.preventDefault();
    const picked = form.querySelector(`input[name="${name}"]:checked`)?.value || other.value.trim();
    if (!picked) { replace(out, h('p', { class: 'error', role: 'alert', text: S.chooseOne })); return; }
    busy(btn, async () => {
      try {
        await call('register-delegated-admin', { body: { AccountId: picked } });
        await rerender();
      } catch (err) { replace(out, errorBox(err)); }
    });
  } } },
  h('fieldset', {}, h('legend', { text: S.chooseDA }), radios.length ? radios : h('p', { class: 'muted', text: S.noCandidatesDA })),
  h('label', { for: otherId, text: S.otherAccount }), other, h('div', { class: 'actions' }, btn));
  return h('div', {}, form, out);
}
