/**
 * Frames as columns (market/frame.ts FrameColumns): the backtester reads them through one reused frame
 * object and must give exactly what the same frames as objects give, with every order type, the risk
 * engine's protections and a schedule; a system that keeps nothing of its input is safe with it.
 */
import { runBacktest, BacktestInputError } from '../../backtest';
import type { BacktestOptions } from '../../backtest/types';
import { frameColumnsOf, isFrameColumns } from '../../market/frame';
import { generateFrames } from '../../market/synthetic';
import { NO_DECISION, decisionOf, type DecisionInput } from '../../systems/types';

const frames = generateFrames({ symbol: 'COL', timeframe: '1m', count: 6_000, seed: 11 });
const columns = frameColumnsOf(frames);

const cases: [string, Omit<BacktestOptions, 'frames'>][] = [
  ['ma-crossover with stops', { system: 'ma-crossover', params: { fastPeriod: 5, slowPeriod: 20, stopDistancePct: 0.1 } }],
  ['channel-breakout: stop entries, bracket, trailing stop', { system: 'channel-breakout', params: { period: 10, trailingStopPct: 0.05 } }],
  [
    'ma-crossover under protections, limits and a schedule',
    {
      system: 'ma-crossover',
      params: { fastPeriod: 5, slowPeriod: 20, stopDistancePct: 0.05, quantity: 50 },
      risk: { maxOrdersPerMinute: 1 },
      protections: { dailyLoss: { limit: 3 }, maxDrawdown: { pct: 0.01, action: 'reducing' }, stopLossGuard: { maxStops: 2, windowMinutes: 30, cooldownMinutes: 20 }, lossCooldown: { minutes: 7 } },
      schedule: { flattenAt: '21:00', reopenAt: '22:30' },
    },
  ],
];

test.each(cases)('%s: columns give the same result as frame objects', (_name, o) => {
  const fromObjects = runBacktest({ frames, ...o });
  const fromColumns = runBacktest({ frames: columns, ...o });
  expect(fromObjects.trades.length).toBeGreaterThan(0);
  expect(fromColumns).toEqual(fromObjects);
});

test('frameColumnsOf keeps every field and refuses a frame of another stream', () => {
  expect(isFrameColumns(columns)).toBe(true);
  expect(isFrameColumns(frames)).toBe(false);
  expect(columns.symbol).toBe('COL');
  expect(columns.timeframe).toBe('1m');
  const i = 1234;
  expect({ start: columns.start[i], open: columns.open[i], high: columns.high[i], low: columns.low[i], close: columns.close[i], volume: columns.volume[i] }).toEqual({
    start: frames[i].start,
    open: frames[i].open,
    high: frames[i].high,
    low: frames[i].low,
    close: frames[i].close,
    volume: frames[i].volume,
  });
  expect(() => frameColumnsOf([frames[0], { ...frames[1], timeframe: '5m' }])).toThrow(/frames\[1\]: COL 5m is not the stream of frames\[0\] \(COL 1m\)/);
});

test('columns out of order are refused on reaching the bad bar', () => {
  const bad = frameColumnsOf(frames.slice(0, 10));
  bad.start[5] = bad.start[4];
  expect(() => runBacktest({ frames: bad, system: 'ma-crossover' })).toThrow(new BacktestInputError(`frames.start[5]: start ${bad.start[4]} is not after the previous frame's ${bad.start[4]}`));
});

test('the engine lends its output object: a system returning it decides as one returning a new object', () => {
  type S = { n: number };
  const make = (lend: boolean) => ({
    name: 'every-50',
    description: 'buys and sells every 50 frames',
    paramsSchema: { parse: (p: unknown) => p ?? {}, safeParse: (p: unknown) => ({ success: true as const, data: p ?? {} }) } as never,
    initialState: (): S => ({ n: 0 }),
    decide(input: DecisionInput<unknown, S>) {
      const n = input.state.n + 1;
      const decision = n % 50 === 0 ? { action: (n % 100 === 0 ? 'sell' : 'buy') as 'buy' | 'sell', quantity: 1 } : NO_DECISION;
      return lend ? decisionOf(input, decision, { n }) : { decision, state: { n } };
    },
  });
  const lent = runBacktest({ frames: columns, system: make(true) });
  expect(lent.trades.length).toBeGreaterThan(50);
  expect(lent).toEqual(runBacktest({ frames, system: make(false) }));
});
