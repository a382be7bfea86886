/** backtest/csv.ts: good rows kept, every bad row reported with its line number and the reason. */
import { parseCandlesCsv, parseIsoTime, CandleCsvError, CandleCsvReader } from '../../backtest/csv';
import { generateFrames, toCsv } from '../../market/synthetic';

const T = Date.UTC(2024, 0, 1);
const M = 60_000;

test('a file written by toCsv loads back losslessly', () => {
  const frames = generateFrames({ symbol: 'ABC', count: 500, seed: 3 });
  const { frames: back, errors } = parseCandlesCsv(toCsv(frames));
  expect(errors).toEqual([]);
  expect(back).toEqual(frames);
});

test('bad rows are reported with line numbers and reasons; good rows are kept', () => {
  const csv = [
    'start,open,high,low,close,volume', // line 1
    `${T},100,101,99,100.5,10`, // 2 good
    `${T + M},NaN,101,99,100,10`, // 3 NaN
    `${T + M},100,101,99,-100,10`, // 4 negative close (and outside the range)
    `${T + M},100,99,101,100,10`, // 5 high < low
    `${T + M},100.5,102,100,101,-5`, // 6 negative volume
    `${T + M},100.5,102,100,101,12`, // 7 good
    `${T},100,101,99,100,10`, // 8 out of order
    `${T + M},100,101,99,100,10`, // 9 repeat of line 7's start
    `2024-01-01T00:02:00,101,103,100.5,102,9`, // 10 good, ISO without offset = UTC
    `yesterday,100,101,99,100,10`, // 11 bad timestamp
    `2024-02-30T00:00:00Z,100,101,99,100,10`, // 12 no such day
    `${T + 3 * M + 1},100,101,99,100,10`, // 13 not aligned to the minute
    `${T + 4 * M},100,101,99`, // 14 too few columns
    '', // 15 blank: skipped
    `${T + 5 * M},,101,99,100,10`, // 16 empty cell
    `${T + 6 * M},102,103,101,102.5,`, // 17 good, volume empty → 0
  ].join('\n');
  const { frames, errors } = parseCandlesCsv(csv, { symbol: 'EURUSD', timeframe: '1m' });
  expect(frames.map((f) => [f.start, f.close, f.volume])).toEqual([
    [T, 100.5, 10],
    [T + M, 101, 12],
    [T + 2 * M, 102, 9],
    [T + 6 * M, 102.5, 0],
  ]);
  expect(frames.every((f) => f.symbol === 'EURUSD' && f.timeframe === '1m')).toBe(true);
  expect(errors.map((e) => e.line)).toEqual([3, 4, 5, 6, 8, 9, 11, 12, 13, 14, 16]);
  const reason = (line: number) => errors.find((e) => e.line === line)!.reason;
  expect(reason(3)).toBe('open: "NaN" is not a number (NaN)');
  expect(reason(4)).toMatch(/^close: close must be a positive price/);
  expect(reason(5)).toMatch(/high: high 99 is below low 101/);
  expect(reason(6)).toBe('volume: volume must not be negative');
  expect(reason(8)).toBe(
    `start: ${T} (2024-01-01T00:00:00.000Z) is before the previous row's ${T + M} (2024-01-01T00:01:00.000Z) (rows must be in strictly increasing time order)`,
  );
  expect(reason(9)).toMatch(/^start: \d+ \(2024-01-01T00:01:00.000Z\) is a repeat of the previous row's/);
  expect(reason(11)).toBe('start: "yesterday" is neither epoch milliseconds nor an ISO-8601 time');
  expect(reason(12)).toBe('start: "2024-02-30T00:00:00Z" is neither epoch milliseconds nor an ISO-8601 time');
  expect(reason(13)).toBe(`start: start ${T + 3 * M + 1} is not aligned to timeframe 1m`);
  expect(reason(14)).toBe('expected 6 columns as in the header, got 4');
  expect(reason(16)).toBe('open: "" is not a number (NaN)');
});

test('symbol and timeframe columns; order is checked per stream; a conflict with the given symbol is rejected', () => {
  const csv = [
    'symbol,timeframe,start,open,high,low,close',
    `AAA,1m,${T + M},1,1,1,1`,
    `BBB,1m,${T},2,2,2,2`, // another stream: may start earlier
    `AAA,1m,${T},1,1,1,1`, // out of order within AAA
    `AAA,5m,${T},1,1,1,1`, // another stream again
    `AAA,2m,${T + 10 * M},1,1,1,1`, // no such timeframe
    `,1m,${T + 2 * M},1,1,1,1`, // no symbol at all
  ].join('\r\n');
  const { frames, errors } = parseCandlesCsv(csv);
  expect(frames.map((f) => `${f.symbol}|${f.timeframe}|${f.start}`)).toEqual([`AAA|1m|${T + M}`, `BBB|1m|${T}`, `AAA|5m|${T}`]);
  expect(errors.map((e) => e.line)).toEqual([4, 6, 7]);
  expect(errors[1].reason).toMatch(/^timeframe: Invalid enum value/);
  expect(errors[2].reason).toBe('symbol: missing (empty cell and no symbol given)');

  const pinned = parseCandlesCsv(csv, { symbol: 'AAA' });
  expect(pinned.errors.find((e) => e.line === 3)!.reason).toBe('symbol: "BBB" differs from the symbol given (AAA)');
  expect(pinned.frames.find((f) => f.start === T + 2 * M)?.symbol).toBe('AAA'); // the empty cell takes the given symbol
});

test('ISO-8601 starts: with and without offset, date only, fractional seconds; columns in any order, aliases, quotes', () => {
  expect(parseIsoTime('2024-01-01')).toBe(T);
  expect(parseIsoTime('2024-01-01T00:01Z')).toBe(T + M);
  expect(parseIsoTime('2024-01-01 01:00:00+01:00')).toBe(T);
  expect(parseIsoTime('2023-12-31T19:00:00-0500')).toBe(T);
  expect(parseIsoTime('2024-01-01T00:00:00.250Z')).toBe(T + 250);
  expect(parseIsoTime('2024-01-01T24:00:00Z')).toBeNull();
  expect(parseIsoTime('01/01/2024')).toBeNull();
  const { frames, errors } = parseCandlesCsv(
    ['Close,High,Low,Open,Timestamp,Volume', '"100.5",101,99,100,"2024-01-01T00:00:00Z",3'].join('\n'),
    { symbol: 'X', timeframe: '1m' },
  );
  expect(errors).toEqual([]);
  expect(frames).toEqual([{ symbol: 'X', timeframe: '1m', start: T, open: 100, high: 101, low: 99, close: 100.5, volume: 3 }]);
});

test('a file that cannot be candles is an error naming what is missing', () => {
  expect(() => parseCandlesCsv('')).toThrow(CandleCsvError);
  expect(() => parseCandlesCsv('start,open,high,close\n', { symbol: 'X', timeframe: '1m' })).toThrow(/lacks column\(s\) low/);
  expect(() => parseCandlesCsv('start,open,high,low,close\n', { timeframe: '1m' })).toThrow(/no symbol column: give the symbol/);
  expect(() => parseCandlesCsv('start,open,high,low,close\n', { symbol: 'X' })).toThrow(/no timeframe column: give the timeframe/);
  expect(() => new CandleCsvReader({ timeframe: '2m' as never })).toThrow(/timeframe "2m" is not one of/);
  expect(parseCandlesCsv('start,open,high,low,close\n', { symbol: 'X', timeframe: '1h' })).toEqual({ frames: [], errors: [] });
});
