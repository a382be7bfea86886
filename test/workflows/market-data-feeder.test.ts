/**
 * The market-data feeder on the real Temporal server: it turns the broker's candles into closed frames,
 * stores them in maodata and delivers them to subscribed sessions with signal-with-start (starting a
 * session from its maohome configuration), and a restart of the workers neither loses nor doubles a frame.
 */
import { HomeStore } from '../../db/home-store';
import { MarketDataStore } from '../../db/market-data-store';
import { generateFrames } from '../../market/synthetic';
import { feederStatusQuery, feederWorkflowId, type marketDataFeeder } from '../../workflows/market-data-feeder';
import { sessionWorkflowId, statusQuery } from '../../workflows/definitions';
import { uniqueAccount } from '../support/env';
import { startInProcessWorkers, temporalClient } from '../support/harness';

jest.setTimeout(180_000);

async function until<T>(probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined as T);
    if (v !== undefined && ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms; last value ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('the feeder delivers closed frames to a session it starts, and survives a restart without losing or doubling a frame', async () => {
  let workers = await startInProcessWorkers();
  const { client, connection } = await temporalClient();
  const account = uniqueAccount('feed');
  const symbol = account.toUpperCase();
  const tf = 60_000;
  const lastClosed = Math.floor(Date.now() / tf) * tf - tf;
  const history = generateFrames({ symbol, timeframe: '1m', start: lastClosed - 59 * tf, count: 60, seed: 4 });
  // The paper broker's price history is maodata: put the last hour there.
  await new MarketDataStore(workers.pool).upsertCandles(history);
  const home = new HomeStore(workers.pool);
  await home.upsertAccount({ account, broker: 'paper', currency: 'USD' });
  await home.upsertSystemConfig(account, { id: 'ma', system: 'ma-crossover', symbol, timeframe: '1m', params: { fastPeriod: 5, slowPeriod: 20 } });

  const feederId = feederWorkflowId('paper', symbol, '1m');
  const feeder = await client.workflow.start<typeof marketDataFeeder>('marketDataFeeder', {
    taskQueue: workers.taskQueue,
    workflowId: feederId,
    args: [{ broker: 'paper', symbol, timeframe: '1m', subscribers: [account], backfillFrames: 40 }],
  });
  const session = client.workflow.getHandle(sessionWorkflowId(account));
  // The session did not exist: the feeder's signal-with-start created it from maohome.
  const s1 = await until(() => session.query(statusQuery), (s) => (s.lastFrames[`${symbol}|1m`] ?? 0) >= history[59].start);
  expect(s1.counters.framesProcessed).toBe(40);
  expect((await feeder.query(feederStatusQuery)).cursor).toBe(history[59].start);

  // Restart every worker; the feeder resumes from its cursor.
  await workers.stop();
  workers = await startInProcessWorkers();
  try {
    const status = await until(() => feeder.query(feederStatusQuery), (s) => s.cursor !== null);
    expect(status.cursor).toBeGreaterThanOrEqual(history[59].start);
    const s2 = await session.query(statusQuery);
    // Nothing doubled: every delivered frame was processed exactly once.
    expect(s2.counters.framesProcessed).toBe(40 + (status.cursor! - history[59].start) / tf);
    expect(s2.counters.framesDuplicate).toBe(0);
    expect(s2.counters.framesRejected).toBe(0);
    const [[row]] = (await workers.pool.query(`SELECT COUNT(*) AS n FROM mt_${account}.equity`)) as any;
    expect(Number(row.n)).toBe(s2.counters.framesProcessed);
  } finally {
    await feeder.terminate('test done').catch(() => undefined);
    await session.terminate('test done').catch(() => undefined);
    await workers.stop();
    await connection.close();
  }
});

test('a subscriber with an invalid or missing configuration is reported, and the others still get every frame; the feeder keeps running', async () => {
  const workers = await startInProcessWorkers();
  const { client, connection } = await temporalClient();
  const good = uniqueAccount('feedok');
  const bad = uniqueAccount('feedbad');
  const missing = uniqueAccount('feednone');
  const symbol = good.toUpperCase();
  const tf = 60_000;
  const lastClosed = Math.floor(Date.now() / tf) * tf - tf;
  const history = generateFrames({ symbol, timeframe: '1m', start: lastClosed - 19 * tf, count: 20, seed: 5 });
  await new MarketDataStore(workers.pool).upsertCandles(history);
  const home = new HomeStore(workers.pool);
  await home.upsertAccount({ account: good, broker: 'paper', currency: 'USD' });
  await home.upsertSystemConfig(good, { id: 'ma', system: 'ma-crossover', symbol, timeframe: '1m', params: { fastPeriod: 5, slowPeriod: 20 } });
  // No enabled system: the session schema refuses the stored configuration (config.systems).
  await home.upsertAccount({ account: bad, broker: 'paper', currency: 'USD' });

  const feeder = await client.workflow.start<typeof marketDataFeeder>('marketDataFeeder', {
    taskQueue: workers.taskQueue,
    workflowId: feederWorkflowId('paper', symbol, '1m'),
    // The bad ones first: they must not stop the loop before the good one.
    args: [{ broker: 'paper', symbol, timeframe: '1m', subscribers: [bad, missing, good], backfillFrames: 10 }],
  });
  const session = client.workflow.getHandle(sessionWorkflowId(good));
  try {
    const s = await until(() => session.query(statusQuery), (v) => (v.lastFrames[`${symbol}|1m`] ?? 0) >= history[19].start);
    expect(s.counters.framesProcessed).toBe(10);
    const status = await feeder.query(feederStatusQuery);
    expect(status.cursor).toBe(history[19].start);
    expect(status.subscribers.sort()).toEqual([bad, good, missing].sort());
    expect(status.skipped.missing).toEqual([missing]);
    expect(status.skipped.invalid).toEqual([{ account: bad, reason: expect.stringContaining('config.systems') }]);
    expect(status.skipped.stopped).toEqual([]);
    expect((await feeder.describe()).status.name).toBe('RUNNING');
    // Neither bad subscriber got a session.
    await expect(client.workflow.getHandle(sessionWorkflowId(bad)).describe()).rejects.toThrow();
    await expect(client.workflow.getHandle(sessionWorkflowId(missing)).describe()).rejects.toThrow();
  } finally {
    await feeder.terminate('test done').catch(() => undefined);
    await session.terminate('test done').catch(() => undefined);
    await workers.stop();
    await connection.close();
  }
});
