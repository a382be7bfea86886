/**
 * The authorization matrix (issue 12): every operation of the OpenAPI document × every kind of caller,
 * against account A and against account B, each cell's status from the one table below. A route that
 * has no row fails the test. No account has a running session or records, so a caller that gets past
 * the check sees 404 (or 200 for lists, 422 for starting a session without systems).
 *
 * Columns: no token, expired token, revoked token; viewer, trader, admin of the row's account X;
 * viewer, trader, admin of the other account Y; global admin.
 */
import type { Client, Connection } from '@temporalio/client';
import { createPool, type Pool } from '../../db/pool';
import { HomeStore } from '../../db/home-store';
import { UserStore } from '../../api/user-store';
import type { Role } from '../../api/roles';
import { TEST_ENV, uniqueAccount } from '../support/env';
import { temporalClient } from '../support/harness';
import { json, startTestGateway, type TestGateway } from './support';

const CALLERS = ['none', 'expired', 'revoked', 'viewerX', 'traderX', 'adminX', 'viewerY', 'traderY', 'adminY', 'globalAdmin'] as const;
type Caller = (typeof CALLERS)[number];

const T = (codes: string) => codes.trim().split(/\s+/).map(Number);
const RANGE = 'from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z';

interface Row {
  /** Query string or body for the request; `{account}`, `{name}` substituted; `{unique}` a fresh user name. */
  query?: string;
  body?: unknown;
  codes: number[];
}

//                                                                 none exp rev  vX  tX  aX  vY  tY  aY  gA
const READ_X = T('                                                  401 401 401 404 404 404 403 403 403 404');
const COMMAND_X = T('                                               401 401 401 403 404 404 403 403 403 404');
const TABLE: Record<string, Row> = {
  'GET /accounts': { codes: T('                                     401 401 401 200 200 200 200 200 200 200') },
  'GET /sessions': { codes: T('                                     401 401 401 200 200 200 200 200 200 200') },
  'GET /sessions/{account}': { codes: READ_X },
  'GET /sessions/{account}/positions': { codes: READ_X },
  'GET /sessions/{account}/pnl': { codes: READ_X },
  'GET /sessions/{account}/risk': { codes: READ_X },
  'GET /accounts/{account}/orders': { codes: READ_X },
  'GET /accounts/{account}/trades': { codes: READ_X },
  'GET /accounts/{account}/equity': { codes: READ_X },
  'GET /logs': { query: 'account={account}', codes: T('             401 401 401 200 200 200 403 403 403 200') },
  'GET /logs/download': { query: `account={account}&${RANGE}`, codes: T('401 401 401 200 200 200 403 403 403 200') },
  'POST /sessions/{account}/pause': { body: {}, codes: COMMAND_X },
  'POST /sessions/{account}/resume': { body: {}, codes: COMMAND_X },
  'POST /sessions/{account}/positions/{systemId}/close': { codes: COMMAND_X },
  'POST /sessions/{account}/close-all': { codes: COMMAND_X },
  'PUT /sessions/{account}/systems/{systemId}/params': { body: { params: { fastPeriod: 3 } }, codes: COMMAND_X },
  'POST /sessions/{account}/reconcile': { codes: COMMAND_X },
  'POST /sessions/{account}/trading-state': { body: { state: 'halted', reason: 'matrix' }, codes: COMMAND_X },
  // Trader anywhere: the command reaches only X's session, of which there is none (200, nothing matched).
  'POST /fleet/trading-state': { body: { state: 'halted', reason: 'matrix', query: "MaoAccount = '{account}'" }, codes: T('401 401 401 403 200 200 403 200 200 200') },
  // X has no systems: an admin of X gets 422 (invalid configuration).
  'POST /sessions': { body: { account: '{account}' }, codes: T('       401 401 401 403 403 422 403 403 403 422') },
  'DELETE /sessions/{account}': { codes: T('                        401 401 401 403 403 404 403 403 403 404') },
  'GET /users': { codes: T('                                        401 401 401 403 403 403 403 403 403 200') },
  'POST /users': { body: { name: '{unique}', role: 'viewer' }, codes: T('401 401 401 403 403 403 403 403 403 201') },
  'PUT /users/{name}/grants/{account}': { body: { role: 'viewer' }, codes: T('401 401 401 403 403 200 403 403 403 200') },
  'DELETE /users/{name}/grants/{account}': { codes: T('             401 401 401 403 403 200 403 403 403 200') },
  'POST /users/{name}/rotate': { codes: T('                         401 401 401 403 403 403 403 403 403 200') },
  'POST /users/{name}/revoke': { codes: T('                         401 401 401 403 403 403 403 403 403 200') },
  'GET /audit': { codes: T('                                        401 401 401 403 403 200 403 403 200 200') },
  // The desk's reads (api/routes/desk.ts): any valid token may see its own grants.
  'GET /me': { codes: T('                                           401 401 401 200 200 200 200 200 200 200') },
  'GET /sessions/{account}/candles': { codes: READ_X },
  'GET /accounts/{account}/pnl-today': { codes: READ_X },
};

let pool: Pool;
let client: Client;
let connection: Connection;
let gw: TestGateway;
const A = uniqueAccount('mx_a');
const B = uniqueAccount('mx_b');
const tokens = {} as Record<string, string>;
const created: string[] = [];

