/**
 * backtest/csv.ts and scripts/import-candles.ts read the CSV files pandas writes with `df.to_csv()`.
 * The files below are verbatim output of pandas 3.1.1 (python3, numpy), made by:
 *
 *   def ohlc(idx, base=100.0):
 *       n = len(idx); c = base + np.arange(n) * 0.25
 *       return pd.DataFrame({'Open': c, 'High': c + 1.5, 'Low': c - 1.25, 'Close': c + 0.5,
 *                            'Volume': np.arange(n) * 10 + 100}, index=idx)
 *   d = ohlc(pd.date_range('2024-01-01', periods=4, freq='D', name='Date')); d['Adj Close'] = d['Close']
 *   d.to_csv('daily.csv')
 *   h = ohlc(pd.date_range('2024-01-02 09:00', periods=4, freq='h', tz='America/New_York', name='Datetime'))
 *   h.to_csv('hourly-tz.csv')
 *   u = ohlc(pd.date_range('2024-01-02 00:00', periods=4, freq='h')); u.columns = [c.lower() for c in u.columns]
 *   u.to_csv('hourly-naive-unnamed.csv')
 *   h.reset_index().to_csv('reset-index.csv')
 *   m = ohlc(pd.date_range('2024-01-02 00:00', periods=3, freq='min', tz='UTC')); m.to_csv('minute-utc-unnamed.csv')
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseCandlesCsv, CandleCsvError } from '../../backtest/csv';
import { createPool } from '../../db/pool';
import { MarketDataStore } from '../../db/market-data-store';
import { ROOT, TEST_ENV, uniqueAccount } from '../support/env';

const PANDAS = {
  daily: `Date,Open,High,Low,Close,Volume,Adj Close
2024-01-01,100.0,101.5,98.75,100.5,100,100.5
2024-01-02,100.25,101.75,99.0,100.75,110,100.75
2024-01-03,100.5,102.0,99.25,101.0,120,101.0
2024-01-04,100.75,102.25,99.5,101.25,130,101.25
`,
  hourlyTz: `Datetime,Open,High,Low,Close,Volume
2024-01-02 09:00:00-05:00,100.0,101.5,98.75,100.5,100
2024-01-02 10:00:00-05:00,100.25,101.75,99.0,100.75,110
2024-01-02 11:00:00-05:00,100.5,102.0,99.25,101.0,120
2024-01-02 12:00:00-05:00,100.75,102.25,99.5,101.25,130
`,
  hourlyNaiveUnnamed: `,open,high,low,close,volume
2024-01-02 00:00:00,100.0,101.5,98.75,100.5,100
2024-01-02 01:00:00,100.25,101.75,99.0,100.75,110
2024-01-02 02:00:00,100.5,102.0,99.25,101.0,120
2024-01-02 03:00:00,100.75,102.25,99.5,101.25,130
`,
  resetIndex: `,Datetime,Open,High,Low,Close,Volume
0,2024-01-02 09:00:00-05:00,100.0,101.5,98.75,100.5,100
1,2024-01-02 10:00:00-05:00,100.25,101.75,99.0,100.75,110
2,2024-01-02 11:00:00-05:00,100.5,102.0,99.25,101.0,120
3,2024-01-02 12:00:00-05:00,100.75,102.25,99.5,101.25,130
`,
  minuteUtcUnnamed: `,Open,High,Low,Close,Volume
2024-01-02 00:00:00+00:00,100.0,101.5,98.75,100.5,100
2024-01-02 00:01:00+00:00,100.25,101.75,99.0,100.75,110
2024-01-02 00:02:00+00:00,100.5,102.0,99.25,101.0,120
`,
};

const H = 3_600_000;
const D = 24 * H;
/** The bars ohlc() makes: open 100 + 0.25 i, high +1.5, low -1.25, close +0.5, volume 100 + 10 i. */
const bars = (starts: number[]) =>
  starts.map((start, i) => {
    const c = 100 + i * 0.25;
    return { start, open: c, high: c + 1.5, low: c - 1.25, close: c + 0.5, volume: 100 + 10 * i };
  });
const strip = (frames: { start: number; open: number; high: number; low: number; close: number; volume: number }[]) =>
  frames.map(({ start, open, high, low, close, volume }) => ({ start, open, high, low, close, volume }));

