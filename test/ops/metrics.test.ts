/**
 * Prometheus metrics: the registry's app metrics (units), and `/metrics` of real worker processes
 * started with METRICS_PORT: order counters move after an order, the breaker gauge and the Temporal
 * SDK's runtime metrics are exported.
 */
import net from 'node:net';
import type { Client, Connection, WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { BrokerAdapter, OrderReport, OrderRequest } from '../../brokers/adapter';
import { BrokerUnavailableError } from '../../brokers/errors';
import { CircuitBreakingAdapter } from '../../brokers/resilience';
import { createMetrics, instrumentBrokerActivities, instrumentSessionActivities, startMetricsServer } from '../../ops/metrics';
import { createPool, type Pool } from '../../db/pool';
import { generateFrames } from '../../market/synthetic';
import { statusQuery } from '../../workflows/definitions';
import { TEST_ENV, uniqueAccount } from '../support/env';
import { PAPER_TEST_CONFIG, feedPaced, startSession, temporalClient } from '../support/harness';
import { WorkerProcess } from '../support/worker-processes';

/** The value of one sample in Prometheus text format, 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const m = /^[^{ ]+(\{[^}]*\})?\s+(\S+)$/.exec(line);
    if (!m) continue;
    const got = Object.fromEntries([...(m[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[2]);
  }
  return 0;
}

const order = (n: number): OrderRequest =>
  ({ account: 'acc', clientOrderId: `acc-${n}`, symbol: 'X', side: 'buy', quantity: 1 }) as unknown as OrderRequest;
const report = (status: OrderReport['status']): OrderReport =>
  ({ clientOrderId: 'acc-1', brokerOrderId: 'b', status, symbol: 'X', side: 'buy', quantity: 1, filledQuantity: 1, fillPrice: 1, filledAt: 1 }) as OrderReport;

describe('registry', () => {
  test('placeOrder wrapper counts placed, rejected (report or non-retryable failure) and failed attempts by broker', async () => {
    const m = createMetrics('test');
    const results: (() => Promise<OrderReport>)[] = [
      async () => report('filled'),
      async () => report('pending'),
      async () => report('rejected'),
      async () => report('dry-run'),
      async () => {
        throw ApplicationFailure.nonRetryable('insufficient funds', 'OrderRejectedError');
      },
      async () => {
        throw ApplicationFailure.retryable('503', 'BrokerUnavailableError');
      },
    ];
    let i = 0;
    const acts = instrumentBrokerActivities({ placeOrder: async (_o: OrderRequest) => results[i++](), getOrder: async () => null }, m, 'ig');
    for (let n = 0; n < results.length; n++) await acts.placeOrder(order(n)).catch(() => undefined);
    const text = await m.registry.metrics();
    expect(sample(text, 'maotrade_orders_placed_total', { broker: 'ig' })).toBe(2);
    expect(sample(text, 'maotrade_orders_rejected_total', { broker: 'ig' })).toBe(2);
    expect(sample(text, 'maotrade_order_attempts_failed_total', { broker: 'ig' })).toBe(1);
    expect(sample(text, 'maotrade_orders_placed_total', { broker: 'paper' })).toBe(0);
    expect(text).toContain('service="test"');
  });

  test('breaker gauge reads the CircuitBreakingAdapter on every scrape: 0 closed, 2 open', async () => {
    const m = createMetrics('test');
    const failing = { name: 'flaky', capabilities: {}, getLatestPrice: async () => { throw new BrokerUnavailableError('down', 'flaky'); } } as unknown as BrokerAdapter;
    const log = { error() {}, warn() {}, info() {} };
    const adapter = new CircuitBreakingAdapter(failing, log, { consecutiveFailures: 2, halfOpenAfterMs: 60_000 });
    m.watchBreaker(adapter);
    expect(sample(await m.registry.metrics(), 'maotrade_breaker_state', { broker: 'flaky' })).toBe(0);
    for (let n = 0; n < 2; n++) await adapter.getLatestPrice('X').catch(() => undefined);
    expect(adapter.state).toBe('open');
    expect(sample(await m.registry.metrics(), 'maotrade_breaker_state', { broker: 'flaky' })).toBe(2);
    // A fake source whose state moves: half-open is 1.
    const source = { name: 'fake', state: 'half-open' as const };
    m.watchBreaker(source);
    expect(sample(await m.registry.metrics(), 'maotrade_breaker_state', { broker: 'fake' })).toBe(1);
  });

  test('session wrapper: fills, P&L gauge and frame lag from recorded outcomes and stored frames', async () => {
    const m = createMetrics('test');
    const now = Date.now();
    const acts = instrumentSessionActivities(
      { recordOutcome: async (_a: string, _o: unknown) => undefined, storeFrames: async (_f: unknown[]) => undefined },
      m,
      () => 60_000,
    );
    await acts.recordOutcome('acc', <never>{
      orders: [],
      fills: [{}, {}] as never,
      openedPositions: [],
      trades: [],
      systemStates: [],
      equity: { ts: now - 3_000, balance: 1000, realisedPnl: 12.5, unrealisedPnl: -2.5, equity: 1010 },
    });
    await acts.storeFrames([{ start: now - 120_000, timeframe: '1m' }]);
    const text = await m.registry.metrics();
    expect(sample(text, 'maotrade_fills_total', { account: 'acc' })).toBe(2);
    expect(sample(text, 'maotrade_pnl', { account: 'acc', kind: 'total' })).toBe(10);
    expect(sample(text, 'maotrade_pnl', { account: 'acc', kind: 'unrealised' })).toBe(-2.5);
    expect(sample(text, 'maotrade_frame_lag_seconds_count', { stage: 'session' })).toBe(1);
    expect(sample(text, 'maotrade_frame_lag_seconds_bucket', { stage: 'session', le: '2' })).toBe(0);
    expect(sample(text, 'maotrade_frame_lag_seconds_bucket', { stage: 'session', le: '5' })).toBe(1);
    expect(sample(text, 'maotrade_frame_lag_seconds_bucket', { stage: 'feeder', le: '30' })).toBe(0);
    expect(sample(text, 'maotrade_frame_lag_seconds_bucket', { stage: 'feeder', le: '120' })).toBe(1);
  });

  test('the HTTP endpoint serves /metrics and 404s elsewhere', async () => {
    const m = createMetrics('test');
    m.ordersPlaced.inc({ broker: 'paper' }, 3);
    const server = await startMetricsServer(m.registry, 0, '127.0.0.1');
    try {
      const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/plain');
      expect(sample(await res.text(), 'maotrade_orders_placed_total', { broker: 'paper' })).toBe(3);
      expect((await fetch(`http://127.0.0.1:${server.port}/other`)).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});

/** Two consecutive free ports (app metrics, SDK metrics). */
async function freePortPair(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    const free = await Promise.all([port, port + 1].map((p) => new Promise<boolean>((resolve) => {
      const s = net.createServer().once('error', () => resolve(false)).listen(p, '0.0.0.0', () => s.close(() => resolve(true)));
    })));
    if (free.every(Boolean)) return port;
  }
  throw new Error('no free port pair');
}

