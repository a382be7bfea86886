/**
 * A broker worker: the broker activities of one broker, on `broker-<name>`. One process per broker,
 * so restarting one broker's worker never disturbs sessions on another.
 * Usage: tsx workers/broker-worker.ts <broker>      e.g. tsx workers/broker-worker.ts paper
 */
import { NativeConnection, Worker } from '@temporalio/worker';
import { createBrokerActivities } from '../activities/broker-activities';
import { BROKER_NAMES, createBrokerAdapter } from '../brokers';
import { CircuitBreakingAdapter } from '../brokers/resilience';
import { migrateShared } from '../db/migrate';
import { createPool } from '../db/pool';
import { brokerTaskQueue } from '../workflows/definitions';
import { bootProcess } from './process-runtime';
import { crashAfterSubmitHook } from './fault-injection';
import { instrumentBrokerActivities } from '../ops/metrics';

async function main(): Promise<void> {
  const name = process.argv[2] ?? process.env.BROKER;
  if (!name || !BROKER_NAMES.includes(name)) {
    process.stderr.write(`usage: broker-worker <broker>   (known brokers: ${BROKER_NAMES.join(', ')})\n`);
    process.exit(64);
  }
  const rt = await bootProcess(`broker-${name}`);
  const { config, logger } = rt;
  await migrateShared(config.mysqlUrl);
  const pool = createPool(config.mysqlUrl, { connectionLimit: 20 });
  // Every broker call goes through a circuit breaker: a failing broker is not hammered by every session.
  let inner;
  try {
    inner = createBrokerAdapter(name, { pool, config, env: process.env, logger: logger.child({ broker: name }) });
  } catch (err) {
    // A broker's own settings (credentials, URLs) are validated here, at the edge: name them and stop.
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(78);
  }
  const adapter = new CircuitBreakingAdapter(inner, logger.child({ broker: name }));
  rt.metrics.watchBreaker(adapter);
  const taskQueue = brokerTaskQueue(name);
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue,
    activities: instrumentBrokerActivities(
      createBrokerActivities({
        adapter,
        tradingEnabled: config.tradingEnable,
        afterSubmit: crashAfterSubmitHook(process.env),
      }),
      rt.metrics,
      name,
    ),
  });
  logger.info({ taskQueue, tradingEnable: config.tradingEnable }, 'broker worker polling');
  try {
    await worker.run();
  } finally {
    logger.info('broker worker stopped');
    await connection.close();
    await adapter.close?.();
    await pool.end();
    await rt.close();
  }
}

main().catch((err) => {
  process.stderr.write(`broker worker failed: ${err?.stack ?? err}\n`);
  process.exit(1);
});
