/**
 * The session worker: AccountSession workflows and the store activities, on `maotrade-sessions`.
 * Usage: tsx workers/session-worker.ts   (configured by environment only)
 */
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { NativeConnection, Worker } from '@temporalio/worker';
import { Client, Connection } from '@temporalio/client';
import { createStoreActivities } from '../activities/store-activities';
import { createFeederActivities } from '../activities/feeder-activities';
import { migrateShared } from '../db/migrate';
import { createPool } from '../db/pool';
import { SESSION_TASK_QUEUE } from '../workflows/definitions';
import { bootProcess } from './process-runtime';
import { ensureWorkflowBundle, projectRoot } from './workflow-bundle';
import { STICKY_QUEUE_SCHEDULE_TO_START_TIMEOUT } from './session-worker-options';
import { withCrashBefore } from './fault-injection';
import { instrumentSessionActivities } from '../ops/metrics';
import { timeframeMs, type Timeframe } from '../market/timeframe';

async function main(): Promise<void> {
  // Boot phases, ms since the process started (the first one is module loading: node + tsx + imports).
  const boot: Record<string, number> = { modules: Math.round(performance.now()) };
  const mark = (phase: string) => (boot[phase] = Math.round(performance.now()));
  const rt = await bootProcess('session-worker');
  mark('runtime');
  const { config, logger } = rt;
  // Independent start-up steps run together; the migrations only have to be done before the worker polls.
  const migrated = migrateShared(config.mysqlUrl).then(() => mark('migrations'));
  migrated.catch(() => undefined); // its error is thrown by the `await migrated` below, not as an unhandled rejection
  const bundled = ensureWorkflowBundle(process.env.MAOTRADE_WORKFLOW_BUNDLE ?? path.join(projectRoot(), '.run', 'workflow-bundle.js')).then((p) => {
    mark('bundle');
    return p;
  });
  const connected = NativeConnection.connect({ address: config.temporal.address }).then((c) => {
    mark('connection');
    return c;
  });
  // The feeder's delivery activity starts and signals sessions through a client.
  const clientConnected = Connection.connect({ address: config.temporal.address });
  const pool = createPool(config.mysqlUrl, { connectionLimit: 20 });
  const [bundlePath, connection, clientConnection] = await Promise.all([bundled, connected, clientConnected]);
  const client = new Client({ connection: clientConnection, namespace: config.temporal.namespace });
  const { hour, minute } = config.dailyCleanTimeUtc;
  const sessionDefaults = {
    tradingEnabled: config.tradingEnable,
    dailyCleanTime: `${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}`,
  };
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: SESSION_TASK_QUEUE,
    workflowBundle: { codePath: bundlePath },
    activities: withCrashBefore(
      instrumentSessionActivities(
        { ...createStoreActivities({ pool, mysqlUrl: config.mysqlUrl }), ...createFeederActivities({ pool, client, sessionDefaults }) },
        rt.metrics,
        (tf) => timeframeMs(tf as Timeframe),
      ),
      process.env,
    ),
    stickyQueueScheduleToStartTimeout: STICKY_QUEUE_SCHEDULE_TO_START_TIMEOUT,
  });
  mark('workerCreated');
  await migrated; // before the first poll: activities write to the shared schemas
  logger.info({ taskQueue: SESSION_TASK_QUEUE, bootMs: boot }, 'session worker polling');
  try {
    await worker.run();
  } finally {
    logger.info('session worker stopped');
    await connection.close();
    await clientConnection.close();
    await pool.end();
    await rt.close();
  }
}

main().catch((err) => {
  process.stderr.write(`session worker failed: ${err?.stack ?? err}\n`);
  process.exit(1);
});
