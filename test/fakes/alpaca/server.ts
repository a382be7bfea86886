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
import { FaultBook, type Fault } from '../fault';
import { createFakeAlpacaRoutes } from './routes';
import { attachFakeAlpacaStream, type FakeAlpacaStreamControls } from './stream';
import { createFakeAlpacaState, err, type FakeAlpacaControls, type FakeAlpacaOptions, type RawResponse, type Reply } from './state';

export type { Fault } from '../fault';

export interface FakeAlpacaServer extends FakeAlpacaControls {
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
  /** How many `POST /v2/orders` requests reached the server (faulted ones included). */
  orderPosts(): number;
  close(): Promise<void>;
  /** The trading stream (trade_updates), e.g. ws://127.0.0.1:41234/stream. */
  readonly tradingStreamUrl: string;
  /** The market-data stream base; the feed's stream is `${dataStreamBase}/v2/iex`. */
  readonly dataStreamBase: string;
  /** Faults and pushes of the WebSocket streams (stream.ts). */
  readonly stream: FakeAlpacaStreamControls;

}


export async function startFakeAlpacaServer(options: FakeAlpacaOptions = {}): Promise<FakeAlpacaServer> {
  const keyId = options.keyId ?? 'PKFAKEKEYID0000000001';
  const secretKey = options.secretKey ?? 'fake-secret-key-do-not-log-0123456789abcdef';
  const resetSeconds = options.rateLimitResetSeconds ?? 1;
  const st = createFakeAlpacaState(options);
  const { route } = createFakeAlpacaRoutes(st, { barsPageLimit: options.barsPageLimit ?? 10_000 });
  const { later, timers } = st;

  const faults = new FaultBook();
  const raws: { raw: RawResponse; remaining: number }[] = [];
  const sockets = new Set<Socket>();
  let posts = 0;

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
      const until = st.scenario.unauthorizedUntil;
      if (until !== undefined && Date.now() < until) reply = err(401, 40110000, 'request is not authorized');
      else if (req.headers['apca-api-key-id'] !== keyId || req.headers['apca-api-secret-key'] !== secretKey) reply = err(401, 40110000, 'request is not authorized');
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
  const stream = attachFakeAlpacaStream(server, st, { keyId, secretKey });

  return {
    url: `http://127.0.0.1:${port}`,
    keyId,
    secretKey,
    inject: (f) => faults.inject(f),
    clearFaults: () => faults.clear(),
    pendingFaults: () => faults.pending(),
    respondNext: (raw) => raws.push({ raw, remaining: raw.times ?? 1 }),
    ...st.controls,
    orderPosts: () => posts,
    tradingStreamUrl: `ws://127.0.0.1:${port}/stream`,
    dataStreamBase: `ws://127.0.0.1:${port}`,
    stream: stream.controls,
    async close() {
      await stream.close();
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const s of sockets) s.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
