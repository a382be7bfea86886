/**
 * The fault matrix on the submit path (invariant 1): for each fault the fake injects, placing the order — retried the
 * way Temporal's retry policy would, up to 5 attempts while the error is retryable — ends with exactly one entry
 * order (and one protective stop) at Alpaca, and the adapter's positions equal the broker's.
 */
import { stopOrderId, type OrderReport, type OrderRequest } from '../../../brokers/adapter';
import type { AlpacaBrokerAdapter } from '../../../brokers/alpaca';
import { adapterOnFake } from './fixture';
import {
  BrokerAuthError,
  BrokerError,
  BrokerUnavailableError,
  OrderOutcomeUnknownError,
  RateLimitedError,
} from '../../../brokers/errors';
import type { FaultKind } from '../../fakes/fault';
import { startFakeAlpacaServer, type Fault, type FakeAlpacaServer } from '../../fakes/alpaca-server';

const ACCOUNT = 'acct2';
const HTTP_TIMEOUT_MS = 250;
let server: FakeAlpacaServer;
let adapter: AlpacaBrokerAdapter;
let seq = 0;

beforeEach(async () => {
  server = await startFakeAlpacaServer();
  server.setPrice('AAPL', 100, 100.1);
  adapter = adapterOnFake(server, HTTP_TIMEOUT_MS);
});
afterEach(async () => {
  await server.close();
});

const nextId = () => `${ACCOUNT}-${String(++seq).padStart(6, '0')}`;
const openOrder = (stopLevel = 95): OrderRequest => ({
  account: ACCOUNT,
  clientOrderId: nextId(),
  symbol: 'AAPL',
  side: 'buy',
  quantity: 10,
  type: 'market',
  intent: 'open',
  stopLevel,
});
const closeOrder = (open: OrderRequest): OrderRequest => ({
  account: ACCOUNT,
  clientOrderId: nextId(),
  symbol: open.symbol,
  side: 'sell',
  quantity: open.quantity,
  type: 'market',
  intent: 'close',
  positionRef: open.clientOrderId,
});

/** Calls `fn` the way Temporal's retry policy would: again on a retryable BrokerError, at most `attempts` times. */
async function retriedLikeTemporal<T>(fn: () => Promise<T>, attempts = 5): Promise<{ result: T; errors: BrokerError[] }> {
  const errors: BrokerError[] = [];
  for (;;) {
    try {
      return { result: await fn(), errors };
    } catch (err) {
      if (!(err instanceof BrokerError) || !err.retryable || errors.length + 1 >= attempts) throw Object.assign(err as Error, { attemptErrors: errors });
      errors.push(err);
    }
  }
}

const withId = (id: string) => server.orders().filter((o) => o.client_order_id === id);
const onSubmitOf = (id: string): Fault['when'] => ({ body }) => (body as { client_order_id?: string } | undefined)?.client_order_id === id;
const fault = (kind: FaultKind, extra: Partial<Fault> = {}): Fault => ({
  kind,
  method: 'POST',
  path: '/v2/orders',
  holdMs: HTTP_TIMEOUT_MS * 4,
  status: 503,
  ...extra,
});

async function expectOneEntryWithStop(order: OrderRequest, report: OrderReport) {
  expect(report).toMatchObject({ clientOrderId: order.clientOrderId, status: 'filled', filledQuantity: 10 });
  expect(withId(order.clientOrderId)).toHaveLength(1);
  expect(withId(stopOrderId(order.clientOrderId))).toHaveLength(1);
  expect(server.orders()).toHaveLength(2);
  // Positions equal the broker's.
  const atBroker = server.positions();
  const viaAdapter = await adapter.getPositions(ACCOUNT);
  expect(viaAdapter.map((p) => ({ symbol: p.symbol, qty: p.side === 'long' ? p.quantity : -p.quantity }))).toEqual(atBroker.map((p) => ({ symbol: p.symbol, qty: p.qty })));
  expect(viaAdapter[0]).toMatchObject({ positionRef: order.clientOrderId, stopLevel: 95 });
}

