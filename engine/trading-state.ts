/** The account's trading state (active | reducing | halted) and who set it: one place changes it. */
import { RISK_HISTORY_KEPT, keepLast } from './session-state';
import type { TradingState, TradingStateChange } from '../risk/trading-state';
import type { EngineContext } from './context';

export const SEVERITY: Record<TradingState, number> = { active: 0, reducing: 1, halted: 2 };

export function setTradingState(
  ctx: EngineContext,
  to: TradingState,
  by: string,
  reason: string,
  source: TradingStateChange['source'],
): TradingStateChange | null {
  const { state } = ctx;
  if (state.tradingState === to) return null;
  const change: TradingStateChange = { seq: ++state.controlSeq, at: ctx.ports.now(), from: state.tradingState, to, by, reason, source };
  state.tradingState = to;
  state.tradingStateBy = by;
  state.tradingStateHistory.push(change);
  keepLast(state.tradingStateHistory, RISK_HISTORY_KEPT);
  ctx.unrecordedControl.push(change);
  ctx.ports.tradingStateChanged(to);
  const line = { account: ctx.account, from: change.from, to, by, reason, source };
  ctx.ports.log(to === 'active' ? 'info' : 'warn', `trading state ${to}`, line);
  return change;
}
