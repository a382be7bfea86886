import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Client } from '@temporalio/client';
import type { Db } from 'mongodb';
import type { Logger } from 'pino';
import type { Pool } from '../db/pool';
import type { ApiUser, Role } from './auth';

/** What the gateway talks to: sessions only through the Temporal client, data only through the stores. */
export interface GatewayDeps {
  readonly client: Client;
  readonly pool: Pool;
  /** The `maologs` database. */
  readonly mongoDb: Db;
  readonly logger: Logger;
  /** Task queue of sessions started through the gateway. */
  readonly sessionTaskQueue: string;
  /** `tradingEnabled` and `dailyCleanTime` of sessions started through the gateway (from the environment). */
  readonly sessionDefaults: { readonly tradingEnabled: boolean; readonly dailyCleanTime: string };
}

export type Gateway = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ZodTypeProvider
>;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The least role a route needs; routes without one are public. */
    role?: Role;
    /** Name of the command a non-GET route performs, as logged. */
    command?: string;
  }
  interface FastifyRequest {
    /** The authenticated caller (set before the body is parsed). */
    user?: ApiUser;
  }
}

/** OpenAPI security requirement of every authenticated route. */
export const BEARER_SECURITY = [{ bearerAuth: [] as string[] }];

/** The user of an authenticated route (the auth hook ran before the handler). */
export function userOf(request: { user?: ApiUser }): ApiUser {
  if (!request.user) throw new Error('route has no role: no authenticated user');
  return request.user;
}
