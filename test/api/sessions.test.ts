/**
 * The gateway over real sessions (invariant 5): the session and paper-broker workers run in this process,
 * sessions are started on its task queue; every request goes through the gateway over HTTP. Reads
 * (visibility, queries, `mt_<account>` records), trader commands (pause/resume, close one, close all,
 * set-params with the workflow's validation, reconcile), admin start/stop, 404 for unknown sessions.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { generateFrames } from '../../market/synthetic';
import { HomeStore } from '../../db/home-store';
import { MarketDataStore } from '../../db/market-data-store';
import { createFeederActivities } from '../../activities/feeder-activities';
import { feederStatusQuery, feederWorkflowId, type marketDataFeeder } from '../../workflows/market-data-feeder';
import { pnlQuery, positionsQuery, riskQuery, sessionWorkflowId, statusQuery, systemsQuery } from '../../workflows/definitions';
import type { SessionConfigInput } from '../../config/session-config';
import { uniqueAccount } from '../support/env';
import { feedPaced, startInProcessWorkers, startSession } from '../support/harness';
import { createdTokens, json, linesWithSecrets, startTestGateway, type TestGateway } from './support';

const PARAMS = { fastPeriod: 2, slowPeriod: 5, stopDistancePct: 0.5 };
const PARAMS_B = { fastPeriod: 3, slowPeriod: 6, stopDistancePct: 0.5 };

let workers: Awaited<ReturnType<typeof startInProcessWorkers>>;
let gw: TestGateway;
const handles: WorkflowHandle[] = [];

beforeAll(async () => {
  workers = await startInProcessWorkers();
  gw = await startTestGateway(
    { client: workers.client, pool: workers.pool },
    { sessionTaskQueue: workers.taskQueue, sessionDefaults: { tradingEnabled: true, dailyCleanTime: '23:45' } },
  );
});

afterAll(async () => {
  await Promise.all(handles.map((h) => h.terminate('test file done').catch(() => undefined)));
  await gw?.close();
  await workers?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(150);
  }
}

function config(account: string): SessionConfigInput {
  const symbol = account.toUpperCase();
  return {
    account,
    broker: 'paper',
    tradingEnabled: true,
    systems: [
      { id: 'ma', system: 'ma-crossover', symbol, timeframe: '1m', params: PARAMS },
      { id: 'mb', system: 'ma-crossover', symbol, timeframe: '1m', params: PARAMS_B },
    ],
  };
}

/**
 * A session of two systems on the account's own symbol, fed frame by frame until both hold a position
 * (so closing one and closing all have something to close). Returns the handle and the frames fed.
 */
async function sessionWithTwoPositions(prefix: string) {
  const account = uniqueAccount(prefix);
  const handle = await startSession(workers.client, config(account), workers.taskQueue);
  handles.push(handle);
  const frames = generateFrames({ symbol: account.toUpperCase(), timeframe: '1m', count: 120, seed: 7, trendCycle: 0, volatilityPct: 0.3 });
  let fed = 0;
  for (const f of frames) {
    await feedPaced(workers.pool, handle, [f]);
    fed++;
    const open = await handle.query(positionsQuery);
    if (new Set(open.map((p) => p.systemId)).size === 2) break;
  }
  const open = await handle.query(positionsQuery);
  expect(open.map((p) => p.systemId).sort()).toEqual(['ma', 'mb']);
  return { account, handle, frames: frames.slice(0, fed) };
}

let shared: Awaited<ReturnType<typeof sessionWithTwoPositions>>;

