/**
 * Resume after a crash: the production session worker process (`workers/session-worker.ts` under tsx, or
 * with `--entry compiled` its build from `npm run build:workers`, run by plain node) is SIGKILLed, a frame is delivered
 * while it is down (a feeder does not wait), the worker is restarted, and we time how long until the
 * session has processed that frame. Repeated; prints p50/max and the split into process restart
 * (SIGKILL → the new process polls) and ready → processed, plus where the restart's time goes (from the
 * new process's log) and what the server did after the signal (from the history). Asserts nothing.
 *
 *   npm run bench:resume [-- --kills 7 --history-frames 120 --entry tsx|compiled]
 *
 * The production entry points poll the SHARED queues `maotrade-sessions` / `broker-paper` of the dev
 * server; other engineers' tests may run workers on them too, and such a worker could pick the session
 * up (making the figure look better). Before each kill the other live pollers of `maotrade-sessions`
 * are counted and printed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { createPool } from '../db/pool';
import { MarketDataStore } from '../db/market-data-store';
import { generateFrames } from '../market/synthetic';
import { streamKey } from '../market/frame';
import { TEST_ENV, WORKFLOW_BUNDLE, uniqueAccount } from '../test/support/env';
import { PAPER_TEST_CONFIG, feedFrames, startSession, waitForFrame } from '../test/support/harness';
import { EntryProcess, workerArgv } from './support-procs';
import { SESSION_TASK_QUEUE, frameSignal, statusQuery } from '../workflows/definitions';
import { median, ms, percentile } from './support-history';

const { values: a } = parseArgs({
  options: {
    kills: { type: 'string', default: '7' },
    'history-frames': { type: 'string', default: '120' },
    entry: { type: 'string', default: 'tsx' },
  },
});
if (a.entry !== 'tsx' && a.entry !== 'compiled') throw new Error(`--entry: tsx or compiled, not ${a.entry}`);
const ENTRY = a.entry;
const KILLS = Math.max(5, Number(a.kills));
const HISTORY_FRAMES = Number(a['history-frames']);
const sleep = (t: number) => new Promise((r) => setTimeout(r, t));
const out = (s: string) => process.stdout.write(s);

function tsMs(t: any): number {
  const s = t?.seconds;
  return (typeof s === 'object' && s !== null ? s.toNumber() : Number(s ?? 0)) * 1000 + (t?.nanos ?? 0) / 1e6;
}

/** Pino lines of the worker's log, with their times, to split the restart into phases. */
function bootPhases(logFile: string, spawnedAt: number): { firstLog: number; polling: number; running: number; bootMs: Record<string, number> } {
  let firstLog = NaN;
  let polling = NaN;
  let running = NaN;
  let bootMs: Record<string, number> = {};
  for (const line of fs.readFileSync(logFile, 'utf8').split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const j = JSON.parse(line);
      const t = typeof j.time === 'number' ? j.time : Date.parse(j.time);
      if (!Number.isFinite(t)) continue;
      if (Number.isNaN(firstLog)) firstLog = t - spawnedAt;
      if (j.msg === 'session worker polling') {
        polling = t - spawnedAt;
        bootMs = j.bootMs ?? {};
      }
      if (j.state === 'RUNNING' && Number.isNaN(running)) running = t - spawnedAt;
    } catch {
      /* not a log line */
    }
  }
  return { firstLog, polling, running, bootMs };
}

