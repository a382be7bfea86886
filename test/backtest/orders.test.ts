/**
 * The backtester's richer orders, bar by bar with a scripted system (the spec's "Per-frame order"):
 * brackets, trailing stops, limit/stop entries that trigger or expire, and the stop that cannot be placed.
 */
import { runBacktest } from '../../backtest/engine';
import type { BacktestResult } from '../../backtest/types';
import type { Decision } from '../../systems/types';
import { bars, EXACT, flat, MIN, scripted, T0 } from './scripted';

const run = (script: Record<number, Decision>, frames: ReturnType<typeof bars>, paper: object = EXACT) => {
  const system = scripted(script);
  return { r: runBacktest({ frames, system, paper }), seen: system.seen };
};
const orderRows = (r: BacktestResult) => r.orders.map((o) => [o.clientOrderId, o.seq, o.kind, o.side, o.intent, o.status, o.fillPrice, o.frameIndex]);
const tradeRows = (r: BacktestResult) => r.trades.map((t) => [t.positionRef, t.exitClientOrderId, t.side, t.entryPrice, t.exitPrice, t.pnl, t.exitReason]);

describe('bracket (protective stop + take-profit)', () => {
  const bracket: Decision = { action: 'buy', quantity: 1, stop: 95, takeProfit: 105 };

  test('the take-profit fills: a market close at the bar\'s close; the stop leg never fills afterwards', () => {
    const { r } = run({ 0: bracket }, bars(flat(100), [100, 103, 99, 102], [102, 106, 101, 104], [104, 104, 90, 91]));
    expect(orderRows(r)).toEqual([
      ['backtest-000001', 1, 'entry', 'buy', 'open', 'filled', 100, 0],
      ['backtest-000002', 2, 'take-profit', 'sell', 'close', 'filled', 104, 2],
    ]);
    expect(tradeRows(r)).toEqual([['backtest-000001', 'backtest-000002', 'long', 100, 104, 4, 'take-profit']]);
    expect(r.trades[0]).toMatchObject({ openedAt: T0, closedAt: T0 + 2 * MIN });
    // The entry goes without its stop; the stop is placed as a step of its own.
    expect(r.orders[0].stopLevel).toBeUndefined();
    expect(r.openPosition).toBeNull();
  });

  test('the stop fills (before the take-profit when one bar reaches both); the take-profit never fills afterwards', () => {
    const { r } = run({ 0: bracket }, bars(flat(100), [100, 101, 96, 97], [96, 106, 94, 103], [103, 110, 100, 108]));
    expect(orderRows(r)).toEqual([
      ['backtest-000001', 1, 'entry', 'buy', 'open', 'filled', 100, 0],
      ['backtest-000001-S', null, 'stop', 'sell', 'close', 'filled', 95, 2],
    ]);
    expect(r.orders[1]).toMatchObject({ stopLevel: 95, reason: 'protective stop', filledAt: T0 + 3 * MIN });
    expect(tradeRows(r)).toEqual([['backtest-000001', 'backtest-000001-S', 'long', 100, 95, -5, 'stop']]);
  });

  test('short bracket: a gap up through the stop fills at the open; the system sees the stop on its position', () => {
    const { r, seen } = run({ 0: { action: 'sell', quantity: 2, stop: 105, takeProfit: 95 } }, bars(flat(100), [101, 104, 99, 103], [107, 108, 106, 107.5]));
    expect(seen).toEqual([null, 'short@100 stop 105', null]);
    expect(tradeRows(r)).toEqual([['backtest-000001', 'backtest-000001-S', 'short', 100, 107, -14, 'stop']]);
  });

  test('short take-profit, reached by the low', () => {
    const { r } = run({ 0: { action: 'sell', quantity: 1, stop: 105, takeProfit: 95 } }, bars(flat(100), [99, 100, 94.5, 96]));
    expect(tradeRows(r)).toEqual([['backtest-000001', 'backtest-000002', 'short', 100, 96, 4, 'take-profit']]);
    expect(r.orders[1]).toMatchObject({ kind: 'take-profit', side: 'buy' });
  });
});

