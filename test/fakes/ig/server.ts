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
import { FaultBook, type Fault } from '../fault';
import { attachFakeLightstreamer, type FakeLightstreamerControls } from './lightstreamer';
import { FakeIgRoutes } from './routes';
import { err, FakeIgState, GATEWAY_PATH, type FakeCandle, type FakeIgActivity, type FakeIgMarket, type FakeIgOptions, type FakeIgPosition, type FakeIgScenario, type RawOverride, type Reply, type RequestRecord } from './state';

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
  /** GET /prices answers served and the historical-data points they spent (the allowance IG counts). */
  historyPoints(): { requests: number; points: number; total: number };
  /** Closes a position behind the adapter's back (web platform), at the current quote. */
  closePositionExternally(dealReference: string, channel?: 'WEB' | 'DEALER' | 'SYSTEM'): void;
  /** Opens a position behind the adapter's back (web platform), at the current quote. */
  openPositionExternally(p: { epic: string; direction: 'BUY' | 'SELL'; size: number; stopLevel?: number; dealReference?: string; accountId?: string }): FakeIgPosition;
  /** Makes every session token invalid (as an IG session timeout would). */
  expireSessions(): void;
  /** Sets behaviours of the venue (see FakeIgScenario); fields left out keep their value. */
  setScenario(scenario: Partial<FakeIgScenario>): void;
  /** Every call answers 401 for the next `ms` of fake time (a key rotation window). */
  unauthorizedFor(ms: number): void;
  close(): Promise<void>;
  /** The fake's Lightstreamer server (lightstreamer.ts), e.g. http://127.0.0.1:PORT; POST /session names it when started with `lightstreamer: true`. */
  readonly lightstreamerUrl: string;
  readonly lightstreamer: FakeLightstreamerControls;
}

/** The fake's HTTP side: raw overrides, faults, the request log, then the routes. */
class FakeIgHttp {
  readonly faults = new FaultBook();
  private readonly raws: { o: RawOverride; left: number }[] = [];
  private readonly routes: FakeIgRoutes;

  constructor(private readonly s: FakeIgState) {
    this.routes = new FakeIgRoutes(s);
  }

  respondRaw(o: RawOverride): void {
    this.raws.push({ o, left: o.times ?? 1 });
  }

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
    const rec: RequestRecord = { method, path, ...(override ? { override } : {}), ...(versionHeader ? { version: versionHeader } : {}), atMs: this.s.now() };
    this.s.log.push(rec);
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
          if (bearer) this.s.access.delete(bearer);
          const cst = req.headers.cst;
          if (typeof cst === 'string') this.s.cst.delete(cst);
          return send(err(401, fault.errorCode ?? (bearer ? 'error.security.oauth-token-invalid' : 'error.security.client-token-invalid')));
        }
        case 'drop-after-accept':
          break;
      }
    }

    const reply = await this.routes.route({ method, path, query: url.searchParams, headers: req.headers, body, version: Number(versionHeader ?? '1'), ...(override ? { override } : {}) });
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
      Date: new Date(this.s.now()).toUTCString(),
      ...(r.headers ?? {}),
    });
    res.end(r.raw && typeof r.body === 'string' ? r.body : JSON.stringify(r.body ?? {}));
  }
}

/** Starts the fake on 127.0.0.1 at a random port. */
export async function startFakeIgServer(options: FakeIgOptions = {}): Promise<FakeIgServer> {
  const ig = new FakeIgState(options);
  const web = new FakeIgHttp(ig);
  const held = new Set<{ timer: NodeJS.Timeout; socket: Socket }>();
  const server = http.createServer((req, res) => {
    web.handle(req, res, held).catch((e) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ errorCode: 'system.error', fake: String(e) }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const ls = attachFakeLightstreamer(server, ig);
  if (options.lightstreamer) ig.lightstreamerEndpoint = `http://127.0.0.1:${port}`;
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
    inject: (f) => web.faults.inject(f),
    clearFaults: () => web.faults.clear(),
    pendingFaults: () => web.faults.pending(),
    respondRaw: (o) => web.respondRaw(o),
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
    historyPoints: () => ({ ...ig.history }),
    closePositionExternally: (ref, channel = 'WEB') => ig.closeExternally(ref, channel),
    openPositionExternally: (p) => ig.openExternally(p),
    expireSessions: () => ig.expireSessions(),
    setScenario: (s) => Object.assign(ig.scenario, s),
    unauthorizedFor: (ms) => {
      ig.scenario.unauthorizedUntil = ig.now() + ms;
    },
    lightstreamerUrl: `http://127.0.0.1:${port}`,
    lightstreamer: ls.controls,
    close: async () => {
      await ls.close();
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
