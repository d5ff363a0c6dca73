// Calls to the functions (API.md): bearer ID token, JSON, and one error type
// carrying Code, Message and RequestId. A 401 ends the session.
import { S } from './strings.js';

export class ApiError extends Error {
  constructor(status, code, message, requestId) {
    super(message);
    this.status = status;
    this.code = code;
    this.requestId = requestId;
  }
}

let conf = null;
let tokenOf = () => '';
let unauthorized = () => {};

// configure sets where the functions are, how to get the token and what to
// do on 401.
export function configure(cfg, getToken, on401) {
  conf = cfg;
  tokenOf = getToken;
  unauthorized = on401;
}

// call invokes a function: GET with query parameters, or POST with a JSON
// body when body is given.
export async function call(fn, { query, body } = {}) {
  const url = new URL(conf.Functions[fn], location.href);
  for (const [k, v] of Object.entries(query || {})) {
    if (v !== '' && v !== undefined && v !== null) url.searchParams.set(k, String(v));
  }
  const init = { method: body === undefined ? 'GET' : 'POST', credentials: 'omit', cache: 'no-store',
    headers: { Authorization: `Bearer ${tokenOf()}` } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let resp;
  try {
    resp = await fetch(url, init);
  } catch {
    throw new ApiError(0, 'NetworkError', S.networkError, '');
  }
  const rid = resp.headers.get('X-Request-Id') || '';
  const data = await resp.json().catch(() => null);
  if (!resp.ok) {
    const err = new ApiError(resp.status, data?.Code || `HTTP${resp.status}`, data?.Message || resp.statusText, data?.RequestId || rid);
    if (resp.status === 401) unauthorized(err);
    throw err;
  }
  return data;
}
