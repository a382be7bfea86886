/**
 * One contract, every adapter: the same tests run against paper (real MariaDB), IG and Alpaca (local
 * fake servers that mimic their documented APIs). A new broker is added here before it trades.
 */
import { stopOrderId, type OrderRequest, type StopRequest } from '../../brokers/adapter';
import { InvalidOrderError } from '../../brokers/errors';
import { generateFrames } from '../../market/synthetic';
import { FrameSchema } from '../../market/frame';
import { createPool } from '../../db/pool';
import { TEST_ENV, uniqueAccount } from '../support/env';
import { alpacaVenue, igVenue, paperVenue, type Venue } from '../support/venues';

jest.setTimeout(60_000);

/** Protective stop orders that reached the venue (paper keeps its stop on the position row: none are sent). */
function stopSends(venue: Venue): number {
  if (venue.fakeIg) return venue.fakeIg.amendPuts();
  if (venue.fakeAlpaca) return venue.fakeAlpaca.orders().filter((o) => o.type === 'stop').length;
  return 0;
}

/** Closes the venue's market for the test symbol, each venue its own way. */
async function closeMarket(venue: Venue): Promise<void> {
  if (venue.fakeIg) venue.fakeIg.addMarket({ epic: venue.symbol, currency: 'USD', expiry: '-', minDealSize: 1, status: 'CLOSED' });
  else if (venue.fakeAlpaca) venue.fakeAlpaca.setMarketOpen(false);
  else await withPaperInstrument(venue.symbol, { tradable: 0, market_status: 'CLOSED' });
}

/** Gives the test symbol a minimum size of 1 and a step of 1 where the venue lets the test set it. */
async function requireWholeUnits(venue: Venue): Promise<void> {
  if (venue.fakeAlpaca) venue.fakeAlpaca.setAsset(venue.symbol, { fractionable: false });
  else if (!venue.fakeIg) await withPaperInstrument(venue.symbol, { min_quantity: 1, quantity_step: 1 });
  // IG: the venue's market has minDealSize 1 (test/support/venues.ts); IG publishes no size step.
}

async function withPaperInstrument(symbol: string, row: Record<string, number | string>): Promise<void> {
  const pool = createPool(TEST_ENV.MYSQL_URL);
  try {
    const cols = Object.keys(row);
    await pool.query(
      `INSERT INTO maopaper.instruments (symbol, ${cols.join(', ')}) VALUES (?, ${cols.map(() => '?').join(', ')})
       ON DUPLICATE KEY UPDATE ${cols.map((c) => `${c} = VALUES(${c})`).join(', ')}`,
      [symbol, ...Object.values(row)],
    );
  } finally {
    await pool.end();
  }
}

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

  const stopFor = (positionRef: string, positionSide: 'long' | 'short', stopLevel: number): StopRequest => ({
    account,
    positionRef,
    symbol: venue.symbol,
    positionSide,
    quantity: 2,
    stopLevel,
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

  describe('placeStop', () => {
    it('places the protective stop of an open position, shown on the position', async () => {
      const entry = open('buy');
      await venue.adapter.placeOrder(entry);
      const report = await venue.adapter.placeStop(stopFor(entry.clientOrderId, 'long', 95));
      expect(report).toEqual({ clientOrderId: stopOrderId(entry.clientOrderId), status: 'working', stopLevel: 95 });
      const positions = await venue.adapter.getPositions(account);
      expect(positions).toHaveLength(1);
      expect(positions[0]).toMatchObject({ positionRef: entry.clientOrderId, stopLevel: 95 });
    });

    it('is idempotent: the same stop again is working, and no second stop reaches the venue', async () => {
      const entry = open('sell');
      await venue.adapter.placeOrder(entry);
      const req = stopFor(entry.clientOrderId, 'short', 105);
      await venue.adapter.placeStop(req);
      const sent = stopSends(venue);
      const again = await venue.adapter.placeStop(req);
      expect(again).toMatchObject({ status: 'working', stopLevel: 105 });
      expect(stopSends(venue)).toBe(sent);
      expect((await venue.adapter.getPositions(account))[0]).toMatchObject({ stopLevel: 105 });
      expect(await venue.openAtVenue(account)).toBe(1);
    });

    it.each([
      ['long', 'buy', 101],
      ['short', 'sell', 99],
    ] as const)('refuses a %s stop on the wrong side of the price with a reason, leaving the position unprotected', async (side, entrySide, level) => {
      const entry = open(entrySide);
      await venue.adapter.placeOrder(entry);
      const sent = stopSends(venue);
      const report = await venue.adapter.placeStop(stopFor(entry.clientOrderId, side, level));
      expect(report).toMatchObject({ clientOrderId: stopOrderId(entry.clientOrderId), status: 'rejected', stopLevel: level });
      expect(report.reason).toMatch(/wrong side/);
      expect(stopSends(venue)).toBe(sent);
      expect((await venue.adapter.getPositions(account))[0]!.stopLevel).toBeUndefined();
    });

    it('refuses the stop of a position that is not open', async () => {
      const report = await venue.adapter.placeStop(stopFor(`${account}-000777`, 'long', 95));
      expect(report.status).toBe('rejected');
      expect(report.reason).toMatch(/not open/);
      expect(await venue.openAtVenue(account)).toBe(0);
    });

    it('fills when the price reaches it, and then reports the stop filled', async () => {
      const entry = open('buy');
      await venue.adapter.placeOrder(entry);
      expect((await venue.adapter.placeStop(stopFor(entry.clientOrderId, 'long', 98))).status).toBe('working');
      await venue.setPrice(97);
      const fill = await venue.adapter.getOrder(account, stopOrderId(entry.clientOrderId));
      expect(fill).toMatchObject({ status: 'filled', side: 'sell' });
      expect(await venue.adapter.getPositions(account)).toEqual([]);
      const again = await venue.adapter.placeStop(stopFor(entry.clientOrderId, 'long', 98));
      expect(again).toMatchObject({ clientOrderId: stopOrderId(entry.clientOrderId), status: 'filled' });
    });
  });

  describe('getInstrument', () => {
    it('reports a priced, open symbol as tradable', async () => {
      const i = await venue.adapter.getInstrument(venue.symbol);
      expect(i).toMatchObject({ symbol: venue.symbol, tradable: true });
      expect(i.marketStatus).toEqual(expect.any(String));
      expect(i.minQuantity).toBeGreaterThanOrEqual(0);
      expect(i.quantityStep).toBeGreaterThanOrEqual(0);
    });

    it('reports the minimum size (and step where the venue has one)', async () => {
      await requireWholeUnits(venue);
      const i = await venue.adapter.getInstrument(venue.symbol);
      expect(i.minQuantity).toBe(1);
      expect(i.quantityStep).toBe(venue.name === 'ig' ? 0 : 1);
    });

    it('reports a closed market as not tradable, with the venue status', async () => {
      await closeMarket(venue);
      const i = await venue.adapter.getInstrument(venue.symbol);
      expect(i.tradable).toBe(false);
      expect(i.marketStatus).toMatch(/closed/i);
    });
  });
});
