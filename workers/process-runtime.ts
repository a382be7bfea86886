import { Runtime, makeTelemetryFilterString } from '@temporalio/worker';
import type { Logger } from 'pino';
import { loadConfigOrExit, redactUrl, type AppConfig } from '../config/env';
import { createLogger } from '../logging/logger';
import { MongoLogSink, ensureLogIndexes } from '../logging/mongo-sink';
import { createTemporalLogger } from '../logging/temporal-logger';
import { MongoClient } from 'mongodb';
import { createMetrics, startMetricsServer, temporalMetricsAddress, type AppMetrics } from '../ops/metrics';

export interface ProcessRuntime {
  config: AppConfig;
  logger: Logger;
  /** This process's Prometheus metrics, served on `/metrics` when METRICS_PORT is set. */
  metrics: AppMetrics;
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
  // Not awaited: the indexes only speed up reading `maologs`, and log lines may be written before they
  // exist, so a restarting worker does not wait a round trip (or FerretDB's server selection) for them.
  const indexes = ensureLogIndexes(db).catch((err) => process.stderr.write(`log indexes not ensured: ${String(err)}\n`));
  const sink = new MongoLogSink({ db });
  const logger = createLogger({ level: config.logLevel, service, mongo: sink });
  Runtime.install({
    logger: createTemporalLogger(logger),
    telemetryOptions: {
      logging: { forward: {}, filter: makeTelemetryFilterString({ core: 'WARN' }) },
      // The SDK's own metrics (pollers, task latencies, slots) on the port after METRICS_PORT.
      ...(config.metricsPort !== undefined && config.metricsPort < 65535
        ? { metrics: { prometheus: { bindAddress: temporalMetricsAddress(config.metricsPort) } } }
        : {}),
    },
  });
  const metrics = createMetrics(service);
  const metricsServer = config.metricsPort !== undefined ? await startMetricsServer(metrics.registry, config.metricsPort) : undefined;
  if (metricsServer) logger.info({ metricsPort: metricsServer.port }, 'metrics on /metrics');
  logger.info(
    { temporal: config.temporal, mysqlUrl: redactUrl(config.mysqlUrl), tradingEnable: config.tradingEnable },
    `${service} starting`,
  );
  return {
    config,
    logger,
    metrics,
    async close() {
      await metricsServer?.close();
      await indexes;
      await sink.close();
      await client.close();
    },
  };
}

