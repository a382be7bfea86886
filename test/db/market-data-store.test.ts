import { createPool, type Pool } from '../../db/pool';
import { MarketDataStore } from '../../db/market-data-store';
import type { Frame } from '../../market/frame';
import { TEST_ENV, uniqueAccount } from '../support/env';

const T0 = Date.UTC(2024, 0, 2, 10, 0);
const MIN = 60_000;

let pool: Pool;
let store: MarketDataStore;

beforeAll(() => {
  pool = createPool(TEST_ENV.MYSQL_URL);
  store = new MarketDataStore(pool);
});

afterAll(async () => {
  await pool?.end();
});

/** A symbol of its own per test, so no other run's candles are ever seen. */
const uniqueSymbol = (prefix: string) => uniqueAccount(prefix).toUpperCase();

function candle(symbol: string, minute: number, close: number, over: Partial<Frame> = {}): Frame {
  return {
    symbol,
    timeframe: '1m',
    start: T0 + minute * MIN,
    open: close,
    high: close + 0.5,
    low: close - 0.5,
    close,
    volume: 10 + minute,
    ...over,
  };
}

async function rowsOf(symbol: string) {
  const [rows] = await pool.query('SELECT * FROM maodata.candles WHERE symbol = ? ORDER BY timeframe, start', [symbol]);
  return rows as Record<string, unknown>[];
}

describe('MarketDataStore.upsertCandles', () => {
  it('storing the same frames twice leaves the same rows', async () => {
    const symbol = uniqueSymbol('mds');
    const frames = [0, 1, 2, 3].map((m) => candle(symbol, m, 100 + m));
    await store.upsertCandles(frames);
    const first = await rowsOf(symbol);
    expect(first).toHaveLength(4);
    await store.upsertCandles(frames);
    expect(await rowsOf(symbol)).toEqual(first);
    expect(first[2]).toEqual({
      symbol,
      timeframe: '1m',
      start: T0 + 2 * MIN,
      open: 102,
      high: 102.5,
      low: 101.5,
      close: 102,
      volume: 12,
    });
  });

  it('a frame stored again with other values is still one row, with the later values', async () => {
    const symbol = uniqueSymbol('mdu');
    await store.upsertCandles([candle(symbol, 0, 100)]);
    await store.upsertCandles([candle(symbol, 0, 100, { close: 100.25, high: 101, volume: 99 })]);
    const rows = await rowsOf(symbol);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ close: 100.25, high: 101, volume: 99 });
  });

  it('stores more than one chunk (500 rows) of frames', async () => {
    const symbol = uniqueSymbol('mdb');
    const frames = Array.from({ length: 1_203 }, (_, m) => candle(symbol, m, 100 + (m % 7)));
    await store.upsertCandles(frames);
    await store.upsertCandles(frames);
    expect(await rowsOf(symbol)).toHaveLength(1_203);
  });

  it('keeps prices at 8 decimals exactly', async () => {
    const symbol = uniqueSymbol('mdp');
    await store.upsertCandles([candle(symbol, 0, 1.08423457, { high: 1.08429999, low: 1.08400001, open: 1.08411111 })]);
    expect(await store.latestCandle(symbol)).toMatchObject({ open: 1.08411111, high: 1.08429999, low: 1.08400001, close: 1.08423457 });
  });
});

