/**
 * The session worker: AccountSession workflows and the store activities, on `maotrade-sessions`.
 * Usage: tsx workers/session-worker.ts   (configured by environment only)
 */
import path from 'node:path';
import { NativeConnection, Worker } from '@temporalio/worker';
import { Client, Connection } from '@temporalio/client';
import { createStoreActivities } from '../activities/store-activities';
import { createFeederActivities } from '../activities/feeder-activities';
import { migrateShared } from '../db/migrate';
import { createPool } from '../db/pool';
import { SESSION_TASK_QUEUE } from '../workflows/definitions';
import { bootProcess } from './process-runtime';
import { ensureWorkflowBundle } from './workflow-bundle';
import { withCrashBefore } from './fault-injection';
import { instrumentSessionActivities } from '../ops/metrics';
import { timeframeMs, type Timeframe } from '../market/timeframe';

async function main(): Promise<void> {
  const rt = await bootProcess('session-worker');
  const { config, logger } = rt;
  await migrateShared(config.mysqlUrl);
  const pool = createPool(config.mysqlUrl, { connectionLimit: 20 });
  const bundlePath = await ensureWorkflowBundle(
    process.env.MAOTRADE_WORKFLOW_BUNDLE ?? path.join(__dirname, '..', '.run', 'workflow-bundle.js'),
  );
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  // The feeder's delivery activity starts and signals sessions through a client.
  const clientConnection = await Connection.connect({ address: config.temporal.address });
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
    // A dead worker's sessions move to a live one quickly instead of waiting on its sticky queue.
    stickyQueueScheduleToStartTimeout: '2s',
  });
  logger.info({ taskQueue: SESSION_TASK_QUEUE }, 'session worker polling');
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
