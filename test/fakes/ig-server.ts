/**
 * A local fake of IG's REST trading API (https://labs.ig.com/rest-trading-api-reference), faithful to the
 * documented contract where the adapter depends on it:
 *
 * - `POST /session` v2 (CST + X-SECURITY-TOKEN response headers) and v3 (OAuth tokens in the body,
 *   then `Authorization: Bearer` + `IG-ACCOUNT-ID`), `PUT /session` v1 (switch account),
 *   `POST /session/refresh-token` v1; API key and credentials checked; tokens expire (configurable).
 * - `GET /accounts` v1, `GET /positions` v2, `POST /positions/otc` v2 (open) and with `_method: DELETE`
 *   v1 (close; IG assigns the close's deal reference), `GET /confirms/{dealReference}` v1 (kept
 *   `confirmTtlMs` of fake time, then 404 `error.confirms.deal-not-found`), `GET /history/activity` v3
 *   (detailed, paged with `metadata.paging.next`), `GET /markets/{epic}` v3 (snapshot.marketStatus,
 *   dealingRules.minDealSize), `GET /prices/{epic}` v3, `PUT /positions/otc/{dealId}` v2 (amend the stop and
 *   limit of an open position; IG assigns the deal reference, the outcome is on /confirms: ACCEPTED with
 *   status AMENDED, or REJECTED with a reason such as ATTACHED_ORDER_LEVEL_ERROR for a stop on the wrong side).
 * - Every endpoint requires its Version header and the auth headers; errors are IG-style `{ errorCode }`.
 * - IG does not de-duplicate deal references: a re-sent reference deals again (and overwrites the confirm).
 * - Protective stops trigger when a price set from the test crosses a position's `stopLevel`; IG then closes
 *   the position through its SYSTEM channel.
 *
 * Where IG's documentation does not say what it answers, the fake's choice is marked "fake:" below.
 * Faults (test/fakes/fault.ts) apply to the next N matching requests.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { FaultBook, type Fault } from './fault';

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

export interface FakeIgServer {
  /** Gateway base URL, e.g. http://127.0.0.1:PORT/gateway/deal (IG_BASE_URL). */
  readonly url: string;
  readonly options: Required<Pick<FakeIgOptions, 'apiKey' | 'identifier' | 'password'>>;
  inject(fault: Fault): void;
  clearFaults(): void;
  pendingFaults(): Fault[];
  /** Answers the next matching request(s) with this raw status and body, without acting. */
  respondRaw(override: RawOverride): void;
  now(): number;
  advanceTime(ms: number): void;
  addMarket(market: FakeIgMarket): void;
  /** Sets the quote of an epic (creating a default market if needed) and triggers crossed stops. */
  setPrice(epic: string, bid: number, ask: number): void;
  /** Adds candles (mid prices) to the price history of an epic; bid/ask are mid ∓ spread/2. */
  addCandles(epic: string, frames: FakeCandle[], spread?: number): void;
  positions(accountId?: string): FakeIgPosition[];
  activities(accountId?: string): FakeIgActivity[];
  balance(accountId: string): number;
  /** Opening POSTs of /positions/otc received (whatever became of them). */
  orderPosts(): number;
  /** Closing POSTs (`_method: DELETE`) of /positions/otc received. */
  closePosts(): number;
  /** PUTs of /positions/otc/{dealId} (stop/limit amendments) received, whatever became of them. */
  amendPuts(): number;
  requests(filter?: { method?: string; path?: string | RegExp; override?: string }): RequestRecord[];
  logins(): number;
  /** Closes a position behind the adapter's back (web platform), at the current quote. */
  closePositionExternally(dealReference: string, channel?: 'WEB' | 'DEALER' | 'SYSTEM'): void;
  /** Opens a position behind the adapter's back (web platform), at the current quote. */
  openPositionExternally(p: { epic: string; direction: 'BUY' | 'SELL'; size: number; stopLevel?: number; dealReference?: string; accountId?: string }): FakeIgPosition;
  /** Makes every session token invalid (as an IG session timeout would). */
  expireSessions(): void;
  close(): Promise<void>;
}

type Json = Record<string, unknown>;
interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  raw?: boolean;
}
interface Ctx {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: unknown;
  version: number;
  override?: string;
  accountId?: string;
  authKind?: 'cst' | 'oauth';
}

