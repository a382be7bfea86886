/**
 * The backtester against a LIVE paper session on the real Temporal dev server and MariaDB with the risk
 * engine's limits and protections switched on (issue 10): the same frames and the same scripted decisions
 * go through an AccountSession (session and paper-broker workers in this process) and through runBacktest,
 * and the session's stored rows in `mt_<account>` must equal the backtest's trade for trade, order for
 * order, refusal for refusal (rule, system, frame) and trading-state change for change.
 *
 * The scenario is chosen so that wall-clock and bar time cannot disagree: the loss cooldown outlasts the
 * run in both clocks, the frames lie within one UTC day (yesterday's), and the order-rate limit is lifted
 * (frames are fed far faster than one a minute live).
 */
import type { Client, Connection, WorkflowHandle } from '@temporalio/client';
import type { Pool } from 'mysql2/promise';
import { runBacktest } from '../../backtest/engine';
import { equityPoints } from '../../backtest/equity-curve';
import type { BacktestOptions, BacktestResult } from '../../backtest/types';
import { accountSchema } from '../../db/pool';
import type { Frame } from '../../market/frame';
import { riskQuery } from '../../workflows/definitions';
import { uniqueAccount } from '../support/env';
import { PAPER_TEST_CONFIG, feedPaced, startInProcessWorkers, startSession, temporalClient } from '../support/harness';
import type { Ohlc } from '../support/scripted-bars';

const SYSTEM_ID = 'sc';

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

/** 1m frames from yesterday 10:00 UTC: closed, and all within one UTC day in bar time. */
function framesOf(symbol: string, ohlc: Ohlc[]): Frame[] {
  const now = new Date();
  const start = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - 1, 10);
  return ohlc.map(([open, high, low, close], i) => ({ symbol, timeframe: '1m', start: start + i * 60_000, open, high, low, close, volume: 100 }));
}

const flatAt = (p: number): Ohlc => [p, p + 0.1, p - 0.1, p];

type Risk = Pick<BacktestOptions, 'risk' | 'protections'>;

/** Runs the frames through a live paper session; returns its stored rows shaped like the backtest's. */
async function liveRows(account: string, frames: Frame[], params: Record<string, unknown>, risk: Risk) {
  const handle = await startSession(
    client,
    { account, broker: 'paper', tradingEnabled: true, systems: [{ id: SYSTEM_ID, system: 'scripted', symbol: frames[0].symbol, timeframe: '1m', params }], risk: risk.risk, protections: risk.protections },
    workers.taskQueue,
  );
  handles.push(handle);
  await feedPaced(workers.pool, handle, frames);
  return { handle, ...(await rowsOf(workers.pool, account)) };
}

async function rowsOf(pool: Pool, account: string) {
  const db = accountSchema(account);
  const q = async (sql: string) => (await pool.query(sql))[0] as any[];
  const trades = (await q(`SELECT position_ref, exit_client_order_id, system_id, symbol, side, quantity, entry_price, exit_price, pnl, opened_at, closed_at, exit_reason FROM \`${db}\`.trades ORDER BY closed_at, position_ref`)).map((t) => ({
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
  }));
  const orders = (await q(`SELECT client_order_id, seq, side, quantity, intent, position_ref, status, fill_price, filled_at, frame_start FROM \`${db}\`.orders WHERE seq IS NOT NULL ORDER BY seq`)).map((o) => [
    o.client_order_id,
    Number(o.seq),
    o.side,
    o.quantity,
    o.intent,
    o.position_ref,
    o.status,
    o.fill_price,
    Number(o.filled_at),
    Number(o.frame_start),
  ]);
  const refusals = (await q(`SELECT refusal_id, rule, system_id, frame_start, intent, side, quantity FROM \`${db}\`.risk_refusals ORDER BY refusal_id`)).map((r) => [
    r.refusal_id,
    r.rule,
    r.system_id,
    r.frame_start === null ? null : Number(r.frame_start),
    r.intent,
    r.side,
    Number(r.quantity),
  ]);
  const stateChanges = (await q(`SELECT from_state, to_state, by_who, source FROM \`${db}\`.control_events ORDER BY seq`)).map((c) => [c.from_state, c.to_state, c.by_who, c.source]);
  const equity = (await q(`SELECT ts, equity FROM \`${db}\`.equity ORDER BY ts`)).map((e) => ({ ts: Number(e.ts), equity: e.equity }));
  return { trades, orders, refusals, stateChanges, equity };
}

