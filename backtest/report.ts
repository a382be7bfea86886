import type { BacktestStats } from './types';

const money = (x: number) => x.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const pct = (x: number | null, digits = 2) => (x === null ? 'n/a' : `${x.toFixed(digits)} %`);
const ratio = (x: number | null, digits = 2) => (x === null ? 'n/a' : x.toFixed(digits));

/** The stats as labelled, formatted rows: one source for the terminal table and the HTML report. */
export function statsRows(s: BacktestStats): [string, string][] {
  return [
    ['bars', `${s.bars.toLocaleString('en-US')} (${s.timeframe})`],
    ['starting balance', money(s.startingBalance)],
    ['end equity', money(s.endEquity)],
    ['return', pct(s.returnPct)],
    ['net P&L (closed trades)', money(s.netPnl)],
    ['open P&L (last bar)', money(s.openPnl)],
    ['trades', `${s.trades} (${s.wins} won, ${s.losses} lost)`],
    ['win rate', pct(s.winRate === null ? null : s.winRate * 100, 1)],
    ['profit factor', ratio(s.profitFactor)],
    ['max drawdown', `${money(s.maxDrawdown)} (${pct(s.maxDrawdownPct)})`],
    ['Sharpe (annualised)', `${ratio(s.sharpe)} (per-bar returns × √${Math.round(s.periodsPerYear).toLocaleString('en-US')})`],
    ['exposure', `${pct(s.exposure * 100, 1)} of bars (${s.barsInMarket.toLocaleString('en-US')})`],
  ];
}
