/** runBacktest's contract beyond parity: inputs it refuses, progress, starting balance, ids, purity. */
import { runBacktest, BacktestInputError, equityPoints } from '../../backtest';
import { InvalidSystemParamsError, UnknownSystemError } from '../../systems/registry';
import { generateFrames } from '../../market/synthetic';

const frames = generateFrames({ symbol: 'ENG', count: 600, seed: 8, trendCycle: 0 });
const PARAMS = { fastPeriod: 2, slowPeriod: 5, stopDistancePct: 0.3 };

test('unknown systems and invalid parameters are refused with the registry errors', () => {
  expect(() => runBacktest({ frames, system: 'nope' })).toThrow(UnknownSystemError);
  expect(() => runBacktest({ frames, system: 'ma-crossover', params: { fastPeriod: 9, slowPeriod: 4 } })).toThrow(InvalidSystemParamsError);
  expect(() => runBacktest({ frames, system: 'ma-crossover', paper: { spreadBps: -1 } })).toThrow(/spreadBps/);
});

test('frames must be one stream in strictly increasing order', () => {
  const swapped = [frames[0], frames[2], frames[1], ...frames.slice(3)];
  expect(() => runBacktest({ frames: swapped, system: 'ma-crossover' })).toThrow(new BacktestInputError('frames[2]: start 1704067260000 is not after the previous frame\'s 1704067320000'));
  const mixed = [...frames.slice(0, 3), { ...frames[3], symbol: 'OTHER' }];
  expect(() => runBacktest({ frames: mixed, system: 'ma-crossover' })).toThrow(/frames\[3\]: OTHER 1m is not the stream of frames\[0\] \(ENG 1m\)/);
});

test('no frames: no trades, empty curve, starting equity', () => {
  const r = runBacktest({ frames: [], system: 'ma-crossover' });
  expect(r.trades).toEqual([]);
  expect(equityPoints(r.equityCurve)).toEqual([]);
  expect(r.stats.endEquity).toBe(100_000);
  expect(r.stats.bars).toBe(0);
});

test('progress is reported every N bars and at the end', () => {
  const calls: [number, number][] = [];
  runBacktest({ frames, system: 'ma-crossover', params: PARAMS, progressEveryBars: 250, onProgress: (d, t) => calls.push([d, t]) });
  expect(calls).toEqual([
    [250, 600],
    [500, 600],
    [600, 600],
  ]);
});

test('starting balance, account and system ids are the caller\'s; parameters come back with defaults', () => {
  const r = runBacktest({ frames, system: 'ma-crossover', params: PARAMS, startingBalance: 5_000, account: 'acme', systemId: 'fast' });
  expect(r.params).toEqual({ ...PARAMS, quantity: 1, allowShort: true, maType: 'sma' });
  expect(r.trades.length).toBeGreaterThan(10);
  expect(r.trades[0]).toMatchObject({ positionRef: 'acme-000001', systemId: 'fast', symbol: 'ENG' });
  expect(r.stats.startingBalance).toBe(5_000);
  expect(r.stats.endEquity).toBeCloseTo(5_000 + r.stats.netPnl + r.stats.openPnl, 8);
  expect(r.orders.every((o) => o.systemId === 'fast')).toBe(true);
});

test('pure: the same input gives the same result, and the input frames are untouched', () => {
  const copy = structuredClone(frames);
  const a = runBacktest({ frames, system: 'ma-crossover', params: PARAMS });
  const b = runBacktest({ frames, system: 'ma-crossover', params: PARAMS });
  expect(b).toEqual(a);
  expect(frames).toEqual(copy);
});

test('spread and slippage cost money: the same signals fill worse on a wider venue', () => {
  const tight = runBacktest({ frames, system: 'ma-crossover', params: PARAMS, paper: { spreadBps: 0, slippageBps: 0 } });
  const wide = runBacktest({ frames, system: 'ma-crossover', params: PARAMS, paper: { spreadBps: 10, slippageBps: 5 } });
  // Stops sit at a distance from the signal bar's close, not from the fill: the same orders happen on the same bars.
  const when = (r: typeof tight) => r.orders.map((o) => [o.frameIndex, o.side, o.kind]);
  expect(when(wide)).toEqual(when(tight));
  expect(wide.orders.filter((o) => o.kind === 'entry' && o.side === 'buy').every((o, i) => o.fillPrice! > tight.orders.filter((t) => t.kind === 'entry' && t.side === 'buy')[i].fillPrice!)).toBe(true);
  expect(wide.stats.netPnl).toBeLessThan(tight.stats.netPnl);
});