test('viewer reads a running session: listed from visibility with its search attributes, status, positions, P&L, and its mt_ records', async () => {
  shared = await sessionWithTwoPositions('gwread');
  const { account, handle, frames } = shared;

  const listed = await eventually('the session listed by GET /sessions', async () => {
    const res = await gw.call('viewer', 'GET', `/sessions?account=${account}`);
    expect(res.statusCode).toBe(200);
    const s = json(res).sessions;
    return s.length === 1 ? s[0] : undefined;
  });
  expect(listed).toMatchObject({ account, broker: 'paper', status: 'running', workflowId: sessionWorkflowId(account), taskQueue: workers.taskQueue });
  const all = json(await gw.call('viewer', 'GET', '/sessions')).sessions as { account: string }[];
  expect(all.filter((s) => s.account === account)).toHaveLength(1);
  expect(json(await gw.call('viewer', 'GET', `/sessions?account=${uniqueAccount('none')}`)).sessions).toEqual([]);

  const status = await gw.call('viewer', 'GET', `/sessions/${account}`);
  expect(status.statusCode).toBe(200);
  expect(json(status)).toEqual(JSON.parse(JSON.stringify(await handle.query(statusQuery))));
  expect(json(status).lastFrames[`${account.toUpperCase()}|1m`]).toBe(frames[frames.length - 1].start);

  const positions = json(await gw.call('viewer', 'GET', `/sessions/${account}/positions`)).positions;
  expect(positions).toEqual(await handle.query(positionsQuery));
  expect(positions).toHaveLength(2);
  expect(json(await gw.call('viewer', 'GET', `/sessions/${account}/pnl`))).toEqual(await handle.query(pnlQuery));
  const risk = json(await gw.call('viewer', 'GET', `/sessions/${account}/risk`));
  expect(risk).toEqual(JSON.parse(JSON.stringify(await handle.query(riskQuery))));
  expect(risk).toMatchObject({ tradingState: 'active', limits: { maxOpenPositions: 20 } });

  const q = async (sql: string) => JSON.parse(JSON.stringify((await workers.pool.query(sql))[0]));
  const orders = json(await gw.call('viewer', 'GET', `/accounts/${account}/orders`)).orders;
  expect(orders.length).toBeGreaterThanOrEqual(2);
  expect(orders).toEqual(await q(`SELECT * FROM mt_${account}.orders ORDER BY created_at, client_order_id`));
  expect(json(await gw.call('viewer', 'GET', `/accounts/${account}/orders?limit=1`)).orders).toEqual(orders.slice(0, 1));
  const equity = json(await gw.call('viewer', 'GET', `/accounts/${account}/equity`)).equity;
  expect(equity).toHaveLength(frames.length); // one point per frame
  expect(equity).toEqual(await q(`SELECT * FROM mt_${account}.equity ORDER BY ts`));
  const from = new Date(equity[2].ts).toISOString();
  const to = new Date(equity[5].ts).toISOString();
  expect(json(await gw.call('viewer', 'GET', `/accounts/${account}/equity?from=${from}&to=${to}`)).equity).toEqual(equity.slice(2, 5));
  expect(json(await gw.call('viewer', 'GET', `/accounts/${account}/trades`)).trades).toEqual(
    await q(`SELECT * FROM mt_${account}.trades ORDER BY closed_at, position_ref`),
  );
  // An account without records: 404, not an SQL error.
  expect((await gw.call('viewer', 'GET', `/accounts/${uniqueAccount('norec')}/orders`)).statusCode).toBe(404);
});

test('trader pauses and resumes: the status query and MaoStatus follow, the signal carries who', async () => {
  const { account, handle } = shared;
  const paused = await gw.call('trader', 'POST', `/sessions/${account}/pause`, { reason: 'news' });
  expect([paused.statusCode, json(paused)]).toEqual([202, { account, command: 'pause', accepted: true }]);
  await eventually('status paused', async () => ((await handle.query(statusQuery)).status === 'paused' ? true : undefined));
  expect(json(await gw.call('viewer', 'GET', `/sessions/${account}`)).status).toBe('paused');
  await eventually('MaoStatus paused in GET /sessions', async () => {
    const s = json(await gw.call('viewer', 'GET', `/sessions?account=${account}`)).sessions;
    return s[0]?.status === 'paused' ? true : undefined;
  });
  const history = await handle.fetchHistory();
  const signal = history.events!.filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'pause').at(-1);
  const payload = signal!.workflowExecutionSignaledEventAttributes!.input!.payloads![0].data!;
  expect(JSON.parse(Buffer.from(payload).toString('utf8'))).toEqual({ by: gw.names.trader, reason: 'news' });

  const resumed = await gw.call('trader', 'POST', `/sessions/${account}/resume`);
  expect(resumed.statusCode).toBe(202);
  await eventually('status running', async () => ((await handle.query(statusQuery)).status === 'running' ? true : undefined));
});

