/**
 * Pure mapping of Alpaca's stream messages onto the project's types (no I/O):
 * - trading stream `trade_updates` (`{stream:'trade_updates', data:{event, order, timestamp, price, qty, ...}}`) →
 *   StreamOrderEvent, whose report comes from the same `toOrderReport` as REST, so a stream and a poll agree;
 * - market-data stream v2 arrays (`[{T:'b', S, o, h, l, c, v, t}, ...]`) → StreamFrameEvent of 1-minute frames
 *   (Alpaca's minute bar is stamped with its start and sent once that minute has ended);
 * - control messages (authorization, listening, success, subscription, error) → a small tagged union.
 * Every message goes through zod (invariant 8); a malformed one is reported with its issues, never thrown.
 */
import { z } from 'zod';
import { InvalidFrameError, parseFrame } from '../../../market/frame';
import type { StreamFrameEvent, StreamOrderEvent } from '../../stream-events';
import { AlpacaOrderSchema, decimal, timestamp as time, toOrderReport } from '../parsing';

/** The trade_updates events Alpaca documents; any other name is still mapped (the order's status decides). */
export const TRADE_UPDATE_EVENTS = [
  'new',
  'fill',
  'partial_fill',
  'canceled',
  'expired',
  'done_for_day',
  'replaced',
  'rejected',
  'pending_new',
  'stopped',
  'pending_cancel',
  'pending_replace',
  'calculated',
  'suspended',
  'order_replace_rejected',
  'order_cancel_rejected',
] as const;

export const TradeUpdateSchema = z
  .object({
    event: z.string().min(1),
    order: AlpacaOrderSchema,
    timestamp: time.nullish(),
    execution_id: z.string().nullish(),
    /** For fill / partial_fill: this execution's price and quantity. */
    price: decimal.nullish(),
    qty: decimal.nullish(),
    position_qty: decimal.nullish(),
  })
  .passthrough();

export type TradingStreamMessage =
  | { type: 'authorization'; authorized: boolean; action: string | null }
  | { type: 'listening'; streams: string[] }
  | { type: 'trade_update'; event: StreamOrderEvent }
  | { type: 'invalid'; issues: string[] }
  | { type: 'other'; stream: string };

const issuesOf = (e: z.ZodError) => e.issues.map((i) => `${i.path.join('.') || 'message'}: ${i.message}`);

/** One trading-stream message (already JSON-decoded). */
export function parseTradingStreamMessage(msg: unknown): TradingStreamMessage {
  const env = z.object({ stream: z.string(), data: z.unknown() }).safeParse(msg);
  if (!env.success) return { type: 'invalid', issues: issuesOf(env.error) };
  const { stream, data } = env.data;
  if (stream === 'authorization') {
    const a = z.object({ status: z.string(), action: z.string().nullish() }).passthrough().safeParse(data);
    if (!a.success) return { type: 'invalid', issues: issuesOf(a.error) };
    return { type: 'authorization', authorized: a.data.status === 'authorized', action: a.data.action ?? null };
  }
  if (stream === 'listening') {
    const l = z.object({ streams: z.array(z.string()) }).passthrough().safeParse(data);
    if (!l.success) return { type: 'invalid', issues: issuesOf(l.error) };
    return { type: 'listening', streams: l.data.streams };
  }
  if (stream === 'trade_updates') {
    const r = tradeUpdateToEvent(data);
    return 'issues' in r ? { type: 'invalid', issues: r.issues } : { type: 'trade_update', event: r };
  }
  return { type: 'other', stream };
}

/**
 * The `data` of a trade_updates message → StreamOrderEvent. The report is the order's whole state (toOrderReport):
 * `new` → pending; `partial_fill` → pending with filledQuantity so far; `fill` → filled; `canceled` / `expired` /
 * `replaced` → rejected when nothing filled, filled for the part that did; `rejected` → rejected. The event name is
 * kept, and `execution` carries this fill's own price and quantity.
 */
export function tradeUpdateToEvent(data: unknown): StreamOrderEvent | { issues: string[] } {
  const r = TradeUpdateSchema.safeParse(data);
  if (!r.success) return { issues: issuesOf(r.error) };
  const u = r.data;
  const base = toOrderReport(u.order);
  const report = u.event === 'rejected' ? { ...base, status: 'rejected' as const, reason: rejectedReason(u) } : base;
  const isFill = u.event === 'fill' || u.event === 'partial_fill';
  const at = u.timestamp ?? null;
  return {
    kind: 'order',
    venue: 'alpaca',
    event: u.event,
    report,
    ...(isFill && u.price != null && u.qty != null ? { execution: { quantity: u.qty, price: u.price, at, ...(u.execution_id ? { id: u.execution_id } : {}) } } : {}),
    at,
  };
}

function rejectedReason(u: z.infer<typeof TradeUpdateSchema>): string {
  const why = (u as Record<string, unknown>)['reason'];
  return `rejected by Alpaca${typeof why === 'string' && why ? `: ${why}` : ''}`;
}

const BarSchema = z
  .object({ T: z.literal('b'), S: z.string().min(1), o: decimal, h: decimal, l: decimal, c: decimal, v: decimal.nullish(), t: time })
  .passthrough();

export type DataStreamMessage =
  | { type: 'success'; msg: string }
  | { type: 'error'; code: number; msg: string }
  | { type: 'subscription'; bars: string[] }
  | { type: 'bar'; event: StreamFrameEvent }
  | { type: 'invalid'; issues: string[] }
  | { type: 'other'; T: string };

/** A market-data stream frame (a JSON array of messages) → its messages, in order. */
export function parseDataStreamMessages(payload: unknown): DataStreamMessage[] {
  const list = Array.isArray(payload) ? payload : [payload];
  return list.map(parseDataStreamMessage);
}

export function parseDataStreamMessage(m: unknown): DataStreamMessage {
  const env = z.object({ T: z.string() }).passthrough().safeParse(m);
  if (!env.success) return { type: 'invalid', issues: issuesOf(env.error) };
  const rec = env.data as Record<string, unknown>;
  switch (env.data.T) {
    case 'success':
      return { type: 'success', msg: String(rec['msg'] ?? '') };
    case 'error':
      return { type: 'error', code: Number(rec['code'] ?? 0), msg: String(rec['msg'] ?? '') };
    case 'subscription':
      return { type: 'subscription', bars: Array.isArray(rec['bars']) ? rec['bars'].map(String) : [] };
    case 'b': {
      const r = barToFrameEvent(m);
      return 'issues' in r ? { type: 'invalid', issues: r.issues } : { type: 'bar', event: r };
    }
    default:
      return { type: 'other', T: env.data.T };
  }
}

/** A `T:'b'` minute bar → a 1-minute Frame (validated by FrameSchema: positive prices, high ≥ low, aligned start). */
export function barToFrameEvent(m: unknown): StreamFrameEvent | { issues: string[] } {
  const r = BarSchema.safeParse(m);
  if (!r.success) return { issues: issuesOf(r.error) };
  const b = r.data;
  try {
    const frame = parseFrame({ symbol: b.S, timeframe: '1m', start: b.t, open: b.o, high: b.h, low: b.l, close: b.c, volume: b.v ?? 0 });
    return { kind: 'frame', venue: 'alpaca', frame };
  } catch (err) {
    if (err instanceof InvalidFrameError) return { issues: err.issues };
    throw err;
  }
}
