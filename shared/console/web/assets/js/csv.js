// CSV export of every member (all pages, the table's sort order ignored:
// newest first), downloaded as a file.
import { call } from './api.js';

// cell quotes a value, and defuses spreadsheet formulas (=, +, -, @ and
// control starts) since remarks are free text.
function cell(v) {
  let s = String(v ?? '');
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return `"${s.replace(/"/g, '""')}"`;
}

export async function exportCsv(progress) {
  const lines = [['Account UID', 'Account Name', 'Add Time', 'Remark', 'Added By', 'Folder'].map(cell).join(',')];
  let token = '';
  let n = 0;
  do {
    const res = await call('list-members', { query: { MaxResults: 100, NextToken: token } });
    for (const m of res.Members || []) {
      lines.push([m.AccountId, m.AccountName, m.AddTime, m.Remark, m.AddedBy, m.FolderPath || ''].map(cell).join(','));
      n += 1;
    }
    progress(n, res.TotalCount);
    token = res.NextToken || '';
  } while (token);
  const blob = new Blob(['\ufeff' + lines.join('\r\n') + '\r\n'], { type: 'text/csv;charset=utf-8' });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = `sase-members-${new Date().toISOString().slice(0, 10)}.csv`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  return n;
}
