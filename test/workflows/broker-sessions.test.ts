/**
 * Sessions on the real Temporal server trading through the IG and Alpaca adapters against their fake
 * servers: under every injected fault a session's order exists exactly once at the broker and the
 * session's positions equal the broker's; an IG session trades end to end on frames from the feeder;
 * a position changed behind the session's back is detected, logged and adopted.
 */
import type { Client, Connection, WorkflowHandle } from '@temporalio/client';
import type { Fault } from '../fakes/fault';
import type { Frame } from '../../market/frame';
import { HomeStore } from '../../db/home-store';
import { generateFrames } from '../../market/synthetic';
import { positionsQuery, reconcileUpdate, sessionWorkflowId, statusQuery, tradesQuery } from '../../workflows/definitions';
import { feederWorkflowId, type marketDataFeeder } from '../../workflows/market-data-feeder';
import { uniqueAccount } from '../support/env';
import { feedPaced, startInProcessWorkers, startSession, temporalClient } from '../support/harness';
import { alpacaVenue, igVenue, type Venue } from '../support/venues';
import { IgBrokerAdapter, InMemorySubmissionJournal } from '../../brokers/ig';

jest.setTimeout(240_000);

let client: Client;
let connection: Connection;
beforeAll(async () => ({ client, connection } = await temporalClient()));
afterAll(async () => connection?.close());

/** Frames on which ma-crossover(1, 2) decides: the 3rd frame turns down (a short entry), the 4th up (reverse to long). */
function decisionFrames(symbol: string, closes: number[]): Frame[] {
  const t0 = Math.floor(Date.now() / 60_000) * 60_000 - closes.length * 60_000;
  return closes.map((c, i) => ({ symbol, timeframe: '1m', start: t0 + i * 60_000, open: c, high: c + 0.5, low: c - 0.5, close: c, volume: 0 }));
}

