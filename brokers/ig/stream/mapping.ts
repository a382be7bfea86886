/**
 * Pure mapping of IG's Lightstreamer items onto the project's types (no I/O). Items and fields, as IG's streaming
 * API documents them:
 * - `CHART:{epic}:{scale}` (MERGE), scale SECOND | 1MINUTE | 5MINUTE | HOUR: BID_OPEN/HIGH/LOW/CLOSE,
 *   OFR_OPEN/HIGH/LOW/CLOSE, UTM (the candle's time, epoch ms), CONS_END (1 once the candle is complete),
 *   CONS_TICK_COUNT. The LTP_* and LTV fields exist only for instruments with a traded price and volume, and IG
 *   rejects the whole subscription when one requested field is unavailable, so they are never asked for.
 *   A frame is the mid of bid and offer, delivered only when CONS_END = 1.
 * - `TRADE:{accountId}` (DISTINCT): CONFIRMS (a deal confirmation, the JSON of GET /confirms), OPU (open position
 *   update), WOU (working order update), each a JSON string.
 * - `ACCOUNT:{accountId}` (MERGE): PNL, DEPOSIT, AVAILABLE_CASH, FUNDS, MARGIN, EQUITY, AVAILABLE_TO_DEAL.
 * Every payload goes through zod; a malformed one is returned as `{ issues }`, never thrown.
 * Assumption (IG's docs do not spell it out): UTM of a candle is its start time; a UTM that is not aligned to the
 * scale is refused as an invalid frame rather than guessed.
 */
import { z } from 'zod';
import { InvalidFrameError, parseFrame } from '../../../market/frame';
import type { Timeframe } from '../../../market/timeframe';
import type { StreamAccountEvent, StreamFrameEvent, StreamOrderEvent, StreamPositionEvent } from '../../stream-events';
import { confirmToReport, IgConfirmBodySchema, parseIgUtc, sideOf } from '../parsing';

export type IgFields = Readonly<Record<string, string | null | undefined>>;

/** The CHART fields requested: served for every instrument kind. */
export const CHART_FIELDS = ['BID_OPEN', 'BID_HIGH', 'BID_LOW', 'BID_CLOSE', 'OFR_OPEN', 'OFR_HIGH', 'OFR_LOW', 'OFR_CLOSE', 'UTM', 'CONS_END', 'CONS_TICK_COUNT'] as const;
export const TRADE_FIELDS = ['CONFIRMS', 'OPU', 'WOU'] as const;
export const ACCOUNT_FIELDS = ['PNL', 'DEPOSIT', 'AVAILABLE_CASH', 'FUNDS', 'MARGIN', 'EQUITY', 'AVAILABLE_TO_DEAL'] as const;

/** The chart scales IG streams, by timeframe; timeframes missing here are not streamed (REST fills them). */
export const IG_CHART_SCALE: Readonly<Partial<Record<Timeframe, string>>> = Object.freeze({ '1m': '1MINUTE', '5m': '5MINUTE', '1h': 'HOUR' });

export const chartItem = (epic: string, timeframe: Timeframe): string => {
  const scale = IG_CHART_SCALE[timeframe];
  if (!scale) throw new Error(`IG streams no ${timeframe} candles (scales: ${Object.keys(IG_CHART_SCALE).join(', ')})`);
  return `CHART:${epic}:${scale}`;
};
export const tradeItem = (accountId: string) => `TRADE:${accountId}`;
export const accountItem = (accountId: string) => `ACCOUNT:${accountId}`;

const num = (v: string | null | undefined): number | null => {
  if (v === null || v === undefined || v.trim() === '') return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
};
const round10 = (x: number) => Math.round(x * 1e10) / 1e10;

/**
 * A CHART update → a Frame of the mid prices, or null while the candle is still forming (CONS_END ≠ 1). Fields are
 * the item's current values (MERGE: a field unchanged since the last update keeps its value).
 */
export function chartToFrameEvent(symbol: string, timeframe: Timeframe, f: IgFields): StreamFrameEvent | null | { issues: string[] } {
  if (f['CONS_END'] !== '1') return null;
  const issues: string[] = [];
  const mid = (side: 'OPEN' | 'HIGH' | 'LOW' | 'CLOSE') => {
    const b = num(f[`BID_${side}`]);
    const o = num(f[`OFR_${side}`]);
    if (b === null || o === null) {
      issues.push(`${side.toLowerCase()}: needs BID_${side} and OFR_${side}, got ${f[`BID_${side}`]} / ${f[`OFR_${side}`]}`);
      return NaN;
    }
    return round10((b + o) / 2);
  };
  const input = { symbol, timeframe, start: num(f['UTM']), open: mid('OPEN'), high: mid('HIGH'), low: mid('LOW'), close: mid('CLOSE'), volume: num(f['CONS_TICK_COUNT']) ?? 0 };
  if (input.start === null) issues.push(`start: UTM is not a time (${f['UTM']})`);
  if (issues.length) return { issues };
  try {
    return { kind: 'frame', venue: 'ig', frame: parseFrame(input) };
  } catch (err) {
    if (err instanceof InvalidFrameError) return { issues: err.issues };
    throw err;
  }
}

const json = (raw: string, what: string): unknown | { issues: string[] } => {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return { issues: [`${what}: not JSON`] };
  }
};
const issuesOf = (what: string, e: z.ZodError) => ({ issues: e.issues.map((i) => `${what}.${i.path.join('.') || 'value'}: ${i.message}`) });
const isIssues = (x: unknown): x is { issues: string[] } => typeof x === 'object' && x !== null && 'issues' in x;

