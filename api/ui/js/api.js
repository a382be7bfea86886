/**
 * Every data call of the desk: the gateway's REST routes with the token the user pasted, kept in
 * sessionStorage (gone when the tab closes). The routes check the grants; the page only mirrors them.
 */

const KEY = 'maotrade.token';

export const token = {
  get: () => sessionStorage.getItem(KEY),
  set: (t) => sessionStorage.setItem(KEY, t),
  clear: () => sessionStorage.removeItem(KEY),
};

/** A refused or failed call: the route's status and its `{ error, message }` body. */
export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.error ?? 'error';
  }
}

/** Listeners told when the token is refused (401), so the page can ask for another. */
const onUnauthorized = new Set();
export const whenUnauthorized = (fn) => onUnauthorized.add(fn);

export async function api(path, { method = 'GET', body } = {}) {
  const headers = { accept: 'application/json' };
  const t = token.get();
  if (t) headers.authorization = `Bearer ${t}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { message: text };
  }
  if (!res.ok) {
    if (res.status === 401) for (const fn of onUnauthorized) fn();
    throw new ApiError(res.status, data);
  }
  return data;
}

const ROLES = ['viewer', 'trader', 'admin'];
const rank = (role) => (role ? ROLES.indexOf(role) : -1);

/** The caller as GET /me tells it, with its role on an account (the higher of global and grant). */
export async function whoAmI() {
  const me = await api('/me');
  const grants = new Map(me.grants.map((g) => [g.account, g.role]));
  return {
    ...me,
    roleOn(account) {
      const g = grants.get(account);
      return rank(g) > rank(me.globalRole) ? g : me.globalRole;
    },
    may(account, role) {
      return rank(this.roleOn(account)) >= rank(role);
    },
  };
}

const enc = encodeURIComponent;
export const routes = {
  sessions: () => '/sessions',
  status: (a) => `/sessions/${enc(a)}`,
  positions: (a) => `/sessions/${enc(a)}/positions`,
  pnl: (a) => `/sessions/${enc(a)}/pnl`,
  risk: (a) => `/sessions/${enc(a)}/risk`,
  candles: (a, limit = 500) => `/sessions/${enc(a)}/candles?limit=${limit}`,
  trades: (a) => `/accounts/${enc(a)}/trades?limit=10000`,
  orders: (a) => `/accounts/${enc(a)}/orders?limit=10000`,
  equity: (a) => `/accounts/${enc(a)}/equity?limit=10000`,
  pnlToday: (a) => `/accounts/${enc(a)}/pnl-today`,
  pause: (a) => `/sessions/${enc(a)}/pause`,
  resume: (a) => `/sessions/${enc(a)}/resume`,
  closeAll: (a) => `/sessions/${enc(a)}/close-all`,
  closeOne: (a, systemId) => `/sessions/${enc(a)}/positions/${enc(systemId)}/close`,
  tradingState: (a) => `/sessions/${enc(a)}/trading-state`,
};
