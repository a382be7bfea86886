/**
 * The Alpaca adapter's order path against the local fake of Alpaca's documented contract: entries with their
 * protective stops, closes, stop triggers, duplicates, pending fills, positions split per entry, reconciliation hooks.
 */
import { stopOrderId, type OrderRequest } from '../../../brokers/adapter';
import { AlpacaBrokerAdapter } from '../../../brokers/alpaca';
import { BrokerAuthError, InvalidOrderError, OrderRejectedError } from '../../../brokers/errors';
import { startFakeAlpacaServer, type FakeAlpacaServer } from '../../fakes/alpaca-server';

const ACCOUNT = 'acct1';
let server: FakeAlpacaServer;
let seq = 0;

function adapterFor(s: FakeAlpacaServer, overrides: Record<string, unknown> = {}) {
  return new AlpacaBrokerAdapter({
    keyId: s.keyId,
    secretKey: s.secretKey,
    tradingBaseUrl: s.url,
    dataBaseUrl: s.url,
    httpTimeoutMs: 300,
    rateLimitBackoffMs: 50,
    orderFillWaitMs: 400,
    orderPollIntervalMs: 10,
    ...overrides,
  });
}

const nextId = () => `${ACCOUNT}-${String(++seq).padStart(6, '0')}`;
const entry = (symbol: string, side: 'buy' | 'sell', quantity: number, stopLevel?: number): OrderRequest => ({
  account: ACCOUNT,
  clientOrderId: nextId(),
  symbol,
  side,
  quantity,
  type: 'market',
  intent: 'open',
  ...(stopLevel !== undefined ? { stopLevel } : {}),
});
const closeOf = (open: OrderRequest, quantity = open.quantity): OrderRequest => ({
  account: ACCOUNT,
  clientOrderId: nextId(),
  symbol: open.symbol,
  side: open.side === 'buy' ? 'sell' : 'buy',
  quantity,
  type: 'market',
  intent: 'close',
  positionRef: open.clientOrderId,
});
const ordersWithId = (s: FakeAlpacaServer, id: string) => s.orders().filter((o) => o.client_order_id === id);

beforeEach(async () => {
  server = await startFakeAlpacaServer();
  server.setPrice('AAPL', 100, 100.1);
  server.setPrice('MSFT', 400, 400.2);
});
afterEach(async () => {
  await server.close();
});

