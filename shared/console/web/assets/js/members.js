// The Multi-account Management tab: the member table (Account UID, Account
// Name, Add Time, remark, folder; Remarks and Delete in the Actions column), search,
// sort, paging with the total, multi-select delete and CSV export.
import { h, replace, uid, timeEl } from './dom.js';
import { S } from './strings.js';
import { call } from './api.js';
import { announce, busy, confirmDialog, errorBox, openDialog, pager, resultsList, PageTokens } from './ui.js';
import { openAddMembers } from './transfer.js';
import { openRemark } from './remark.js';
import { exportCsv } from './csv.js';

// The table's state lives across renders of the tab (module scope), so
// coming back to the tab keeps the search, sort and page.
const st = { keyword: '', sortBy: 'AddTime', sortOrder: 'Desc', pageSize: 20, tokens: new PageTokens(), selected: new Set() };

export async function renderMembers(el, ctx) {
  const { can } = ctx;
  const status = h('div', { id: 'members-status' });
  const tableArea = h('div', { id: 'members-table' });
  const kwId = uid('kw');
  const kw = h('input', { id: kwId, type: 'search', name: 'keyword', value: st.keyword });
  // Each button only where AllowedActions lists its action.
  const delBtn = can('delete-members')
    ? h('button', { type: 'button', id: 'delete-selected', class: 'danger', text: S.deleteSelected(st.selected.size), disabled: st.selected.size === 0 }) : null;
  const addBtn = can('add-members') ? h('button', { type: 'button', id: 'added-member', class: 'primary', text: S.addedMember }) : null;
  const csvBtn = h('button', { type: 'button', id: 'export-csv', text: S.exportCsv });
  const v = { area: tableArea, status, delBtn, addBtn, can };
  v.reload = () => load(v);

  addBtn?.addEventListener('click', () => openAddMembers({ onDone: (res) => {
    st.tokens.reset();
    addedNotice(status, res);
    v.reload();
    ctx.refresh();
  } }));
  delBtn?.addEventListener('click', () => deleteMembers([...st.selected], v));
  csvBtn.addEventListener('click', () => busy(csvBtn, async () => {
    try {
      const n = await exportCsv((done, total) => { csvBtn.textContent = S.exporting(done, total); });
      announce(S.exported(n));
      replace(status, h('p', { class: 'notice', role: 'status', text: S.exported(n) }));
    } catch (err) { replace(status, errorBox(err)); }
  }));

  const search = h('form', { class: 'search', role: 'search', on: { submit: (e) => {
    e.preventDefault();
    st.keyword = kw.value.trim();
    st.tokens.reset();
    st.selected.clear();
    v.reload();
  } } }, h('label', { for: kwId, text: S.searchMembers }), h('div', { class: 'row' }, kw,
    h('button', { type: 'submit', id: 'search-members', text: S.search }),
    h('button', { type: 'button', text: S.clear, on: { click: () => { kw.value = ''; search.requestSubmit(); } } })));

  replace(el, h('section', { 'data-view': 'members' },
    h('h1', { text: S.membersTitle }),
    h('div', { class: 'toolbar' }, addBtn, delBtn, csvBtn), search, status, tableArea));
  await v.reload();
}

// syncDelete shows how many members are selected on Delete selected.
function syncDelete(v) {
  if (!v.delBtn) return;
  v.delBtn.textContent = S.deleteSelected(st.selected.size);
  v.delBtn.disabled = st.selected.size === 0;
}

// load reads the page of members and shows it; v is the tab's elements
// (area, status, the buttons) and what this person can do.
async function load(v) {
  const { area } = v;
  area.setAttribute('aria-busy', 'true');
  let res;
  try {
    res = await call('list-members', { query: { Keyword: st.keyword, SortBy: st.sortBy, SortOrder: st.sortOrder,
      MaxResults: st.pageSize, NextToken: st.tokens.current } });
  } catch (err) {
    area.removeAttribute('aria-busy');
    replace(area, errorBox(err, v.reload));
    return;
  }
  area.removeAttribute('aria-busy');
  st.tokens.setNext(res.NextToken);
  const members = res.Members || [];
  syncDelete(v);
  if (!members.length && st.tokens.page === 0) {
    const add = !st.keyword && v.addBtn;
    replace(area, h('p', { class: 'empty', id: 'members-empty', text: st.keyword ? S.membersNoMatch(st.keyword) : (add ? S.membersEmpty : S.membersEmptyReadOnly) }),
      add ? h('button', { type: 'button', class: 'primary', text: S.addedMember, on: { click: () => { v.addBtn.focus(); v.addBtn.click(); } } }) : null);
    return;
  }
  replace(area,
    h('div', { class: 'table-wrap' }, h('table', { class: 'table members' },
      h('caption', { class: 'sr-only', text: S.membersTitle }),
      h('thead', {}, headRow(v, members)),
      h('tbody', {}, members.map((m) => memberRow(v, m))))),
    h('div', { class: 'pager-row' }, pager({ page: st.tokens.page, total: res.TotalCount, pageSize: st.pageSize, hasNext: st.tokens.hasNext,
      label: S.membersTitle,
      onPrev: () => { st.tokens.prev(); v.reload(); }, onNext: () => { st.tokens.next(); v.reload(); } }),
    pageSizeSelect(() => { st.tokens.reset(); v.reload(); })));
}

