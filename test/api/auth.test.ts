/**
 * The gateway's edge (invariants 8, 9): bearer tokens by role (401 without or with a bad token, 403 when
 * the role is too low), users created with a token shown once and stored as its SHA-256, the OpenAPI
 * document, the rate limit, commands logged with who did them, and no token or password in any log line.
 * Real MariaDB, FerretDB and Temporal; requests through `app.inject()`.
 */
import { createHash } from 'node:crypto';
import type { Client, Connection } from '@temporalio/client';
import { createPool, type Pool } from '../../db/pool';
import { TEST_ENV, uniqueAccount } from '../support/env';
import { temporalClient } from '../support/harness';
import { createdTokens, json, linesWithSecrets, startTestGateway, type TestGateway } from './support';

let pool: Pool;
let client: Client;
let connection: Connection;
let gw: TestGateway;

beforeAll(async () => {
  pool = createPool(TEST_ENV.MYSQL_URL);
  ({ client, connection } = await temporalClient());
  gw = await startTestGateway({ client, pool });
});

afterAll(async () => {
  await gw?.close();
  await connection?.close();
  await pool?.end();
});

/** One route per role level, none of which reaches Temporal before the role check (the account has no session). */
const ROUTES = (account: string) =>
  [
    { role: 'viewer', method: 'GET', url: '/accounts' },
    { role: 'viewer', method: 'GET', url: '/sessions' },
    { role: 'viewer', method: 'GET', url: `/sessions/${account}` },
    { role: 'viewer', method: 'GET', url: `/sessions/${account}/positions` },
    { role: 'viewer', method: 'GET', url: `/sessions/${account}/pnl` },
    { role: 'viewer', method: 'GET', url: `/sessions/${account}/risk` },
    { role: 'viewer', method: 'GET', url: `/accounts/${account}/orders` },
    { role: 'viewer', method: 'GET', url: `/accounts/${account}/trades` },
    { role: 'viewer', method: 'GET', url: `/accounts/${account}/equity` },
    { role: 'viewer', method: 'GET', url: `/logs?account=${account}` },
    { role: 'viewer', method: 'GET', url: `/logs/download?account=${account}&from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z` },
    { role: 'trader', method: 'POST', url: `/sessions/${account}/pause`, payload: {} },
    { role: 'trader', method: 'POST', url: `/sessions/${account}/resume`, payload: {} },
    { role: 'trader', method: 'POST', url: `/sessions/${account}/positions/ma/close` },
    { role: 'trader', method: 'POST', url: `/sessions/${account}/close-all` },
    { role: 'trader', method: 'PUT', url: `/sessions/${account}/systems/ma/params`, payload: { params: { fastPeriod: 3 } } },
    { role: 'trader', method: 'POST', url: `/sessions/${account}/reconcile` },
    { role: 'trader', method: 'POST', url: `/sessions/${account}/trading-state`, payload: { state: 'halted', reason: 'role test' } },
    // Selects no session (the account has none): a trader gets 200 with nothing matched.
    { role: 'trader', method: 'POST', url: '/fleet/trading-state', payload: { state: 'halted', reason: 'role test', query: `MaoAccount = '${account}'` } },
    { role: 'admin', method: 'POST', url: '/sessions', payload: { account } },
    { role: 'admin', method: 'DELETE', url: `/sessions/${account}` },
    { role: 'admin', method: 'POST', url: '/users', payload: { name: uniqueAccount('u_never'), role: 'viewer' } },
  ] as const;

const RANK = { viewer: 0, trader: 1, admin: 2 } as const;

test('every route answers 401 without a token, with a malformed one and with an unknown one', async () => {
  const account = uniqueAccount('noauth');
  for (const r of ROUTES(account)) {
    for (const token of [undefined, 'not-a-token', `mao_${'A'.repeat(43)}`]) {
      const res = await gw.request(r.method, r.url, {
        headers: {
          ...(token ? { authorization: token === 'not-a-token' ? token : `Bearer ${token}` } : {}),
          ...('payload' in r ? { 'content-type': 'application/json' } : {}),
        },
        ...('payload' in r ? { body: JSON.stringify(r.payload) } : {}),
      });
      expect([r.method, r.url, token, res.statusCode]).toEqual([r.method, r.url, token, 401]);
      expect(json(res).error).toBe('unauthorized');
      expect(res.headers['www-authenticate']).toBe('Bearer');
    }
  }
});

