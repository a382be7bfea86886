import type { Connection } from '@temporalio/client';
import { SA_TRADING_STATE } from '../../workflows/definitions';
import { VisibilityFilterSchema, accountOf, runningSessionsQuery } from '../../fleet/sessions-query';
import { connectTemporal, type TemporalTarget } from './temporal';
import { errorText, evaluate, thresholds, worst, type CheckResult } from './plugin';

export interface FleetCheckOptions extends TemporalTarget {
  /** Search-attribute filter narrowing the fleet, e.g. `MaoBroker = 'ig'`. */
  query?: string;
  /** Range on the number of reducing sessions (default '0': any is WARNING). */
  warning?: string;
  /** Range on the number of halted sessions (default '0': any is CRITICAL). */
  critical?: string;
}

const NAMED = 10;

/**
 * The fleet's trading states from Temporal visibility (search attribute MaoTradingState, upserted by
 * each session on every change): how many running sessions are halted or reducing, and which. Lags
 * a change by about a second (visibility is eventually consistent).
 */
export async function checkFleet(opts: FleetCheckOptions): Promise<CheckResult> {
  const filter = opts.query === undefined ? undefined : VisibilityFilterSchema.safeParse(opts.query);
  if (filter && !filter.success) return { status: 'UNKNOWN', message: `--query: ${filter.error.issues[0].message}`, perfdata: [] };
  const reducingT = thresholds({ warning: opts.warning ?? '0' }).warning!;
  const haltedT = thresholds({ critical: opts.critical ?? '0' }).critical!;
  const running = runningSessionsQuery(filter?.data);
  let connection: Connection | undefined;
  try {
    const c = await connectTemporal(opts);
    connection = c.connection;
    const total = (await c.client.workflow.count(running)).count;
    const stopped: Record<'halted' | 'reducing', string[]> = { halted: [], reducing: [] };
    for await (const wf of c.client.workflow.list({ query: `${running} AND MaoTradingState IN ('halted', 'reducing')`, pageSize: 200 })) {
      const state = wf.typedSearchAttributes.get(SA_TRADING_STATE);
      if (state === 'halted' || state === 'reducing') stopped[state].push(accountOf(wf));
    }
    const [halted, reducing] = [stopped.halted.sort(), stopped.reducing.sort()];
    const status = worst(evaluate(halted.length, { critical: haltedT }), evaluate(reducing.length, { warning: reducingT }));
    const named = (accounts: string[]) => (accounts.length ? ` (${accounts.slice(0, NAMED).join(', ')}${accounts.length > NAMED ? ', ...' : ''})` : '');
    const where = filter?.data ? ` matching ${filter.data}` : '';
    return {
      status,
      message: `${total} running session(s)${where}: ${halted.length} halted${named(halted)}, ${reducing.length} reducing${named(reducing)}`,
      perfdata: [
        { label: 'sessions', value: total, min: 0 },
        { label: 'halted', value: halted.length, critical: haltedT, min: 0 },
        { label: 'reducing', value: reducing.length, warning: reducingT, min: 0 },
      ],
    };
  } catch (err) {
    return { status: 'CRITICAL', message: `cannot list sessions: ${errorText(err)}`, perfdata: [] };
  } finally {
    await connection?.close().catch(() => undefined);
  }
}
