/**
 * The session's side of the pre-trade risk checks: builds the risk engine's view of the account from
 * the session state. Pure, so the workflow stays deterministic.
 */
import type { Instrument } from '../brokers/adapter';
import type { RiskView as PreTradeView } from '../risk/pre-trade';
import { positionMoney } from '../trading/money';
import type { SessionState } from './session-state';

const MINUTE_MS = 60_000;

/**
 * Every open position of the account, marked at the last price the session saw: the session's own and
 * the foreign ones at the broker (real exposure too, though no system of this session trades them).
 */
export function preTradeView(state: SessionState, now: number, instrument: Instrument | null, accountCurrency = false): PreTradeView {
  const mark = (symbol: string, entry: number) => state.lastPrice[symbol] ?? entry;
  return {
    tradingState: state.tradingState,
    now,
    positions: [
      ...Object.values(state.positions).map((p) => ({ symbol: p.symbol, side: p.side, quantity: p.quantity, markPrice: mark(p.symbol, p.entryPrice), ...perPoint(p.money?.perPoint) })),
      // A foreign position has no facts of its own: those of its instrument, when the session read it.
      ...state.foreignPositions.map((p) => ({ symbol: p.symbol, side: p.side, quantity: p.quantity, markPrice: mark(p.symbol, p.entryPrice), ...perPoint(accountCurrency ? foreignPerPoint(state, p.symbol) : undefined) })),
    ],
    recentOrderTimes: state.recentOrderTimes,
    locks: state.locks,
    instrument,
  };
}

const perPoint = (v: number | undefined): { valuePerPoint?: number } => (v === undefined ? {} : { valuePerPoint: v });

function foreignPerPoint(state: SessionState, symbol: string): number | undefined {
  const cached = state.instruments[symbol];
  return cached ? positionMoney(cached.instrument)?.perPoint : undefined;
}

/** Notes an order sent now, forgetting those older than the rate window. */
export function noteOrderSent(state: SessionState, now: number): void {
  state.recentOrderTimes = state.recentOrderTimes.filter((t) => t > now - MINUTE_MS);
  state.recentOrderTimes.push(now);
}