test('set-params: the named parameter changes, the others stay; a value the system refuses is 400 naming the field; an unknown system is 400 naming systemId', async () => {
  const { account, handle } = shared;
  const before = (await handle.query(systemsQuery)).mb.params;
  expect(before).toMatchObject(PARAMS_B);
  const ok = await gw.call('trader', 'PUT', `/sessions/${account}/systems/mb/params`, { params: { fastPeriod: 4 } });
  expect(ok.statusCode).toBe(200);
  expect(json(ok)).toEqual({ account, systemId: 'mb', params: { ...before, fastPeriod: 4 } });
  expect((await handle.query(systemsQuery)).mb.params).toEqual({ ...before, fastPeriod: 4 });

  const bad = await gw.call('trader', 'PUT', `/sessions/${account}/systems/mb/params`, { params: { fastPeriod: -1 } });
  expect(bad.statusCode).toBe(400);
  expect(json(bad).message).toContain('fastPeriod');
  expect(json(bad).fields).toEqual([expect.objectContaining({ field: 'params.fastPeriod' })]);
  expect((await handle.query(systemsQuery)).mb.params).toEqual({ ...before, fastPeriod: 4 });

  const unknown = await gw.call('admin', 'PUT', `/sessions/${account}/systems/nope/params`, { params: { fastPeriod: 3 } });
  expect(unknown.statusCode).toBe(400);
  expect(json(unknown).fields).toEqual([expect.objectContaining({ field: 'systemId' })]);
  const extra = await gw.call('trader', 'PUT', `/sessions/${account}/systems/mb/params`, { params: { fastPeriod: 3 }, by: 'someone else' });
  expect(extra.statusCode).toBe(400);
  expect(json(extra).message).toContain('by');
});

test('trader closes one position, then all: trades come back as manual exits and land in mt_<account>.trades', async () => {
  const { account, handle } = shared;
  const before = await handle.query(positionsQuery);
  const one = await gw.call('trader', 'POST', `/sessions/${account}/positions/ma/close`);
  expect(one.statusCode).toBe(200);
  const trade = json(one).trade;
  expect(trade).toMatchObject({ systemId: 'ma', exitReason: 'manual', positionRef: before.find((p) => p.systemId === 'ma')!.positionRef });
  expect((await handle.query(positionsQuery)).map((p) => p.systemId)).toEqual(['mb']);
  // No position left for ma: null.
  expect(json(await gw.call('trader', 'POST', `/sessions/${account}/positions/ma/close`)).trade).toBeNull();

  const all = await gw.call('trader', 'POST', `/sessions/${account}/close-all`);
  expect(all.statusCode).toBe(200);
  expect(json(all).trades.map((t: { systemId: string; exitReason: string }) => [t.systemId, t.exitReason])).toEqual([['mb', 'manual']]);
  expect(await handle.query(positionsQuery)).toEqual([]);
  expect(json(await gw.call('viewer', 'GET', `/sessions/${account}/positions`)).positions).toEqual([]);

  const trades = json(await gw.call('viewer', 'GET', `/accounts/${account}/trades`)).trades as { position_ref: string; exit_reason: string }[];
  const manual = trades.filter((t) => t.exit_reason === 'manual').map((t) => t.position_ref).sort();
  expect(manual).toEqual(before.map((p) => p.positionRef).sort());
});

test('trader asks for a reconciliation and gets the report', async () => {
  const { account } = shared;
  const res = await gw.call('trader', 'POST', `/sessions/${account}/reconcile`, { reason: 'end of day check' });
  expect(res.statusCode).toBe(200);
  expect(json(res).report).toMatchObject({ reason: 'end of day check', drifts: [], stillUnknown: 0 });
});

