/** Market data v2 through the adapter: closed, validated, ordered frames; paging; daily bars; latest quote. */
import { AlpacaBrokerAdapter, AlpacaMalformedResponseError } from '../../../brokers/alpaca';
import { InvalidFrameError, type Frame } from '../../../market/frame';
import { startFakeAlpacaServer, type FakeAlpacaServer } from '../../fakes/alpaca-server';

const MIN = 60_000;
const DAY = 86_400_000;
const T0 = Date.UTC(2024, 2, 5, 15, 0); // 2024-03-05 15:00Z (10:00 New York)
let server: FakeAlpacaServer;

function adapterAt(s: FakeAlpacaServer, now: number) {
  return new AlpacaBrokerAdapter(
    { keyId: s.keyId, secretKey: s.secretKey, tradingBaseUrl: s.url, dataBaseUrl: s.url, httpTimeoutMs: 500 },
    { now: () => now },
  );
}

const frame = (start: number, close: number, timeframe: Frame['timeframe'] = '1m'): Frame => ({
  symbol: 'AAPL',
  timeframe,
  start,
  open: close - 0.1,
  high: close + 0.2,
  low: close - 0.3,
  close,
  volume: 1000,
});

beforeEach(async () => {
  server = await startFakeAlpacaServer({ barsPageLimit: 3 });
});
afterEach(async () => {
  await server.close();
});

describe('getCandles', () => {
  it('returns only closed frames in range, validated and in order, across pages', async () => {
    const frames = Array.from({ length: 8 }, (_, i) => frame(T0 + i * MIN, 100 + i));
    server.addBars('AAPL', [...frames].reverse());
    // "Now" is inside the 8th minute: that bar is still forming and must not be returned.
    const adapter = adapterAt(server, T0 + 7 * MIN + 30_000);
    const got = await adapter.getCandles({ symbol: 'AAPL', timeframe: '1m', fromStart: T0, toStart: T0 + 7 * MIN });
    expect(got).toEqual(frames.slice(0, 7));

    const some = await adapter.getCandles({ symbol: 'AAPL', timeframe: '1m', fromStart: T0 + 2 * MIN, toStart: T0 + 4 * MIN });
    expect(some.map((f) => f.start)).toEqual([T0 + 2 * MIN, T0 + 3 * MIN, T0 + 4 * MIN]);
  });

  it('a bar ending exactly now is closed', async () => {
    server.addBars('AAPL', [frame(T0, 100)]);
    expect(await adapterAt(server, T0 + MIN).getCandles({ symbol: 'AAPL', timeframe: '1m', fromStart: T0, toStart: T0 })).toHaveLength(1);
    expect(await adapterAt(server, T0 + MIN - 1).getCandles({ symbol: 'AAPL', timeframe: '1m', fromStart: T0, toStart: T0 })).toHaveLength(0);
  });

  it('keys daily bars (stamped by Alpaca at New York midnight) by the UTC midnight of their date', async () => {
    const d0 = Date.UTC(2024, 2, 8); // Friday; the US switches to daylight time on Sunday 2024-03-10
    const days = [d0, d0 + 3 * DAY, d0 + 4 * DAY].map((d, i) => frame(d, 170 + i, '1d'));
    server.addBars('AAPL', days);
    const stamps = await (await fetch(`${server.url}/v2/stocks/AAPL/bars?timeframe=1Day`, { headers: { 'APCA-API-KEY-ID': server.keyId, 'APCA-API-SECRET-KEY': server.secretKey } })).json();
    expect((stamps as { bars: { t: string }[] }).bars.map((b) => b.t)).toEqual(['2024-03-08T05:00:00Z', '2024-03-11T04:00:00Z', '2024-03-12T04:00:00Z']);

    // On 2024-03-12 at 15:00Z the day's bar is still forming.
    const adapter = adapterAt(server, Date.UTC(2024, 2, 12, 15));
    expect(await adapter.getCandles({ symbol: 'AAPL', timeframe: '1d', fromStart: d0, toStart: d0 + 4 * DAY })).toEqual(days.slice(0, 2));
  });

  it.each([
    ['high below low', { h: 99, l: 101 }, /high 99 is below low 101/],
    ['a negative price', { o: -1 }, /open: open must be a positive price/],
    ['an unaligned start', { t: new Date(T0 + 30_000).toISOString() }, /not aligned to timeframe 1m/],
  ])('a bar with %s is an InvalidFrameError naming the bar', async (_what, patch, message) => {
    server.addRawBars('AAPL', '1m', [{ t: new Date(T0).toISOString(), o: 100, h: 101, l: 99, c: 100, v: 5, ...patch }]);
    const err = await adapterAt(server, T0 + 10 * MIN)
      .getCandles({ symbol: 'AAPL', timeframe: '1m', fromStart: T0 - MIN, toStart: T0 + MIN })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidFrameError);
    expect((err as Error).message).toContain('Alpaca bar AAPL 1Min');
    expect((err as Error).message).toMatch(message);
  });

  it('out-of-order or duplicate bars are refused', async () => {
    server.addRawBars('AAPL', '1m', [
      { t: new Date(T0).toISOString(), o: 100, h: 101, l: 99, c: 100, v: 5 },
      { t: new Date(T0).toISOString(), o: 100, h: 101, l: 99, c: 100, v: 5 },
    ]);
    await expect(adapterAt(server, T0 + 10 * MIN).getCandles({ symbol: 'AAPL', timeframe: '1m', fromStart: T0, toStart: T0 })).rejects.toThrow(/out of order or duplicate/);
  });

  it('a malformed bars body is a clear error', async () => {
    server.respondNext({ path: '/v2/stocks/AAPL/bars', status: 200, body: '{"bars":[{"t":"yesterday","o":"1"}],"next_page_token":null}' });
    const err = await adapterAt(server, T0).getCandles({ symbol: 'AAPL', timeframe: '1m', fromStart: T0, toStart: T0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AlpacaMalformedResponseError);
    expect((err as Error).message).toContain('GET /v2/stocks/AAPL/bars');
    expect((err as Error).message).toContain('bars.0.t: expected an RFC-3339 time, got "yesterday"');
    expect((err as Error).message).toContain('bars.0.o: Expected number, received string');
  });
});

describe('getLatestPrice', () => {
  it('returns the latest bid/ask with the quote time', async () => {
    const before = Date.now();
    server.setPrice('AAPL', 187.1, 187.14);
    const q = await adapterAt(server, T0).getLatestPrice('AAPL');
    expect(q).toMatchObject({ symbol: 'AAPL', bid: 187.1, ask: 187.14 });
    expect(q.time).toBeGreaterThanOrEqual(before);
  });

  it('a quote without an ask (ap 0 on a thin feed) is a clear error, not a price of 0', async () => {
    server.respondNext({ path: '/v2/stocks/AAPL/quotes/latest', status: 200, body: '{"symbol":"AAPL","quote":{"t":"2024-03-05T15:00:00.123456789Z","ap":0,"bp":187.1}}' });
    await expect(adapterAt(server, T0).getLatestPrice('AAPL')).rejects.toThrow(/quote\.ap: ask price must be positive/);
  });
});