describe('trailing stop', () => {
  const long = bars(flat(100), [100, 103, 99, 102], [102, 104, 101.5, 103.5], [103, 103.2, 101.9, 102.5]);
  const trail: Decision = { action: 'buy', quantity: 1, trailingStop: 2 };

  test('starts the distance from the fill, moves after each bar that did not reach it, never back', () => {
    expect(run({ 0: trail }, long.slice(0, 1)).r.openPosition?.trailing).toEqual({ distance: 2, level: 98 });
    expect(run({ 0: trail }, long.slice(0, 2)).r.openPosition?.trailing).toEqual({ distance: 2, level: 101 });
    expect(run({ 0: trail }, long.slice(0, 3)).r.openPosition?.trailing).toEqual({ distance: 2, level: 102 });
  });

  test('long: the bar that reaches the level closes at market, reason trailing-stop', () => {
    const { r } = run({ 0: trail }, long);
    expect(orderRows(r)).toEqual([
      ['backtest-000001', 1, 'entry', 'buy', 'open', 'filled', 100, 0],
      ['backtest-000002', 2, 'trailing-stop', 'sell', 'close', 'filled', 102.5, 3],
    ]);
    expect(tradeRows(r)).toEqual([['backtest-000001', 'backtest-000002', 'long', 100, 102.5, 2.5, 'trailing-stop']]);
  });

  test('short: follows the low; the native stop, when also set, still comes first', () => {
    const frames = bars(flat(100), [100, 101, 97, 98], [98, 99.5, 97.5, 99.2]);
    const { r } = run({ 0: { action: 'sell', quantity: 1, trailingStop: 2 } }, frames);
    expect(tradeRows(r)).toEqual([['backtest-000001', 'backtest-000002', 'short', 100, 99.2, 0.8, 'trailing-stop']]);
    // Bar 2 reaches the trailing level (99) and the native stop (101): the venue's stop fills.
    const spike = bars(flat(100), [100, 100.5, 97, 98], [98, 101.5, 97.5, 99.2]);
    const both = run({ 0: { action: 'sell', quantity: 1, trailingStop: 2, stop: 101 } }, spike).r;
    expect(tradeRows(both)).toEqual([['backtest-000001', 'backtest-000001-S', 'short', 100, 101, -1, 'stop']]);
  });
});

