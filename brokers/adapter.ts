import { z } from 'zod';
import type { Frame } from '../market/frame';
import type { Timeframe } from '../market/timeframe';

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

/** The clientOrderId under which a broker records the fill of a position's protective stop. */
export function stopOrderId(positionRef: string): string {
  return `${positionRef}-S`;
}