const optNum = z.number().finite().nullish();
const PositionUpdateSchema = z
  .object({
    dealReference: z.string().nullish(),
    dealId: z.string().min(1),
    direction: z.enum(['BUY', 'SELL']),
    epic: z.string().min(1),
    status: z.enum(['OPEN', 'UPDATED', 'DELETED']),
    dealStatus: z.enum(['ACCEPTED', 'REJECTED']).nullish(),
    level: optNum,
    size: z.number().finite().nonnegative(),
    stopLevel: optNum,
    limitLevel: optNum,
    channel: z.string().nullish(),
    timestamp: z.string().nullish(),
  })
  .passthrough();

const WorkingOrderUpdateSchema = PositionUpdateSchema.extend({ orderType: z.string().nullish() });

/**
 * One TRADE update (DISTINCT: each update carries one of CONFIRMS, OPU, WOU) → its events.
 * - CONFIRMS → an order event through the REST `confirmToReport` (ACCEPTED → filled at `level`; REJECTED → rejected),
 *   the clientOrderId being the deal reference;
 * - OPU → a position event (open, updated, deleted) with the channel that made it (SYSTEM: IG's own stop);
 * - WOU → an order event of the working order: rejected when IG refused it, pending otherwise (a DELETED working
 *   order was filled or cancelled: the stream does not say which, REST settles it).
 */
export function tradeToEvents(f: IgFields): (StreamOrderEvent | StreamPositionEvent | { issues: string[] })[] {
  const out: (StreamOrderEvent | StreamPositionEvent | { issues: string[] })[] = [];
  if (f['CONFIRMS']) out.push(confirmToEvent(f['CONFIRMS']));
  if (f['OPU']) out.push(positionUpdateToEvent(f['OPU']));
  if (f['WOU']) out.push(workingOrderUpdateToEvent(f['WOU']));
  return out;
}

export function confirmToEvent(raw: string): StreamOrderEvent | { issues: string[] } {
  const j = json(raw, 'CONFIRMS');
  if (isIssues(j)) return j;
  const r = IgConfirmBodySchema.safeParse(j);
  if (!r.success) return issuesOf('CONFIRMS', r.error);
  const c = r.data;
  if (!c.dealReference || !c.epic || !c.direction) return { issues: ['CONFIRMS: needs dealReference, epic and direction'] };
  try {
    const report = confirmToReport(c, { clientOrderId: c.dealReference, symbol: c.epic, side: sideOf(c.direction), quantity: c.size ?? 0 });
    return { kind: 'order', venue: 'ig', event: 'CONFIRMS', report, at: parseIgUtc(c.date) };
  } catch (err) {
    return { issues: [`CONFIRMS: ${(err as Error).message}`] };
  }
}

export function positionUpdateToEvent(raw: string): StreamPositionEvent | { issues: string[] } {
  const j = json(raw, 'OPU');
  if (isIssues(j)) return j;
  const r = PositionUpdateSchema.safeParse(j);
  if (!r.success) return issuesOf('OPU', r.error);
  const p = r.data;
  return {
    kind: 'position',
    venue: 'ig',
    status: p.status === 'OPEN' ? 'open' : p.status === 'UPDATED' ? 'updated' : 'deleted',
    dealReference: p.dealReference ?? null,
    dealId: p.dealId,
    symbol: p.epic,
    side: sideOf(p.direction),
    size: p.size,
    level: p.level ?? null,
    stopLevel: p.stopLevel ?? null,
    limitLevel: p.limitLevel ?? null,
    channel: p.channel ?? null,
    at: parseIgUtc(p.timestamp),
  };
}

export function workingOrderUpdateToEvent(raw: string): StreamOrderEvent | { issues: string[] } {
  const j = json(raw, 'WOU');
  if (isIssues(j)) return j;
  const r = WorkingOrderUpdateSchema.safeParse(j);
  if (!r.success) return issuesOf('WOU', r.error);
  const w = r.data;
  if (!w.dealReference) return { issues: ['WOU: needs dealReference'] };
  const rejected = w.dealStatus === 'REJECTED';
  return {
    kind: 'order',
    venue: 'ig',
    event: 'WOU',
    report: {
      clientOrderId: w.dealReference,
      brokerOrderId: w.dealId,
      status: rejected ? 'rejected' : 'pending',
      symbol: w.epic,
      side: sideOf(w.direction),
      quantity: w.size,
      filledQuantity: 0,
      fillPrice: 0,
      filledAt: null,
      reason: rejected ? 'IG REJECTED the working order' : `working order ${w.status.toLowerCase()}${w.status === 'DELETED' ? ' (filled or cancelled: REST settles it)' : ''}`,
    },
    at: parseIgUtc(w.timestamp),
  };
}

/** An ACCOUNT update → balance and P&L (fields not sent are null). */
export function accountToEvent(accountId: string, f: IgFields): StreamAccountEvent {
  return {
    kind: 'account',
    venue: 'ig',
    account: accountId,
    pnl: num(f['PNL']),
    deposit: num(f['DEPOSIT']),
    availableCash: num(f['AVAILABLE_CASH']),
    funds: num(f['FUNDS']),
    margin: num(f['MARGIN']),
    equity: num(f['EQUITY']),
    availableToDeal: num(f['AVAILABLE_TO_DEAL']),
  };
}