const err = (status: number, errorCode: string): Reply => ({ status, body: { errorCode } });
const pad = (n: number, w = 2) => String(n).padStart(w, '0');
/** `yyyy-MM-ddTHH:mm:ss` in UTC. */
export const igUtc = (ms: number) => new Date(ms).toISOString().slice(0, 19);
const igLocal = (ms: number) => {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
};
const parseUtc = (s: string | null): number | null => {
  if (!s) return null;
  const ms = Date.parse(/(Z|[+-]\d\d:?\d\d)$/.test(s) ? s : `${s}Z`);
  return Number.isFinite(ms) ? ms : null;
};
const decimals = (n: number) => (String(n).split('.')[1] ?? '').replace(/e.*$/, '').length;
const TF_RESOLUTION: Record<FakeCandle['timeframe'], string> = {
  '1m': 'MINUTE',
  '5m': 'MINUTE_5',
  '15m': 'MINUTE_15',
  '1h': 'HOUR',
  '4h': 'HOUR_4',
  '1d': 'DAY',
};
const EPIC = /^[A-Za-z0-9._]{6,30}$/;
const DEAL_REF = /^[A-Za-z0-9_-]{1,30}$/;
const EXPIRY = /^((\d{2}-)?[A-Z]{3}-\d{2}|-|DFB)$/;

interface Route {
  method: string;
  pattern: RegExp;
  override?: string;
  versions: number[];
  auth: boolean;
  handle(ctx: Ctx, m: RegExpExecArray): Reply | Promise<Reply>;
}

