/**
 * A local fake of Alpaca's trading API v2 and market data v2, faithful to the documented contract where the adapter
 * depends on it: APCA-API-KEY-ID / APCA-API-SECRET-KEY auth (401 `{"code":40110000,...}`), decimal strings in JSON,
 * RFC-3339 times with microseconds, `client_order_id` unique for the account forever (422 `{"code":40010001,"message":
 * "client_order_id must be unique"}`), look-up by client order id, asynchronous acceptance (a submit answers
 * `pending_new`; a market order fills right after at the ask / bid), stop orders that trigger when a price set by the
 * test crosses them, quantity held by working sell orders (403 `insufficient qty available`), buying power (403
 * `insufficient buying power`), cancels answered 204 / 422 (not cancelable), positions netted per symbol, paged bars
 * (daily bars stamped at New York midnight), the latest quote, assets (`GET /v2/assets/{symbol}`: every quoted symbol is
 * an active, tradable, fractionable equity unless `setAsset` says otherwise; 404 for a symbol never quoted nor set) and
 * the market clock (`GET /v2/clock`: `is_open` follows `setMarketOpen`).
 *
 * Faults (test/fakes/fault.ts) apply to the next N matching requests: `timeout`, `5xx`, `rate-limit` (429 with Alpaca's
 * body and X-RateLimit-* headers), `expired-token` (401: for Alpaca, bad keys), `drop-after-accept` (carry the request
 * out, then destroy the socket). It has its own in-memory ledger; nothing is shared between instances.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createHash, randomUUID } from 'node:crypto';
import { FaultBook, type Fault } from './fault';
import type { Frame } from '../../market/frame';
import type { Timeframe } from '../../market/timeframe';

export type { Fault } from './fault';

export interface FakeAlpacaOptions {
  keyId?: string;
  secretKey?: string;
  /** Starting cash (USD). Default 100 000. */
  cash?: number;
  /** Largest page of bars the fake returns, whatever `limit` asks (to exercise paging). Default 10 000. */
  barsPageLimit?: number;
  /** A cancel leaves the order `pending_cancel` this long before `canceled`. Default 0 (at once). */
  cancelDelayMs?: number;
  /** Seconds until the rate-limit window resets, in X-RateLimit-Reset of a 429. Default 1. */
  rateLimitResetSeconds?: number;
}

/** A raw answer for the next matching request(s), e.g. a malformed body. */
export interface RawResponse {
  method?: string;
  path: string | RegExp;
  status: number;
  body: string;
  headers?: Record<string, string>;
  times?: number;
}

/** What `GET /v2/assets/{symbol}` answers for a symbol (fields Alpaca sends; omitted ones get equity defaults). */
export interface FakeAsset {
  status?: 'active' | 'inactive';
  tradable?: boolean;
  fractionable?: boolean;
  /** Sent only when set (Alpaca sends them for crypto). */
  min_order_size?: string;
  min_trade_increment?: string;
}

export interface FakePosition {
  symbol: string;
  /** Signed: negative is short. */
  qty: number;
  side: 'long' | 'short';
  avgEntryPrice: number;
}

export interface FakeAlpacaServer {
  /** Base URL for both the trading and the data API, e.g. http://127.0.0.1:41234. */
  readonly url: string;
  readonly keyId: string;
  readonly secretKey: string;
  inject(fault: Fault): void;
  clearFaults(): void;
  /** Faults still armed. */
  pendingFaults(): Fault[];
  /** Answers the next matching request(s) with a raw body instead of the route. */
  respondNext(raw: RawResponse): void;
  /** Sets the best bid/ask; working stop orders the new price crosses trigger, queued market orders fill if open. */
  setPrice(symbol: string, bid: number, ask: number): void;
  /** Adds frames as Alpaca bars (daily frames are stamped at New York midnight, as Alpaca does). */
  addBars(symbol: string, frames: readonly Frame[]): void;
  /** Adds bars exactly as given (for malformed-data tests). */
  addRawBars(symbol: string, timeframe: Timeframe, bars: readonly Record<string, unknown>[]): void;
  /** While closed, market orders wait `accepted` and `/v2/clock` says `is_open: false`; opening fills them at the current prices. Default open. */
  setMarketOpen(open: boolean): void;
  /** Sets the asset record of a symbol (merged over the defaults). */
  setAsset(symbol: string, asset: FakeAsset): void;
  positions(): FakePosition[];
  /** Every order, in Alpaca's JSON shape, oldest first. */
  orders(): Record<string, any>[];
  /** How many `POST /v2/orders` requests reached the server (faulted ones included). */
  orderPosts(): number;
  cash(): number;
  /** A human closes the position on Alpaca's dashboard: its working orders are canceled, a market order flattens it. */
  closePositionExternally(symbol: string): void;
  /** A market order placed outside the adapter (manual trade), filled at once. */
  placeExternalOrder(o: { symbol: string; side: 'buy' | 'sell'; qty: number }): void;
  close(): Promise<void>;
}