test('an account without a session is 404 for every read and command', async () => {
  const account = uniqueAccount('nosess');
  const calls: [string, string, unknown?][] = [
    ['GET', `/sessions/${account}`],
    ['GET', `/sessions/${account}/positions`],
    ['GET', `/sessions/${account}/pnl`],
    ['GET', `/sessions/${account}/risk`],
    ['POST', `/sessions/${account}/pause`, {}],
    ['POST', `/sessions/${account}/resume`],
    ['POST', `/sessions/${account}/positions/ma/close`],
    ['POST', `/sessions/${account}/close-all`],
    ['PUT', `/sessions/${account}/systems/ma/params`, { params: { fastPeriod: 3 } }],
    ['POST', `/sessions/${account}/reconcile`],
    ['DELETE', `/sessions/${account}`],
  ];
  for (const [method, url, payload] of calls) {
    const res = await gw.call('admin', method, url, payload);
    expect([method, url, res.statusCode, json(res).error]).toEqual([method, url, 404, 'not_found']);
  }
});

test('admin starts a session from its maohome configuration (409 when running, 404 when unknown) and stops it (then 404)', async () => {
  const account = uniqueAccount('gwstart');
  const home = new HomeStore(workers.pool);
  await home.upsertAccount({ account, broker: 'paper', currency: 'USD' });
  await home.upsertSystemConfig(account, { id: 'ma', system: 'ma-crossover', symbol: account.toUpperCase(), timeframe: '1m', params: PARAMS });

  const started = await gw.call('admin', 'POST', '/sessions', { account });
  expect(started.statusCode).toBe(201);
  expect(json(started)).toMatchObject({ account, broker: 'paper', workflowId: sessionWorkflowId(account), taskQueue: workers.taskQueue, systems: ['ma'] });
  const handle = workers.client.workflow.getHandle(sessionWorkflowId(account));
  handles.push(handle);
  const status = await eventually('the started session answers', async () => {
    const res = await gw.call('viewer', 'GET', `/sessions/${account}`);
    return res.statusCode === 200 ? json(res) : undefined;
  });
  expect(status).toMatchObject({ account, broker: 'paper', status: 'running', tradingEnabled: true });
  expect((await handle.query(systemsQuery)).ma).toMatchObject({ system: 'ma-crossover', symbol: account.toUpperCase(), params: PARAMS });

  const again = await gw.call('admin', 'POST', '/sessions', { account });
  expect([again.statusCode, json(again).error]).toEqual([409, 'conflict']);
  const unknown = await gw.call('admin', 'POST', '/sessions', { account: uniqueAccount('nohome') });
  expect(unknown.statusCode).toBe(404);

  const stopped = await gw.call('admin', 'DELETE', `/sessions/${account}?reason=maintenance`);
  expect(stopped.statusCode).toBe(200);
  expect((await handle.describe()).status.name).toBe('TERMINATED');
  const history = await handle.fetchHistory();
  const reason = history.events!.at(-1)!.workflowExecutionTerminatedEventAttributes?.reason;
  expect(reason).toBe(`stopped by ${gw.names.admin} through the gateway: maintenance`);
  expect((await gw.call('viewer', 'GET', `/sessions/${account}`)).statusCode).toBe(404);
  expect((await gw.call('admin', 'DELETE', `/sessions/${account}`)).statusCode).toBe(404);
  expect((await gw.call('trader', 'POST', `/sessions/${account}/pause`)).statusCode).toBe(404);
});