test('a role below the route\'s gets 403 before anything is validated or looked up; a role at or above gets past the check', async () => {
  const account = uniqueAccount('roles');
  for (const r of ROUTES(account)) {
    for (const role of ['viewer', 'trader', 'admin'] as const) {
      if (r.method === 'POST' && r.url === '/users' && RANK[role] >= RANK[r.role]) continue; // would create a user: done below
      if (r.method === 'POST' && r.url === '/sessions' && RANK[role] >= RANK[r.role]) continue; // 404 for an unknown account: sessions test
      const res = await gw.call(role, r.method, r.url, 'payload' in r ? r.payload : undefined);
      if (RANK[role] < RANK[r.role]) {
        expect([role, r.method, r.url, res.statusCode]).toEqual([role, r.method, r.url, 403]);
        expect(json(res).message).toContain(r.role);
      } else {
        // No session and no records for this account: 404 (or 200 for lists); never 401/403.
        expect([role, r.method, r.url, [200, 404].includes(res.statusCode)]).toEqual([role, r.method, r.url, true]);
      }
    }
  }
  // A forbidden body that is also malformed is still 403: the role is checked before the body.
  const res = await gw.call('viewer', 'PUT', `/sessions/${account}/systems/ma/params`, { params: { fastPeriod: -1 }, junk: 1 });
  expect(res.statusCode).toBe(403);
});

test('POST /users (admin) creates a user whose token is returned once, stored only as its SHA-256, and works with its role', async () => {
  const name = uniqueAccount('u_new');
  const res = await gw.call('admin', 'POST', '/users', { name, role: 'trader' });
  expect(res.statusCode).toBe(201);
  const body = json(res);
  createdTokens.push(body.token);
  expect(body).toMatchObject({ name, role: 'trader' });
  expect(body.token).toMatch(/^mao_[A-Za-z0-9_-]{43}$/);
  const [rows] = await pool.query('SELECT name, role, token_hash FROM maohome.users WHERE name = ?', [name]);
  expect(rows).toEqual([{ name, role: 'trader', token_hash: createHash('sha256').update(body.token).digest('hex') }]);
  // The new trader may pause (gets past the role check: 404, no such session) but not create users.
  expect((await gw.call(null, 'POST', `/sessions/${uniqueAccount('nosess')}/pause`, {}, body.token)).statusCode).toBe(404);
  expect((await gw.call(null, 'POST', '/users', { name: uniqueAccount('u_x'), role: 'admin' }, body.token)).statusCode).toBe(403);
  // Same name again: 409; malformed: 400 naming the field.
  expect((await gw.call('admin', 'POST', '/users', { name, role: 'viewer' })).statusCode).toBe(409);
  const bad = await gw.call('admin', 'POST', '/users', { name: uniqueAccount('u_bad'), role: 'superuser' });
  expect(bad.statusCode).toBe(400);
  expect(json(bad).fields).toEqual([expect.objectContaining({ field: 'role', in: 'body' })]);
  const [none] = await pool.query('SELECT COUNT(*) AS n FROM maohome.users WHERE role NOT IN (?)', [['viewer', 'trader', 'admin']]);
  expect((none as { n: number }[])[0].n).toBe(0);
  await pool.query('DELETE FROM maohome.users WHERE name = ?', [name]);
  // Deleted: its token no longer works.
  expect((await gw.call(null, 'GET', '/accounts', undefined, body.token)).statusCode).toBe(401);
});

test('malformed input is 400 naming the field: path, query and body', async () => {
  const account = uniqueAccount('bad');
  const cases: [string, string, unknown, string, string][] = [
    ['GET', '/sessions/Not-An-Account', undefined, 'account', 'path'],
    ['GET', '/accounts/x%3Bdrop/orders', undefined, 'account', 'path'],
    ['GET', `/accounts/${account}/orders?limit=0`, undefined, 'limit', 'query'],
    ['GET', '/logs?level=loud', undefined, 'level', 'query'],
    ['GET', '/logs?from=yesterday', undefined, 'from', 'query'],
    ['POST', `/sessions/${account}/pause`, { reason: 7 }, 'reason', 'body'],
    ['PUT', `/sessions/${account}/systems/ma/params`, { params: 'fast' }, 'params', 'body'],
    ['PUT', `/sessions/${account}/systems/NO%20WAY/params`, { params: {} }, 'systemId', 'path'],
    ['POST', '/sessions', { account: 'Bad Account' }, 'account', 'body'],
    ['POST', `/sessions/${account}/trading-state`, { state: 'stopped', reason: 'x' }, 'state', 'body'],
    ['POST', `/sessions/${account}/trading-state`, { state: 'halted' }, 'reason', 'body'],
    // `by` is the caller's name, never the body's.
    ['POST', `/sessions/${account}/trading-state`, { state: 'halted', reason: 'x', by: 'mallory' }, 'by', 'body'],
    ['POST', '/fleet/trading-state', { state: 'halted', reason: '  ' }, 'reason', 'body'],
    ['POST', '/fleet/trading-state', { state: 'halted', reason: 'x', by: 'mallory' }, 'by', 'body'],
    ['POST', '/fleet/trading-state', { state: 'halted', reason: 'x', query: "MaoBroker = 'ig') OR (WorkflowType = 'x'" }, 'query', 'body'],
  ];
  for (const [method, url, payload, field, where] of cases) {
    const res = await gw.call('admin', method, url, payload);
    expect([method, url, res.statusCode]).toEqual([method, url, 400]);
    expect(json(res).fields).toEqual(expect.arrayContaining([expect.objectContaining({ field, in: where })]));
    expect(json(res).message).toContain(field);
  }
  const notJson = await gw.request('POST', `/sessions/${account}/pause`, {
    headers: { authorization: `Bearer ${gw.tokens.trader}`, 'content-type': 'application/json' },
    body: '{"reason": ',
  });
  expect(notJson.statusCode).toBe(400);
});

