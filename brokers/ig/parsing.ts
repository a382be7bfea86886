import { z } from 'zod';
import type { BrokerPosition } from '../adapter';
import type { OrderReport } from '../../trading/order-report';
import type { OrderSide } from '../../trading/order-request';
import { InvalidFrameError, parseFrame, type Frame } from '../../market/frame';
import { timeframeMs, type Timeframe } from '../../market/timeframe';
import { IgMalformedResponseError } from './errors';

/**
 * IG JSON → domain types. Every response is validated with zod before it is read: a malformed broker
 * answer is an IgMalformedResponseError naming the bad fields, never a TypeError deep in the adapter.
 * Schemas list the fields we read; IG's other fields pass through untouched.
 */

const num = z.number().finite();
const optNum = num.nullish();
const direction = z.enum(['BUY', 'SELL']);

export const IgErrorBodySchema = z.object({ errorCode: z.string() }).passthrough();

export const IgSessionV2BodySchema = z
  .object({ currentAccountId: z.string().min(1), lightstreamerEndpoint: z.string().nullish() })
  .passthrough();

const OAuthTokenSchema = z
  .object({
    access_token: z.string().min(1),
    refresh_token: z.string().min(1),
    token_type: z.string().min(1),
    // IG sends the lifetime in seconds as a string ("60").
    expires_in: z.union([z.string().regex(/^\d+$/), z.number().int().nonnegative()]).transform(Number),
    scope: z.string().nullish(),
  })
  .passthrough();
export type IgOAuthToken = z.infer<typeof OAuthTokenSchema>;

export const IgSessionV3BodySchema = z
  .object({ accountId: z.string().min(1), clientId: z.string().nullish(), oauthToken: OAuthTokenSchema })
  .passthrough();
export const IgRefreshBodySchema = OAuthTokenSchema;

export const IgAccountsBodySchema = z.object({
  accounts: z.array(
    z
      .object({
        accountId: z.string(),
        currency: z.string(),
        balance: z.object({ balance: num, available: optNum, deposit: optNum, profitLoss: optNum }).passthrough(),
      })
      .passthrough(),
  ),
});

export const IgPositionsBodySchema = z.object({
  positions: z.array(
    z
      .object({
        position: z
          .object({
            dealId: z.string().min(1),
            dealReference: z.string().nullish(),
            direction,
            size: num.positive(),
            level: num,
            stopLevel: optNum,
            limitLevel: optNum,
            createdDateUTC: z.string().nullish(),
            currency: z.string().nullish(),
          })
          .passthrough(),
        market: z.object({ epic: z.string().min(1), expiry: z.string().nullish(), bid: optNum, offer: optNum }).passthrough(),
      })
      .passthrough(),
  ),
});
export type IgPosition = z.infer<typeof IgPositionsBodySchema>['positions'][number];

export const IgDealReferenceBodySchema = z.object({ dealReference: z.string().min(1) }).passthrough();

export const IgConfirmBodySchema = z
  .object({
    dealReference: z.string().nullish(),
    dealStatus: z.enum(['ACCEPTED', 'REJECTED', 'FUND_ACCOUNT']),
    reason: z.string().nullish(),
    status: z.string().nullish(),
    date: z.string().nullish(),
    dealId: z.string().nullish(),
    epic: z.string().nullish(),
    level: optNum,
    size: optNum,
    direction: direction.nullish(),
    stopLevel: optNum,
    affectedDeals: z.array(z.object({ dealId: z.string(), status: z.string().nullish() }).passthrough()).nullish(),
  })
  .passthrough();
export type IgConfirm = z.infer<typeof IgConfirmBodySchema>;

const ActivitySchema = z
  .object({
    date: z.string().min(1),
    dealId: z.string().nullish(),
    epic: z.string().nullish(),
    status: z.string(),
    type: z.string(),
    channel: z.string().nullish(),
    description: z.string().nullish(),
    details: z
      .object({
        dealReference: z.string().nullish(),
        actions: z.array(z.object({ actionType: z.string(), affectedDealId: z.string().nullish() }).passthrough()).nullish(),
        direction: direction.nullish(),
        level: optNum,
        size: optNum,
        stopLevel: optNum,
      })
      .passthrough()
      .nullish(),
  })
  .passthrough();
export type IgActivity = z.infer<typeof ActivitySchema>;

export const IgActivityBodySchema = z.object({
  activities: z.array(ActivitySchema),
  metadata: z.object({ paging: z.object({ size: optNum, next: z.string().nullish() }).passthrough().nullish() }).passthrough().nullish(),
});

