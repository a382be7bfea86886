import Fastify, { LogController, type FastifyBaseLogger } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Client } from '@temporalio/client';
import type { Db } from 'mongodb';
import type { Logger } from 'pino';
import type { Pool } from '../db/pool';
import { SESSION_TASK_QUEUE } from '../workflows/definitions';
import { authenticate, authorize } from './auth';
import { handleError, notFound } from './errors';
import type { Gateway, GatewayDeps } from './context';
import { registerAccountRoutes } from './routes/accounts';
import { registerSessionRoutes } from './routes/sessions';
import { registerSessionCommandRoutes } from './routes/session-commands';
import { registerLogRoutes } from './routes/logs';
import { registerUserRoutes } from './routes/users';
import { registerTradingStateRoutes } from './routes/trading-state';

export interface GatewayOptions {
  client: Client;
  pool: Pool;
  /** The `maologs` database. */
  mongoDb: Db;
  logger: Logger;
  /** Requests per client IP and time window; default 600 per minute. */
  rateLimit?: { max: number; timeWindowMs: number };
  /** Task queue of sessions started through the gateway; default SESSION_TASK_QUEUE. */
  sessionTaskQueue?: string;
  /** Of sessions started through the gateway; default dry run, clean time 23:45. */
  sessionDefaults?: { tradingEnabled: boolean; dailyCleanTime: string };
}

/**
 * The REST gateway: a fastify instance (not listening) with zod-validated routes, bearer-token auth by
 * role, a rate limit, command logging and the OpenAPI document at `GET /openapi.json`.
 */
export async function buildGateway(opts: GatewayOptions): Promise<Gateway> {
  const deps: GatewayDeps = {
    client: opts.client,
    pool: opts.pool,
    mongoDb: opts.mongoDb,
    logger: opts.logger,
    sessionTaskQueue: opts.sessionTaskQueue ?? SESSION_TASK_QUEUE,
    sessionDefaults: opts.sessionDefaults ?? { tradingEnabled: false, dailyCleanTime: '23:45' },
  };
  const app = Fastify({
    loggerInstance: opts.logger.child({ component: 'gateway' }) as FastifyBaseLogger,
    // Our own line per command (below) instead of fastify's per-request lines.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024 * 1024,
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request) => {
    throw notFound(`no route ${request.method} ${request.url.split('?')[0]}`);
  });

  await app.register(rateLimit, {
    global: true,
    max: opts.rateLimit?.max ?? 600,
    timeWindow: opts.rateLimit?.timeWindowMs ?? 60_000,
    errorResponseBuilder: (_request, ctx) => ({
      statusCode: 429,
      error: 'rate_limited',
      message: `rate limit exceeded: at most ${ctx.max} requests per ${ctx.after}; retry later`,
    }),
  });

  // Authentication after the rate limit (onRequest) and before the body is parsed or validated:
  // an unauthenticated caller gets 401 and a too-low role 403 whatever it sent.
  app.addHook('preParsing', async (request, _reply, payload) => {
    const role = request.routeOptions.config?.role;
    if (role) {
      request.user = await authenticate(deps.pool, request.headers.authorization);
      authorize(request.user, role);
    }
    return payload;
  });

  // Every command (anything but a read) is logged once, with its outcome. Never the token: the
  // Authorization header is not logged, and the logger redacts token/password fields anywhere.
  app.addHook('onResponse', async (request, reply) => {
    if (request.method === 'GET' || request.method === 'HEAD' || request.method === 'OPTIONS') return;
    const pathParams = (request.params ?? {}) as Record<string, unknown>;
    const body = request.body !== null && typeof request.body === 'object' ? (request.body as Record<string, unknown>) : {};
    const { account, ...rest } = { ...pathParams, ...body };
    deps.logger.info(
      {
        account: typeof account === 'string' ? account : undefined,
        by: request.user?.name ?? null,
        command: request.routeOptions.config?.command ?? `${request.method} ${request.routeOptions.url ?? request.url.split('?')[0]}`,
        params: { ...rest, ...(request.query && typeof request.query === 'object' ? request.query : {}) },
        statusCode: reply.statusCode,
      },
      'api command',
    );
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'MAOTrade gateway',
        version: '0.1.0',
        description: 'Control and read MAOTrade account sessions. Authenticate with `Authorization: Bearer <token>`; roles viewer < trader < admin.',
      },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } },
    },
    transform: jsonSchemaTransform,
  });

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  registerAccountRoutes(app, deps);
  registerSessionRoutes(app, deps);
  registerSessionCommandRoutes(app, deps);
  registerTradingStateRoutes(app, deps);
  registerLogRoutes(app, deps);
  registerUserRoutes(app, deps);

  await app.ready();
  return app;
}
