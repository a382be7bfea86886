/**
 * The fake IG venue's state and dealing rules: accounts, markets and quotes, the price history, open positions,
 * deal confirmations, the activity history, the session tokens, and the request log. No HTTP here (routes.ts
 * reads and changes this state; server.ts carries it over HTTP). Where IG's documentation does not say, the
 * fake's choice is marked "fake:".
 */

export const GATEWAY_PATH = '/gateway/deal';

export interface FakeIgAccount {
  accountId: string;
  currency: string;
  balance: number;
  preferred?: boolean;
}

export interface FakeIgMarket {
  epic: string;
  name?: string;
  currency?: string;
  /** `-` for CFDs, `DFB` for daily funded spread bets. */
  expiry?: string;
  minDealSize?: number;
  status?: 'TRADEABLE' | 'CLOSED' | 'EDITS_ONLY';
  /** `instrument.valueOfOnePoint` (IG sends a string, e.g. "10"). Default "1". */
  valueOfOnePoint?: string;
  /** `instrument.lotSize`. Default 1. */
  lotSize?: number;
  /**
   * `instrument.currencies`. Default: `currency` alone, isDefault, rates 1. fake: `baseExchangeRate` is read as
   * units of this currency per unit of the account's currency (IG does not define it further).
   */
  currencies?: { code: string; baseExchangeRate: number; exchangeRate?: number; isDefault: boolean }[];
}

/**
 * Behaviours a test sets per test (FakeIgServer.setScenario; fields left out keep their value):
 * - `confirmDelayMs`: GET /confirms/{ref} answers 404 error.confirms.deal-not-found until this long (fake time)
 *   after the deal;
 * - `refuseClose`: every close (POST /positions/otc, _method DELETE) is answered with its deal reference and a
 *   REJECTED confirm with this reason (e.g. "POSITION_NOT_AVAILABLE_TO_CLOSE");
 * - `unauthorizedUntil` (fake epoch ms): every call answers 401 until then (a key rotation window): POST /session
 *   with error.security.invalid-details, every other call with error.security.client-token-invalid.
 */
export interface FakeIgScenario {
  confirmDelayMs: number;
  refuseClose?: string;
  unauthorizedUntil?: number;
}

export interface FakeIgOptions {
  apiKey?: string;
  identifier?: string;
  password?: string;
  accounts?: FakeIgAccount[];
  markets?: FakeIgMarket[];
  /** Lifetime of CST / X-SECURITY-TOKEN session tokens (fake time). Default 6 h. */
  cstTokenTtlMs?: number;
  /** Lifetime of a v3 access token (fake time). Default 60 s (IG answers expires_in "60"). */
  accessTokenTtlMs?: number;
  /** Lifetime of a v3 refresh token (fake time). Default 10 min. */
  refreshTokenTtlMs?: number;
  /** How long a deal confirmation stays on GET /confirms (fake time). Default 60 s. */
  confirmTtlMs?: number;
  /** The clock the fake's time runs on (before `advanceTime`). Default Date.now. */
  now?: () => number;
  /** POST /session answers the fake's own Lightstreamer endpoint (lightstreamer.ts) instead of IG's demo host. */
  lightstreamer?: boolean;
}

export interface FakeIgPosition {
  accountId: string;
  dealId: string;
  dealReference: string;
  epic: string;
  direction: 'BUY' | 'SELL';
  size: number;
  level: number;
  stopLevel: number | null;
  limitLevel?: number | null;
  currency: string;
  createdAtMs: number;
}

export interface FakeIgActivity {
  accountId: string;
  atMs: number;
  date: string;
  epic: string;
  period: string;
  dealId: string;
  channel: 'PUBLIC_WEB_API' | 'SYSTEM' | 'WEB' | 'DEALER' | 'MOBILE' | 'PUBLIC_FIX_API';
  type: 'POSITION' | 'WORKING_ORDER' | 'EDIT_STOP_AND_LIMIT' | 'SYSTEM';
  status: 'ACCEPTED' | 'REJECTED' | 'UNKNOWN';
  description: string;
  details: {
    dealReference: string;
    actions: { actionType: string; affectedDealId: string }[];
    marketName: string;
    goodTillDate: null;
    currency: string;
    size: number;
    direction: 'BUY' | 'SELL';
    level: number | null;
    stopLevel: number | null;
    stopDistance: null;
    guaranteedStop: false;
    trailingStopDistance: null;
    trailingStep: null;
    limitLevel: null;
    limitDistance: null;
  };
}

