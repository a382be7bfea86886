import { z } from 'zod';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { TradingStateCommandSchema, type TradingStateChange, type TradingStateCommand } from '../risk/trading-state';
import { sessionWorkflowId, setTradingStateUpdate } from '../workflows/definitions';
import { errorText } from '../ops/checks/plugin';
import { mapBounded } from './bounded';
import { FleetInputError, FleetQueryError } from './errors';
import { VisibilityFilterSchema, accountOf, runningSessionsQuery } from './sessions-query';

/**
 * Fleet commands on trading states: set active, reducing or halted on every running session, or on
 * those a search-attribute filter selects, each through the session's `setTradingState` update (so
 * each session records who gave it and why). See sessions-query.ts on visibility lag.
 */

export const FLEET_DEFAULTS = Object.freeze({ concurrency: 8, updateTimeoutMs: 15_000 });

export const FleetTradingStateRequestSchema = TradingStateCommandSchema.extend({
  /** Search-attribute filter, AND-ed with "running account sessions", e.g. `MaoBroker = 'ig'`. */
  query: VisibilityFilterSchema.optional(),
  /** Updates in flight at once. */
  concurrency: z.number().int().min(1).max(64).default(FLEET_DEFAULTS.concurrency),
  /** How long one session may take to answer its update before it counts as failed, in ms. */
  updateTimeoutMs: z.number().int().min(100).max(300_000).default(FLEET_DEFAULTS.updateTimeoutMs),
}).strict();
export type FleetTradingStateRequest = z.input<typeof FleetTradingStateRequestSchema>;

/** What one session answered. `changed`: it moved to the state; `unchanged`: it already was in it. */
export interface SessionTradingStateResult {
  account: string;
  workflowId: string;
  ok: boolean;
  outcome: 'changed' | 'unchanged' | 'error';
  /** The recorded change (with its `from` state), null unless `changed`. */
  change: TradingStateChange | null;
  /** Why it failed (no running session, validator refusal, no answer in time), only when `error`. */
  error?: string;
}

export interface FleetTradingStateResult {
  command: TradingStateCommand;
  /** The visibility query the sessions were listed with. */
  query: string;
  matched: number;
  changed: number;
  unchanged: number;
  failed: number;
  /** Sorted by account. */
  sessions: SessionTradingStateResult[];
}

function parseInput<S extends z.ZodTypeAny>(schema: S, input: unknown): z.output<S> {
  const r = schema.safeParse(input);
  if (!r.success) {
    throw new FleetInputError(r.error.issues.map((i) => ({ field: i.path.join('.') || 'command', message: i.message })));
  }
  return r.data;
}

/** gRPC status somewhere in the cause chain (the client wraps it once or twice). */
function grpcCode(err: unknown): number | undefined {
  for (let e: any = err, depth = 0; e && depth < 5; e = e.cause, depth++) {
    if (typeof e.code === 'number') return e.code;
  }
  return undefined;
}
const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_INVALID_ARGUMENT = 3;

function failureText(err: unknown, timeoutMs: number): string {
  if (err instanceof WorkflowNotFoundError || grpcCode(err) === 5) return 'no running session (it ended, or never started)';
  // The validator's refusal names the field; the SDK's own message ("Workflow Update failed") does not.
  if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) return err.cause.message;
  if (grpcCode(err) === GRPC_DEADLINE_EXCEEDED) return `no answer within ${timeoutMs / 1000} s (is a session worker polling its task queue?)`;
  return errorText(err);
}

async function sendCommand(
  client: Client,
  target: { account: string; workflowId: string },
  command: TradingStateCommand,
  timeoutMs: number,
): Promise<SessionTradingStateResult> {
  // No run id: the update reaches the current run even after a continue-as-new.
  const handle = client.workflow.getHandle(target.workflowId);
  try {
    const change = await client.connection.withDeadline(Date.now() + timeoutMs, () =>
      handle.executeUpdate(setTradingStateUpdate, { args: [command] }),
    );
    return { ...target, ok: true, outcome: change ? 'changed' : 'unchanged', change };
  } catch (err) {
    return { ...target, ok: false, outcome: 'error', change: null, error: failureText(err, timeoutMs) };
  }
}

/** One account's session; a failure is the result's `error`, an invalid command a FleetInputError. */
export async function setSessionTradingState(
  client: Client,
  account: string,
  command: TradingStateCommand,
  updateTimeoutMs: number = FLEET_DEFAULTS.updateTimeoutMs,
): Promise<SessionTradingStateResult> {
  const valid = parseInput(TradingStateCommandSchema, command);
  return sendCommand(client, { account, workflowId: sessionWorkflowId(account) }, valid, updateTimeoutMs);
}

/** Lists the running sessions the filter selects; a filter the server refuses is a FleetQueryError. */
export async function listFleet(client: Client, filter?: string): Promise<{ query: string; targets: { account: string; workflowId: string }[] }> {
  const query = runningSessionsQuery(filter);
  const targets: { account: string; workflowId: string }[] = [];
  try {
    for await (const wf of client.workflow.list({ query, pageSize: 200 })) {
      // The filter is validated to stay inside its parentheses; this keeps any other workflow out anyway.
      if (wf.type !== 'accountSession' || wf.status.name !== 'RUNNING') continue;
      targets.push({ account: accountOf(wf), workflowId: wf.workflowId });
    }
  } catch (err) {
    if (grpcCode(err) === GRPC_INVALID_ARGUMENT) throw new FleetQueryError(query, errorText(err));
    throw err;
  }
  targets.sort((a, b) => a.account.localeCompare(b.account));
  return { query, targets };
}

/**
 * Sends the trading-state command to every running session the filter selects, `concurrency` at a
 * time, and reports each session's answer. Idempotent: sessions already in the state are `unchanged`.
 */
export async function setFleetTradingState(client: Client, request: FleetTradingStateRequest): Promise<FleetTradingStateResult> {
  const { query: filter, concurrency, updateTimeoutMs, ...command } = parseInput(FleetTradingStateRequestSchema, request);
  const { query, targets } = await listFleet(client, filter);
  const sessions = await mapBounded(targets, concurrency, (t) => sendCommand(client, t, command, updateTimeoutMs));
  const count = (o: SessionTradingStateResult['outcome']) => sessions.filter((s) => s.outcome === o).length;
  return {
    command,
    query,
    matched: sessions.length,
    changed: count('changed'),
    unchanged: count('unchanged'),
    failed: count('error'),
    sessions,
  };
}
