// The audit trail: every change, newest first, paged; or one account's
// timeline (list-audit-events?Target=).
import { h, replace, timeEl } from './dom.js';
import { S } from './strings.js';
import { call } from './api.js';
import { errorBox, pager, PageTokens } from './ui.js';

const PAGE = 20;
const tokens = new PageTokens();
let target = ''; // an Account UID: its timeline only

export async function renderAudit(el) {
  const area = h('div', { id: 'audit-table' });
  const input = h('input', { id: 'audit-target', type: 'text', inputmode: 'numeric', autocomplete: 'off', value: target, placeholder: '1234567890123456' });
  const show = (uid) => { target = uid.trim(); input.value = target; tokens.reset(); load(area); };
  replace(el, h('section', { 'data-view': 'audit' },
    h('h1', { text: S.auditTitle }),
    h('div', { class: 'toolbar' },
      h('form', { id: 'audit-filter', role: 'search', 'aria-label': S.timelineOf, on: { submit: (e) => { e.preventDefault(); show(input.value); } } },
        h('label', { for: 'audit-target', text: S.accountUid }), ' ', input, ' ',
        h('button', { type: 'submit', id: 'audit-show', text: S.showTimeline }), ' ',
        h('button', { type: 'button', id: 'audit-all', text: S.showAll, on: { click: () => show('') } })),
      h('button', { type: 'button', id: 'audit-refresh', text: S.refresh, on: { click: () => { tokens.reset(); load(area); } } })),
    area));
  area.addEventListener('timeline', (e) => show(e.detail));
  await load(area);
}

// detail shows a record's details, empty values left out (an empty
// remark says nothing).
function detail(d) {
  return Object.entries(d || {}).filter(([, v]) => v !== '' && v !== undefined).map(([k, v]) => `${k}: ${v}`).join('; ');
}

// actorCell names who made the change: the person, their access role and
// their account ("alice@example.onaliyun.com (Operator) of 1000000000000001"),
// then the account's role. System records, and records from before people
// were known, name the account only.
function actorCell(e) {
  const role = h('span', { class: 'muted', text: S.roles[e.ActorRole] || e.ActorRole });
  const person = e.ActorUserName || e.ActorUserId;
  if (!person) return [h('span', { class: 'mono', text: e.ActorAccountId || '' }), ' ', role];
  const access = S.accessRoles[e.ActorAccessRole] || e.ActorAccessRole;
  return [h('span', { class: 'person', text: S.actorPerson(person, access, e.ActorAccountId) }), ' ', role];
}

async function load(area) {
  let res;
  try {
    res = await call('list-audit-events', { query: { Target: target || undefined, MaxResults: PAGE, NextToken: tokens.current } });
  } catch (err) { replace(area, errorBox(err, () => load(area))); return; }
  tokens.setNext(res.NextToken);
  const events = res.Events || [];
  const scope = target ? h('p', { id: 'audit-scope', role: 'status', text: S.timelineFor(target) }) : null;
  if (!events.length && tokens.page === 0) { replace(area, scope, h('p', { class: 'empty', text: target ? S.auditTimelineEmpty : S.auditEmpty })); return; }
  const targetCell = (t) => /^[0-9]{16}$/.test(t || '') && t !== target
    // An account: a click shows its timeline.
    ? h('button', { type: 'button', class: 'link mono', title: S.showTimeline, text: t,
      on: { click: () => area.dispatchEvent(new CustomEvent('timeline', { detail: t })) } })
    : h('span', { class: 'mono', text: t || '' });
  replace(area, scope, h('div', { class: 'table-wrap' }, h('table', { class: 'table audit' },
    h('caption', { class: 'sr-only', text: S.auditTitle }),
    h('thead', {}, h('tr', {}, [S.time, S.actor, S.action, S.target, S.result, S.requestId, S.detail].map((t) => h('th', { scope: 'col', text: t })))),
    h('tbody', {}, events.map((e) => h('tr', { 'data-action': e.Action },
      h('td', {}, timeEl(e.Time)),
      h('td', { class: 'actor' }, actorCell(e)),
      h('td', { class: 'action', 'data-action': e.Action, text: S.actionNames[e.Action] || e.Action }),
      h('td', {}, targetCell(e.Target)),
      h('td', { 'data-result': e.Result, text: S.statuses[e.Result] || e.Result }),
      h('td', { class: 'mono small', text: e.RequestId }),
      h('td', { class: 'detail', text: detail(e.Detail) })))))),
  pager({ page: tokens.page, pageSize: PAGE, hasNext: tokens.hasNext, label: S.auditTitle,
    onPrev: () => { tokens.prev(); load(area); }, onNext: () => { tokens.next(); load(area); } }));
}
