/**
 * Venue states of issue 11 against the Alpaca fake, through the real adapter: orders that stay working and
 * fill later, fills in parts, orders queued while the market is closed, refused closes (403), a 401 window
 * during a key rotation, and the money facts of an equity.
 */
import { BrokerAuthError } from '../../../brokers/errors';
import type { AlpacaBrokerAdapter } from '../../../brokers/alpaca';
import { startFakeAlpacaServer, type FakeAlpacaServer } from '../../fakes/alpaca-server';
import { adapterOnFake } from './fixture';

let fake: FakeAlpacaServer;
let adapter: AlpacaBrokerAdapter;
const ACCOUNT = 'acct';

beforeEach(async () => {
  fake = await startFakeAlpacaServer();
  fake.setPrice('AAPL', 100, 100.1);
  adapter = adapterOnFake(fake, 2_000);
});
afterEach(async () => fake.close());

const buy = (id: string, quantity = 10) => ({ account: ACCOUNT, clientOrderId: id, symbol: 'AAPL', side: 'buy' as const, quantity, type: 'market' as const, intent: 'open' as const });
const sell = (id: string, ref: string, quantity = 10) => ({ account: ACCOUNT, clientOrderId: id, symbol: 'AAPL', side: 'sell' as const, quantity, type: 'market' as const, intent: 'close' as const, positionRef: ref });

