/**
 * Trading states through the gateway over real sessions: POST /sessions/{account}/trading-state and
 * POST /fleet/trading-state (trader), `by` always the caller's name, 400 naming the field, 403 below
 * trader, 404 for an account without a running session, and each command logged with who gave it.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { riskQuery, statusQuery } from '../../workflows/definitions';
import { uniqueAccount } from '../support/env';
import { startInProcessWorkers } from '../support/harness';
import { accountsFilter, startVisibleSessions } from '../fleet/sessions';
import { json, startTestGateway, type TestGateway } from './support';

let workers: Awaited<ReturnType<typeof startInProcessWorkers>>;
let gw: TestGateway;
let handles = new Map<string, WorkflowHandle>();
let a: string;
let b: string;
const inList = () => accountsFilter([a, b]);

beforeAll(async () => {
  workers = await startInProcessWorkers();
  gw = await startTestGateway({ client: workers.client, pool: workers.pool }, { sessionTaskQueue: workers.taskQueue });
  ({ accounts: [a, b], handles } = await startVisibleSessions(workers.client, ['gwts_a', 'gwts_b'], workers.taskQueue));
});

afterAll(async () => {
  await Promise.all([...handles.values()].map((h) => h.terminate('test file done').catch(() => undefined)));
  await gw?.close();
  await workers?.stop();
});

const commandLines = (command: string) =>
  gw.lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'api command' && l.command === command);

test("a trader sets one session's trading state; by is the trader's name; a repeat returns null; 404 without a session", async () => {
  const res = await gw.call('trader', 'POST', `/sessions/${a}/trading-state`, { state: 'halted', reason: 'manual halt' });
  expect(res.statusCode).toBe(200);
  const body = json(res);
  expect(body).toMatchObject({ account: a, change: { from: 'active', to: 'halted', by: gw.names.trader, reason: 'manual halt', source: 'command' } });
  const h = handles.get(a)!;
  expect((await h.query(statusQuery)).tradingState).toBe('halted');
  expect((await h.query(riskQuery)).tradingStateHistory.at(-1)).toEqual(body.change);

  const again = await gw.call('trader', 'POST', `/sessions/${a}/trading-state`, { state: 'halted', reason: 'manual halt' });
  expect(again.statusCode).toBe(200);
  expect(json(again)).toEqual({ account: a, change: null });

  const none = uniqueAccount('gwts_none');
  const missing = await gw.call('trader', 'POST', `/sessions/${none}/trading-state`, { state: 'halted', reason: 'x' });
  expect(missing.statusCode).toBe(404);
  expect(json(missing).message).toContain(none);

  expect(commandLines('set-trading-state').find((l) => l.account === a)).toMatchObject({ by: gw.names.trader, statusCode: 200, params: { state: 'halted', reason: 'manual halt' } });
});

test("a fleet command through the gateway reaches every session of the query, recorded with the trader's name", async () => {
  const res = await gw.call('trader', 'POST', '/fleet/trading-state', { state: 'reducing', reason: 'risk review', query: inList() });
  expect(res.statusCode).toBe(200);
  const body = json(res);
  expect(body).toMatchObject({ command: { state: 'reducing', by: gw.names.trader, reason: 'risk review' }, matched: 2, changed: 2, unchanged: 0, failed: 0 });
  expect(body.sessions.map((s: { account: string }) => s.account)).toEqual([a, b].sort());
  for (const [account, h] of handles) {
    expect([account, (await h.query(statusQuery)).tradingState]).toEqual([account, 'reducing']);
    expect((await h.query(riskQuery)).tradingStateHistory.at(-1)).toMatchObject({ to: 'reducing', by: gw.names.trader, reason: 'risk review' });
  }
  expect(commandLines('fleet-trading-state').at(-1)).toMatchObject({ by: gw.names.trader, statusCode: 200, params: { state: 'reducing', query: inList() } });
});

test('400 naming the field, 403 below trader; nothing changes', async () => {
  const before = await handles.get(b)!.query(riskQuery);
  const cases: [string, unknown, string][] = [
    [`/sessions/${b}/trading-state`, { state: 'frozen', reason: 'x' }, 'state'],
    [`/sessions/${b}/trading-state`, { state: 'halted', reason: 'x', by: 'someone_else' }, 'by'],
    ['/fleet/trading-state', { state: 'halted' }, 'reason'],
    ['/fleet/trading-state', { state: 'halted', reason: 'x', by: 'someone_else', query: inList() }, 'by'],
    ['/fleet/trading-state', { state: 'halted', reason: 'x', query: `${inList()}) OR (MaoBroker = 'paper'` }, 'query'],
    // Passes the sanity check, refused by Temporal's parser: still 400 on `query`.
    ['/fleet/trading-state', { state: 'halted', reason: 'x', query: "NoSuchAttribute = 'x'" }, 'query'],
  ];
  for (const [url, payload, field] of cases) {
    const res = await gw.call('trader', 'POST', url, payload);
    expect([url, field, res.statusCode]).toEqual([url, field, 400]);
    expect(json(res).fields).toEqual(expect.arrayContaining([expect.objectContaining({ field, in: 'body' })]));
    expect(json(res).message).toContain(field);
  }
  for (const url of [`/sessions/${b}/trading-state`, '/fleet/trading-state']) {
    const res = await gw.call('viewer', 'POST', url, { state: 'halted', reason: 'x', query: inList() });
    expect([url, res.statusCode]).toEqual([url, 403]);
    expect(json(res).message).toContain('trader');
  }
  expect(await handles.get(b)!.query(riskQuery)).toEqual(before);
});

test('the OpenAPI document describes both bodies without `by`', async () => {
  const doc = json(await gw.call(null, 'GET', '/openapi.json'));
  const session = doc.paths['/sessions/{account}/trading-state'].post;
  const fleet = doc.paths['/fleet/trading-state'].post;
  expect(session.security).toEqual([{ bearerAuth: [] }]);
  const sessionSchema = session.requestBody.content['application/json'].schema;
  expect(Object.keys(sessionSchema.properties).sort()).toEqual(['reason', 'state']);
  expect(sessionSchema.properties.state.enum).toEqual(['active', 'reducing', 'halted']);
  const fleetSchema = fleet.requestBody.content['application/json'].schema;
  expect(Object.keys(fleetSchema.properties).sort()).toEqual(['query', 'reason', 'state']);
  expect(fleetSchema.required.sort()).toEqual(['reason', 'state']);
});
