/**
 * The fake Alpaca venue's state: its in-memory ledger (orders, netted positions, cash), quotes, bars, assets and
 * the market clock, with the venue's rules for fills, stop triggers, held quantity and cancels. No HTTP here
 * (routes.ts reads and changes this state; server.ts carries it over HTTP). Nothing is shared between instances.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Frame } from '../../../market/frame';
import type { Timeframe } from '../../../market/timeframe';

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


/**
 * Behaviours a test sets per test (setScenario; each field replaces the one before, the others stay):
 * - `fills: 'hold'`: market orders stay `accepted` (working) until `releaseFills()`, or `fillAfterMs` later;
 * - `partial: { qty, rest }`: a market order fills `qty` first (`partially_filled`, `filled_qty`); on
 *   `releaseFills()` (or `afterMs` later) the rest fills (`rest: 'fill'`) or is canceled with the residual (`'cancel'`);
 * - `refuseReducing`: an order that reduces a position (a close) is refused with 403 40310000 and this message,
 *   e.g. "insufficient qty available for order" or "trade denied due to pattern day trading protection";
 * - `unauthorizedUntil` (epoch ms, or `unauthorizedFor(ms)`): every call answers 401 40110000 until then
 *   (a key rotation window).
 * Orders sent while the market is closed (`setMarketOpen(false)`) wait `accepted` until it opens.
 */
export interface FakeAlpacaScenario {
  fills: 'immediate' | 'hold';
  fillAfterMs?: number;
  partial?: { qty: number; rest: 'fill' | 'cancel'; afterMs?: number };
  refuseReducing?: string;
  unauthorizedUntil?: number;
}

/** What a test drives the fake venue with (prices, bars, the clock, assets, trades behind the adapter's back) and reads back. */
export interface FakeAlpacaControls {
  /** Sets behaviours of the venue (see FakeAlpacaScenario); fields left out keep their value. */
  setScenario(scenario: Partial<FakeAlpacaScenario>): void;
  /** Releases every order the scenario holds (fill the rest, or cancel the residual of a partial fill). */
  releaseFills(): void;
  /** Every call answers 401 for the next `ms` (a key rotation window). */
  unauthorizedFor(ms: number): void;
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
  /** GET bars answers (pages) served and the bars they carried. */
  barsServed(): { requests: number; bars: number };
  /** Every order, in Alpaca's JSON shape, oldest first. */
  orders(): Record<string, any>[];
  cash(): number;
  /** A human closes the position on Alpaca's dashboard: its working orders are canceled, a market order flattens it. */
  closePositionExternally(symbol: string): void;
  /** A market order placed outside the adapter (manual trade), filled at once. */
  placeExternalOrder(o: { symbol: string; side: 'buy' | 'sell'; qty: number }): void;
  /** The venue rejects a working order after accepting it (trade_updates `rejected`). */
  rejectOrder(clientOrderId: string, reason?: string): void;
  /** A working order expires (trade_updates `expired`), e.g. a day order at the close. */
  expireOrder(clientOrderId: string): void;
}

/** An order change the trading stream reports (stream.ts sends it as a trade_updates message). */
export interface FakeTradeEvent {
  event: 'new' | 'fill' | 'partial_fill' | 'canceled' | 'expired' | 'rejected';
  order: Order;
  /** This execution's price and quantity (fill, partial_fill). */
  price?: number;
  qty?: number;
  reason?: string;
  at: number;
}

export interface Order {
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

export interface Reply {
  status: number;
  body?: unknown;
  raw?: string;
  headers?: Record<string, string>;
}


export const WORKING = new Set(['new', 'accepted', 'pending_new', 'partially_filled', 'held']);
export const TIMEFRAMES: Record<string, Timeframe> = { '1Min': '1m', '5Min': '5m', '15Min': '15m', '1Hour': '1h', '4Hour': '4h', '1Day': '1d' };
export const TF_NAME: Record<Timeframe, string> = { '1m': '1Min', '5m': '5Min', '15m': '15Min', '1h': '1Hour', '4h': '4Hour', '1d': '1Day' };

export const r9 = (n: number) => Math.round(n * 1e9) / 1e9;
export const dec = (n: number | null) => (n === null ? null : String(r9(n)));
/** Alpaca writes times with microseconds (or nanoseconds): RFC-3339, UTC. */
export const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString().replace('Z', '417Z'));
export const err = (status: number, code: number, message: string, extra: Record<string, unknown> = {}): Reply => ({ status, body: { code, message, ...extra } });
export const assetId = (symbol: string) => {
  const h = createHash('sha1').update(symbol).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
};

