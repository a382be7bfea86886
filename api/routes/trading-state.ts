import { z } from 'zod';
import { TradingStateCommandSchema } from '../../risk/trading-state';
import { setTradingStateUpdate } from '../../workflows/definitions';
import { AccountIdSchema } from '../../config/session-config';
import { VisibilityFilterSchema } from '../../fleet/sessions-query';
import { FleetInputError, FleetQueryError } from '../../fleet/errors';
import { BEARER_SECURITY, userOf, type Gateway, type GatewayDeps } from '../context';
import { badRequest, forbidden, temporalToApiError } from '../errors';
import { onSession, runningSession } from '../session-handle';
import { callerFleetTradingState } from '../fleet-access';
import { protectionLiftRefusal } from '../protection-lift';
import { TradingStateChangeSchema, responses } from '../responses';

/**
 * Trading states (trader): one session's, or the fleet's (only the sessions of accounts the caller may
 * trade; the others are listed as skipped). Lifting a state a protection set needs an explicit admin
 * grant on the account (api/protection-lift.ts). `by` is always the authenticated user's name, never
 * taken from the body (a body naming `by` is refused), so each session records who gave the command.
 */

const AccountParams = z.object({ account: AccountIdSchema });
const SessionBody = TradingStateCommandSchema.omit({ by: true }).strict();
const FleetBody = SessionBody.extend({ query: VisibilityFilterSchema.optional() }).strict();

const TradingStateResponse = responses({ 200: z.object({ account: z.string(), change: TradingStateChangeSchema.nullable().describe('the recorded change; null when it already was in that state') }) });
const FleetTradingStateResponse = responses({
  200: z.object({
    command: z.object({ state: z.enum(['active', 'reducing', 'halted']), by: z.string(), reason: z.string() }),
    query: z.string().describe('the visibility query the sessions were listed with'),
    matched: z.number().int(),
    changed: z.number().int(),
    unchanged: z.number().int(),
    failed: z.number().int(),
    sessions: z.array(
      z.object({
        account: z.string(),
        workflowId: z.string(),
        ok: z.boolean(),
        outcome: z.enum(['changed', 'unchanged', 'error']),
        change: TradingStateChangeSchema.nullable(),
        error: z.string().optional(),
      }),
    ),
    skipped: z.array(z.object({ account: z.string(), workflowId: z.string(), reason: z.string() })),
  }),
});

export function registerTradingStateRoutes(app: Gateway, deps: GatewayDeps): void {
  app.post(
    '/sessions/:account/trading-state',
    {
      config: { role: 'trader', command: 'set-trading-state', control: true },
      schema: {
        tags: ['session commands'],
        summary:
          "Set a session's trading state (update): active, reducing (only closes pass) or halted (nothing passes); " +
          'returns the recorded change, or null when it already was in that state; lifting a state a protection set (max drawdown, daily loss) needs an explicit admin grant on the account',
        security: BEARER_SECURITY, response: TradingStateResponse,
        params: AccountParams,
        body: SessionBody,
      },
    },
    async (request) => {
      const { account } = request.params;
      const caller = userOf(request);
      const command = { ...request.body, by: caller.name };
      const handle = await runningSession(deps, account);
      let refusal: string | null;
      try {
        refusal = await protectionLiftRefusal(handle, caller, account, command.state);
      } catch (err) {
        return temporalToApiError(err, account);
      }
      if (refusal) throw forbidden(refusal);
      const change = await onSession(deps, account, (h) => h.executeUpdate(setTradingStateUpdate, { args: [command] }));
      return { account, change };
    },
  );

  app.post(
    '/fleet/trading-state',
    {
      config: { role: 'trader', access: 'caller', command: 'fleet-trading-state', control: true },
      schema: {
        tags: ['session commands'],
        summary:
          'Set the trading state of every running session, or of those `query` selects (a search-attribute filter such as ' +
          "`MaoBroker = 'ig'`), among the accounts the caller may trade; returns each session's answer and, in `skipped`, " +
          'the selected sessions it was not sent to and why (no trader grant; a protection state that needs an account admin). ' +
          'Visibility lags: a session started in the last seconds may be ' +
          'missed; the command is idempotent, send it again.',
        security: BEARER_SECURITY, response: FleetTradingStateResponse,
        body: FleetBody,
      },
    },
    async (request) => {
      try {
        const { query, ...command } = request.body;
        return await callerFleetTradingState(deps.client, userOf(request), { command: { ...command, by: userOf(request).name }, query });
      } catch (err) {
        if (err instanceof FleetQueryError) throw badRequest(err.message, [{ field: 'query', message: err.message, in: 'body' }]);
        if (err instanceof FleetInputError) throw badRequest(err.message, err.fields.map((f) => ({ ...f, in: 'body' as const })));
        throw err;
      }
    },
  );
}
