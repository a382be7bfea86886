import Table from 'cli-table3';
import { plainStyle } from './settings';
import type { Client, Connection } from '@temporalio/client';
import { SA_BROKER, statusQuery, type StatusView } from '../workflows/definitions';
import { accountOf, runningSessionsQuery } from '../fleet/sessions-query';

export interface SessionRow {
  account: string;
  workflowId: string;
  runId: string;
  broker: string | null;
  startedAt: string;
  /** The status query's answer, or null when the session did not answer (see `error`). */
  status: StatusView | null;
  error?: string;
}

/**
 * Running sessions found through Temporal visibility (narrowed by a validated search-attribute filter,
 * see fleet/sessions-query.ts), each with its status query (bounded by a deadline).
 */
export async function listSessions(client: Client, connection: Connection, queryTimeoutMs = 5_000, filter?: string): Promise<SessionRow[]> {
  const rows: SessionRow[] = [];
  for await (const wf of client.workflow.list({ query: runningSessionsQuery(filter), pageSize: 200 })) {
    rows.push({
      account: accountOf(wf),
      workflowId: wf.workflowId,
      runId: wf.runId,
      broker: wf.typedSearchAttributes.get(SA_BROKER) ?? null,
      startedAt: wf.startTime.toISOString(),
      status: null,
    });
  }
  await Promise.all(
    rows.map(async (r) => {
      try {
        const handle = client.workflow.getHandle(r.workflowId);
        r.status = await connection.withDeadline(Date.now() + queryTimeoutMs, () => handle.query(statusQuery));
      } catch (err) {
        // The SDK's own message ("Failed to query Workflow") hides the reason, which is in the cause.
        const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
        r.error = err instanceof Error ? `${err.message}${cause}` : String(err);
      }
    }),
  );
  return rows.sort((a, b) => a.account.localeCompare(b.account));
}

const age = (ms: number | undefined) => (ms === undefined ? '-' : `${Math.round((Date.now() - ms) / 1000)} s`);

export function sessionsTable(rows: SessionRow[]): string {
  const table = new Table({
    style: plainStyle(),
    head: ['account', 'broker', 'status', 'trading state', 'mode', 'frames', 'last frame', 'orders', 'rejected', 'unknown', 'drifts'],
  });
  for (const r of rows) {
    const s = r.status;
    if (!s) {
      table.push([r.account, r.broker ?? '-', { colSpan: 9, content: `no answer: ${r.error ?? 'unknown'}` }]);
      continue;
    }
    const frames = Object.values(s.lastFrames);
    table.push([
      r.account,
      s.broker,
      s.status,
      // A run started before trading states existed has none: it trades as active.
      s.tradingState ?? 'active',
      s.tradingEnabled ? 'live' : 'dry run',
      s.counters.framesProcessed,
      age(frames.length ? Math.max(...frames) : undefined),
      s.counters.ordersPlaced,
      s.counters.ordersRejected,
      s.unknownOrders,
      s.lastReconciliation?.drifts ?? 0,
    ]);
  }
  return rows.length ? table.toString() : 'no running sessions';
}