export const IgMarketBodySchema = z.object({
  instrument: z
    .object({
      epic: z.string().min(1),
      expiry: z.string().nullish(),
      currencies: z
        .array(z.object({ code: z.string(), isDefault: z.boolean().nullish(), baseExchangeRate: optNum, exchangeRate: optNum }).passthrough())
        .nullish(),
      /** IG sends it as a string ("10"); money per point of one contract, in the instrument's currency. */
      valueOfOnePoint: z.union([z.string(), num]).nullish(),
      lotSize: optNum,
    })
    .passthrough(),
  snapshot: z.object({ bid: optNum, offer: optNum, marketStatus: z.string().nullish() }).passthrough(),
  dealingRules: z
    .object({ minDealSize: z.object({ unit: z.string().nullish(), value: optNum }).passthrough().nullish() })
    .passthrough()
    .nullish(),
});
export type IgMarket = z.infer<typeof IgMarketBodySchema>;

const PricePoint = z.object({ bid: optNum, ask: optNum, lastTraded: optNum }).passthrough();
export const IgPricesBodySchema = z.object({
  prices: z.array(
    z
      .object({
        snapshotTimeUTC: z.string().min(1),
        openPrice: PricePoint,
        highPrice: PricePoint,
        lowPrice: PricePoint,
        closePrice: PricePoint,
        lastTradedVolume: optNum,
      })
      .passthrough(),
  ),
  metadata: z
    .object({ pageData: z.object({ pageNumber: num, totalPages: num }).passthrough().nullish() })
    .passthrough()
    .nullish(),
});

