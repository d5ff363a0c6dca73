// The audit trail: every change, newest first, paged.
import { h, replace, timeEl } from './dom.js';
import { S } from './strings.js';
import { call } from './api.js';
import { errorBox, pager, PageTokens } from './ui.js';

const PAGE = 20;
const tokens = new PageTokens();

export async function renderAudit(el) {
  const area = h('div', { id: 'audit-table' });
  replace(el, h('section', { 'data-view': 'audit' },
    h('h1', { text: S.auditTitle }),
    h('div', { class: 'toolbar' }, h('button', { type: 'button', id: 'audit-refresh', text: S.refresh, on: { click: () => { tokens.reset(); load(area); } } })),
    area));
  await load(area);
}

function detail(d) {
  return Object.entries(d || {}).map(([k, v]) => `${k}: ${v}`).join('; ');
}

async function load(area) {
  let res;
  try {
    res = await call('list-audit-events', { query: { MaxResults: PAGE, NextToken: tokens.current } });
  } catch (err) { replace(area, errorBox(err, () => load(area))); return; }
  tokens.setNext(res.NextToken);
  const events = res.Events || [];
  if (!events.length && tokens.page === 0) { replace(area, h('p', { class: 'empty', text: S.auditEmpty })); return; }
  replace(area, h('div', { class: 'table-wrap' }, h('table', { class: 'table audit' },
    h('caption', { class: 'sr-only', text: S.auditTitle }),
    h('thead', {}, h('tr', {}, [S.time, S.actor, S.action, S.target, S.result, S.requestId, S.detail].map((t) => h('th', { scope: 'col', text: t })))),
    h('tbody', {}, events.map((e) => h('tr', { 'data-action': e.Action },
      h('td', {}, timeEl(e.Time)),
      h('td', {}, h('span', { class: 'mono', text: e.ActorAccountId || '' }), ' ', h('span', { class: 'muted', text: S.roles[e.ActorRole] || e.ActorRole })),
      h('td', { class: 'action', text: e.Action }),
      h('td', { class: 'mono', text: e.Target }),
      h('td', { text: e.Result }),
      h('td', { class: 'mono small', text: e.RequestId }),
      h('td', { class: 'detail', text: detail(e.Detail) })))))),
  pager({ page: tokens.page, pageSize: PAGE, hasNext: tokens.hasNext, label: S.auditTitle,
    onPrev: () => { tokens.prev(); load(area); }, onNext: () => { tokens.next(); load(area); } }));
}