/** The backtest's rows in the same shapes. */
function backtestRows(bt: BacktestResult) {
  return {
    trades: bt.trades,
    orders: bt.orders.filter((o) => o.seq !== null).map((o) => [o.clientOrderId, o.seq, o.side, o.quantity, o.intent, o.positionRef ?? null, o.status, o.fillPrice, o.filledAt, o.frameStart]),
    refusals: bt.refusals.map((r) => [r.refusalId, r.rule, r.systemId, r.frameStart, r.intent, r.side, r.quantity]),
    stateChanges: bt.tradingStateChanges.map((c) => [c.from, c.to, c.by, c.source]),
    equity: equityPoints(bt.equityCurve),
  };
}

test('with max order quantity, daily loss and loss cooldown on, a live paper session stores the trades, orders, refusals and state changes runBacktest computes', async () => {
  const account = uniqueAccount('btprk');
  const symbol = account.toUpperCase();
  const frames = framesOf(symbol, [
    flatAt(100), // 1: buy 5 → refused, max-order-quantity 3
    flatAt(100), // 2: buy 3, stop 90
    [100, 100.3, 99.4, 100.2], // 3: sell 1 → reversal: the close is a win (no cooldown), the short of 1 opens
    flatAt(100.2),
    flatAt(100), // 5: close the short
    flatAt(100), // 6: buy 3, stop 90
    [100, 100.1, 98.9, 99],
    [99, 99.1, 97.9, 98],
    [98, 98.1, 96.9, 97],
    [97, 97.1, 95.9, 96], // 10: equity down past dailyLoss.limit → reducing (a protection's state change)
    flatAt(96), // 11: sell 1 → reversal: the close passes in reducing (a loss: the cooldown locks the symbol), the entry is refused by trading-state
    flatAt(96),
    flatAt(96.5), // 13: buy 1 → refused by trading-state
    flatAt(96.5),
  ]);
  const params = {
    script: [
      { frame: 1, action: 'buy', quantity: 5 },
      { frame: 2, action: 'buy', quantity: 3, stop: 90 },
      { frame: 3, action: 'sell', quantity: 1 },
      { frame: 5, action: 'close' },
      { frame: 6, action: 'buy', quantity: 3, stop: 90 },
      { frame: 11, action: 'sell', quantity: 1 },
      { frame: 13, action: 'buy', quantity: 1 },
    ],
  };
  const risk: Risk = {
    risk: { maxOrderQuantity: 3, maxOrdersPerMinute: 100_000 },
    protections: { dailyLoss: { limit: 10 }, lossCooldown: { minutes: 24 * 60 } },
  };
  const bt = runBacktest({ frames, system: 'scripted', params, paper: PAPER_TEST_CONFIG, account, systemId: SYSTEM_ID, ...risk });
  const expected = backtestRows(bt);
  // The scenario must refuse and protect, or this proves little.
  expect(expected.refusals.map((r) => [r[1], r[3]])).toEqual([
    ['max-order-quantity', frames[0].start],
    ['trading-state', frames[10].start],
    ['trading-state', frames[12].start],
  ]);
  expect(expected.stateChanges).toEqual([['active', 'reducing', 'protection:daily-loss', 'protection']]);
  expect(bt.trades.map((t) => t.exitReason)).toEqual(['reverse', 'signal', 'reverse']);
  expect(bt.trades[2].pnl).toBeLessThan(0);

  const live = await liveRows(account, frames, params, risk);
  expect(live.trades).toEqual(expected.trades);
  expect(live.orders).toEqual(expected.orders);
  expect(live.refusals).toEqual(expected.refusals);
  expect(live.stateChanges).toEqual(expected.stateChanges);
  expect(live.equity).toEqual(expected.equity);
  // The losing exit's cooldown lock is in force live (the backtest's refusals show it would refuse next).
  const riskView = await live.handle.query(riskQuery);
  expect(riskView.tradingState).toBe('reducing');
  expect(riskView.locks).toEqual([expect.objectContaining({ kind: 'loss-cooldown', symbol })]);
}, 300_000);

