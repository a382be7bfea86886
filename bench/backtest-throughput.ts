/**
 * Backtest throughput: runBacktest with ma-crossover over generated bars (as FrameColumns, and as frame
 * objects), beside bare typed-array loops
 * over the same closes computing the same two SMAs and their crossovers. Prints its figures; it asserts
 * nothing about time (machines differ), only that the loops found as many crossovers as the engine
 * traded entries, so they did the same work.
 *   npm run bench:backtest [-- --bars 1000000 --runs 3 --fast 10 --slow 30 --compiled]
 * `--compiled`: the same script as an esbuild bundle run by plain node (bench/compiled.ts).
 * For a profile: node --cpu-prof --cpu-prof-dir=.run/prof --import tsx bench/backtest-throughput.ts --runs 1
 */
import { parseArgs } from 'node:util';
import { SMA, getAverage } from 'trading-signals';
import { runBacktest } from '../backtest/engine';
import { maCrossover, type MaCrossoverState } from '../systems/ma-crossover';
import { generateFrames } from '../market/synthetic';
import { frameColumnsOf, type Frame } from '../market/frame';
import { RUNNING_AS, rerunCompiledIfAsked } from './compiled';

rerunCompiledIfAsked(__filename);

const { values: a } = parseArgs({
  options: {
    bars: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '3' },
    fast: { type: 'string', default: '10' },
    slow: { type: 'string', default: '30' },
    compiled: { type: 'boolean', default: false },
  },
});
const BARS = Number(a.bars);
const RUNS = Math.max(1, Number(a.runs));
const FAST = Number(a.fast);
const SLOW = Number(a.slow);

/** Best (least disturbed) and median wall time of `runs` calls, after one warm-up call. */
function time<T>(runs: number, fn: () => T): { best: number; median: number; result: T } {
  let result = fn();
  const ms: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    result = fn();
    ms.push(performance.now() - t0);
  }
  ms.sort((x, y) => x - y);
  return { best: ms[0], median: ms[Math.floor(ms.length / 2)], result };
}

/**
 * The bare loop: O(1) running sums for both SMAs (as an incremental indicator would do), crossovers
 * counted as the system counts them (equal averages keep the previous relation; the first relation
 * after warm-up is not a cross).
 */
function bareRunningSums(closes: Float64Array, fast: number, slow: number): number {
  let sumFast = 0;
  let sumSlow = 0;
  let relation = 0; // 1 above, -1 below, 0 unknown
  let crosses = 0;
  for (let i = 0; i < closes.length; i++) {
    const c = closes[i];
    sumFast += c;
    sumSlow += c;
    if (i >= fast) sumFast -= closes[i - fast];
    if (i >= slow) sumSlow -= closes[i - slow];
    if (i < slow - 1) continue;
    const f = sumFast / fast;
    const s = sumSlow / slow;
    const now = f > s ? 1 : f < s ? -1 : relation;
    if (relation !== 0 && now !== relation) crosses++;
    relation = now;
  }
  return crosses;
}

/** The same, but each average summed afresh over its window every bar (what rebuilding from a window costs, bare). */
function bareWindowed(closes: Float64Array, fast: number, slow: number): number {
  let relation = 0;
  let crosses = 0;
  for (let i = slow - 1; i < closes.length; i++) {
    let sf = 0;
    for (let k = i - fast + 1; k <= i; k++) sf += closes[k];
    let ss = 0;
    for (let k = i - slow + 1; k <= i; k++) ss += closes[k];
    const f = sf / fast;
    const s = ss / slow;
    const now = f > s ? 1 : f < s ? -1 : relation;
    if (relation !== 0 && now !== relation) crosses++;
    relation = now;
  }
  return crosses;
}

/** maCrossover.decide alone, state threaded through, always flat: the system's own cost without the engine. */
function systemAlone(frames: readonly Frame[], fast: number, slow: number): number {
  const params = maCrossover.paramsSchema.parse({ fastPeriod: fast, slowPeriod: slow });
  const portfolio = { position: null, realisedPnl: 0 };
  let state: MaCrossoverState = maCrossover.initialState(params);
  let signals = 0;
  for (const frame of frames) {
    const out = maCrossover.decide({ frame, portfolio, params, state });
    state = out.state;
    if (out.decision.action !== 'none') signals++;
  }
  return signals;
}

/**
 * The previous ma-crossover, bare: a new closes window each bar and each average taken with
 * trading-signals' `getAverage` over the window's tail (what `decide` did before the running averages).
 */
function oldSystemBare(closes: Float64Array, fast: number, slow: number): number {
  let window: number[] = [];
  let relation = 0;
  let crosses = 0;
  for (let i = 0; i < closes.length; i++) {
    window = [...window, closes[i]].slice(-slow);
    if (window.length < slow) continue;
    const f = getAverage(window.slice(-fast));
    const s = getAverage(window);
    const now = f > s ? 1 : f < s ? -1 : relation;
    if (relation !== 0 && now !== relation) crosses++;
    relation = now;
  }
  return crosses;
}

