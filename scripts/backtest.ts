/**
 * Backtests a trading system on candles from a CSV file or from maodata, prints the stats and writes
 * the equity chart.
 *   npm run backtest -- --csv candles.csv [--symbol S --timeframe 1m] [--system ma-crossover]
 *       [--params '{"fastPeriod":5}'] [--out report.html|chart.svg]
 *   npm run backtest -- --symbol EURUSD --timeframe 1m --from 2024-01-01 --to 2024-02-01 ...
 * --json prints one JSON document (run, params, stats, diagnostics, every trade, the chart written)
 * instead of the text and tables. Tables are coloured only on a terminal without NO_COLOR; a progress
 * bar (stderr, terminal only) shows on long runs.
 * Fill model: --spread-bps, --slippage-bps (paper venue defaults otherwise); --balance sets the start.
 * Exit codes: 0 done, 2 bad input (arguments, file, parameters, no frames).
 */
import fs from 'node:fs';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { plainStyle } from '../cli/settings';
import { progressBar } from '../cli/terminal';
import { loadConfigOrExit } from '../config/env';
import { createPool } from '../db/pool';
import { MarketDataStore } from '../db/market-data-store';
import { TimeframeSchema, type Timeframe } from '../market/timeframe';
import type { Frame } from '../market/frame';
import type { PaperConfig } from '../brokers/paper/config';
import { InvalidSystemParamsError, UnknownSystemError, validateParams } from '../systems/registry';
import { runBacktest, BacktestInputError } from '../backtest/engine';
import { parseCandlesCsv, parseTime, CandleCsvError, type CsvRowError } from '../backtest/csv';
import { statsRows } from '../backtest/report';
import { writeEquityReport } from '../backtest/chart';

const USAGE = `usage: backtest (--csv FILE | --symbol S --timeframe TF [--from T] [--to T]) [--system NAME] [--params JSON]
                [--out report.html|chart.svg] [--trades trades.csv] [--spread-bps N] [--slippage-bps N] [--balance N] [--max-points N] [--json]
  T is epoch milliseconds or ISO-8601 (UTC unless it has an offset).`;

const utc = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');

/** Bad input: printed with the usage, exit code 2. */
class UsageError extends Error {}