describe('fault matrix: faults on the entry submit (POST /v2/orders)', () => {
  const cases: { kind: FaultKind; times: number; firstError: (new (...a: any[]) => BrokerError) | null; posts: number }[] = [
    // Held past the client's timeout, never carried out: unknown → looked up (absent) → resubmitted.
    { kind: 'timeout', times: 1, firstError: OrderOutcomeUnknownError, posts: 2 },
    { kind: 'timeout', times: 3, firstError: OrderOutcomeUnknownError, posts: 4 },
    { kind: '5xx', times: 1, firstError: OrderOutcomeUnknownError, posts: 2 },
    { kind: '5xx', times: 4, firstError: OrderOutcomeUnknownError, posts: 5 },
    // 429: Alpaca did not take it; RateLimitedError carries the delay.
    { kind: 'rate-limit', times: 2, firstError: RateLimitedError, posts: 3 },
    // Carried out, answer lost: found by client order id in the same attempt, no second order.
    { kind: 'drop-after-accept', times: 1, firstError: null, posts: 1 },
  ];
  it.each(cases)('$kind x$times → exactly one entry and one stop ($posts submits)', async ({ kind, times, firstError, posts }) => {
    const order = openOrder();
    server.inject(fault(kind, { times, when: onSubmitOf(order.clientOrderId) }));
    const { result, errors } = await retriedLikeTemporal(() => adapter.placeOrder(order));
    await expectOneEntryWithStop(order, result);
    expect(errors).toHaveLength(firstError ? times : 0);
    if (firstError) expect(errors[0]).toBeInstanceOf(firstError);
    if (kind === 'rate-limit') expect((errors[0] as RateLimitedError).retryAfterMs).toBeGreaterThan(0);
    expect(server.orderPosts()).toBe(posts + 1); // + the stop's submit
    expect(server.pendingFaults()).toEqual([]);
  });

  it('expired-token (401: bad keys) → BrokerAuthError, not retried, nothing placed', async () => {
    const order = openOrder();
    server.inject(fault('expired-token', { when: onSubmitOf(order.clientOrderId) }));
    const err = await retriedLikeTemporal(() => adapter.placeOrder(order)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BrokerAuthError);
    expect((err as { attemptErrors: unknown[] }).attemptErrors).toHaveLength(0);
    expect(server.orders()).toHaveLength(0);
  });

  it('drop-after-accept, then the look-up fails too → unknown; the retry finds it without a second submit', async () => {
    const order = openOrder();
    server.inject(fault('drop-after-accept', { when: onSubmitOf(order.clientOrderId) }));
    server.inject({ kind: '5xx', method: 'GET', path: '/v2/orders:by_client_order_id', status: 502, when: () => server.orderPosts() > 0 });
    const { result, errors } = await retriedLikeTemporal(() => adapter.placeOrder(order));
    expect(errors.map((e) => e.name)).toEqual(['OrderOutcomeUnknownError']);
    expect((errors[0] as OrderOutcomeUnknownError).clientOrderId).toBe(order.clientOrderId);
    await expectOneEntryWithStop(order, result);
    expect(server.orderPosts()).toBe(2); // the entry once, the stop once
  });

  it('retries exhausted (timeouts on every submit) → OrderOutcomeUnknownError and no order; a later attempt places exactly one', async () => {
    const order = openOrder();
    server.inject(fault('timeout', { times: 5, when: onSubmitOf(order.clientOrderId) }));
    const err = await retriedLikeTemporal(() => adapter.placeOrder(order)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OrderOutcomeUnknownError);
    expect((err as Error).message).toMatch(/no order with this client_order_id yet/);
    expect(server.orders()).toHaveLength(0);
    // Reconciliation (or a later replayed attempt) with the same id: still exactly once.
    await expectOneEntryWithStop(order, await adapter.placeOrder(order));
  });

  it('faults on the first look-up are retryable and never lead to a second order', async () => {
    const order = openOrder();
    server.inject({ kind: 'timeout', method: 'GET', path: '/v2/orders:by_client_order_id', holdMs: HTTP_TIMEOUT_MS * 4 });
    server.inject({ kind: 'rate-limit', method: 'GET', path: '/v2/orders:by_client_order_id' });
    const { result, errors } = await retriedLikeTemporal(() => adapter.placeOrder(order));
    expect(errors.map((e) => e.name)).toEqual(['BrokerUnavailableError', 'RateLimitedError']);
    await expectOneEntryWithStop(order, result);
  });
});

describe('fault matrix: faults on the protective stop submit', () => {
  it.each<FaultKind>(['timeout', '5xx', 'rate-limit', 'drop-after-accept'])('%s → one entry, one stop', async (kind) => {
    const order = openOrder();
    server.inject(fault(kind, { when: onSubmitOf(stopOrderId(order.clientOrderId)) }));
    const { result, errors } = await retriedLikeTemporal(() => adapter.placeOrder(order));
    await expectOneEntryWithStop(order, result);
    if (kind === 'timeout' || kind === '5xx') {
      // The error names the entry (what the session recorded), and says the stop is what is unconfirmed.
      expect(errors[0]).toBeInstanceOf(OrderOutcomeUnknownError);
      expect((errors[0] as OrderOutcomeUnknownError).clientOrderId).toBe(order.clientOrderId);
      expect(errors[0]!.message).toMatch(/protective stop .*-S is not confirmed/);
    }
    expect(withId(order.clientOrderId)).toHaveLength(1);
  });
});

describe('fault matrix: faults on a close', () => {
  async function opened() {
    const open = openOrder();
    await adapter.placeOrder(open);
    return open;
  }

  it.each<FaultKind>(['timeout', '5xx', 'rate-limit', 'drop-after-accept'])('%s on the closing submit → exactly one close, flat', async (kind) => {
    const open = await opened();
    const close = closeOrder(open);
    server.inject(fault(kind, { when: onSubmitOf(close.clientOrderId) }));
    const { result } = await retriedLikeTemporal(() => adapter.placeOrder(close));
    expect(result).toMatchObject({ status: 'filled', side: 'sell', quantity: 10 });
    expect(withId(close.clientOrderId)).toHaveLength(1);
    expect(withId(stopOrderId(open.clientOrderId))[0]!.status).toBe('canceled');
    expect(server.positions()).toEqual([]);
    expect(await adapter.getPositions(ACCOUNT)).toEqual([]);
  });

  it.each<FaultKind>(['timeout', '5xx', 'rate-limit', 'drop-after-accept'])('%s on the stop cancel (DELETE) → retried, one close, flat', async (kind) => {
    const open = await opened();
    const close = closeOrder(open);
    server.inject(fault(kind, { method: 'DELETE', path: /^\/v2\/orders\/[^/]+$/ }));
    const { result, errors } = await retriedLikeTemporal(() => adapter.placeOrder(close));
    expect(result.status).toBe('filled');
    if (kind !== 'drop-after-accept') expect(errors[0]).toBeInstanceOf(kind === 'rate-limit' ? RateLimitedError : BrokerUnavailableError);
    expect(withId(close.clientOrderId)).toHaveLength(1);
    expect(server.positions()).toEqual([]);
  });
});
