import { timeframeMs, type Timeframe } from '../market/timeframe';
import type { Decision, EntryOrder } from '../systems/types';

/**
 * A limit or stop entry the session emulates from frames: it waits in the session's state until a frame
 * reaches its price, then goes to the broker as a market order (with its stop, take-profit and trailing
 * distance), or it expires. One per system at most; a new limit/stop entry replaces it.
 */
export interface WorkingOrder {
  /** workingOrderRef(account, n): its own per-account counter; it takes an order seq only when it triggers. */
  ref: string;
  systemId: string;
  symbol: string;
  side: 'buy' | 'sell';
  quantity: number;
  type: 'limit' | 'stop';
  price: number;
  /** The decision's protective stop, take-profit and trailing distance, for the position it opens. */
  stop?: number;
  takeProfit?: number;
  trailingStop?: number;
  /** Start of the frame whose decision placed it. */
  createdAt: number;
  /** workingOrderExpiresAt(createdAt, timeframe, expiresAfterMs); absent = good until cancelled. */
  expiresAt?: number;
}

/** The ref of the account's n-th working order (`<account>-WNNNNNN`); the whole id grammar is in client-order-id.ts. */
export { workingOrderRef } from './client-order-id';

/**
 * When an entry with `expiresAfterMs` placed on a frame expires: that long after the decision, which
 * is taken at the frame's end (frame start + timeframe).
 */
export function workingOrderExpiresAt(frameStart: number, timeframeMs: number, expiresAfterMs: number): number {
  return frameStart + timeframeMs + expiresAfterMs;
}

/**
 * Whether a frame reached the order's price: limit buy low ≤ price, limit sell high ≥ price (at or
 * better); stop buy high ≥ price, stop sell low ≤ price (at or beyond). Only frames after the one that
 * placed it count: that frame's range happened before the decision.
 */
export function workingOrderTriggered(wo: WorkingOrder, frame: { start: number; high: number; low: number }): boolean {
  if (frame.start <= wo.createdAt) return false;
  const touchesAbove = frame.high >= wo.price;
  const touchesBelow = frame.low <= wo.price;
  if (wo.type === 'limit') return wo.side === 'buy' ? touchesBelow : touchesAbove;
  return wo.side === 'buy' ? touchesAbove : touchesBelow;
}

/** Whether the order has expired at `now` (the session checks at a frame's end: frame.start + timeframe). */
export function workingOrderExpired(wo: WorkingOrder, now: number): boolean {
  return wo.expiresAt !== undefined && now >= wo.expiresAt;
}

/**
 * The working order a buy/sell decision with a limit/stop `entry` places on `frame`: its side, quantity
 * and legs from the decision, created at the frame's start, expiring `expiresAfterMs` after the decision.
 */
export function workingOrderFor(
  ref: string,
  systemId: string,
  d: Decision,
  entry: Extract<EntryOrder, { type: 'limit' | 'stop' }>,
  frame: { symbol: string; start: number; timeframe: Timeframe },
): WorkingOrder {
  return {
    ref,
    systemId,
    symbol: frame.symbol,
    side: d.action === 'buy' ? 'buy' : 'sell',
    quantity: d.quantity,
    type: entry.type,
    price: entry.price,
    ...(d.stop !== undefined ? { stop: d.stop } : {}),
    ...(d.takeProfit !== undefined ? { takeProfit: d.takeProfit } : {}),
    ...(d.trailingStop !== undefined ? { trailingStop: d.trailingStop } : {}),
    createdAt: frame.start,
    ...(entry.expiresAfterMs !== undefined ? { expiresAt: workingOrderExpiresAt(frame.start, timeframeMs(frame.timeframe), entry.expiresAfterMs) } : {}),
  };
}
