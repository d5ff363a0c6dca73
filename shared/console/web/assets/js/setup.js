// Setup: the four steps of the product document, with their status from
// describe-setup and, for the management account, each step's action.
import { h, replace, uid, timeEl } from './dom.js';
import { S } from './strings.js';
import { call } from './api.js';
import { announce, busy, confirmDialog, errorBox, resultsList } from './ui.js';

export async function renderSetup(el, ctx) {
  const s = ctx.setup;
  const role = s.Caller.Role;
  const isMA = role === 'ManagementAccount';
  const steps = s.Steps || {};
  const list = h('ol', { class: 'steps' });
  replace(el, h('section', { 'data-view': 'setup' },
    h('h1', { text: S.setupTitle }), h('p', { class: 'muted', text: S.setupLead }),
    role === 'DelegatedAdministrator' ? h('p', { class: 'notice', text: S.onlyMA }) : null, list));
  // A step changes the role (step 1) or the tabs: render the whole page anew.
  const rerender = async () => { await ctx.refresh(); await ctx.reroute(); };

  list.append(step('step-1', S.step1, steps.DirectoryEnabled, S.step1Text, enableStep(s, rerender)));
  list.append(step('step-2', S.step2, steps.MembersInvited, S.step2Text, isMA ? await inviteStep(s, rerender) : countLine(s)));
  list.append(step('step-3', S.step3, steps.DelegatedAdministratorAdded, S.step3Text, await daStep(s, isMA, rerender)));
  list.append(step('step-4', S.step4, steps.MembersAdded, S.step4Text,
    h('p', { text: S.membersCount(s.MemberCount || 0) }),
    steps.DirectoryEnabled && role !== 'Owner'
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

function enableStep(s, rerender) {
  const rd = s.ResourceDirectory;
  if (rd) return h('p', { id: 'rd-info', text: S.enabledAs(rd.DirectoryId, rd.ManagementAccountId) });
  if (s.Caller.Role !== 'Owner') return null;
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

async function inviteStep(s, rerender) {
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
      await renderPending(pending, s, rerender);
    } catch (err) { replace(out, errorBox(err)); }
  }); } } },
  h('label', { for: tId, text: S.inviteTargets }), targets, h('p', { id: `${tId}-hint`, class: 'hint', text: S.inviteTargetsHint }),
  h('label', { for: nId, text: S.inviteNote }), note, h('div', { class: 'actions' }, btn));
  const pending = h('div', { id: 'pending' });
  await renderPending(pending, s, rerender);
  return h('div', {}, countLine(s), form, out, pending);
}

async function renderPending(el, s, rerender) {
  let res;
  try {
    res = await call('list-invitations', { query: { Status: 'Pending', MaxResults: 100 } });
  } catch (err) { replace(el, errorBox(err)); return; }
  const inv = res.Invitations || [];
  if (!inv.length) { replace(el, h('h3', { text: S.pendingTitle }), h('p', { class: 'muted', text: S.pendingNone })); return; }
  const out = h('div');
  replace(el, h('h3', { text: `${S.pendingTitle} (${res.TotalCount})` }), out, h('div', { class: 'table-wrap' }, h('table', { class: 'table' },
    h('thead', {}, h('tr', {}, [S.target, S.created, S.expires, S.actions].map((t) => h('th', { scope: 'col', text: t })))),
    h('tbody', {}, inv.map((i) => {
      const btn = h('button', { type: 'button', class: 'link', text: S.cancelInvitation, 'aria-label': S.cancelInvitationOf(i.TargetEntity) });
      btn.addEventListener('click', () => busy(btn, async () => {
        try {
          await call('cancel-invitation', { body: { InvitationId: i.InvitationId } });
          await renderPending(el, s, rerender);
        } catch (err) { replace(out, errorBox(err)); }
      }));
      return h('tr', { 'data-invitation': i.InvitationId },
        h('td', { class: 'mono', text: i.TargetEntity }), h('td', {}, timeEl(i.CreateTime)), h('td', {}, timeEl(i.ExpireTime)), h('td', {}, btn));
    })))));
}

async function daStep(s, isMA, rerender) {
  const da = s.DelegatedAdministrator;
  const out = h('div');
  if (da) {
    const info = h('p', { id: 'da-info', text: S.currentDA(da.AccountId, da.DisplayName) });
    if (!isMA) return info;
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
  if (!isMA) return null;
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
