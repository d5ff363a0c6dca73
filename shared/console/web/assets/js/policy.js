// Auto-enrollment: the enrollment policy (get-/update-enrollment-policy).
// The form edits a copy of the policy; Preview asks for a dry run, Save
// stores it at the version that was loaded (409 Conflict.Version when
// someone else saved meanwhile). Every answer carries the preview. A
// person whose AllowedActions lacks update-enrollment-policy reads it only.
import { h, replace, timeEl, uid } from './dom.js';
import { S } from './strings.js';
import { call } from './api.js';
import { announce, busy, errorBox } from './ui.js';

const MODES = ['Off', 'AllAccounts', 'Folders'];

export async function renderPolicy(el, ctx) {
  replace(el, h('section', { 'data-view': 'policy' }, h('h1', { text: S.policyTitle }), h('p', { class: 'muted', text: S.loading })));
  let policy;
  let folders;
  try {
    [policy, folders] = await Promise.all([
      call('get-enrollment-policy').then((r) => r.Policy),
      call('list-folders').then((r) => r.Folders || []),
    ]);
  } catch (err) {
    replace(el, h('section', { 'data-view': 'policy' }, h('h1', { text: S.policyTitle }), errorBox(err, () => renderPolicy(el, ctx))));
    return;
  }
  draw(el, policy, folders, ctx);
}

function summary(p) {
  return h('dl', { id: 'policy-current', class: 'summary' },
    h('div', {}, h('dt', { text: S.policyMode }), h('dd', { id: 'policy-mode', text: S.policyModes[p.Mode] || p.Mode })),
    h('div', {}, h('dt', { text: S.policyVersion }), h('dd', { id: 'policy-version', text: String(p.Version) })),
    p.UpdateTime ? h('div', {}, h('dt', { text: S.policyUpdated }), h('dd', {}, timeEl(p.UpdateTime), ' ', h('span', { class: 'mono', text: p.UpdatedBy }))) : null);
}

function exclusionRow(list, editable, e = { AccountId: '', Reason: '' }) {
  const idIn = h('input', { type: 'text', class: 'excl-id mono', inputmode: 'numeric', autocomplete: 'off', value: e.AccountId, placeholder: '1234567890123456', 'aria-label': S.accountUid });
  const reasonIn = h('input', { type: 'text', class: 'excl-reason', value: e.Reason, maxlength: 256, 'aria-label': S.exclusionReason, placeholder: S.exclusionReason });
  const row = h('li', { class: 'exclusion' }, idIn, ' ', reasonIn, ' ',
    editable ? h('button', { type: 'button', class: 'link danger', text: S.remove, on: { click: () => row.remove() } }) : null);
  list.append(row);
  return idIn;
}

