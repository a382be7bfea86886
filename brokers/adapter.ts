import type { Frame } from '../market/frame';
import type { Timeframe } from '../market/timeframe';
import { stopOrderId } from '../trading/client-order-id';
import type { Instrument } from '../trading/instrument';
import type { OrderReport, StopReport } from '../trading/order-report';
import { StopRequestSchema, type OrderRequest, type StopRequest } from '../trading/order-request';
import { InvalidOrderError } from './errors';

// The domain words (orders, stops, their reports, instruments) live in trading/; the port re-exports them
// so that code written against brokers/adapter keeps compiling.
export { OrderRequestSchema, StopRequestSchema, type OrderRequest, type OrderSide, type StopRequest } from '../trading/order-request';
export { stopReport, unfilledReport, type OrderReport, type OrderStatus, type StopReport } from '../trading/order-report';
export type { Instrument } from '../trading/instrument';

export interface BrokerPosition {
  /** clientOrderId of the order that opened the position. */
  positionRef: string;
  brokerPositionId: string;
  symbol: string;
  side: 'long' | 'short';
  quantity: number;
  entryPrice: number;
  stopLevel?: number;
}

/** Best bid/ask of a symbol at the broker, with the broker's time of the quote. */
export interface Quote {
  symbol: string;
  bid: number;
  ask: number;
  /** Epoch ms. */
  time: number;
}

/** Closed frames of one stream in an inclusive range of frame starts (epoch ms). */
export interface CandleRequest {
  symbol: string;
  timeframe: Timeframe;
  fromStart: number;
  toStart: number;
}

export interface AccountSnapshot {
  account: string;
  currency: string;
  balance: number;
}

/** What a venue can do natively; the core checks capabilities, never broker names. */
export interface BrokerCapabilities {
  supportsStopOrders: boolean;
  supportsClientOrderId: boolean;
}

/**
 * The one interface the core uses to talk to any broker. Implementations keep invariant 1:
 * `placeOrder` looks the clientOrderId up first and returns the existing order if there is one.
 */
export interface BrokerAdapter {
  readonly name: string;
  readonly capabilities: BrokerCapabilities;
  getAccount(account: string): Promise<AccountSnapshot>;
  getPositions(account: string): Promise<BrokerPosition[]>;
  placeOrder(order: OrderRequest): Promise<OrderReport>;
  /** The order with this clientOrderId, or null if the broker has never seen it. */
  getOrder(account: string, clientOrderId: string): Promise<OrderReport | null>;
  /** Closed frames only (a frame whose end is in the future is never returned), validated, in start order. */
  getCandles(request: CandleRequest): Promise<Frame[]>;
  getLatestPrice(symbol: string): Promise<Quote>;
  /** Whether the symbol can be traded now, and its minimum quantity and quantity step. */
  getInstrument(symbol: string): Promise<Instrument>;
  /**
   * Places (or finds) the protective stop of an open position; idempotent by stopOrderId(positionRef):
   * a stop already working at that level is reported `working` without a second one.
   */
  placeStop(req: StopRequest): Promise<StopReport>;
  close?(): Promise<void>;
}

/** The clientOrderId under which a broker records the fill of a position's protective stop (`<positionRef>-S`). */
export { stopOrderId };

/** A stop that would trigger at once: long at or above the bid (price), short at or below the ask (price). */
export function stopOnWrongSide(side: 'long' | 'short', stopLevel: number, price: { bid: number; ask: number }): boolean {
  return side === 'long' ? stopLevel >= price.bid : stopLevel <= price.ask;
}

/** Validates a StopRequest at the adapter's edge; a bad one is an InvalidOrderError naming the fields. */
export function parseStopRequest(input: StopRequest, broker: string): StopRequest {
  const parsed = StopRequestSchema.safeParse(input);
  if (!parsed.success) {
    throw new InvalidOrderError(`invalid stop request: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, broker);
  }
  return parsed.data;
}