describe('MarketDataStore.loadCandles', () => {
  it('returns the frames of one stream within the inclusive range, in start order', async () => {
    const symbol = uniqueSymbol('mdl');
    const frames = [0, 1, 2, 3, 4, 5].map((m) => candle(symbol, m, 100 + m));
    await store.upsertCandles([frames[4], frames[1], frames[5], frames[0], frames[3], frames[2]]);
    // Another timeframe of the same symbol is another stream.
    await store.upsertCandles([candle(symbol, 0, 200, { timeframe: '5m' })]);

    const { frames: loaded, invalid } = await store.loadCandles({ symbol, timeframe: '1m', fromStart: T0 + MIN, toStart: T0 + 4 * MIN });
    expect(invalid).toEqual([]);
    expect(loaded).toEqual(frames.slice(1, 5));

    const all = await store.loadCandles({ symbol, timeframe: '1m', fromStart: 0, toStart: T0 + 60 * MIN });
    expect(all.frames.map((f) => f.start)).toEqual(frames.map((f) => f.start));
    const five = await store.loadCandles({ symbol, timeframe: '5m', fromStart: 0, toStart: T0 + 60 * MIN });
    expect(five.frames).toEqual([candle(symbol, 0, 200, { timeframe: '5m' })]);
  });

  it('returns nothing for an empty range or an unknown symbol', async () => {
    const symbol = uniqueSymbol('mde');
    await store.upsertCandles([candle(symbol, 0, 100)]);
    await expect(store.loadCandles({ symbol, timeframe: '1m', fromStart: T0 + MIN, toStart: T0 + 9 * MIN })).resolves.toEqual({
      frames: [],
      invalid: [],
    });
    await expect(store.loadCandles({ symbol: `${symbol}X`, timeframe: '1m', fromStart: 0, toStart: T0 })).resolves.toEqual({
      frames: [],
      invalid: [],
    });
  });

  it('separates rows that fail validation into `invalid`, with the reason, and never returns them as frames', async () => {
    const symbol = uniqueSymbol('mdi');
    await store.upsertCandles([candle(symbol, 0, 100), candle(symbol, 3, 103)]);
    const insert = (minute: number, o: number, h: number, l: number, c: number) =>
      pool.query('INSERT INTO maodata.candles (symbol, timeframe, start, open, high, low, close, volume) VALUES (?,?,?,?,?,?,?,0)', [
        symbol,
        '1m',
        T0 + minute * MIN,
        o,
        h,
        l,
        c,
      ]);
    await insert(1, 100, 99, 101, 100); // high < low
    await insert(2, 0, 102, 101, 101.5); // zero open
    await pool.query('INSERT INTO maodata.candles (symbol, timeframe, start, open, high, low, close) VALUES (?,?,?,?,?,?,?)', [
      symbol,
      '1m',
      T0 + 4 * MIN + 30_000, // not aligned to 1m
      104,
      104,
      104,
      104,
    ]);

    const { frames, invalid } = await store.loadCandles({ symbol, timeframe: '1m', fromStart: T0, toStart: T0 + 10 * MIN });
    expect(frames).toEqual([candle(symbol, 0, 100), candle(symbol, 3, 103)]);
    expect(invalid.map((i) => i.start)).toEqual([T0 + MIN, T0 + 2 * MIN, T0 + 4 * MIN + 30_000]);
    expect(invalid[0].reason).toMatch(/^high: high 99 is below low 101/);
    expect(invalid[1].reason).toMatch(/open: open must be a positive price/);
    expect(invalid[2].reason).toMatch(/start: start \d+ is not aligned to timeframe 1m/);
    await pool.query('DELETE FROM maodata.candles WHERE symbol = ?', [symbol]);
  });
});

describe('MarketDataStore.latestCandle', () => {
  it('is null for a symbol without candles', async () => {
    await expect(store.latestCandle(uniqueSymbol('mdn'))).resolves.toBeNull();
  });

  it('is the frame with the latest start, whatever the insertion order', async () => {
    const symbol = uniqueSymbol('mdt');
    await store.upsertCandles([candle(symbol, 5, 105), candle(symbol, 9, 109), candle(symbol, 7, 107)]);
    await expect(store.latestCandle(symbol)).resolves.toEqual(candle(symbol, 9, 109));
    await store.upsertCandles([candle(symbol, 10, 110)]);
    await expect(store.latestCandle(symbol)).resolves.toEqual(candle(symbol, 10, 110));
  });
});

describe('MarketDataStore.candlesAfter', () => {
  it('returns the frames strictly after a start, in order', async () => {
    const symbol = uniqueSymbol('mda');
    const frames = [0, 1, 2, 3, 4].map((m) => candle(symbol, m, 100 + m));
    await store.upsertCandles([...frames].reverse());
    await expect(store.candlesAfter(symbol, T0 + 2 * MIN)).resolves.toEqual(frames.slice(3));
    await expect(store.candlesAfter(symbol, T0 - 1)).resolves.toEqual(frames);
    await expect(store.candlesAfter(symbol, T0 + 4 * MIN)).resolves.toEqual([]);
  });
});
