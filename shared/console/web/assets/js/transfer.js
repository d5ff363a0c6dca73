// The Added Member dialog: a transfer list. Directory accounts that are not
// members yet on the left (search, folder filter with subfolders, paging),
// The member is selected on the
// right (at most 100), OK adds them with add-members and shows what happened
// to each.
import { h, replace, uid } from './dom.js';
import { S } from './strings.js';
import { call } from './api.js';
import { announce, busy, errorBox, openDialog, pager, resultsList, PageTokens } from './ui.js';

const MAX = 100;
const PAGE = 20;

export function openAddMembers({ onDone }) {
  const selected = new Map(); // AccountId -> DisplayName, in the order moved
  const tokens = new PageTokens();
  let keyword = '';
  let folderId = '';
  let page = []; // candidates shown on the left
  let added = false;

  const leftList = h('ul', { class: 'pick-list', id: 'candidates', 'aria-label': S.candidatesTitle });
  const leftPager = h('div');
  const rightList = h('ul', { class: 'pick-list', id: 'selected', 'aria-label': S.selectedTitle });
  const countEl = h('span', { id: 'selected-count', class: 'count', text: S.selectedCount(0, MAX) });
  const msg = h('div', { id: 'transfer-msg' });
  const kwId = uid('ckw');
  const kw = h('input', { id: kwId, type: 'search', name: 'candidate-keyword' });
  const folderSelId = uid('cfolder');
  const folderSel = h('select', { id: folderSelId, name: 'candidate-folder', on: { change: () => { folderId = folderSel.value; tokens.reset(); loadLeft(); } } },
    h('option', { value: '', text: S.allFolders }));
  const okBtn = h('button', { type: 'button', class: 'primary', id: 'transfer-ok', text: S.ok, disabled: true });

  const d = openDialog({ title: S.addedMember, wide: true, onClose: () => { if (added) onDone(); } });

  function renderRight() {
    replace(rightList, selected.size ? [...selected].map(([id, name]) => {
      const cid = uid('sel');
      return h('li', {}, h('input', { type: 'checkbox', id: cid, value: id }), h('label', { for: cid, text: S.selectCandidate(id, name) }));
    }) : h('li', { class: 'muted', text: S.selectedEmpty }));
    countEl.textContent = S.selectedCount(selected.size, MAX);
    okBtn.disabled = selected.size === 0;
  }

  function renderLeft(total, hasNext) {
    const visible = page.filter((a) => !selected.has(a.AccountId));
    replace(leftList, visible.length ? visible.map((a) => {
      const cid = uid('cand');
      return h('li', {}, h('input', { type: 'checkbox', id: cid, value: a.AccountId }),
        h('label', { for: cid }, S.selectCandidate(a.AccountId, a.DisplayName), ' ', h('span', { class: 'muted small folder-path', text: a.FolderPath || '' })));
    }) : h('li', { class: 'muted', id: 'candidates-empty', text: keyword ? S.candidatesNoMatch(keyword) : (folderId ? S.candidatesNoneInFolder : (page.length ? S.selectedEmpty : S.candidatesEmpty)) }));
    replace(leftPager, pager({ page: tokens.page, total, pageSize: PAGE, hasNext, label: S.candidatesTitle,
      onPrev: () => { tokens.prev(); loadLeft(); }, onNext: () => { tokens.next(); loadLeft(); } }));
  }

  let lastTotal = 0;
  async function loadLeft() {
    leftList.setAttribute('aria-busy', 'true');
    try {
      const res = await call('list-candidates', { query: { Keyword: keyword, FolderId: folderId, MaxResults: PAGE, NextToken: tokens.current } });
      tokens.setNext(res.NextToken);
      page = res.Accounts || [];
      lastTotal = res.TotalCount;
      renderLeft(res.TotalCount, tokens.hasNext);
    } catch (err) {
      replace(msg, errorBox(err));
    } finally {
      leftList.removeAttribute('aria-busy');
    }
  }

  function move(ids) {
    replace(msg);
    for (const id of ids) {
      if (selected.size >= MAX) { replace(msg, h('p', { class: 'error', role: 'alert', text: S.maxSelected(MAX) })); break; }
      selected.set(id, page.find((a) => a.AccountId === id)?.DisplayName || '');
    }
    renderRight();
    renderLeft(lastTotal, tokens.hasNext);
  }
  const checked = (list) => [...list.querySelectorAll('input:checked')].map((c) => c.value);

  const search = h('form', { class: 'search', role: 'search', on: { submit: (e) => { e.preventDefault(); keyword = kw.value.trim(); tokens.reset(); loadLeft(); } } },
    h('label', { for: kwId, text: S.searchCandidates }), h('div', { class: 'row' }, kw, h('button', { type: 'submit', id: 'search-candidates', text: S.search })),
    h('label', { for: folderSelId, text: S.folder }), folderSel);

  // The folders, for the filter (the dialog works without them).
  call('list-folders').then((res) => {
    for (const f of res.Folders || []) folderSel.append(h('option', { value: f.FolderId, text: f.FolderPath }));
  }).catch(() => {});

  d.setBody(h('div', { class: 'transfer' },
    h('section', { class: 'pane' }, h('h3', { text: S.candidatesTitle }), search, leftList, leftPager),
    h('div', { class: 'moves' },
      h('button', { type: 'button', id: 'move-selected', text: S.moveSelected, on: { click: () => move(checked(leftList)) } }),
      h('button', { type: 'button', id: 'move-all', text: S.moveAll, on: { click: () => move(page.map((a) => a.AccountId)) } }),
      h('button', { type: 'button', id: 'remove-selected', text: S.removeSelected, on: { click: () => {
        for (const id of checked(rightList)) selected.delete(id);
        renderRight(); renderLeft(lastTotal, tokens.hasNext);
      } } }),
      h('button', { type: 'button', id: 'remove-all', text: S.removeAll, on: { click: () => { selected.clear(); renderRight(); renderLeft(lastTotal, tokens.hasNext); } } })),
    h('section', { class: 'pane' }, h('h3', {}, S.selectedTitle, ' ', countEl), rightList)), msg);

  okBtn.addEventListener('click', () => busy(okBtn, async () => {
    try {
      const res = await call('add-members', { body: { Members: [...selected.keys()].map((id) => ({ AccountId: id })) } });
      added = true;
      announce(S.addResults(res.AddedCount));
      d.setBody(h('div', { id: 'add-results' }, h('p', { text: S.addResults(res.AddedCount) }), resultsList(res.Results, 'AccountId')));
      const close = h('button', { type: 'button', class: 'primary', id: 'add-close', text: S.close, on: { click: () => d.close() } });
      d.setFooter(close);
      close.focus();
    } catch (err) {
      replace(msg, errorBox(err));
    }
  }));
  d.setFooter(okBtn, h('button', { type: 'button', id: 'transfer-cancel', text: S.cancel, on: { click: () => d.close() } }));
  renderRight();
  kw.focus();
  loadLeft();
}
