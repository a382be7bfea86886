import type { FastifyRequest } from 'fastify';
import { authenticate } from './auth';
import { requireGlobal, requireOn, requireSomewhere } from './access';
import type { AccessScope, Gateway, GatewayDeps } from './context';

/**
 * The role check of every route (context.ts `role`, `access`): authentication and the check before the
 * body is parsed (so an unauthenticated caller gets 401 and a forbidden one 403 whatever it sent); for a
 * route whose account is in the body, the account check once the body is validated.
 */

function scopeOf(request: FastifyRequest): AccessScope {
  const config = request.routeOptions.config;
  return config?.access ?? ((request.routeOptions.url ?? '').includes(':account') ? 'path' : 'global');
}

export function registerAccessHooks(app: Gateway, deps: GatewayDeps): void {
  app.addHook('preParsing', async (request, _reply, payload) => {
    const role = request.routeOptions.config?.role;
    if (!role) return payload;
    const caller = await authenticate(deps.pool, request.headers.authorization);
    request.user = caller;
    const scope = scopeOf(request);
    if (scope === 'path') requireOn(caller, String((request.params as { account?: unknown }).account ?? ''), role);
    else if (scope === 'global') requireGlobal(caller, role);
    else requireSomewhere(caller, role);
    return payload;
  });

  app.addHook('preHandler', async (request) => {
    const role = request.routeOptions.config?.role;
    if (!role || !request.user || scopeOf(request) !== 'body') return;
    requireOn(request.user, String((request.body as { account?: unknown } | null)?.account ?? ''), role);
  });
}