/** One frame of mid prices; the fake quotes bid/ask around it. */
export interface FakeCandle {
  start: number;
  timeframe: '1m' | '5m' | '15m' | '1h' | '4h' | '1d';
  open: number;
  high: number;
  low: number;
  close: number;
  volume?: number;
}

export interface RawOverride {
  method?: string;
  path: string | RegExp;
  status: number;
  /** Sent as is (a string is not JSON-encoded: use it for malformed bodies). */
  body: unknown;
  times?: number;
}

export interface RequestRecord {
  method: string;
  path: string;
  override?: string;
  version?: string;
  atMs: number;
  /** Status answered; undefined when the request was held or dropped. */
  status?: number;
  /** IG errorCode of an error answer. */
  errorCode?: string;
}

export type Json = Record<string, unknown>;
/** One answer of the fake: status, JSON body (or a raw string), extra headers. */
export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  raw?: boolean;
}

export const err = (status: number, errorCode: string): Reply => ({ status, body: { errorCode } });
export const pad = (n: number, w = 2) => String(n).padStart(w, '0');
/** `yyyy-MM-ddTHH:mm:ss` in UTC. */
export const igUtc = (ms: number) => new Date(ms).toISOString().slice(0, 19);
export const igLocal = (ms: number) => {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
};
export const parseUtc = (s: string | null): number | null => {
  if (!s) return null;
  const ms = Date.parse(/(Z|[+-]\d\d:?\d\d)$/.test(s) ? s : `${s}Z`);
  return Number.isFinite(ms) ? ms : null;
};
export const decimals = (n: number) => (String(n).split('.')[1] ?? '').replace(/e.*$/, '').length;
export const TF_RESOLUTION: Record<FakeCandle['timeframe'], string> = {
  '1m': 'MINUTE',
  '5m': 'MINUTE_5',
  '15m': 'MINUTE_15',
  '1h': 'HOUR',
  '4h': 'HOUR_4',
  '1d': 'DAY',
};
export const EPIC = /^[A-Za-z0-9._]{6,30}$/;
export const DEAL_REF = /^[A-Za-z0-9_-]{1,30}$/;
export const EXPIRY = /^((\d{2}-)?[A-Z]{3}-\d{2}|-|DFB)$/;

/**
 * What the Lightstreamer fake hears from the ledger (lightstreamer.ts sends it on TRADE:{accountId} and
 * ACCOUNT:{accountId}): a deal confirmation, an open position update, or a balance change.
 */
export type FakeIgStreamEvent =
  | { accountId: string; field: 'CONFIRMS' | 'OPU'; payload: Json }
  | { accountId: string; field: 'ACCOUNT' };

export class FakeIgState {
  readonly opts: Required<Omit<FakeIgOptions, 'accounts' | 'markets' | 'now' | 'lightstreamer'>> & { now: () => number };
  offsetMs = 0;
  readonly accounts = new Map<string, FakeIgAccount>();
  readonly markets = new Map<string, Required<FakeIgMarket>>();
  readonly quotes = new Map<string, { bid: number; ask: number; atMs: number }>();
  readonly candles = new Map<string, Map<string, Map<number, { bid: number[]; ask: number[]; volume: number }>>>();
  readonly openPositions = new Map<string, FakeIgPosition>();
  readonly confirms = new Map<string, { atMs: number; body: Json }>();
  readonly activity: FakeIgActivity[] = [];
  readonly cst = new Map<string, { securityToken: string; accountId: string; expiresAtMs: number }>();
  readonly access = new Map<string, number>();
  readonly refresh = new Map<string, number>();
  readonly log: RequestRecord[] = [];
  /** GET /prices answers and the historical-data points they spent (one per price), of a `total` allowance. */
  readonly history = { requests: 0, points: 0, total: 10_000 };
  loginCount = 0;
  readonly scenario: FakeIgScenario = { confirmDelayMs: 0 };
  seq = 0;
  /** Sent as `lightstreamerEndpoint` by POST /session; the server points it at its own stream when asked. */
  lightstreamerEndpoint = 'https://demo-apd.marketdatasystems.com';
  /** Who hears ledger changes (the Lightstreamer fake); nothing listens unless a stream is attached. */
  readonly streamListeners = new Set<(e: FakeIgStreamEvent) => void>();