describe('worker processes with METRICS_PORT', () => {
  const PAPER_ENV = { PAPER_SPREAD_BPS: String(PAPER_TEST_CONFIG.spreadBps), PAPER_SLIPPAGE_BPS: String(PAPER_TEST_CONFIG.slippageBps) };
  let sessionWorker: WorkerProcess;
  let brokerWorker: WorkerProcess;
  let sessionPort: number;
  let brokerPort: number;
  let pool: Pool;
  let client: Client;
  let connection: Connection;
  const handles: WorkflowHandle[] = [];

  beforeAll(async () => {
    sessionPort = await freePortPair();
    brokerPort = await freePortPair();
    sessionWorker = new WorkerProcess('session', { ...PAPER_ENV, METRICS_PORT: String(sessionPort) });
    brokerWorker = new WorkerProcess('broker-paper', { ...PAPER_ENV, METRICS_PORT: String(brokerPort) });
    await Promise.all([sessionWorker.start(), brokerWorker.start()]);
    pool = createPool(TEST_ENV.MYSQL_URL);
    ({ client, connection } = await temporalClient());
  });
  afterAll(async () => {
    await Promise.all(handles.map((h) => h.terminate('test done').catch(() => undefined)));
    await Promise.all([sessionWorker?.stop(), brokerWorker?.stop()]);
    await connection?.close();
    await pool?.end();
  });

  const scrape = async (port: number) => {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(res.status).toBe(200);
    return res.text();
  };

  test('orders placed by sessions raise the broker worker counter; fills and P&L show on the session worker; breaker closed', async () => {
    const before = await scrape(brokerPort);
    expect(before).toContain('# TYPE maotrade_orders_placed_total counter');
    expect(before).toMatch(/maotrade_breaker_state\{[^}]*broker="paper"[^}]*\} 0/);
    const placedBefore = sample(before, 'maotrade_orders_placed_total', { broker: 'paper' });

    // Other test runs may poll `maotrade-sessions` and `broker-paper` too, so a session's tasks can go
    // to their workers: run sessions until one of this file's orders and fills went through these processes.
    const accounts: string[] = [];
    let ordersPlaced = 0;
    let placedAfter = placedBefore;
    let session = '';
    const mineWithFills = () => accounts.filter((a) => sample(session, 'maotrade_fills_total', { account: a }) > 0);
    for (let round = 0; round < 8 && (placedAfter === placedBefore || mineWithFills().length === 0); round++) {
      const account = uniqueAccount('metrics');
      accounts.push(account);
      const symbol = account.toUpperCase();
      const frames = generateFrames({ symbol, timeframe: '1m', count: 40, seed: 3, trendCycle: 0, volatilityPct: 0.3 });
      const handle = await startSession(client, {
        account,
        broker: 'paper',
        tradingEnabled: true,
        systems: [{ id: 'ma', system: 'ma-crossover', symbol, timeframe: '1m', params: { fastPeriod: 2, slowPeriod: 5, stopDistancePct: 0.5 } }],
      });
      handles.push(handle);
      await feedPaced(pool, handle, frames);
      ordersPlaced += (await handle.query(statusQuery)).counters.ordersPlaced;
      placedAfter = sample(await scrape(brokerPort), 'maotrade_orders_placed_total', { broker: 'paper' });
      session = await scrape(sessionPort);
    }
    expect(ordersPlaced).toBeGreaterThanOrEqual(2);
    expect(placedAfter).toBeGreaterThan(placedBefore);
    expect((await scrape(brokerPort))).toMatch(/service="broker-paper"/);

    const [account] = mineWithFills();
    expect(account).toBeDefined();
    expect(session).toMatch(new RegExp(`maotrade_pnl\\{[^}]*account="${account}"[^}]*kind="total"[^}]*\\} -?[0-9.e+-]+`));
    expect(sample(session, 'maotrade_frame_lag_seconds_count', { stage: 'session' })).toBeGreaterThanOrEqual(1);
  });

  test("the Temporal SDK's runtime metrics on METRICS_PORT + 1", async () => {
    const text = await scrape(brokerPort + 1);
    expect(text).toMatch(/^temporal_\w+/m);
    expect(text).toMatch(/temporal_\w*poll\w*/);
  });
});
