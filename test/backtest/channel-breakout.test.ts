/**
 * channel-breakout through the backtester on generated frames: the framework's order features at scale.
 * Invariants that must hold whatever the frames: order seqs without gaps, each triggered working order
 * an entry on its bar, exits of the kinds the position had, and the same result every run.
 */
import { runBacktest } from '../../backtest/engine';
import { computeStats } from '../../backtest/stats';
import type { BacktestResult } from '../../backtest/types';
import { generateFrames } from '../../market/synthetic';

const frames = generateFrames({ symbol: 'CBK', timeframe: '5m', count: 3000, seed: 11, volatilityPct: 0.4 });
const count = <T extends string>(xs: T[]) => xs.reduce<Record<string, number>>((m, x) => ({ ...m, [x]: (m[x] ?? 0) + 1 }), {});

function checkInvariants(r: BacktestResult) {
  const seqs = r.orders.filter((o) => o.seq !== null).map((o) => o.seq);
  expect(seqs).toEqual(seqs.map((_, i) => i + 1));
  const entryBars = new Set(r.orders.filter((o) => o.kind === 'entry').map((o) => o.frameStart));
  for (const w of r.workingOrders) {
    if (w.status === 'triggered') expect(entryBars.has(w.endedAt!)).toBe(true);
    if (w.status !== 'working') expect(w.endedAt).toBeGreaterThan(w.createdAt);
  }
  expect(r.workingOrders.filter((w) => w.status === 'working').length).toBeLessThanOrEqual(1);
  const refs = r.workingOrders.map((w) => w.ref);
  expect(refs).toEqual(refs.map((_, i) => `backtest-W${String(i + 1).padStart(6, '0')}`));
  for (const t of r.trades) expect(t.closedAt).toBeGreaterThanOrEqual(t.openedAt);
  expect(r.stats).toEqual(computeStats({ trades: r.trades, equityCurve: r.equityCurve, startingBalance: 100_000, timeframe: '5m', openPosition: r.openPosition }));
}

test('default (stop entries with a bracket): entries trigger and expire, take-profits and stops fill', () => {
  const r = runBacktest({ frames, system: 'channel-breakout', params: { period: 20 } });
  checkInvariants(r);
  const statuses = count(r.workingOrders.map((w) => w.status));
  expect(statuses.triggered).toBeGreaterThan(20);
  expect(statuses.expired).toBeGreaterThan(20);
  const reasons = count(r.trades.map((t) => t.exitReason));
  expect(reasons['take-profit']).toBeGreaterThan(5);
  expect(reasons.stop).toBeGreaterThan(5);
  expect(r.diagnostics).toMatchObject({ systemErrors: 0, invalidDecisions: 0 });
  // Every entry came from a working order: none was sent on the bar it was decided.
  expect(r.orders.filter((o) => o.kind === 'entry').length).toBe(statuses.triggered);
  expect(runBacktest({ frames, system: 'channel-breakout', params: { period: 20 } })).toEqual(r);
});

test('a trailing stop instead of the take-profit: trailing-stop exits, tight stops that cannot be placed close at once', () => {
  const r = runBacktest({ frames, system: 'channel-breakout', params: { period: 10, takeProfitPct: 0, trailingStopPct: 0.5, stopPct: 0.05 } });
  checkInvariants(r);
  const reasons = count(r.trades.map((t) => t.exitReason));
  expect(reasons['trailing-stop']).toBeGreaterThan(5);
  // A 0.05 % stop from the entry level is often on the wrong side of the trigger bar's close.
  expect(reasons['stop-failed']).toBeGreaterThan(0);
  expect(r.diagnostics.rejectedOrders).toBe(reasons['stop-failed']);
  expect(r.orders.filter((o) => o.status === 'rejected').every((o) => o.kind === 'stop' && o.clientOrderId.endsWith('-S'))).toBe(true);
});

test('market entries: reversals and signal exits, no working orders', () => {
  const r = runBacktest({ frames, system: 'channel-breakout', params: { period: 20, entry: 'market', takeProfitPct: 0, stopPct: 3 } });
  checkInvariants(r);
  expect(r.workingOrders).toEqual([]);
  expect(count(r.trades.map((t) => t.exitReason)).reverse).toBeGreaterThan(5);
  const longOnly = runBacktest({ frames, system: 'channel-breakout', params: { period: 20, entry: 'market', takeProfitPct: 0, stopPct: 3, allowShort: false } });
  expect(count(longOnly.trades.map((t) => t.exitReason)).signal).toBeGreaterThan(5);
  expect(longOnly.trades.every((t) => t.side === 'long')).toBe(true);
});
