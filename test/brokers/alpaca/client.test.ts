/**
 * Alpaca's answers → typed broker errors (the table in brokers/alpaca/errors.ts), through the real HTTP client against
 * the fake; and the configuration from the environment.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { AlpacaBrokerAdapter, AlpacaMalformedResponseError, alpacaConfigFromEnv, alpacaErrorFor } from '../../../brokers/alpaca';
import { retryAfterMsOf } from '../../../brokers/alpaca/errors';
import {
  BrokerAuthError,
  BrokerError,
  BrokerUnavailableError,
  InvalidOrderError,
  OrderRejectedError,
  RateLimitedError,
} from '../../../brokers/errors';
import { ConfigError } from '../../../config/env';
import { startFakeAlpacaServer, type FakeAlpacaServer } from '../../fakes/alpaca-server';

let server: FakeAlpacaServer;
let adapter: AlpacaBrokerAdapter;
const seen: unknown[] = [];

const adapterFor = (url: string, secretKey: string, keyId = 'PKFAKEKEYID0000000001') =>
  new AlpacaBrokerAdapter({ keyId, secretKey, tradingBaseUrl: url, dataBaseUrl: url, httpTimeoutMs: 250, rateLimitBackoffMs: 1234, orderFillWaitMs: 200, orderPollIntervalMs: 10 });

beforeEach(async () => {
  server = await startFakeAlpacaServer();
  server.setPrice('AAPL', 100, 100.1);
  adapter = adapterFor(server.url, server.secretKey, server.keyId);
});
afterEach(async () => {
  await server.close();
});
afterAll(() => {
  // No error raised in this file ever carried a credential.
  for (const e of seen) {
    expect(String((e as Error).message)).not.toContain(server.secretKey);
    expect(String((e as Error).message)).not.toContain(server.keyId);
  }
});

async function failure(p: Promise<unknown>): Promise<BrokerError> {
  const e = await p.then(
    () => {
      throw new Error('expected a failure');
    },
    (err: unknown) => err,
  );
  seen.push(e);
  expect(e).toBeInstanceOf(BrokerError);
  return e as BrokerError;
}

const buy = (clientOrderId: string, quantity = 1) =>
  ({ account: 'a', clientOrderId, symbol: 'AAPL', side: 'buy', quantity, type: 'market', intent: 'open' }) as const;

describe('HTTP answers → typed errors', () => {
  it('401 (bad keys, or the expired-token fault) → BrokerAuthError, not retryable', async () => {
    const bad = adapterFor(server.url, 'not-the-secret');
    const e1 = await failure(bad.getAccount('a'));
    expect(e1).toBeInstanceOf(BrokerAuthError);
    expect(e1.retryable).toBe(false);
    expect(e1.message).toContain('GET /v2/account answered 401 40110000 request is not authorized');

    server.inject({ kind: 'expired-token', path: '/v2/positions' });
    expect(await failure(adapter.getPositions('a'))).toBeInstanceOf(BrokerAuthError);
  });

  it('403 on an order submit → OrderRejectedError; 403 elsewhere (no permission / subscription) → BrokerAuthError', async () => {
    const e = await failure(adapter.placeOrder(buy('c-403', 10_000)));
    expect(e).toBeInstanceOf(OrderRejectedError);
    expect((e as OrderRejectedError).clientOrderId).toBe('c-403');
    expect(e.retryable).toBe(false);

    server.respondNext({ path: /\/bars$/, status: 403, body: '{"code":40310000,"message":"subscription does not permit querying recent SIP data"}' });
    const d = await failure(adapter.getCandles({ symbol: 'AAPL', timeframe: '1m', fromStart: 0, toStart: 60_000 }));
    expect(d).toBeInstanceOf(BrokerAuthError);
    expect(d.message).toMatch(/subscription does not permit/);
  });

  it('422 on a submit: a business refusal → OrderRejectedError, a malformed request → InvalidOrderError', async () => {
    server.respondNext({ method: 'POST', path: '/v2/orders', status: 422, body: '{"code":42210000,"message":"asset AAPL is not tradable"}' });
    expect(await failure(adapter.placeOrder(buy('c-422a')))).toBeInstanceOf(OrderRejectedError);
    server.respondNext({ method: 'POST', path: '/v2/orders', status: 422, body: '{"code":40010001,"message":"qty must be > 0"}' });
    const e = await failure(adapter.placeOrder(buy('c-422b')));
    expect(e).toBeInstanceOf(InvalidOrderError);
    expect(e.message).toContain('422 40010001 qty must be > 0');
    expect(server.orders()).toHaveLength(0);
  });

  it('429 → RateLimitedError with the delay from X-RateLimit-Reset, Retry-After, or the configured backoff', async () => {
    server.inject({ kind: 'rate-limit', path: '/v2/account' });
    const e = (await failure(adapter.getAccount('a'))) as RateLimitedError;
    expect(e).toBeInstanceOf(RateLimitedError);
    expect(e.retryable).toBe(true);
    expect(e.retryAfterMs).toBeGreaterThan(0);
    expect(e.retryAfterMs).toBeLessThanOrEqual(2_000);
    expect(e.message).toContain('429 42910000 rate limit exceeded');

    server.respondNext({ path: '/v2/account', status: 429, body: '{"code":42910000,"message":"rate limit exceeded"}', headers: { 'Retry-After': '3', 'X-RateLimit-Reset': '' } });
    expect(((await failure(adapter.getAccount('a'))) as RateLimitedError).retryAfterMs).toBe(3_000);

    server.respondNext({ path: '/v2/account', status: 429, body: 'Too Many Requests', headers: { 'X-RateLimit-Reset': '' } });
    expect(((await failure(adapter.getAccount('a'))) as RateLimitedError).retryAfterMs).toBe(1234);
  });

  it.each([500, 502, 503, 504])('%i → BrokerUnavailableError, retryable', async (status) => {
    server.inject({ kind: '5xx', path: '/v2/account', status });
    const e = await failure(adapter.getAccount('a'));
    expect(e).toBeInstanceOf(BrokerUnavailableError);
    expect(e.retryable).toBe(true);
    expect(e.message).toContain(`answered ${status}`);
  });

  it('a timeout, a dropped connection and a refused connection → BrokerUnavailableError', async () => {
    server.inject({ kind: 'timeout', path: '/v2/account', holdMs: 1_000 });
    const t = await failure(adapter.getAccount('a'));
    expect(t).toBeInstanceOf(BrokerUnavailableError);
    expect(t.message).toContain('no answer within 250 ms');

    server.inject({ kind: 'drop-after-accept', path: '/v2/account' });
    expect(await failure(adapter.getAccount('a'))).toBeInstanceOf(BrokerUnavailableError);

    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const refused = await failure(adapterFor(`http://127.0.0.1:${port}`, 'x').getAccount('a'));
    expect(refused).toBeInstanceOf(BrokerUnavailableError);
    expect(refused.message).toMatch(/ECONNREFUSED/);
  });

  it('malformed JSON → a clear AlpacaMalformedResponseError naming the endpoint', async () => {
    server.respondNext({ path: '/v2/account', status: 200, body: '<html>gateway</html>' });
    const e = await failure(adapter.getAccount('a'));
    expect(e).toBeInstanceOf(AlpacaMalformedResponseError);
    expect(e).toBeInstanceOf(BrokerUnavailableError);
    expect(e.message).toBe('malformed Alpaca response from GET /v2/account: status 200 but the body is not JSON ("<html>gateway</html>")');
  });

  it('JSON of the wrong shape → names every bad field', async () => {
    server.respondNext({ path: '/v2/positions', status: 200, body: '[{"asset_id":"x","symbol":"AAPL","qty":"ten","side":"sideways","avg_entry_price":"1"}]' });
    const e = await failure(adapter.getPositions('a'));
    expect(e).toBeInstanceOf(AlpacaMalformedResponseError);
    expect(e.message).toContain('GET /v2/positions');
    expect(e.message).toContain('0.qty: expected a decimal number, got "ten"');
    expect(e.message).toMatch(/0\.side: .*'long' \| 'short'/);
  });

  it('a garbled answer to an order submit is an unknown outcome, settled by the look-up', async () => {
    server.respondNext({ method: 'POST', path: '/v2/orders', status: 200, body: '{"id":' });
    // The fake did not carry that submit out: the look-up finds nothing → unknown, retryable.
    const e = await failure(adapter.placeOrder(buy('c-garbled')));
    expect(e.name).toBe('OrderOutcomeUnknownError');
    expect(e.retryable).toBe(true);
    expect(e.message).toContain('malformed Alpaca response from POST /v2/orders');
  });
});

describe('errors table (unit)', () => {
  const headers = (h: Record<string, string> = {}) => ({ get: (n: string) => h[n.toLowerCase()] ?? null });
  const call = (status: number, body?: { code?: number; message?: string }, extra: Partial<Parameters<typeof alpacaErrorFor>[0]> = {}) =>
    alpacaErrorFor({ method: 'POST', path: '/v2/orders', status, body, headers: headers(), clientOrderId: 'c1', now: 1_700_000_000_000, rateLimitBackoffMs: 500, ...extra });

  it('maps each status class', () => {
    expect(call(401)).toBeInstanceOf(BrokerAuthError);
    expect(call(403, { code: 40310000, message: 'insufficient buying power' })).toBeInstanceOf(OrderRejectedError);
    expect(call(403, undefined, { method: 'GET', path: '/v2/account' })).toBeInstanceOf(BrokerAuthError);
    expect(call(422, { code: 40010001, message: 'client_order_id must be unique' }).name).toBe('AlpacaDuplicateClientOrderIdError');
    expect(call(422, { code: 42210000, message: 'insufficient qty available for order' })).toBeInstanceOf(OrderRejectedError);
    expect(call(422, { code: 40010001, message: 'invalid side: up' })).toBeInstanceOf(InvalidOrderError);
    expect(call(404, { code: 40410000, message: 'order not found' }, { method: 'GET', path: '/v2/orders/x' })).toBeInstanceOf(InvalidOrderError);
    expect(call(400)).toBeInstanceOf(InvalidOrderError);
    expect(call(429)).toBeInstanceOf(RateLimitedError);
    expect(call(500)).toBeInstanceOf(BrokerUnavailableError);
  });

  it('reads the rate-limit delay from the headers', () => {
    const now = 1_700_000_000_000;
    expect(retryAfterMsOf(headers({ 'retry-after': '2' }), now, 500)).toBe(2_000);
    expect(retryAfterMsOf(headers({ 'x-ratelimit-reset': String(now / 1000 + 7) }), now, 500)).toBe(7_000);
    expect(retryAfterMsOf(headers({ 'x-ratelimit-reset': String(now / 1000 - 5) }), now, 5_000)).toBe(1_000);
    expect(retryAfterMsOf(headers({ 'x-ratelimit-reset': String(now / 1000 + 86_400) }), now, 500)).toBe(500);
    expect(retryAfterMsOf(headers(), now, 500)).toBe(500);
  });
});

describe('alpacaConfigFromEnv', () => {
  it('reads the variables, with defaults for the rest', () => {
    const cfg = alpacaConfigFromEnv({ ALPACA_KEY_ID: 'PK123', ALPACA_SECRET_KEY: 's3cr3t', ALPACA_HTTP_TIMEOUT_MS: '2500', ALPACA_DATA_FEED: 'sip' });
    expect(cfg).toMatchObject({
      keyId: 'PK123',
      secretKey: 's3cr3t',
      tradingBaseUrl: 'https://paper-api.alpaca.markets',
      dataBaseUrl: 'https://data.alpaca.markets',
      httpTimeoutMs: 2500,
      dataFeed: 'sip',
      stopTimeInForce: 'gtc',
    });
    expect(Object.isFrozen(cfg)).toBe(true);
  });

  it('names every bad or missing variable at once, never echoing a key', () => {
    let err: unknown;
    try {
      alpacaConfigFromEnv({
        ALPACA_SECRET_KEY: 'has a space-SECRETVALUE',
        ALPACA_TRADING_URL: 'http://api.alpaca.markets',
        ALPACA_ORDER_FILL_WAIT_MS: 'soon',
        ALPACA_HTTP_TIMEOUT_MS: '5',
        ALPACA_DATA_FEED: 'bloomberg',
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const vars = (err as ConfigError).issues.map((i) => i.variable).sort();
    expect(vars).toEqual(['ALPACA_DATA_FEED', 'ALPACA_HTTP_TIMEOUT_MS', 'ALPACA_KEY_ID', 'ALPACA_ORDER_FILL_WAIT_MS', 'ALPACA_SECRET_KEY', 'ALPACA_TRADING_URL']);
    const text = (err as Error).message;
    expect(text).toContain('ALPACA_KEY_ID: is required');
    expect(text).toContain('ALPACA_TRADING_URL: tradingBaseUrl must use https');
    expect(text).not.toContain('SECRETVALUE');
  });

  it('allows plain http only for a loopback host', () => {
    expect(alpacaConfigFromEnv({ ALPACA_KEY_ID: 'k', ALPACA_SECRET_KEY: 's', ALPACA_TRADING_URL: 'http://127.0.0.1:8080/' }).tradingBaseUrl).toBe('http://127.0.0.1:8080');
  });
});
