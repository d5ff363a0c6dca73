// Integrations: the directory's webhooks (list-, put-, delete- and
// test-webhook), for the people whose AllowedActions list them. A new or
// rotated signing secret is shown once, in a dialog of its own, and is
// gone when it closes. Every text from the API is set as text.
import { h, replace, timeEl, codePoints } from './dom.js';
import { S } from './strings.js';
import { call } from './api.js';
import { announce, busy, confirmDialog, errorBox, openDialog } from './ui.js';

const TYPES = ['MemberAdded', 'MemberRemoved', 'MemberRemarkUpdated'];
const MAX_DESCRIPTION = 256;

export async function renderIntegrations(el, ctx) {
  const can = new Set(ctx.setup?.Caller?.AllowedActions || []);
  const page = { area: h('div', { id: 'webhooks-area' }), result: h('div', { id: 'webhook-result', role: 'status' }), can, hooks: [], onLoad: null };
  const add = can.has('put-webhook')
    ? h('button', { type: 'button', class: 'primary', id: 'webhook-add', text: S.whAdd, on: { click: () => openEditor(page, null) } })
    : null;
  replace(el, h('section', { 'data-view': 'integrations' },
    h('h1', { text: S.integrationsTitle }),
    h('p', { class: 'hint', text: S.integrationsLead }),
    h('div', { class: 'toolbar' }, add,
      h('button', { type: 'button', id: 'webhooks-refresh', text: S.refresh, on: { click: (e) => busy(e.currentTarget, () => load(page)) } })),
    page.result, page.area));
  await load(page);
}

// load reads the webhooks again and redraws the table (and an open
// Recent deliveries dialog).
async function load(page) {
  let res;
  try {
    res = await call('list-webhooks');
  } catch (err) { replace(page.area, errorBox(err, () => load(page))); return; }
  page.hooks = res.Webhooks || [];
  page.onLoad?.();
  if (!page.hooks.length) { replace(page.area, h('p', { class: 'empty', text: S.whEmpty })); return; }
  const cols = [S.whUrl, S.whDescription, S.whTypes, S.whEnabled, S.whLastDelivery, S.whLastStatus, S.whPending, S.whFailingSince, S.actions];
  replace(page.area, h('div', { class: 'table-wrap' }, h('table', { class: 'table webhooks' },
    h('caption', { class: 'sr-only', text: S.integrationsTitle }),
    h('thead', {}, h('tr', {}, cols.map((t) => h('th', { scope: 'col', text: t })))),
    h('tbody', {}, page.hooks.map((w) => row(page, w))))));
}

const typeName = (t) => S.changeTypes[t] || t;

// outcome is a LastStatus: an HTTP status, or why no answer came.
const outcome = (s) => (S.whOutcomes[s] || s);

function row(page, w) {
  return h('tr', { 'data-webhook': w.WebhookId },
    h('td', { class: 'url mono', text: w.Url }),
    h('td', { class: 'description', text: w.Description || '' }),
    h('td', { class: 'types' }, (w.Types || []).map((t) => h('div', { 'data-type': t, text: typeName(t) }))),
    h('td', { class: 'enabled', 'data-enabled': String(!!w.Enabled), text: w.Enabled ? S.whOn : S.whOff }),
    h('td', { class: 'last-delivery' }, w.LastDeliveryTime ? timeEl(w.LastDeliveryTime) : S.whNever),
    h('td', { class: 'last-status', 'data-status': w.LastStatus || '' }, w.LastStatus ? outcome(w.LastStatus) : '\u2014',
      w.LastError ? h('div', { class: 'small muted last-error', text: w.LastError }) : null),
    h('td', { class: 'pending', text: String(w.PendingCount ?? 0) }),
    h('td', { class: 'failing-since' }, w.FailingSince ? timeEl(w.FailingSince) : '\u2014'),
    h('td', { class: 'row-actions' }, h('div', { class: 'stack' }, rowActions(page, w))));
}

function rowActions(page, w) {
  const btn = (cls, label, aria, fn) => h('button', { type: 'button', class: `link ${cls}`, text: label, 'aria-label': aria,
    on: { click: (e) => fn(e.currentTarget) } });
  return [
    page.can.has('put-webhook') ? btn('edit', S.whEdit, S.whEditOf(w.Url), () => openEditor(page, w)) : null,
    page.can.has('test-webhook') ? btn('test', S.whTest, S.whTestOf(w.Url), (b) => sendTest(page, w, b)) : null,
    btn('recent', S.whRecent, S.whRecentOf(w.Url), () => openRecent(page, w)),
    page.can.has('delete-webhook') ? btn('delete danger', S.delete, S.whDeleteOf(w.Url), () => remove(page, w)) : null,
  ];
}

