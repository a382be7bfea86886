import { z } from 'zod';
import type { Frame } from '../market/frame';
import type { Timeframe } from '../market/timeframe';
import { stopOrderId } from '../trading/client-order-id';
import { InvalidOrderError } from './errors';

export type OrderSide = 'buy' | 'sell';

/**
 * A command to the broker. `intent: 'open'` opens a new position (with an optional protective
 * stop); `intent: 'close'` closes the position that the order `positionRef` (its entry
 * clientOrderId) opened.
 */
export const OrderRequestSchema = z
  .object({
    account: z.string().min(1),
    clientOrderId: z.string().min(1).max(64),
    symbol: z.string().min(1),
    side: z.enum(['buy', 'sell']),
    quantity: z.number().finite().positive('quantity must be positive'),
    type: z.literal('market'),
    intent: z.enum(['open', 'close']),
    stopLevel: z.number().finite().positive().optional(),
    positionRef: z.string().optional(),
  })
  .strict()
  .refine((o) => o.intent === 'open' || !!o.positionRef, {
    message: 'a close order needs positionRef (the clientOrderId that opened the position)',
    path: ['positionRef'],
  });
export type OrderRequest = z.infer<typeof OrderRequestSchema>;

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
}

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

/** Trading details of a symbol at the broker, for the pre-trade instrument checks. */
export interface Instrument {
  symbol: string;
  /** Orders can be sent now (the market is open and the instrument is enabled for trading). */
  tradable: boolean;
  /** The broker's own word for the market's state (IG `TRADEABLE`/`CLOSED`/`EDITS_ONLY`, Alpaca `open`/`closed`). */
  marketStatus: string;
  /** Smallest order quantity the broker takes; 0 = no minimum. */
  minQuantity: number;
  /** Quantities must be whole multiples of this; 0 = any quantity. */
  quantityStep: number;
  // Money facts (issue 11). Optional so that a venue that has not filled them yet means "1 unit of price
  // per unit of quantity, in the account's currency, no fees". Decimal strings: exact, and JSON-safe
  // through Temporal payloads.
  /** Money made by one unit of quantity when the price moves by 1.0, in `currency` (IG valueOfOnePoint × lot size; equities 1). */
  pointValue?: string;
  /** The currency P&L on this instrument is made in (IG the instrument's currency; Alpaca USD). */
  currency?: string;
  /** The account's currency (what balance, equity and the loss limits are in). */
  accountCurrency?: string;
  /** Account-currency units per unit of `currency` (1 when they are the same), from the venue's own data. */
  conversionRate?: string;
  /** Fees of one fill in account currency: a fixed amount per order plus a rate of the notional. */
  commission?: { perOrder: string; rateBps: number };
}

/** The protective stop to place on an open position (after its market entry filled). */
export const StopRequestSchema = z
  .object({
    account: z.string().min(1),
    /** clientOrderId of the entry that opened the position; the stop's id is stopOrderId(positionRef). */
    positionRef: z.string().min(1).max(62),
    symbol: z.string().min(1),
    positionSide: z.enum(['long', 'short']),
    quantity: z.number().finite().positive('quantity must be positive'),
    stopLevel: z.number().finite().positive('stopLevel must be positive'),
  })
  .strict();
export type StopRequest = z.infer<typeof StopRequestSchema>;

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

/** The clientOrderId under which a broker records the fill of a position's protective stop (`<positionRef>-S`). */
export { stopOrderId };

/** A stop that would trigger at once: long at or above the bid (price), short at or below the ask (price). */
export function stopOnWrongSide(side: 'long' | 'short', stopLevel: number, price: { bid: number; ask: number }): boolean {
  return side === 'long' ? stopLevel >= price.bid : stopLevel <= price.ask;
}

/** A StopReport for `req`. */
export function stopReport(req: Pick<StopRequest, 'positionRef' | 'stopLevel'>, status: StopReport['status'], reason?: string): StopReport {
  return { clientOrderId: stopOrderId(req.positionRef), status, stopLevel: req.stopLevel, ...(reason ? { reason } : {}) };
}

/** Validates a StopRequest at the adapter's edge; a bad one is an InvalidOrderError naming the fields. */
export function parseStopRequest(input: StopRequest, broker: string): StopRequest {
  const parsed = StopRequestSchema.safeParse(input);
  if (!parsed.success) {
    throw new InvalidOrderError(`invalid stop request: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, broker);
  }
  return parsed.data;
}
