import { z } from 'zod';
import { ZodError } from 'zod';
import { HomeStore } from '../../db/home-store';
import {
  SA_ACCOUNT,
  SA_BROKER,
  SA_STATUS,
  pnlQuery,
  riskQuery,
  positionsQuery,
  sessionWorkflowId,
  statusQuery,
} from '../../workflows/definitions';
import { AccountIdSchema, BrokerNameSchema, SessionConfigSchema, crossAccountNettingIssues } from '../../config/session-config';
import { isNettingVenue } from '../../brokers/capabilities';
import type { accountSession } from '../../workflows/account-session';
import { accountsWith } from '../access';
import { BEARER_SECURITY, userOf, type Gateway, type GatewayDeps } from '../context';
import { ApiError, notFound, temporalToApiError, zodFields } from '../errors';
import { onSession, runningSession } from '../session-handle';
import { RUNNING_SESSIONS_QUERY } from '../../fleet/sessions-query';
import { feederWorkflowId, subscribeSignal, unsubscribeSignal } from '../../workflows/market-data-feeder';
import type { Client } from '@temporalio/client';
import { PnlViewSchema, PositionSchema, RiskViewSchema, StatusViewSchema, responses } from '../responses';

/**
 * Signals (un)subscribe to the feeders of an account's systems that exist; a feeder that does not run
 * (not found, completed) is skipped. Idempotent: the feeder keeps a set of subscribers.
 */
async function signalFeeders(client: Client, home: HomeStore, account: string, signal: typeof subscribeSignal): Promise<string[]> {
  const signalled: string[] = [];
  for (const { broker, symbol, timeframe } of await home.feedsOf(account)) {
    const id = feederWorkflowId(broker, symbol, timeframe);
    try {
      await client.workflow.getHandle(id).signal(signal, account);
      signalled.push(id);
    } catch {
      // No such feeder running: nothing to (un)subscribe.
    }
  }
  return signalled;
}

/** Sessions: the running ones (Temporal visibility), one session's queries, start and stop. */

const SessionsResponse = responses({
  200: z.object({
    sessions: z.array(
      z.object({
        account: z.string().nullable(),
        broker: z.string().nullable(),
        status: z.string().nullable(),
        workflowId: z.string(),
        runId: z.string(),
        taskQueue: z.string(),
        startTime: z.date(),
      }),
    ),
  }),
});
const StatusResponse = responses({ 200: StatusViewSchema });
const PositionsResponse = responses({ 200: z.object({ positions: z.array(PositionSchema) }) });
const PnlResponse = responses({ 200: PnlViewSchema });
const RiskResponse = responses({ 200: RiskViewSchema });
const StartResponse = responses({
  201: z.object({
    account: z.string(),
    broker: z.string(),
    workflowId: z.string(),
    runId: z.string(),
    taskQueue: z.string(),
    systems: z.array(z.string()),
  }),
}, [409, 422]);
const StopResponse = responses({ 200: z.object({ account: z.string(), stopped: z.boolean(), reason: z.string(), unsubscribed: z.unknown().describe('the feeders it was unsubscribed from') }) });
const AccountParams = z.object({ account: AccountIdSchema });
const MAX_LISTED = 1000;

