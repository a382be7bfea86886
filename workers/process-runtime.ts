import { Runtime, DefaultLogger, makeTelemetryFilterString } from '@temporalio/worker';
import type { Logger } from 'pino';
import { loadConfigOrExit, redactUrl, type AppConfig } from '../config/env';
import { createLogger } from '../logging/logger';
import { MongoLogSink, ensureLogIndexes } from '../logging/mongo-sink';
import { createTemporalLogger } from '../logging/temporal-logger';
import { MongoClient } from 'mongodb';

export interface ProcessRuntime {
  config: AppConfig;
  logger: Logger;
  /** Flushes logs to MongoDB and closes the sink. */
  close(): Promise<void>;
}

/**
 * What every worker process does first: validate the environment (exit 78 on a bad value), build the
 * pino logger that also writes to MongoDB `maologs`, and route the Temporal SDK's logs (workflow logs
 * are replay-aware: the SDK drops them while replaying) through it.
 */
export async function bootProcess(service: string, env: NodeJS.ProcessEnv = process.env): Promise<ProcessRuntime> {
  const config = loadConfigOrExit(env);
  const client = new MongoClient(config.mongoUrl, { serverSelectionTimeoutMS: 5_000, appName: `maotrade-${service}` });
  const db = client.db();
  await ensureLogIndexes(db).catch((err) => process.stderr.write(`log indexes not ensured: ${String(err)}\n`));
  const sink = new MongoLogSink({ db });
  const logger = createLogger({ level: config.logLevel, service, mongo: sink });
  Runtime.install({
    logger: createTemporalLogger(logger),
    telemetryOptions: { logging: { forward: {}, filter: makeTelemetryFilterString({ core: 'WARN' }) } },
  });
  logger.info(
    { temporal: config.temporal, mysqlUrl: redactUrl(config.mysqlUrl), tradingEnable: config.tradingEnable },
    `${service} starting`,
  );
  return {
    config,
    logger,
    async close() {
      await sink.close();
      await client.close();
    },
  };
}

export { DefaultLogger };
