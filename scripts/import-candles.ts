/**
 * Imports candles from a CSV file into `maodata.candles` (idempotent upserts keyed by symbol,
 * timeframe and start), streaming the file with a progress bar, then prints a summary of the lines
 * rejected by validation (line number and reason).
 *   npm run import-candles -- candles.csv --symbol EURUSD --timeframe 1m [--batch 5000] [--rejects rejects.tsv] [--json]
 * --json prints the summary as one JSON document (the progress bar is drawn on a terminal's stderr only).
 * The CSV format is described in backtest/csv.ts. MYSQL_URL as for every MAOTrade process.
 * Exit codes: 0 imported (even with rejected lines), 2 bad input (arguments, header, no good row).
 */
import { createReadStream } from 'node:fs';
import { stat, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { progressBar } from '../cli/terminal';
import { loadConfigOrExit } from '../config/env';
import { createPool } from '../db/pool';
import { migrateShared } from '../db/migrate';
import { MarketDataStore } from '../db/market-data-store';
import type { Frame } from '../market/frame';
import type { Timeframe } from '../market/timeframe';
import { CandleCsvReader, CandleCsvError } from '../backtest/csv';

const USAGE = 'usage: import-candles <file.csv> [--symbol S] [--timeframe 1m] [--batch 5000] [--rejects FILE] [--json]';

class UsageError extends Error {}

async function main(): Promise<void> {
  const { values: a, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      symbol: { type: 'string' },
      timeframe: { type: 'string' },
      batch: { type: 'string', default: '5000' },
      rejects: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (a.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (positionals.length !== 1) throw new UsageError('give exactly one CSV file');
  const file = positionals[0];
  const batchSize = Number(a.batch);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new UsageError(`--batch: expected a positive integer, got ${JSON.stringify(a.batch)}`);
  const size = (await stat(file)).size;
  const reader = new CandleCsvReader({ symbol: a.symbol, timeframe: a.timeframe as Timeframe | undefined });
  const stream = createReadStream(file);
  const lines = createInterface({ input: stream, crlfDelay: Infinity })[Symbol.asyncIterator]();
  // The header is read and checked before anything touches the database.
  for (let r = await lines.next(); !r.done; r = await lines.next()) {
    reader.push(r.value);
    if (reader.hasHeader) break;
  }
  reader.end();

  const cfg = loadConfigOrExit();
  await migrateShared(cfg.mysqlUrl);
  const pool = createPool(cfg.mysqlUrl);
  const store = new MarketDataStore(pool);
  const bar = progressBar('  importing [{bar}] {percentage}% | {rows} rows stored, {rejected} rejected | {eta_formatted}');
  let stored = 0;
  let first: Frame | null = null;
  let last: Frame | null = null;
  const t0 = performance.now();
  try {
    bar?.start(size, 0, { rows: 0, rejected: 0 });
    let batch: Frame[] = [];
    const flush = async () => {
      if (!batch.length) return;
      await store.upsertCandles(batch);
      stored += batch.length;
      batch = [];
      bar?.update(stream.bytesRead, { rows: stored, rejected: reader.errors.length });
    };
    for (let r = await lines.next(); !r.done; r = await lines.next()) {
      const frame = reader.push(r.value);
      if (!frame) continue;
      first ??= frame;
      last = frame;
      batch.push(frame);
      if (batch.length >= batchSize) await flush();
    }
    await flush();
    bar?.update(size, { rows: stored, rejected: reader.errors.length });
  } finally {
    bar?.stop();
    await pool.end();
  }

  const secs = (performance.now() - t0) / 1000;
  const errors = reader.errors;
  // A summary by reason (numbers stripped, so "start: 17… is before …" lines group together).
  const byKind = new Map<string, number>();
  for (const e of errors) {
    const kind = e.reason.replace(/"[^"]*"/g, '…').replace(/(?<![\w.-])-?\d[\d.:TZ-]*(\s*\([^)]*\))?/g, 'N');
    byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
  }
  const reasons = [...byKind].sort((x, y) => y[1] - x[1]);
  if (a.rejects && errors.length) await writeFile(a.rejects, `line\treason\n${errors.map((e) => `${e.line}\t${e.reason}`).join('\n')}\n`);
  if (a.json) {
    const at = (f: Frame | null) => (f ? { symbol: f.symbol, timeframe: f.timeframe, start: new Date(f.start).toISOString() } : null);
    const doc = {
      file,
      lines: reader.lines,
      stored,
      rejected: errors.length,
      seconds: Number(secs.toFixed(3)),
      first: at(first),
      last: at(last),
      rejectedByReason: reasons.map(([reason, count]) => ({ reason, count })),
      rejectedLines: errors.slice(0, 100),
      ...(a.rejects && errors.length ? { rejectsFile: a.rejects } : {}),
    };
    process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
  } else {
    process.stdout.write(`\n${file}: ${reader.lines.toLocaleString('en-US')} lines, ${stored.toLocaleString('en-US')} candles stored in maodata, ${errors.length} rejected (${secs.toFixed(1)} s)\n`);
    if (first && last) {
      process.stdout.write(`  first ${first.symbol} ${first.timeframe} ${new Date(first.start).toISOString()}, last ${last.symbol} ${last.timeframe} ${new Date(last.start).toISOString()}\n`);
    }
    if (errors.length) {
      process.stdout.write('rejected lines by reason:\n');
      for (const [kind, n] of reasons.slice(0, 10)) process.stdout.write(`  ${String(n).padStart(7)}  ${kind}\n`);
      process.stdout.write('first rejected lines:\n');
      for (const e of errors.slice(0, 10)) process.stdout.write(`  line ${e.line}: ${e.reason}\n`);
      if (a.rejects) process.stdout.write(`all ${errors.length} rejected lines: ${a.rejects}\n`);
      else if (errors.length > 10) process.stdout.write(`  … ${errors.length - 10} more (--rejects FILE lists them all)\n`);
    }
  }
  if (stored === 0) throw new UsageError('no valid candle in the file');
}

main().catch((err) => {
  const input = err instanceof UsageError || err instanceof CandleCsvError || (err as { code?: string }).code === 'ENOENT' || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
  process.stderr.write(`import-candles: ${input ? (err as Error).message : ((err as Error)?.stack ?? err)}\n`);
  if (err instanceof UsageError) process.stderr.write(`${USAGE}\n`);
  process.exit(input ? 2 : 1);
});
