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

/** Number of bars whose start is ≤ `start`: bars are found by their end `ts`, so start ≤ x ⇔ ts ≤ x + tf. */
function barsStartingAtOrBefore(ts: Float64Array, start: number, tfMs: number): number {
  const limit = start + tfMs;
  let lo = 0;
  let hi = ts.length;
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
  for (const t of trades) {
    netPnl = round8(netPnl + t.pnl);
    if (t.pnl > 0) {
      wins++;
      grossProfit = round8(grossProfit + t.pnl);
    } else if (t.pnl < 0) {
      losses++;
      grossLoss = round8(grossLoss + t.pnl);
    }
    barsInMarket += barsStartingAtOrBefore(ts, t.closedAt, tfMs) - barsStartingAtOrBefore(ts, t.openedAt, tfMs);
  }
  if (input.openPosition) barsInMarket += bars - barsStartingAtOrBefore(ts, input.openPosition.openedAt, tfMs);

  let peak = startingBalance;
  let maxDrawdown = 0;
  let maxDrawdownFrac = 0;
  // Welford's running mean and variance of the per-bar returns.
  let prev = startingBalance;
  let n = 0;
  let mean = 0;
  let m2 = 0;
  for (let k = 0; k < bars; k++) {
    const e = equity[k];
    if (e > peak) peak = e;
    const dd = peak - e;
    if (dd > maxDrawdown) maxDrawdown = dd;
    if (peak > 0 && dd / peak > maxDrawdownFrac) maxDrawdownFrac = dd / peak;
    const r = prev !== 0 ? e / prev - 1 : 0;
    prev = e;
    n++;
    const delta = r - mean;
    mean += delta / n;
    m2 += delta * (r - mean);
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