interface Order {
  id: string;
  client_order_id: string;
  symbol: string;
  asset_id: string;
  side: 'buy' | 'sell';
  type: 'market' | 'stop';
  time_in_force: string;
  qty: number;
  stop_price: number | null;
  status: string;
  filled_qty: number;
  filled_avg_price: number | null;
  created_at: number;
  updated_at: number;
  submitted_at: number;
  filled_at: number | null;
  canceled_at: number | null;
}

interface Reply {
  status: number;
  body?: unknown;
  raw?: string;
  headers?: Record<string, string>;
}

const WORKING = new Set(['new', 'accepted', 'pending_new', 'partially_filled', 'held']);
const TIMEFRAMES: Record<string, Timeframe> = { '1Min': '1m', '5Min': '5m', '15Min': '15m', '1Hour': '1h', '4Hour': '4h', '1Day': '1d' };
const TF_NAME: Record<Timeframe, string> = { '1m': '1Min', '5m': '5Min', '15m': '15Min', '1h': '1Hour', '4h': '4Hour', '1d': '1Day' };

const r9 = (n: number) => Math.round(n * 1e9) / 1e9;
const dec = (n: number | null) => (n === null ? null : String(r9(n)));
/** Alpaca writes times with microseconds (or nanoseconds): RFC-3339, UTC. */
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString().replace('Z', '417Z'));
const err = (status: number, code: number, message: string, extra: Record<string, unknown> = {}): Reply => ({ status, body: { code, message, ...extra } });
const assetId = (symbol: string) => {
  const h = createHash('sha1').update(symbol).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
};

/** The UTC instant of 00:00 America/New_York on the calendar date of `utcMidnight`. */
function newYorkMidnight(utcMidnight: number): number {
  const hourIn = (t: number) =>
    Number(new Intl.DateTimeFormat('en-US', { timeZone: 'America/New_York', hour: '2-digit', hourCycle: 'h23' }).format(new Date(t)));
  for (const h of [4, 5]) if (hourIn(utcMidnight + h * 3_600_000) === 0) return utcMidnight + h * 3_600_000;
  throw new Error('cannot place New York midnight');
}