class FakeIg {
  readonly opts: Required<Omit<FakeIgOptions, 'accounts' | 'markets' | 'now'>> & { now: () => number };
  private offsetMs = 0;
  readonly faults = new FaultBook();
  private readonly raws: { o: RawOverride; left: number }[] = [];
  private readonly accounts = new Map<string, FakeIgAccount>();
  private readonly markets = new Map<string, Required<FakeIgMarket>>();
  private readonly quotes = new Map<string, { bid: number; ask: number; atMs: number }>();
  private readonly candles = new Map<string, Map<string, Map<number, { bid: number[]; ask: number[]; volume: number }>>>();
  private readonly openPositions = new Map<string, FakeIgPosition>();
  private readonly confirms = new Map<string, { atMs: number; body: Json }>();
  private readonly activity: FakeIgActivity[] = [];
  private readonly cst = new Map<string, { securityToken: string; accountId: string; expiresAtMs: number }>();
  private readonly access = new Map<string, number>();
  private readonly refresh = new Map<string, number>();
  readonly log: RequestRecord[] = [];
  loginCount = 0;
  private seq = 0;
  private readonly routes: Route[];

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
    this.routes = this.buildRoutes();
  }

  now(): number {
    return this.opts.now() + this.offsetMs;
  }
  advance(ms: number): void {
    this.offsetMs += ms;
  }

  private id(prefix: string): string {
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

  respondRaw(o: RawOverride): void {
    this.raws.push({ o, left: o.times ?? 1 });
  }

  private preferredAccount(): FakeIgAccount {
    const all = [...this.accounts.values()];
    return all.find((a) => a.preferred) ?? all[0]!;
  }

  // ---- ledger ----------------------------------------------------------------------------------

  private record(a: Omit<FakeIgActivity, 'date' | 'atMs'>): void {
    const atMs = this.now();
    this.activity.push({ ...a, atMs, date: igUtc(atMs) });
  }

  private details(p: { dealReference: string; epic: string; currency: string; size: number; direction: 'BUY' | 'SELL'; level: number | null; stopLevel: number | null }, actions: FakeIgActivity['details']['actions']): FakeIgActivity['details'] {
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

  private confirm(dealReference: string, body: Json): void {
    this.confirms.set(dealReference, { atMs: this.now(), body: { date: igUtc(this.now()), dealReference, ...body } });
  }

  private rejectDeal(accountId: string, dealReference: string, o: { epic: string; direction: 'BUY' | 'SELL'; size: number; currency: string; expiry: string }, reason: string): void {
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
    });
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
      });
    }
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
      });
    }
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

  private triggerStops(epic: string): void {
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

  // ---- HTTP ------------------------------------------------------------------------------------

  async handle(req: http.IncomingMessage, res: http.ServerResponse, held: Set<{ timer: NodeJS.Timeout; socket: Socket }>): Promise<void> {
    const raw = await new Promise<string>((resolve) => {
      let s = '';
      req.setEncoding('utf8');
      req.on('data', (c) => (s += c));
      req.on('end', () => resolve(s));
    });
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = (req.method ?? 'GET').toUpperCase();
    const override = typeof req.headers['_method'] === 'string' ? req.headers['_method'].toUpperCase() : undefined;
    const versionHeader = typeof req.headers.version === 'string' ? req.headers.version : undefined;
    const path = url.pathname.startsWith(`${GATEWAY_PATH}/`) ? url.pathname.slice(GATEWAY_PATH.length) : url.pathname;
    const rec: RequestRecord = { method, path, ...(override ? { override } : {}), ...(versionHeader ? { version: versionHeader } : {}), atMs: this.now() };
    this.log.push(rec);
    const send = (r: Reply) => {
      rec.status = r.status;
      const code = (r.body as { errorCode?: unknown } | null)?.errorCode;
      if (r.status >= 400 && typeof code === 'string') rec.errorCode = code;
      this.send(res, r);
    };
    let body: unknown;
    if (raw.trim() !== '') {
      try {
        body = JSON.parse(raw);
      } catch {
        return send(err(400, 'invalid.input'));
      }
    }

    const rawIdx = this.raws.findIndex(({ o }) => (!o.method || o.method.toUpperCase() === method) && (typeof o.path === 'string' ? o.path === path : o.path.test(path)));
    if (rawIdx >= 0) {
      const r = this.raws[rawIdx]!;
      if (--r.left === 0) this.raws.splice(rawIdx, 1);
      return send({ status: r.o.status, body: r.o.body, raw: true });
    }

    const fault = this.faults.take(method, path, { headers: req.headers, body });
    const hold = (reply?: Reply) => {
      const socket = req.socket;
      const entry = {
        socket,
        timer: setTimeout(() => {
          held.delete(entry);
          if (reply) send(reply);
          else socket.destroy();
        }, fault?.holdMs ?? 30_000),
      };
      held.add(entry);
    };
    if (fault) {
      switch (fault.kind) {
        case 'timeout':
          if (!fault.acceptFirst) return hold();
          break;
        case '5xx':
          return send(err(fault.status ?? 500, fault.errorCode ?? 'system.error')); // fake: IG's 5xx body varies
        case 'rate-limit':
          return send(err(403, fault.errorCode ?? 'error.public-api.exceeded-account-allowance'));
        case 'expired-token': {
          const bearer = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ''))?.[1];
          if (bearer) this.access.delete(bearer);
          const cst = req.headers.cst;
          if (typeof cst === 'string') this.cst.delete(cst);
          return send(err(401, fault.errorCode ?? (bearer ? 'error.security.oauth-token-invalid' : 'error.security.client-token-invalid')));
        }
        case 'drop-after-accept':
          break;
      }
    }

    const reply = await this.route({ method, path, query: url.searchParams, headers: req.headers, body, version: Number(versionHeader ?? '1'), ...(override ? { override } : {}) });
    if (fault?.kind === 'drop-after-accept') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'timeout') return hold(reply);
    send(reply);
  }

  private send(res: http.ServerResponse, r: Reply): void {
    if (res.headersSent || res.destroyed) return;
    res.sendDate = false;
    res.writeHead(r.status, {
      'Content-Type': 'application/json; charset=UTF-8',
      Date: new Date(this.now()).toUTCString(),
      ...(r.headers ?? {}),
    });
    res.end(r.raw && typeof r.body === 'string' ? r.body : JSON.stringify(r.body ?? {}));
  }

  private async route(ctx: Ctx): Promise<Reply> {
    const apiKey = ctx.headers['x-ig-api-key'];
    if (!apiKey) return err(400, 'error.security.api-key-missing');
    if (apiKey !== this.opts.apiKey) return err(403, 'error.security.api-key-invalid');
    for (const r of this.routes) {
      if (r.method !== ctx.method || (r.override ?? undefined) !== ctx.override) continue;
      const m = r.pattern.exec(ctx.path);
      if (!m) continue;
      // fake: IG's answer to an unsupported Version is not documented; the fake names it plainly.
      if (!r.versions.includes(ctx.version)) return err(404, 'error.request.version-not-supported');
      if (r.auth) {
        const denied = this.authenticate(ctx);
        if (denied) return denied;
      }
      return r.handle(ctx, m);
    }
    return err(404, 'error.request.unknown-endpoint'); // fake: code
  }

  private authenticate(ctx: Ctx): Reply | null {
    const now = this.now();
    const bearer = /^Bearer (.+)$/.exec(String(ctx.headers.authorization ?? ''))?.[1];
    if (bearer) {
      const exp = this.access.get(bearer);
      if (exp === undefined || exp <= now) return err(401, 'error.security.oauth-token-invalid');
      const acct = ctx.headers['ig-account-id'];
      if (typeof acct !== 'string') return err(401, 'error.security.account-token-missing');
      if (!this.accounts.has(acct)) return err(401, 'error.security.account-token-invalid');
      ctx.accountId = acct;
      ctx.authKind = 'oauth';
      return null;
    }
    const cst = ctx.headers.cst;
    if (typeof cst !== 'string') return err(401, 'error.security.client-token-missing');
    const s = this.cst.get(cst);
    if (!s || s.expiresAtMs <= now) return err(401, 'error.security.client-token-invalid');
    const xst = ctx.headers['x-security-token'];
    if (typeof xst !== 'string') return err(401, 'error.security.account-token-missing');
    if (xst !== s.securityToken) return err(401, 'error.security.account-token-invalid');
    ctx.accountId = s.accountId;
    ctx.authKind = 'cst';
    return null;
  }

  private buildRoutes(): Route[] {
    return [
      { method: 'POST', pattern: /^\/session$/, versions: [2, 3], auth: false, handle: (c) => this.login(c) },
      { method: 'PUT', pattern: /^\/session$/, versions: [1], auth: true, handle: (c) => this.switchAccount(c) },
      { method: 'POST', pattern: /^\/session\/refresh-token$/, versions: [1], auth: false, handle: (c) => this.refreshToken(c) },
      { method: 'GET', pattern: /^\/accounts$/, versions: [1], auth: true, handle: () => this.getAccounts() },
      { method: 'GET', pattern: /^\/positions$/, versions: [2], auth: true, handle: (c) => this.getPositions(c) },
      { method: 'POST', pattern: /^\/positions\/otc$/, versions: [2], auth: true, handle: (c) => this.openPosition(c) },
      { method: 'POST', pattern: /^\/positions\/otc$/, override: 'DELETE', versions: [1], auth: true, handle: (c) => this.closePosition(c) },
      { method: 'PUT', pattern: /^\/positions\/otc\/([^/]+)$/, versions: [2], auth: true, handle: (c, m) => this.amendPosition(c, decodeURIComponent(m[1]!)) },
      { method: 'GET', pattern: /^\/confirms\/([^/]+)$/, versions: [1], auth: true, handle: (_c, m) => this.getConfirm(decodeURIComponent(m[1]!)) },
      { method: 'GET', pattern: /^\/history\/activity$/, versions: [3], auth: true, handle: (c) => this.getActivity(c) },
      { method: 'GET', pattern: /^\/markets\/([^/]+)$/, versions: [3], auth: true, handle: (_c, m) => this.getMarket(decodeURIComponent(m[1]!)) },
      { method: 'GET', pattern: /^\/prices\/([^/]+)$/, versions: [3], auth: true, handle: (c, m) => this.getPrices(c, decodeURIComponent(m[1]!)) },
    ];
  }

  private login(ctx: Ctx): Reply {
    const b = (ctx.body ?? {}) as Json;
    if (typeof b.identifier !== 'string') return err(400, 'validation.null-not-allowed.request.identifier');
    if (typeof b.password !== 'string') return err(400, 'validation.null-not-allowed.request.password');
    if (b.identifier !== this.opts.identifier || b.password !== this.opts.password) return err(401, 'error.security.invalid-details');
    this.loginCount++;
    const now = this.now();
    const acct = this.preferredAccount();
    if (ctx.version === 3) {
      const accessToken = this.id('AT-');
      const refreshToken = this.id('RT-');
      this.access.set(accessToken, now + this.opts.accessTokenTtlMs);
      this.refresh.set(refreshToken, now + this.opts.refreshTokenTtlMs);
      return {
        status: 200,
        body: {
          clientId: '100100100',
          accountId: acct.accountId,
          timezoneOffset: 0,
          lightstreamerEndpoint: 'https://demo-apd.marketdatasystems.com',
          oauthToken: { access_token: accessToken, refresh_token: refreshToken, scope: 'profile', token_type: 'Bearer', expires_in: String(Math.round(this.opts.accessTokenTtlMs / 1000)) },
        },
      };
    }
    const cst = this.id('CST-');
    const xst = this.id('XST-');
    this.cst.set(cst, { securityToken: xst, accountId: acct.accountId, expiresAtMs: now + this.opts.cstTokenTtlMs });
    return {
      status: 200,
      headers: { CST: cst, 'X-SECURITY-TOKEN': xst },
      body: {
        accountType: 'CFD',
        accountInfo: { balance: acct.balance, deposit: 0, profitLoss: 0, available: acct.balance },
        currencyIsoCode: acct.currency,
        currentAccountId: acct.accountId,
        lightstreamerEndpoint: 'https://demo-apd.marketdatasystems.com',
        accounts: [...this.accounts.values()].map((a) => ({ accountId: a.accountId, accountName: 'CFD', preferred: a === acct, accountType: 'CFD' })),
        clientId: '100100100',
        timezoneOffset: 0,
        hasActiveDemoAccounts: true,
        hasActiveLiveAccounts: false,
        trailingStopsEnabled: false,
        dealingEnabled: true,
      },
    };
  }

  private switchAccount(ctx: Ctx): Reply {
    const b = (ctx.body ?? {}) as Json;
    if (typeof b.accountId !== 'string') return err(400, 'validation.null-not-allowed.request.accountId');
    if (!this.accounts.has(b.accountId)) return err(401, 'error.security.account-token-invalid'); // fake: code
    if (ctx.authKind !== 'cst') return err(400, 'invalid.input'); // fake: v3 sessions pick the account by IG-ACCOUNT-ID
    const cst = ctx.headers.cst as string;
    const s = this.cst.get(cst)!;
    if (s.accountId === b.accountId) return err(412, 'error.switch.accountId-must-be-different');
    const xst = this.id('XST-');
    this.cst.set(cst, { ...s, accountId: b.accountId, securityToken: xst });
    return { status: 200, headers: { 'X-SECURITY-TOKEN': xst }, body: { trailingStopsEnabled: false, dealingEnabled: true, hasActiveDemoAccounts: true, hasActiveLiveAccounts: false } };
  }

  private refreshToken(ctx: Ctx): Reply {
    const b = (ctx.body ?? {}) as Json;
    if (typeof b.refresh_token !== 'string') return err(400, 'validation.null-not-allowed.request.refresh_token');
    const exp = this.refresh.get(b.refresh_token);
    if (exp === undefined || exp <= this.now()) return err(401, 'error.security.oauth-token-invalid'); // fake: code
    this.refresh.delete(b.refresh_token);
    const accessToken = this.id('AT-');
    const refreshToken = this.id('RT-');
    this.access.set(accessToken, this.now() + this.opts.accessTokenTtlMs);
    this.refresh.set(refreshToken, this.now() + this.opts.refreshTokenTtlMs);
    return { status: 200, body: { access_token: accessToken, refresh_token: refreshToken, scope: 'profile', token_type: 'Bearer', expires_in: String(Math.round(this.opts.accessTokenTtlMs / 1000)) } };
  }

  private getAccounts(): Reply {
    return {
      status: 200,
      body: {
        accounts: [...this.accounts.values()].map((a) => {
          const upl = this.positionList(a.accountId).reduce((s, p) => {
            const q = this.quotes.get(p.epic);
            return q ? s + ((p.direction === 'BUY' ? q.bid : q.ask) - p.level) * p.size * (p.direction === 'BUY' ? 1 : -1) : s;
          }, 0);
          return {
            accountId: a.accountId,
            accountName: 'CFD',
            accountAlias: null,
            status: 'ENABLED',
            accountType: 'CFD',
            preferred: a === this.preferredAccount(),
            balance: { balance: a.balance, deposit: 0, profitLoss: Math.round(upl * 100) / 100, available: a.balance },
            currency: a.currency,
            canTransferFrom: true,
            canTransferTo: true,
          };
        }),
      },
    };
  }

  private getPositions(ctx: Ctx): Reply {
    return {
      status: 200,
      body: {
        positions: this.positionList(ctx.accountId).map((p) => {
          const m = this.markets.get(p.epic)!;
          const q = this.quotes.get(p.epic);
          return {
            position: {
              contractSize: 1,
              createdDate: `${igLocal(p.createdAtMs)}:000`,
              createdDateUTC: igUtc(p.createdAtMs),
              dealId: p.dealId,
              dealReference: p.dealReference,
              size: p.size,
              direction: p.direction,
              limitLevel: p.limitLevel ?? null,
              level: p.level,
              currency: p.currency,
              controlledRisk: false,
              stopLevel: p.stopLevel,
              trailingStep: null,
              trailingStopDistance: null,
              limitedRiskPremium: null,
            },
            market: {
              instrumentName: m.name,
              expiry: m.expiry,
              epic: p.epic,
              instrumentType: 'CURRENCIES',
              lotSize: 1,
              high: q?.ask ?? null,
              low: q?.bid ?? null,
              percentageChange: 0,
              netChange: 0,
              bid: q?.bid ?? null,
              offer: q?.ask ?? null,
              updateTime: q ? igUtc(q.atMs).slice(11) : null,
              updateTimeUTC: q ? igUtc(q.atMs).slice(11) : null,
              delayTime: 0,
              streamingPricesAvailable: true,
              marketStatus: m.status,
              scalingFactor: 1,
            },
          };
        }),
      },
    };
  }

  private openPosition(ctx: Ctx): Reply {
    const b = (ctx.body ?? {}) as Json;
    for (const f of ['currencyCode', 'direction', 'epic', 'expiry', 'size', 'orderType', 'guaranteedStop']) {
      if (b[f] === undefined || b[f] === null) return err(400, `validation.null-not-allowed.request.${f}`);
    }
    const invalid =
      typeof b.epic !== 'string' || !EPIC.test(b.epic) ||
      typeof b.expiry !== 'string' || !EXPIRY.test(b.expiry) ||
      (b.direction !== 'BUY' && b.direction !== 'SELL') ||
      typeof b.size !== 'number' || !(b.size > 0) || decimals(b.size) > 12 ||
      typeof b.currencyCode !== 'string' || !/^[A-Z]{3}$/.test(b.currencyCode) ||
      (b.dealReference !== undefined && (typeof b.dealReference !== 'string' || !DEAL_REF.test(b.dealReference))) ||
      (b.stopLevel !== undefined && b.stopDistance !== undefined) ||
      (b.stopLevel !== undefined && b.forceOpen !== true) ||
      (b.stopLevel !== undefined && (typeof b.stopLevel !== 'number' || !(b.stopLevel > 0)));
    if (invalid) return err(400, 'invalid.input');
    if (b.orderType !== 'MARKET' || b.level !== undefined || b.quoteId !== undefined) return err(400, 'invalid.input'); // fake: only MARKET is modelled
    if (b.forceOpen !== true) return err(400, 'invalid.input'); // fake: netting (forceOpen false) is not modelled
    const m = this.markets.get(b.epic as string);
    if (!m) return err(404, 'error.service.marketdata.instrument.epic.unavailable');
    const dealReference = (b.dealReference as string | undefined) ?? this.id('REF');
    this.openDeal(
      ctx.accountId!,
      { epic: m.epic, direction: b.direction as 'BUY' | 'SELL', size: b.size as number, currency: b.currencyCode as string, expiry: b.expiry as string, stopLevel: (b.stopLevel as number | undefined) ?? null, dealReference },
      'PUBLIC_WEB_API',
    );
    return { status: 200, body: { dealReference } };
  }

  private closePosition(ctx: Ctx): Reply {
    const b = (ctx.body ?? {}) as Json;
    for (const f of ['direction', 'size', 'orderType']) if (b[f] === undefined || b[f] === null) return err(400, `validation.null-not-allowed.request.${f}`);
    if ((b.dealId === undefined) === (b.epic === undefined)) return err(400, 'invalid.input');
    if (b.epic !== undefined) return err(400, 'invalid.input'); // fake: closing by epic is not modelled
    if (typeof b.dealId !== 'string' || b.dealId.length > 30 || (b.direction !== 'BUY' && b.direction !== 'SELL') || typeof b.size !== 'number' || !(b.size > 0)) {
      return err(400, 'invalid.input');
    }
    if (b.orderType !== 'MARKET' || b.level !== undefined || b.quoteId !== undefined) return err(400, 'invalid.input');
    const dealReference = this.id('CLS'); // IG assigns the deal reference of a close
    const pos = this.openPositions.get(b.dealId);
    const rejectClose = (reason: string) => {
      this.rejectDeal(ctx.accountId!, dealReference, { epic: pos?.epic ?? 'UNKNOWN.EPIC', direction: b.direction as 'BUY' | 'SELL', size: b.size as number, currency: pos?.currency ?? 'USD', expiry: '-' }, reason);
      return { status: 200, body: { dealReference } };
    };
    if (!pos || pos.accountId !== ctx.accountId) return rejectClose('POSITION_NOT_AVAILABLE_TO_CLOSE'); // fake: reason name
    if (b.direction === pos.direction || (b.size as number) > pos.size) return rejectClose('POSITION_NOT_AVAILABLE_TO_CLOSE');
    if (!this.quotes.has(pos.epic) || this.markets.get(pos.epic)!.status !== 'TRADEABLE') return rejectClose('MARKET_CLOSED_WITH_EDITS');
    this.closeDeal(pos, b.size as number, 'PUBLIC_WEB_API', dealReference, true);
    return { status: 200, body: { dealReference } };
  }

  /** PUT /positions/otc/{dealId} v2: a new stop (and limit) on an open position. */
  private amendPosition(ctx: Ctx, dealId: string): Reply {
    const b = (ctx.body ?? {}) as Json;
    const level = (v: unknown) => v === undefined || v === null || (typeof v === 'number' && v > 0);
    if (!level(b.stopLevel) || !level(b.limitLevel) || (b.trailingStop !== undefined && typeof b.trailingStop !== 'boolean')) return err(400, 'invalid.input');
    if (b.trailingStop === true || b.guaranteedStop === true) return err(400, 'invalid.input'); // fake: trailing and guaranteed stops are not modelled
    const pos = this.openPositions.get(dealId);
    if (!pos || pos.accountId !== ctx.accountId) return err(404, 'error.service.otc.position.not-found'); // fake: code
    const dealReference = this.id('AMD'); // IG assigns the deal reference of an amendment
    const stopLevel = (b.stopLevel as number | null | undefined) ?? null;
    const limitLevel = (b.limitLevel as number | null | undefined) ?? null;
    const q = this.quotes.get(pos.epic);
    const base = { dealId: pos.dealId, epic: pos.epic, expiry: this.markets.get(pos.epic)?.expiry ?? '-', level: pos.level, size: pos.size, direction: pos.direction, guaranteedStop: false, trailingStop: false, profit: null, profitCurrency: null, stopDistance: null, limitDistance: null };
    const reject = (reason: string) => {
      this.confirm(dealReference, { ...base, dealStatus: 'REJECTED', reason, status: null, affectedDeals: [], stopLevel: null, limitLevel: null });
      return { status: 200, body: { dealReference } };
    };
    if (this.markets.get(pos.epic)?.status === 'CLOSED') return reject('MARKET_CLOSED');
    const wrongSide = (lvl: number | null, stop: boolean) =>
      lvl !== null && !!q && (pos.direction === 'BUY' ? (stop ? lvl >= q.bid : lvl <= q.ask) : stop ? lvl <= q.ask : lvl >= q.bid);
    if (wrongSide(stopLevel, true) || wrongSide(limitLevel, false)) return reject('ATTACHED_ORDER_LEVEL_ERROR');
    pos.stopLevel = stopLevel;
    pos.limitLevel = limitLevel;
    this.confirm(dealReference, { ...base, dealStatus: 'ACCEPTED', reason: 'SUCCESS', status: 'AMENDED', affectedDeals: [{ dealId: pos.dealId, status: 'AMENDED' }], stopLevel, limitLevel });
    this.record({
      accountId: pos.accountId,
      epic: pos.epic,
      period: base.expiry,
      dealId: pos.dealId,
      channel: 'PUBLIC_WEB_API',
      type: 'EDIT_STOP_AND_LIMIT',
      status: 'ACCEPTED',
      description: `Limit and stop amended: ${pos.dealId}`,
      details: this.details({ dealReference, epic: pos.epic, currency: pos.currency, size: pos.size, direction: pos.direction, level: pos.level, stopLevel }, [{ actionType: 'STOP_LIMIT_AMENDED', affectedDealId: pos.dealId }]),
    });
    return { status: 200, body: { dealReference } };
  }

  private getConfirm(dealReference: string): Reply {
    const c = this.confirms.get(dealReference);
    if (!c || this.now() - c.atMs > this.opts.confirmTtlMs) return err(404, 'error.confirms.deal-not-found');
    return { status: 200, body: c.body };
  }

  private getActivity(ctx: Ctx): Reply {
    const q = ctx.query;
    const pageSize = Number(q.get('pageSize') ?? '50');
    if (!Number.isInteger(pageSize) || pageSize < 10 || pageSize > 500) return err(400, 'invalid.input');
    const from = q.has('from') ? parseUtc(q.get('from')) : 0;
    const to = q.has('to') ? parseUtc(q.get('to')) : this.now();
    if (from === null || to === null) return err(400, 'error.request.invalid.date-range');
    const detailed = q.get('detailed') === 'true';
    const dealId = q.get('dealId');
    const filter = q.get('filter');
    const clauses: ((a: FakeIgActivity) => boolean)[] = [];
    if (filter) {
      if (filter.includes(',')) return err(400, 'invalid.input'); // fake: only ';' (and) of ==/!= is modelled
      for (const c of filter.split(';')) {
        const m = /^(\w+)(==|!=)(.*)$/.exec(c);
        if (!m) return err(400, 'invalid.input');
        const [, field, op, value] = m;
        clauses.push((a) => (String((a as unknown as Json)[field!]) === value) === (op === '=='));
      }
    }
    const offset = Number(q.get('_offset') ?? '0'); // fake: paging cursor carried in `next`
    const all = this.activity
      .filter((a) => a.accountId === ctx.accountId && a.atMs >= from - (from % 1000) && a.atMs <= to + 999)
      .filter((a) => !dealId || a.dealId === dealId)
      .filter((a) => clauses.every((c) => c(a)))
      .sort((a, b) => b.atMs - a.atMs);
    const page = all.slice(offset, offset + pageSize);
    let next: string | null = null;
    if (offset + pageSize < all.length) {
      const n = new URLSearchParams(q);
      n.set('version', '3');
      n.set('to', igUtc(to));
      n.set('_offset', String(offset + pageSize));
      next = `/history/activity?${n.toString()}`;
    }
    return {
      status: 200,
      body: {
        activities: page.map(({ accountId: _a, atMs: _t, ...a }) => ({ ...a, details: detailed ? a.details : null })),
        metadata: { paging: { size: page.length, next } },
      },
    };
  }

  private getMarket(epic: string): Reply {
    const m = this.markets.get(epic);
    if (!m) return err(404, 'error.service.marketdata.instrument.epic.unavailable');
    const q = this.quotes.get(epic);
    return {
      status: 200,
      body: {
        instrument: {
          epic,
          expiry: m.expiry,
          name: m.name,
          forceOpenAllowed: true,
          stopsLimitsAllowed: true,
          lotSize: 1,
          unit: 'CONTRACTS',
          type: 'CURRENCIES',
          marketId: epic,
          currencies: [{ code: m.currency, name: m.currency, symbol: '$', baseExchangeRate: 1, exchangeRate: 1, isDefault: true }],
          streamingPricesAvailable: true,
        },
        dealingRules: { minDealSize: { unit: 'POINTS', value: m.minDealSize }, minNormalStopOrLimitDistance: { unit: 'POINTS', value: 2 } },
        snapshot: {
          marketStatus: m.status,
          netChange: 0,
          percentageChange: 0,
          updateTime: q ? igUtc(q.atMs).slice(11) : null,
          delayTime: 0,
          bid: q?.bid ?? null,
          offer: q?.ask ?? null,
          high: q?.ask ?? null,
          low: q?.bid ?? null,
          decimalPlacesFactor: 5,
          scalingFactor: 10000,
        },
      },
    };
  }

  private getPrices(ctx: Ctx, epic: string): Reply {
    if (!this.markets.has(epic)) return err(404, 'error.service.marketdata.instrument.epic.unavailable');
    const q = ctx.query;
    const resolution = q.get('resolution') ?? 'MINUTE';
    if (!Object.values(TF_RESOLUTION).includes(resolution)) return err(400, 'invalid.input');
    const from = q.has('from') ? parseUtc(q.get('from')) : null;
    const to = q.has('to') ? parseUtc(q.get('to')) : null;
    if ((q.has('from') && from === null) || (q.has('to') && to === null) || (from !== null && to !== null && from > to)) {
      return err(400, 'error.request.invalid.date-range');
    }
    let points = [...(this.candles.get(epic)?.get(resolution)?.entries() ?? [])]
      .filter(([start]) => (from === null || start >= from) && (to === null || start <= to))
      .sort((a, b) => a[0] - b[0]);
    if (from === null && to === null) points = points.slice(-Number(q.get('max') ?? '10'));
    const pageSize = Number(q.get('pageSize') ?? '20');
    const pageNumber = Number(q.get('pageNumber') ?? '1');
    const totalPages = pageSize === 0 ? 1 : Math.max(1, Math.ceil(points.length / pageSize));
    const page = pageSize === 0 ? points : points.slice((pageNumber - 1) * pageSize, pageNumber * pageSize);
    const pp = (c: { bid: number[]; ask: number[] }, i: number) => ({ bid: c.bid[i], ask: c.ask[i], lastTraded: null });
    return {
      status: 200,
      body: {
        prices: page.map(([start, c]) => ({
          snapshotTime: igLocal(start),
          snapshotTimeUTC: igUtc(start),
          openPrice: pp(c, 0),
          highPrice: pp(c, 1),
          lowPrice: pp(c, 2),
          closePrice: pp(c, 3),
          lastTradedVolume: c.volume,
        })),
        instrumentType: 'CURRENCIES',
        metadata: {
          allowance: { remainingAllowance: 9_999, totalAllowance: 10_000, allowanceExpiry: 600_000 },
          size: page.length,
          pageData: { pageSize, pageNumber, totalPages },
        },
      },
    };
  }
}