  constructor(options: FakeIgOptions) {
    this.opts = {
      apiKey: options.apiKey ?? 'fake-api-key',
      identifier: options.identifier ?? 'fake-user',
      password: options.password ?? 'fake-password',
      cstTokenTtlMs: options.cstTokenTtlMs ?? 6 * 3_600_000,
      accessTokenTtlMs: options.accessTokenTtlMs ?? 60_000,
      refreshTokenTtlMs: options.refreshTokenTtlMs ?? 600_000,
      confirmTtlMs: options.confirmTtlMs ?? 60_000,
      now: options.now ?? Date.now,
    };
    for (const a of options.accounts ?? [{ accountId: 'ABC123', currency: 'USD', balance: 10_000, preferred: true }]) this.accounts.set(a.accountId, { ...a });
    for (const m of options.markets ?? []) this.addMarket(m);
  }

  now(): number {
    return this.opts.now() + this.offsetMs;
  }
  advance(ms: number): void {
    this.offsetMs += ms;
  }

  id(prefix: string): string {
    this.seq++;
    return `${prefix}${this.seq.toString(36).toUpperCase().padStart(9, 'A')}`;
  }

  addMarket(m: FakeIgMarket): void {
    this.markets.set(m.epic, {
      epic: m.epic,
      name: m.name ?? m.epic,
      currency: m.currency ?? 'USD',
      expiry: m.expiry ?? '-',
      minDealSize: m.minDealSize ?? 0.01,
      status: m.status ?? 'TRADEABLE',
      valueOfOnePoint: m.valueOfOnePoint ?? '1',
      lotSize: m.lotSize ?? 1,
      currencies: m.currencies ?? [],
    });
  }

  setPrice(epic: string, bid: number, ask: number): void {
    if (!(bid > 0) || !(ask >= bid)) throw new Error(`fake IG: bad quote ${bid}/${ask}`);
    if (!this.markets.has(epic)) this.addMarket({ epic });
    this.quotes.set(epic, { bid, ask, atMs: this.now() });
    this.triggerStops(epic);
  }

  addCandles(epic: string, frames: FakeCandle[], spread = 0.0002): void {
    if (!this.markets.has(epic)) this.addMarket({ epic });
    const byRes = this.candles.get(epic) ?? new Map();
    this.candles.set(epic, byRes);
    for (const f of frames) {
      const res = TF_RESOLUTION[f.timeframe];
      const book = byRes.get(res) ?? new Map();
      byRes.set(res, book);
      const mids = [f.open, f.high, f.low, f.close];
      book.set(f.start, {
        bid: mids.map((x) => Math.round((x - spread / 2) * 1e8) / 1e8),
        ask: mids.map((x) => Math.round((x + spread / 2) * 1e8) / 1e8),
        volume: f.volume ?? 0,
      });
    }
  }

  positionList(accountId?: string): FakeIgPosition[] {
    return [...this.openPositions.values()].filter((p) => !accountId || p.accountId === accountId).map((p) => ({ ...p }));
  }

  activityList(accountId?: string): FakeIgActivity[] {
    return this.activity.filter((a) => !accountId || a.accountId === accountId).map((a) => structuredClone(a));
  }

  balance(accountId: string): number {
    const a = this.accounts.get(accountId);
    if (!a) throw new Error(`fake IG: no account ${accountId}`);
    return a.balance;
  }

  expireSessions(): void {
    this.cst.clear();
    this.access.clear();
  }

  preferredAccount(): FakeIgAccount {
    const all = [...this.accounts.values()];
    return all.find((a) => a.preferred) ?? all[0]!;
  }

  // ---- ledger ----------------------------------------------------------------------------------

  record(a: Omit<FakeIgActivity, 'date' | 'atMs'>): void {
    const atMs = this.now();
    this.activity.push({ ...a, atMs, date: igUtc(atMs) });
  }

  details(p: { dealReference: string; epic: string; currency: string; size: number; direction: 'BUY' | 'SELL'; level: number | null; stopLevel: number | null }, actions: FakeIgActivity['details']['actions']): FakeIgActivity['details'] {
    return {
      dealReference: p.dealReference,
      actions,
      marketName: this.markets.get(p.epic)?.name ?? p.epic,
      goodTillDate: null,
      currency: p.currency,
      size: p.size,
      direction: p.direction,
      level: p.level,
      stopLevel: p.stopLevel,
      stopDistance: null,
      guaranteedStop: false,
      trailingStopDistance: null,
      trailingStep: null,
      limitLevel: null,
      limitDistance: null,
    };
  }

  confirm(dealReference: string, body: Json, accountId?: string): void {
    const full = { date: igUtc(this.now()), dealReference, ...body };
    this.confirms.set(dealReference, { atMs: this.now(), body: full });
    this.emitStream({ accountId: accountId ?? this.preferredAccount().accountId, field: 'CONFIRMS', payload: full });
  }

