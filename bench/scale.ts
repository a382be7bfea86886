/**
 * Scale: N AccountSessions on 1-minute frames served by ONE session worker process and ONE paper-broker
 * worker process on this machine; frame lag p50/p99 as N grows. Prints its figures; asserts nothing.
 *
 *   npm run bench:scale [-- --sessions 50,200,500,2000 --rounds 3 --warmup 2 --minute 15000 --tune wftSlots=100,cache=3000]
 *
 * - Workers: bench/bench-worker.ts (the production boot, activities and worker options, metrics
 *   wrappers, pino + MongoDB logs) on PRIVATE queues `bench-scale-<pid>` / `broker-bs<pid>`, so other
 *   engineers' workers on the shared dev server never take these tasks.
 * - Sessions: ma-crossover fastPeriod 2 / slowPeriod 5 (it trades every few frames: more orders than
 *   a realistic 10/30 would send), quantity 1, stop 1 %, all on one generated 1-minute stream.
 * - The minute is COMPRESSED: a round (one frame to every session, as a feeder's burst at the minute
 *   boundary) starts every `--minute` ms, or as soon as the previous round is fully processed if that
 *   takes longer. The frame is stored in maodata first, then signalled (`frame`) to every session, 64
 *   signals in flight.
 * - Frame lag of a session = from just before its signal is sent to the moment the session worker has
 *   stored that frame's outcome (the recordOutcome activity returned: the last step of processing a
 *   frame; the workflow then only sets lastFrames). A sample of 5 sessions per round is also timed to
 *   the status query showing the frame processed, to bound what that leaves out.
 * - The sessions started at a step take part from the next round; the first `--warmup` rounds of each
 *   step (session start, reconciliation, cache warm-up) are left out.
 * - Where the time goes: CPU used by the session worker, the broker worker, the Temporal dev server and
 *   MariaDB during the measured rounds, as a share of one core.
 * - `--tune`: session-worker options under test (bench/bench-worker.ts `benchTuning`: wftSlots, cache,
 *   wftPollers, stickyRatio, atSlots, reuseV8, threads); without it the production options.
 * - Against the stack's real Temporal server: `set -a; . .stack/env-server; set +a` first; the server's
 *   CPU is then that of `.stack/temporal-server/bin/server` (PostgreSQL's is not counted).
 * At the end every session is terminated and its `mt_<account>` schema dropped.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { createPool } from '../db/pool';
import { MarketDataStore } from '../db/market-data-store';
import { generateFrames } from '../market/synthetic';
import { streamKey } from '../market/frame';
import { ROOT, TEST_ENV } from '../test/support/env';
import { startSession } from '../test/support/harness';
import { frameSignal, statusQuery } from '../workflows/definitions';
import { median, ms, percentile, profileHistory } from './support-history';
import { BenchWorker, cpuSeconds, pidOf, pool } from './support-procs';

const { values: a } = parseArgs({
  options: {
    sessions: { type: 'string', default: '50,200,500,2000' },
    rounds: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '2' },
    minute: { type: 'string', default: '15000' },
    'round-timeout': { type: 'string', default: '300000' },
    tune: { type: 'string', default: '' },
  },
});
const STEPS = a.sessions!.split(',').map(Number);
const ROUNDS = Number(a.rounds);
const WARMUP = Number(a.warmup);
const MINUTE = Number(a.minute);
const ROUND_TIMEOUT = Number(a['round-timeout']);
const IN_FLIGHT = 64;
const sleep = (t: number) => new Promise((r) => setTimeout(r, t));
const out = (s: string) => process.stdout.write(s);

async function main(): Promise<void> {
  const pid = process.pid;
  const queue = `bench-scale-${pid}`;
  const broker = `bs${pid}`;
  const symbol = `SC${pid}`;
  const lagLog = path.join(ROOT, '.run', 'bench', `scale-lag-${pid}.csv`);
  fs.mkdirSync(path.dirname(lagLog), { recursive: true });
  fs.writeFileSync(lagLog, '');
  out(`scale: sessions ${STEPS.join(', ')}; ${ROUNDS} measured round(s) per step after ${WARMUP} warm-up round(s); minute compressed to ${MINUTE} ms\n`);
  out(`command: npm run bench:scale -- --sessions ${STEPS.join(',')} --rounds ${ROUNDS} --warmup ${WARMUP} --minute ${MINUTE}${a.tune ? ` --tune ${a.tune}` : ''}\n`);
  out(`Temporal: ${TEST_ENV.TEMPORAL_ADDRESS}; session-worker options: ${a.tune || 'production defaults'}\n`);
  out(`one session worker + one paper-broker worker (bench/bench-worker.ts), queues ${queue} / broker-${broker}; machine: 2 cores shared with other engineers\n\n`);

  const workerEnv = { BENCH_SESSION_QUEUE: queue, BENCH_BROKER: broker, BENCH_LAG_LOG: lagLog, BENCH_TUNE: a.tune!, PAPER_SPREAD_BPS: '1', PAPER_SLIPPAGE_BPS: '0.5' };
  const sessionWorker = new BenchWorker('session', workerEnv);
  const brokerWorker = new BenchWorker('broker', workerEnv);
  await Promise.all([sessionWorker.start(), brokerWorker.start()]);
  // The dev server on its default address; on any other, the stack's real server (STACK_TEMPORAL=server).
  const realServer = TEST_ENV.TEMPORAL_ADDRESS !== '127.0.0.1:7233';
  const temporalPid = pidOf(realServer ? path.join(ROOT, '.stack', 'temporal-server', 'bin', 'server') : 'temporal server start-dev');
  const mariaPid = pidOf('mariadbd') ?? pidOf('mysqld');

  const db = createPool(TEST_ENV.MYSQL_URL, { connectionLimit: 8 });
  const market = new MarketDataStore(db);
  const connection = await Connection.connect({ address: TEST_ENV.TEMPORAL_ADDRESS });
  const client = new Client({ connection, namespace: TEST_ENV.TEMPORAL_NAMESPACE });

  const totalRounds = STEPS.length * (ROUNDS + WARMUP);
  const frames = generateFrames({ symbol, timeframe: '1m', count: totalRounds, seed: 7, start: Date.UTC(2025, 0, 1) });
  const key = streamKey(symbol, '1m');
  const sessions: { account: string; handle: WorkflowHandle }[] = [];
  const processed = new Map<string, number>(); // `${account},${equityTs}` → stored at
  let logOffset = 0;
  const readLag = () => {
    const fd = fs.openSync(lagLog, 'r');
    const size = fs.fstatSync(fd).size;
    if (size > logOffset) {
      const buf = Buffer.alloc(size - logOffset);
      fs.readSync(fd, buf, 0, buf.length, logOffset);
      const text = buf.toString();
      const cut = text.lastIndexOf('\n') + 1;
      logOffset += Buffer.byteLength(text.slice(0, cut));
      for (const line of text.slice(0, cut).split('\n')) {
        if (!line) continue;
        const [acc, ts, at] = line.split(',');
        processed.set(`${acc},${ts}`, Number(at));
      }
    }
    fs.closeSync(fd);
  };

  type StepResult = { n: number; p50: number; p99: number; max: number; drain: number; sampleP99: number; cpu: Record<string, number>; failed?: string };
  const results: StepResult[] = [];
  let round = 0;
  try {
    for (const n of STEPS) {
      const tStart = Date.now();
      const fresh = Array.from({ length: n - sessions.length }, (_, i) => `s${pid}_${sessions.length + i}`);
      await pool(fresh, IN_FLIGHT, async (account) => {
        const handle = await startSession(
          client,
          {
            account,
            broker,
            tradingEnabled: true,
            systems: [{ id: 'ma', system: 'ma-crossover', symbol, timeframe: '1m', params: { fastPeriod: 2, slowPeriod: 5, quantity: 1, stopDistancePct: 1 } }],
          },
          queue,
        );
        sessions.push({ account, handle });
      });
      out(`N=${n}: started ${fresh.length} session(s) in ${((Date.now() - tStart) / 1000).toFixed(1)} s\n`);

      const perRound: { p50: number; p99: number; max: number; drain: number; sample: number[] }[] = [];
      let cpu0: number[] = [];
      let t0Measured = 0;
      let failed: string | undefined;
      for (let r = 0; r < WARMUP + ROUNDS; r++, round++) {
        if (r === WARMUP) {
          cpu0 = [sessionWorker.pid, brokerWorker.pid, temporalPid, mariaPid].map(cpuSeconds);
          t0Measured = Date.now();
        }
        const frame = frames[round];
        const equityTs = frame.start + 60_000;
        await market.upsertCandles([frame]);
        const roundStart = Date.now();
        const sentAt = new Map<string, number>();
        const sample = sessions.slice(0, 5);
        const sampleLag: number[] = [];
        const sampling = Promise.all(
          sample.map(async ({ account, handle }) => {
            while (!sentAt.has(account)) await sleep(5);
            for (;;) {
              const s = await handle.query(statusQuery).catch(() => null);
              if (s && (s.lastFrames[key] ?? -1) >= frame.start) break;
              if (Date.now() - roundStart > ROUND_TIMEOUT) return;
              await sleep(50);
            }
            sampleLag.push(Date.now() - sentAt.get(account)!);
          }),
        );
        await pool(sessions, IN_FLIGHT, async ({ account, handle }) => {
          sentAt.set(account, Date.now());
          await handle.signal(frameSignal, frame);
        });
        const sendDone = Date.now();
        // Wait until every session has stored this frame.
        for (;;) {
          readLag();
          const missing = sessions.filter(({ account }) => !processed.has(`${account},${equityTs}`)).length;
          if (missing === 0) break;
          if (Date.now() - roundStart > ROUND_TIMEOUT) {
            failed = `round ${r + 1}: ${missing} of ${sessions.length} sessions had not processed the frame after ${ROUND_TIMEOUT} ms`;
            break;
          }
          await sleep(100);
        }
        await sampling;
        if (failed) break;
        const lags = sessions.map(({ account }) => processed.get(`${account},${equityTs}`)! - sentAt.get(account)!);
        const last = Math.max(...sessions.map(({ account }) => processed.get(`${account},${equityTs}`)!));
        const row = { p50: percentile(lags, 50), p99: percentile(lags, 99), max: Math.max(...lags), drain: last - roundStart, sample: sampleLag };
        out(
          `  ${r < WARMUP ? 'warm-up ' : 'measured'} round ${r + 1}: lag p50 ${ms(row.p50, 0)} ms  p99 ${ms(row.p99, 0)} ms  max ${ms(row.max, 0)} ms; ` +
            `signals sent in ${sendDone - roundStart} ms, all processed ${ms(row.drain, 0)} ms after the round began; status-query sample max ${ms(Math.max(...sampleLag), 0)} ms\n`,
        );
        if (r >= WARMUP) perRound.push(row);
        const wait = roundStart + MINUTE - Date.now();
        if (wait > 0) await sleep(wait);
      }
      const wall = (Date.now() - t0Measured) / 1000;
      const cpu1 = [sessionWorker.pid, brokerWorker.pid, temporalPid, mariaPid].map(cpuSeconds);
      const names = ['session worker', 'broker worker', 'temporal server', 'mariadb'];
      const cpu: Record<string, number> = {};
      names.forEach((nm, i) => (cpu[nm] = (100 * (cpu1[i] - cpu0[i])) / wall));
      const res: StepResult = {
        n,
        p50: median(perRound.map((x) => x.p50)),
        p99: median(perRound.map((x) => x.p99)),
        max: Math.max(...perRound.map((x) => x.max)),
        drain: median(perRound.map((x) => x.drain)),
        sampleP99: median(perRound.map((x) => Math.max(...x.sample))),
        cpu,
        ...(failed ? { failed } : {}),
      };
      results.push(res);
      out(`  CPU over the measured rounds (% of one core): ${Object.entries(cpu).map(([k, v]) => `${k} ${ms(v, 0)}`).join(', ')}\n`);
      // Where a frame's time goes on the server, from the histories of the 5 sampled sessions (measured rounds).
      const profiles = await Promise.all(
        sessions.slice(0, 5).map(({ handle }) => profileHistory(handle, { signalName: 'frame', lastSignals: perRound.length }).catch(() => null)),
      );
      const ok = profiles.filter((p): p is NonNullable<typeof p> => p !== null);
      const phaseNames = [...new Set(ok.flatMap((p) => Object.keys(p.phases)))];
      out(`  per frame, median of 5 sampled sessions (ms): ${phaseNames.map((k) => `${k} ${ms(median(ok.map((p) => p.phases[k] ?? 0)), 0)}`).join('; ')}\n`);
      if (failed) {
        out(`  STOPPED: ${failed}\n`);
        break;
      }
    }
  } finally {
    out(`\nsummary (median over the measured rounds; minute compressed to ${MINUTE} ms; 2 shared cores):\n`);
    out(`${'sessions'.padStart(9)}${'lag p50 ms'.padStart(12)}${'lag p99 ms'.padStart(12)}${'max ms'.padStart(9)}${'drain ms'.padStart(10)}${'status p99~'.padStart(13)}   target p99 < 1000 ms\n`);
    for (const r of results) {
      out(
        `${String(r.n).padStart(9)}${ms(r.p50, 0).padStart(12)}${ms(r.p99, 0).padStart(12)}${ms(r.max, 0).padStart(9)}${ms(r.drain, 0).padStart(10)}${ms(r.sampleP99, 0).padStart(13)}   ${
          r.failed ? 'FAILED' : r.p99 < 1000 ? 'met' : 'missed'
        }\n`,
      );
    }
    out(`(status p99~ = the slowest of 5 sampled sessions per round, timed to the status query showing the frame processed)\n`);
    out(`\nterminating ${sessions.length} session(s)…\n`);
    await pool(sessions, IN_FLIGHT, async ({ handle }) => {
      await handle.terminate('bench:scale done').catch(() => undefined);
    });
    await Promise.all([sessionWorker.stop(), brokerWorker.stop()]);
    await pool(sessions, 4, async ({ account }) => {
      await db.query(`DROP DATABASE IF EXISTS \`mt_${account}\``).catch(() => undefined);
    });
    await connection.close();
    await db.end();
    out('done\n');
  }
}

main().catch((err) => {
  process.stderr.write(`${err?.stack ?? err}\n`);
  process.exit(1);
});