/** Starts the fake on 127.0.0.1 at a random port. */
export async function startFakeIgServer(options: FakeIgOptions = {}): Promise<FakeIgServer> {
  const ig = new FakeIg(options);
  const held = new Set<{ timer: NodeJS.Timeout; socket: Socket }>();
  const server = http.createServer((req, res) => {
    ig.handle(req, res, held).catch((e) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ errorCode: 'system.error', fake: String(e) }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const count = (f: { method?: string; path?: string | RegExp; override?: string }) =>
    ig.log.filter(
      (r) =>
        (!f.method || r.method === f.method) &&
        (!f.path || (typeof f.path === 'string' ? r.path === f.path : f.path.test(r.path))) &&
        (f.override === undefined || r.override === f.override),
    );
  return {
    url: `http://127.0.0.1:${port}${GATEWAY_PATH}`,
    options: { apiKey: ig.opts.apiKey, identifier: ig.opts.identifier, password: ig.opts.password },
    inject: (f) => ig.faults.inject(f),
    clearFaults: () => ig.faults.clear(),
    pendingFaults: () => ig.faults.pending(),
    respondRaw: (o) => ig.respondRaw(o),
    now: () => ig.now(),
    advanceTime: (ms) => ig.advance(ms),
    addMarket: (m) => ig.addMarket(m),
    setPrice: (e, b, a) => ig.setPrice(e, b, a),
    addCandles: (e, f, s) => ig.addCandles(e, f, s),
    positions: (a) => ig.positionList(a),
    activities: (a) => ig.activityList(a),
    balance: (a) => ig.balance(a),
    orderPosts: () => ig.log.filter((r) => r.method === 'POST' && r.path === '/positions/otc' && !r.override).length,
    closePosts: () => ig.log.filter((r) => r.method === 'POST' && r.path === '/positions/otc' && r.override === 'DELETE').length,
    amendPuts: () => ig.log.filter((r) => r.method === 'PUT' && r.path.startsWith('/positions/otc/')).length,
    requests: (f = {}) => count(f),
    logins: () => ig.loginCount,
    closePositionExternally: (ref, channel = 'WEB') => ig.closeExternally(ref, channel),
    openPositionExternally: (p) => ig.openExternally(p),
    expireSessions: () => ig.expireSessions(),
    close: async () => {
      for (const h of held) {
        clearTimeout(h.timer);
        h.socket.destroy();
      }
      held.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