test('a stopped session stays stopped: the feeder does not start it again, it is unsubscribed from its feeder, and starting it clears the mark', async () => {
  const account = uniqueAccount('gwstop');
  const symbol = account.toUpperCase();
  const home = new HomeStore(workers.pool);
  await home.upsertAccount({ account, broker: 'paper', currency: 'USD' });
  await home.upsertSystemConfig(account, { id: 'ma', system: 'ma-crossover', symbol, timeframe: '1m', params: PARAMS });
  const tf = 60_000;
  const lastClosed = Math.floor(Date.now() / tf) * tf - tf;
  const history = generateFrames({ symbol, timeframe: '1m', start: lastClosed - 9 * tf, count: 10, seed: 3 });
  await new MarketDataStore(workers.pool).upsertCandles(history);

  expect((await gw.call('admin', 'POST', '/sessions', { account })).statusCode).toBe(201);
  const handle = workers.client.workflow.getHandle(sessionWorkflowId(account));
  handles.push(handle);
  const feeder = await workers.client.workflow.start<typeof marketDataFeeder>('marketDataFeeder', {
    taskQueue: workers.taskQueue,
    workflowId: feederWorkflowId('paper', symbol, '1m'),
    args: [{ broker: 'paper', symbol, timeframe: '1m', subscribers: [account], backfillFrames: 5 }],
  });
  handles.push(feeder);
  await eventually('the feeder delivered to the session', async () =>
    ((await handle.query(statusQuery)).lastFrames[`${symbol}|1m`] ?? 0) >= history[9].start ? true : undefined,
  );
  const runId = (await handle.describe()).runId;

  const stopped = await gw.call('admin', 'DELETE', `/sessions/${account}`);
  expect(stopped.statusCode).toBe(200);
  expect(json(stopped)).toMatchObject({ account, stopped: true, unsubscribed: [feederWorkflowId('paper', symbol, '1m')] });
  expect(await home.isStopped(account)).toBe(true);
  await eventually('the feeder dropped the subscriber', async () => ((await feeder.query(feederStatusQuery)).subscribers.length === 0 ? true : undefined));

  // A frame delivered anyway (a feeder that still lists it, or the activity run twice): skipped, not started.
  const deliver = createFeederActivities({
    pool: workers.pool,
    client: workers.client,
    sessionDefaults: { tradingEnabled: true, dailyCleanTime: '23:45' },
    sessionTaskQueue: workers.taskQueue,
  }).deliverFrames;
  const next = generateFrames({ symbol, timeframe: '1m', start: lastClosed + tf, count: 1, seed: 3 });
  for (let i = 0; i < 2; i++) {
    expect(await deliver([account], next)).toEqual({ delivered: [], missing: [], invalid: [], stopped: [account] });
  }
  const after = await handle.describe();
  expect([after.status.name, after.runId]).toEqual(['TERMINATED', runId]);
  expect((await gw.call('viewer', 'GET', `/sessions/${account}`)).statusCode).toBe(404);

  // Started again through the gateway: the mark is cleared, the feeder has it again and deliveries reach it.
  const restarted = await gw.call('admin', 'POST', '/sessions', { account });
  expect(restarted.statusCode).toBe(201);
  expect(await home.isStopped(account)).toBe(false);
  expect((await feeder.query(feederStatusQuery)).subscribers).toEqual([account]);
  expect(await deliver([account], next)).toEqual({ delivered: [account], missing: [], invalid: [], stopped: [] });
  const again = await handle.describe();
  expect(again.status.name).toBe('RUNNING');
  expect(again.runId).not.toBe(runId);
  await handle.terminate('test done').catch(() => undefined);
  await feeder.terminate('test done').catch(() => undefined);
});

test('an account whose stored configuration is invalid is refused with 422 naming the field; nothing is started', async () => {
  const account = uniqueAccount('gwbadcfg');
  await new HomeStore(workers.pool).upsertAccount({ account, broker: 'paper', currency: 'USD' });
  // No enabled system: the session schema needs at least one.
  const res = await gw.call('admin', 'POST', '/sessions', { account });
  expect(res.statusCode).toBe(422);
  expect(json(res).fields).toEqual([expect.objectContaining({ field: 'config.systems' })]);
  await expect(workers.client.workflow.getHandle(sessionWorkflowId(account)).describe()).rejects.toThrow();
});

test('commands were logged with who did them, and no log line holds a token, a bearer header or a password', async () => {
  const commands = gw.lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'api command');
  const by = (command: string) => commands.filter((c) => c.command === command).map((c) => c.by);
  expect(by('pause')).toContain(gw.names.trader);
  expect(by('close-all')).toContain(gw.names.trader);
  expect(by('set-params')).toContain(gw.names.trader);
  expect(by('start-session')).toContain(gw.names.admin);
  expect(by('stop-session')).toContain(gw.names.admin);
  expect(commands.find((c) => c.command === 'stop-session' && c.statusCode === 200)).toMatchObject({ params: { reason: 'maintenance' } });
  expect(linesWithSecrets(gw.lines, createdTokens)).toEqual([]);
});
