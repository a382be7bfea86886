import { BrokerUnavailableError, InvalidOrderError } from '../../../brokers/errors';
import { IgBrokerAdapter, IgMalformedResponseError, InMemorySubmissionJournal } from '../../../brokers/ig';
import { FrameSchema } from '../../../market/frame';
import { startFakeIgServer, type FakeCandle, type FakeIgServer } from '../../fakes/ig-server';

const EPIC = 'CS.D.USDJPY.CFD.IP';
const MIN = 60_000;

let fake: FakeIgServer;
let adapter: IgBrokerAdapter;

beforeEach(async () => {
  fake = await startFakeIgServer();
  fake.setPrice(EPIC, 150.1, 150.12);
  adapter = new IgBrokerAdapter(
    { apiKey: fake.options.apiKey, identifier: fake.options.identifier, password: fake.options.password, accountId: 'ABC123', baseUrl: fake.url, httpTimeoutMs: 500 },
    { journal: new InMemorySubmissionJournal(), now: () => fake.now() },
  );
});

afterEach(async () => {
  await adapter.close();
  await fake.close();
});

/** Five minute frames ending with the one in progress at the fake's "now". */
function minuteFrames(): { frames: FakeCandle[]; current: number } {
  const current = Math.floor(fake.now() / MIN) * MIN;
  const frames: FakeCandle[] = [];
  for (let i = 4; i >= 0; i--) {
    const r = (x: number) => Math.round(x * 1e6) / 1e6;
    const o = r(150 + i / 100);
    frames.push({ start: current - i * MIN, timeframe: '1m', open: o, high: r(o + 0.05), low: r(o - 0.05), close: r(o + 0.01), volume: 10 + i });
  }
  return { frames, current };
}

describe('IG market data', () => {
  test('getCandles: only closed frames, mid of bid/ask, validated, in start order', async () => {
    const { frames, current } = minuteFrames();
    fake.addCandles(EPIC, [...frames].reverse(), 0.02);
    const got = await adapter.getCandles({ symbol: EPIC, timeframe: '1m', fromStart: current - 10 * MIN, toStart: current });
    expect(got.map((f) => f.start)).toEqual(frames.slice(0, 4).map((f) => f.start)); // the frame in progress is left out
    for (const [i, f] of got.entries()) {
      expect(() => FrameSchema.parse(f)).not.toThrow();
      expect(f).toEqual({ symbol: EPIC, timeframe: '1m', start: frames[i]!.start, open: frames[i]!.open, high: frames[i]!.high, low: frames[i]!.low, close: frames[i]!.close, volume: frames[i]!.volume });
    }
    const q = fake.requests({ path: `/prices/${EPIC}` })[0]!;
    expect(q.version).toBe('3');
    // Once the minute is over, the frame is closed and returned.
    fake.advanceTime(MIN);
    await expect(adapter.getCandles({ symbol: EPIC, timeframe: '1m', fromStart: current, toStart: current })).resolves.toHaveLength(1);
  });

  test('getCandles keeps to the inclusive range and to the timeframe asked', async () => {
    const { frames, current } = minuteFrames();
    fake.addCandles(EPIC, frames);
    const hour = Math.floor(current / (60 * MIN)) * 60 * MIN - 60 * MIN;
    fake.addCandles(EPIC, [{ start: hour, timeframe: '1h', open: 1, high: 2, low: 0.5, close: 1.5 }]);
    const got = await adapter.getCandles({ symbol: EPIC, timeframe: '1m', fromStart: current - 3 * MIN, toStart: current - 2 * MIN });
    expect(got.map((f) => f.start)).toEqual([current - 3 * MIN, current - 2 * MIN]);
    const hours = await adapter.getCandles({ symbol: EPIC, timeframe: '1h', fromStart: hour - 60 * MIN, toStart: hour + 60 * MIN });
    expect(hours).toEqual([expect.objectContaining({ timeframe: '1h', high: 2, low: 0.5 })]);
  });

  test('getLatestPrice: the snapshot bid/offer, at IG clock', async () => {
    const q = await adapter.getLatestPrice(EPIC);
    expect(q).toMatchObject({ symbol: EPIC, bid: 150.1, ask: 150.12 });
    expect(Math.abs(q.time - fake.now())).toBeLessThan(1_500);
    await expect(adapter.getLatestPrice('CS.D.NOPE.CFD.IP')).rejects.toBeInstanceOf(InvalidOrderError);
  });

  test('a market without a price is BrokerUnavailableError, not a zero quote', async () => {
    fake.addMarket({ epic: 'CS.D.AUDUSD.CFD.IP', status: 'CLOSED' });
    await expect(adapter.getLatestPrice('CS.D.AUDUSD.CFD.IP')).rejects.toThrow(BrokerUnavailableError);
    await expect(adapter.getLatestPrice('CS.D.AUDUSD.CFD.IP')).rejects.toThrow(/no price for CS.D.AUDUSD.CFD.IP \(market CLOSED\)/);
  });
});

