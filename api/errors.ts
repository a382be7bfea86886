import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { ZodError, type ZodIssue } from 'zod';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';

/**
 * Errors of the REST gateway, classed by what the caller should do next. Every error body has the
 * same shape: `{ error: <code>, message, fields? }`, where `fields` names each bad input field.
 */

export interface FieldIssue {
  readonly field: string;
  readonly message: string;
  /** Where the field was: the path, the query string or the body. */
  readonly in?: 'path' | 'query' | 'body';
}

export interface ErrorBody {
  error: string;
  message: string;
  fields?: FieldIssue[];
}

export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly fields?: readonly FieldIssue[],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const badRequest = (message: string, fields?: FieldIssue[]) => new ApiError(400, 'bad_request', message, fields);
export const unauthorized = (message = 'a valid API token is required (Authorization: Bearer <token>)') =>
  new ApiError(401, 'unauthorized', message);
export const forbidden = (message: string) => new ApiError(403, 'forbidden', message);
export const notFound = (message: string) => new ApiError(404, 'not_found', message);
export const conflict = (message: string) => new ApiError(409, 'conflict', message);

/** zod issues as field issues: `field` is the dotted path (`params.fastPeriod`), under `prefix` if given. */
export function zodFields(issues: readonly ZodIssue[], prefix?: string, where?: FieldIssue['in']): FieldIssue[] {
  const field = (path: readonly (string | number)[]) => [...(prefix ? [prefix] : []), ...path.map(String)].join('.') || prefix || where || 'body';
  // An unknown key is named itself (e.g. `by`, which a trading-state body must not carry), not its object.
  return issues.flatMap((i) =>
    (i.code === 'unrecognized_keys' ? i.keys.map((k) => [...i.path, k]) : [i.path]).map((path) => ({
      field: field(path),
      message: i.message,
      ...(where ? { in: where } : {}),
    })),
  );
}

const LOCATIONS: Record<string, FieldIssue['in']> = { params: 'path', querystring: 'query', body: 'body' };

const describe = (fields: readonly FieldIssue[]) => fields.map((f) => `${f.field}: ${f.message}`).join('; ');

export function fromZodError(err: ZodError, prefix?: string): ApiError {
  const fields = zodFields(err.issues, prefix);
  return badRequest(describe(fields), fields);
}

/** gRPC NOT_FOUND from Temporal, however the client wrapped it. */
function isTemporalNotFound(err: unknown): boolean {
  for (let e: any = err, depth = 0; e && depth < 4; e = e.cause, depth++) {
    if (e instanceof WorkflowNotFoundError || e?.name === 'WorkflowNotFoundError' || e?.code === 5) return true;
  }
  return false;
}

/**
 * Maps what the Temporal client threw while talking to an account's session onto an API error: an
 * unknown or finished session is 404, an update refused by its validator is 400 with the workflow's
 * message (which names the field), an already running session is 409. Anything else is rethrown.
 */
export function temporalToApiError(err: unknown, account: string): never {
  if (err instanceof ApiError) throw err;
  if (err instanceof WorkflowExecutionAlreadyStartedError) throw conflict(`a session of account "${account}" is already running`);
  if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) {
    const message = err.cause.message;
    const m = /(?:^|: )((?:params|systemId|frames?)(?:\.[\w-]+)*|[\w-]+)(?=: )/.exec(message);
    throw badRequest(message, m ? [{ field: m[1], message }] : undefined);
  }
  if (isTemporalNotFound(err)) throw notFound(`no running session for account "${account}"`);
  throw err;
}

/** The gateway's error handler: every error becomes an ErrorBody; 5xx are logged, never detailed. */
export function handleError(err: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): void {
  if (err instanceof ApiError) {
    if (err.statusCode === 401) void reply.header('www-authenticate', 'Bearer');
    void reply.status(err.statusCode).send({ error: err.code, message: err.message, ...(err.fields ? { fields: err.fields } : {}) });
    return;
  }
  if (hasZodFastifySchemaValidationErrors(err)) {
    const where = LOCATIONS[(err as { validationContext?: string }).validationContext ?? ''];
    const fields = zodFields(err.validation.map((v) => v.params.issue), undefined, where);
    void reply.status(400).send({ error: 'bad_request', message: describe(fields), fields });
    return;
  }
  if (err instanceof ZodError) {
    const e = fromZodError(err);
    void reply.status(400).send({ error: e.code, message: e.message, fields: e.fields });
    return;
  }
  const status = (err as FastifyError).statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const code = status === 429 ? 'rate_limited' : status === 400 ? 'bad_request' : status === 404 ? 'not_found' : 'client_error';
    void reply.status(status).send({ error: code, message: err.message });
    return;
  }
  request.log.error({ err, method: request.method, route: request.routeOptions?.url }, 'request failed');
  void reply.status(500).send({ error: 'internal', message: 'internal error; see the gateway log' });
}