function numberArg(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name}: expected a number, got ${JSON.stringify(v)}`);
  return n;
}

function timeArg(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const t = parseTime(v);
  if (t === null) throw new UsageError(`--${name}: expected epoch ms or an ISO-8601 time, got ${JSON.stringify(v)}`);
  return t;
}

function printRejected(errors: CsvRowError[], shown = 10): void {
  if (!errors.length) return;
  process.stderr.write(`${errors.length} line(s) rejected:\n`);
  for (const e of errors.slice(0, shown)) process.stderr.write(`  line ${e.line}: ${e.reason}\n`);
  if (errors.length > shown) process.stderr.write(`  … and ${errors.length - shown} more\n`);
}

async function loadFrames(a: { csv?: string; symbol?: string; timeframe?: string; from?: string; to?: string }): Promise<Frame[]> {
  const timeframe = a.timeframe as Timeframe | undefined;
  if (timeframe !== undefined && !TimeframeSchema.safeParse(timeframe).success) {
    throw new UsageError(`--timeframe: expected one of ${TimeframeSchema.options.join(', ')}, got ${JSON.stringify(timeframe)}`);
  }
  const from = timeArg('from', a.from);
  const to = timeArg('to', a.to);
  if (a.csv) {
    const { frames, errors } = parseCandlesCsv(await readFile(a.csv, 'utf8'), { symbol: a.symbol, timeframe });
    printRejected(errors);
    const inRange = frames.filter((f) => (from === undefined || f.start >= from) && (to === undefined || f.start <= to));
    const streams = new Set(inRange.map((f) => `${f.symbol} ${f.timeframe}`));
    if (streams.size > 1) throw new UsageError(`${a.csv} holds ${streams.size} streams (${[...streams].slice(0, 5).join(', ')}): give --symbol and --timeframe`);
    return inRange;
  }
  if (!a.symbol || !timeframe) throw new UsageError('give --csv FILE, or --symbol and --timeframe to read maodata');
  const cfg = loadConfigOrExit();
  const pool = createPool(cfg.mysqlUrl);
  try {
    const { frames, invalid } = await new MarketDataStore(pool).loadCandles({
      symbol: a.symbol,
      timeframe,
      fromStart: from ?? 0,
      toStart: to ?? Number.MAX_SAFE_INTEGER,
    });
    if (invalid.length) process.stderr.write(`${invalid.length} stored candle(s) failed validation and were skipped (first: ${invalid[0].start}: ${invalid[0].reason})\n`);
    return frames;
  } finally {
    await pool.end();
  }
}

async function main(): Promise<void> {
  const { values: a } = parseArgs({
    options: {
      csv: { type: 'string' },
      symbol: { type: 'string' },
      timeframe: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      system: { type: 'string', default: 'ma-crossover' },
      params: { type: 'string' },
      out: { type: 'string', default: 'backtest-report.html' },
      trades: { type: 'string' },
      'spread-bps': { type: 'string' },
      'slippage-bps': { type: 'string' },
      balance: { type: 'string' },
      'max-points': { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (a.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  let params: unknown;
  if (a.params !== undefined) {
    try {
      params = JSON.parse(a.params);
    } catch (err) {
      throw new UsageError(`--params: not JSON (${(err as Error).message})`);
    }
  }
  // System and parameters are checked before any data is read.
  validateParams(a.system!, params);
  const paper: Partial<PaperConfig> = {};
  const spread = numberArg('spread-bps', a['spread-bps']);
  const slippage = numberArg('slippage-bps', a['slippage-bps']);
  if (spread !== undefined) paper.spreadBps = spread;
  if (slippage !== undefined) paper.slippageBps = slippage;
  const startingBalance = numberArg('balance', a.balance);
  const maxPoints = numberArg('max-points', a['max-points']);

  const frames = await loadFrames(a);
  if (!frames.length) {
    const where = a.csv ? a.csv : `maodata for ${a.symbol} ${a.timeframe}`;
    throw new UsageError(`no frames to backtest in ${where}${a.from || a.to ? ` between ${a.from ?? 'the start'} and ${a.to ?? 'the end'}` : ''}`);
  }
  const first = frames[0];
  const last = frames[frames.length - 1];
  const json = a.json === true;
  // With --json, stdout carries the one document only.
  const say = (text: string) => {
    if (!json) process.stdout.write(text);
  };
  say(
    `${a.system} on ${first.symbol} ${first.timeframe}: ${frames.length.toLocaleString('en-US')} bars, ` +
      `${new Date(first.start).toISOString()} → ${new Date(last.start).toISOString()}\n`,
  );

  const bar = frames.length >= 100_000 ? progressBar('  backtest [{bar}] {percentage}% {value}/{total} bars  {eta_formatted}') : null;
  bar?.start(frames.length, 0);
  const t0 = performance.now();
  const result = runBacktest({
    frames,
    system: a.system!,
    params,
    paper,
    startingBalance,
    onProgress: bar ? (done) => bar.update(done) : undefined,
    progressEveryBars: 20_000,
  });
  const ms = performance.now() - t0;
  bar?.stop();

  say(`params ${JSON.stringify(result.params)}\n`);
  const table = new Table({ style: plainStyle(), head: ['statistic', 'value'] });
  for (const row of statsRows(result.stats)) table.push(row);
  say(`${table.toString()}\n`);
  const d = result.diagnostics;
  if (d.systemErrors || d.invalidDecisions || d.rejectedOrders) {
    say(`diagnostics: ${d.systemErrors} system error(s), ${d.invalidDecisions} invalid decision(s), ${d.rejectedOrders} rejected order(s)\n`);
  }
  // The trade list: the last few here, all of them as CSV with --trades.
  const recent = new Table({ style: plainStyle(), head: ['closed (UTC)', 'side', 'qty', 'entry', 'exit', 'P&L', 'exit reason'] });
  for (const t of result.trades.slice(-10)) recent.push([utc(t.closedAt), t.side, t.quantity, t.entryPrice, t.exitPrice, t.pnl.toFixed(2), t.exitReason]);
  say(`last ${Math.min(10, result.trades.length)} of ${result.trades.length} trades:\n${recent.toString()}\n`);
  if (a.trades) {
    const header = 'position_ref,side,quantity,entry_price,exit_price,pnl,opened_at,closed_at,exit_reason';
    const rows = result.trades.map((t) => [t.positionRef, t.side, t.quantity, t.entryPrice, t.exitPrice, t.pnl, new Date(t.openedAt).toISOString(), new Date(t.closedAt).toISOString(), t.exitReason].join(','));
    fs.writeFileSync(a.trades, `${header}\n${rows.join('\n')}\n`);
    say(`trades: ${a.trades} (${result.trades.length} rows)\n`);
  }
  say(`ran in ${ms.toFixed(0)} ms (${Math.round(frames.length / (ms / 1000)).toLocaleString('en-US')} bars/s)\n`);

  const written = await writeEquityReport(a.out!, {
    equityCurve: result.equityCurve,
    stats: result.stats,
    title: `${a.system} — ${first.symbol} ${first.timeframe}`,
    subtitle: [`${utc(first.start)} → ${utc(last.start)} UTC, ${frames.length.toLocaleString('en-US')} bars`, `params ${JSON.stringify(result.params)}`],
    maxPoints,
  });
  say(`chart: ${written.file} (${written.format}, ${written.points.toLocaleString('en-US')} points of ${written.bars.toLocaleString('en-US')} bars)\n`);
  if (json) {
    const doc = {
      system: a.system,
      symbol: first.symbol,
      timeframe: first.timeframe,
      bars: frames.length,
      from: new Date(first.start).toISOString(),
      to: new Date(last.start).toISOString(),
      params: result.params,
      stats: result.stats,
      diagnostics: result.diagnostics,
      trades: result.trades,
      ...(a.trades ? { tradesFile: a.trades } : {}),
      chart: written,
      ms: Math.round(ms),
    };
    process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
  }
}

main().catch((err) => {
  const input =
    err instanceof UsageError ||
    err instanceof CandleCsvError ||
    err instanceof BacktestInputError ||
    err instanceof UnknownSystemError ||
    err instanceof InvalidSystemParamsError ||
    (err as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ||
    (err as { code?: string }).code === 'ENOENT';
  process.stderr.write(`backtest: ${input ? (err as Error).message : ((err as Error)?.stack ?? err)}\n`);
  if (err instanceof UsageError) process.stderr.write(`${USAGE}\n`);
  process.exit(input ? 2 : 1);
});
