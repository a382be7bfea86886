/**
 * The backtester against a LIVE paper session on the real Temporal dev server and MariaDB: the same
 * frames go through an AccountSession (session and paper-broker workers in this process) and through
 * runBacktest, and the session's stored rows in `mt_<account>` must equal the backtest's, field for
 * field: trades, orders (market orders, protective stop legs), working orders and the equity curve.
 * Once with ma-crossover (market entries, stops, reversals), once with channel-breakout (stop entries
 * that trigger or expire, brackets, trailing stops, stops that cannot be placed).
 */
import type { Client, Connection, WorkflowHandle } from '@temporalio/client';
import { runBacktest } from '../../backtest/engine';
import { generateFrames } from '../../market/synthetic';
import { accountSchema } from '../../db/pool';
import { uniqueAccount } from '../support/env';
import { PAPER_TEST_CONFIG, feedPaced, startInProcessWorkers, startSession, temporalClient } from '../support/harness';
import { equityPoints } from '../../backtest/equity-curve';
import type { BacktestResult } from '../../backtest/types';
import type { Frame } from '../../market/frame';

/** Short averages on a trendless random walk: entries, reversals and stops within a couple of hundred bars. */
const PARAMS = { fastPeriod: 2, slowPeriod: 5, stopDistancePct: 0.3 };
const SYSTEM_ID = 'ma';

let workers: Awaited<ReturnType<typeof startInProcessWorkers>>;
let client: Client;
let connection: Connection;
const handles: WorkflowHandle[] = [];

beforeAll(async () => {
  workers = await startInProcessWorkers({ paper: PAPER_TEST_CONFIG });
  ({ client, connection } = await temporalClient());
});

afterAll(async () => {
  for (const h of handles) await h.terminate('test file done').catch(() => undefined);
  await connection?.close();
  await workers?.stop();
});

/** Feeds `frames` to a live paper session running `system` and compares its stored rows with `bt`, field for field. */
async function expectLiveEquals(account: string, system: string, params: Record<string, unknown>, frames: Frame[], bt: BacktestResult): Promise<void> {
  const handle = await startSession(
    client,
    {
      account,
      broker: 'paper',
      tradingEnabled: true,
      systems: [{ id: SYSTEM_ID, system, symbol: frames[0].symbol, timeframe: '1m', params }],
      // The frames arrive far faster than 1m apart: the order-rate limit (workflow time) would refuse
      // entries a real-time session makes. The backtester has no risk engine to compare with.
      risk: { maxOrdersPerMinute: 100_000 },
    },
    workers.taskQueue,
  );
  handles.push(handle);
  await feedPaced(workers.pool, handle, frames);

  const db = accountSchema(account);
  const q = async (sql: string) => (await workers.pool.query(sql))[0] as any[];
  const trades = await q(
    `SELECT position_ref, exit_client_order_id, system_id, symbol, side, quantity, entry_price, exit_price, pnl, opened_at, closed_at, exit_reason
     FROM \`${db}\`.trades ORDER BY closed_at, position_ref`,
  );
  expect(
    trades.map((t) => ({
      positionRef: t.position_ref,
      exitClientOrderId: t.exit_client_order_id,
      systemId: t.system_id,
      symbol: t.symbol,
      side: t.side,
      quantity: t.quantity,
      entryPrice: t.entry_price,
      exitPrice: t.exit_price,
      pnl: t.pnl,
      openedAt: Number(t.opened_at),
      closedAt: Number(t.closed_at),
      exitReason: t.exit_reason,
    })),
  ).toEqual(bt.trades);

  // Market orders (entries and exits, each with its seq): every field.
  const orders = await q(
    `SELECT client_order_id, seq, side, quantity, intent, position_ref, stop_level, status, fill_price, filled_at, frame_start, reason
     FROM \`${db}\`.orders WHERE seq IS NOT NULL ORDER BY seq`,
  );
  expect(orders.map((o) => [o.client_order_id, Number(o.seq), o.side, o.quantity, o.intent, o.position_ref, o.stop_level, o.status, o.fill_price, Number(o.filled_at), Number(o.frame_start), o.reason])).toEqual(
    bt.orders
      .filter((o) => o.seq !== null)
      .map((o) => [o.clientOrderId, o.seq, o.side, o.quantity, o.intent, o.positionRef ?? null, o.stopLevel ?? null, o.status, o.fillPrice, o.filledAt, o.frameStart, o.reason ?? null]),
  );

  // Protective stop legs (`<ref>-S`, one row each, updated in place): the session records one for every
  // entry with a stop, working → filled | cancelled (or rejected); the backtest lists those that filled or
  // were refused. Filled and refused legs must match field for field; every other leg of a closed
  // position was cancelled, and the leg of the position still open is working.
  const legs = await q(
    `SELECT client_order_id, side, quantity, position_ref, stop_level, status, fill_price, filled_at, reason
     FROM \`${db}\`.orders WHERE seq IS NULL ORDER BY client_order_id`,
  );
  const settled = new Map(bt.orders.filter((o) => o.kind === 'stop').map((o) => [o.clientOrderId, o]));
  const expectedLegs = bt.orders
    .filter((o) => o.kind === 'entry')
    .map((e) => {
      const id = `${e.clientOrderId}-S`;
      const s = settled.get(id);
      const status = s ? s.status : bt.openPosition?.positionRef === e.clientOrderId ? 'working' : 'cancelled';
      return [id, status, s?.fillPrice ?? null, s?.filledAt ?? null, s ? s.reason : expect.anything()];
    })
    .sort((a, b) => String(a[0]).localeCompare(String(b[0])));
  expect(legs.map((l) => [l.client_order_id, l.status, l.fill_price, l.filled_at === null ? null : Number(l.filled_at), l.reason])).toEqual(expectedLegs);
  expect(legs.every((l) => l.stop_level !== null && l.position_ref === l.client_order_id.slice(0, -2))).toBe(true);

  const equity = await q(`SELECT ts, equity FROM \`${db}\`.equity ORDER BY ts`);
  expect(equity.map((e) => ({ ts: Number(e.ts), equity: e.equity }))).toEqual(equityPoints(bt.equityCurve));

  const open = await q(`SELECT position_ref, side, entry_price FROM \`${db}\`.positions WHERE status = 'open'`);
  expect(open.map((p) => [p.position_ref, p.side, p.entry_price])).toEqual(
    bt.openPosition ? [[bt.openPosition.positionRef, bt.openPosition.side, bt.openPosition.entryPrice]] : [],
  );
}