// headRow is the table's header: select-all (when members can be
// deleted), the sortable columns, and Actions (when there are any).
function headRow(v, members) {
  const sortHeader = (col, label) => {
    const active = st.sortBy === col;
    const nextOrder = active && st.sortOrder === 'Desc' ? 'Asc' : 'Desc';
    return h('th', { scope: 'col', 'aria-sort': active ? (st.sortOrder === 'Asc' ? 'ascending' : 'descending') : 'none' },
      h('button', { type: 'button', class: 'sort', id: `sort-${col}`, 'aria-label': S.sortBy(label, nextOrder),
        on: { click: () => { st.sortBy = col; st.sortOrder = nextOrder; st.tokens.reset(); v.reload(); } } },
      label, active ? (st.sortOrder === 'Asc' ? ' ▲' : ' ▼') : ''));
  };
  let all = null;
  if (v.delBtn) {
    all = h('input', { type: 'checkbox', id: 'select-all', 'aria-label': S.selectAllPage,
      checked: members.length > 0 && members.every((m) => st.selected.has(m.AccountId)) });
    all.addEventListener('change', () => {
      for (const m of members) (all.checked ? st.selected.add(m.AccountId) : st.selected.delete(m.AccountId));
      v.area.querySelectorAll('tbody input[type=checkbox]').forEach((c) => { c.checked = all.checked; });
      syncDelete(v);
    });
  }
  const plain = (text) => h('th', { scope: 'col', class: 'plain', text });
  return h('tr', {}, all ? h('th', { scope: 'col' }, all) : null, sortHeader('AccountId', S.accountUid),
    plain(S.accountName), sortHeader('AddTime', S.addTime), plain(S.remark), plain(S.folder),
    hasActions(v) ? plain(S.actions) : null);
}

function hasActions(v) {
  return v.can('update-member-remark') || v.can('delete-members');
}

// memberRow is one member; data-label names the column when a narrow
// screen stacks the row.
function memberRow(v, m) {
  const cb = v.delBtn ? h('input', { type: 'checkbox', 'aria-label': S.selectMember(m.AccountId), checked: st.selected.has(m.AccountId),
    on: { change: (e) => { (e.target.checked ? st.selected.add(m.AccountId) : st.selected.delete(m.AccountId)); syncDelete(v); } } }) : null;
  return h('tr', { 'data-account': m.AccountId },
    cb ? h('td', { class: 'select', 'data-label': S.colSelect }, cb) : null,
    h('td', { class: 'mono uid', 'data-label': S.accountUid, text: m.AccountId }),
    h('td', { class: 'name', 'data-label': S.accountName, text: m.AccountName }),
    h('td', { class: 'time', 'data-label': S.addTime }, timeEl(m.AddTime)),
    h('td', { class: 'remark', 'data-label': S.remark, text: m.Remark }),
    h('td', { class: 'folder muted', 'data-label': S.folder, text: m.FolderPath || '' }),
    hasActions(v) ? h('td', { class: 'row-actions', 'data-label': S.actions },
      v.can('update-member-remark') ? h('button', { type: 'button', class: 'link remarks', text: S.remarks, 'aria-label': `${S.remarks}: ${m.AccountId}`,
        on: { click: () => openRemark(m, { onSaved: v.reload }) } }) : null,
      v.can('delete-members') ? h('button', { type: 'button', class: 'link danger delete', text: S.delete, 'aria-label': `${S.delete}: ${m.AccountId}`,
        on: { click: () => deleteMembers([m.AccountId], v) } }) : null) : null);
}

function pageSizeSelect(onChange) {
  const id = uid('size');
  const sel = h('select', { id, on: { change: () => { st.pageSize = Number(sel.value); onChange(); } } },
    [10, 20, 50, 100].map((n) => h('option', { value: n, text: n })));
  sel.value = String(st.pageSize);
  return h('span', { class: 'size' }, h('label', { for: id, text: S.pageSize }), ' ', sel);
}

// addedNotice says what Added Member did: a short line when nothing failed
// (the dialog listed each result otherwise).
function addedNotice(status, res) {
  const already = res.Results.filter((r) => r.Status === 'AlreadyMember').length;
  if (res.Results.some((r) => r.Status === 'Failed')) { replace(status); return; }
  const text = already ? `${S.addResults(res.AddedCount)} ${S.alreadyMembers(already)}` : S.addResults(res.AddedCount);
  announce(text);
  replace(status, h('p', { class: 'notice', id: 'added-notice', role: 'status', text }));
}

// deleteMembers asks, deletes, and shows what happened to each member.
async function deleteMembers(ids, { status, reload }) {
  if (!ids.length) return;
  const ok = await confirmDialog(S.deleteTitle, ids.length === 1 ? S.deleteOne(ids[0]) : S.deleteMany(ids.length), S.delete);
  if (!ok) return;
  try {
    const res = await call('delete-members', { body: { AccountIds: ids } });
    for (const id of ids) st.selected.delete(id);
    announce(S.deleteResults(res.DeletedCount));
    if (ids.length > 1 || res.Results.some((r) => r.Status !== 'Deleted')) {
      const d = openDialog({ title: S.resultsTitle, body: h('div', { id: 'delete-results' }, h('p', { text: S.deleteResults(res.DeletedCount) }), resultsList(res.Results, 'AccountId')) });
      d.setFooter(h('button', { type: 'button', class: 'primary', text: S.close, on: { click: () => d.close() } }));
    } else {
      replace(status, h('p', { class: 'notice', role: 'status', text: S.deleteResults(res.DeletedCount) }));
    }
  } catch (err) {
    replace(status, errorBox(err));
  }
  await reload();
}
