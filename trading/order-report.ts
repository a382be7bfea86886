import { stopOrderId } from './client-order-id';
import type { OrderRequest, OrderSide, StopRequest } from './order-request';

export type OrderStatus = 'filled' | 'rejected' | 'pending' | 'dry-run';

/** The broker's report of one order, found by its clientOrderId. */
export interface OrderReport {
  clientOrderId: string;
  brokerOrderId: string;
  status: OrderStatus;
  symbol: string;
  side: OrderSide;
  quantity: number;
  filledQuantity: number;
  /** Average fill price; 0 when nothing filled. */
  fillPrice: number;
  /** Broker time of the fill (epoch ms), from the venue's clock or price feed. */
  filledAt: number | null;
  reason?: string;
  /**
   * A refused close only: whether the position's protective stop is live at the broker after the refusal
   * (a venue that cancels the stop before sending the close puts it back; `false` when it could not).
   * Absent: the close left the stop as it was (IG keeps it on the position; paper has none to cancel).
   */
  stopLive?: boolean;
}

/**
 * The broker's answer about a protective stop: `working` (resting at the broker), `filled` (it already
 * closed the position) or `rejected` (refused: wrong side of the price, position not open, ...; a retry
 * cannot help). Transient failures are thrown as retryable BrokerErrors instead.
 */
export interface StopReport {
  /** stopOrderId(positionRef). */
  clientOrderId: string;
  status: 'working' | 'filled' | 'rejected';
  stopLevel: number;
  reason?: string;
}

/** A report of an order that filled nothing: refused by the broker (`rejected`) or never sent (`dry-run`). */
export function unfilledReport(
  order: Pick<OrderRequest, 'clientOrderId' | 'symbol' | 'side' | 'quantity'>,
  status: 'rejected' | 'dry-run',
  reason: string,
): OrderReport {
  return {
    clientOrderId: order.clientOrderId,
    brokerOrderId: '',
    status,
    symbol: order.symbol,
    side: order.side,
    quantity: order.quantity,
    filledQuantity: 0,
    fillPrice: 0,
    filledAt: null,
    reason,
  };
}

/** A StopReport for `req`. */
export function stopReport(req: Pick<StopRequest, 'positionRef' | 'stopLevel'>, status: StopReport['status'], reason?: string): StopReport {
  return { clientOrderId: stopOrderId(req.positionRef), status, stopLevel: req.stopLevel, ...(reason ? { reason } : {}) };
}