  emitStream(e: FakeIgStreamEvent): void {
    for (const l of this.streamListeners) l(e);
  }

  /** An OPU payload as IG's streaming API sends it. fake: the closing channel and timestamp as IG's docs show them. */
  positionUpdate(p: FakeIgPosition, status: 'OPEN' | 'UPDATED' | 'DELETED', channel: string, dealReference = p.dealReference): void {
    this.emitStream({
      accountId: p.accountId,
      field: 'OPU',
      payload: {
        dealReference, dealId: p.dealId, direction: p.direction, epic: p.epic, expiry: this.markets.get(p.epic)?.expiry ?? '-', level: p.level,
        size: status === 'DELETED' ? 0 : p.size, status, dealStatus: 'ACCEPTED', stopLevel: p.stopLevel, limitLevel: p.limitLevel ?? null,
        currency: p.currency, channel, timestamp: new Date(this.now()).toISOString().replace('Z', ''), guaranteedStop: false,
      },
    });
  }

  rejectDeal(accountId: string, dealReference: string, o: { epic: string; direction: 'BUY' | 'SELL'; size: number; currency: string; expiry: string }, reason: string): void {
    const dealId = this.id('DIAAAA');
    this.confirm(dealReference, {
      dealStatus: 'REJECTED',
      reason,
      status: null,
      dealId,
      epic: o.epic,
      expiry: o.expiry,
      affectedDeals: [],
      level: null,
      size: null,
      direction: o.direction,
      stopLevel: null,
      limitLevel: null,
      stopDistance: null,
      limitDistance: null,
      guaranteedStop: false,
      trailingStop: false,
      profit: null,
      profitCurrency: null,
    }, accountId);
    this.record({
      accountId,
      epic: o.epic,
      period: o.expiry,
      dealId,
      channel: 'PUBLIC_WEB_API',
      type: 'POSITION',
      status: 'REJECTED',
      description: `Order rejected: ${reason}`,
      details: this.details({ dealReference, epic: o.epic, currency: o.currency, size: o.size, direction: o.direction, level: null, stopLevel: null }, []),
    });
  }

  openDeal(accountId: string, o: { epic: string; direction: 'BUY' | 'SELL'; size: number; currency: string; expiry: string; stopLevel: number | null; dealReference: string }, channel: FakeIgActivity['channel']): FakeIgPosition | null {
    const m = this.markets.get(o.epic)!;
    const q = this.quotes.get(o.epic);
    if (m.status !== 'TRADEABLE' || !q) return this.rejectDeal(accountId, o.dealReference, o, 'MARKET_CLOSED_WITH_EDITS'), null;
    if (o.size < m.minDealSize) return this.rejectDeal(accountId, o.dealReference, o, 'MINIMUM_ORDER_SIZE_ERROR'), null;
    if (o.currency !== m.currency) return this.rejectDeal(accountId, o.dealReference, o, 'INVALID_CURRENCY'), null; // fake: reason name
    const level = o.direction === 'BUY' ? q.ask : q.bid;
    if (o.stopLevel !== null && (o.direction === 'BUY' ? o.stopLevel >= q.bid : o.stopLevel <= q.ask)) {
      return this.rejectDeal(accountId, o.dealReference, o, 'ATTACHED_ORDER_LEVEL_ERROR'), null;
    }
    const pos: FakeIgPosition = { accountId, dealId: this.id('DIAAAA'), dealReference: o.dealReference, epic: o.epic, direction: o.direction, size: o.size, level, stopLevel: o.stopLevel, currency: o.currency, createdAtMs: this.now() };
    this.openPositions.set(pos.dealId, pos);
    if (channel === 'PUBLIC_WEB_API') {
      this.confirm(o.dealReference, {
        dealStatus: 'ACCEPTED',
        reason: 'SUCCESS',
        status: 'OPEN',
        dealId: pos.dealId,
        epic: o.epic,
        expiry: o.expiry,
        affectedDeals: [{ dealId: pos.dealId, status: 'OPENED' }],
        level,
        size: o.size,
        direction: o.direction,
        stopLevel: o.stopLevel,
        limitLevel: null,
        stopDistance: null,
        limitDistance: null,
        guaranteedStop: false,
        trailingStop: false,
        profit: null,
        profitCurrency: null,
      }, accountId);
    }
    this.positionUpdate(pos, 'OPEN', channel);
    this.record({
      accountId,
      epic: o.epic,
      period: o.expiry,
      dealId: pos.dealId,
      channel,
      type: 'POSITION',
      status: 'ACCEPTED',
      description: `Position opened: ${pos.dealId}`,
      details: this.details({ ...o, level }, [{ actionType: 'POSITION_OPENED', affectedDealId: pos.dealId }]),
    });
    return pos;
  }

