/**
 * Alpaca JSON → domain types. Every response goes through zod (invariant 8): numbers arrive as decimal strings,
 * times as RFC-3339 with up to nanoseconds; a malformed answer is an AlpacaMalformedResponseError naming the
 * endpoint and every bad field.
 */
import { z } from 'zod';
import type { Quote } from '../adapter';
import type { OrderReport, OrderStatus } from '../../trading/order-report';
import { AlpacaMalformedResponseError } from './errors';

/** A decimal that Alpaca sends as a string ("10.5") or, in market data, as a JSON number. */
export const decimal = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const n = typeof v === 'number' ? v : v.trim() === '' ? NaN : Number(v);
  if (!Number.isFinite(n)) {
    ctx.addIssue({ code: 'custom', message: `expected a decimal number, got ${JSON.stringify(v)}` });
    return z.NEVER;
  }
  return n;
});

/** RFC-3339 time → epoch ms (sub-millisecond digits are dropped). */
export const timestamp = z.string().transform((v, ctx) => {
  const ms = Date.parse(v);
  if (!Number.isFinite(ms)) {
    ctx.addIssue({ code: 'custom', message: `expected an RFC-3339 time, got ${JSON.stringify(v)}` });
    return z.NEVER;
  }
  return ms;
});

/** The order object of trading API v2 (fields this adapter reads; the rest pass through unchecked). */
export const AlpacaOrderSchema = z
  .object({
    id: z.string().min(1),
    client_order_id: z.string().min(1),
    symbol: z.string().min(1),
    side: z.enum(['buy', 'sell']),
    type: z.string(),
    time_in_force: z.string(),
    status: z.string().min(1),
    qty: decimal.nullable().optional(),
    notional: decimal.nullable().optional(),
    filled_qty: decimal,
    filled_avg_price: decimal.nullable().optional(),
    stop_price: decimal.nullable().optional(),
    created_at: timestamp,
    submitted_at: timestamp.nullable().optional(),
    updated_at: timestamp.nullable().optional(),
    filled_at: timestamp.nullable().optional(),
    canceled_at: timestamp.nullable().optional(),
    expired_at: timestamp.nullable().optional(),
    failed_at: timestamp.nullable().optional(),
  })
  .passthrough();
export type AlpacaOrder = z.infer<typeof AlpacaOrderSchema>;

export const AlpacaOrderListSchema = z.array(AlpacaOrderSchema);

export const AlpacaPositionSchema = z
  .object({
    asset_id: z.string().min(1),
    symbol: z.string().min(1),
    /** Signed: negative for a short. */
    qty: decimal,
    side: z.enum(['long', 'short']),
    avg_entry_price: decimal,
  })
  .passthrough();
export type AlpacaPosition = z.infer<typeof AlpacaPositionSchema>;
export const AlpacaPositionListSchema = z.array(AlpacaPositionSchema);

export const AlpacaAccountSchema = z
  .object({
    id: z.string().min(1),
    status: z.string(),
    currency: z.string().regex(/^[A-Z]{3}$/, 'expected a 3-letter currency code'),
    cash: decimal,
    equity: decimal,
  })
  .passthrough();
export type AlpacaAccount = z.infer<typeof AlpacaAccountSchema>;

/** `GET /v2/assets/{symbol}`: the fields the instrument check reads. */
export const AlpacaAssetSchema = z
  .object({
    symbol: z.string().min(1),
    status: z.string(),
    tradable: z.boolean(),
    fractionable: z.boolean().nullish(),
    min_order_size: decimal.nullish(),
    min_trade_increment: decimal.nullish(),
  })
  .passthrough();
export type AlpacaAsset = z.infer<typeof AlpacaAssetSchema>;

/** `GET /v2/clock`: whether the market is open now. */
export const AlpacaClockSchema = z.object({ timestamp: timestamp, is_open: z.boolean() }).passthrough();

/** One bar of market data v2: `t` is the bar's start. Prices are checked by FrameSchema afterwards. */
export const AlpacaBarSchema = z
  .object({ t: timestamp, o: z.number(), h: z.number(), l: z.number(), c: z.number(), v: z.number() })
  .passthrough();
export type AlpacaBar = z.infer<typeof AlpacaBarSchema>;

export const AlpacaBarsPageSchema = z
  .object({
    bars: z.array(AlpacaBarSchema).nullable(),
    next_page_token: z.string().nullable().optional(),
  })
  .passthrough();

