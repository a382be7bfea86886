/**
 * Pre-trade risk checks (issue 6) in a real session on the Temporal dev server and MariaDB, with the
 * paper venue: each rule refuses exactly the intents it should, names itself and its numbers in
 * `mt_<account>.risk_refusals`, and a refused intent never reaches the broker.
 */
import type { Frame } from '../../market/frame';
import { accountSchema } from '../../db/pool';
import { riskQuery, statusQuery } from '../../workflows/definitions';
import type { RiskLimits } from '../../risk/limits';
import { uniqueAccount } from '../support/env';
import { feedPaced, startInProcessWorkers, startSession } from '../support/harness';
import { accountRows } from '../support/account-rows';

type Step = { frame: number; action: 'buy' | 'sell' | 'close'; quantity?: number };

let workers: Awaited<ReturnType<typeof startInProcessWorkers>>;
beforeAll(async () => {
  workers = await startInProcessWorkers();
});
afterAll(async () => {
  await workers?.stop();
});

const BASE = Date.UTC(2026, 0, 5, 9, 0);

/** Flat frames around 100: every market order fills near 100, no stop is ever reached. */
function flatFrames(symbol: string, count: number, price = 100): Frame[] {
  return Array.from({ length: count }, (_, i) => ({
    symbol,
    timeframe: '1m' as const,
    start: BASE + i * 60_000,
    open: price,
    high: price + 0.05,
    low: price - 0.05,
    close: price,
    volume: 10,
  }));
}

/** Runs scripted systems (id → steps) on one stream under the given limits; returns what was recorded. */
async function runScripted(prefix: string, risk: Partial<RiskLimits>, scripts: Record<string, Step[]>, opts: { frames?: number; instrument?: { min: number; step: number; tradable?: boolean } } = {}) {
  const account = uniqueAccount(prefix);
  const symbol = account.toUpperCase();
  if (opts.instrument) {
    await workers.pool.query(
      `INSERT INTO maopaper.instruments (symbol, min_quantity, quantity_step, tradable, market_status) VALUES (?,?,?,?,?)`,
      [symbol, opts.instrument.min, opts.instrument.step, opts.instrument.tradable === false ? 0 : 1, opts.instrument.tradable === false ? 'CLOSED' : 'TRADEABLE'],
    );
  }
  const handle = await startSession(
    workers.client,
    {
      account,
      broker: 'paper',
      tradingEnabled: true,
      risk,
      systems: Object.entries(scripts).map(([id, script]) => ({ id, system: 'scripted', symbol, timeframe: '1m' as const, params: { script } })),
    },
    workers.taskQueue,
  );
  const frameCount = opts.frames ?? Math.max(...Object.values(scripts).flat().map((s) => s.frame)) + 1;
  await feedPaced(workers.pool, handle, flatFrames(symbol, frameCount));
  const [refusals] = (await workers.pool.query(
    `SELECT refusal_id, system_id, side, quantity, intent, rule, detail, numbers, frame_start FROM \`${accountSchema(account)}\`.risk_refusals ORDER BY refusal_id`,
  )) as any[];
  const rows = await accountRows(workers.pool, account);
  const status = await handle.query(statusQuery);
  const risk_ = await handle.query(riskQuery);
  await handle.terminate('test done');
  // A refused intent never reaches the broker: the venue's ledger holds exactly the session's executed orders.
  expect(rows.paperOrders.map((o: any) => o.client_order_id).sort()).toEqual(rows.orders.map((o: any) => o.client_order_id).sort());
  expect(status.counters.ordersRefused).toBe(refusals.length);
  return { account, handle, refusals, rows, status, risk: risk_, frameStart: (n: number) => BASE + (n - 1) * 60_000 };
}

const entries = (rows: any) => rows.orders.filter((o: any) => o.intent === 'open');

test('max-order-quantity refuses an order over the limit and lets one at the limit through', async () => {
  const r = await runScripted('rq', { maxOrderQuantity: 10 }, { a: [{ frame: 1, action: 'buy', quantity: 11 }, { frame: 2, action: 'buy', quantity: 10 }] });
  expect(r.refusals.map((x: any) => [x.system_id, x.rule, Number(x.quantity), x.intent, Number(x.frame_start)])).toEqual([['a', 'max-order-quantity', 11, 'open', r.frameStart(1)]]);
  expect(r.refusals[0].detail).toMatch(/11.*maxOrderQuantity 10|maxOrderQuantity.*10/);
  expect(r.refusals[0].numbers).toMatchObject({ limit: 10 });
  expect(entries(r.rows)).toHaveLength(1);
  expect(r.risk.lastRefusals.map((x) => x.rule)).toEqual(['max-order-quantity']);
});

