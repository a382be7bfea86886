/** backtest/chart.ts: the chart files are written, and hold one point per bar (or the asserted thinned count). */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeEquityReport, chartPoints } from '../../backtest/chart';
import { minMaxIndices } from '../../backtest/downsample';
import { runBacktest } from '../../backtest/engine';
import { generateFrames } from '../../market/synthetic';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mt-chart-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Points of the equity line in the SVG: Vega draws it as one path of M/L commands, one per point. */
function equityLinePoints(svg: string): number {
  const at = svg.indexOf('concat_0_layer_0_marks');
  expect(at).toBeGreaterThan(0);
  const d = /<path[^>]* d="([^"]*)"/.exec(svg.slice(at))![1];
  return (d.match(/[ML]/g) ?? []).length;
}

const run = (count: number) =>
  runBacktest({ frames: generateFrames({ symbol: 'CHT', count, seed: 6 }), system: 'ma-crossover', params: { fastPeriod: 5, slowPeriod: 20, stopDistancePct: 0.4 } });

test('a short run is drawn with one point per bar, as a self-contained HTML page', async () => {
  const r = run(700);
  const file = path.join(dir, 'report.html');
  const out = await writeEquityReport(file, { equityCurve: r.equityCurve, stats: r.stats, title: 'ma-crossover <CHT>' });
  expect(out).toEqual({ file, format: 'html', points: 700, bars: 700 });
  const html = await readFile(file, 'utf8');
  expect(html).toMatch(/^<!doctype html>/);
  expect(html).toContain('<title>ma-crossover &lt;CHT&gt;</title>');
  expect(html).toContain('data-points="700" data-bars="700"');
  expect(html).toContain('700 points, one per bar');
  expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/); // no script, nothing fetched: opens offline
  expect(html).toContain('<th>max drawdown</th>');
  expect(equityLinePoints(html)).toBe(700);
});

test('a long run is thinned to 2⌊max/2⌋ points that keep every run\'s low and high, as SVG', async () => {
  const r = run(20_000);
  const file = path.join(dir, 'chart.svg');
  const out = await writeEquityReport(file, { equityCurve: r.equityCurve, stats: r.stats, maxPoints: 1001 });
  expect(out).toEqual({ file, format: 'svg', points: 1000, bars: 20_000 });
  const svg = await readFile(file, 'utf8');
  expect(svg).toMatch(/^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  expect(equityLinePoints(svg)).toBe(1000);
  // The lowest and the highest equity of the whole run are among the points drawn.
  const drawn = chartPoints(r.equityCurve, r.stats.startingBalance, 1001).map((p) => p.equity);
  const all = Array.from(r.equityCurve.equity);
  expect(Math.min(...drawn)).toBe(Math.min(...all));
  expect(Math.max(...drawn)).toBe(Math.max(...all));
  // The deepest drawdown drawn is the run's own.
  const dd = Math.min(...chartPoints(r.equityCurve, r.stats.startingBalance, 1001).map((p) => p.drawdownPct));
  expect(-dd).toBeCloseTo(r.stats.maxDrawdownPct, 9);
});

test('thinning: time order kept, both extremes of each run, exact count', () => {
  const curve = [5, 1, 9, 3, 3, 3, 7, 2, 8, 4];
  expect(minMaxIndices(curve, 10)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  expect(minMaxIndices(curve, 11)).toHaveLength(10);
  // 4 runs: [5,1] [9,3,3] [3,7] [2,8,4] → the low and the high of each, in time order.
  expect(minMaxIndices(curve, 9)).toEqual([0, 1, 2, 3, 5, 6, 7, 8]);
  expect(minMaxIndices(curve, 4)).toEqual([1, 2, 7, 8]); // runs [5,1,9,3,3] and [3,7,2,8,4]
  // A flat run still gives two points (its first and its last), so the count is exact.
  expect(minMaxIndices([3, 3, 3, 3], 2)).toEqual([0, 3]);
  expect(() => minMaxIndices(curve, 1)).toThrow(RangeError);
});
