// Shared pieces of the screens: errors with a copyable RequestId, busy
// buttons, modal dialogs (focus kept inside, Esc closes, focus returned),
// confirmations, per-item results and pagers.
import { h, replace, uid } from './dom.js';
import { S, errorText } from './strings.js';

// announce tells screen-reader users what just happened.
export function announce(msg) {
  const live = document.getElementById('live');
  live.textContent = '';
  // A separate task, so the same message twice is announced twice.
  setTimeout(() => { live.textContent = msg; }, 0);
}

// errorBox shows an API error: Code, Message and the RequestId to quote.
// In Chinese a documented Code also gets its text (errors.zh.js), and the
// server's English message stays beside it for the details.
export function errorBox(err, retry) {
  const explained = errorText(err.code);
  const rid = err.requestId || '';
  const ridInput = h('input', { class: 'rid', readonly: true, value: rid, 'aria-label': S.requestId });
  const copyBtn = h('button', { type: 'button', class: 'link', text: S.copy, on: { click: async () => {
    ridInput.select();
    try { await navigator.clipboard.writeText(rid); } catch { document.execCommand?.('copy'); }
    copyBtn.textContent = S.copied;
  } } });
  return h('div', { class: 'error', role: 'alert', 'data-code': err.code || '' },
    h('dl', {},
      h('dt', { text: S.errorCode }), h('dd', { class: 'code', text: err.code || '' }),
      explained ? [h('dt', { text: S.errorExplained }), h('dd', { class: 'explained', text: explained })] : null,
      h('dt', { text: explained ? S.serverMessage : S.errorMessage }), h('dd', { class: 'message', text: err.message || '' }),
      rid ? [h('dt', { text: S.requestId }), h('dd', {}, ridInput, ' ', copyBtn)] : null),
    retry ? h('button', { type: 'button', text: S.retry, on: { click: retry } }) : null);
}

// busy runs fn with btn disabled and labelled as working, and gives the
// button back afterwards, whatever happened.
export async function busy(btn, fn) {
  const label = btn.textContent;
  btn.disabled = true;
  btn.setAttribute('aria-busy', 'true');
  btn.textContent = S.working;
  try {
    return await fn();
  } finally {
    btn.disabled = false;
    btn.removeAttribute('aria-busy');
    btn.textContent = label;
  }
}

const focusable = 'a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

// openDialog shows a modal dialog. Tab and Shift+Tab stay inside it, Esc
// closes it (onClose runs), and focus returns to what had it before.
export function openDialog({ title, body, footer, onClose, wide }) {
  const opener = document.activeElement;
  const titleId = uid('dlg-title');
  const dlg = h('dialog', { class: wide ? 'dialog wide' : 'dialog', 'aria-labelledby': titleId, 'aria-modal': 'true' });
  const bodyEl = h('div', { class: 'dialog-body' });
  const footEl = h('div', { class: 'dialog-foot' });
  dlg.append(h('h2', { id: titleId, text: title }), bodyEl, footEl);
  let closed = false;
  const api = {
    el: dlg,
    body: bodyEl,
    setBody: (...c) => replace(bodyEl, ...c),
    setFooter: (...c) => replace(footEl, ...c),
    close() {
      if (closed) return;
      closed = true;
      dlg.close();
      dlg.remove();
      if (opener && opener.isConnected) opener.focus();
      onClose?.();
    },
  };
  dlg.addEventListener('cancel', (e) => { e.preventDefault(); api.close(); });
  dlg.addEventListener('keydown', (e) => {
    if (e.key !== 'Tab') return;
    const items = [...dlg.querySelectorAll(focusable)].filter((x) => x.offsetParent !== null);
    if (!items.length) return;
    const first = items[0];
    const last = items[items.length - 1];
    if (e.shiftKey && (document.activeElement === first || !dlg.contains(document.activeElement))) {
      e.preventDefault(); last.focus();
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault(); first.focus();
    }
  });
  if (body) replace(bodyEl, body);
  if (footer) replace(footEl, footer);
  document.body.append(dlg);
  dlg.showModal();
  const first = dlg.querySelector('[autofocus]') || dlg.querySelector(focusable);
  first?.focus();
  return api;
}

// confirmDialog asks a yes/no question; it resolves true on OK.
export function confirmDialog(title, message, okLabel = S.ok) {
  return new Promise((resolve) => {
    let answer = false;
    const d = openDialog({ title, body: h('p', { text: message }), onClose: () => resolve(answer) });
    d.setFooter(
      h('button', { type: 'button', class: 'primary danger', id: 'confirm-ok', text: okLabel, on: { click: () => { answer = true; d.close(); } } }),
      h('button', { type: 'button', text: S.cancel, on: { click: () => d.close() } }));
    d.el.querySelector('#confirm-ok').focus();
  });
}

// resultsList lists per-item results: id, status and, for failures, the
// code and message.
export function resultsList(results, idKey) {
  return h('ul', { class: 'results' }, results.map((r) => h('li', { class: r.Status === 'Failed' ? 'failed' : 'ok', 'data-id': r[idKey] },
    h('span', { class: 'mono', text: r[idKey] }), ' — ', h('strong', { 'data-status': r.Status, text: S.statuses[r.Status] || r.Status }),
    r.Code ? h('span', { class: 'failure' }, ' (', h('span', { class: 'code', text: r.Code }), ': ',
      errorText(r.Code) ? h('span', { class: 'explained', text: `${errorText(r.Code)} ` }) : null,
      h('span', { class: 'message', text: r.Message || '' }), ')') : null)));
}

// pager is the paging bar of a list paged with NextToken: page numbers are
// counted here, previous pages are re-read with the tokens kept.
export function pager({ page, total, pageSize, hasNext, onPrev, onNext, label }) {
  const pages = total === undefined ? null : Math.max(1, Math.ceil(total / pageSize));
  return h('nav', { class: 'pager', 'aria-label': label },
    total === undefined ? null : h('span', { class: 'total', text: S.total(total) }),
    h('span', { class: 'pageno', text: pages ? S.pageOf(page + 1, pages) : S.page(page + 1) }),
    h('button', { type: 'button', class: 'prev', text: S.previous, disabled: page === 0, on: { click: onPrev } }),
    h('button', { type: 'button', class: 'next', text: S.next, disabled: !hasNext, on: { click: onNext } }));
}

// PageTokens keeps the NextToken of every page seen, so Previous works on
// forward-only lists.
export class PageTokens {
  constructor() { this.reset(); }
  reset() { this.tokens = ['']; this.page = 0; }
  get current() { return this.tokens[this.page]; }
  setNext(token) { this.tokens.length = this.page + 1; if (token) this.tokens.push(token); }
  get hasNext() { return this.tokens.length > this.page + 1; }
  next() { if (this.hasNext) this.page += 1; }
  prev() { if (this.page > 0) this.page -= 1; }
}
