// The Remarks editor: the current remark, a counter in code points (the
// API's rule: at most 256, no control characters), sent with the Version
// it was read at. A Conflict.Version shows the newer remark and lets the
// user keep it or overwrite it.
import { h, replace, uid, codePoints } from './dom.js';
import { S } from './strings.js';
import { call } from './api.js';
import { announce, busy, errorBox, openDialog } from './ui.js';

const MAX = 256;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

export function openRemark(member, { onSaved }) {
  let version = member.Version;
  let saved = false;
  const id = uid('remark');
  const input = h('input', { id, type: 'text', name: 'remark', value: member.Remark || '', 'aria-describedby': `${id}-rules ${id}-count`, autofocus: true });
  const count = h('span', { id: `${id}-count`, class: 'count', 'aria-live': 'polite' });
  const msg = h('div', { id: 'remark-msg' });
  const okBtn = h('button', { type: 'button', class: 'primary', id: 'remark-ok', text: S.ok });
  const update = () => {
    const n = codePoints(input.value);
    count.textContent = S.remarkCount(n, MAX);
    count.classList.toggle('over', n > MAX);
  };
  input.addEventListener('input', update);
  update();

  const d = openDialog({ title: S.remarkTitle(member.AccountId), onClose: () => { if (saved) onSaved(); } });
  d.setBody(h('label', { for: id, text: S.remarkLabel }), input, h('div', { class: 'hint-row' },
    h('p', { id: `${id}-rules`, class: 'hint', text: S.remarkRules }), count), msg);

  async function save(atVersion) {
    const remark = input.value;
    if (codePoints(remark) > MAX) { replace(msg, h('p', { class: 'error', role: 'alert', text: S.remarkTooLong })); return; }
    if (CONTROL.test(remark)) { replace(msg, h('p', { class: 'error', role: 'alert', text: S.remarkControl })); return; }
    try {
      await call('update-member-remark', { body: { AccountId: member.AccountId, Remark: remark, Version: atVersion } });
      saved = true;
      announce(S.remarkSaved);
      d.close();
    } catch (err) {
      if (err.code === 'Conflict.Version') await conflict(remark);
      else replace(msg, errorBox(err));
    }
  }

  // conflict reads the member as it is now and offers both ways out.
  async function conflict(mine) {
    let now;
    try {
      const res = await call('list-members', { query: { Keyword: member.AccountId, MaxResults: 100 } });
      now = (res.Members || []).find((m) => m.AccountId === member.AccountId);
    } catch (err) { replace(msg, errorBox(err)); return; }
    if (!now) { saved = true; replace(msg, h('p', { class: 'error', role: 'alert', text: S.memberGone })); return; }
    version = now.Version;
    const keep = h('button', { type: 'button', id: 'conflict-keep', text: S.keepTheirs, on: { click: () => { saved = true; d.close(); } } });
    const over = h('button', { type: 'button', class: 'primary', id: 'conflict-overwrite', text: S.overwrite,
      on: { click: () => busy(over, () => save(version)) } });
    replace(msg, h('div', { class: 'conflict', id: 'remark-conflict', role: 'alert' },
      h('h3', { text: S.conflictTitle }), h('p', { text: S.conflictText(now.Version) }),
      h('dl', {}, h('dt', { text: S.theirRemark }), h('dd', { id: 'their-remark', text: now.Remark || S.emptyRemark }),
        h('dt', { text: S.yourRemark }), h('dd', { id: 'your-remark', text: mine || S.emptyRemark })),
      h('div', { class: 'actions' }, over, keep)));
    over.focus();
  }

  okBtn.addEventListener('click', () => busy(okBtn, () => save(version)));
  input.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); okBtn.click(); } });
  d.setFooter(okBtn, h('button', { type: 'button', id: 'remark-cancel', text: S.cancel, on: { click: () => d.close() } }));
  input.focus();
}
