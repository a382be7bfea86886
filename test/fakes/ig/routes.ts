/**
 * The fake IG venue's endpoints: each route checks the API key, the Version header and the session tokens the
 * way IG does, then reads or changes the state (state.ts). Errors are IG-style `{ errorCode }`.
 */
import type http from 'node:http';
import { DEAL_REF, decimals, EPIC, err, EXPIRY, igLocal, igUtc, parseUtc, TF_RESOLUTION, type FakeIgActivity, type FakeIgState, type Json, type Reply } from './state';

export interface Ctx {
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

export interface Route {
  method: string;
  pattern: RegExp;
  override?: string;
  versions: number[];
  auth: boolean;
  handle(ctx: Ctx, m: RegExpExecArray): Reply | Promise<Reply>;
}

/** Routing, authentication and the handlers of every endpoint the fake serves. */
export class FakeIgRoutes {
  private readonly routes: Route[];

  constructor(private readonly s: FakeIgState) {
    this.routes = this.buildRoutes();
  }

  async route(ctx: Ctx): Promise<Reply> {
    const apiKey = ctx.headers['x-ig-api-key'];
    if (!apiKey) return err(400, 'error.security.api-key-missing');
    if (apiKey !== this.s.opts.apiKey) return err(403, 'error.security.api-key-invalid');
    const until = this.s.scenario.unauthorizedUntil;
    if (until !== undefined && this.s.now() < until) {
      return err(401, ctx.path === '/session' && ctx.method === 'POST' ? 'error.security.invalid-details' : 'error.security.client-token-invalid');
    }
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
    const now = this.s.now();
    const bearer = /^Bearer (.+)$/.exec(String(ctx.headers.authorization ?? ''))?.[1];
    if (bearer) {
      const exp = this.s.access.get(bearer);
      if (exp === undefined || exp <= now) return err(401, 'error.security.oauth-token-invalid');
      const acct = ctx.headers['ig-account-id'];
      if (typeof acct !== 'string') return err(401, 'error.security.account-token-missing');
      if (!this.s.accounts.has(acct)) return err(401, 'error.security.account-token-invalid');
      ctx.accountId = acct;
      ctx.authKind = 'oauth';
      return null;
    }
    const cst = ctx.headers.cst;
    if (typeof cst !== 'string') return err(401, 'error.security.client-token-missing');
    const s = this.s.cst.get(cst);
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
    if (b.identifier !== this.s.opts.identifier || b.password !== this.s.opts.password) return err(401, 'error.security.invalid-details');
    this.s.loginCount++;
    const now = this.s.now();
    const acct = this.s.preferredAccount();
    if (ctx.version === 3) {
      const accessToken = this.s.id('AT-');
      const refreshToken = this.s.id('RT-');
      this.s.access.set(accessToken, now + this.s.opts.accessTokenTtlMs);
      this.s.refresh.set(refreshToken, now + this.s.opts.refreshTokenTtlMs);
      return {
        status: 200,
        body: {
          clientId: '100100100',
          accountId: acct.accountId,
          timezoneOffset: 0,
          lightstreamerEndpoint: this.s.lightstreamerEndpoint,
          oauthToken: { access_token: accessToken, refresh_token: refreshToken, scope: 'profile', token_type: 'Bearer', expires_in: String(Math.round(this.s.opts.accessTokenTtlMs / 1000)) },
        },
      };
    }
    const cst = this.s.id('CST-');
    const xst = this.s.id('XST-');
    this.s.cst.set(cst, { securityToken: xst, accountId: acct.accountId, expiresAtMs: now + this.s.opts.cstTokenTtlMs });
    return {
      status: 200,
      headers: { CST: cst, 'X-SECURITY-TOKEN': xst },
      body: {
        accountType: 'CFD',
        accountInfo: { balance: acct.balance, deposit: 0, profitLoss: 0, available: acct.balance },
        currencyIsoCode: acct.currency,
        currentAccountId: acct.accountId,
        lightstreamerEndpoint: this.s.lightstreamerEndpoint,
        accounts: [...this.s.accounts.values()].map((a) => ({ accountId: a.accountId, accountName: 'CFD', preferred: a === acct, accountType: 'CFD' })),
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
    if (!this.s.accounts.has(b.accountId)) return err(401, 'error.security.account-token-invalid'); // fake: code
    if (ctx.authKind !== 'cst') return err(400, 'invalid.input'); // fake: v3 sessions pick the account by IG-ACCOUNT-ID
    const cst = ctx.headers.cst as string;
    const s = this.s.cst.get(cst)!;
    if (s.accountId === b.accountId) return err(412, 'error.switch.accountId-must-be-different');
    const xst = this.s.id('XST-');
    this.s.cst.set(cst, { ...s, accountId: b.accountId, securityToken: xst });
    return { status: 200, headers: { 'X-SECURITY-TOKEN': xst }, body: { trailingStopsEnabled: false, dealingEnabled: true, hasActiveDemoAccounts: true, hasActiveLiveAccounts: false } };
  }

  private refreshToken(ctx: Ctx): Reply {
    const b = (ctx.body ?? {}) as Json;
    if (typeof b.refresh_token !== 'string') return err(400, 'validation.null-not-allowed.request.refresh_token');
    const exp = this.s.refresh.get(b.refresh_token);
    if (exp === undefined || exp <= this.s.now()) return err(401, 'error.security.oauth-token-invalid'); // fake: code
    this.s.refresh.delete(b.refresh_token);
    const accessToken = this.s.id('AT-');
    const refreshToken = this.s.id('RT-');
    this.s.access.set(accessToken, this.s.now() + this.s.opts.accessTokenTtlMs);
    this.s.refresh.set(refreshToken, this.s.now() + this.s.opts.refreshTokenTtlMs);
    return { status: 200, body: { access_token: accessToken, refresh_token: refreshToken, scope: 'profile', token_type: 'Bearer', expires_in: String(Math.round(this.s.opts.accessTokenTtlMs / 1000)) } };
  }

  private getAccounts(): Reply {
    return {
      status: 200,
      body: {
        accounts: [...this.s.accounts.values()].map((a) => {
          const upl = this.s.positionList(a.accountId).reduce((s, p) => {
            const q = this.s.quotes.get(p.epic);
            return q ? s + ((p.direction === 'BUY' ? q.bid : q.ask) - p.level) * p.size * (p.direction === 'BUY' ? 1 : -1) : s;
          }, 0);
          return {
            accountId: a.accountId,
            accountName: 'CFD',
            accountAlias: null,
            status: 'ENABLED',
            accountType: 'CFD',
            preferred: a === this.s.preferredAccount(),
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
        positions: this.s.positionList(ctx.accountId).map((p) => {
          const m = this.s.markets.get(p.epic)!;
          const q = this.s.quotes.get(p.epic);
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
    const m = this.s.markets.get(b.epic as string);
    if (!m) return err(404, 'error.service.marketdata.instrument.epic.unavailable');
    const dealReference = (b.dealReference as string | undefined) ?? this.s.id('REF');
    this.s.openDeal(
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
    const dealReference = this.s.id('CLS'); // IG assigns the deal reference of a close
    const pos = this.s.openPositions.get(b.dealId);
    const rejectClose = (reason: string) => {
      this.s.rejectDeal(ctx.accountId!, dealReference, { epic: pos?.epic ?? 'UNKNOWN.EPIC', direction: b.direction as 'BUY' | 'SELL', size: b.size as number, currency: pos?.currency ?? 'USD', expiry: '-' }, reason);
      return { status: 200, body: { dealReference } };
    };
    if (this.s.scenario.refuseClose) return rejectClose(this.s.scenario.refuseClose);
    if (!pos || pos.accountId !== ctx.accountId) return rejectClose('POSITION_NOT_AVAILABLE_TO_CLOSE'); // fake: reason name
    if (b.direction === pos.direction || (b.size as number) > pos.size) return rejectClose('POSITION_NOT_AVAILABLE_TO_CLOSE');
    if (!this.s.quotes.has(pos.epic) || this.s.markets.get(pos.epic)!.status !== 'TRADEABLE') return rejectClose('MARKET_CLOSED_WITH_EDITS');
    this.s.closeDeal(pos, b.size as number, 'PUBLIC_WEB_API', dealReference, true);
    return { status: 200, body: { dealReference } };
  }

  /** PUT /positions/otc/{dealId} v2: a new stop (and limit) on an open position. */
  private amendPosition(ctx: Ctx, dealId: string): Reply {
    const b = (ctx.body ?? {}) as Json;
    const level = (v: unknown) => v === undefined || v === null || (typeof v === 'number' && v > 0);
    if (!level(b.stopLevel) || !level(b.limitLevel) || (b.trailingStop !== undefined && typeof b.trailingStop !== 'boolean')) return err(400, 'invalid.input');
    if (b.trailingStop === true || b.guaranteedStop === true) return err(400, 'invalid.input'); // fake: trailing and guaranteed stops are not modelled
    const pos = this.s.openPositions.get(dealId);
    if (!pos || pos.accountId !== ctx.accountId) return err(404, 'error.service.otc.position.not-found'); // fake: code
    const dealReference = this.s.id('AMD'); // IG assigns the deal reference of an amendment
    const stopLevel = (b.stopLevel as number | null | undefined) ?? null;
    const limitLevel = (b.limitLevel as number | null | undefined) ?? null;
    const q = this.s.quotes.get(pos.epic);
    const base = { dealId: pos.dealId, epic: pos.epic, expiry: this.s.markets.get(pos.epic)?.expiry ?? '-', level: pos.level, size: pos.size, direction: pos.direction, guaranteedStop: false, trailingStop: false, profit: null, profitCurrency: null, stopDistance: null, limitDistance: null };
    const reject = (reason: string) => {
      this.s.confirm(dealReference, { ...base, dealStatus: 'REJECTED', reason, status: null, affectedDeals: [], stopLevel: null, limitLevel: null });
      return { status: 200, body: { dealReference } };
    };
    if (this.s.markets.get(pos.epic)?.status === 'CLOSED') return reject('MARKET_CLOSED');
    const wrongSide = (lvl: number | null, stop: boolean) =>
      lvl !== null && !!q && (pos.direction === 'BUY' ? (stop ? lvl >= q.bid : lvl <= q.ask) : stop ? lvl <= q.ask : lvl >= q.bid);
    if (wrongSide(stopLevel, true) || wrongSide(limitLevel, false)) return reject('ATTACHED_ORDER_LEVEL_ERROR');
    pos.stopLevel = stopLevel;
    pos.limitLevel = limitLevel;
    this.s.confirm(dealReference, { ...base, dealStatus: 'ACCEPTED', reason: 'SUCCESS', status: 'AMENDED', affectedDeals: [{ dealId: pos.dealId, status: 'AMENDED' }], stopLevel, limitLevel });
    this.s.record({
      accountId: pos.accountId,
      epic: pos.epic,
      period: base.expiry,
      dealId: pos.dealId,
      channel: 'PUBLIC_WEB_API',
      type: 'EDIT_STOP_AND_LIMIT',
      status: 'ACCEPTED',
      description: `Limit and stop amended: ${pos.dealId}`,
      details: this.s.details({ dealReference, epic: pos.epic, currency: pos.currency, size: pos.size, direction: pos.direction, level: pos.level, stopLevel }, [{ actionType: 'STOP_LIMIT_AMENDED', affectedDealId: pos.dealId }]),
    });
    return { status: 200, body: { dealReference } };
  }

  private getConfirm(dealReference: string): Reply {
    const c = this.s.confirms.get(dealReference);
    if (!c || this.s.now() - c.atMs > this.s.opts.confirmTtlMs) return err(404, 'error.confirms.deal-not-found');
    if (this.s.now() - c.atMs < this.s.scenario.confirmDelayMs) return err(404, 'error.confirms.deal-not-found');
    return { status: 200, body: c.body };
  }

  private getActivity(ctx: Ctx): Reply {
    const q = ctx.query;
    const pageSize = Number(q.get('pageSize') ?? '50');
    if (!Number.isInteger(pageSize) || pageSize < 10 || pageSize > 500) return err(400, 'invalid.input');
    const from = q.has('from') ? parseUtc(q.get('from')) : 0;
    const to = q.has('to') ? parseUtc(q.get('to')) : this.s.now();
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
    const all = this.s.activity
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
    const m = this.s.markets.get(epic);
    if (!m) return err(404, 'error.service.marketdata.instrument.epic.unavailable');
    const q = this.s.quotes.get(epic);
    return {
      status: 200,
      body: {
        instrument: {
          epic,
          expiry: m.expiry,
          name: m.name,
          forceOpenAllowed: true,
          stopsLimitsAllowed: true,
          lotSize: m.lotSize,
          valueOfOnePoint: m.valueOfOnePoint,
          unit: 'CONTRACTS',
          type: 'CURRENCIES',
          marketId: epic,
          currencies: m.currencies.length
            ? m.currencies.map((c) => ({ code: c.code, name: c.code, symbol: c.code, baseExchangeRate: c.baseExchangeRate, exchangeRate: c.exchangeRate ?? 1 / c.baseExchangeRate, isDefault: c.isDefault }))
            : [{ code: m.currency, name: m.currency, symbol: '$', baseExchangeRate: 1, exchangeRate: 1, isDefault: true }],
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
    if (!this.s.markets.has(epic)) return err(404, 'error.service.marketdata.instrument.epic.unavailable');
    const q = ctx.query;
    const resolution = q.get('resolution') ?? 'MINUTE';
    if (!Object.values(TF_RESOLUTION).includes(resolution)) return err(400, 'invalid.input');
    const from = q.has('from') ? parseUtc(q.get('from')) : null;
    const to = q.has('to') ? parseUtc(q.get('to')) : null;
    if ((q.has('from') && from === null) || (q.has('to') && to === null) || (from !== null && to !== null && from > to)) {
      return err(400, 'error.request.invalid.date-range');
    }
    let points = [...(this.s.candles.get(epic)?.get(resolution)?.entries() ?? [])]
      .filter(([start]) => (from === null || start >= from) && (to === null || start <= to))
      .sort((a, b) => a[0] - b[0]);
    if (from === null && to === null) points = points.slice(-Number(q.get('max') ?? '10'));
    const pageSize = Number(q.get('pageSize') ?? '20');
    const pageNumber = Number(q.get('pageNumber') ?? '1');
    const totalPages = pageSize === 0 ? 1 : Math.max(1, Math.ceil(points.length / pageSize));
    const page = pageSize === 0 ? points : points.slice((pageNumber - 1) * pageSize, pageNumber * pageSize);
    const pp = (c: { bid: number[]; ask: number[] }, i: number) => ({ bid: c.bid[i], ask: c.ask[i], lastTraded: null });
    // IG spends one point of the historical-data allowance per price returned (fake: the period never resets)
    this.s.history.requests++;
    this.s.history.points += page.length;
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
          allowance: { remainingAllowance: Math.max(0, this.s.history.total - this.s.history.points), totalAllowance: this.s.history.total, allowanceExpiry: 600_000 },
          size: page.length,
          pageData: { pageSize, pageNumber, totalPages },
        },
      },
    };
  }
}