test('a live paper session stores exactly the trades, orders and equity that runBacktest computes', async () => {
  const account = uniqueAccount('btpar');
  const frames = generateFrames({ symbol: account.toUpperCase(), timeframe: '1m', count: 180, seed: 21, trendCycle: 0, volatilityPct: 0.3 });
  const bt = runBacktest({ frames, system: 'ma-crossover', params: PARAMS, paper: PAPER_TEST_CONFIG, account, systemId: SYSTEM_ID });
  // The frames must exercise entries, reversals and stops, or this proves little.
  expect(bt.trades.length).toBeGreaterThanOrEqual(10);
  expect(bt.trades.some((t) => t.exitReason === 'stop')).toBe(true);
  expect(bt.trades.some((t) => t.exitReason === 'reverse')).toBe(true);
  await expectLiveEquals(account, 'ma-crossover', PARAMS, frames, bt);
}, 300_000);

test('brackets, trailing stops and stop entries (channel-breakout): the same trades, orders, working orders and equity live', async () => {
  const account = uniqueAccount('btpcb');
  // Frames that have all closed (a session refuses a frame that ends after its time), from a whole hour
  // four hours ago: 200 minutes fit. The session's timer backstop for working orders counts from workflow
  // time (now + expiry + 2 bars), so frames fed fast expire by frames, as in the backtester.
  const start = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 4 * 3_600_000;
  const frames = generateFrames({ symbol: account.toUpperCase(), timeframe: '1m', count: 200, seed: 21, trendCycle: 0, volatilityPct: 0.3, start });
  const params = { period: 5, stopPct: 0.4, takeProfitPct: 0.5, trailingStopPct: 0.3 };
  const bt = runBacktest({ frames, system: 'channel-breakout', params, paper: PAPER_TEST_CONFIG, account, systemId: SYSTEM_ID });
  // Every new order feature must occur, or this proves little.
  const reasons = new Set(bt.trades.map((t) => t.exitReason));
  expect([...reasons].sort()).toEqual(['stop', 'stop-failed', 'take-profit', 'trailing-stop']);
  expect(new Set(bt.workingOrders.map((w) => w.status))).toEqual(new Set(['triggered', 'expired']));
  await expectLiveEquals(account, 'channel-breakout', params, frames, bt);

  const wos = await workers.pool.query(
    `SELECT ref, side, type, price, stop_level, take_profit, trailing_stop, created_at, expires_at, status FROM \`${accountSchema(account)}\`.working_orders ORDER BY ref`,
  );
  expect((wos[0] as any[]).map((w) => [w.ref, w.side, w.type, w.price, w.stop_level, w.take_profit, w.trailing_stop, Number(w.created_at), Number(w.expires_at), w.status])).toEqual(
    bt.workingOrders.map((w) => [w.ref, w.side, w.type, w.price, w.stop ?? null, w.takeProfit ?? null, w.trailingStop ?? null, w.createdAt, w.expiresAt, w.status]),
  );
}, 300_000);