  closeDeal(pos: FakeIgPosition, size: number, channel: FakeIgActivity['channel'], dealReference: string, withConfirm: boolean, atLevel?: number): void {
    const q = this.quotes.get(pos.epic)!;
    const level = atLevel ?? (pos.direction === 'BUY' ? q.bid : q.ask);
    const closeDir = pos.direction === 'BUY' ? 'SELL' : 'BUY';
    const full = size >= pos.size;
    const pnl = Math.round((level - pos.level) * size * (pos.direction === 'BUY' ? 1 : -1) * 100) / 100;
    const acct = this.accounts.get(pos.accountId);
    if (acct) acct.balance = Math.round((acct.balance + pnl) * 100) / 100;
    if (full) this.openPositions.delete(pos.dealId);
    else pos.size = Math.round((pos.size - size) * 1e12) / 1e12;
    const closingDealId = this.id('DIAAAA');
    const action = full ? 'POSITION_CLOSED' : 'POSITION_PARTIALLY_CLOSED';
    if (withConfirm) {
      this.confirm(dealReference, {
        dealStatus: 'ACCEPTED',
        reason: 'SUCCESS',
        status: full ? 'CLOSED' : 'PARTIALLY_CLOSED',
        dealId: closingDealId,
        epic: pos.epic,
        expiry: this.markets.get(pos.epic)?.expiry ?? '-',
        affectedDeals: [{ dealId: pos.dealId, status: full ? 'FULLY_CLOSED' : 'PARTIALLY_CLOSED' }],
        level,
        size,
        direction: closeDir,
        stopLevel: null,
        limitLevel: null,
        stopDistance: null,
        limitDistance: null,
        guaranteedStop: false,
        trailingStop: false,
        profit: pnl,
        profitCurrency: pos.currency,
      }, pos.accountId);
    }
    this.positionUpdate(pos, full ? 'DELETED' : 'UPDATED', channel, full ? pos.dealReference : dealReference);
    this.emitStream({ accountId: pos.accountId, field: 'ACCOUNT' });
    this.record({
      accountId: pos.accountId,
      epic: pos.epic,
      period: this.markets.get(pos.epic)?.expiry ?? '-',
      dealId: closingDealId,
      channel,
      type: 'POSITION',
      status: 'ACCEPTED',
      description: `Position${full ? '/s' : ' partially'} closed: ${pos.dealId}`,
      details: this.details({ dealReference, epic: pos.epic, currency: pos.currency, size, direction: closeDir, level, stopLevel: null }, [{ actionType: action, affectedDealId: pos.dealId }]),
    });
  }

  triggerStops(epic: string): void {
    const q = this.quotes.get(epic)!;
    for (const p of [...this.openPositions.values()]) {
      if (p.epic !== epic || p.stopLevel === null) continue;
      const hit = p.direction === 'BUY' ? q.bid <= p.stopLevel : q.ask >= p.stopLevel;
      // Non-guaranteed stop: fills at the market, which may be worse than the stop level after a gap.
      if (hit) this.closeDeal(p, p.size, 'SYSTEM', this.id('SYS'), false);
    }
  }

  closeExternally(dealReference: string, channel: FakeIgActivity['channel']): void {
    const pos = [...this.openPositions.values()].find((p) => p.dealReference === dealReference);
    if (!pos) throw new Error(`fake IG: no open position with dealReference ${dealReference}`);
    if (!this.quotes.has(pos.epic)) throw new Error(`fake IG: no quote for ${pos.epic}`);
    this.closeDeal(pos, pos.size, channel, this.id('WEB'), false);
  }

  openExternally(p: { epic: string; direction: 'BUY' | 'SELL'; size: number; stopLevel?: number; dealReference?: string; accountId?: string }): FakeIgPosition {
    const m = this.markets.get(p.epic);
    if (!m) throw new Error(`fake IG: no market ${p.epic}`);
    const pos = this.openDeal(
      p.accountId ?? this.preferredAccount().accountId,
      { epic: p.epic, direction: p.direction, size: p.size, currency: m.currency, expiry: m.expiry, stopLevel: p.stopLevel ?? null, dealReference: p.dealReference ?? this.id('WEB') },
      'WEB',
    );
    if (!pos) throw new Error('fake IG: the external open was rejected');
    return pos;
  }

}