describe('placeOrder: entries and their protective stops', () => {
  it('fills a market entry at the ask and places its stop as a separate order <ref>-S', async () => {
    const adapter = adapterFor(server);
    const order = entry('AAPL', 'buy', 10, 95);
    const report = await adapter.placeOrder(order);

    expect(report).toMatchObject({ clientOrderId: order.clientOrderId, status: 'filled', symbol: 'AAPL', side: 'buy', quantity: 10, filledQuantity: 10, fillPrice: 100.1 });
    expect(report.brokerOrderId).toMatch(/^[0-9a-f-]{36}$/);
    expect(typeof report.filledAt).toBe('number');
    const [stop] = ordersWithId(server, stopOrderId(order.clientOrderId));
    expect(stop).toMatchObject({ type: 'stop', side: 'sell', qty: '10', stop_price: '95', time_in_force: 'gtc', status: 'new' });
    expect(server.orders()).toHaveLength(2);
    expect(server.positions()).toEqual([{ symbol: 'AAPL', qty: 10, side: 'long', avgEntryPrice: 100.1 }]);
  });

  it('a short entry gets a buy stop above', async () => {
    const adapter = adapterFor(server);
    const order = entry('MSFT', 'sell', 3, 410.126);
    const report = await adapter.placeOrder(order);
    expect(report).toMatchObject({ status: 'filled', fillPrice: 400 });
    // Sub-penny stop levels are rounded to Alpaca's tick (a cent above $1).
    expect(ordersWithId(server, stopOrderId(order.clientOrderId))[0]).toMatchObject({ side: 'buy', stop_price: '410.13' });
    expect(server.positions()).toEqual([{ symbol: 'MSFT', qty: -3, side: 'short', avgEntryPrice: 400 }]);
  });

  it('an entry without a stop places one order', async () => {
    const adapter = adapterFor(server);
    const order = entry('AAPL', 'buy', 1);
    await adapter.placeOrder(order);
    expect(server.orders().map((o) => o.client_order_id)).toEqual([order.clientOrderId]);
  });

  it('looks the clientOrderId up first: placing the same order again sends nothing and returns the same report', async () => {
    const adapter = adapterFor(server);
    const order = entry('AAPL', 'buy', 5, 90);
    const first = await adapter.placeOrder(order);
    const posts = server.orderPosts();
    const again = await adapter.placeOrder(order);
    expect(again).toEqual(first);
    expect(server.orderPosts()).toBe(posts);
    expect(server.orders()).toHaveLength(2);
  });

  it('a 422 "client_order_id must be unique" on the submit is treated as "it exists": looked up and returned', async () => {
    const adapter = adapterFor(server);
    const order = entry('AAPL', 'buy', 5, 90);
    const first = await adapter.placeOrder(order);
    // A stale look-up (as in a race with a concurrent attempt) answers 404, so the adapter submits again.
    server.respondNext({ method: 'GET', path: '/v2/orders:by_client_order_id', status: 404, body: '{"code":40410000,"message":"order not found"}' });
    const posts = server.orderPosts();
    const again = await adapter.placeOrder(order);
    expect(server.orderPosts()).toBe(posts + 1); // the duplicate submit reached Alpaca ...
    expect(ordersWithId(server, order.clientOrderId)).toHaveLength(1); // ... and was refused
    expect(again).toEqual(first);
    expect(ordersWithId(server, stopOrderId(order.clientOrderId))).toHaveLength(1);
  });

  it('two concurrent attempts with one clientOrderId make one order', async () => {
    const adapter = adapterFor(server);
    const order = entry('AAPL', 'buy', 2, 90);
    const [a, b] = await Promise.all([adapter.placeOrder(order), adapter.placeOrder(order)]);
    expect(ordersWithId(server, order.clientOrderId)).toHaveLength(1);
    expect(ordersWithId(server, stopOrderId(order.clientOrderId))).toHaveLength(1);
    expect(a.brokerOrderId).toBe(b.brokerOrderId);
    expect(server.positions()[0]!.qty).toBe(2);
  });

  it('a market order not filled within orderFillWaitMs is reported pending; a later attempt settles it and places the stop', async () => {
    const adapter = adapterFor(server, { orderFillWaitMs: 100 });
    server.setMarketOpen(false);
    const order = entry('AAPL', 'buy', 4, 95);
    const pending = await adapter.placeOrder(order);
    expect(pending).toMatchObject({ status: 'pending', filledQuantity: 0, fillPrice: 0, filledAt: null });
    expect(ordersWithId(server, stopOrderId(order.clientOrderId))).toHaveLength(0);

    server.setMarketOpen(true);
    expect(await adapter.getOrder(ACCOUNT, order.clientOrderId)).toMatchObject({ status: 'filled', fillPrice: 100.1 });
    const settled = await adapter.placeOrder(order);
    expect(settled.status).toBe('filled');
    expect(ordersWithId(server, order.clientOrderId)).toHaveLength(1);
    expect(ordersWithId(server, stopOrderId(order.clientOrderId))).toHaveLength(1);
  });

  it('insufficient buying power (403 40310000) is an OrderRejectedError naming the order; nothing is placed', async () => {
    const adapter = adapterFor(server);
    const order = entry('AAPL', 'buy', 5000);
    const err = await adapter.placeOrder(order).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OrderRejectedError);
    expect((err as OrderRejectedError).clientOrderId).toBe(order.clientOrderId);
    expect((err as Error).message).toMatch(/403 40310000 insufficient buying power/);
    expect(server.orders()).toHaveLength(0);
  });

  it('an invalid request is refused before anything is sent', async () => {
    const adapter = adapterFor(server);
    await expect(adapter.placeOrder({ ...entry('AAPL', 'buy', 1), quantity: -1 })).rejects.toThrow(InvalidOrderError);
    // gtc stops need whole shares at Alpaca: the entry is not sent at all.
    await expect(adapter.placeOrder(entry('AAPL', 'buy', 1.5, 95))).rejects.toThrow(/whole-share/);
    expect(server.orderPosts()).toBe(0);
  });

  it('a refused protective stop leaves the entry reported filled, with the refusal as its reason', async () => {
    const adapter = adapterFor(server);
    const order = entry('AAPL', 'buy', 3, 101); // above the bid: Alpaca refuses a sell stop there
    const report = await adapter.placeOrder(order);
    expect(report.status).toBe('filled');
    expect(report.reason).toMatch(/refused its protective stop .*-S/);
    const [pos] = await adapter.getPositions(ACCOUNT);
    expect(pos).toMatchObject({ positionRef: order.clientOrderId, quantity: 3 });
    expect(pos!.stopLevel).toBeUndefined();
  });

  it('refuses a clientOrderId that Alpaca knows for a different order', async () => {
    const adapter = adapterFor(server);
    const order = entry('AAPL', 'buy', 1);
    await adapter.placeOrder(order);
    await expect(adapter.placeOrder({ ...order, symbol: 'MSFT' })).rejects.toThrow(/already names a different Alpaca order/);
    expect(server.orders()).toHaveLength(1);
  });
});