/** What-if B: two trading-signals SMA objects kept across bars and fed one close each (an incremental system). */
function whatIfIncrementalSma(closes: Float64Array, fast: number, slow: number): number {
  const f = new SMA(fast);
  const s = new SMA(slow);
  let relation = 0;
  let crosses = 0;
  for (let i = 0; i < closes.length; i++) {
    f.add(closes[i]);
    s.add(closes[i]);
    if (!s.isStable) continue;
    const fv = f.getResult()!;
    const sv = s.getResult()!;
    const now = fv > sv ? 1 : fv < sv ? -1 : relation;
    if (relation !== 0 && now !== relation) crosses++;
    relation = now;
  }
  return crosses;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const ns = (ms: number) => ((ms * 1e6) / BARS).toFixed(1);

function main(): void {
  process.stdout.write(`backtest throughput: ${fmt(BARS)} bars, ma-crossover sma ${FAST}/${SLOW}, best and median of ${RUNS} run(s) after a warm-up\n`);
  process.stdout.write(`node ${process.version}, ${process.arch}, ${RUNNING_AS}\n\n`);

  let t0 = performance.now();
  const frames: Frame[] = generateFrames({ symbol: 'BENCH', timeframe: '1m', count: BARS, seed: 1 });
  process.stdout.write(`generateFrames: ${fmt(performance.now() - t0)} ms\n`);
  t0 = performance.now();
  const closes = Float64Array.from(frames, (f) => f.close);
  process.stdout.write(`closes → Float64Array: ${fmt(performance.now() - t0)} ms\n`);
  t0 = performance.now();
  const columns = frameColumnsOf(frames);
  process.stdout.write(`frames → FrameColumns: ${fmt(performance.now() - t0)} ms\n\n`);

  const params = { fastPeriod: FAST, slowPeriod: SLOW, stopDistancePct: 1 };
  // The bars as columns (one reused frame object), as a long backtest is meant to run; then as a million frame objects.
  const engine = time(RUNS, () => runBacktest({ frames: columns, system: 'ma-crossover', params }));
  const objects = time(RUNS, () => runBacktest({ frames, system: 'ma-crossover', params }));
  // The engine's floor: the same bars with a system that never trades (the scripted system, no steps).
  const idle = time(RUNS, () => runBacktest({ frames: columns, system: 'scripted', params: { script: [] } }));
  const sums = time(RUNS, () => bareRunningSums(closes, FAST, SLOW));
  const windowed = time(RUNS, () => bareWindowed(closes, FAST, SLOW));
  const alone = time(RUNS, () => systemAlone(frames, FAST, SLOW));
  const avg = time(RUNS, () => oldSystemBare(closes, FAST, SLOW));
  const incremental = time(RUNS, () => whatIfIncrementalSma(closes, FAST, SLOW));

  const entries = engine.result.orders.filter((o) => o.kind === 'entry').length;
  const sameTrades = JSON.stringify(objects.result.trades) === JSON.stringify(engine.result.trades);
  const rows: [string, number, number][] = [
    ['runBacktest (engine + system)', engine.best, engine.median],
    ['  same, frames as objects', objects.best, objects.median],
    ['runBacktest, idle system', idle.best, idle.median],
    ['bare loop, running sums', sums.best, sums.median],
    ['bare loop, windowed sums', windowed.best, windowed.median],
    ['maCrossover.decide alone', alone.best, alone.median],
    ['old system: window rebuild', avg.best, avg.median],
    ['what-if B: SMA kept across bars', incremental.best, incremental.median],
  ];
  process.stdout.write(`${'loop'.padEnd(32)}${'best ms'.padStart(10)}${'median ms'.padStart(11)}${'bars/s (best)'.padStart(16)}${'ns/bar'.padStart(9)}${'× bare'.padStart(10)}\n`);
  for (const [name, best, median] of rows) {
    process.stdout.write(
      `${name.padEnd(32)}${fmt(best).padStart(10)}${fmt(median).padStart(11)}${fmt(BARS / (best / 1000)).padStart(16)}${ns(best).padStart(9)}${(best / sums.best).toFixed(1).padStart(10)}\n`,
    );
  }
  process.stdout.write(
    `\ncrossovers: running sums ${fmt(sums.result)}, windowed ${fmt(windowed.result)}, decide alone ${fmt(alone.result)}, ` +
      `old system ${fmt(avg.result)}, what-if B ${fmt(incremental.result)}; engine entries ${fmt(entries)}, trades ${fmt(engine.result.trades.length)}, orders ${fmt(engine.result.orders.length)}\n`,
  );
  process.stdout.write(
    `ratio, time per bar: runBacktest / bare running-sum loop = ${(engine.best / sums.best).toFixed(1)}× (frame columns; ${(objects.best / sums.best).toFixed(1)}× with frame objects; same trades: ${sameTrades ? 'yes' : 'NO'})\n`,
  );
  process.stdout.write(
    `share of runBacktest spent in the system (decide alone / runBacktest): ${((100 * alone.best) / engine.best).toFixed(0)} %; ` +
      `engine's own cost ≈ ${ns(engine.best - alone.best)} ns/bar; with an idle system ${ns(idle.best)} ns/bar = ${(idle.best / sums.best).toFixed(1)}× bare\n`,
  );
  const heap = process.memoryUsage();
  process.stdout.write(`memory: heap used ${fmt(heap.heapUsed / 2 ** 20)} MiB, rss ${fmt(heap.rss / 2 ** 20)} MiB\n`);
  const counts = [windowed.result, alone.result, avg.result, incremental.result];
  if (!sameTrades || counts.some((c) => c !== sums.result) || Math.abs(sums.result - entries) > Math.max(2, sums.result * 1e-4)) {
    process.stdout.write('WARNING: the loops and the engine disagree on the number of crossovers\n');
    process.exitCode = 1;
  }
}

main();
