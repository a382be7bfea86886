import { timeframeMs, type Timeframe } from '../market/timeframe';
import { round8, type Trade } from '../trading/trade';
import type { BacktestStats, EquityCurve } from './types';

/** A calendar year in ms: markets are taken to trade around the clock (365 × 24 h), like crypto and FX CFDs. */
export const YEAR_MS = 365 * 86_400_000;

/**
 * Bars in a year of a timeframe: 525,600 for `1m`, 8,760 for `1h`, 365 for `1d`. A market that trades
 * only in sessions (equities: 252 days of 6.5 h) should pass its own `periodsPerYear`.
 */
export function periodsPerYearOf(timeframe: Timeframe): number {
  return YEAR_MS / timeframeMs(timeframe);
}

export interface StatsInput {
  trades: readonly Pick<Trade, 'pnl' | 'openedAt' | 'closedAt'>[];
  /** One point per bar, in order: ts = bar end (bar start + timeframe), equity at the bar's close. */
  equityCurve: EquityCurve;
  startingBalance: number;
  timeframe: Timeframe;
  /** The position still open after the last bar (its entry bar's start), if any. */
  openPosition?: { openedAt: number } | null;
  /** Overrides the annualisation factor of the Sharpe ratio (default `periodsPerYearOf(timeframe)`). */
  periodsPerYear?: number;
}

/**
 * Number of bars whose start is ≤ `start`: bars are found by their end `ts`, so start ≤ x ⇔ ts ≤ x + tf.
 * The search gallops from `near`, an index close to the answer: trades come in time order, so each one's
 * search starts where the previous ended and stays in cache (a plain binary search over a million-bar
 * column misses the cache on most of its steps, twice per trade).
 */
function barsStartingAtOrBefore(ts: Float64Array, start: number, tfMs: number, near: number): number {
  const limit = start + tfMs;
  const n = ts.length;
  // The answer (the first index whose ts is above limit) is bracketed in [lo, hi], then binary-searched.
  let lo: number;
  let hi: number;
  if (near < n && ts[near] <= limit) {
    lo = near + 1;
    hi = lo;
    for (let step = 1; hi < n && ts[hi] <= limit; step *= 2) {
      lo = hi + 1;
      hi += step;
    }
    hi = Math.min(hi, n);
  } else {
    hi = Math.min(near, n);
    lo = hi;
    for (let step = 1; lo > 0 && ts[lo - 1] > limit; step *= 2) {
      hi = lo - 1;
      lo -= step;
    }
    lo = Math.max(lo, 0);
  }
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ts[mid] <= limit) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Statistics of a run. Definitions:
 * - drawdown: peak-to-trough fall of the equity curve, the running peak starting at `startingBalance`;
 *   the largest absolute and the largest relative (percent of its peak) fall are found independently.
 * - Sharpe: per-bar simple returns of equity (the first against the starting balance), mean over the
 *   sample standard deviation (n − 1), × √periodsPerYear; risk-free rate 0.
 * - exposure: a position entered at the close of bar i and left on bar j (at its close or by a stop
 *   inside it) was in the market during bars i+1..j; exposure = such bars / all bars.
 */
export function computeStats(input: StatsInput): BacktestStats {
  const { trades, startingBalance, timeframe } = input;
  const { ts, equity } = input.equityCurve;
  const tfMs = timeframeMs(timeframe);
  const periodsPerYear = input.periodsPerYear ?? periodsPerYearOf(timeframe);
  const bars = ts.length;
  const endEquity = bars > 0 ? equity[bars - 1] : startingBalance;

  let netPnl = 0;
  let wins = 0;
  let losses = 0;
  let grossProfit = 0;
  let grossLoss = 0;
  let barsInMarket = 0;
  let near = 0;
  for (const t of trades) {
    netPnl = round8(netPnl + t.pnl);
    if (t.pnl > 0) {
      wins++;
      grossProfit = round8(grossProfit + t.pnl);
    } else if (t.pnl < 0) {
      losses++;
      grossLoss = round8(grossLoss + t.pnl);
    }
    const opened = barsStartingAtOrBefore(ts, t.openedAt, tfMs, near);
    near = barsStartingAtOrBefore(ts, t.closedAt, tfMs, opened);
    barsInMarket += near - opened;
  }
  if (input.openPosition) barsInMarket += bars - barsStartingAtOrBefore(ts, input.openPosition.openedAt, tfMs, near);

  // Two passes over the columns, each free of a loop-carried division (a division per bar on one
  // dependency chain, as Welford's running mean has, was half the cost of a million-bar run's stats).
  // The first takes the drawdowns and the sum of the per-bar returns, the second the squared deviations
  // from their mean. The relative drawdown is divided once per peak, not per bar: under one peak the
  // largest fall gives the largest (rounded) fraction, division being monotonic.
  let peak = startingBalance;
  let maxDrawdown = 0;
  let maxDrawdownFrac = 0;
  let fallFromPeak = 0; // the largest fall since `peak` was set
  let prev = startingBalance;
  let sum = 0;
  for (let k = 0; k < bars; k++) {
    const e = equity[k];
    sum += prev !== 0 ? e / prev - 1 : 0;
    prev = e;
    if (e > peak) {
      if (peak > 0 && fallFromPeak / peak > maxDrawdownFrac) maxDrawdownFrac = fallFromPeak / peak;
      peak = e;
      fallFromPeak = 0;
      continue;
    }
    const dd = peak - e;
    if (dd > fallFromPeak) {
      fallFromPeak = dd;
      if (dd > maxDrawdown) maxDrawdown = dd;
    }
  }
  if (peak > 0 && fallFromPeak / peak > maxDrawdownFrac) maxDrawdownFrac = fallFromPeak / peak;
  const n = bars;
  const mean = n > 0 ? sum / n : 0;
  let m2 = 0;
  prev = startingBalance;
  for (let k = 0; k < bars; k++) {
    const e = equity[k];
    const d = (prev !== 0 ? e / prev - 1 : 0) - mean;
    m2 += d * d;
    prev = e;
  }
  const sd = n > 1 ? Math.sqrt(m2 / (n - 1)) : 0;
  const count = trades.length;
  return {
    bars,
    timeframe,
    startingBalance,
    endEquity,
    returnPct: startingBalance !== 0 ? ((endEquity - startingBalance) / startingBalance) * 100 : 0,
    netPnl,
    openPnl: round8(endEquity - startingBalance - netPnl) + 0, // + 0 turns -0 into 0
    trades: count,
    wins,
    losses,
    winRate: count > 0 ? wins / count : null,
    grossProfit,
    grossLoss,
    profitFactor: grossLoss < 0 ? grossProfit / -grossLoss : null,
    maxDrawdown: round8(maxDrawdown),
    maxDrawdownPct: maxDrawdownFrac * 100,
    sharpe: n > 1 && sd > 0 ? (mean / sd) * Math.sqrt(periodsPerYear) : null,
    periodsPerYear,
    barsInMarket,
    exposure: bars > 0 ? barsInMarket / bars : 0,
  };
}