/** Validates an IG body; throws IgMalformedResponseError naming every bad field. */
export function parseIg<S extends z.ZodTypeAny>(schema: S, body: unknown, what: string): z.output<S> {
  const r = schema.safeParse(body);
  if (!r.success) {
    throw new IgMalformedResponseError(
      what,
      r.error.issues.slice(0, 8).map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`),
    );
  }
  return r.data;
}

/**
 * IG timestamps without a zone are UTC here (`createdDateUTC`, `snapshotTimeUTC`, activity `date`):
 * `2020-10-12T20:50:00`, `2020-10-12T20:50:00.123`, `2020/06/01 12:00:00:000`. Null when unreadable.
 */
export function parseIgUtc(s: string | null | undefined): number | null {
  if (!s) return null;
  let t = s.trim().replace(/^(\d{4})\/(\d{2})\/(\d{2})[ T]/, '$1-$2-$3T');
  t = t.replace(/T(\d{2}:\d{2}:\d{2}):(\d{3})$/, 'T$1.$2');
  if (!/(Z|[+-]\d{2}:?\d{2})$/.test(t)) t += 'Z';
  const ms = Date.parse(t);
  return Number.isFinite(ms) ? ms : null;
}

/** `yyyy-MM-ddTHH:mm:ss` in UTC, the date format of IG's query parameters. */
export function formatIgUtc(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}

export const sideOf = (d: 'BUY' | 'SELL'): OrderSide => (d === 'BUY' ? 'buy' : 'sell');
export const directionOf = (s: OrderSide): 'BUY' | 'SELL' => (s === 'buy' ? 'BUY' : 'SELL');
export const oppositeDirection = (d: 'BUY' | 'SELL'): 'BUY' | 'SELL' => (d === 'BUY' ? 'SELL' : 'BUY');

/** What the caller already knows of the order, for fields a broker record may leave out. */
export interface OrderFacts {
  clientOrderId: string;
  symbol: string;
  side: OrderSide;
  quantity: number;
}

/** A deal confirmation as an order report: ACCEPTED → filled at `level`; REJECTED → rejected with `reason`. */
export function confirmToReport(c: IgConfirm, facts: OrderFacts): OrderReport {
  const accepted = c.dealStatus === 'ACCEPTED';
  const size = c.size ?? facts.quantity;
  if (accepted && (c.level === null || c.level === undefined || !(c.level > 0))) {
    throw new IgMalformedResponseError('deal confirmation', [`level: an ACCEPTED deal needs a positive level, got ${c.level}`]);
  }
  return {
    clientOrderId: facts.clientOrderId,
    brokerOrderId: c.dealId ?? '',
    status: accepted ? 'filled' : 'rejected',
    symbol: c.epic ?? facts.symbol,
    side: c.direction ? sideOf(c.direction) : facts.side,
    quantity: size,
    filledQuantity: accepted ? size : 0,
    fillPrice: accepted ? c.level! : 0,
    filledAt: accepted ? parseIgUtc(c.date) : null,
    ...(accepted ? {} : { reason: `IG ${c.dealStatus}: ${c.reason ?? 'no reason given'}` }),
  };
}

/** An open position as the report of the order that opened it (found by its dealReference). */
export function positionToReport(p: IgPosition, clientOrderId: string): OrderReport {
  return {
    clientOrderId,
    brokerOrderId: p.position.dealId,
    status: 'filled',
    symbol: p.market.epic,
    side: sideOf(p.position.direction),
    quantity: p.position.size,
    filledQuantity: p.position.size,
    fillPrice: p.position.level,
    filledAt: parseIgUtc(p.position.createdDateUTC),
  };
}

export function positionToBroker(p: IgPosition): BrokerPosition {
  return {
    positionRef: p.position.dealReference ?? p.position.dealId,
    brokerPositionId: p.position.dealId,
    symbol: p.market.epic,
    side: p.position.direction === 'BUY' ? 'long' : 'short',
    quantity: p.position.size,
    entryPrice: p.position.level,
    ...(p.position.stopLevel !== null && p.position.stopLevel !== undefined ? { stopLevel: p.position.stopLevel } : {}),
  };
}

export const OPENED = 'POSITION_OPENED';
export const CLOSED_ACTIONS: ReadonlySet<string> = new Set(['POSITION_CLOSED', 'POSITION_PARTIALLY_CLOSED']);

export function closesDeal(a: IgActivity, dealId: string): boolean {
  return (a.details?.actions ?? []).some((x) => CLOSED_ACTIONS.has(x.actionType) && x.affectedDealId === dealId);
}

export function opensDeal(a: IgActivity): string | null {
  const act = (a.details?.actions ?? []).find((x) => x.actionType === OPENED);
  return act ? (act.affectedDealId ?? a.dealId ?? null) : null;
}

/**
 * An activity (v3, detailed) as an order report. ACCEPTED → filled at details.level; REJECTED → rejected
 * with the description; any other status (UNKNOWN) → null: the deal exists but is not settled.
 */
export function activityToReport(a: IgActivity, facts: OrderFacts): OrderReport | null {
  const d = a.details ?? {};
  if (a.status === 'REJECTED') {
    return {
      clientOrderId: facts.clientOrderId,
      brokerOrderId: a.dealId ?? '',
      status: 'rejected',
      symbol: a.epic ?? facts.symbol,
      side: d.direction ? sideOf(d.direction) : facts.side,
      quantity: d.size ?? facts.quantity,
      filledQuantity: 0,
      fillPrice: 0,
      filledAt: null,
      reason: `IG REJECTED: ${a.description ?? 'no description'}`,
    };
  }
  if (a.status !== 'ACCEPTED') return null;
  if (d.level === null || d.level === undefined || !(d.level > 0)) {
    throw new IgMalformedResponseError('activity', [`details.level: an ACCEPTED deal needs a positive level, got ${d.level}`]);
  }
  const size = d.size ?? facts.quantity;
  return {
    clientOrderId: facts.clientOrderId,
    brokerOrderId: a.dealId ?? '',
    status: 'filled',
    symbol: a.epic ?? facts.symbol,
    side: d.direction ? sideOf(d.direction) : facts.side,
    quantity: size,
    filledQuantity: size,
    fillPrice: d.level,
    filledAt: parseIgUtc(a.date),
  };
}

/** IG resolutions by timeframe (GET /prices/{epic} v3 `resolution`). */
export const IG_RESOLUTION: Readonly<Record<Timeframe, string>> = Object.freeze({
  '1m': 'MINUTE',
  '5m': 'MINUTE_5',
  '15m': 'MINUTE_15',
  '1h': 'HOUR',
  '4h': 'HOUR_4',
  '1d': 'DAY',
});

const round10 = (x: number) => Math.round(x * 1e10) / 1e10;

function mid(p: z.infer<typeof PricePoint>, field: string, at: string): number {
  const { bid, ask } = p;
  if (typeof bid === 'number' && typeof ask === 'number') return round10((bid + ask) / 2);
  throw new IgMalformedResponseError('price', [`${field} at ${at}: needs both bid and ask, got bid=${bid} ask=${ask}`]);
}

/**
 * IG price snapshots → frames: the mid of bid/ask for open, high, low and close, keyed by the snapshot's
 * UTC start. Every frame goes through FrameSchema (no NaN, no negative price, high ≥ low, aligned start).
 */
export function pricesToFrames(body: z.infer<typeof IgPricesBodySchema>, symbol: string, timeframe: Timeframe): Frame[] {
  const frames = body.prices.map((p) => {
    const start = parseIgUtc(p.snapshotTimeUTC);
    if (start === null) throw new IgMalformedResponseError('price', [`snapshotTimeUTC: unreadable time ${JSON.stringify(p.snapshotTimeUTC)}`]);
    const input = {
      symbol,
      timeframe,
      start,
      open: mid(p.openPrice, 'openPrice', p.snapshotTimeUTC),
      high: mid(p.highPrice, 'highPrice', p.snapshotTimeUTC),
      low: mid(p.lowPrice, 'lowPrice', p.snapshotTimeUTC),
      close: mid(p.closePrice, 'closePrice', p.snapshotTimeUTC),
      volume: p.lastTradedVolume ?? 0,
    };
    try {
      return parseFrame(input);
    } catch (err) {
      if (err instanceof InvalidFrameError) throw new IgMalformedResponseError(`price candle at ${p.snapshotTimeUTC}`, err.issues);
      throw err;
    }
  });
  frames.sort((a, b) => a.start - b.start);
  return frames;
}

/** True when a frame has ended at `nowMs` (a frame whose end is in the future is never returned). */
export function isClosed(f: Frame, nowMs: number): boolean {
  return f.start + timeframeMs(f.timeframe) <= nowMs;
}