describe('malformed broker responses are clear errors', () => {
  test('non-JSON body', async () => {
    fake.respondRaw({ method: 'GET', path: '/positions', status: 200, body: '<html>gateway error</html>' });
    const err = await adapter.getPositions('acct').catch((e) => e);
    expect(err).toBeInstanceOf(IgMalformedResponseError);
    expect(err.message).toMatch(/malformed GET \/positions: body is not JSON/);
  });

  test('a position without its fields names them', async () => {
    fake.respondRaw({ method: 'GET', path: '/positions', status: 200, body: { positions: [{ position: { dealId: 'D1', direction: 'UP', size: 'two' }, market: {} }] } });
    const err = await adapter.getPositions('acct').catch((e) => e);
    expect(err).toBeInstanceOf(IgMalformedResponseError);
    expect(err.message).toContain('positions.0.position.direction');
    expect(err.message).toContain('positions.0.position.size');
    expect(err.message).toContain('positions.0.market.epic');
    expect(err.retryable).toBe(true);
  });

  test('an impossible candle (high below low) is refused with the frame rule it breaks', async () => {
    const t = Math.floor(fake.now() / MIN) * MIN - 5 * MIN;
    const p = (bid: number) => ({ bid, ask: bid + 0.02, lastTraded: null });
    fake.respondRaw({
      method: 'GET',
      path: `/prices/${EPIC}`,
      status: 200,
      body: { prices: [{ snapshotTimeUTC: new Date(t).toISOString().slice(0, 19), openPrice: p(150), highPrice: p(149), lowPrice: p(151), closePrice: p(150), lastTradedVolume: 1 }] },
    });
    const err = await adapter.getCandles({ symbol: EPIC, timeframe: '1m', fromStart: t, toStart: t }).catch((e) => e);
    expect(err).toBeInstanceOf(IgMalformedResponseError);
    expect(err.message).toMatch(/high .* is below low/);
  });

  test('a candle with a missing side or NaN-like price is refused', async () => {
    const t = Math.floor(fake.now() / MIN) * MIN - 5 * MIN;
    fake.respondRaw({
      method: 'GET',
      path: `/prices/${EPIC}`,
      status: 200,
      body: { prices: [{ snapshotTimeUTC: new Date(t).toISOString().slice(0, 19), openPrice: { bid: null, ask: 1 }, highPrice: { bid: 1, ask: 1 }, lowPrice: { bid: 1, ask: 1 }, closePrice: { bid: 1, ask: 'x' } }] },
    });
    await expect(adapter.getCandles({ symbol: EPIC, timeframe: '1m', fromStart: t, toStart: t })).rejects.toThrow(/closePrice\.ask/);
  });

  test('a confirmation with an ACCEPTED deal but no level is not taken as a fill at 0', async () => {
    const order = { account: 'acct', clientOrderId: 'acct-000001', symbol: EPIC, side: 'buy' as const, quantity: 1, type: 'market' as const, intent: 'open' as const };
    fake.respondRaw({ method: 'GET', path: '/confirms/acct-000001', status: 200, body: { dealReference: 'acct-000001', dealStatus: 'ACCEPTED', dealId: 'D1', level: null } });
    const err = await adapter.placeOrder(order).catch((e) => e);
    expect(err).toBeInstanceOf(IgMalformedResponseError);
    expect(err.message).toMatch(/ACCEPTED deal needs a positive level/);
    expect(fake.orderPosts()).toBe(0);
  });

  test('a malformed session answer (no CST header) is a clear error', async () => {
    fake.respondRaw({ method: 'POST', path: '/session', status: 200, body: { currentAccountId: 'ABC123' } });
    await expect(adapter.getPositions('acct')).rejects.toThrow(/malformed session \(v2\): CST header missing/);
  });
});