describe('limit and stop entries (working orders)', () => {
  const stopEntry = (expiresAfterMs?: number): Decision => ({
    action: 'buy',
    quantity: 2,
    stop: 99,
    takeProfit: 106,
    entry: { type: 'stop', price: 102, ...(expiresAfterMs !== undefined ? { expiresAfterMs } : {}) },
  });

  test('a stop entry waits, triggers on the bar that reaches it, and enters at that bar\'s close with its legs', () => {
    const frames = bars(flat(100), [100, 101.9, 99.5, 101], [101, 102.5, 100.5, 102.2], [102.2, 106.5, 102, 105]);
    const { r, seen } = run({ 0: stopEntry(5 * MIN) }, frames);
    expect(r.workingOrders).toEqual([
      {
        ref: 'backtest-W000001', systemId: 'bt', symbol: 'T', side: 'buy', quantity: 2, type: 'stop', price: 102, stop: 99, takeProfit: 106,
        createdAt: T0, expiresAt: T0 + MIN + 5 * MIN, status: 'triggered', endedAt: T0 + 2 * MIN,
      },
    ]);
    // The working order took no order seq; its entry took the first one, on the bar that triggered it.
    expect(orderRows(r)).toEqual([
      ['backtest-000001', 1, 'entry', 'buy', 'open', 'filled', 102.2, 2],
      ['backtest-000002', 2, 'take-profit', 'sell', 'close', 'filled', 105, 3],
    ]);
    // The system sees the position on the bar that triggered it; the next bar's take-profit closed it before it decided.
    expect(seen).toEqual([null, null, 'long@102.2 stop 99', null]);
    expect(tradeRows(r)).toEqual([['backtest-000001', 'backtest-000002', 'long', 102.2, 105, 5.6, 'take-profit']]);
  });

  test('expiry: dropped on the bar that ends at or after expiresAt, before the trigger is checked', () => {
    const frames = bars(flat(100), [100, 101, 99, 100], [100, 103, 99, 102], [102, 104, 101, 103]);
    // Decided at T0 + 1m: lives 2m, to T0 + 3m, the end of bar 2.
    const expired = run({ 0: stopEntry(2 * MIN) }, frames).r;
    expect(expired.workingOrders.map((w) => [w.status, w.expiresAt, w.endedAt])).toEqual([['expired', T0 + 3 * MIN, T0 + 2 * MIN]]);
    expect(expired.orders).toEqual([]);
    expect(expired.trades).toEqual([]);
    // One minute more and bar 2 triggers it.
    const triggered = run({ 0: stopEntry(3 * MIN) }, frames).r;
    expect(triggered.workingOrders.map((w) => w.status)).toEqual(['triggered']);
    expect(orderRows(triggered)).toEqual([['backtest-000001', 1, 'entry', 'buy', 'open', 'filled', 102, 2]]);
  });

  test('without an expiry it works until it triggers; a sell stop triggers on the low', () => {
    const frames = bars(flat(100), ...Array.from({ length: 50 }, () => flat(100)), [100, 100, 97.5, 98]);
    const { r } = run({ 0: { action: 'sell', quantity: 1, entry: { type: 'stop', price: 98 } } }, frames);
    expect(r.workingOrders.map((w) => [w.status, w.expiresAt])).toEqual([['triggered', undefined]]);
    expect(orderRows(r)).toEqual([['backtest-000001', 1, 'entry', 'sell', 'open', 'filled', 98, 51]]);
    expect(r.openPosition).toMatchObject({ side: 'short', entryPrice: 98, openedAt: T0 + 51 * MIN });
  });

  test('a new limit/stop entry replaces the working one; close cancels it', () => {
    const frames = bars(flat(100), flat(100), [100, 102.5, 99, 100], flat(100), [100, 110, 90, 100]);
    const { r } = run(
      { 0: stopEntry(), 1: { ...stopEntry(), entry: { type: 'stop', price: 103 } }, 3: { action: 'close', quantity: 0 } },
      frames,
    );
    expect(r.workingOrders.map((w) => [w.ref, w.price, w.status, w.endedAt])).toEqual([
      ['backtest-W000001', 102, 'cancelled', T0 + MIN],
      ['backtest-W000002', 103, 'cancelled', T0 + 3 * MIN],
    ]);
    expect(r.orders).toEqual([]);
  });

  test('an entry order against a position reverses first: the close takes a seq, the working order none until it triggers', () => {
    const frames = bars(flat(100), flat(101), [101, 101, 98.5, 99]);
    const { r } = run({ 0: { action: 'buy', quantity: 1 }, 1: { action: 'sell', quantity: 1, entry: { type: 'stop', price: 99 } } }, frames);
    expect(orderRows(r)).toEqual([
      ['backtest-000001', 1, 'entry', 'buy', 'open', 'filled', 100, 0],
      ['backtest-000002', 2, 'exit', 'sell', 'close', 'filled', 101, 1],
      ['backtest-000003', 3, 'entry', 'sell', 'open', 'filled', 99, 2],
    ]);
    expect(r.trades.map((t) => t.exitReason)).toEqual(['reverse']);
    expect(r.workingOrders.map((w) => [w.ref, w.status])).toEqual([['backtest-W000001', 'triggered']]);
  });

  test('a working order waits while a position is open; on the bar the stop closes the position it can trigger', () => {
    const frames = bars(flat(100), flat(100), [100, 104, 99, 101], [100, 104, 94, 96]);
    const { r } = run(
      { 0: { action: 'sell', quantity: 1, entry: { type: 'limit', price: 103 } }, 1: { action: 'buy', quantity: 1, stop: 95 } },
      frames,
    );
    expect(orderRows(r)).toEqual([
      ['backtest-000001', 1, 'entry', 'buy', 'open', 'filled', 100, 1],
      ['backtest-000001-S', null, 'stop', 'sell', 'close', 'filled', 95, 3],
      ['backtest-000002', 2, 'entry', 'sell', 'open', 'filled', 96, 3],
    ]);
    expect(r.workingOrders.map((w) => [w.status, w.endedAt])).toEqual([['triggered', T0 + 3 * MIN]]);
  });

  test('a buy limit triggers when the low comes down to it; one still waiting after the last bar is working', () => {
    const trig = run({ 0: { action: 'buy', quantity: 1, entry: { type: 'limit', price: 98 } } }, bars(flat(100), [99, 99.5, 98, 98.4])).r;
    expect(orderRows(trig)).toEqual([['backtest-000001', 1, 'entry', 'buy', 'open', 'filled', 98.4, 1]]);
    const waiting = run({ 0: { action: 'buy', quantity: 1, entry: { type: 'limit', price: 98 } } }, bars(flat(100), [99, 99.5, 98.1, 98.4])).r;
    expect(waiting.workingOrders.map((w) => [w.status, w.endedAt])).toEqual([['working', undefined]]);
  });
});

