/** The protections after a trade and after each equity mark (risk/protections.ts decides; this applies). */
import { initialProtectionState, nextUtcMidnight, onEquity, onTradeClosed, utcDay } from '../risk/protections';
import type { Trade } from '../trading/trade';
import type { EngineContext } from './context';
import { SEVERITY, setTradingState } from './trading-state';

/** The stop-loss guard and the per-symbol cooldown after a loss (timers lift them). */
export function protectAfterTrade(ctx: EngineContext, trade: Trade): void {
  const { state, ports } = ctx;
  const now = ports.now();
  const r = onTradeClosed(state.protection ?? initialProtectionState(state.startingBalance, now), { symbol: trade.symbol, pnl: trade.pnl, exitReason: trade.exitReason, closedAt: now }, ctx.config.protections);
  state.protection = r.state;
  for (const l of r.locks) {
    state.locks.push(l);
    ports.log('warn', `protection ${l.kind}: entries locked`, { account: ctx.account, symbol: l.symbol ?? '*', until: new Date(l.until).toISOString(), reason: l.reason });
  }
  if (r.locks.length) ports.timersChanged();
}

/** A daily-loss or drawdown breach tightens the trading state, never loosens it. */
export function protectAfterEquity(ctx: EngineContext, equity: number): void {
  const { state, ports } = ctx;
  const now = ports.now();
  const cfg = ctx.config.protections;
  const ps = state.protection;
  // Nothing to do on most marks: same day, no new peak, no loss protection configured (a backtest's every bar).
  if (ps && !cfg.dailyLoss && !cfg.maxDrawdown && equity <= ps.peakEquity && ps.day === utcDay(now)) return;
  const r = onEquity(state.protection ?? initialProtectionState(state.startingBalance, now), equity, now, ctx.config.protections);
  state.protection = r.state;
  const breach = r.breach;
  if (!breach || SEVERITY[breach.action] <= SEVERITY[state.tradingState]) return;
  setTradingState(ctx, breach.action, `protection:${breach.protection}`, breach.detail, 'protection');
  if (breach.protection === 'daily-loss') {
    state.dailyLossLiftAt = nextUtcMidnight(now);
    ports.timersChanged();
  }
}
