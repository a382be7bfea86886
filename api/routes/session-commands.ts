import { z } from 'zod';
import {
  closeAllUpdate,
  closePositionUpdate,
  pauseSignal,
  reconcileUpdate,
  resumeSignal,
  setParamsUpdate,
} from '../../workflows/definitions';
import { AccountIdSchema, SystemConfigSchema } from '../../config/session-config';
import { BEARER_SECURITY, userOf, type Gateway, type GatewayDeps } from '../context';
import { onSession } from '../session-handle';
import { ReconciliationReportSchema, TradeSchema, responses } from '../responses';

/** Commands to a running session (trader): signals for pause/resume, updates where the caller needs the result. */

const AcceptedBody = z.object({ account: z.string(), command: z.string(), accepted: z.literal(true) });
const ClosePositionResponse = responses({ 200: z.object({ account: z.string(), systemId: z.string(), trade: TradeSchema.nullable().describe('the closing trade; null when it had no position') }) });
const CloseAllResponse = responses({ 200: z.object({ account: z.string(), trades: z.array(TradeSchema) }) });
const ParamsResponse = responses({ 200: z.object({ account: z.string(), systemId: z.string(), params: z.record(z.unknown()).describe('the system parameters now in force') }) });
const ReconcileResponse = responses({ 200: z.object({ account: z.string(), report: ReconciliationReportSchema }) });
const AccountParams = z.object({ account: AccountIdSchema });
const SystemParams = z.object({ account: AccountIdSchema, systemId: SystemConfigSchema.shape.id });
// No body at all is fine (fastify gives null then).
const Reason = z.object({ reason: z.string().min(1).max(500).optional() }).strict().nullish();

export function registerSessionCommandRoutes(app: Gateway, deps: GatewayDeps): void {
  for (const [command, signal] of [
    ['pause', pauseSignal],
    ['resume', resumeSignal],
  ] as const) {
    app.post(
      `/sessions/:account/${command}`,
      {
        config: { role: 'trader', command, control: true },
        schema: {
          tags: ['session commands'],
          summary:
            command === 'pause'
              ? 'Pause a session: no new entries; exits and stops still work (signal)'
              : 'Resume a paused session (signal)',
          security: BEARER_SECURITY, response: responses({ 202: AcceptedBody }),
          params: AccountParams,
          body: Reason,
        },
      },
      async (request, reply) => {
        const { account } = request.params;
        await onSession(deps, account, (h) => h.signal(signal, { by: userOf(request).name, reason: request.body?.reason ?? '' }));
        return reply.status(202).send({ account, command, accepted: true });
      },
    );
  }

  app.post(
    '/sessions/:account/positions/:systemId/close',
    {
      config: { role: 'trader', command: 'close-position', control: true },
      schema: {
        tags: ['session commands'],
        summary: "Close one system's position (update); returns the trade, or null when it had none",
        security: BEARER_SECURITY, response: ClosePositionResponse,
        params: SystemParams,
      },
    },
    async (request) => {
      const { account, systemId } = request.params;
      const trade = await onSession(deps, account, (h) =>
        h.executeUpdate(closePositionUpdate, { args: [{ systemId, by: userOf(request).name }] }),
      );
      return { account, systemId, trade };
    },
  );

  app.post(
    '/sessions/:account/close-all',
    {
      config: { role: 'trader', command: 'close-all', control: true },
      schema: { tags: ['session commands'], summary: 'Close every open position (update); returns the trades', security: BEARER_SECURITY, response: CloseAllResponse, params: AccountParams },
    },
    async (request) => {
      const { account } = request.params;
      const trades = await onSession(deps, account, (h) => h.executeUpdate(closeAllUpdate, { args: [{ by: userOf(request).name }] }));
      return { account, trades };
    },
  );

  app.put(
    '/sessions/:account/systems/:systemId/params',
    {
      config: { role: 'trader', command: 'set-params' },
      schema: {
        tags: ['session commands'],
        summary: "Change a system's parameters (update); only the named ones change; validated by the system's schema",
        security: BEARER_SECURITY, response: ParamsResponse,
        params: SystemParams,
        body: z.object({ params: z.record(z.unknown()) }).strict(),
      },
    },
    async (request) => {
      const { account, systemId } = request.params;
      const params = await onSession(deps, account, (h) =>
        h.executeUpdate(setParamsUpdate, { args: [{ systemId, params: request.body.params, by: userOf(request).name }] }),
      );
      return { account, systemId, params };
    },
  );

  app.post(
    '/sessions/:account/reconcile',
    {
      config: { role: 'trader', command: 'reconcile' },
      schema: {
        tags: ['session commands'],
        summary: "Reconcile the session's positions with the broker's now (update); returns the report",
        security: BEARER_SECURITY, response: ReconcileResponse,
        params: AccountParams,
        body: Reason,
      },
    },
    async (request) => {
      const { account } = request.params;
      const by = userOf(request).name;
      const report = await onSession(deps, account, (h) =>
        h.executeUpdate(reconcileUpdate, { args: [{ by, reason: request.body?.reason ?? `requested by ${by} through the gateway` }] }),
      );
      return { account, report };
    },
  );
}
