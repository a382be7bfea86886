/**
 * What broker streams deliver (issue 15), in the project's own words. Every stream event is a hint: the session
 * settles an order from it at once, and the REST reconciliation that follows every reconnect books whatever a
 * stream lost. An event may arrive twice (the venue re-sends, or REST already booked it), so consumers must be
 * idempotent by `report.clientOrderId` and `report.filledQuantity`.
 */
import type { Frame } from '../market/frame';
import type { OrderReport } from '../trading/order-report';

export type StreamVenue = 'alpaca' | 'ig';

/** An order changed at the venue: the order's whole state as an OrderReport (the same mapping as REST). */
export interface StreamOrderEvent {
  kind: 'order';
  venue: StreamVenue;
  /** The venue's event name: Alpaca `new`, `fill`, `partial_fill`, `canceled`, ...; IG `CONFIRMS`, `WOU`. */
  event: string;
  report: OrderReport;
  /** The execution this event reports (a fill or partial fill), when the venue says. */
  execution?: { quantity: number; price: number; at: number | null; id?: string };
  /** Venue time of the event (epoch ms), when given. */
  at: number | null;
}

/** A completed frame (candle) from a market-data stream. */
export interface StreamFrameEvent {
  kind: 'frame';
  venue: StreamVenue;
  frame: Frame;
}

/** A position changed at the venue (IG `OPU`): opened, updated (stop, limit, size) or deleted (closed). */
export interface StreamPositionEvent {
  kind: 'position';
  venue: StreamVenue;
  /** OPEN, UPDATED or DELETED. */
  status: 'open' | 'updated' | 'deleted';
  /** The deal reference the update carries (for an open: the clientOrderId of the entry). */
  dealReference: string | null;
  dealId: string;
  symbol: string;
  side: 'buy' | 'sell';
  size: number;
  level: number | null;
  stopLevel: number | null;
  limitLevel: number | null;
  /** Who made the change at the venue (IG channel: PUBLIC_WEB_API, WEB, SYSTEM, ...). */
  channel: string | null;
  at: number | null;
}

/** Balance and P&L of an account (IG `ACCOUNT`). Fields the venue left out are null. */
export interface StreamAccountEvent {
  kind: 'account';
  venue: StreamVenue;
  account: string;
  pnl: number | null;
  deposit: number | null;
  availableCash: number | null;
  funds: number | null;
  margin: number | null;
  equity: number | null;
  availableToDeal: number | null;
}

export type StreamEvent = StreamOrderEvent | StreamFrameEvent | StreamPositionEvent | StreamAccountEvent;
