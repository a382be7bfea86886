/**
 * A worker process for bench/scale.ts: the production session worker or paper-broker worker (same
 * boot: environment, pino + MongoDB log sink; same activities and worker options), but on PRIVATE task
 * queues, so the benchmark's sessions never mix with other engineers' workers on `maotrade-sessions` /
 * `broker-paper` on the shared dev server.
 *   tsx bench/bench-worker.ts session   env BENCH_SESSION_QUEUE, BENCH_LAG_LOG (file: one line per
 *                                        recorded outcome: account,equityTs,epochMsWhenStored)
 *   tsx bench/bench-worker.ts broker    env BENCH_BROKER (broker name; serves `broker-<name>`)
 * Prints `"state":"RUNNING"` (as the production workers' logs do) once it polls.
 */
import fs from 'node:fs';
import path from 'node:path';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createStoreActivities } from '../activities/store-activities';
import { createBrokerActivities } from '../activities/broker-activities';
import { PaperBrokerAdapter } from '../brokers/paper';
import { CircuitBreakingAdapter } from '../brokers/resilience';
import { createPool } from '../db/pool';
import { migrateShared } from '../db/migrate';
import { brokerTaskQueue } from '../workflows/definitions';
import { bootProcess } from '../workers/process-runtime';
import { ensureWorkflowBundle } from '../workers/workflow-bundle';
import { STICKY_QUEUE_SCHEDULE_TO_START_TIMEOUT } from '../workers/session-worker-options';
import { instrumentBrokerActivities, instrumentSessionActivities } from '../ops/metrics';
import { timeframeMs, type Timeframe } from '../market/timeframe';

/**
 * Session-worker tuning under test (`bench:scale --tune`), from BENCH_TUNE (`key=value,...`); unset =
 * the production session worker's options. Keys: wftSlots (maxConcurrentWorkflowTaskExecutions),
 * cache (maxCachedWorkflows), wftPollers (a number, or `auto` for the SDK's autoscaling pollers),
 * stickyRatio (nonStickyToStickyPollRatio), atSlots (maxConcurrentActivityTaskExecutions),
 * reuseV8 (reuseV8Context true|false), threads (workflowThreadPoolSize, only with reuseV8=false).
 */
function benchTuning(spec: string | undefined): Partial<WorkerOptions> {
  const o: Partial<WorkerOptions> = {};
  for (const part of (spec ?? '').split(',').filter(Boolean)) {
    const [k, v = ''] = part.split('=');
    const n = Number(v);
    if (!['wftSlots', 'cache', 'wftPollers', 'stickyRatio', 'atSlots', 'reuseV8', 'threads'].includes(k)) {
      throw new Error(`BENCH_TUNE: unknown key ${JSON.stringify(k)} in ${JSON.stringify(spec)}`);
    }
    const numeric = k !== 'reuseV8' && !(k === 'wftPollers' && v === 'auto');
    if (numeric && !(Number.isFinite(n) && v !== '')) throw new Error(`BENCH_TUNE: ${k} needs a number, got ${JSON.stringify(v)}`);
    if (k === 'wftSlots') o.maxConcurrentWorkflowTaskExecutions = n;
    else if (k === 'cache') o.maxCachedWorkflows = n;
    else if (k === 'wftPollers') o.workflowTaskPollerBehavior = v === 'auto' ? { type: 'autoscaling' } : { type: 'simple-maximum', maximum: n };
    else if (k === 'stickyRatio') o.nonStickyToStickyPollRatio = n;
    else if (k === 'atSlots') o.maxConcurrentActivityTaskExecutions = n;
    else if (k === 'reuseV8') o.reuseV8Context = v === 'true';
    else o.workflowThreadPoolSize = n; // threads
  }
  return o;
}

async function main(): Promise<void> {
  const kind = process.argv[2];
  const rt = await bootProcess(`bench-${kind}-worker`);
  const { config, logger } = rt;
  await migrateShared(config.mysqlUrl);
  const pool = createPool(config.mysqlUrl, { connectionLimit: 20 });
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  let worker: Worker;
  if (kind === 'session') {
    const taskQueue = process.env.BENCH_SESSION_QUEUE!;
    const lagLog = fs.createWriteStream(process.env.BENCH_LAG_LOG!, { flags: 'a' });
    const store = createStoreActivities({ pool, mysqlUrl: config.mysqlUrl });
    const recordOutcome = store.recordOutcome;
    store.recordOutcome = async (account, outcome) => {
      await recordOutcome(account, outcome);
      if (outcome.equity) lagLog.write(`${account},${outcome.equity.ts},${Date.now()}\n`);
    };
    const bundlePath = await ensureWorkflowBundle(
      process.env.MAOTRADE_WORKFLOW_BUNDLE ?? path.join(__dirname, '..', '.run', 'workflow-bundle.js'),
    );
    worker = await Worker.create({
      connection,
      namespace: config.temporal.namespace,
      taskQueue,
      workflowBundle: { codePath: bundlePath },
      activities: instrumentSessionActivities(store, rt.metrics, (tf) => timeframeMs(tf as Timeframe)),
      stickyQueueScheduleToStartTimeout: STICKY_QUEUE_SCHEDULE_TO_START_TIMEOUT,
      ...benchTuning(process.env.BENCH_TUNE),
    });
  } else if (kind === 'broker') {
    const name = process.env.BENCH_BROKER!;
    const adapter = new CircuitBreakingAdapter(new PaperBrokerAdapter(pool, config.paper), logger.child({ broker: name }));
    worker = await Worker.create({
      connection,
      namespace: config.temporal.namespace,
      taskQueue: brokerTaskQueue(name),
      activities: instrumentBrokerActivities(createBrokerActivities({ adapter, tradingEnabled: config.tradingEnable }), rt.metrics, name),
    });
  } else {
    process.stderr.write('usage: bench-worker session|broker\n');
    process.exit(64);
  }
  process.stdout.write('{"state":"RUNNING"}\n');
  try {
    await worker.run();
  } finally {
    await connection.close();
    await pool.end();
    await rt.close();
  }
}

main().catch((err) => {
  process.stderr.write(`bench worker failed: ${err?.stack ?? err}\n`);
  process.exit(1);
});