export async function startFakeAlpacaServer(options: FakeAlpacaOptions = {}): Promise<FakeAlpacaServer> {
  const keyId = options.keyId ?? 'PKFAKEKEYID0000000001';
  const secretKey = options.secretKey ?? 'fake-secret-key-do-not-log-0123456789abcdef';
  const barsPageLimit = options.barsPageLimit ?? 10_000;
  const cancelDelayMs = options.cancelDelayMs ?? 0;
  const resetSeconds = options.rateLimitResetSeconds ?? 1;

  const faults = new FaultBook();
  const raws: { raw: RawResponse; remaining: number }[] = [];
  const orders: Order[] = [];
  const byClientId = new Map<string, Order>();
  const positions = new Map<string, { qty: number; avg: number }>();
  const quotes = new Map<string, { bid: number; ask: number; t: number }>();
  const bars = new Map<string, Record<string, unknown>[]>();
  const assets = new Map<string, FakeAsset>();
  const timers = new Set<NodeJS.Timeout>();
  const sockets = new Set<Socket>();
  let cash = options.cash ?? 100_000;
  let posts = 0;
  let marketOpen = true;
  let lastTs = 0;

  /** Strictly increasing timestamps, so the ledger's order is never ambiguous. */
  const stamp = () => (lastTs = Math.max(Date.now(), lastTs + 1));
  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  // ---- ledger ----

  function fill(o: Order, price: number) {
    const ts = stamp();
    const signed = o.side === 'buy' ? o.qty : -o.qty;
    const pos = positions.get(o.symbol) ?? { qty: 0, avg: 0 };
    if (pos.qty === 0 || Math.sign(pos.qty) === Math.sign(signed)) {
      pos.avg = r9((Math.abs(pos.qty) * pos.avg + o.qty * price) / (Math.abs(pos.qty) + o.qty));
      pos.qty = r9(pos.qty + signed);
    } else {
      const before = pos.qty;
      pos.qty = r9(pos.qty + signed);
      if (pos.qty !== 0 && Math.sign(pos.qty) !== Math.sign(before)) pos.avg = price;
    }
    if (pos.qty === 0) positions.delete(o.symbol);
    else positions.set(o.symbol, pos);
    cash = r9(cash - signed * price);
    Object.assign(o, { status: 'filled', filled_qty: o.qty, filled_avg_price: price, filled_at: ts, updated_at: ts });
  }

  function marketPrice(o: Pick<Order, 'symbol' | 'side'>): number | undefined {
    const q = quotes.get(o.symbol);
    return q ? (o.side === 'buy' ? q.ask : q.bid) : undefined;
  }

  /** Fills queued market orders (market open) and triggers crossed stops of `symbol`. */
  function match(symbol: string) {
    const q = quotes.get(symbol);
    if (!q) return;
    for (const o of orders) {
      if (o.symbol !== symbol || !WORKING.has(o.status)) continue;
      if (o.type === 'market' && marketOpen) fill(o, o.side === 'buy' ? q.ask : q.bid);
      else if (o.type === 'stop' && o.stop_price !== null) {
        if (o.side === 'sell' && q.bid <= o.stop_price) fill(o, q.bid);
        else if (o.side === 'buy' && q.ask >= o.stop_price) fill(o, q.ask);
      }
    }
  }

  /** Quantity of a position not already promised to working orders that reduce it. */
  function available(symbol: string, side: 'buy' | 'sell'): { held: number; free: number } {
    const pos = positions.get(symbol);
    const held = pos ? Math.abs(pos.qty) : 0;
    const reducing = pos && ((pos.qty > 0 && side === 'sell') || (pos.qty < 0 && side === 'buy'));
    if (!reducing) return { held: 0, free: 0 };
    const promised = orders.filter((o) => o.symbol === symbol && o.side === side && WORKING.has(o.status)).reduce((s, o) => s + o.qty - o.filled_qty, 0);
    return { held, free: r9(held - promised) };
  }

  function newOrder(p: { symbol: string; side: 'buy' | 'sell'; type: 'market' | 'stop'; qty: number; time_in_force: string; stop_price: number | null; client_order_id: string }): Order {
    const ts = stamp();
    const o: Order = {
      id: randomUUID(),
      asset_id: assetId(p.symbol),
      ...p,
      status: 'pending_new',
      filled_qty: 0,
      filled_avg_price: null,
      created_at: ts,
      updated_at: ts,
      submitted_at: ts,
      filled_at: null,
      canceled_at: null,
    };
    orders.push(o);
    byClientId.set(o.client_order_id, o);
    return o;
  }

  function orderJson(o: Order): Record<string, unknown> {
    return {
      id: o.id,
      client_order_id: o.client_order_id,
      created_at: iso(o.created_at),
      updated_at: iso(o.updated_at),
      submitted_at: iso(o.submitted_at),
      filled_at: iso(o.filled_at),
      expired_at: null,
      canceled_at: iso(o.canceled_at),
      failed_at: null,
      replaced_at: null,
      replaced_by: null,
      replaces: null,
      asset_id: o.asset_id,
      symbol: o.symbol,
      asset_class: 'us_equity',
      notional: null,
      qty: dec(o.qty),
      filled_qty: dec(o.filled_qty),
      filled_avg_price: dec(o.filled_avg_price),
      order_class: '',
      order_type: o.type,
      type: o.type,
      side: o.side,
      position_intent: null,
      time_in_force: o.time_in_force,
      limit_price: null,
      stop_price: dec(o.stop_price),
      status: o.status,
      extended_hours: false,
      legs: null,
      trail_percent: null,
      trail_price: null,
      hwm: null,
      subtag: null,
      source: null,
    };
  }

  function positionJson(symbol: string, p: { qty: number; avg: number }): Record<string, unknown> {
    const q = quotes.get(symbol);
    const price = q ? (q.bid + q.ask) / 2 : p.avg;
    const { free } = available(symbol, p.qty > 0 ? 'sell' : 'buy');
    const cost = p.qty * p.avg;
    const value = p.qty * price;
    return {
      asset_id: assetId(symbol),
      symbol,
      exchange: 'NASDAQ',
      asset_class: 'us_equity',
      asset_marginable: true,
      qty: dec(p.qty),
      qty_available: dec(p.qty > 0 ? free : -free),
      avg_entry_price: dec(p.avg),
      side: p.qty > 0 ? 'long' : 'short',
      market_value: dec(value),
      cost_basis: dec(cost),
      unrealized_pl: dec(value - cost),
      unrealized_plpc: dec(cost ? (value - cost) / Math.abs(cost) : 0),
      unrealized_intraday_pl: dec(value - cost),
      unrealized_intraday_plpc: dec(cost ? (value - cost) / Math.abs(cost) : 0),
      current_price: dec(price),
      lastday_price: dec(price),
      change_today: '0',
    };
  }

  function equity(): number {
    let e = cash;
    for (const [symbol, p] of positions) {
      const q = quotes.get(symbol);
      e += p.qty * (q ? (q.bid + q.ask) / 2 : p.avg);
    }
    return r9(e);
  }

  function cancel(o: Order) {
    const done = () => Object.assign(o, { status: 'canceled', canceled_at: stamp(), updated_at: lastTs });
    if (cancelDelayMs > 0) {
      Object.assign(o, { status: 'pending_cancel', updated_at: stamp() });
      later(cancelDelayMs, () => {
        if (o.status === 'pending_cancel') done();
      });
    } else done();
  }

  // ---- routes ----

  function submit(body: unknown): Reply {
    if (!body || typeof body !== 'object') return err(400, 40010000, 'request body format is invalid');
    const b = body as Record<string, unknown>;
    for (const f of ['symbol', 'side', 'type', 'time_in_force']) if (typeof b[f] !== 'string' || !b[f]) return err(422, 40010001, `${f} is required`);
    const symbol = String(b.symbol).toUpperCase();
    const side = b.side as string;
    const type = b.type as string;
    const tif = b.time_in_force as string;
    if (side !== 'buy' && side !== 'sell') return err(422, 40010001, `invalid side: ${side}`);
    if (!['day', 'gtc', 'opg', 'cls', 'ioc', 'fok'].includes(tif)) return err(422, 40010001, `invalid time_in_force: ${tif}`);
    if (type !== 'market' && type !== 'stop') return err(422, 40010001, `order type ${type} is not supported by this fake`);
    const qty = Number(b.qty);
    if (b.qty === undefined || b.qty === null || !Number.isFinite(qty) || qty <= 0) return err(422, 40010001, 'qty must be > 0');
    if (!Number.isInteger(qty) && tif !== 'day') return err(422, 42210000, 'fractional orders must be DAY orders');
    let cid = b.client_order_id === undefined ? randomUUID() : String(b.client_order_id);
    if (cid.length > 128) return err(422, 40010001, 'client_order_id must be no more than 128 characters');
    if (cid === '') cid = randomUUID();
    if (byClientId.has(cid)) return err(422, 40010001, 'client_order_id must be unique');
    const q = quotes.get(symbol);
    if (!q) return err(422, 40010001, `asset "${symbol}" not found`);
    let stop: number | null = null;
    if (type === 'stop') {
      stop = Number(b.stop_price);
      if (!Number.isFinite(stop) || stop <= 0) return err(422, 40010001, 'stop_price is required for stop orders');
      const decimals = (String(b.stop_price).split('.')[1] ?? '').length;
      if ((stop >= 1 && decimals > 2) || decimals > 4)
        return err(422, 42210000, `invalid stop_price ${b.stop_price}. sub-penny increment does not fulfill minimum pricing criteria`);
      if (side === 'sell' && stop >= q.bid) return err(422, 42210000, `stop price ${b.stop_price} must be below the current price ${q.bid} for a sell stop order`);
      if (side === 'buy' && stop <= q.ask) return err(422, 42210000, `stop price ${b.stop_price} must be above the current price ${q.ask} for a buy stop order`);
    }
    const pos = positions.get(symbol);
    const reducing = pos && ((pos.qty > 0 && side === 'sell') || (pos.qty < 0 && side === 'buy'));
    if (reducing) {
      const { free } = available(symbol, side as 'buy' | 'sell');
      if (qty > free + 1e-9) return err(403, 40310000, `insufficient qty available for order (requested: ${qty}, available: ${free})`);
    } else {
      const price = side === 'buy' ? q.ask : q.bid;
      if (type === 'market' && qty * price > cash + 1e-9)
        return err(403, 40310000, 'insufficient buying power', { buying_power: dec(cash), cost_basis: dec(qty * price) });
    }
    const o = newOrder({ symbol, side, type, qty, time_in_force: tif, stop_price: stop, client_order_id: cid } as Parameters<typeof newOrder>[0]);
    const answer = orderJson(o);
    // Accepted asynchronously, as at Alpaca: the answer says pending_new; the venue moves on right after.
    o.status = type === 'stop' ? 'new' : 'accepted';
    o.updated_at = stamp();
    if (type === 'market' && marketOpen) fill(o, marketPrice(o)!);
    return { status: 200, body: answer };
  }

  function listOrders(qs: URLSearchParams): Reply {
    const status = qs.get('status') ?? 'open';
    const limit = Math.min(Number(qs.get('limit') ?? 50), 500);
    const direction = qs.get('direction') ?? 'desc';
    const symbols = qs.get('symbols')?.split(',').map((s) => s.trim().toUpperCase());
    const after = qs.get('after') ? Date.parse(qs.get('after')!) : -Infinity;
    const until = qs.get('until') ? Date.parse(qs.get('until')!) : Infinity;
    const open = (o: Order) => WORKING.has(o.status) || o.status === 'pending_cancel';
    let list = orders.filter(
      (o) =>
        (status === 'all' || (status === 'open' ? open(o) : !open(o))) &&
        (!symbols || symbols.includes(o.symbol)) &&
        o.submitted_at > after &&
        o.submitted_at < until,
    );
    list = list.sort((a, b) => (direction === 'asc' ? a.submitted_at - b.submitted_at : b.submitted_at - a.submitted_at)).slice(0, limit);
    return { status: 200, body: list.map(orderJson) };
  }

  function getBars(symbol: string, qs: URLSearchParams): Reply {
    const tfName = qs.get('timeframe') ?? '';
    const tf = TIMEFRAMES[tfName];
    if (!tf) return err(422, 42210000, `invalid timeframe: ${tfName}`);
    const start = qs.get('start') ? Date.parse(qs.get('start')!) : -Infinity;
    const end = qs.get('end') ? Date.parse(qs.get('end')!) : Infinity;
    if (Number.isNaN(start) || Number.isNaN(end)) return err(422, 42210000, 'invalid start or end');
    const limit = Math.min(Number(qs.get('limit') ?? 1000), 10_000, barsPageLimit);
    const token = qs.get('page_token');
    const afterT = token ? Number(Buffer.from(token, 'base64').toString('utf8')) : -Infinity;
    const all = (bars.get(`${symbol}|${tf}`) ?? [])
      .filter((b) => {
        const t = Date.parse(String(b.t));
        return t >= start && t <= end && t > afterT;
      })
      .sort((a, b) => Date.parse(String(a.t)) - Date.parse(String(b.t)));
    const page = all.slice(0, limit);
    const next = all.length > limit ? Buffer.from(String(Date.parse(String(page[page.length - 1]!.t)))).toString('base64') : null;
    return { status: 200, body: { bars: page, symbol, next_page_token: next } };
  }

  function route(method: string, path: string, qs: URLSearchParams, body: unknown): Reply {
    if (method === 'GET' && path === '/v2/account') {
      const e = equity();
      return {
        status: 200,
        body: {
          id: '6b1c1f1e-0000-4000-8000-00000000fa4e',
          account_number: 'PA3FAKE00001',
          status: 'ACTIVE',
          crypto_status: 'INACTIVE',
          currency: 'USD',
          buying_power: dec(cash),
          regt_buying_power: dec(cash),
          cash: dec(cash),
          portfolio_value: dec(e),
          equity: dec(e),
          last_equity: dec(e),
          long_market_value: '0',
          short_market_value: '0',
          multiplier: '1',
          pattern_day_trader: false,
          trading_blocked: false,
          transfers_blocked: false,
          account_blocked: false,
          shorting_enabled: true,
          trade_suspended_by_user: false,
          created_at: '2024-01-01T00:00:00.000000Z',
        },
      };
    }
    const assetPath = /^\/v2\/assets\/([^/]+)$/.exec(path);
    if (method === 'GET' && assetPath) {
      const symbol = decodeURIComponent(assetPath[1]!).toUpperCase();
      const a = assets.get(symbol) ?? (quotes.has(symbol) ? {} : undefined);
      if (!a) return err(404, 40410000, `asset not found for ${symbol}`);
      return {
        status: 200,
        body: {
          id: assetId(symbol),
          class: 'us_equity',
          exchange: 'NASDAQ',
          symbol,
          name: `${symbol} Common Stock`,
          status: a.status ?? 'active',
          tradable: a.tradable ?? true,
          marginable: true,
          maintenance_margin_requirement: 30,
          shortable: true,
          easy_to_borrow: true,
          fractionable: a.fractionable ?? true,
          attributes: [],
          ...(a.min_order_size !== undefined ? { min_order_size: a.min_order_size } : {}),
          ...(a.min_trade_increment !== undefined ? { min_trade_increment: a.min_trade_increment } : {}),
        },
      };
    }
    if (method === 'GET' && path === '/v2/clock') {
      const now = Date.now();
      return { status: 200, body: { timestamp: iso(now), is_open: marketOpen, next_open: iso(now + 3_600_000), next_close: iso(now + 7_200_000) } };
    }
    if (method === 'GET' && path === '/v2/positions') {
      return { status: 200, body: [...positions].map(([s, p]) => positionJson(s, p)) };
    }
    if (path === '/v2/orders') {
      if (method === 'POST') return submit(body);
      if (method === 'GET') return listOrders(qs);
    }
    if (method === 'GET' && path === '/v2/orders:by_client_order_id') {
      const cid = qs.get('client_order_id');
      if (!cid) return err(422, 40010001, 'client_order_id is missing');
      const o = byClientId.get(cid);
      return o ? { status: 200, body: orderJson(o) } : err(404, 40410000, 'order not found');
    }
    const byId = /^\/v2\/orders\/([^/]+)$/.exec(path);
    if (byId) {
      const o = orders.find((x) => x.id === decodeURIComponent(byId[1]!));
      if (method === 'GET') return o ? { status: 200, body: orderJson(o) } : err(404, 40410000, 'order not found');
      if (method === 'DELETE') {
        if (!o) return err(404, 40410000, 'order not found');
        if (!WORKING.has(o.status)) return err(422, 42210000, 'order is not cancelable');
        cancel(o);
        return { status: 204 };
      }
    }
    const barsPath = /^\/v2\/stocks\/([^/]+)\/bars$/.exec(path);
    if (method === 'GET' && barsPath) return getBars(decodeURIComponent(barsPath[1]!).toUpperCase(), qs);
    const quotePath = /^\/v2\/stocks\/([^/]+)\/quotes\/latest$/.exec(path);
    if (method === 'GET' && quotePath) {
      const symbol = decodeURIComponent(quotePath[1]!).toUpperCase();
      const q = quotes.get(symbol);
      if (!q) return err(404, 40410000, `no quote found for ${symbol}`);
      return { status: 200, body: { symbol, quote: { t: iso(q.t), ax: 'V', ap: q.ask, as: 1, bx: 'V', bp: q.bid, bs: 1, c: ['R'], z: 'C' } } };
    }
    return err(404, 40410000, 'endpoint not found');
  }

  // ---- HTTP ----

  function send(res: http.ServerResponse, reply: Reply) {
    const text = reply.raw ?? (reply.body === undefined ? '' : JSON.stringify(reply.body));
    res.writeHead(reply.status, {
      ...(text ? { 'Content-Type': 'application/json; charset=UTF-8' } : {}),
      'X-RateLimit-Limit': '200',
      'X-RateLimit-Remaining': '199',
      'X-RateLimit-Reset': String(Math.ceil(Date.now() / 1000) + 60),
      ...(reply.headers ?? {}),
    });
    res.end(text);
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const method = (req.method ?? 'GET').toUpperCase();
      const path = url.pathname;
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      let bodyOk = true;
      if (text) {
        try {
          body = JSON.parse(text);
        } catch {
          bodyOk = false;
        }
      }
      if (method === 'POST' && path === '/v2/orders') posts++;

      const fault = faults.take(method, path, { headers: req.headers, body });
      if (fault?.kind === 'timeout') {
        later(fault.holdMs ?? 30_000, () => req.socket.destroy());
        return;
      }
      if (fault?.kind === '5xx') return send(res, err(fault.status ?? 500, 50010000, 'internal server error occurred'));
      if (fault?.kind === 'rate-limit') {
        return send(res, {
          ...err(429, 42910000, 'rate limit exceeded'),
          headers: { 'X-RateLimit-Limit': '200', 'X-RateLimit-Remaining': '0', 'X-RateLimit-Reset': String(Math.ceil(Date.now() / 1000) + resetSeconds) },
        });
      }
      if (fault?.kind === 'expired-token') return send(res, err(401, 40110000, 'request is not authorized'));

      const i = raws.findIndex(({ raw }) => (!raw.method || raw.method.toUpperCase() === method) && (typeof raw.path === 'string' ? raw.path === path : raw.path.test(path)));
      if (i >= 0) {
        const r = raws[i]!;
        if (--r.remaining <= 0) raws.splice(i, 1);
        return send(res, { status: r.raw.status, raw: r.raw.body, headers: r.raw.headers });
      }

      let reply: Reply;
      if (req.headers['apca-api-key-id'] !== keyId || req.headers['apca-api-secret-key'] !== secretKey) reply = err(401, 40110000, 'request is not authorized');
      else if (!bodyOk) reply = err(400, 40010000, 'request body format is invalid');
      else reply = route(method, path, url.searchParams, body);

      if (fault?.kind === 'drop-after-accept') {
        // Carried out at the venue; the answer never leaves.
        req.socket.destroy();
        return;
      }
      send(res, reply);
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    keyId,
    secretKey,
    inject: (f) => faults.inject(f),
    clearFaults: () => faults.clear(),
    pendingFaults: () => faults.pending(),
    respondNext: (raw) => raws.push({ raw, remaining: raw.times ?? 1 }),
    setPrice(symbol, bid, ask) {
      if (!(bid > 0 && ask >= bid)) throw new Error(`fake: bad quote ${bid}/${ask}`);
      quotes.set(symbol.toUpperCase(), { bid, ask, t: Date.now() });
      match(symbol.toUpperCase());
    },
    addBars(symbol, frames) {
      for (const f of frames) {
        const key = `${symbol.toUpperCase()}|${f.timeframe}`;
        const t = f.timeframe === '1d' ? newYorkMidnight(f.start) : f.start;
        const list = bars.get(key) ?? [];
        list.push({ t: new Date(t).toISOString().replace('.000Z', 'Z'), o: f.open, h: f.high, l: f.low, c: f.close, v: f.volume, n: 1, vw: f.close });
        bars.set(key, list);
      }
    },
    addRawBars(symbol, timeframe, raw) {
      const key = `${symbol.toUpperCase()}|${timeframe}`;
      bars.set(key, [...(bars.get(key) ?? []), ...raw.map((b) => ({ ...b }))]);
    },
    setMarketOpen(open) {
      marketOpen = open;
      if (open) for (const s of quotes.keys()) match(s);
    },
    setAsset(symbol, asset) {
      const s = symbol.toUpperCase();
      assets.set(s, { ...(assets.get(s) ?? {}), ...asset });
    },
    positions: () => [...positions].map(([symbol, p]) => ({ symbol, qty: p.qty, side: p.qty > 0 ? ('long' as const) : ('short' as const), avgEntryPrice: p.avg })),
    orders: () => orders.map(orderJson),
    orderPosts: () => posts,
    cash: () => cash,
    closePositionExternally(symbol) {
      const s = symbol.toUpperCase();
      for (const o of orders) if (o.symbol === s && WORKING.has(o.status)) cancel(o);
      const pos = positions.get(s);
      if (!pos) return;
      const side = pos.qty > 0 ? 'sell' : 'buy';
      const o = newOrder({ symbol: s, side, type: 'market', qty: Math.abs(pos.qty), time_in_force: 'day', stop_price: null, client_order_id: randomUUID() });
      const price = marketPrice(o);
      if (price === undefined) throw new Error(`fake: no price for ${s}`);
      fill(o, price);
    },
    placeExternalOrder({ symbol, side, qty }) {
      const s = symbol.toUpperCase();
      const o = newOrder({ symbol: s, side, type: 'market', qty, time_in_force: 'day', stop_price: null, client_order_id: randomUUID() });
      const price = marketPrice(o);
      if (price === undefined) throw new Error(`fake: no price for ${s}`);
      fill(o, price);
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const s of sockets) s.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export { TF_NAME as FAKE_ALPACA_TIMEFRAMES };