test('daily, index named Date (dates only): UTC midnights, the extra Adj Close column ignored', () => {
  const { frames, errors } = parseCandlesCsv(PANDAS.daily, { symbol: 'SPY', timeframe: '1d' });
  expect(errors).toEqual([]);
  const t0 = Date.UTC(2024, 0, 1);
  expect(strip(frames)).toEqual(bars([0, 1, 2, 3].map((i) => t0 + i * D)));
  expect(frames.every((f) => f.symbol === 'SPY' && f.timeframe === '1d')).toBe(true);
});

test('hourly with a time zone, index named Datetime: the offset is applied (09:00-05:00 = 14:00Z)', () => {
  const { frames, errors } = parseCandlesCsv(PANDAS.hourlyTz, { symbol: 'SPY', timeframe: '1h' });
  expect(errors).toEqual([]);
  const t0 = Date.UTC(2024, 0, 2, 14);
  expect(strip(frames)).toEqual(bars([0, 1, 2, 3].map((i) => t0 + i * H)));
});

test('hourly naive, unnamed index (the header starts with a comma): the first column is the start, read as UTC', () => {
  expect(PANDAS.hourlyNaiveUnnamed.startsWith(',open')).toBe(true);
  const { frames, errors } = parseCandlesCsv(PANDAS.hourlyNaiveUnnamed, { symbol: 'EURUSD', timeframe: '1h' });
  expect(errors).toEqual([]);
  const t0 = Date.UTC(2024, 0, 2, 0);
  expect(strip(frames)).toEqual(bars([0, 1, 2, 3].map((i) => t0 + i * H)));
});

test('minute bars, unnamed index, +00:00 offsets', () => {
  const { frames, errors } = parseCandlesCsv(PANDAS.minuteUtcUnnamed, { symbol: 'EURUSD', timeframe: '1m' });
  expect(errors).toEqual([]);
  expect(frames.map((f) => f.start)).toEqual([0, 1, 2].map((i) => Date.UTC(2024, 0, 2) + i * 60_000));
});

test('after reset_index(): the unnamed column is a row number, the starts come from Datetime', () => {
  const { frames, errors } = parseCandlesCsv(PANDAS.resetIndex, { symbol: 'SPY', timeframe: '1h' });
  expect(errors).toEqual([]);
  expect(frames.map((f) => f.start)).toEqual([0, 1, 2, 3].map((i) => Date.UTC(2024, 0, 2, 14) + i * H));
});

test('bad rows in a pandas file are still reported by line number; a header without any start names the choices', () => {
  const bad = PANDAS.hourlyNaiveUnnamed.replace('2024-01-02 02:00:00,100.5', 'not a date,100.5');
  const { frames, errors } = parseCandlesCsv(bad, { symbol: 'EURUSD', timeframe: '1h' });
  expect(frames).toHaveLength(3);
  expect(errors).toEqual([{ line: 4, reason: 'start: "not a date" is neither epoch milliseconds nor an ISO-8601 time' }]);
  // An unnamed column that is not the first one is not an index.
  expect(() => parseCandlesCsv('open,,high,low,close\n', { symbol: 'X', timeframe: '1h' })).toThrow(CandleCsvError);
  expect(() => parseCandlesCsv('open,,high,low,close\n', { symbol: 'X', timeframe: '1h' })).toThrow(/lacks column\(s\) start; expected start \(or Date\/Datetime\/Timestamp, or an unnamed first column/);
});

test('import-candles stores a pandas file (hourly, with a time zone) in maodata', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mt-pandas-'));
  const file = path.join(dir, 'hourly-tz.csv');
  fs.writeFileSync(file, PANDAS.hourlyTz);
  const symbol = uniqueAccount('PD').toUpperCase();
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/import-candles.ts', file, '--symbol', symbol, '--timeframe', '1h'], {
    cwd: ROOT,
    env: { ...process.env, ...TEST_ENV },
    encoding: 'utf8',
    timeout: 120_000,
  });
  expect(r.stderr).not.toMatch(/import-candles:/);
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/4 candles stored in maodata, 0 rejected/);
  const pool = createPool(TEST_ENV.MYSQL_URL);
  try {
    const t0 = Date.UTC(2024, 0, 2, 14);
    const { frames } = await new MarketDataStore(pool).loadCandles({ symbol, timeframe: '1h', fromStart: t0, toStart: t0 + 3 * H });
    expect(strip(frames)).toEqual(bars([0, 1, 2, 3].map((i) => t0 + i * H)));
  } finally {
    await pool.end();
  }
}, 150_000);