describe('stops and closes', () => {
  it('a triggered stop is reported filled by getOrder(stopOrderId(ref)) and the position is gone', async () => {
    const adapter = adapterFor(server);
    const order = entry('AAPL', 'buy', 10, 95);
    await adapter.placeOrder(order);
    expect(await adapter.getOrder(ACCOUNT, stopOrderId(order.clientOrderId))).toMatchObject({ status: 'pending', filledQuantity: 0 });

    server.setPrice('AAPL', 94.5, 94.6);
    const stop = await adapter.getOrder(ACCOUNT, stopOrderId(order.clientOrderId));
    expect(stop).toMatchObject({ clientOrderId: stopOrderId(order.clientOrderId), status: 'filled', side: 'sell', quantity: 10, filledQuantity: 10, fillPrice: 94.5 });
    expect(await adapter.getPositions(ACCOUNT)).toEqual([]);
  });

  it('a close cancels the stop first, then flattens with a market order of the opposite side', async () => {
    const adapter = adapterFor(server);
    const open = entry('AAPL', 'buy', 10, 95);
    await adapter.placeOrder(open);
    server.setPrice('AAPL', 102, 102.1);
    const close = closeOf(open);
    const report = await adapter.placeOrder(close);

    expect(report).toMatchObject({ clientOrderId: close.clientOrderId, status: 'filled', side: 'sell', quantity: 10, fillPrice: 102 });
    expect(ordersWithId(server, stopOrderId(open.clientOrderId))[0]!.status).toBe('canceled');
    expect(server.positions()).toEqual([]);
    expect(await adapter.getPositions(ACCOUNT)).toEqual([]);
    // Once more (a retry or a replay): nothing new.
    const posts = server.orderPosts();
    expect(await adapter.placeOrder(close)).toEqual(report);
    expect(server.orderPosts()).toBe(posts);
  });

  it('waits for Alpaca to confirm an asynchronous cancel (pending_cancel) before closing', async () => {
    const slow = await startFakeAlpacaServer({ cancelDelayMs: 80 });
    try {
      slow.setPrice('AAPL', 100, 100.1);
      const adapter = adapterFor(slow);
      const open = entry('AAPL', 'buy', 10, 95);
      await adapter.placeOrder(open);
      const report = await adapter.placeOrder(closeOf(open));
      // Without waiting, the fake answers 403 "insufficient qty available" (the stop still holds the shares).
      expect(report.status).toBe('filled');
      expect(slow.positions()).toEqual([]);
    } finally {
      await slow.close();
    }
  });

  it('a close after the stop already filled is rejected, naming the stop, and sends nothing', async () => {
    const adapter = adapterFor(server);
    const open = entry('AAPL', 'buy', 10, 95);
    await adapter.placeOrder(open);
    server.setPrice('AAPL', 90, 90.1);
    const posts = server.orderPosts();
    const report = await adapter.placeOrder(closeOf(open));
    expect(report.status).toBe('rejected');
    expect(report.reason).toMatch(/already closed by its protective stop .*-S/);
    expect(server.orderPosts()).toBe(posts);
    expect(server.positions()).toEqual([]);
  });

  it('a close of a position closed behind the adapter\'s back is rejected and never opens a short', async () => {
    const adapter = adapterFor(server);
    const open = entry('AAPL', 'buy', 10, 95);
    await adapter.placeOrder(open);
    server.closePositionExternally('AAPL');
    expect(await adapter.getPositions(ACCOUNT)).toEqual([]);
    const report = await adapter.placeOrder(closeOf(open));
    expect(report).toMatchObject({ status: 'rejected', brokerOrderId: '' });
    expect(report.reason).toMatch(/holds no position in AAPL/);
    expect(server.positions()).toEqual([]);
  });
});

