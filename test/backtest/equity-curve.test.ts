/** backtest/equity-curve.ts: the column curve and its points convert both ways, in order. */
import { downsampleMinMax } from '../../backtest/downsample';
import { equityCurveOf, equityPoints } from '../../backtest/equity-curve';

const points = [
  { ts: 60_000, equity: 1000 },
  { ts: 120_000, equity: 998.5 },
  { ts: 180_000, equity: 1003.25 },
  { ts: 240_000, equity: 1001 },
];

test('points → columns → the same points', () => {
  const curve = equityCurveOf(points);
  expect(curve.ts).toBeInstanceOf(Float64Array);
  expect(Array.from(curve.ts)).toEqual([60_000, 120_000, 180_000, 240_000]);
  expect(Array.from(curve.equity)).toEqual([1000, 998.5, 1003.25, 1001]);
  expect(equityPoints(curve)).toEqual(points);
  expect(equityPoints(equityCurveOf([]))).toEqual([]);
});

test('downsampleMinMax returns the kept points with their own ts', () => {
  // One run of four bars: its lowest (998.5 at 120,000) and its highest (1003.25 at 180,000).
  expect(downsampleMinMax(equityCurveOf(points), 2)).toEqual([points[1], points[2]]);
});
