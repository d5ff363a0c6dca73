// The Added Member dialog: a transfer list. Directory accounts that are not
// members yet on the left (search, folder filter with subfolders, paging),
// The member is selected on the right (at most 100). OK adds them with
// add-members; when none failed the dialog closes onto the member list
// (the product document's flow), else it lists each result, failures first.
import { h, replace, uid } from './dom.js';
import { S } from './strings.js';
import { call } from './api.js';
import { announce, busy, errorBox, openDialog, pager, resultsList, PageTokens } from './ui.js';

const MAX = 100;
const PAGE = 20;

// openAddMembers opens the dialog; onDone(answer) runs when it closes after
// add-members succeeded (answer is its response).
export function openAddMembers({ onDone }) {
  const t = transferState();
  const d = openDialog({ title: S.addedMember, wide: true, onClose: () => { if (t.outcome) onDone(t.outcome); } });
  const okBtn = h('button', { type: 'button', class: 'primary', id: 'transfer-ok', text: S.ok, disabled: true });
  t.onRender = () => { okBtn.disabled = t.selected.size === 0; };
  okBtn.addEventListener('click', () => busy(okBtn, () => addSelected(t, d)));

  // The folders, for the filter (the dialog works without them).
  call('list-folders').then((res) => {
    for (const f of res.Folders || []) t.folderSel.append(h('option', { value: f.FolderId, text: f.FolderPath }));
  }).catch(() => {});

  d.setBody(h('div', { class: 'transfer' },
    h('section', { class: 'pane' }, h('h3', { text: S.candidatesTitle }), searchForm(t), t.leftList, t.leftPager),
    h('div', { class: 'moves' }, t.moveBtn, t.moveAllBtn, t.removeBtn, t.removeAllBtn),
    h('section', { class: 'pane' }, h('h3', {}, S.selectedTitle, ' ', t.countEl), t.rightList)), t.msg);
  d.setFooter(okBtn, h('button', { type: 'button', id: 'transfer-cancel', text: S.cancel, on: { click: () => d.close() } }));
  renderRight(t);
  t.kw.focus();
  loadLeft(t);
}

// transferState holds the dialog's elements and what is selected.
function transferState() {
  const t = {
    selected: new Map(), // AccountId -> DisplayName, in the order moved
    tokens: new PageTokens(),
    keyword: '',
    folderId: '',
    page: [], // the candidates of the current page
    total: 0,
    outcome: null, // the add-members answer, once OK has added something
    onRender: () => {},
    leftList: h('ul', { class: 'pick-list', id: 'candidates', 'aria-label': S.candidatesTitle }),
    leftPager: h('div'),
    rightList: h('ul', { class: 'pick-list', id: 'selected', 'aria-label': S.selectedTitle }),
    countEl: h('span', { id: 'selected-count', class: 'count', text: S.selectedCount(0, MAX) }),
    msg: h('div', { id: 'transfer-msg' }),
    kw: h('input', { id: uid('ckw'), type: 'search', name: 'candidate-keyword' }),
    folderSel: h('select', { id: uid('cfolder'), name: 'candidate-folder' }, h('option', { value: '', text: S.allFolders })),
  };
  t.shown = () => t.page.filter((a) => !t.selected.has(a.AccountId));
  const rerender = () => { renderRight(t); renderLeft(t); };
  const moveBtn = (id, text, fn) => h('button', { type: 'button', id, text, disabled: true, on: { click: fn } });
  t.moveBtn = moveBtn('move-selected', S.moveSelected, () => move(t, checked(t.leftList), t.moveBtn));
  t.moveAllBtn = moveBtn('move-all', S.moveAll, () => move(t, t.shown().map((a) => a.AccountId), t.moveAllBtn));
  t.removeBtn = moveBtn('remove-selected', S.removeSelected, () => {
    for (const id of checked(t.rightList)) t.selected.delete(id);
    rerender();
    keepFocus(t.removeBtn, t.kw);
  });
  t.removeAllBtn = moveBtn('remove-all', S.removeAll, () => { t.selected.clear(); rerender(); keepFocus(t.removeAllBtn, t.kw); });
  t.leftList.addEventListener('change', () => syncMoves(t));
  t.rightList.addEventListener('change', () => syncMoves(t));
  t.folderSel.addEventListener('change', () => { t.folderId = t.folderSel.value; t.tokens.reset(); loadLeft(t); });
  return t;
}

const checked = (list) => [...list.querySelectorAll('input:checked')].map((c) => c.value);

