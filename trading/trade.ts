import { bookedPnl } from './money';
import { directionOf, type Position } from './position';

/**
 * Why a position closed. `reconciled`: the broker closed it behind the session's back at a price the
 * session could not learn. `take-profit` / `trailing-stop`: an emulated exit a frame reached (closed at
 * market). `stop-failed`: the protective stop could not be placed after the entry filled, so the
 * position was closed at once. `session-close`: flattened at the schedule's `flattenAt`.
 */
export type ExitReason =
  | 'signal'
  | 'stop'
  | 'manual'
  | 'reverse'
  | 'reconciled'
  | 'take-profit'
  | 'trailing-stop'
  | 'stop-failed'
  | 'session-close';

/** A closed round trip: one position from entry to exit. `pnl` in account currency, net of fees (price units without money facts). */
export interface Trade {
  positionRef: string;
  exitClientOrderId: string;
  systemId: string;
  symbol: string;
  side: Position['side'];
  quantity: number;
  entryPrice: number;
  exitPrice: number;
  pnl: number;
  openedAt: number;
  closedAt: number;
  exitReason: ExitReason;
  /** A partial close: this part of the position closed, the rest stays open under the same positionRef. */
  partial?: true;
}

/** Rounded to 1e-8 like the DECIMAL(20,8) columns, so stored and in-memory P&L agree exactly. */
export function round8(x: number): number {
  return Math.round(x * 1e8) / 1e8;
}

export function closeTrade(
  p: Position,
  exit: { clientOrderId: string; price: number; at: number; reason: ExitReason },
): Trade {
  return {
    positionRef: p.positionRef,
    exitClientOrderId: exit.clientOrderId,
    systemId: p.systemId,
    symbol: p.symbol,
    side: p.side,
    quantity: p.quantity,
    entryPrice: p.entryPrice,
    exitPrice: exit.price,
    // With money facts: exact decimal, in account currency, fees of both fills taken (trading/money.ts).
    pnl: p.money === undefined ? round8((exit.price - p.entryPrice) * p.quantity * directionOf(p.side)) : bookedPnl(p, exit.price, p.money),
    openedAt: p.openedAt,
    closedAt: exit.at,
    exitReason: exit.reason,
  };
}