test('a loss cooldown refuses the next entry on the symbol in both, refusal for refusal', async () => {
  const account = uniqueAccount('btprc');
  const symbol = account.toUpperCase();
  const frames = framesOf(symbol, [flatAt(100), flatAt(100), flatAt(99), flatAt(99), flatAt(99.5), flatAt(99.5), flatAt(100), flatAt(100)]);
  const params = {
    script: [
      { frame: 1, action: 'buy', quantity: 2 },
      { frame: 3, action: 'sell', quantity: 2 }, // the close loses → locked; the short entry is refused by loss-cooldown
      { frame: 5, action: 'buy', quantity: 1 }, // still locked
      { frame: 7, action: 'sell', quantity: 4 }, // max-order-quantity is checked after the lock: loss-cooldown again
    ],
  };
  const risk: Risk = { risk: { maxOrderQuantity: 3, maxOrdersPerMinute: 100_000 }, protections: { lossCooldown: { minutes: 24 * 60 } } };
  const bt = runBacktest({ frames, system: 'scripted', params, paper: PAPER_TEST_CONFIG, account, systemId: SYSTEM_ID, ...risk });
  const expected = backtestRows(bt);
  expect(expected.refusals.map((r) => [r[1], r[3]])).toEqual([
    ['loss-cooldown', frames[2].start],
    ['loss-cooldown', frames[4].start],
    ['loss-cooldown', frames[6].start],
  ]);
  const live = await liveRows(account, frames, params, risk);
  expect(live.trades).toEqual(expected.trades);
  expect(live.orders).toEqual(expected.orders);
  expect(live.refusals).toEqual(expected.refusals);
  expect(live.stateChanges).toEqual([]);
  expect(live.equity).toEqual(expected.equity);
}, 300_000);

// A live session fixes its limits at start from the broker's balance (maxOrderNotional 10% and maxTotalExposure
// 100% where the config leaves them out); runBacktest fixes the same from its starting balance.
test('the default money limits (maxOrderNotional 10% of the balance where absent) refuse the same entries in both', async () => {
  const account = uniqueAccount('btprd');
  const symbol = account.toUpperCase();
  const frames = framesOf(symbol, [flatAt(100), flatAt(100), flatAt(100), flatAt(100)]);
  // 150 × 100 = 15,000: over 10% of the 100,000 balance. 50 × 100 = 5,000 passes.
  const params = { script: [{ frame: 1, action: 'buy', quantity: 150 }, { frame: 3, action: 'buy', quantity: 50 }] };
  const risk: Risk = { risk: { maxOrdersPerMinute: 100_000 } };
  const bt = runBacktest({ frames, system: 'scripted', params, paper: PAPER_TEST_CONFIG, account, systemId: SYSTEM_ID, ...risk });
  const expected = backtestRows(bt);
  const live = await liveRows(account, frames, params, risk);
  expect(live.refusals.map((r) => [r[1], r[3]])).toEqual([['max-order-notional', frames[0].start]]);
  expect(live.refusals).toEqual(expected.refusals);
  expect(live.orders).toEqual(expected.orders);
}, 300_000);
