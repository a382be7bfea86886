/**
 * Entry point of the REST gateway: `node --import tsx api/main.ts`. Configured by environment only
 * (config/env.ts, plus API_PORT, default 8080, API_HOST, default 127.0.0.1, and API_TRUST_PROXY); a bad variable stops start-up with exit 78 naming it.
 */
import { Client, Connection } from '@temporalio/client';
import { MongoClient } from 'mongodb';
import { z } from 'zod';
import { ConfigError, EXIT_CONFIG, parseEnv, type AppConfig } from '../config/env';
import { createPool } from '../db/pool';
import { createLogger } from '../logging/logger';
import { LOG_DB_NAME, MongoLogSink, dbNameFromUrl } from '../logging/mongo-sink';
import { buildGateway } from './server';

const ApiEnvSchema = z.object({
  API_PORT: z.preprocess(
    // Blank counts as unset, like every other variable (config/env.ts).
    (v) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : '8080'),
    z
      .string()
      .regex(/^\d{1,5}$/, 'expected a port number 1-65535')
      .transform(Number)
      .refine((n) => n >= 1 && n <= 65535, 'expected a port number 1-65535'),
  ),
  // Loopback unless opened on purpose (docker-compose sets 0.0.0.0 inside the container and publishes on 127.0.0.1).
  API_HOST: z.string().default('127.0.0.1'),
  // Behind a reverse proxy: `true` (trust every hop), or the proxies' addresses/CIDRs, comma-separated.
  API_TRUST_PROXY: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' || v.trim() === 'false' ? false : v.trim() === 'true' ? true : v.split(',').map((a) => a.trim())))
    .refine((v) => typeof v === 'boolean' || v.every((a) => /^[0-9a-fA-F.:/]+$/.test(a) || ['loopback', 'linklocal', 'uniquelocal'].includes(a)), 'expected true, false or addresses/CIDRs (or loopback, linklocal, uniquelocal), comma-separated'),
});

/** The process config and the gateway's own variables; every bad variable is named at once (exit 78). */
export function loadGatewayConfigOrExit(env: Record<string, string | undefined> = process.env): {
  config: AppConfig;
  port: number;
  host: string;
  trustProxy: boolean | string[];
} {
  const issues: { variable: string; message: string }[] = [];
  let config: AppConfig | undefined;
  try {
    config = parseEnv(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    issues.push(...err.issues);
  }
  const api = ApiEnvSchema.safeParse({ API_PORT: env.API_PORT, API_HOST: env.API_HOST || undefined, API_TRUST_PROXY: env.API_TRUST_PROXY });
  if (!api.success) {
    issues.push(...api.error.issues.map((i) => ({ variable: String(i.path[0]), message: `${i.message}, got ${JSON.stringify(env[String(i.path[0])])}` })));
  }
  if (issues.length > 0 || !config || !api.success) {
    process.stderr.write(`${new ConfigError(issues).message}\n`);
    return process.exit(EXIT_CONFIG);
  }
  return { config, port: api.data.API_PORT, host: api.data.API_HOST, trustProxy: api.data.API_TRUST_PROXY };
}

async function main(): Promise<void> {
  const { config, port, host, trustProxy } = loadGatewayConfigOrExit();
  const sink = new MongoLogSink({ url: config.mongoUrl });
  const logger = createLogger({ level: config.logLevel, service: 'gateway', mongo: sink });
  const mongo = new MongoClient(config.mongoUrl, { serverSelectionTimeoutMS: 5_000, appName: 'maotrade-gateway' });
  const pool = createPool(config.mysqlUrl);
  const connection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const app = await buildGateway({
    client,
    pool,
    mongoDb: mongo.db(dbNameFromUrl(config.mongoUrl) ?? LOG_DB_NAME),
    logger,
    trustProxy,
    sessionDefaults: {
      tradingEnabled: config.tradingEnable,
      dailyCleanTime: `${String(config.dailyCleanTimeUtc.hour).padStart(2, '0')}:${String(config.dailyCleanTimeUtc.minute).padStart(2, '0')}`,
    },
  });
  await app.listen({ port, host });
  logger.info({ port, host, temporal: config.temporal.address }, 'gateway listening');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'gateway stopping');
    await app.close();
    await Promise.allSettled([connection.close(), pool.end(), mongo.close()]);
    await sink.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`gateway failed to start: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
