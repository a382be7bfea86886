import { z } from 'zod';
import { TradingStateCommandSchema } from '../../risk/trading-state';
import { setTradingStateUpdate } from '../../workflows/definitions';
import { AccountIdSchema } from '../../config/session-config';
import { VisibilityFilterSchema } from '../../fleet/sessions-query';
import { setFleetTradingState } from '../../fleet/trading-state';
import { FleetInputError, FleetQueryError } from '../../fleet/errors';
import { BEARER_SECURITY, userOf, type Gateway, type GatewayDeps } from '../context';
import { badRequest } from '../errors';
import { onSession } from '../session-handle';

/**
 * Trading states (trader): one session's, or the fleet's. `by` is always the authenticated user's
 * name, never taken from the body (a body naming `by` is refused), so each session records who gave
 * the command.
 */

const AccountParams = z.object({ account: AccountIdSchema });
const SessionBody = TradingStateCommandSchema.omit({ by: true }).strict();
const FleetBody = SessionBody.extend({ query: VisibilityFilterSchema.optional() }).strict();

export function registerTradingStateRoutes(app: Gateway, deps: GatewayDeps): void {
  app.post(
    '/sessions/:account/trading-state',
    {
      config: { role: 'trader', command: 'set-trading-state' },
      schema: {
        tags: ['session commands'],
        summary:
          "Set a session's trading state (update): active, reducing (only closes pass) or halted (nothing passes); " +
          'returns the recorded change, or null when it already was in that state',
        security: BEARER_SECURITY,
        params: AccountParams,
        body: SessionBody,
      },
    },
    async (request) => {
      const { account } = request.params;
      const command = { ...request.body, by: userOf(request).name };
      const change = await onSession(deps, account, (h) => h.executeUpdate(setTradingStateUpdate, { args: [command] }));
      return { account, change };
    },
  );

  app.post(
    '/fleet/trading-state',
    {
      config: { role: 'trader', command: 'fleet-trading-state' },
      schema: {
        tags: ['session commands'],
        summary:
          'Set the trading state of every running session, or of those `query` selects (a search-attribute filter such as ' +
          "`MaoBroker = 'ig'`); returns each session's answer. Visibility lags: a session started in the last seconds may be " +
          'missed; the command is idempotent, send it again.',
        security: BEARER_SECURITY,
        body: FleetBody,
      },
    },
    async (request) => {
      try {
        return await setFleetTradingState(deps.client, { ...request.body, by: userOf(request).name });
      } catch (err) {
        if (err instanceof FleetQueryError) throw badRequest(err.message, [{ field: 'query', message: err.message, in: 'body' }]);
        if (err instanceof FleetInputError) throw badRequest(err.message, err.fields.map((f) => ({ ...f, in: 'body' as const })));
        throw err;
      }
    },
  );
}
