/**
 * Live latency on the Temporal dev server: a frame signalled to a paper session → the session's order
 * acknowledged by the paper broker, beside a bare round trip (a signal to a trivial workflow → its no-op
 * activity ran) timed the same way. Prints p50/p99 per repeat and the medians over the repeats, and a
 * profile of where the time goes (from the workflow histories). It asserts nothing about time.
 *
 *   npm run bench:live-latency [-- --frames 200 --repeats 3]
 *
 * Set-up: the session worker (AccountSession bundle + store activities) and a paper-broker worker run in
 * this process, against the real Temporal, MariaDB and FerretDB, on private task queues
 * (`bench-sessions-<pid>`, broker `bl<pid>` on `broker-bl<pid>`), so other engineers' workers on the
 * shared queues never take these tasks. The bare workflow (bench/bare-roundtrip-workflow.ts) is bundled on
 * its own and served by a third worker on the same connection, `bench-bare-<pid>`.
 * Strategy: ma-crossover fastPeriod 1 / slowPeriod 2, quantity 1, stop 1 %; closes alternate
 * 100 / 100.2 so every frame after warm-up reverses the position (close order + open order), no stop is
 * ever touched. Each frame is stored in maodata first (the venue's price), then timed from just before
 * the `frame` signal; the next frame is sent only when the session's status shows this one processed
 * (polled every 20 ms, the bare workflow's `done` query polled the same way).
 * Times: "ack" = the broker worker's placeOrder activity returned (Date.now() in this process, so no
 * clock skew); "bare" = the no-op activity ran; "processed" = status query shows the frame done (orders,
 * fills, trades and equity stored).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { createStoreActivities } from '../activities/store-activities';
import { createBrokerActivities } from '../activities/broker-activities';
import { PaperBrokerAdapter } from '../brokers/paper';
import { createPool } from '../db/pool';
import { MarketDataStore } from '../db/market-data-store';
import { streamKey, type Frame } from '../market/frame';
import { TEST_ENV, WORKFLOW_BUNDLE, uniqueAccount } from '../test/support/env';
import { startSession } from '../test/support/harness';
import { ensureWorkflowBundle } from '../workers/workflow-bundle';
import { frameSignal, statusQuery, brokerTaskQueue } from '../workflows/definitions';
import type { BareActivities } from './bare-roundtrip-workflow';
import { median, ms, percentile, profileHistory } from './support-history';

const { values: a } = parseArgs({
  options: {
    frames: { type: 'string', default: '200' },
    repeats: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '5' },
  },
});
const FRAMES = Number(a.frames);
const REPEATS = Math.max(1, Number(a.repeats));
const WARMUP = Number(a.warmup);
const POLL_MS = 20;
const sleep = (t: number) => new Promise((r) => setTimeout(r, t));

async function main(): Promise<void> {
  const pid = process.pid;
  const sessionQueue = `bench-sessions-${pid}`;
  const bareQueue = `bench-bare-${pid}`;
  const brokerName = `bl${pid}`;
  process.stdout.write(`live latency: ${FRAMES} decision frames per repeat, ${REPEATS} repeat(s), first ${WARMUP} of each left out as warm-up\n`);
  process.stdout.write(`command: npm run bench:live-latency -- --frames ${FRAMES} --repeats ${REPEATS}\n`);
  process.stdout.write(`temporal ${TEST_ENV.TEMPORAL_ADDRESS}, queues ${sessionQueue} / ${brokerTaskQueue(brokerName)} / ${bareQueue}; node ${process.version}\n\n`);

  Runtime.install({ logger: new DefaultLogger('WARN') }); // the SDK's worker state changes would drown the figures
  const pool = createPool(TEST_ENV.MYSQL_URL, { connectionLimit: 20 });
  const market = new MarketDataStore(pool);
  const connection = await NativeConnection.connect({ address: TEST_ENV.TEMPORAL_ADDRESS });
  const clientConnection = await Connection.connect({ address: TEST_ENV.TEMPORAL_ADDRESS });
  const client = new Client({ connection: clientConnection, namespace: TEST_ENV.TEMPORAL_NAMESPACE });

  const acks = new Map<string, number>(); // clientOrderId → placeOrder returned (ms)
  const bareAcks = new Map<number, number>(); // ping n → noop ran (ms)
  const brokerActs = createBrokerActivities({ adapter: new PaperBrokerAdapter(pool, { spreadBps: 0, slippageBps: 0 }), tradingEnabled: true });
  const placeOrder = brokerActs.placeOrder;
  brokerActs.placeOrder = async (order) => {
    const r = await placeOrder(order);
    acks.set(order.clientOrderId, Date.now());
    return r;
  };
  const bareActs: BareActivities = {
    async noop(n) {
      bareAcks.set(n, Date.now());
    },
  };
  const bundlePath = await ensureWorkflowBundle(process.env.MAOTRADE_WORKFLOW_BUNDLE ?? WORKFLOW_BUNDLE);
  const { code: bareCode } = await bundleWorkflowCode({ workflowsPath: require.resolve('./bare-roundtrip-workflow'), logger: new DefaultLogger('WARN') });
  const workers = await Promise.all([
    Worker.create({
      connection,
      namespace: TEST_ENV.TEMPORAL_NAMESPACE,
      taskQueue: sessionQueue,
      workflowBundle: { codePath: bundlePath },
      activities: createStoreActivities({ pool, mysqlUrl: TEST_ENV.MYSQL_URL }),
      stickyQueueScheduleToStartTimeout: '2s',
    }),
    Worker.create({ connection, namespace: TEST_ENV.TEMPORAL_NAMESPACE, taskQueue: brokerTaskQueue(brokerName), activities: brokerActs }),
    Worker.create({ connection, namespace: TEST_ENV.TEMPORAL_NAMESPACE, taskQueue: bareQueue, workflowBundle: { code: bareCode }, activities: bareActs }),
  ]);
  const running = Promise.all(workers.map((w) => w.run()));

  const summary = { ack: [] as number[][], ack2: [] as number[][], processed: [] as number[][], bare: [] as number[][] };
  let lastSessionHandle: WorkflowHandle | undefined;
  let lastBareHandle: WorkflowHandle | undefined;
  try {
    for (let r = 0; r < REPEATS; r++) {
      // ---- the session ----
      const account = uniqueAccount('lat');
      const symbol = `L${account.replace(/_/g, '').toUpperCase()}`.slice(0, 40);
      const handle = await startSession(
        client,
        {
          account,
          broker: brokerName,
          tradingEnabled: true,
          // Frames come far faster than one a minute here: the order-rate limit would refuse the reversals.
          risk: { maxOrdersPerMinute: 1_000_000 },
          systems: [{ id: 'ma', system: 'ma-crossover', symbol, timeframe: '1m', params: { fastPeriod: 1, slowPeriod: 2, quantity: 1, stopDistancePct: 1 } }],
        },
        sessionQueue,
      );
      lastSessionHandle = handle;
      const key = streamKey(symbol, '1m');
      const base = Date.UTC(2025, 0, 1);
      const total = FRAMES + WARMUP + 2; // 2 frames warm the averages up
      const ack1: number[] = [];
      const ack2: number[] = [];
      const processed: number[] = [];
      for (let i = 0; i < total; i++) {
        const close = i % 2 === 0 ? 100 : 100.2;
        const open = i % 2 === 0 ? 100.2 : 100;
        const frame: Frame = { symbol, timeframe: '1m', start: base + i * 60_000, open, high: Math.max(open, close), low: Math.min(open, close), close, volume: 1 };
        await market.upsertCandles([frame]);
        const before = new Set(acks.keys());
        const t0 = Date.now();
        await handle.signal(frameSignal, frame);
        for (;;) {
          const s = await handle.query(statusQuery);
          if ((s.lastFrames[key] ?? -1) >= frame.start) break;
          await sleep(POLL_MS);
        }
        const tDone = Date.now();
        const mine = [...acks.entries()].filter(([id]) => !before.has(id)).map(([, t]) => t).sort((x, y) => x - y);
        if (i >= 2 + WARMUP) {
          if (mine.length < 1) throw new Error(`frame ${i} placed no order: the strategy did not reverse`);
          ack1.push(mine[0] - t0);
          if (mine.length >= 2) ack2.push(mine[1] - t0);
          processed.push(tDone - t0);
        }
      }
      const status = await handle.query(statusQuery);
      // ---- the bare round trip ----
      const bare = await client.workflow.start('bareRoundTrip', { taskQueue: bareQueue, workflowId: `bench-bare-${account}`, args: [] });
      lastBareHandle = bare;
      const bareMs: number[] = [];
      for (let i = 0; i < FRAMES + WARMUP; i++) {
        const t0 = Date.now();
        await bare.signal('ping', i);
        for (;;) {
          const done = await bare.query<number>('done');
          if (done >= i) break;
          await sleep(POLL_MS);
        }
        if (i >= WARMUP) bareMs.push(bareAcks.get(i)! - t0);
      }
      await bare.signal('stop');
      await bare.result();
      await handle.terminate('bench done');

      summary.ack.push(ack1);
      summary.ack2.push(ack2);
      summary.processed.push(processed);
      summary.bare.push(bareMs);
      process.stdout.write(
        `repeat ${r + 1}: session ${account}: ${status.counters.framesProcessed} frames, ${status.counters.ordersPlaced} orders placed, ${status.counters.ordersRejected} rejected\n` +
          `  frame → 1st order acked  p50 ${ms(percentile(ack1, 50))} ms  p99 ${ms(percentile(ack1, 99))} ms  (n=${ack1.length})\n` +
          `  frame → 2nd order acked  p50 ${ms(percentile(ack2, 50))} ms  p99 ${ms(percentile(ack2, 99))} ms  (n=${ack2.length})\n` +
          `  frame → processed        p50 ${ms(percentile(processed, 50))} ms  p99 ${ms(percentile(processed, 99))} ms\n` +
          `  bare signal → no-op ran  p50 ${ms(percentile(bareMs, 50))} ms  p99 ${ms(percentile(bareMs, 99))} ms  (n=${bareMs.length})\n`,
      );
    }

    const med = (k: keyof typeof summary, p: number) => median(summary[k].map((xs) => percentile(xs, p)));
    process.stdout.write(`\nmedians over ${REPEATS} repeat(s) (machine: 2 cores, shared with other engineers' test runs):\n`);
    const rows: [string, keyof typeof summary][] = [
      ['frame signalled → 1st order acked by paper broker', 'ack'],
      ['frame signalled → 2nd order (reversal entry) acked', 'ack2'],
      ['frame signalled → frame processed (status)', 'processed'],
      ['bare: signal → no-op activity ran', 'bare'],
    ];
    for (const [label, k] of rows) process.stdout.write(`  ${label.padEnd(52)} p50 ${ms(med(k, 50)).padStart(7)} ms   p99 ${ms(med(k, 99)).padStart(7)} ms\n`);
    const ratio = med('ack', 99) / med('bare', 99);
    process.stdout.write(`  p99 ratio (1st order acked / bare round trip): ${ratio.toFixed(2)}× (target ≤ 3×: ${ratio <= 3 ? 'met' : 'MISSED'})\n`);
    process.stdout.write(`  p99 ratio (frame processed / bare round trip): ${(med('processed', 99) / med('bare', 99)).toFixed(2)}×\n`);

    // ---- where the time goes (last repeat's histories) ----
    for (const [label, h, sig] of [
      ['session, per decision frame', lastSessionHandle!, 'frame'],
      ['bare, per ping', lastBareHandle!, 'ping'],
    ] as const) {
      const p = await profileHistory(h, { skipSignals: sig === 'frame' ? 2 + WARMUP : WARMUP, signalName: sig });
      process.stdout.write(`\nprofile, ${label} (median ms over ${p.signals} signals, from the history's event times; ${p.activitiesPerSignal} activities each):\n`);
      for (const [k, v] of Object.entries(p.phases)) process.stdout.write(`  ${k.padEnd(44)} ${ms(v).padStart(7)}\n`);
    }
  } finally {
    for (const w of workers) w.shutdown();
    await running;
    await connection.close();
    await clientConnection.close();
    await pool.end();
  }
}

main().catch((err) => {
  process.stderr.write(`${err?.stack ?? err}\n`);
  process.exit(1);
});