// syncMoves enables a move button only when it has something to move.
function syncMoves(t) {
  t.moveBtn.disabled = checked(t.leftList).length === 0;
  t.moveAllBtn.disabled = t.shown().length === 0;
  t.removeBtn.disabled = checked(t.rightList).length === 0;
  t.removeAllBtn.disabled = t.selected.size === 0;
}

// keepFocus moves the focus to next when btn had it and is now disabled
// (a disabled button drops the focus to the page).
function keepFocus(btn, next) {
  if (btn.disabled && (document.activeElement === btn || document.activeElement === document.body)) next.focus();
}

function searchForm(t) {
  return h('form', { class: 'search', role: 'search', on: { submit: (e) => { e.preventDefault(); t.keyword = t.kw.value.trim(); t.tokens.reset(); loadLeft(t); } } },
    h('label', { for: t.kw.id, text: S.searchCandidates }), h('div', { class: 'row' }, t.kw, h('button', { type: 'submit', id: 'search-candidates', text: S.search })),
    h('label', { for: t.folderSel.id, text: S.folder }), t.folderSel);
}

function renderRight(t) {
  replace(t.rightList, t.selected.size ? [...t.selected].map(([id, name]) => {
    const cid = uid('sel');
    return h('li', {}, h('input', { type: 'checkbox', id: cid, value: id }), h('label', { for: cid, text: S.selectCandidate(id, name) }));
  }) : h('li', { class: 'muted', text: S.selectedEmpty }));
  t.countEl.textContent = S.selectedCount(t.selected.size, MAX);
  t.onRender();
  syncMoves(t);
}

function renderLeft(t) {
  const visible = t.shown();
  const empty = t.keyword ? S.candidatesNoMatch(t.keyword) : (t.folderId ? S.candidatesNoneInFolder : (t.page.length ? S.selectedEmpty : S.candidatesEmpty));
  replace(t.leftList, visible.length ? visible.map((a) => {
    const cid = uid('cand');
    return h('li', {}, h('input', { type: 'checkbox', id: cid, value: a.AccountId }),
      h('label', { for: cid }, S.selectCandidate(a.AccountId, a.DisplayName), ' ', h('span', { class: 'muted small folder-path', text: a.FolderPath || '' })));
  }) : h('li', { class: 'muted', id: 'candidates-empty', text: empty }));
  replace(t.leftPager, pager({ page: t.tokens.page, total: t.total, pageSize: PAGE, hasNext: t.tokens.hasNext, label: S.candidatesTitle,
    onPrev: () => { t.tokens.prev(); loadLeft(t); }, onNext: () => { t.tokens.next(); loadLeft(t); } }));
  syncMoves(t);
}

async function loadLeft(t) {
  t.leftList.setAttribute('aria-busy', 'true');
  try {
    const res = await call('list-candidates', { query: { Keyword: t.keyword, FolderId: t.folderId, MaxResults: PAGE, NextToken: t.tokens.current } });
    t.tokens.setNext(res.NextToken);
    t.page = res.Accounts || [];
    t.total = res.TotalCount;
    renderLeft(t);
  } catch (err) {
    replace(t.msg, errorBox(err));
  } finally {
    t.leftList.removeAttribute('aria-busy');
  }
}

// move puts ids on the right, up to MAX; the focus goes on to OK when the
// button used has nothing more to move.
function move(t, ids, btn) {
  replace(t.msg);
  for (const id of ids) {
    if (t.selected.size >= MAX) { replace(t.msg, h('p', { class: 'error', role: 'alert', text: S.maxSelected(MAX) })); break; }
    t.selected.set(id, t.page.find((a) => a.AccountId === id)?.DisplayName || '');
  }
  renderRight(t);
  renderLeft(t);
  keepFocus(btn, document.getElementById('transfer-ok'));
}

// addSelected calls add-members. All added (or members already): close,
// the member list shows them. Else: each result, the failures first.
async function addSelected(t, d) {
  let res;
  try {
    res = await call('add-members', { body: { Members: [...t.selected.keys()].map((id) => ({ AccountId: id })) } });
  } catch (err) {
    replace(t.msg, errorBox(err));
    return;
  }
  t.outcome = res;
  const failed = res.Results.filter((r) => r.Status === 'Failed');
  if (!failed.length) { d.close(); return; }
  announce(S.addFailed(failed.length, res.AddedCount));
  d.setBody(h('div', { id: 'add-results' }, h('p', { class: 'error', role: 'alert', text: S.addFailed(failed.length, res.AddedCount) }),
    resultsList([...failed, ...res.Results.filter((r) => r.Status !== 'Failed')], 'AccountId')));
  const close = h('button', { type: 'button', class: 'primary', id: 'add-close', text: S.close, on: { click: () => d.close() } });
  d.setFooter(close);
  close.focus();
}
