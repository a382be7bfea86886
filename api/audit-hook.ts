import type { FastifyRequest } from 'fastify';
import type { GatewayDeps } from './context';
import { outcomeOf } from './audit';

/**
 * Every command (anything but a read, plus log downloads) is logged once with its outcome and written to
 * the audit table. Never the token: the Authorization header is read by no one here, and the logger
 * redacts token/password fields anywhere.
 */

const isRead = (request: FastifyRequest) => ['GET', 'HEAD', 'OPTIONS'].includes(request.method);
const audited = (request: FastifyRequest) => !isRead(request) || request.routeOptions.url === '/logs/download';

export function commandRecord(request: FastifyRequest) {
  const pathParams = (request.params ?? {}) as Record<string, unknown>;
  const body = request.body !== null && typeof request.body === 'object' ? (request.body as Record<string, unknown>) : {};
  const { account, ...rest } = { ...pathParams, ...body };
  return {
    account: typeof account === 'string' ? account : undefined,
    command: request.routeOptions.config?.command ?? `${request.method} ${request.routeOptions.url ?? request.url.split('?')[0]}`,
    params: { ...rest, ...(request.query && typeof request.query === 'object' ? request.query : {}) },
  };
}

export function auditOnResponse(deps: GatewayDeps) {
  return async (request: FastifyRequest, reply: { statusCode: number }): Promise<void> => {
    if (!audited(request)) return;
    const { account, command, params } = commandRecord(request);
    if (!isRead(request)) {
      deps.logger.info({ account, by: request.user?.name ?? null, command, params, statusCode: reply.statusCode }, 'api command');
    }
    const route = `${request.method} ${request.routeOptions.url ?? '(no route)'}`;
    try {
      await deps.audit.record({
        userId: request.user?.id ?? null,
        userName: request.user?.name ?? null,
        via: 'api',
        route,
        command,
        account: account && /^[a-z][a-z0-9_]{0,19}$/.test(account) ? account : null,
        statusCode: reply.statusCode,
        outcome: outcomeOf(reply.statusCode),
        detail: params,
      });
    } catch (err) {
      deps.logger.error({ err, route, command }, 'audit record failed');
    }
  };
}