/** The UTC instant of 00:00 America/New_York on the calendar date of `utcMidnight`. */
export function newYorkMidnight(utcMidnight: number): number {
  const hourIn = (t: number) =>
    Number(new Intl.DateTimeFormat('en-US', { timeZone: 'America/New_York', hour: '2-digit', hourCycle: 'h23' }).format(new Date(t)));
  for (const h of [4, 5]) if (hourIn(utcMidnight + h * 3_600_000) === 0) return utcMidnight + h * 3_600_000;
  throw new Error('cannot place New York midnight');
}


/** A new fake venue's state; `controls` are what the test drives it with (server.ts hands them out). */
export function createFakeAlpacaState(options: FakeAlpacaOptions = {}) {
  const cancelDelayMs = options.cancelDelayMs ?? 0;
  /** What the test set for this venue's behaviour (setScenario). */
  const scenario: FakeAlpacaScenario = { fills: 'immediate' };
  /** Market orders held by the scenario (working, not filled until released). */
  const held = new Set<Order>();
  const rest = new Map<Order, 'fill' | 'cancel'>();
  const orders: Order[] = [];
  const byClientId = new Map<string, Order>();
  const positions = new Map<string, { qty: number; avg: number }>();
  const quotes = new Map<string, { bid: number; ask: number; t: number }>();
  const bars = new Map<string, Record<string, unknown>[]>();
  const barsServed = { requests: 0, bars: 0 };
  const assets = new Map<string, FakeAsset>();
  const timers = new Set<NodeJS.Timeout>();
  let cash = options.cash ?? 100_000;
  let marketOpen = true;
  let lastTs = 0;
  /** Who hears order changes (the stream fake); nothing listens unless a stream is attached. */
  const tradeListeners = new Set<(e: FakeTradeEvent) => void>();
  const emitTrade = (event: FakeTradeEvent['event'], o: Order, extra: Partial<FakeTradeEvent> = {}) => {
    for (const l of tradeListeners) l({ event, order: o, at: lastTs || Date.now(), ...extra });
  };

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

  /** Fills `qty` more of `o` at `price` (default: all that is left): partially_filled until nothing is left. */
  function fill(o: Order, price: number, qty = r9(o.qty - o.filled_qty)) {
    const ts = stamp();
    const signed = o.side === 'buy' ? qty : -qty;
    const pos = positions.get(o.symbol) ?? { qty: 0, avg: 0 };
    if (pos.qty === 0 || Math.sign(pos.qty) === Math.sign(signed)) {
      pos.avg = r9((Math.abs(pos.qty) * pos.avg + qty * price) / (Math.abs(pos.qty) + qty));
      pos.qty = r9(pos.qty + signed);
    } else {
      const before = pos.qty;
      pos.qty = r9(pos.qty + signed);
      if (pos.qty !== 0 && Math.sign(pos.qty) !== Math.sign(before)) pos.avg = price;
    }
    if (pos.qty === 0) positions.delete(o.symbol);
    else positions.set(o.symbol, pos);
    cash = r9(cash - signed * price);
    const filled = r9(o.filled_qty + qty);
    const avg = r9(((o.filled_avg_price ?? 0) * o.filled_qty + price * qty) / filled);
    Object.assign(o, { status: filled + 1e-9 >= o.qty ? 'filled' : 'partially_filled', filled_qty: filled, filled_avg_price: avg, filled_at: ts, updated_at: ts });
    emitTrade(o.status === 'filled' ? 'fill' : 'partial_fill', o, { price, qty });
  }

  /**
   * A market order the venue may fill now (accepted, market open): what the test's scenario says happens.
   * fake: Alpaca does not say when a market order fills; by default at once, at the ask / bid.
   */
  function marketFill(o: Order) {
    if (held.has(o)) return;
    const price = marketPrice(o);
    if (price === undefined) return;
    if (scenario.fills === 'hold') {
      held.add(o);
      if (scenario.fillAfterMs !== undefined) later(scenario.fillAfterMs, () => release(o));
      return;
    }
    if (scenario.partial) {
      fill(o, price, Math.min(scenario.partial.qty, o.qty));
      if (o.status === 'partially_filled') {
        held.add(o);
        rest.set(o, scenario.partial.rest);
        if (scenario.partial.afterMs !== undefined) later(scenario.partial.afterMs, () => release(o));
      }
      return;
    }
    fill(o, price);
  }

  /** Lets a held order go on: the rest of a partial fill fills or is canceled; a held order fills (market open). */
  function release(o: Order) {
    if (!held.delete(o) || !WORKING.has(o.status)) return;
    const after = rest.get(o);
    rest.delete(o);
    if (after === 'cancel') {
      Object.assign(o, { status: 'canceled', canceled_at: stamp(), updated_at: lastTs });
      emitTrade('canceled', o);
      return;
    }
    if (marketOpen) {
      const price = marketPrice(o);
      if (price !== undefined) fill(o, price);
    }
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
      if (o.type === 'market' && marketOpen) marketFill(o);
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
    const done = () => {
      Object.assign(o, { status: 'canceled', canceled_at: stamp(), updated_at: lastTs });
      emitTrade('canceled', o);
    };
    if (cancelDelayMs > 0) {
      Object.assign(o, { status: 'pending_cancel', updated_at: stamp() });
      later(cancelDelayMs, () => {
        if (o.status === 'pending_cancel') done();
      });
    } else done();
  }


  // ---- what the test drives ----

  const controls: FakeAlpacaControls = {
    barsServed: () => ({ ...barsServed }),
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
    setScenario(next) {
      if (next.fills !== undefined) scenario.fills = next.fills;
      if ('fillAfterMs' in next) scenario.fillAfterMs = next.fillAfterMs;
      if ('partial' in next) scenario.partial = next.partial;
      if ('refuseReducing' in next) scenario.refuseReducing = next.refuseReducing;
      if ('unauthorizedUntil' in next) scenario.unauthorizedUntil = next.unauthorizedUntil;
    },
    releaseFills() {
      for (const o of [...held]) release(o);
    },
    unauthorizedFor(ms) {
      scenario.unauthorizedUntil = Date.now() + ms;
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
    rejectOrder(clientOrderId, reason = 'fake: rejected by the venue') {
      const o = byClientId.get(clientOrderId);
      if (!o || !WORKING.has(o.status)) throw new Error(`fake: no working order ${clientOrderId}`);
      held.delete(o);
      Object.assign(o, { status: 'rejected', updated_at: stamp() });
      emitTrade('rejected', o, { reason });
    },
    expireOrder(clientOrderId) {
      const o = byClientId.get(clientOrderId);
      if (!o || !WORKING.has(o.status)) throw new Error(`fake: no working order ${clientOrderId}`);
      held.delete(o);
      Object.assign(o, { status: 'expired', updated_at: stamp() });
      emitTrade('expired', o);
    },
  };

  return {
    orders,
    byClientId,
    positions,
    quotes,
    bars,
    barsServed,
    assets,
    timers,
    get cash() {
      return cash;
    },
    get marketOpen() {
      return marketOpen;
    },
    stamp,
    later,
    fill,
    marketPrice,
    match,
    available,
    newOrder,
    orderJson,
    positionJson,
    equity,
    cancel,
    controls,
    scenario,
    marketFill,
    tradeListeners,
    emitTrade,
  };
}
export type FakeAlpacaState = ReturnType<typeof createFakeAlpacaState>;