function draw(el, policy, folders, ctx) {
  const editable = ctx.can('update-enrollment-policy');
  const modeName = uid('mode');
  const radios = MODES.map((m) => h('label', { class: 'radio' },
    h('input', { type: 'radio', name: modeName, id: `policy-mode-${m}`, value: m, checked: policy.Mode === m, on: { change: sync } }),
    S.policyModes[m]));
  const folderBoxes = folders.map((f) => h('li', {}, h('label', { class: 'radio' },
    h('input', { type: 'checkbox', class: 'policy-folder', value: f.FolderId, checked: (policy.FolderIds || []).includes(f.FolderId) }),
    h('span', { class: 'mono', text: f.FolderPath }))));
  const subfolders = h('input', { type: 'checkbox', id: 'policy-subfolders', checked: policy.IncludeSubfolders || policy.Mode !== 'Folders' });
  const folderSet = h('fieldset', { id: 'policy-folders' }, h('legend', { text: S.policyFolders }),
    h('ul', { class: 'plain' }, folderBoxes),
    h('label', { class: 'radio' }, subfolders, S.includeSubfolders));
  const exclusions = h('ul', { id: 'policy-exclusions', class: 'plain' });
  for (const e of policy.ExcludedAccounts || []) exclusionRow(exclusions, editable, e);
  const apply = h('input', { type: 'checkbox', id: 'policy-apply' });
  // f: what send needs; f.policy is the policy as last saved.
  const f = { el, ctx, policy, result: h('div', { id: 'policy-result' }) };
  const previewBtn = h('button', { type: 'button', id: 'policy-preview', text: S.preview });
  const saveBtn = h('button', { type: 'button', id: 'policy-save', class: 'primary', text: S.save });

  function mode() { return (el.querySelector(`input[name="${modeName}"]:checked`) || {}).value || 'Off'; }
  function sync() { folderSet.hidden = mode() !== 'Folders'; }

  function body(dryRun) {
    const m = mode();
    const b = { Mode: m, ExcludedAccounts: [...exclusions.querySelectorAll('li')].map((li) => ({
      AccountId: li.querySelector('.excl-id').value.trim(), Reason: li.querySelector('.excl-reason').value })).filter((e) => e.AccountId || e.Reason),
    DryRun: dryRun, Version: f.policy.Version };
    if (m === 'Folders') {
      b.FolderIds = [...folderSet.querySelectorAll('input.policy-folder:checked')].map((i) => i.value);
      b.IncludeSubfolders = subfolders.checked;
    }
    if (!dryRun) b.ApplyToExisting = apply.checked;
    return b;
  }
  f.body = body;
  previewBtn.addEventListener('click', () => send(f, previewBtn, true));
  saveBtn.addEventListener('click', () => send(f, saveBtn, false));

  replace(el, h('section', { 'data-view': 'policy' },
    h('h1', { text: S.policyTitle }),
    h('p', { class: 'hint', text: S.policyLead }),
    summary(policy),
    editable ? null : h('p', { class: 'notice', id: 'policy-read-only', text: S.policyReadOnly }),
    // Read-only: the same form, its controls disabled, without its buttons.
    h('form', { class: 'form', id: 'policy-form', on: { submit: (e) => e.preventDefault() } }, h('fieldset', { class: 'bare', disabled: !editable },
      h('fieldset', { class: 'radio' }, h('legend', { text: S.policyMode }), radios),
      folderSet,
      h('fieldset', {}, h('legend', { text: S.exclusions }), h('p', { class: 'hint', text: S.exclusionsHint }), exclusions,
        editable ? h('button', { type: 'button', id: 'policy-add-exclusion', text: S.addExclusion, on: { click: () => exclusionRow(exclusions, true).focus() } }) : null),
      editable ? h('label', { class: 'radio' }, apply, S.applyToExisting) : null,
      editable ? h('div', { class: 'actions' }, previewBtn, saveBtn) : null)),
    f.result));
  sync();
}

// send asks update-enrollment-policy for a dry run (Preview) or a save
// of the form (f.body) at the version last saved.
async function send(f, btn, dryRun) {
  await busy(btn, async () => {
    let res;
    try {
      res = await call('update-enrollment-policy', { body: f.body(dryRun) });
    } catch (err) {
      const reload = err.code === 'Conflict.Version'
        ? h('p', {}, S.policyConflict, ' ', h('button', { type: 'button', id: 'policy-reload', text: S.reload, on: { click: () => renderPolicy(f.el, f.ctx) } }))
        : null;
      replace(f.result, errorBox(err), reload);
      return;
    }
    if (!dryRun) {
      f.policy = res.Policy;
      replace(f.el.querySelector('#policy-current'), ...summary(f.policy).childNodes);
    }
    replace(f.result, preview(res, dryRun));
    announce(dryRun ? S.previewReady(res.Preview.WouldAddCount) : S.policySaved(res.Policy.Version));
  });
}

function preview(res, dryRun) {
  const p = res.Preview;
  return h('div', { id: 'policy-preview-result', role: 'status' },
    h('p', { id: 'policy-would-add', text: dryRun ? S.wouldAdd(p.WouldAddCount, p.ExcludedCount) : S.savedSummary(res.Policy.Version, p.WouldAddCount, res.AddedCount) }),
    p.WouldAdd.length ? h('div', { class: 'table-wrap' }, h('table', { class: 'table preview' },
      h('caption', { class: 'sr-only', text: S.previewTitle }),
      h('thead', {}, h('tr', {}, [S.accountUid, S.accountName, S.folderPath].map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', {}, p.WouldAdd.map((a) => h('tr', { 'data-account': a.AccountId },
        h('td', { class: 'mono', text: a.AccountId }), h('td', { text: a.DisplayName }), h('td', { class: 'mono', text: a.FolderPath })))))) : null,
    p.WouldAddCount > p.WouldAdd.length ? h('p', { class: 'hint', text: S.previewFirst(p.WouldAdd.length) }) : null);
}