async function main(): Promise<void> {
  out(`resume after SIGKILL of the session worker: ${KILLS} kills; the session has ${HISTORY_FRAMES} frames of history before the first kill\n`);
  out(`command: npm run bench:resume -- --kills ${KILLS} --history-frames ${HISTORY_FRAMES} --entry ${ENTRY}\n`);
  if (ENTRY === 'compiled' && !fs.existsSync(path.join('.run', 'dist', 'session-worker.js'))) throw new Error('run npm run build:workers first');
  out(`machine: 2 cores shared with other engineers' test runs\n\n`);
  const env = {
    PAPER_SPREAD_BPS: String(PAPER_TEST_CONFIG.spreadBps),
    PAPER_SLIPPAGE_BPS: String(PAPER_TEST_CONFIG.slippageBps),
    MAOTRADE_WORKFLOW_BUNDLE: WORKFLOW_BUNDLE,
  };
  const sessionWorker = new EntryProcess(`resume-session-${ENTRY}`, workerArgv(ENTRY, 'session-worker'), env);
  const brokerWorker = new EntryProcess(`resume-broker-${ENTRY}`, workerArgv(ENTRY, 'broker-worker', 'paper'), env);
  await Promise.all([sessionWorker.start(), brokerWorker.start()]);
  const myPids = new Set<number>([sessionWorker.pid!]); // every session worker this script started
  const pool = createPool(TEST_ENV.MYSQL_URL);
  const market = new MarketDataStore(pool);
  const connection = await Connection.connect({ address: TEST_ENV.TEMPORAL_ADDRESS });
  const client = new Client({ connection, namespace: TEST_ENV.TEMPORAL_NAMESPACE });

  const otherPollers = async (): Promise<string[]> => {
    const r = await client.workflowService.describeTaskQueue({
      namespace: TEST_ENV.TEMPORAL_NAMESPACE,
      taskQueue: { name: SESSION_TASK_QUEUE, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
      taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    });
    return (r.pollers ?? [])
      .filter((p) => Date.now() - tsMs(p.lastAccessTime) < 10_000 && !myPids.has(Number((p.identity ?? '').split('@')[0])))
      .map((p) => p.identity ?? '?');
  };

  const account = uniqueAccount('res');
  const symbol = `R${account.replace(/_/g, '').toUpperCase()}`;
  const frames = generateFrames({ symbol, timeframe: '1m', count: HISTORY_FRAMES + KILLS, seed: 3, start: Date.UTC(2025, 0, 1) });
  const handle = await startSession(client, {
    account,
    broker: 'paper',
    tradingEnabled: true,
    systems: [{ id: 'ma', system: 'ma-crossover', symbol, timeframe: '1m', params: { fastPeriod: 5, slowPeriod: 20 } }],
  });
  const key = streamKey(symbol, '1m');
  try {
    // History: frames in batches of 20 (the update returns once accepted; processed before the next batch).
    for (let i = 0; i < HISTORY_FRAMES; i += 20) {
      const batch = frames.slice(i, Math.min(i + 20, HISTORY_FRAMES));
      await feedFrames(pool, handle, batch);
      await waitForFrame(handle, batch[batch.length - 1], 120_000);
    }
    const s0 = await handle.query(statusQuery);
    out(`session ${account}: ${s0.counters.framesProcessed} frames processed, ${s0.counters.ordersPlaced} orders before the first kill\n\n`);

    const rows: { restart: number; readyToProcessed: number; total: number; firstLog: number; polling: number; running: number; events: number; bootMs: Record<string, number> }[] = [];
    let lastTimeline = '';
    for (let k = 0; k < KILLS; k++) {
      const frame = frames[HISTORY_FRAMES + k];
      await market.upsertCandles([frame]);
      const others = await otherPollers();
      const events = (await handle.fetchHistory()).events?.length ?? 0;

      const killedAt = await sessionWorker.kill();
      const signalAt = Date.now();
      await handle.signal(frameSignal, frame); // delivered while the worker is down
      const spawnedAt = Date.now();
      await sessionWorker.start();
      const readyAt = Date.now();
      myPids.add(sessionWorker.pid!);
      for (;;) {
        const s = await handle.query(statusQuery);
        if ((s.lastFrames[key] ?? -1) >= frame.start) break;
        await sleep(20);
      }
      const processedAt = Date.now();
      const logFile = sessionWorker.logFile;
      const phases = fs.existsSync(logFile) ? bootPhases(logFile, spawnedAt) : { firstLog: NaN, polling: NaN, running: NaN, bootMs: {} };
      const row = { restart: readyAt - killedAt, readyToProcessed: processedAt - readyAt, total: processedAt - killedAt, ...phases, events };
      rows.push(row);
      out(
        `kill ${k + 1}: resume ${row.total} ms = restart ${row.restart} ms (spawn→first log ${ms(row.firstLog, 0)}, →polling ${ms(row.polling, 0)}, →RUNNING ${ms(row.running, 0)}) ` +
          `+ ready→processed ${row.readyToProcessed} ms; history ${events} events; other pollers on ${SESSION_TASK_QUEUE}: ${others.length ? others.join(' ') : 'none'}\n` +
          `        boot phases, ms since the process started: ${Object.entries(row.bootMs).map(([p, t]) => `${p} ${t}`).join(', ')}\n`,
      );
      // What the server saw after the signal (last kill is printed below).
      const h = await handle.fetchHistory();
      const evs = (h.events ?? []).filter((e) => tsMs(e.eventTime) >= signalAt - 5);
      lastTimeline = evs
        .map((e) => {
          const name = Object.keys(e).find((x) => x.endsWith('EventAttributes') && (e as any)[x]) ?? 'event';
          const act = e.activityTaskScheduledEventAttributes?.activityType?.name;
          return `  +${(tsMs(e.eventTime) - killedAt).toFixed(0).padStart(6)} ms  ${name.replace('EventAttributes', '')}${act ? ` (${act})` : ''}`;
        })
        .join('\n');
      await sleep(1000);
    }
    const col = (k: Exclude<keyof (typeof rows)[number], 'bootMs'>) => rows.map((r) => r[k]);
    out(`\n${'(ms)'.padEnd(34)}${'p50'.padStart(8)}${'max'.padStart(8)}\n`);
    for (const [label, k] of [
      ['resume: SIGKILL → frame processed', 'total'],
      ['  process restart (SIGKILL → RUNNING)', 'restart'],
      ['    spawn → first log line', 'firstLog'],
      ['    spawn → "session worker polling"', 'polling'],
      ['    spawn → worker RUNNING', 'running'],
      ['  ready → frame processed', 'readyToProcessed'],
    ] as const) {
      out(`${label.padEnd(34)}${ms(percentile(col(k), 50), 0).padStart(8)}${ms(Math.max(...col(k)), 0).padStart(8)}\n`);
    }
    for (const phase of Object.keys(rows[0].bootMs)) {
      const t = rows.map((r) => r.bootMs[phase] ?? NaN);
      out(`${`    boot: ${phase} done (since start)`.padEnd(34)}${ms(percentile(t, 50), 0).padStart(8)}${ms(Math.max(...t), 0).padStart(8)}\n`);
    }
    const p50 = median(col('total'));
    out(`target < 2000 ms (p50): ${p50 < 2000 ? 'met' : 'MISSED'}\n`);
    out(`\nhistory after the last kill's signal (times from the SIGKILL):\n${lastTimeline}\n`);
  } finally {
    await handle.terminate('bench:resume done').catch(() => undefined);
    await Promise.all([sessionWorker.stop(), brokerWorker.stop()]);
    await connection.close();
    await pool.end();
  }
}

main().catch((err) => {
  process.stderr.write(`${err?.stack ?? err}\n`);
  process.exit(1);
});