async function until<T>(probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined as T);
    if (v !== undefined && ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms; last value ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** An IG adapter tuned for tests: short HTTP timeout and settle windows so Temporal's retries settle quickly. */
async function fastIg(): Promise<Venue> {
  const v = await igVenue();
  const f = v.fakeIg!;
  v.adapter = new IgBrokerAdapter(
    {
      apiKey: f.options.apiKey,
      identifier: f.options.identifier,
      password: f.options.password,
      accountId: 'ABC123',
      baseUrl: f.url,
      httpTimeoutMs: 1_000,
      confirmPollIntervalMs: 50,
      confirmWindowMs: 500,
      rateLimitBackoffMs: 500,
      unknownOutcomeSettleMs: 2_000,
    },
    { journal: new InMemorySubmissionJournal() },
  );
  return v;
}

const IG_OPEN = { method: 'POST', path: '/positions/otc', when: (r: { headers: Record<string, unknown> }) => !r.headers['_method'] };
const ALPACA_OPEN = { method: 'POST', path: '/v2/orders' };

const FAULT_CASES: Array<[string, () => Promise<Venue>, Fault]> = [
  ['ig', fastIg, { ...IG_OPEN, kind: 'timeout', holdMs: 3_000 }],
  ['ig', fastIg, { ...IG_OPEN, kind: 'timeout', holdMs: 3_000, acceptFirst: true }],
  ['ig', fastIg, { ...IG_OPEN, kind: '5xx', status: 503, times: 2 }],
  ['ig', fastIg, { ...IG_OPEN, kind: 'rate-limit', times: 2 }],
  ['ig', fastIg, { ...IG_OPEN, kind: 'expired-token' }],
  ['ig', fastIg, { ...IG_OPEN, kind: 'drop-after-accept' }],
  ['alpaca', () => alpacaVenue(), { ...ALPACA_OPEN, kind: 'timeout', holdMs: 3_000 }],
  ['alpaca', () => alpacaVenue(), { ...ALPACA_OPEN, kind: '5xx', status: 503, times: 2 }],
  ['alpaca', () => alpacaVenue(), { ...ALPACA_OPEN, kind: 'rate-limit', times: 2 }],
  ['alpaca', () => alpacaVenue(), { ...ALPACA_OPEN, kind: 'drop-after-accept' }],
];

describe.each(FAULT_CASES)('%s session under an injected fault', (broker, makeVenue, fault) => {
  test(`${fault.kind}${fault.acceptFirst ? ' (after the venue accepted)' : ''}: exactly one order at the broker, positions equal`, async () => {
    const venue = await makeVenue();
    const workers = await startInProcessWorkers({ brokers: { [broker]: venue.adapter } });
    const account = uniqueAccount(`f${broker.slice(0, 2)}`);
    try {
      await venue.setPrice(100);
      const handle = await startSession(
        client,
        { account, broker, tradingEnabled: true, systems: [{ id: 'ma', system: 'ma-crossover', symbol: venue.symbol, timeframe: '1m', params: { fastPeriod: 1, slowPeriod: 2, stopDistancePct: 5, quantity: 1 } }] },
        workers.taskQueue,
      );
      const frames = decisionFrames(venue.symbol, [100, 101, 100]);
      await feedPaced(workers.pool, handle, frames.slice(0, 2));
      (venue.fakeIg ?? venue.fakeAlpaca)!.inject(fault);
      await feedPaced(workers.pool, handle, frames.slice(2));

      // The fault did hit the order's submission.
      expect((venue.fakeIg ?? venue.fakeAlpaca)!.pendingFaults()).toEqual([]);
      const positions = await handle.query(positionsQuery);
      const status = await handle.query(statusQuery);
      expect(status.counters.ordersPlaced).toBe(1);
      expect(status.counters.ordersUnknown).toBe(0);
      expect(await venue.openAtVenue(account)).toBe(1);
      const atBroker = await venue.adapter.getPositions(account);
      expect(atBroker.map((p) => [p.positionRef, p.side, p.quantity])).toEqual(positions.map((p) => [p.positionRef, p.side, p.quantity]));
      expect(positions).toHaveLength(1);
      expect(positions[0]).toMatchObject({ side: 'short', quantity: 1 });
      await handle.terminate('test done');
    } finally {
      await workers.stop();
      await venue.stop();
    }
  });
});

test('an IG session trades end to end on frames from the feeder; a position changed at IG is detected, logged and adopted', async () => {
  const venue = await fastIg();
  const fake = venue.fakeIg!;
  const workers = await startInProcessWorkers({ brokers: { ig: venue.adapter } });
  const account = uniqueAccount('igfeed');
  const epic = venue.symbol;
  let feeder: WorkflowHandle | undefined;
  let session: WorkflowHandle | undefined;
  try {
    // IG's price history: the last 60 closed minutes; the quote sits at the last close.
    const tf = 60_000;
    const lastClosed = Math.floor(Date.now() / tf) * tf - tf;
    const history = generateFrames({ symbol: epic, timeframe: '1m', start: lastClosed - 59 * tf, count: 60, seed: 11, startPrice: 1.1, volatilityPct: 0.05, trendCycle: 20, trendAmplitudePct: 1 });
    await venue.addHistory(history);
    await venue.setPrice(history[59].close);
    const home = new HomeStore(workers.pool);
    await home.upsertAccount({ account, broker: 'ig', currency: 'USD' });
    await home.upsertSystemConfig(account, { id: 'ma', system: 'ma-crossover', symbol: epic, timeframe: '1m', params: { fastPeriod: 3, slowPeriod: 8, stopDistancePct: 20, quantity: 1 } });
    feeder = await client.workflow.start<typeof marketDataFeeder>('marketDataFeeder', {
      taskQueue: workers.taskQueue,
      workflowId: `${feederWorkflowId('ig', epic, '1m')}-${account}`,
      args: [{ broker: 'ig', symbol: epic, timeframe: '1m', subscribers: [account], backfillFrames: 60 }],
    });
    session = client.workflow.getHandle(sessionWorkflowId(account));
    const status = await until(() => session!.query(statusQuery), (s) => (s.lastFrames[`${epic}|1m`] ?? 0) >= history[59].start);
    expect(status.counters.framesProcessed).toBe(60);
    expect(status.counters.ordersPlaced).toBeGreaterThanOrEqual(2);
    // Every order the session placed reached IG exactly once.
    const [orders] = (await workers.pool.query(`SELECT client_order_id, intent, status FROM mt_${account}.orders WHERE seq IS NOT NULL ORDER BY seq`)) as any[];
    expect(orders.every((o: any) => o.status === 'filled')).toBe(true);
    expect(fake.orderPosts()).toBe(orders.filter((o: any) => o.intent === 'open').length);
    expect(fake.closePosts()).toBe(orders.filter((o: any) => o.intent === 'close').length);
    const positions = await session.query(positionsQuery);
    expect(fake.positions().map((p) => p.dealReference)).toEqual(positions.map((p) => p.positionRef));
    expect(positions).toHaveLength(1);

    // Behind the session's back: the position is closed on IG's web platform.
    fake.closePositionExternally(positions[0].positionRef, 'WEB');
    const report = await session.executeUpdate(reconcileUpdate, { args: [{ by: 'test', reason: 'after a manual close' }] });
    expect(report.drifts).toEqual([expect.objectContaining({ kind: 'closed-at-broker', positionRef: positions[0].positionRef, systemId: 'ma' })]);
    expect(await session.query(positionsQuery)).toEqual([]);
    const trades = await session.query(tradesQuery);
    expect(trades[trades.length - 1]).toMatchObject({ positionRef: positions[0].positionRef, exitReason: 'reconciled' });
    const after = await session.query(statusQuery);
    expect(after.lastReconciliation).toMatchObject({ drifts: 1, reason: 'after a manual close' });
    expect(after.counters.reconciliationDrifts).toBeGreaterThanOrEqual(1);
    const [[stored]] = (await workers.pool.query(`SELECT status, exit_price FROM mt_${account}.positions WHERE position_ref = ?`, [positions[0].positionRef])) as any[];
    expect(stored.status).toBe('closed');

    // A second check finds nothing left to adopt.
    const again = await session.executeUpdate(reconcileUpdate, { args: [{ by: 'test' }] });
    expect(again.drifts).toEqual([]);
  } finally {
    await feeder?.terminate('test done').catch(() => undefined);
    await session?.terminate('test done').catch(() => undefined);
    await workers.stop();
    await venue.stop();
  }
});
