// OpenID Connect sign-in: authorization code with PKCE (S256), state and
// nonce checked, the ID token kept in sessionStorage (this tab only; never
// localStorage, never in a URL). The code exchange goes through the
// console function (config.TokenPath), which adds the client secret; this
// file is the same locally and in production.
import { S } from './strings.js';

const SESSION = 'sase.session';
const PENDING = 'sase.pending';
const RETURN = 'sase.returnTo';

export class SignInError extends Error {
  constructor(code, message, requestId = '') {
    super(message);
    this.code = code;
    this.requestId = requestId;
  }
}

function b64url(bytes) {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function randomString(n = 32) {
  return b64url(crypto.getRandomValues(new Uint8Array(n)));
}

async function s256(verifier) {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return b64url(new Uint8Array(digest));
}

// redirectUri is where the provider sends the browser back: the configured
// one, or this page without query or fragment.
export function redirectUri(cfg) {
  return cfg.RedirectUri || `${location.origin}${location.pathname}`;
}

// claims decodes an ID token's payload. The signature is the functions'
// to verify (every call); the page checks what binds the token to this
// sign-in: iss, aud, nonce, exp.
export function claims(token) {
  const part = token.split('.')[1] || '';
  const json = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
  const bytes = Uint8Array.from(json, (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

// signIn starts a sign-in: it remembers state, nonce, the PKCE verifier and
// the page to come back to, and leaves for the provider.
export async function signIn(cfg, returnTo) {
  const verifier = randomString(32);
  const pending = { state: randomString(16), nonce: randomString(16), verifier, returnTo: returnTo || '', redirectUri: redirectUri(cfg) };
  sessionStorage.setItem(PENDING, JSON.stringify(pending));
  const q = new URLSearchParams({
    response_type: 'code', client_id: cfg.ClientId, redirect_uri: pending.redirectUri, scope: cfg.Scopes,
    state: pending.state, nonce: pending.nonce, code_challenge: await s256(verifier), code_challenge_method: 'S256',
  });
  const sep = cfg.AuthorizationEndpoint.includes('?') ? '&' : '?';
  location.assign(cfg.AuthorizationEndpoint + sep + q.toString());
}

// isCallback says whether this page load is the provider's answer.
export function isCallback() {
  const q = new URLSearchParams(location.search);
  return q.has('state') && (q.has('code') || q.has('error'));
}

// completeSignIn finishes a sign-in from the callback URL. The code and
// state leave the address bar first, whatever follows. It returns the page
// (hash) to go back to.
export async function completeSignIn(cfg) {
  const q = new URLSearchParams(location.search);
  const raw = sessionStorage.getItem(PENDING);
  sessionStorage.removeItem(PENDING); // a sign-in answer is used once
  const pending = raw ? JSON.parse(raw) : null;
  history.replaceState(null, '', location.pathname + (pending?.returnTo || ''));
  if (!pending || q.get('state') !== pending.state) throw new SignInError('StateMismatch', S.stateMismatch);
  if (q.has('error')) throw new SignInError(`OAuth.${q.get('error')}`, q.get('error_description') || S.signInFailed);
  let resp;
  try {
    resp = await fetch(cfg.TokenPath, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, credentials: 'omit', cache: 'no-store',
      body: JSON.stringify({ Code: q.get('code'), CodeVerifier: pending.verifier, RedirectUri: pending.redirectUri }),
    });
  } catch {
    throw new SignInError('NetworkError', S.networkError);
  }
  const data = await resp.json().catch(() => ({}));
  if (!resp.ok) throw new SignInError(data.Code || `HTTP${resp.status}`, data.Message || S.signInFailed, data.RequestId || '');
  const token = data.IdToken;
  let c;
  try { c = claims(token); } catch { throw new SignInError('InvalidIdToken', S.tokenInvalid('it cannot be decoded')); }
  const aud = Array.isArray(c.aud) ? c.aud : [c.aud];
  if (c.nonce !== pending.nonce) throw new SignInError('NonceMismatch', S.nonceMismatch);
  if (c.iss !== cfg.Issuer) throw new SignInError('InvalidIdToken', S.tokenInvalid(`issuer ${c.iss}`));
  if (!aud.includes(cfg.ClientId)) throw new SignInError('InvalidIdToken', S.tokenInvalid('another audience'));
  if (!(c.exp * 1000 > Date.now())) throw new SignInError('InvalidIdToken', S.tokenInvalid('it has expired'));
  // The account and the name are shown until describe-setup answers; the
  // functions judge the claims (a 401 names the claims the token carries).
  const account = String(c[cfg.AccountClaim] ?? '');
  const name = String(c.upn || c.login_name || c.name || '');
  sessionStorage.setItem(SESSION, JSON.stringify({ token, exp: c.exp, account, name }));
  return pending.returnTo;
}

// session is the signed-in session, or null (none, or expired).
export function session() {
  try {
    const s = JSON.parse(sessionStorage.getItem(SESSION) || 'null');
    if (s && s.token && s.exp * 1000 > Date.now()) return s;
  } catch { /* a damaged entry is no session */ }
  return null;
}

// hadSession says whether a session was stored (possibly expired).
export function hadSession() {
  return sessionStorage.getItem(SESSION) !== null;
}

export function signOut() {
  sessionStorage.removeItem(SESSION);
}

// expire ends the session and remembers the page to come back to.
export function expire(returnTo) {
  sessionStorage.removeItem(SESSION);
  sessionStorage.setItem(RETURN, returnTo || '');
}

// takeReturn gives the remembered page once.
export function takeReturn() {
  const r = sessionStorage.getItem(RETURN);
  sessionStorage.removeItem(RETURN);
  return r;
}