test('max-order-notional refuses quantity × price over the limit', async () => {
  const r = await runScripted('rn', { maxOrderNotional: 1000 }, { a: [{ frame: 1, action: 'buy', quantity: 11 }, { frame: 2, action: 'buy', quantity: 10 }] });
  expect(r.refusals.map((x: any) => x.rule)).toEqual(['max-order-notional']);
  expect(r.refusals[0].numbers).toMatchObject({ limit: 1000 });
  expect(entries(r.rows)).toHaveLength(1);
});

test('max-position-per-symbol nets every system of the account on the symbol', async () => {
  const r = await runScripted('rp', { maxPositionPerSymbol: 10 }, {
    a: [{ frame: 1, action: 'buy', quantity: 6 }],
    b: [{ frame: 2, action: 'buy', quantity: 5 }, { frame: 3, action: 'buy', quantity: 4 }],
  });
  expect(r.refusals.map((x: any) => [x.system_id, x.rule, Number(x.quantity)])).toEqual([['b', 'max-position-per-symbol', 5]]);
  expect(entries(r.rows)).toHaveLength(2);
});

test('max-total-exposure counts every open position at its mark plus the new order', async () => {
  const r = await runScripted('rx', { maxTotalExposure: 1500 }, {
    a: [{ frame: 1, action: 'buy', quantity: 10 }],
    b: [{ frame: 2, action: 'sell', quantity: 6 }, { frame: 3, action: 'sell', quantity: 5 }],
  });
  expect(r.refusals.map((x: any) => [x.system_id, x.rule, Number(x.quantity)])).toEqual([['b', 'max-total-exposure', 6]]);
  expect(entries(r.rows)).toHaveLength(2);
});

test('max-open-positions refuses a third entry; a close always passes and frees a slot', async () => {
  const r = await runScripted('ro', { maxOpenPositions: 2 }, {
    a: [{ frame: 1, action: 'buy' }, { frame: 4, action: 'close' }],
    b: [{ frame: 2, action: 'buy' }],
    c: [{ frame: 3, action: 'buy' }, { frame: 5, action: 'buy' }],
  });
  expect(r.refusals.map((x: any) => [x.system_id, x.rule, Number(x.frame_start)])).toEqual([['c', 'max-open-positions', r.frameStart(3)]]);
  expect(r.rows.trades).toHaveLength(1);
  expect(r.rows.paperOpen).toHaveLength(2);
});

test('max-orders-per-minute refuses entries over the rate, never the closes', async () => {
  const r = await runScripted('rr', { maxOrdersPerMinute: 3 }, {
    a: [
      { frame: 1, action: 'buy' },
      { frame: 2, action: 'close' },
      { frame: 3, action: 'buy' },
      { frame: 4, action: 'close' },
      { frame: 5, action: 'buy' },
    ],
  });
  // Orders 1–3 pass; the 4th is a close (passes over the rate); the 5th, an entry, is refused.
  expect(r.refusals.map((x: any) => [x.rule, x.intent, Number(x.frame_start)])).toEqual([['max-orders-per-minute', 'open', r.frameStart(5)]]);
  expect(r.rows.orders).toHaveLength(4);
  expect(r.refusals[0].numbers).toMatchObject({ limit: 3 });
});

test('instrument rules come from the broker: minimum quantity and quantity step', async () => {
  const r = await runScripted('ri', {}, {
    a: [{ frame: 1, action: 'buy', quantity: 1 }, { frame: 2, action: 'buy', quantity: 2.25 }, { frame: 3, action: 'buy', quantity: 2.5 }],
  }, { instrument: { min: 2, step: 0.5 } });
  expect(r.refusals.map((x: any) => [x.rule, Number(x.quantity)])).toEqual([['min-quantity', 1], ['quantity-step', 2.25]]);
  expect(entries(r.rows)).toHaveLength(1);
  // Three entries within a minute: the broker was asked for the instrument once (details trusted for 60 s).
  const history = await r.handle.fetchHistory();
  const lookups = history.events!.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'getInstrument');
  expect(lookups).toHaveLength(1);
});

test('a market the broker reports closed refuses entries', async () => {
  const r = await runScripted('rc', {}, { a: [{ frame: 1, action: 'buy' }] }, { instrument: { min: 0, step: 0, tradable: false } });
  expect(r.refusals.map((x: any) => x.rule)).toEqual(['instrument-closed']);
  expect(r.refusals[0].detail).toMatch(/CLOSED/);
  expect(r.rows.orders).toHaveLength(0);
});

test('a session without limits configured runs on the defaults and refuses nothing in normal trading', async () => {
  const r = await runScripted('rd', {}, { a: [{ frame: 1, action: 'buy' }, { frame: 2, action: 'sell' }, { frame: 3, action: 'close' }] });
  expect(r.refusals).toEqual([]);
  expect(r.risk.limits).toMatchObject({ maxOpenPositions: 20, maxOrdersPerMinute: 30, checkInstrument: true });
  expect(r.rows.trades.map((t: any) => t.exit_reason)).toEqual(['reverse', 'signal']);
});