// say shows the outcome of an action above the table and announces it.
function say(page, id, msg, ok = true) {
  replace(page.result, h('p', { id, class: ok ? 'notice' : 'notice failed', text: msg }));
  announce(msg);
}

async function sendTest(page, w, b) {
  await busy(b, async () => {
    let res;
    try {
      res = await call('test-webhook', { body: { WebhookId: w.WebhookId } });
    } catch (err) { replace(page.result, errorBox(err)); return; }
    const msg = res.Success ? S.whTestOk(w.Url, res.StatusCode)
      : res.StatusCode ? S.whTestFailed(w.Url, res.StatusCode) : S.whTestNoAnswer(w.Url, res.Error || '');
    say(page, 'webhook-test-result', msg, res.Success);
    page.result.firstChild.dataset.statusCode = String(res.StatusCode);
    await load(page);
  });
}

async function remove(page, w) {
  if (!await confirmDialog(S.whDeleteTitle, S.whDeleteConfirm(w.Url), S.delete)) return;
  try {
    await call('delete-webhook', { body: { WebhookId: w.WebhookId } });
  } catch (err) { replace(page.result, errorBox(err)); return; }
  say(page, 'webhook-deleted', S.whDeleted(w.Url));
  await load(page);
}

// editorFields are the Add / Edit dialog's inputs, filled from w (null:
// a new webhook).
function editorFields(w) {
  const f = {
    url: h('input', { id: 'webhook-url', type: 'url', class: 'mono', value: w?.Url || '', autocomplete: 'off', spellcheck: 'false',
      'aria-describedby': 'webhook-url-rules', autofocus: true }),
    description: h('input', { id: 'webhook-description', type: 'text', value: w?.Description || '', 'aria-describedby': 'webhook-description-hint' }),
    types: TYPES.map((t) => h('input', { type: 'checkbox', class: 'webhook-type', id: `webhook-type-${t}`, value: t,
      checked: w ? (w.Types || []).includes(t) : true })),
    enabled: h('input', { type: 'checkbox', id: 'webhook-enabled', checked: w ? !!w.Enabled : true }),
    rotate: w ? h('input', { type: 'checkbox', id: 'webhook-rotate' }) : null,
  };
  const form = h('div', { class: 'form webhook-form' },
    h('label', { for: 'webhook-url', text: S.whUrl }), f.url,
    h('div', { id: 'webhook-url-rules', class: 'hint' }, h('p', { text: S.whUrlRulesLead }),
      h('ul', {}, S.whUrlRules.map((r) => h('li', { text: r })))),
    h('label', { for: 'webhook-description', text: S.whDescription }), f.description,
    h('p', { id: 'webhook-description-hint', class: 'hint', text: S.whDescriptionHint }),
    h('fieldset', { id: 'webhook-types' }, h('legend', { text: S.whTypes }),
      h('ul', { class: 'plain' }, f.types.map((box) => h('li', {}, h('label', { class: 'radio' }, box,
        h('span', { class: 'mono', text: box.value }), ' ', h('span', { class: 'muted', text: S.whTypeHints[box.value] })))))),
    h('label', { class: 'radio' }, f.enabled, S.whEnabled),
    h('p', { class: 'hint', text: S.whEnabledHint }),
    f.rotate ? [h('label', { class: 'radio' }, f.rotate, S.whRotate), h('p', { class: 'hint', text: S.whRotateHint })] : null);
  return { f, form };
}

// editorBody is what put-webhook is sent, or a message saying what to
// fix.
function editorBody(f, w) {
  const types = f.types.filter((b) => b.checked).map((b) => b.value);
  if (!f.url.value.trim()) return { problem: S.whUrlRequired };
  if (!types.length) return { problem: S.whChooseType };
  if (codePoints(f.description.value) > MAX_DESCRIPTION) return { problem: S.whDescriptionTooLong };
  const body = { Url: f.url.value.trim(), Description: f.description.value, Types: types, Enabled: f.enabled.checked };
  if (w) Object.assign(body, { WebhookId: w.WebhookId, RotateSecret: f.rotate.checked });
  return { body };
}

