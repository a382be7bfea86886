/**
 * A broker worker: the broker activities of one broker, on `broker-<name>`. One process per broker,
 * so restarting one broker's worker never disturbs sessions on another.
 * Usage: tsx workers/broker-worker.ts <broker>      e.g. tsx workers/broker-worker.ts paper
 */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createBrokerActivities } from '../activities/broker-activities';
import { BROKER_NAMES, createBrokerAdapter } from '../brokers';
import { IgBrokerAdapter } from '../brokers/ig';
import { IgHistoryMeter, meterIgHistory } from '../brokers/ig/allowance';
import { CircuitBreakingAdapter } from '../brokers/resilience';
import { frameBridgeFor } from '../brokers/stream-frame-venues';
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
  if (inner instanceof IgBrokerAdapter) {
    // IG's historical-data allowance: every prices answer counted (maotrade_ig_*, `maotrade check ig-allowance`)
    const meter = new IgHistoryMeter();
    meterIgHistory(inner.client, meter);
    rt.metrics.watchIgHistory(meter);
  }
  const taskQueue = brokerTaskQueue(name);
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  // Completed candles from the venue's stream to the running feeders (brokers/stream-frames.ts); none for paper.
  const clientConnection = await Connection.connect({ address: config.temporal.address });
  let bridge;
  try {
    bridge = frameBridgeFor(name, inner, {
      client: new Client({ connection: clientConnection, namespace: config.temporal.namespace }),
      env: process.env,
      logger: logger.child({ broker: name, part: 'stream-frames' }),
    });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(78);
  }
  await bridge?.start();
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
    await bridge?.stop();
    await clientConnection.close();
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