export const AlpacaLatestQuoteSchema = z
  .object({
    quote: z
      .object({
        t: timestamp,
        ap: z.number().finite().positive('ask price must be positive (0 means no ask on this feed now)'),
        bp: z.number().finite().positive('bid price must be positive (0 means no bid on this feed now)'),
      })
      .passthrough(),
  })
  .passthrough();

/** Parses `json` with `schema`; a mismatch is an AlpacaMalformedResponseError naming the endpoint and fields. */
export function parseResponse<T extends z.ZodTypeAny>(schema: T, json: unknown, endpoint: string): z.output<T> {
  const r = schema.safeParse(json);
  if (r.success) return r.data;
  const issues = r.error.issues.slice(0, 8).map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`);
  const more = r.error.issues.length > 8 ? ` (+${r.error.issues.length - 8} more)` : '';
  throw new AlpacaMalformedResponseError(`malformed Alpaca response from ${endpoint}: ${issues.join('; ')}${more}`, endpoint);
}

/** Statuses after which Alpaca changes the order no more. */
const TERMINAL = new Set(['filled', 'canceled', 'expired', 'rejected', 'replaced']);
/** Statuses of an order that is still working (can fill, can be canceled). */
export const OPEN_STATUSES = new Set([
  'new',
  'accepted',
  'pending_new',
  'accepted_for_bidding',
  'partially_filled',
  'held',
  'pending_replace',
  'pending_cancel',
  'done_for_day',
  'calculated',
  'stopped',
  'suspended',
]);

export function isTerminal(o: AlpacaOrder): boolean {
  return TERMINAL.has(o.status);
}

/** Whether a cancel request can still apply (Alpaca answers 422 to a cancel of anything else). */
export function isCancelable(o: AlpacaOrder): boolean {
  return OPEN_STATUSES.has(o.status) && o.status !== 'pending_cancel';
}

/**
 * Alpaca's order status → ours:
 * - `filled` → filled;
 * - `canceled` / `expired` / `replaced` after a partial fill → filled for the part that filled (money moved);
 *   with nothing filled → rejected, with Alpaca's status as the reason;
 * - `rejected` → rejected;
 * - anything still working (new, accepted, pending_new, partially_filled, held, done_for_day, ...) or a status this
 *   adapter does not know → pending (never guessed as filled or failed: reconciliation settles it).
 */
export function statusOf(o: AlpacaOrder): { status: OrderStatus; reason?: string } {
  switch (o.status) {
    case 'filled':
      return { status: 'filled' };
    case 'rejected':
      return { status: 'rejected', reason: 'rejected by Alpaca' };
    case 'canceled':
    case 'expired':
    case 'replaced':
      return o.filled_qty > 0
        ? { status: 'filled', reason: `${o.status} after a partial fill of ${o.filled_qty} of ${o.qty ?? '?'}` }
        : { status: 'rejected', reason: `${o.status} at Alpaca with nothing filled` };
    default:
      if (OPEN_STATUSES.has(o.status)) return { status: 'pending', ...(o.filled_qty > 0 ? { reason: `${o.status}: ${o.filled_qty} filled so far` } : {}) };
      return { status: 'pending', reason: `unrecognised Alpaca order status "${o.status}"` };
  }
}

export function toOrderReport(o: AlpacaOrder): OrderReport {
  const { status, reason } = statusOf(o);
  const filled = o.filled_qty > 0;
  return {
    clientOrderId: o.client_order_id,
    brokerOrderId: o.id,
    status,
    symbol: o.symbol,
    side: o.side,
    quantity: o.qty ?? o.filled_qty,
    filledQuantity: o.filled_qty,
    fillPrice: filled ? (o.filled_avg_price ?? 0) : 0,
    filledAt: filled ? (o.filled_at ?? o.updated_at ?? null) : null,
    ...(reason ? { reason } : {}),
  };
}

export function toQuote(symbol: string, q: z.output<typeof AlpacaLatestQuoteSchema>): Quote {
  return { symbol, bid: q.quote.bp, ask: q.quote.ap, time: q.quote.t };
}

/** A quantity or price as Alpaca wants it: a plain decimal string, never exponent notation. */
export function decimalString(n: number, maxDecimals = 9): string {
  const s = n.toFixed(maxDecimals);
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

/**
 * Alpaca's minimum price increment for US equities: a cent at or above $1, a hundredth of a cent below.
 * Sub-penny stop prices are refused, so a stop level is rounded to the nearest allowed tick.
 */
export function roundToTick(price: number): number {
  const decimals = price >= 1 ? 2 : 4;
  const f = 10 ** decimals;
  return Math.round(price * f) / f;
}