test('GET /openapi.json lists every path with its methods and bearer security', async () => {
  const res = await gw.call(null, 'GET', '/openapi.json');
  expect(res.statusCode).toBe(200);
  const doc = json(res);
  expect(doc.openapi).toMatch(/^3\./);
  const ops = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([p, m]) => Object.keys(m).map((k) => `${k.toUpperCase()} ${p}`));
  expect(ops.sort()).toEqual(
    [
      'GET /accounts',
      'GET /accounts/{account}/orders',
      'GET /accounts/{account}/trades',
      'GET /accounts/{account}/equity',
      'GET /accounts/{account}/pnl-today',
      'GET /me',
      'GET /sessions/{account}/candles',
      'GET /sessions',
      'POST /sessions',
      'GET /sessions/{account}',
      'DELETE /sessions/{account}',
      'GET /sessions/{account}/positions',
      'GET /sessions/{account}/pnl',
      'GET /sessions/{account}/risk',
      'POST /sessions/{account}/pause',
      'POST /sessions/{account}/resume',
      'POST /sessions/{account}/positions/{systemId}/close',
      'POST /sessions/{account}/close-all',
      'PUT /sessions/{account}/systems/{systemId}/params',
      'POST /sessions/{account}/reconcile',
      'POST /sessions/{account}/trading-state',
      'POST /fleet/trading-state',
      'GET /logs',
      'GET /logs/download',
      'POST /users',
      'GET /users',
      'POST /users/{name}/rotate',
      'POST /users/{name}/revoke',
      'PUT /users/{name}/grants/{account}',
      'DELETE /users/{name}/grants/{account}',
      'GET /audit',
    ].sort(),
  );
  expect(doc.paths['/sessions/{account}/systems/{systemId}/params'].put.security).toEqual([{ bearerAuth: [] }]);
  expect(doc.paths['/sessions/{account}/systems/{systemId}/params'].put.requestBody.content['application/json'].schema.required).toEqual(['params']);
  expect(doc.paths['/logs'].get.parameters.map((p: { name: string }) => p.name).sort()).toEqual(['account', 'from', 'level', 'limit', 'to']);
});

test('more requests than the rate limit allows get 429', async () => {
  const limited = await startTestGateway({ client, pool }, { rateLimit: { max: 3, timeWindowMs: 60_000 } });
  try {
    const codes = [];
    for (let i = 0; i < 5; i++) codes.push((await limited.call('viewer', 'GET', '/accounts')).statusCode);
    expect(codes).toEqual([200, 200, 200, 429, 429]);
    const res = await limited.call('viewer', 'GET', '/accounts');
    expect(json(res).error).toBe('rate_limited');
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
  } finally {
    await limited.close();
  }
});

test('each command is logged once at info with account, who, command, params and outcome; reads are not; a refused body is never parsed', async () => {
  const account = uniqueAccount('logcmd');
  const before = gw.lines.length;
  await gw.call('trader', 'POST', `/sessions/${account}/pause`, { reason: 'lunch' });
  await gw.call('viewer', 'GET', `/sessions/${account}`);
  await gw.call('viewer', 'PUT', `/sessions/${account}/systems/ma/params`, { params: { fastPeriod: 4 } });
  await gw.call('trader', 'PUT', `/sessions/${account}/systems/ma/params`, { params: { fastPeriod: 4 } });
  const logged = gw.lines.slice(before).map((l) => JSON.parse(l)).filter((l) => l.msg === 'api command');
  expect(logged.map((l) => [l.level, l.account, l.by, l.command, l.params, l.statusCode])).toEqual([
    [30, account, gw.names.trader, 'pause', { reason: 'lunch' }, 404],
    // Refused before its body was parsed: only the path parameters are known.
    [30, account, gw.names.viewer, 'set-params', { systemId: 'ma' }, 403],
    [30, account, gw.names.trader, 'set-params', { systemId: 'ma', params: { fastPeriod: 4 } }, 404],
  ]);
});

test('no log line the gateway wrote holds a token, a bearer header or a password', async () => {
  // The suite above wrote lines (commands, failures): the check below must have something to check.
  expect(gw.lines.length).toBeGreaterThan(20);
  expect(createdTokens.length).toBeGreaterThanOrEqual(4);
  expect(linesWithSecrets(gw.lines, createdTokens)).toEqual([]);
  // The check itself finds a token when there is one.
  expect(linesWithSecrets([`{"msg":"x ${createdTokens[0]}"}`], createdTokens)).toHaveLength(1);
});
