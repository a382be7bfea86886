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
import type { Caller } from './access';
import type { AuditStore } from './audit';
import type { Role } from './roles';
import type { UserStore } from './user-store';

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
  /** Users, tokens and grants (`maohome`). */
  readonly users: UserStore;
  /** The audit trail (`maohome.audit_log`). */
  readonly audit: AuditStore;
  /** Bounds of `GET /logs/download`. */
  readonly logDownload: LogDownloadLimits;
}

export interface LogDownloadLimits {
  /** The longest time range (to - from) one download may span, ms. */
  readonly maxSpanMs: number;
  /** Downloads streaming at once, over all callers; one more gets 429. */
  readonly maxConcurrent: number;
}

/**
 * Which account a route's role is checked on: `path` the `:account` parameter (the default when the
 * URL has one), `body` the body's `account` (checked once the body is validated), `caller` any account
 * (the handler narrows to the caller's accounts), `global` the global role (the default otherwise).
 */
export type AccessScope = 'path' | 'body' | 'caller' | 'global';

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
    /** Where that role is checked (see AccessScope). */
    access?: AccessScope;
    /** A control command (pause, halt, reducing, close-all, ...): its own rate-limit bucket, never the reads'. */
    control?: boolean;
    /** Name of the command a non-GET route performs, as logged. */
    command?: string;
  }
  interface FastifyRequest {
    /** The authenticated caller (set before the body is parsed). */
    user?: Caller;
  }
}

/** OpenAPI security requirement of every authenticated route. */
export const BEARER_SECURITY = [{ bearerAuth: [] as string[] }];

/** The user of an authenticated route (the auth hook ran before the handler). */
export function userOf(request: { user?: Caller }): Caller {
  if (!request.user) throw new Error('route has no role: no authenticated user');
  return request.user;
}
