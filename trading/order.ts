import type { OrderReport, OrderStatus } from './order-report';
import type { OrderSide } from './order-request';

/** The deterministic clientOrderId of an account's n-th order intent; the whole id grammar is in client-order-id.ts. */
export { clientOrderIdFor } from './client-order-id';

/** An order intent as the session records it in `mt_<account>.orders`, before and after the broker answers. */
export interface OrderRecord {
  clientOrderId: string;
  /** Per-account sequence; null for orders the broker generated itself (a triggered stop). */
  seq: number | null;
  systemId: string;
  symbol: string;
  side: OrderSide;
  quantity: number;
  intent: 'open' | 'close';
  positionRef?: string;
  stopLevel?: number;
  /**
   * `pending` until the broker answers; `unknown` when the outcome could not be settled; `accepted` or
   * `partially-filled` while it works at the broker (trading/order-lifecycle.ts). A protective
   * stop leg is `working` at the broker until it is `filled`, or `cancelled` when the position closed otherwise.
   */
  status: OrderStatus | 'unknown' | 'working' | 'cancelled' | 'accepted' | 'partially-filled' | 'expired';
  brokerOrderId?: string;
  fillPrice?: number;
  filledAt?: number | null;
  reason?: string;
  frameStart?: number;
}

export interface Fill {
  clientOrderId: string;
  symbol: string;
  side: OrderSide;
  quantity: number;
  price: number;
  filledAt: number | null;
}

export function fillOf(report: OrderReport): Fill | null {
  if (report.status !== 'filled' && report.status !== 'dry-run') return null;
  return {
    clientOrderId: report.clientOrderId,
    symbol: report.symbol,
    side: report.side,
    quantity: report.filledQuantity,
    price: report.fillPrice,
    filledAt: report.filledAt,
  };
}

/**
 * `record` as settled: one literal of the record's fields in their order, then the settlement's (what
 * `{ ...record, status, brokerOrderId, fillPrice, filledAt, reason }` gives, as JSON): a spread followed by
 * new keys takes V8's slow object-clone path, microseconds per order.
 */
export function settledRow(
  record: OrderRecord,
  status: OrderRecord['status'],
  brokerOrderId: string | undefined,
  fillPrice: number | undefined,
  filledAt: number | null | undefined,
  reason: string | undefined,
): OrderRecord {
  return {
    clientOrderId: record.clientOrderId,
    seq: record.seq,
    systemId: record.systemId,
    symbol: record.symbol,
    side: record.side,
    quantity: record.quantity,
    intent: record.intent,
    positionRef: record.positionRef,
    stopLevel: record.stopLevel,
    status,
    frameStart: record.frameStart,
    brokerOrderId,
    fillPrice,
    filledAt,
    reason,
  };
}
