// The console's entry point: configuration, sign-in, the header, and the
// router between Setup, Multi-account Management and the audit trail.
import { h, replace } from './dom.js';
import { S, language, setLanguage } from './strings.js';
import { ApiError, call, configure } from './api.js';
import * as auth from './auth.js';
import { errorBox } from './ui.js';
import { renderSetup } from './setup.js';
import { renderMembers } from './members.js';
import { renderAudit } from './audit.js';
import { renderPolicy } from './policy.js';
import { renderIntegrations } from './integrations.js';
import { renderMember, renderOutsider } from './roles.js';

const main = document.getElementById('main');
const top = document.getElementById('top');
const side = document.getElementById('side');

let cfg = null;
let setup = null; // the last describe-setup answer
let expiryTimer = 0;

const views = {
  setup: { label: S.tabSetup, roles: ['Owner', 'ManagementAccount', 'DelegatedAdministrator'], render: renderSetup },
  members: { label: S.tabMembers, roles: ['ManagementAccount', 'DelegatedAdministrator'], render: renderMembers },
  policy: { label: S.tabPolicy, roles: ['ManagementAccount', 'DelegatedAdministrator'], render: renderPolicy },
  audit: { label: S.tabAudit, roles: ['ManagementAccount', 'DelegatedAdministrator'], render: renderAudit },
  // A view with an action is shown when describe-setup's AllowedActions lists it.
  integrations: { label: S.tabIntegrations, action: 'list-webhooks', render: renderIntegrations },
};

function header(sess) {
  const brand = h('div', { class: 'brand' }, h('span', { class: 'logo', 'aria-hidden': 'true', text: 'S' }), h('span', { text: `${S.product} · ${S.tabMembers}` }));
  const lang = h('button', { type: 'button', id: 'language', class: 'link', lang: language === 'zh' ? 'en' : 'zh-CN', 'aria-label': S.languageLabel,
    text: S.language, on: { click: () => setLanguage(language === 'zh' ? 'en' : 'zh') } });
  if (!sess) return replace(top, brand, lang);
  const role = setup?.Caller?.Role || 'None';
  // An account without access is not told whether a directory exists.
  const rd = setup?.ResourceDirectory?.DirectoryId || (role === 'None' ? '\u2014' : S.noDirectory);
  replace(top, brand, h('dl', { class: 'who' },
    h('div', {}, h('dt', { text: S.account }), h('dd', { id: 'who-account', class: 'mono', text: sess.account })),
    h('div', {}, h('dt', { text: S.role }), h('dd', { id: 'who-role', text: S.roles[role] || role })),
    h('div', {}, h('dt', { text: S.directory }), h('dd', { id: 'who-directory', class: 'mono', text: rd }))),
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
  auth.signOut();
  location.hash = '';
  showSignIn(S.signedOut);
}

// sessionEnded is a 401 or the token's expiry: back to sign-in, and back
// to this page afterwards.
function sessionEnded() {
  auth.expire(location.hash);
  showSignIn(S.sessionExpired);
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
  return setup;
}

function allowed(role) {
  const can = setup?.Caller?.AllowedActions || [];
  return Object.entries(views).filter(([, v]) => (v.action ? can.includes(v.action) : v.roles.includes(role))).map(([k]) => k);
}

function defaultView(role) {
  if (role === 'DelegatedAdministrator') return 'members';
  if (role === 'ManagementAccount' && setup.Steps?.MembersAdded) return 'members';
  return 'setup';
}

// route renders the view of the hash for the caller's role.
async function route() {
  const sess = auth.session();
  if (!sess) { if (cfg) sessionEnded(); return; }
  const role = setup.Caller.Role;
  header(sess);
  if (role === 'Member') { sideNav(false); renderMember(main, setup, sess); ready('member'); return; }
  const names = allowed(role);
  let name = (location.hash.match(/^#\/(\w+)/) || [])[1];
  if (!names.includes(name)) {
    name = defaultView(role);
    history.replaceState(null, '', `#/${name}`);
  }
  sideNav(true);
  const tabs = h('nav', { class: 'tabs', 'aria-label': S.settings }, names.map((n) => h('a', {
    href: `#/${n}`, id: `tab-${n}`, 'aria-current': n === name ? 'page' : false, text: views[n].label })));
  const body = h('div', { class: 'view' });
  replace(main, tabs, body);
  const ctx = { setup, session: sess, refresh: async () => { await loadSetup(); header(sess); return setup; }, go: (n) => { location.hash = `#/${n}`; }, reroute: () => route() };
  await views[name].render(body, ctx);
  ready(name);
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
