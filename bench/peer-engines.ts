/**
 * Peer engines: the same MA-crossover strategy on the same CSV of generated 1-minute bars, run by
 * MAOTrade's `runBacktest`, backtrader, NautilusTrader (BacktestEngine with bars) and vectorbt (vectorised,
 * Portfolio.from_signals, with its numba kernels and with the vectorbt-rust engine). Prints bars/s of
 * each (median of the runs, after a warm-up run for MAOTrade), the ratios, and a trade-count and
 * final-equity check proving the three ran the same strategy. It asserts nothing about time; it exits 1
 * when the engines disagree on the strategy.
 *
 * Strategy: SMA fast 10 / slow 30, quantity 1, entry at the close of the crossing bar, reversal on the
 * opposite cross, zero spread / slippage / fees. WITHOUT stops: neither peer reproduces the paper
 * venue's protective stop (checked on later bars, filled at the stop or at the open when gapped through)
 * without rebuilding it by hand, so MAOTrade runs with stopDistancePct 49.99 (its maximum) and the check
 * requires that no stop was hit.
 *
 *   npm run bench:peers [-- --bars 200000 --runs 3 --compiled]
 *   (`--compiled`: MAOTrade's side as an esbuild bundle run by plain node, bench/compiled.ts)
 *   (needs the venvs of bench/setup-python.sh: .bench-venv for backtrader and NautilusTrader, .bench-venv/vbt for
 *   vectorbt and vectorbt-rust, apart because vectorbt 1.2 needs pandas 3 and NautilusTrader 1.221 pandas < 3)
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parseCandlesCsv } from '../backtest/csv';
import { runBacktest } from '../backtest/engine';
import { frameColumnsOf } from '../market/frame';
import { generateFrames, toCsv } from '../market/synthetic';
import { BENCH_ROOT, COMPILED, rerunCompiledIfAsked } from './compiled';

rerunCompiledIfAsked(__filename);

const { values: a } = parseArgs({
  options: {
    bars: { type: 'string', default: '200000' },
    runs: { type: 'string', default: '3' },
    fast: { type: 'string', default: '10' },
    slow: { type: 'string', default: '30' },
    seed: { type: 'string', default: '1' },
    python: { type: 'string', default: path.join(BENCH_ROOT, '.bench-venv', 'bin', 'python') },
    'vbt-python': { type: 'string', default: path.join(BENCH_ROOT, '.bench-venv', 'vbt', 'bin', 'python') },
    compiled: { type: 'boolean', default: false },
  },
});
const BARS = Number(a.bars);
const RUNS = Math.max(1, Number(a.runs));
const FAST = Number(a.fast);
const SLOW = Number(a.slow);
const CASH = 100_000;
const ROOT = BENCH_ROOT;

interface EngineResult {
  engine: string;
  version: string;
  bars: number;
  runs_s: number[];
  trades: number;
  orders: number;
  realised: number;
  open_position: number;
  final_equity: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

function maotrade(csvPath: string): EngineResult {
  const { frames, errors } = parseCandlesCsv(fs.readFileSync(csvPath, 'utf8'));
  if (errors.length) throw new Error(`CSV rejected rows: ${JSON.stringify(errors.slice(0, 3))}`);
  // The bars as columns, as the peers hold them (pandas/numpy arrays); converting is part of loading, untimed like theirs.
  const opts = {
    frames: frameColumnsOf(frames),
    system: 'ma-crossover',
    params: { fastPeriod: FAST, slowPeriod: SLOW, quantity: 1, stopDistancePct: 49.99 },
    paper: { spreadBps: 0, slippageBps: 0 },
    startingBalance: CASH,
  };
  let r = runBacktest(opts); // warm-up (JIT)
  const runs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    r = runBacktest(opts);
    runs.push((performance.now() - t0) / 1000);
  }
  const stops = r.trades.filter((t) => t.exitReason === 'stop').length;
  if (stops > 0) throw new Error(`${stops} stop exits: the comparison must run without stops`);
  return {
    engine: COMPILED ? 'maotrade (compiled)' : 'maotrade runBacktest',
    version: process.version,
    bars: frames.length,
    runs_s: runs,
    trades: r.trades.length,
    orders: r.orders.length,
    realised: r.stats.netPnl ?? r.trades.reduce((s, t) => s + t.pnl, 0),
    open_position: r.openPosition ? (r.openPosition.side === 'long' ? 1 : -1) * r.openPosition.quantity : 0,
    final_equity: r.stats.endEquity,
  };
}

function python(script: string, csvPath: string, interpreter = a.python!, extra: string[] = []): EngineResult {
  const out = execFileSync(
    interpreter,
    [path.join(ROOT, 'bench', 'python', script), csvPath, '--fast', String(FAST), '--slow', String(SLOW), '--runs', String(RUNS), '--cash', String(CASH), ...extra],
    { encoding: 'utf8', maxBuffer: 64 * 2 ** 20, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const last = out.trim().split('\n').pop()!;
  const r = JSON.parse(last) as EngineResult;
  r.engine = `${r.engine} ${r.version}`;
  return r;
}

function main(): void {
  process.stdout.write(`peer engines: ${fmt(BARS)} 1-minute bars, ma-crossover SMA ${FAST}/${SLOW}, quantity 1, no stops, zero costs; median of ${RUNS} run(s) per engine\n`);
  process.stdout.write(`command: npm run bench:peers -- --bars ${BARS} --runs ${RUNS}\n`);
  const dir = path.join(ROOT, '.run', 'bench');
  fs.mkdirSync(dir, { recursive: true });
  const csvPath = path.join(dir, `peer-bars-${BARS}-seed${a.seed}.csv`);
  fs.writeFileSync(csvPath, toCsv(generateFrames({ symbol: 'BENCH', timeframe: '1m', count: BARS, seed: Number(a.seed) })));
  process.stdout.write(`bars: ${csvPath}\n\n`);

  const vbtPython = a['vbt-python']!;
  const results = [
    maotrade(csvPath),
    python('backtrader_ma.py', csvPath),
    python('nautilus_ma.py', csvPath),
    python('vectorbt_ma.py', csvPath, vbtPython, ['--engine', 'numba']),
    python('vectorbt_ma.py', csvPath, vbtPython, ['--engine', 'rust']),
  ];
  const [mao, ...peers] = results;
  process.stdout.write(`${'engine'.padEnd(28)}${'median s'.padStart(10)}${'runs s'.padStart(26)}${'bars/s'.padStart(14)}${'trades'.padStart(8)}${'orders'.padStart(8)}${'final equity'.padStart(16)}\n`);
  for (const r of results) {
    const m = median(r.runs_s);
    process.stdout.write(
      `${r.engine.padEnd(28)}${m.toFixed(3).padStart(10)}${r.runs_s.map((x) => x.toFixed(3)).join(' ').padStart(26)}${fmt(r.bars / m).padStart(14)}` +
        `${String(r.trades).padStart(8)}${String(r.orders).padStart(8)}${r.final_equity.toFixed(4).padStart(16)}\n`,
    );
  }
  const speed = (r: EngineResult) => r.bars / median(r.runs_s);
  // Targets of the earlier issues where there is one (backtrader ≥ 500×, Nautilus ≥ 100×); vectorbt: printed only.
  const targets: Record<string, number> = { backtrader: 500, nautilus: 100 };
  process.stdout.write('\n');
  for (const r of peers) {
    const ratio = speed(mao) / speed(r);
    const key = Object.keys(targets).find((k) => r.engine.toLowerCase().startsWith(k));
    const verdict = key ? ` (target ≥ ${targets[key]}×: ${ratio >= targets[key] ? 'met' : 'MISSED'})` : '';
    process.stdout.write(`MAOTrade / ${r.engine}: `.padEnd(44) + `${ratio.toFixed(1)}×${verdict}\n`);
  }
  process.stdout.write('(orders differ by design: MAOTrade sends a reversal as close + open, the peers as one order of 2 × quantity)\n\n');

  // Same strategy? Equal trade counts and open position; final equity within rounding: backtrader and
  // vectorbt keep floats, Nautilus books each position's realised P&L in USD Money (cents), so it may differ
  // by up to half a cent per closed trade.
  let ok = true;
  for (const r of peers) {
    const cents = r.engine.toLowerCase().startsWith('nautilus');
    const tol = cents ? 0.005 * (r.trades + 1) + 1e-6 : 1e-6 * CASH;
    const dEq = Math.abs(r.final_equity - mao.final_equity);
    const same = r.trades === mao.trades && r.open_position === mao.open_position && dEq <= tol;
    ok &&= same;
    process.stdout.write(
      `check ${r.engine}: trades ${r.trades} vs ${mao.trades}, open position ${r.open_position} vs ${mao.open_position}, ` +
        `final equity differs by ${dEq.toFixed(4)} (tolerance ${tol.toFixed(4)}): ${same ? 'SAME STRATEGY' : 'MISMATCH'}\n`,
    );
  }
  if (!ok) process.exitCode = 1;
}

main();
