import Table from 'cli-table3';
import type { TradingState } from '../risk/trading-state';
import type { FleetTradingStateResult, SessionTradingStateResult } from '../fleet/trading-state';
import { plainStyle } from './settings';

/** The CLI's words for the trading states: `halt` sets `halted`. */
export const TRADING_STATE_ACTIONS = ['halt', 'reducing', 'active'] as const;
export type TradingStateAction = (typeof TRADING_STATE_ACTIONS)[number];
export const stateOfAction = (action: TradingStateAction): TradingState => (action === 'halt' ? 'halted' : action);
export const isTradingStateAction = (action: string): action is TradingStateAction =>
  (TRADING_STATE_ACTIONS as readonly string[]).includes(action);

/** One row per session: what it answered. */
export function tradingStateTable(sessions: readonly SessionTradingStateResult[]): string {
  const table = new Table({ style: plainStyle(), head: ['account', 'result', 'from', 'to', 'seq', 'detail'] });
  for (const s of sessions) {
    const c = s.change;
    table.push([s.account, s.outcome, c?.from ?? '-', c?.to ?? '-', c?.seq ?? '-', s.error ?? (c ? '' : 'already in that state')]);
  }
  return table.toString();
}

/** `3 session(s) matched: 2 changed, 1 unchanged, 0 failed; halted by alice: "reason"`. */
export function tradingStateSummary(r: Pick<FleetTradingStateResult, 'command' | 'matched' | 'changed' | 'unchanged' | 'failed'>): string {
  const { state, by, reason } = r.command;
  return `${r.matched} session(s) matched: ${r.changed} changed, ${r.unchanged} unchanged, ${r.failed} failed; ${state} by ${by}: ${JSON.stringify(reason)}`;
}

/** The fleet result as the operator reads it; the visibility lag is named when nothing matched. */
export function fleetText(r: FleetTradingStateResult): string {
  if (r.matched === 0) {
    return `no running session matched ${r.query}\n(a session started in the last seconds may not be visible yet: run the command again)`;
  }
  return `${tradingStateTable(r.sessions)}\n${tradingStateSummary(r)}`;
}