function openEditor(page, w) {
  const { f, form } = editorFields(w);
  const msg = h('div', { id: 'webhook-msg' });
  const d = openDialog({ title: w ? S.whEditTitle : S.whAddTitle, wide: true });
  const save = h('button', { type: 'button', class: 'primary', id: 'webhook-save', text: S.save, on: { click: () => busy(save, async () => {
    const { body, problem } = editorBody(f, w);
    if (problem) { replace(msg, h('p', { class: 'error', role: 'alert', text: problem })); return; }
    let res;
    try {
      res = await call('put-webhook', { body });
    } catch (err) { replace(msg, errorBox(err)); return; }
    d.close();
    say(page, 'webhook-saved', w ? S.whSaved(res.Webhook.Url) : S.whCreated(res.Webhook.Url));
    if (res.Secret) showSecret(res.Secret, res.Webhook.Url);
    await load(page);
  }) } });
  d.setBody(form, msg);
  d.setFooter(save, h('button', { type: 'button', id: 'webhook-cancel', text: S.cancel, on: { click: () => d.close() } }));
  f.url.focus();
}

// showSecret shows a secret once: nothing keeps it after the dialog closes.
function showSecret(secret, url) {
  const input = h('input', { id: 'webhook-secret', type: 'text', class: 'mono', readonly: true, value: secret,
    'aria-describedby': 'webhook-secret-warning' });
  const copy = h('button', { type: 'button', id: 'webhook-secret-copy', text: S.copy, on: { click: async () => {
    input.select();
    try { await navigator.clipboard.writeText(secret); } catch { document.execCommand?.('copy'); }
    copy.textContent = S.copied;
    announce(S.copied);
  } } });
  const d = openDialog({ title: S.whSecretTitle, wide: true });
  d.setBody(h('p', { text: S.whSecretFor(url) }),
    h('label', { for: 'webhook-secret', text: S.whSecretLabel }), h('div', { class: 'secret-row' }, input, copy),
    h('p', { id: 'webhook-secret-warning', class: 'warning', text: S.whSecretOnce }),
    h('p', { class: 'hint', text: S.whSecretHow }));
  d.setFooter(h('button', { type: 'button', class: 'primary', id: 'webhook-secret-done', text: S.whSecretDone, on: { click: () => d.close() } }));
  copy.focus();
}

// openRecent shows the webhook's last requests; Refresh reads them again.
function openRecent(page, w) {
  const d = openDialog({ title: S.whRecentTitle(w.Url), wide: true, onClose: () => { page.onLoad = null; } });
  const draw = (hook) => d.setBody(hook ? attemptsTable(hook) : h('p', { class: 'empty', text: S.whGone }));
  page.onLoad = () => draw(page.hooks.find((x) => x.WebhookId === w.WebhookId));
  draw(w);
  const refresh = h('button', { type: 'button', id: 'webhook-attempts-refresh', text: S.refresh, on: { click: () => busy(refresh, () => load(page)) } });
  d.setFooter(refresh, h('button', { type: 'button', id: 'webhook-attempts-close', text: S.close, on: { click: () => d.close() } }));
}

function attemptsTable(w) {
  const list = w.RecentAttempts || [];
  if (!list.length) return h('p', { class: 'empty', id: 'webhook-attempts-empty', text: S.whRecentEmpty });
  const cols = [S.time, S.whChange, S.whStatusCode, S.whDuration, S.whError];
  return [h('p', { class: 'hint', text: S.whRecentLead }), h('div', { class: 'table-wrap' }, h('table', { class: 'table attempts', id: 'webhook-attempts' },
    h('thead', {}, h('tr', {}, cols.map((t) => h('th', { scope: 'col', text: t })))),
    h('tbody', {}, list.map((a) => h('tr', { 'data-change': a.ChangeId, class: a.StatusCode >= 200 && a.StatusCode < 300 ? 'ok' : 'failed' },
      h('td', {}, timeEl(a.Time)),
      h('td', { class: a.ChangeId === 'test' ? 'change' : 'change mono small', text: a.ChangeId === 'test' ? S.whTestEvent : a.ChangeId }),
      h('td', { class: 'status-code', 'data-status-code': String(a.StatusCode), text: a.StatusCode ? String(a.StatusCode) : S.whNoAnswer }),
      h('td', { class: 'duration', text: S.whMs(a.DurationMs ?? 0) }),
      h('td', { class: 'error-text', text: a.Error || '' }))))))];
}