describe('positions: Alpaca nets per symbol, the adapter reports one position per entry', () => {
  it('maps a position to the entry that opened it, with its working stop', async () => {
    const adapter = adapterFor(server);
    const open = entry('AAPL', 'buy', 10, 95);
    await adapter.placeOrder(open);
    expect(await adapter.getPositions(ACCOUNT)).toEqual([
      { positionRef: open.clientOrderId, brokerPositionId: expect.stringContaining(open.clientOrderId), symbol: 'AAPL', side: 'long', quantity: 10, entryPrice: 100.1, stopLevel: 95 },
    ]);
  });

  it('two entries in one symbol are two positions; closing the second leaves the first with its stop', async () => {
    const adapter = adapterFor(server);
    const a = entry('AAPL', 'buy', 10, 95);
    await adapter.placeOrder(a);
    server.setPrice('AAPL', 101, 101.1);
    const b = entry('AAPL', 'buy', 10, 96);
    await adapter.placeOrder(b);
    expect(server.positions()).toEqual([{ symbol: 'AAPL', qty: 20, side: 'long', avgEntryPrice: 100.6 }]);
    const both = await adapter.getPositions(ACCOUNT);
    expect(both.map((p) => [p.positionRef, p.quantity, p.entryPrice, p.stopLevel])).toEqual([
      [a.clientOrderId, 10, 100.1, 95],
      [b.clientOrderId, 10, 101.1, 96],
    ]);

    await adapter.placeOrder(closeOf(b));
    const left = await adapter.getPositions(ACCOUNT);
    expect(left.map((p) => [p.positionRef, p.quantity, p.stopLevel])).toEqual([[a.clientOrderId, 10, 95]]);
    expect(server.positions()[0]!.qty).toBe(10);
  });

  it('follows changes made behind its back (reconciliation adopts the broker\'s quantity)', async () => {
    const adapter = adapterFor(server);
    const a = entry('MSFT', 'buy', 10);
    await adapter.placeOrder(a);
    server.placeExternalOrder({ symbol: 'MSFT', side: 'sell', qty: 4 });
    const [pos] = await adapter.getPositions(ACCOUNT);
    expect(pos).toMatchObject({ positionRef: a.clientOrderId, quantity: 6 });
    expect(pos!.quantity).toBe(server.positions()[0]!.qty);
  });

  it('a position opened outside the adapter carries that order\'s id, which no session owns', async () => {
    const adapter = adapterFor(server);
    server.placeExternalOrder({ symbol: 'MSFT', side: 'buy', qty: 7 });
    expect(await adapter.getPositions(ACCOUNT)).toEqual([
      expect.objectContaining({ positionRef: expect.stringMatching(/^[0-9a-f-]{36}$/), symbol: 'MSFT', quantity: 7 }),
    ]);
  });
});

describe('account', () => {
  it('reports equity in the account currency', async () => {
    const adapter = adapterFor(server);
    expect(await adapter.getAccount(ACCOUNT)).toEqual({ account: ACCOUNT, currency: 'USD', balance: 100_000 });
    await adapter.placeOrder(entry('AAPL', 'buy', 10));
    // Bought at the ask (100.1), valued at the mid (100.05).
    expect((await adapter.getAccount(ACCOUNT)).balance).toBeCloseTo(100_000 - 0.5, 6);
  });

  it('bad keys are a BrokerAuthError that never shows the secret', async () => {
    const adapter = adapterFor(server, { secretKey: 'wrong-secret-value-123' });
    const err = await adapter.getAccount(ACCOUNT).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BrokerAuthError);
    expect((err as Error).message).toMatch(/401 40110000 request is not authorized/);
    expect((err as Error).message).not.toContain('wrong-secret-value-123');
    expect(JSON.stringify(adapter)).not.toContain('wrong-secret-value-123');
  });

  it('declares its capabilities', () => {
    expect(adapterFor(server).capabilities).toEqual({ supportsStopOrders: true, supportsClientOrderId: true });
  });
});