beforeAll(async () => {
  pool = createPool(TEST_ENV.MYSQL_URL);
  ({ client, connection } = await temporalClient());
  gw = await startTestGateway({ client, pool });
  const home = new HomeStore(pool);
  for (const account of [A, B]) await home.upsertAccount({ account, broker: 'paper', currency: 'USD' });
  for (const account of [A, B]) {
    for (const role of ['viewer', 'trader', 'admin'] as const) {
      tokens[`${role}:${account}`] = (await gw.user(`mx_${role[0]}`, { grants: [{ account, role }] })).token;
    }
  }
  tokens.globalAdmin = (await gw.user('mx_g', { role: 'admin' })).token;
  tokens.expired = (await gw.user('mx_exp', { role: 'admin', expiresAt: new Date(Date.now() - 1000) })).token;
  const revoked = await gw.user('mx_rev', { role: 'admin' });
  await new UserStore(pool).revoke(revoked.name);
  tokens.revoked = revoked.token;
});

afterAll(async () => {
  if (created.length) await pool.query('DELETE FROM maohome.users WHERE name IN (?)', [created]);
  await pool.query('DELETE FROM maohome.accounts WHERE account IN (?)', [[A, B]]);
  await gw?.close();
  await connection?.close();
  await pool?.end();
});

function tokenOf(caller: Caller, x: string, y: string): string | undefined {
  if (caller === 'none') return undefined;
  const m = /^(viewer|trader|admin)([XY])$/.exec(caller);
  if (m) return tokens[`${m[1]}:${m[2] === 'X' ? x : y}`];
  return tokens[caller];
}

const fill = (text: string, vars: Record<string, string>) => text.replace(/\{(account|systemId|name|unique)\}/g, (_, k: string) => (k === 'unique' ? uniqueAccount('mx_new') : vars[k]));

test('every operation of the OpenAPI document has a row', async () => {
  const doc = json(await gw.call(null, 'GET', '/openapi.json'));
  const ops = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([p, m]) => Object.keys(m).map((k) => `${k.toUpperCase()} ${p}`));
  expect(ops.sort()).toEqual(Object.keys(TABLE).sort());
  for (const row of Object.values(TABLE)) expect(row.codes).toHaveLength(CALLERS.length);
});

test.each([
  ['A', A, B],
  ['B', B, A],
])('every cell of the table, against account %s', async (_label, x, y) => {
  const target = await gw.user('mx_tgt', {});
  const vars = { account: x, systemId: 'ma', name: target.name };
  const got: string[] = [];
  const want: string[] = [];
  for (const [op, row] of Object.entries(TABLE)) {
    const [method, pathTemplate] = op.split(' ');
    for (const [i, caller] of CALLERS.entries()) {
      const url = fill(pathTemplate, vars) + (row.query ? `?${fill(row.query, vars)}` : '');
      const body = row.body === undefined ? undefined : JSON.parse(fill(JSON.stringify(row.body), vars));
      if (op === 'POST /users' && body) created.push(body.name as string);
      const res = await gw.call(null, method, url, body, tokenOf(caller, x, y));
      got.push(`${op} as ${caller}: ${res.statusCode}`);
      want.push(`${op} as ${caller}: ${row.codes[i]}`);
    }
  }
  expect(got).toEqual(want);
});

test('a 403 names the role and the account; a 401 says why; neither holds a token', async () => {
  const res = await gw.call(null, 'POST', `/sessions/${A}/pause`, {}, tokens[`viewer:${A}`]);
  expect(json(res)).toEqual({ error: 'forbidden', message: expect.stringMatching(new RegExp(`trader role on account "${A}".*is a viewer there`)) });
  const other = await gw.call(null, 'GET', `/sessions/${A}`, undefined, tokens[`admin:${B}`]);
  expect(json(other).message).toMatch(/has no grant on it/);
  expect(json(await gw.call(null, 'GET', '/accounts', undefined, tokens.expired)).message).toMatch(/expired/);
  expect(json(await gw.call(null, 'GET', '/accounts', undefined, tokens.revoked)).message).toMatch(/unknown or revoked/);
});

test('lists are narrowed to the caller: GET /accounts shows a viewer of A only A', async () => {
  const accounts = json(await gw.call(null, 'GET', '/accounts', undefined, tokens[`viewer:${A}`])).accounts.map((a: { account: string }) => a.account);
  expect(accounts).toEqual([A]);
  const all = json(await gw.call(null, 'GET', '/accounts', undefined, tokens.globalAdmin)).accounts.map((a: { account: string }) => a.account);
  expect(all).toEqual(expect.arrayContaining([A, B]));
});

test('the audit trail has the commands with who, route, account and outcome, never a token; an account admin sees only its accounts', async () => {
  const rows = json(await gw.call(null, 'GET', `/audit?account=${A}&limit=1000`, undefined, tokens.globalAdmin)).entries as Record<string, unknown>[];
  expect(rows.length).toBeGreaterThan(20);
  expect(rows).toEqual(expect.arrayContaining([expect.objectContaining({ via: 'api', route: 'POST /sessions/:account/pause', command: 'pause', account: A, outcome: 'refused', statusCode: 403 })]));
  expect(JSON.stringify(rows)).not.toMatch(/mao_[A-Za-z0-9_-]{20,}|Bearer/);
  for (const t of Object.values(tokens)) expect(JSON.stringify(rows)).not.toContain(t.slice(4));
  const mine = json(await gw.call(null, 'GET', '/audit?limit=1000', undefined, tokens[`admin:${B}`])).entries as { account: string | null }[];
  expect(mine.length).toBeGreaterThan(0);
  expect(new Set(mine.map((r) => r.account))).toEqual(new Set([B]));
});