export function registerSessionRoutes(app: Gateway, deps: GatewayDeps): void {
  const { client, pool } = deps;

  app.get(
    '/sessions',
    {
      config: { role: 'viewer', access: 'caller' },
      schema: {
        tags: ['sessions'],
        summary: 'Running sessions of the accounts the caller may view, from Temporal visibility (search attributes MaoAccount, MaoBroker, MaoStatus)',
        security: BEARER_SECURITY, response: SessionsResponse,
        // Validated values only are put in the visibility query: both schemas allow [a-z0-9_] only.
        querystring: z.object({ account: AccountIdSchema.optional(), broker: BrokerNameSchema.optional() }),
      },
    },
    async (request) => {
      const { account, broker } = request.query;
      const mine = accountsWith(userOf(request), 'viewer');
      if (mine !== 'all' && (mine.length === 0 || (account && !mine.includes(account)))) return { sessions: [] };
      const query = [
        RUNNING_SESSIONS_QUERY,
        ...(account ? [`MaoAccount = '${account}'`] : []),
        ...(broker ? [`MaoBroker = '${broker}'`] : []),
        // Account ids are validated ([a-z0-9_]) wherever they enter maohome.
        ...(mine === 'all' ? [] : [`MaoAccount IN (${mine.map((a) => `'${a}'`).join(', ')})`]),
      ].join(' AND ');
      const sessions = [];
      for await (const wf of client.workflow.list({ query, pageSize: 200 })) {
        const sa = wf.typedSearchAttributes.get(SA_ACCOUNT);
        if (mine !== 'all' && !(sa && mine.includes(sa))) continue;
        sessions.push({
          account: wf.typedSearchAttributes.get(SA_ACCOUNT) ?? null,
          broker: wf.typedSearchAttributes.get(SA_BROKER) ?? null,
          status: wf.typedSearchAttributes.get(SA_STATUS) ?? null,
          workflowId: wf.workflowId,
          runId: wf.runId,
          taskQueue: wf.taskQueue,
          startTime: wf.startTime,
        });
        if (sessions.length >= MAX_LISTED) break;
      }
      return { sessions };
    },
  );

  app.get(
    '/sessions/:account',
    {
      config: { role: 'viewer' },
      schema: { tags: ['sessions'], summary: 'Status of an account session (status query)', security: BEARER_SECURITY, response: StatusResponse, params: AccountParams },
    },
    async (request) => onSession(deps, request.params.account, (h) => h.query(statusQuery)),
  );

  app.get(
    '/sessions/:account/positions',
    {
      config: { role: 'viewer' },
      schema: { tags: ['sessions'], summary: 'Open positions of a session (positions query)', security: BEARER_SECURITY, response: PositionsResponse, params: AccountParams },
    },
    async (request) => ({ positions: await onSession(deps, request.params.account, (h) => h.query(positionsQuery)) }),
  );

  app.get(
    '/sessions/:account/pnl',
    {
      config: { role: 'viewer' },
      schema: { tags: ['sessions'], summary: 'Realised and unrealised P&L of a session (pnl query)', security: BEARER_SECURITY, response: PnlResponse, params: AccountParams },
    },
    async (request) => onSession(deps, request.params.account, (h) => h.query(pnlQuery)),
  );

  app.get(
    '/sessions/:account/risk',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['sessions'],
        summary: 'Risk view of a session (risk query): trading state and its history, limits, protections, locks, working orders, last refusals',
        security: BEARER_SECURITY, response: RiskResponse,
        params: AccountParams,
      },
    },
    async (request) => onSession(deps, request.params.account, (h) => h.query(riskQuery)),
  );

  app.post(
    '/sessions',
    {
      config: { role: 'admin', access: 'body', command: 'start-session' },
      schema: {
        tags: ['sessions'],
        summary:
          "Start an account's session from its configuration in maohome; 409 if one is running; 422 if the configuration is invalid, or (netting_conflict) another account on the same netting venue (one key per worker) trades one of its symbols",
        security: BEARER_SECURITY, response: StartResponse,
        body: z.object({ account: AccountIdSchema }).strict(),
      },
    },
    async (request, reply) => {
      const { account } = request.body;
      const home = new HomeStore(pool);
      let config;
      try {
        config = await home.loadSessionConfig(account, deps.sessionDefaults);
      } catch (err) {
        if (!(err instanceof ZodError)) throw err;
        const fields = zodFields(err.issues, 'config');
        throw new ApiError(422, 'invalid_config', `the stored configuration of account "${account}" is invalid: ${fields.map((f) => `${f.field}: ${f.message}`).join('; ')}`, fields);
      }
      if (!config) throw notFound(`unknown account "${account}" (not in maohome.accounts)`);
      // Validated again here, at the edge, whatever the store did.
      config = SessionConfigSchema.parse(config);
      // On a netting venue every account of the broker shares the worker's one key, hence one position per
      // symbol: refused, before it is subscribed to any feeder, when another account trades one of its symbols.
      if (isNettingVenue(config.broker)) {
        const others = await home.systemsTrading(config.broker, [...new Set(config.systems.map((s) => s.symbol))], account);
        const issues = crossAccountNettingIssues(config, others);
        if (issues.length > 0) {
          const fields = zodFields(issues.map((i) => ({ code: 'custom' as const, ...i })), 'config');
          throw new ApiError(
            422,
            'netting_conflict',
            `account "${account}" cannot start on ${config.broker}: ${fields.map((f) => `${f.field}: ${f.message}`).join('; ')}`,
            fields,
          );
        }
      }
      // Started again on purpose: the feeders may start and feed it again.
      await home.clearStopped(account);
      await signalFeeders(client, home, account, subscribeSignal);
      try {
        const handle = await client.workflow.start<typeof accountSession>('accountSession', {
          taskQueue: deps.sessionTaskQueue,
          workflowId: sessionWorkflowId(account),
          args: [{ config }],
          typedSearchAttributes: [
            { key: SA_ACCOUNT, value: config.account },
            { key: SA_BROKER, value: config.broker },
            { key: SA_STATUS, value: 'running' },
          ],
          memo: { startedBy: userOf(request).name },
        });
        return reply.status(201).send({
          account,
          broker: config.broker,
          workflowId: handle.workflowId,
          runId: handle.firstExecutionRunId,
          taskQueue: deps.sessionTaskQueue,
          systems: config.systems.map((s) => s.id),
        });
      } catch (err) {
        return temporalToApiError(err, account);
      }
    },
  );

  app.delete(
    '/sessions/:account',
    {
      config: { role: 'admin', command: 'stop-session' },
      schema: {
        tags: ['sessions'],
        summary: "Stop an account's session (terminate, with the reason and who): marked stopped in maohome so feeders do not start it again, and unsubscribed from its feeders; POST /sessions clears the mark",
        security: BEARER_SECURITY, response: StopResponse,
        params: AccountParams,
        querystring: z.object({ reason: z.string().min(1).max(500).optional() }),
      },
    },
    async (request) => {
      const { account } = request.params;
      const by = userOf(request).name;
      const handle = await runningSession(deps, account);
      const reason = `stopped by ${by} through the gateway${request.query.reason ? `: ${request.query.reason}` : ''}`;
      // Marked stopped before the terminate: a feeder's signal-with-start never starts it again.
      const home = new HomeStore(pool);
      await home.markStopped(account, by, reason);
      try {
        await handle.terminate(reason);
      } catch (err) {
        return temporalToApiError(err, account);
      }
      const unsubscribed = await signalFeeders(client, home, account, unsubscribeSignal);
      return { account, stopped: true, reason, unsubscribed };
    },
  );
}