describe('Alpaca fake scenarios through the adapter', () => {
  test('an order that stays accepted is reported pending with nothing filled; once the venue fills it, filled', async () => {
    fake.setScenario({ fills: 'hold' });
    expect(await adapter.placeOrder(buy('a-000001'))).toMatchObject({ status: 'pending', filledQuantity: 0, fillPrice: 0, filledAt: null });
    expect(fake.orders()[0]).toMatchObject({ status: 'accepted', filled_qty: '0' });
    fake.releaseFills();
    expect(await adapter.getOrder(ACCOUNT, 'a-000001')).toMatchObject({ status: 'filled', filledQuantity: 10, fillPrice: 100.1 });
    // The retry of placeOrder finds it and sends nothing new.
    expect(await adapter.placeOrder(buy('a-000001'))).toMatchObject({ status: 'filled', filledQuantity: 10 });
    expect(fake.orderPosts()).toBe(1);
  });

  test('an order held for N ms fills by itself after that', async () => {
    fake.setScenario({ fills: 'hold', fillAfterMs: 700 }); // longer than the adapter's fill wait (400 ms)
    expect(await adapter.placeOrder(buy('a-000002'))).toMatchObject({ status: 'pending' });
    await new Promise((r) => setTimeout(r, 450));
    expect(await adapter.getOrder(ACCOUNT, 'a-000002')).toMatchObject({ status: 'filled', filledQuantity: 10 });
  });

  test('a fill in parts: partially_filled is pending with filledQuantity; the rest fills → filled', async () => {
    fake.setScenario({ partial: { qty: 4, rest: 'fill' } });
    const r = await adapter.placeOrder(buy('a-000003'));
    expect(r).toMatchObject({ status: 'pending', quantity: 10, filledQuantity: 4, fillPrice: 100.1 });
    expect(r.reason).toMatch(/partially_filled: 4 filled so far/);
    expect(fake.orders()[0]).toMatchObject({ status: 'partially_filled', filled_qty: '4' });
    fake.releaseFills();
    expect(await adapter.getOrder(ACCOUNT, 'a-000003')).toMatchObject({ status: 'filled', quantity: 10, filledQuantity: 10 });
  });

  test('a fill in parts whose residual is canceled: filled for the part that filled, the residual named', async () => {
    fake.setScenario({ partial: { qty: 3, rest: 'cancel' } });
    expect(await adapter.placeOrder(buy('a-000004'))).toMatchObject({ status: 'pending', filledQuantity: 3 });
    fake.releaseFills();
    const r = await adapter.getOrder(ACCOUNT, 'a-000004');
    expect(r).toMatchObject({ status: 'filled', quantity: 10, filledQuantity: 3 });
    expect(r!.reason).toMatch(/canceled after a partial fill of 3 of 10/);
    expect(fake.positions()).toEqual([expect.objectContaining({ symbol: 'AAPL', qty: 3 })]);
  });

  test('outside market hours an order is accepted and pending; it fills when the market opens', async () => {
    fake.setMarketOpen(false);
    expect(await adapter.getInstrument('AAPL')).toMatchObject({ tradable: false, marketStatus: 'closed' });
    expect(await adapter.placeOrder(buy('a-000005'))).toMatchObject({ status: 'pending', filledQuantity: 0 });
    expect(fake.orders()[0]).toMatchObject({ status: 'accepted' });
    fake.setMarketOpen(true);
    expect(await adapter.getOrder(ACCOUNT, 'a-000005')).toMatchObject({ status: 'filled', filledQuantity: 10 });
  });

  test.each([
    'insufficient qty available for order (requested: 10, available: 0)',
    'trade denied due to pattern day trading protection',
  ])('a refused close (403 "%s") is reported rejected with the reason; the position stays open', async (message) => {
    expect(await adapter.placeOrder(buy('a-000006'))).toMatchObject({ status: 'filled' });
    fake.setScenario({ refuseReducing: message });
    const r = await adapter.placeOrder(sell('a-000007', 'a-000006'));
    expect(r).toMatchObject({ status: 'rejected', filledQuantity: 0 });
    expect(r.reason).toContain(message);
    expect(await adapter.getPositions(ACCOUNT)).toEqual([expect.objectContaining({ positionRef: 'a-000006', quantity: 10 })]);
  });

  const PDT = JSON.stringify({ code: 40310000, message: 'trade denied due to pattern day trading protection' });
  const refuseNextPosts = (times: number) => fake.respondNext({ method: 'POST', path: '/v2/orders', status: 403, body: PDT, times });
  const order = (id: string) => fake.orders().find((o) => o.client_order_id === id);

  test('a close refused after its stop was cancelled re-places the stop at once as -S2, and the leg answers for it', async () => {
    expect(await adapter.placeOrder({ ...buy('a-000010'), stopLevel: 95 })).toMatchObject({ status: 'filled' });
    expect(order('a-000010-S')).toMatchObject({ status: 'new', stop_price: '95' });
    refuseNextPosts(1);
    const r = await adapter.placeOrder(sell('a-000011', 'a-000010'));
    expect(r).toMatchObject({ status: 'rejected', filledQuantity: 0, stopLive: true });
    expect(r.reason).toContain('pattern day trading protection');
    expect(r.reason).toContain('its protective stop is live again: re-placed as a-000010-S2 at 95');
    // At the venue: the first incarnation cancelled, the second working for the whole position at the same level.
    expect(order('a-000010-S')).toMatchObject({ status: 'canceled' });
    expect(order('a-000010-S2')).toMatchObject({ status: 'new', side: 'sell', qty: '10', stop_price: '95', type: 'stop' });
    // The session names the leg `-S`: a stop check and a placeStop find the live incarnation; nothing new is sent.
    expect(await adapter.getOrder(ACCOUNT, 'a-000010-S')).toMatchObject({ clientOrderId: 'a-000010-S', status: 'pending' });
    const posts = fake.orderPosts();
    const stopReq = { account: ACCOUNT, positionRef: 'a-000010', symbol: 'AAPL', positionSide: 'long' as const, quantity: 10, stopLevel: 95 };
    expect(await adapter.placeStop(stopReq)).toMatchObject({ clientOrderId: 'a-000010-S', status: 'working', stopLevel: 95 });
    expect(fake.orderPosts()).toBe(posts);
    expect((await adapter.getPositions(ACCOUNT))[0]).toMatchObject({ positionRef: 'a-000010', quantity: 10, stopLevel: 95 });
    // Refused again: -S3. Then accepted: the live incarnation is cancelled and the close fills.
    refuseNextPosts(1);
    expect((await adapter.placeOrder(sell('a-000012', 'a-000010'))).reason).toContain('re-placed as a-000010-S3');
    expect(await adapter.placeOrder(sell('a-000013', 'a-000010'))).toMatchObject({ status: 'filled', filledQuantity: 10 });
    expect(order('a-000010-S3')).toMatchObject({ status: 'canceled' });
    expect(await adapter.getPositions(ACCOUNT)).toEqual([]);
    // The stop of a closed position stays gone: a placeStop for it is refused, nothing placed.
    expect(await adapter.placeStop(stopReq)).toMatchObject({ status: 'rejected' });
    expect(order('a-000010-S4')).toBeUndefined();
  });

  test('a refused close whose stop cannot be put back says so in capitals; a later placeStop places the next incarnation', async () => {
    expect(await adapter.placeOrder({ ...buy('a-000020'), stopLevel: 95 })).toMatchObject({ status: 'filled' });
    refuseNextPosts(2); // the close and the re-placed stop
    const r = await adapter.placeOrder(sell('a-000021', 'a-000020'));
    expect(r).toMatchObject({ status: 'rejected' });
    expect(r.stopLive).toBe(false);
    expect(r.reason).toMatch(/PROTECTIVE STOP NOT LIVE: a-000020-S was cancelled and re-placing it as a-000020-S2 failed \(.*pattern day trading/);
    expect(await adapter.getOrder(ACCOUNT, 'a-000020-S')).toMatchObject({ clientOrderId: 'a-000020-S', status: 'rejected', filledQuantity: 0 });
    expect((await adapter.getPositions(ACCOUNT))[0]?.stopLevel).toBeUndefined();
    // The session's own retry of the stop (placeStop) puts it back.
    const stopReq = { account: ACCOUNT, positionRef: 'a-000020', symbol: 'AAPL', positionSide: 'long' as const, quantity: 10, stopLevel: 95 };
    expect(await adapter.placeStop(stopReq)).toMatchObject({ clientOrderId: 'a-000020-S', status: 'working' });
    expect(order('a-000020-S2')).toMatchObject({ status: 'new', stop_price: '95' });
  });

  test('a close refused by the netting check after the cancel keeps what Alpaca still holds protected', async () => {
    expect(await adapter.placeOrder({ ...buy('a-000030'), stopLevel: 95 })).toMatchObject({ status: 'filled' });
    const r = await adapter.placeOrder(sell('a-000031', 'a-000030', 15));
    expect(r.reason).toMatch(/Alpaca holds long 10 in AAPL; a sell of 15 would not just close it; its protective stop is live again: re-placed as a-000030-S2/);
    expect(order('a-000030-S2')).toMatchObject({ status: 'new', qty: '10' });
  });

  test('a 401 window (key rotation): every call is a BrokerAuthError; after the window calls work again', async () => {
    fake.unauthorizedFor(300);
    await expect(adapter.getAccount(ACCOUNT)).rejects.toBeInstanceOf(BrokerAuthError);
    await expect(adapter.placeOrder(buy('a-000008'))).rejects.toBeInstanceOf(BrokerAuthError);
    await expect(adapter.getLatestPrice('AAPL')).rejects.toBeInstanceOf(BrokerAuthError);
    expect(fake.orderPosts()).toBe(0);
    await new Promise((r) => setTimeout(r, 350));
    expect(await adapter.placeOrder(buy('a-000008'))).toMatchObject({ status: 'filled' });
  });

  test('instrument money facts: USD, one share is worth 1 a point, account currency from /v2/account, no commission', async () => {
    expect(await adapter.getInstrument('AAPL')).toEqual({
      symbol: 'AAPL',
      tradable: true,
      marketStatus: 'open',
      minQuantity: 0,
      quantityStep: 0,
      pointValue: '1',
      currency: 'USD',
      accountCurrency: 'USD',
      conversionRate: '1',
      commission: { perOrder: '0', rateBps: 0 },
    });
    // An unknown symbol has no money facts to report.
    expect(await adapter.getInstrument('NOPE')).toEqual({ symbol: 'NOPE', tradable: false, marketStatus: 'unknown-symbol', minQuantity: 0, quantityStep: 0 });
  });
});