describe('entry flow: the protective stop is placed after the fill', () => {
  test('a stop on the wrong side of the price: the leg is rejected and the position closed at once, stop-failed', () => {
    const frames = bars(flat(100), [100, 100, 90, 91], flat(91));
    const { r, seen } = run({ 0: { action: 'buy', quantity: 1, stop: 101, takeProfit: 110 }, 2: { action: 'buy', quantity: 1, stop: 90 } }, frames);
    expect(orderRows(r)).toEqual([
      ['backtest-000001', 1, 'entry', 'buy', 'open', 'filled', 100, 0],
      ['backtest-000001-S', null, 'stop', 'sell', 'close', 'rejected', undefined, 0],
      ['backtest-000002', 2, 'exit', 'sell', 'close', 'filled', 100, 0],
      ['backtest-000003', 3, 'entry', 'buy', 'open', 'filled', 91, 2],
    ]);
    expect(r.orders[1]).toMatchObject({
      stopLevel: 101,
      filledAt: null,
      reason: 'protective stop not placed: stop 101 is on the wrong side of the bid 100 for a long position',
    });
    expect(tradeRows(r)).toEqual([['backtest-000001', 'backtest-000002', 'long', 100, 100, 0, 'stop-failed']]);
    expect(r.trades[0]).toMatchObject({ openedAt: T0, closedAt: T0 });
    expect(r.diagnostics.rejectedOrders).toBe(1);
    expect(seen[1]).toBeNull();
    expect(r.openPosition).toMatchObject({ positionRef: 'backtest-000003', stop: 90 });
  });

  test('the venue judges the stop against its quote (bid for a long, ask for a short), not the fill', () => {
    const wide = { spreadBps: 100, slippageBps: 0 }; // close 100: bid 99.5, ask 100.5; a buy fills at 100.5
    const refused = run({ 0: { action: 'buy', quantity: 1, stop: 99.7 } }, bars(flat(100)), wide).r;
    expect(refused.trades.map((t) => t.exitReason)).toEqual(['stop-failed']);
    const placed = run({ 0: { action: 'buy', quantity: 1, stop: 99.4 } }, bars(flat(100)), wide).r;
    expect(placed.trades).toEqual([]);
    expect(placed.openPosition).toMatchObject({ entryPrice: 100.5, stop: 99.4 });
    const short = run({ 0: { action: 'sell', quantity: 1, stop: 100.3 } }, bars(flat(100)), wide).r;
    expect(short.orders[1].reason).toBe('protective stop not placed: stop 100.3 is on the wrong side of the ask 100.5 for a short position');
    expect(tradeRows(short)).toEqual([['backtest-000001', 'backtest-000002', 'short', 99.5, 100.5, -1, 'stop-failed']]);
  });

  test('a triggered stop entry whose bar closed through its stop is closed at once too', () => {
    // Buy stop at 102 with its stop at 100: the bar breaks 102 and closes at 99.
    const { r } = run({ 0: { action: 'buy', quantity: 1, stop: 100, entry: { type: 'stop', price: 102 } } }, bars(flat(101), [101, 102.5, 98.5, 99]));
    expect(r.trades.map((t) => [t.entryPrice, t.exitPrice, t.exitReason])).toEqual([[99, 99, 'stop-failed']]);
    expect(r.workingOrders[0].status).toBe('triggered');
  });
});

test('invalid decisions are counted and ignored, the new fields included', () => {
  const { r } = run(
    {
      0: { action: 'buy', quantity: 1, takeProfit: -1 },
      1: { action: 'buy', quantity: 1, trailingStop: 0 },
      2: { action: 'buy', quantity: 1, entry: { type: 'stop', price: NaN } },
    },
    bars(flat(100), flat(100), flat(100)),
  );
  expect(r.diagnostics.invalidDecisions).toBe(3);
  expect(r.orders).toEqual([]);
  expect(r.workingOrders).toEqual([]);
});
