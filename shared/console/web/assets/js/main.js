// The console's entry point: configuration, sign-in, the header, and the
// router between the tabs (tabs.js) this person's AllowedActions unlock.
import { h, replace } from './dom.js';
import { S, language, setLanguage } from './strings.js';
import { ApiError, call, configure } from './api.js';
import * as auth from './auth.js';
import { errorBox } from './ui.js';
import { defaultTab, permits, tabsFor } from './tabs.js';
import { renderNoTabs, renderOutsider } from './noaccess.js';

const main = document.getElementById('main');
const top = document.getElementById('top');
const side = document.getElementById('side');

let cfg = null;
let setup = null; // the last describe-setup answer
let expiryTimer = 0;
// accepted: the functions have accepted this session's token once. A 401
// before that is the sign-in refused (the server's message says why, e.g.
// which claims the token carries); after it, the session has ended.
let accepted = false;

// header shows the person (name and UID), their account, the account's
// role and the person's access role: describe-setup's Caller, or the
// token's own words until it has answered.
function header(sess) {
  const brand = h('div', { class: 'brand' }, h('span', { class: 'logo', 'aria-hidden': 'true', text: 'S' }), h('span', { text: `${S.product} · ${S.tabMembers}` }));
  const lang = h('button', { type: 'button', id: 'language', class: 'link', lang: language === 'zh' ? 'en' : 'zh-CN', 'aria-label': S.languageLabel,
    text: S.language, on: { click: () => setLanguage(language === 'zh' ? 'en' : 'zh') } });
  if (!sess) return replace(top, brand, lang);
  const c = setup?.Caller || { AccountId: sess.account, UserName: sess.name, Role: 'None' };
  // An account without access is not told whether a directory exists.
  const rd = setup?.ResourceDirectory?.DirectoryId || (c.Role === 'None' ? '\u2014' : S.noDirectory);
  const item = (label, id, ...dd) => h('div', {}, h('dt', { text: label }), h('dd', { id }, ...dd));
  replace(top, brand, h('dl', { class: 'who' },
    item(S.person, 'who-person', h('span', { class: 'name', text: c.UserName || c.UserId || '' }),
      c.UserId && c.UserId !== c.UserName ? [' ', h('span', { class: 'mono muted', text: c.UserId })] : null),
    item(S.account, 'who-account', h('span', { class: 'mono', text: c.AccountId || '' })),
    item(S.role, 'who-role', S.roles[c.Role] || c.Role),
    c.AccessRole ? item(S.accessRole, 'who-access', S.accessRoles[c.AccessRole] || c.AccessRole) : null,
    item(S.directory, 'who-directory', h('span', { class: 'mono', text: rd }))),
  lang, h('button', { type: 'button', id: 'sign-out', class: 'link', text: S.signOut, on: { click: signOut } }));
}

function sideNav(show) {
  replace(side, show ? h('ul', {}, h('li', {}, h('a', { href: '#/members', 'aria-current': 'page', text: S.settings }))) : null);
}

// showSignIn is the signed-out screen; note is an expiry/sign-out message
// or a sign-in error.
function showSignIn(note) {
  clearTimeout(expiryTimer);
  setup = null;
  header(null);
  sideNav(false);
  const btn = h('button', { type: 'button', id: 'sign-in', class: 'primary', text: S.signIn, on: { click: () => {
    const back = auth.takeReturn() ?? location.hash;
    auth.signIn(cfg, back);
  } } });
  replace(main, h('section', { class: 'card signin', 'data-view': 'signin' },
    h('h1', { text: S.signInTitle }),
    h('p', { text: S.signInLead }),
    typeof note === 'string' ? h('p', { class: 'notice', id: 'signin-note', role: 'status', text: note }) : null,
    note instanceof Error ? errorBox(note) : null,
    btn));
  ready('signin');
}

function signOut() {
  accepted = false;
  auth.signOut();
  location.hash = '';
  showSignIn(S.signedOut);
}

// sessionEnded is a 401 or the token's expiry: back to sign-in, and back
// to this page afterwards. A 401 to a token never accepted shows the
// server's answer: the console does not judge the token's claims itself.
function sessionEnded(err) {
  auth.expire(location.hash);
  showSignIn(!accepted && err instanceof ApiError ? err : S.sessionExpired);
  accepted = false;
}

function ready(view) {
  document.body.dataset.view = view;
  if (!document.body.dataset.ready) {
    document.body.dataset.ready = 'true';
    performance.mark('console-ready');
  }
}

async function loadSetup() {
  setup = await call('describe-setup');
  accepted = true;
  return setup;
}

// route renders the tab of the hash, among those this person may open.
async function route() {
  const sess = auth.session();
  if (!sess) { if (cfg) sessionEnded(); return; }
  header(sess);
  const can = permits(setup.Caller.AllowedActions);
  const tabs = tabsFor(can);
  if (!tabs.length) { sideNav(false); ready(renderNoTabs(main, setup)); return; }
  let tab = tabs.find((t) => t.name === (location.hash.match(/^#\/(\w+)/) || [])[1]);
  if (!tab) {
    const name = defaultTab(tabs, setup, can);
    tab = tabs.find((t) => t.name === name);
    history.replaceState(null, '', `#/${name}`);
  }
  sideNav(true);
  const nav = h('nav', { class: 'tabs', 'aria-label': S.settings }, tabs.map((t) => h('a', {
    href: `#/${t.name}`, id: `tab-${t.name}`, 'aria-current': t === tab ? 'page' : false, text: t.label })));
  const body = h('div', { class: 'view' });
  replace(main, nav, body);
  const ctx = { setup, session: sess, can, refresh: async () => { await loadSetup(); header(sess); return setup; }, go: (n) => { location.hash = `#/${n}`; }, reroute: () => route() };
  await tab.render(body, ctx);
  ready(tab.name);
}

async function start() {
  const sess = auth.session();
  if (!sess) { showSignIn(auth.hadSession() ? S.sessionExpired : null); return; }
  clearTimeout(expiryTimer);
  expiryTimer = setTimeout(sessionEnded, Math.max(0, sess.exp * 1000 - Date.now()));
  header(sess);
  replace(main, h('p', { class: 'muted', text: S.loading }));
  try {
    await loadSetup();
  } catch (err) {
    if (err.status === 401) return; // sessionEnded has run
    if (err.status === 403) { header(sess); sideNav(false); renderOutsider(main, sess, err); ready('outsider'); return; }
    replace(main, errorBox(err, start));
    ready('error');
    return;
  }
  await route();
}

async function boot() {
  try {
    const resp = await fetch('config.json', { cache: 'no-store', credentials: 'omit' });
    const data = await resp.json().catch(() => ({}));
    if (!resp.ok) throw new ApiError(resp.status, data.Code || `HTTP${resp.status}`, data.Message || S.configFailed, data.RequestId || '');
    cfg = data;
  } catch (err) {
    replace(main, h('h1', { text: S.configFailed }), errorBox(err, boot));
    ready('error');
    return;
  }
  configure(cfg, () => auth.session()?.token || '', sessionEnded);
  if (auth.isCallback()) {
    try {
      await auth.completeSignIn(cfg);
    } catch (err) {
      showSignIn(err);
      return;
    }
  }
  window.addEventListener('hashchange', () => { if (setup && auth.session()) route().catch(showFatal); });
  await start();
}

function showFatal(err) {
  if (err instanceof ApiError && err.status === 401) return;
  replace(main, errorBox(err, start));
}

boot().catch(showFatal);
