/**
 * runBacktest against the test oracle of the live session (test/support/oracle.ts): the oracle is what
 * the live end-to-end tests compare a paper session's stored rows with, so agreement here means the
 * backtester trades as a live paper session does.
 */
import { runBacktest } from '../../backtest/engine';
import { computeStats } from '../../backtest/stats';
import { generateFrames } from '../../market/synthetic';
import { PAPER_TEST_CONFIG } from '../support/harness';
import { expectedPaperRun } from '../support/oracle';
import type { BacktestResult } from '../../backtest/types';
import type { Frame } from '../../market/frame';

const CASES: { name: string; params: Record<string, unknown>; trendCycle?: number; volatilityPct?: number }[] = [
  { name: 'sma 5/20, 0.4 % stop (the live tests\' parameters)', params: { fastPeriod: 5, slowPeriod: 20, stopDistancePct: 0.4 } },
  { name: 'sma 2/5, tight stop, random walk', params: { fastPeriod: 2, slowPeriod: 5, stopDistancePct: 0.2 }, trendCycle: 0 },
  { name: 'ema 3/12, long only (close on a down-cross)', params: { fastPeriod: 3, slowPeriod: 12, maType: 'ema', allowShort: false, stopDistancePct: 0.5, quantity: 2.5 } },
  { name: 'defaults', params: {}, volatilityPct: 0.6 },
];
const SEEDS = [1, 2, 3, 4, 5, 9, 42];
const PAPERS = { 'paper defaults': {}, 'test venue (2 bps spread, 1 bp slippage)': PAPER_TEST_CONFIG };

function orderRows(r: BacktestResult) {
  return r.orders.map((o) => ({ side: o.side, intent: o.intent, price: o.fillPrice, kind: o.kind, frameIndex: o.frameIndex }));
}

function tradeRows(r: BacktestResult) {
  return r.trades.map((t) => ({ side: t.side, entryPrice: t.entryPrice, exitPrice: t.exitPrice, pnl: t.pnl, exitReason: t.exitReason }));
}

/** Per bar, whether a position was open at the bar's open, replayed from the orders alone. */
function barsHeldFromOrders(r: BacktestResult, bars: number): number {
  let open = false;
  let held = 0;
  let k = 0;
  for (let i = 0; i < bars; i++) {
    if (open) held++;
    for (; k < r.orders.length && r.orders[k].frameIndex === i; k++) open = r.orders[k].intent === 'open';
  }
  return held;
}

const seen = { stops: 0, reversals: 0, signals: 0, trades: 0 };

describe.each(Object.entries(PAPERS))('%s', (_venue, paper) => {
  describe.each(CASES)('$name', ({ params, trendCycle, volatilityPct }) => {
    test.each(SEEDS)('seed %i: trades and orders identical to the oracle', (seed) => {
      const frames: Frame[] = generateFrames({ symbol: 'PAR', count: 1500, seed, ...(trendCycle !== undefined ? { trendCycle } : {}), ...(volatilityPct ? { volatilityPct } : {}) });
      const expected = expectedPaperRun(frames, 'ma-crossover', params, paper);
      const result = runBacktest({ frames, system: 'ma-crossover', params, paper });

      expect(tradeRows(result)).toEqual(expected.trades);
      expect(orderRows(result)).toEqual(expected.orders);
      expect(result.openPosition ? { side: result.openPosition.side, entryPrice: result.openPosition.entryPrice } : null).toEqual(
        expected.finalPosition ? { side: expected.finalPosition.side, entryPrice: expected.finalPosition.entryPrice } : null,
      );
      expect(result.stats.netPnl).toBe(expected.realised);
      expect(result.diagnostics).toEqual({ systemErrors: 0, invalidDecisions: 0, rejectedOrders: 0 });

      // Trade rows are the session's: order ids in sequence, stops by the venue's id, bar starts as times.
      for (const t of result.trades) {
        expect(t.positionRef).toMatch(/^backtest-\d{6}$/);
        expect(t.exitClientOrderId).toEqual(t.exitReason === 'stop' ? `${t.positionRef}-S` : expect.stringMatching(/^backtest-\d{6}$/));
        expect(t.closedAt).toBeGreaterThan(t.openedAt);
      }
      expect(result.orders.filter((o) => o.seq !== null).map((o) => o.seq)).toEqual(
        Array.from({ length: expected.orders.filter((o) => o.kind !== 'stop').length }, (_, i) => i + 1),
      );

      // One equity point per bar at the bar's end; the final one is balance + realised + open P&L.
      expect(result.equityCurve.ts).toHaveLength(frames.length);
      expect(result.equityCurve.equity).toHaveLength(frames.length);
      expect(result.equityCurve.ts[0]).toBe(frames[0].start + 60_000);
      const lastClose = frames[frames.length - 1].close;
      const open = expected.finalPosition;
      const unrealised = open ? (lastClose - open.entryPrice) * open.quantity * (open.side === 'long' ? 1 : -1) : 0;
      expect(result.stats.endEquity).toBeCloseTo(100_000 + expected.realised + unrealised, 6);

      // Stats agree with a recomputation from the trades, and exposure with a replay of the orders.
      expect(result.stats).toEqual(
        computeStats({ trades: result.trades, equityCurve: result.equityCurve, startingBalance: 100_000, timeframe: '1m', openPosition: result.openPosition }),
      );
      expect(result.stats.barsInMarket).toBe(barsHeldFromOrders(result, frames.length));

      seen.trades += expected.trades.length;
      seen.stops += expected.trades.filter((t) => t.exitReason === 'stop').length;
      seen.reversals += expected.trades.filter((t) => t.exitReason === 'reverse').length;
      seen.signals += expected.trades.filter((t) => t.exitReason === 'signal').length;
    });
  });
});

test('the parity runs exercised every kind of exit', () => {
  // Stops, reversals and plain signal exits (long-only close) all occurred, many times over.
  expect(seen.trades).toBeGreaterThan(1000);
  expect(seen.stops).toBeGreaterThan(50);
  expect(seen.reversals).toBeGreaterThan(50);
  expect(seen.signals).toBeGreaterThan(50);
});
