import type { Side } from '../systems/types';
import type { PositionMoney } from './money';

/** An open position of one trading system, as the session sees it. */
export interface Position {
  /** clientOrderId of the order that opened it. */
  positionRef: string;
  systemId: string;
  symbol: string;
  side: Side;
  quantity: number;
  entryPrice: number;
  /** Protective stop level, native at the broker. */
  stop?: number;
  /**
   * `false` while the stop is known NOT to be at the broker (a refused close cancelled it and putting it
   * back failed, issue 11 item 2): the session places it again on every frame until it is live. Absent: live.
   */
  stopLive?: false;
  /** Take-profit level of a bracket, emulated from frames (`trading/exits.ts`). */
  takeProfit?: number;
  /** Trailing stop, emulated from frames: `level` follows the best price at `distance` (price units). */
  trailing?: { distance: number; level: number };
  /** Frame start (epoch ms) on which it was opened. */
  openedAt: number;
  /**
   * How its P&L turns into account currency (issue 11): the instrument's money facts when they are not
   * the identity. Absent: P&L in price units, which then are the account's money (paper defaults, older runs).
   */
  money?: PositionMoney;
}

export function directionOf(side: Side): 1 | -1 {
  return side === 'long' ? 1 : -1;
}

/** A mark, not a booking: binary floats, account currency when the position has money facts (no Decimal per bar). */
export function unrealisedPnl(p: Position, price: number): number {
  const move = (price - p.entryPrice) * p.quantity * directionOf(p.side);
  return p.money === undefined ? move : move * p.money.perPoint;
}

/**
 * Whether a frame's range touched a position's protective stop, and at which price the stop fills:
 * the stop level, or the open when the market gapped through it.
 */
export function stopTouched(
  p: Position,
  frame: { open: number; high: number; low: number },
): { touched: false } | { touched: true; price: number } {
  if (p.stop === undefined) return { touched: false };
  if (p.side === 'long' && frame.low <= p.stop) return { touched: true, price: Math.min(p.stop, frame.open) };
  if (p.side === 'short' && frame.high >= p.stop) return { touched: true, price: Math.max(p.stop, frame.open) };
  return { touched: false };
}
