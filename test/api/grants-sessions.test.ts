/**
 * Grants over real sessions (issue 12): a fleet halt by a trader of A and B leaves C untouched and says
 * so; a state set by the max-drawdown protection is lifted only with an explicit admin grant on the
 * account (not by its trader, not by a global admin, not through the fleet); a dashboard that exhausts
 * the rate limit with reads never puts a halt into 429.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { riskQuery, statusQuery } from '../../workflows/definitions';
import { startInProcessWorkers, feedPaced, startSession } from '../support/harness';
import { uniqueAccount } from '../support/env';
import { bars, flat, scriptedSystem } from '../support/scripted-bars';
import { accountsFilter, startVisibleSessions, waitUntilListed } from '../fleet/sessions';
import { json, startTestGateway, type TestGateway } from './support';

jest.setTimeout(240_000);

let workers: Awaited<ReturnType<typeof startInProcessWorkers>>;
let gw: TestGateway;
let handles = new Map<string, WorkflowHandle>();
const extra: WorkflowHandle[] = [];
let a: string;
let b: string;
let c: string;

beforeAll(async () => {
  workers = await startInProcessWorkers();
  gw = await startTestGateway({ client: workers.client, pool: workers.pool }, { sessionTaskQueue: workers.taskQueue });
  ({ accounts: [a, b, c], handles } = await startVisibleSessions(workers.client, ['gr_a', 'gr_b', 'gr_c'], workers.taskQueue));
});

afterAll(async () => {
  await Promise.all([...handles.values(), ...extra].map((h) => h.terminate('test file done').catch(() => undefined)));
  await gw?.close();
  await workers?.stop();
});

const stateOf = async (h: WorkflowHandle) => (await h.query(statusQuery)).tradingState;

test('a fleet halt by a trader of A and B halts A and B, leaves C untouched and lists it as skipped with why', async () => {
  const trader = await gw.user('gr_t', { grants: [{ account: a, role: 'trader' }, { account: b, role: 'trader' }, { account: c, role: 'viewer' }] });
  const res = await gw.call(null, 'POST', '/fleet/trading-state', { state: 'halted', reason: 'desk halt', query: accountsFilter([a, b, c]) }, trader.token);
  expect(res.statusCode).toBe(200);
  const body = json(res);
  expect(body).toMatchObject({ matched: 2, changed: 2, failed: 0, command: { by: trader.name } });
  expect(body.sessions.map((s: { account: string }) => s.account)).toEqual([a, b].sort());
  expect(body.skipped).toEqual([{ account: c, workflowId: expect.any(String), reason: expect.stringMatching(/may not trade account .* \(no trader grant\)/) }]);
  expect(await Promise.all([a, b, c].map((x) => stateOf(handles.get(x)!)))).toEqual(['halted', 'halted', 'active']);
  expect((await handles.get(c)!.query(riskQuery)).tradingStateHistory).toEqual([]);
});

test('a dashboard exhausting the rate limit with reads never puts a halt into 429', async () => {
  const limited = await startTestGateway({ client: workers.client, pool: workers.pool }, { rateLimit: { max: 3, timeWindowMs: 60_000 } });
  try {
    const codes = [];
    for (let i = 0; i < 6; i++) codes.push((await limited.call('trader', 'GET', `/sessions/${c}`)).statusCode);
    expect(codes).toEqual([200, 200, 200, 429, 429, 429]);
    // The same token, the kill switches: each its own bucket (close-all first: halted refuses even a person's close).
    expect((await limited.call('trader', 'POST', `/sessions/${c}/pause`, {})).statusCode).toBe(202);
    expect((await limited.call('trader', 'POST', `/sessions/${c}/close-all`)).statusCode).toBe(200);
    const halt = await limited.call('trader', 'POST', `/sessions/${c}/trading-state`, { state: 'halted', reason: 'dashboard said so' });
    expect(halt.statusCode).toBe(200);
    expect(json(halt).change).toMatchObject({ to: 'halted' });
    const fleet = await limited.call('trader', 'POST', '/fleet/trading-state', { state: 'halted', reason: 'again', query: accountsFilter([c]) });
    expect(fleet.statusCode).toBe(200);
    // Another token has its own read bucket.
    expect((await limited.call('viewer', 'GET', `/sessions/${c}`)).statusCode).toBe(200);
  } finally {
    await limited.close();
  }
});

test('behind a trusted proxy, callers without a token are limited per X-Forwarded-For address', async () => {
  const proxied = await startTestGateway({ client: workers.client, pool: workers.pool }, { rateLimit: { max: 2, timeWindowMs: 60_000 }, trustProxy: true });
  try {
    const from = async (ip: string) => (await proxied.request('GET', '/accounts', { headers: { 'x-forwarded-for': ip } })).statusCode;
    expect([await from('10.0.0.1'), await from('10.0.0.1'), await from('10.0.0.1')]).toEqual([401, 401, 429]);
    expect(await from('10.0.0.2')).toBe(401);
  } finally {
    await proxied.close();
  }
});

test("a max-drawdown halt is lifted only with an explicit admin grant on the account, never by its trader, a global admin or the fleet", async () => {
  const account = uniqueAccount('gr_dd');
  const symbol = account.toUpperCase();
  // A long of 100 at ~100; the fall to 94 costs ~0.6 % of 100,000 > 0.5 %: halted by the protection.
  const frames = bars(symbol, [...flat(2, 100), [100, 100.2, 98.8, 99], [99, 99, 93.5, 94]]);
  const handle = await startSession(
    workers.client,
    {
      account,
      broker: 'paper',
      tradingEnabled: true,
      systems: [scriptedSystem('a', symbol, [{ frame: 2, action: 'buy', quantity: 100 }])],
      protections: { maxDrawdown: { pct: 0.5, action: 'halted' } },
    },
    workers.taskQueue,
  );
  extra.push(handle);
  await feedPaced(workers.pool, handle, frames);
  expect((await handle.query(riskQuery)).tradingStateHistory.at(-1)).toMatchObject({ to: 'halted', source: 'protection', by: 'protection:max-drawdown' });

  const trader = await gw.user('gr_ddt', { grants: [{ account, role: 'trader' }] });
  const globalAdmin = await gw.user('gr_ddg', { role: 'admin' });
  const accountAdmin = await gw.user('gr_dda', { grants: [{ account, role: 'admin' }] });
  for (const [who, token] of [['trader', trader.token], ['global admin', globalAdmin.token]] as const) {
    for (const state of ['active', 'reducing']) {
      const res = await gw.call(null, 'POST', `/sessions/${account}/trading-state`, { state, reason: 'lift it' }, token);
      expect([who, state, res.statusCode]).toEqual([who, state, 403]);
      expect(json(res).message).toMatch(new RegExp(`needs an explicit admin grant on account "${account}"`));
    }
  }
  await waitUntilListed(workers.client, accountsFilter([account]), [account]);
  const fleet = json(await gw.call(null, 'POST', '/fleet/trading-state', { state: 'active', reason: 'all clear', query: accountsFilter([account]) }, trader.token));
  expect(fleet).toMatchObject({ matched: 0, skipped: [{ account, reason: expect.stringMatching(/explicit admin grant/) }] });
  expect(await stateOf(handle)).toBe('halted');
  // A trader may still tighten it.
  expect((await gw.call(null, 'POST', `/sessions/${account}/trading-state`, { state: 'halted', reason: 'still' }, trader.token)).statusCode).toBe(200);

  const lifted = await gw.call(null, 'POST', `/sessions/${account}/trading-state`, { state: 'active', reason: 'reviewed the drawdown' }, accountAdmin.token);
  expect(lifted.statusCode).toBe(200);
  expect(json(lifted).change).toMatchObject({ from: 'halted', to: 'active', by: accountAdmin.name, source: 'command' });
  expect(await stateOf(handle)).toBe('active');
});

test('rotating a token over REST refuses the old one at once; revoking refuses the new one at once', async () => {
  const user = await gw.user('gr_rot', { grants: [{ account: a, role: 'viewer' }] });
  expect((await gw.call(null, 'GET', `/sessions/${a}`, undefined, user.token)).statusCode).toBe(200);
  const rotated = await gw.call('admin', 'POST', `/users/${user.name}/rotate`, { expires: '1h' });
  expect(rotated.statusCode).toBe(200);
  const fresh = json(rotated).token as string;
  expect((await gw.call(null, 'GET', `/sessions/${a}`, undefined, user.token)).statusCode).toBe(401);
  expect((await gw.call(null, 'GET', `/sessions/${a}`, undefined, fresh)).statusCode).toBe(200);
  expect((await gw.call('admin', 'POST', `/users/${user.name}/revoke`)).statusCode).toBe(200);
  expect((await gw.call(null, 'GET', `/sessions/${a}`, undefined, fresh)).statusCode).toBe(401);
  const bad = await gw.call('admin', 'POST', `/users/${user.name}/rotate`, { expires: 'someday' });
  expect(bad.statusCode).toBe(400);
  expect(json(bad).fields).toEqual([expect.objectContaining({ field: 'expires', in: 'body' })]);
});
