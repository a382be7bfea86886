import Fastify, { LogController, type FastifyBaseLogger } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import { validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { documentTransform } from './responses';
import type { Client } from '@temporalio/client';
import type { Db } from 'mongodb';
import type { Logger } from 'pino';
import type { Pool } from '../db/pool';
import { SESSION_TASK_QUEUE } from '../workflows/definitions';
import { handleError, notFound } from './errors';
import type { Gateway, GatewayDeps, LogDownloadLimits } from './context';
import { registerAccessHooks } from './access-hooks';
import { auditOnResponse } from './audit-hook';
import { AuditStore } from './audit';
import { UserStore } from './user-store';
import { controlBucket, rateLimitKey, type RateLimitOptions } from './rate-limits';
import { registerAuditRoutes } from './routes/audit';
import { registerAccountRoutes } from './routes/accounts';
import { registerSessionRoutes } from './routes/sessions';
import { registerSessionCommandRoutes } from './routes/session-commands';
import { registerLogRoutes } from './routes/logs';
import { registerUserRoutes } from './routes/users';
import { registerTradingStateRoutes } from './routes/trading-state';
import { registerDeskRoutes } from './routes/desk';
import { registerUiRoutes } from './routes/ui';

export interface GatewayOptions {
  client: Client;
  pool: Pool;
  /** The `maologs` database. */
  mongoDb: Db;
  logger: Logger;
  /** Requests per caller (token, else client address) and time window; default 600 per minute, control commands 120 each. */
  rateLimit?: RateLimitOptions;
  /**
   * Behind a reverse proxy: which proxies to trust for `X-Forwarded-For` (fastify's `trustProxy`: true,
   * addresses/CIDRs). Default false: the socket's address is the client's.
   */
  trustProxy?: boolean | string | string[];
  /** Bounds of `GET /logs/download`; default a 7-day span, 4 at once. */
  logDownload?: Partial<LogDownloadLimits>;
  /** Schema of users, grants and the audit trail; default `maohome`. */
  homeSchema?: string;
  /** Task queue of sessions started through the gateway; default SESSION_TASK_QUEUE. */
  sessionTaskQueue?: string;
  /** Of sessions started through the gateway; default dry run, clean time 23:45. */
  sessionDefaults?: { tradingEnabled: boolean; dailyCleanTime: string };
}

/**
 * The REST gateway: a fastify instance (not listening) with zod-validated routes, bearer-token auth by
 * role on each account (api/access.ts), rate limits per token, an audit trail, command logging and the OpenAPI document at `GET /openapi.json`.
 */
export async function buildGateway(opts: GatewayOptions): Promise<Gateway> {
  const deps: GatewayDeps = {
    client: opts.client,
    pool: opts.pool,
    mongoDb: opts.mongoDb,
    logger: opts.logger,
    sessionTaskQueue: opts.sessionTaskQueue ?? SESSION_TASK_QUEUE,
    sessionDefaults: opts.sessionDefaults ?? { tradingEnabled: false, dailyCleanTime: '23:45' },
    users: new UserStore(opts.pool, opts.homeSchema),
    audit: new AuditStore(opts.pool, opts.homeSchema),
    logDownload: { maxSpanMs: 7 * 86_400_000, maxConcurrent: 4, ...opts.logDownload },
  };
  const limits: RateLimitOptions = { max: 600, timeWindowMs: 60_000, ...opts.rateLimit };
  const app = Fastify({
    loggerInstance: opts.logger.child({ component: 'gateway' }) as FastifyBaseLogger,
    // Our own line per command (below) instead of fastify's per-request lines.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024 * 1024,
    trustProxy: opts.trustProxy ?? false,
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  // Response schemas document the bodies (OpenAPI) and do not alter them: sent as the route built them.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request) => {
    throw notFound(`no route ${request.method} ${request.url.split('?')[0]}`);
  });

  // Before the rate-limit plugin's own onRoute hook, which reads the bucket this one sets.
  app.addHook('onRoute', controlBucket(limits));
  await app.register(rateLimit, {
    global: true,
    max: limits.max,
    timeWindow: limits.timeWindowMs,
    keyGenerator: rateLimitKey,
    errorResponseBuilder: (_request, ctx) => ({
      statusCode: 429,
      error: 'rate_limited',
      message: `rate limit exceeded: at most ${ctx.max} requests per ${ctx.after}; retry later`,
    }),
  });

  // Authentication after the rate limit (onRequest), the role on the account the route touches.
  registerAccessHooks(app, deps);
  app.addHook('onResponse', auditOnResponse(deps));

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'MAOTrade gateway',
        version: '0.1.0',
        description: 'Control and read MAOTrade account sessions. Authenticate with `Authorization: Bearer <token>`; roles viewer < trader < admin, per account (grants) or global.',
      },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } },
    },
    transform: documentTransform,
  });

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  registerAccountRoutes(app, deps);
  registerSessionRoutes(app, deps);
  registerSessionCommandRoutes(app, deps);
  registerTradingStateRoutes(app, deps);
  registerLogRoutes(app, deps);
  registerUserRoutes(app, deps);
  registerAuditRoutes(app, deps);
  registerDeskRoutes(app, deps);
  registerUiRoutes(app);

  await app.ready();
  return app;
}
