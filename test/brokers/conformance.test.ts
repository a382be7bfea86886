/**
 * One contract, every adapter: the same tests run against paper (real MariaDB), IG and Alpaca (local
 * fake servers that mimic their documented APIs). A new broker is added here before it trades.
 */
import { stopOrderId, type OrderRequest } from '../../brokers/adapter';
import { InvalidOrderError } from '../../brokers/errors';
import { generateFrames } from '../../market/synthetic';
import { FrameSchema } from '../../market/frame';
import { uniqueAccount } from '../support/env';
import { alpacaVenue, igVenue, paperVenue, type Venue } from '../support/venues';

jest.setTimeout(60_000);

const VENUES: Array<[string, (account: string) => Promise<Venue>]> = [
  ['paper', (account) => paperVenue(account.toUpperCase())],
  ['ig', () => igVenue()],
  ['alpaca', () => alpacaVenue()],
];

describe.each(VENUES)('%s adapter conformance', (_name, make) => {
  let venue: Venue;
  let account: string;
  let seq = 0;
  const id = () => `${account}-${String(++seq).padStart(6, '0')}`;
  const open = (side: 'buy' | 'sell', stopLevel?: number): OrderRequest => ({
    account,
    clientOrderId: id(),
    symbol: venue.symbol,
    side,
    quantity: 2,
    type: 'market',
    intent: 'open',
    ...(stopLevel !== undefined ? { stopLevel } : {}),
  });
  const close = (positionRef: string, side: 'buy' | 'sell'): OrderRequest => ({
    account,
    clientOrderId: id(),
    symbol: venue.symbol,
    side,
    quantity: 2,
    type: 'market',
    intent: 'close',
    positionRef,
  });

  beforeEach(async () => {
    account = uniqueAccount('conf');
    seq = 0;
    venue = await make(account);
    await venue.setPrice(100);
  });
  afterEach(async () => venue.stop());

  it('reports the account with a positive balance and a currency', async () => {
    const a = await venue.adapter.getAccount(account);
    expect(a.balance).toBeGreaterThan(0);
    expect(a.currency).toMatch(/^[A-Z]{3}$/);
  });

  it('opens a position with a market order and its stop, filled near the price, listed under its clientOrderId', async () => {
    const order = open('buy', 95);
    const report = await venue.adapter.placeOrder(order);
    expect(report).toMatchObject({ clientOrderId: order.clientOrderId, status: 'filled', side: 'buy', quantity: 2, filledQuantity: 2 });
    expect(report.fillPrice).toBeGreaterThan(99.5);
    expect(report.fillPrice).toBeLessThan(100.5);
    const positions = await venue.adapter.getPositions(account);
    expect(positions).toHaveLength(1);
    expect(positions[0]).toMatchObject({ positionRef: order.clientOrderId, symbol: venue.symbol, side: 'long', quantity: 2, stopLevel: 95 });
    expect(await venue.openAtVenue(account)).toBe(1);
  });

  it('is idempotent by clientOrderId: placing the same order again returns the same order and sends nothing new', async () => {
    const order = open('sell', 105);
    const first = await venue.adapter.placeOrder(order);
    const sent = await venue.submissions(account);
    const again = await venue.adapter.placeOrder(order);
    expect(again.clientOrderId).toBe(first.clientOrderId);
    expect(again.status).toBe(first.status);
    expect(again.fillPrice).toBe(first.fillPrice);
    expect(await venue.submissions(account)).toBe(sent);
    expect(await venue.openAtVenue(account)).toBe(1);
  });

  it('finds an order by clientOrderId, and knows when it has never seen one', async () => {
    const order = open('buy');
    const report = await venue.adapter.placeOrder(order);
    const found = await venue.adapter.getOrder(account, order.clientOrderId);
    expect(found).toMatchObject({ clientOrderId: order.clientOrderId, status: 'filled', fillPrice: report.fillPrice });
    expect(await venue.adapter.getOrder(account, `${account}-999999`)).toBeNull();
  });

  it('closes the position its entry opened, and the close is found by its own id', async () => {
    const entry = open('buy', 90);
    await venue.adapter.placeOrder(entry);
    await venue.setPrice(101);
    const exit = close(entry.clientOrderId, 'sell');
    const report = await venue.adapter.placeOrder(exit);
    expect(report).toMatchObject({ status: 'filled', side: 'sell', filledQuantity: 2 });
    expect(report.fillPrice).toBeGreaterThan(100.5);
    expect(await venue.adapter.getPositions(account)).toEqual([]);
    expect(await venue.openAtVenue(account)).toBe(0);
    expect(await venue.adapter.getOrder(account, exit.clientOrderId)).toMatchObject({ status: 'filled' });
  });

  it('reports a triggered protective stop under stopOrderId(entry) as a filled order, and the position as gone', async () => {
    const entry = open('buy', 98);
    await venue.adapter.placeOrder(entry);
    await venue.setPrice(97);
    const stop = await venue.adapter.getOrder(account, stopOrderId(entry.clientOrderId));
    expect(stop).toMatchObject({ status: 'filled', side: 'sell' });
    expect(stop!.fillPrice).toBeLessThanOrEqual(98.01);
    expect(stop!.fillPrice).toBeGreaterThan(96);
    expect(await venue.adapter.getPositions(account)).toEqual([]);
  });

  it('rejects the close of a position that is not open, without opening anything', async () => {
    let outcome: unknown;
    try {
      outcome = await venue.adapter.placeOrder(close(`${account}-000777`, 'sell'));
    } catch (err) {
      outcome = err;
    }
    // Either answer is a refusal a retry cannot change: a rejected report or a non-retryable error.
    if (outcome instanceof Error) expect((outcome as { retryable?: boolean }).retryable).toBe(false);
    else expect(outcome).toMatchObject({ status: 'rejected' });
    expect(await venue.openAtVenue(account)).toBe(0);
  });

  it('refuses a malformed order with InvalidOrderError naming the field, sending nothing', async () => {
    const bad = { ...open('buy'), quantity: -1 };
    const err = await venue.adapter.placeOrder(bad).catch((e) => e);
    expect(err).toBeInstanceOf(InvalidOrderError);
    expect(String(err.message)).toMatch(/quantity/);
    expect(await venue.submissions(account)).toBe(0);
  });

  it('serves closed frames of its price history, validated and in order', async () => {
    const lastClosed = Math.floor(Date.now() / 60_000) * 60_000 - 60_000;
    const frames = generateFrames({ symbol: venue.symbol, timeframe: '1m', start: lastClosed - 9 * 60_000, count: 10, seed: 3, startPrice: 100 });
    await venue.addHistory(frames);
    const got = await venue.adapter.getCandles({ symbol: venue.symbol, timeframe: '1m', fromStart: frames[0].start, toStart: frames[9].start });
    expect(got.map((f) => f.start)).toEqual(frames.map((f) => f.start));
    for (const f of got) expect(FrameSchema.safeParse(f).success).toBe(true);
    for (const [i, f] of got.entries()) expect(f.close).toBeCloseTo(frames[i].close, 2);
  });

  it('quotes the latest price with bid at or below ask', async () => {
    await venue.setPrice(100);
    const q = await venue.adapter.getLatestPrice(venue.symbol);
    expect(q.bid).toBeLessThanOrEqual(q.ask);
    expect((q.bid + q.ask) / 2).toBeCloseTo(100, 1);
  });
});
