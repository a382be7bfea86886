import type { Connection } from '@temporalio/client';
import { connectTemporal, type TemporalTarget } from './temporal';
import { errorText, evaluate, parseRange, thresholds, type CheckResult, type Status } from './plugin';

export type PollerKind = 'workflow' | 'activity';

export interface WorkerCheckOptions extends TemporalTarget {
  taskQueue: string;
  /** Which poller types to count; default both (a broker queue only has activity pollers). */
  kinds?: PollerKind[];
  /** Ranges on the number of pollers counted; critical defaults to `1:` (none is critical). */
  warning?: string;
  critical?: string;
}

/** temporal.api.enums.v1.TaskQueueType. */
const TASK_QUEUE_TYPE: Record<PollerKind, number> = { workflow: 1, activity: 2 };
/** temporal.api.enums.v1.TaskQueueKind.NORMAL. */
const KIND_NORMAL = 1;

async function pollers(connection: Connection, namespace: string, taskQueue: string, kind: PollerKind): Promise<number> {
  const r = await connection.workflowService.describeTaskQueue({
    namespace,
    taskQueue: { name: taskQueue, kind: KIND_NORMAL },
    taskQueueType: TASK_QUEUE_TYPE[kind],
  });
  return r.pollers?.length ?? 0;
}

/**
 * Workers on a task queue: counts the pollers Temporal saw recently (it keeps a poller listed for about
 * a minute after it stopped polling). CRITICAL when there is none, unless -c says otherwise.
 */
export async function checkWorker(opts: WorkerCheckOptions): Promise<CheckResult> {
  const t = thresholds(opts);
  const critical = t.critical ?? parseRange('1:');
  const kinds = opts.kinds?.length ? opts.kinds : (['workflow', 'activity'] as PollerKind[]);
  let connection: Connection | undefined;
  try {
    ({ connection } = await connectTemporal(opts));
    const counts = await Promise.all(kinds.map((k) => pollers(connection!, opts.namespace, opts.taskQueue, k)));
    const total = counts.reduce((a, b) => a + b, 0);
    const status: Status = evaluate(total, { warning: t.warning, critical });
    const detail = kinds.map((k, i) => `${counts[i]} ${k}`).join(', ');
    return {
      status,
      message: total === 0 ? `no pollers on task queue ${opts.taskQueue} (${detail})` : `${total} pollers on task queue ${opts.taskQueue} (${detail})`,
      perfdata: [
        ...kinds.map((k, i) => ({ label: `${k}_pollers`, value: counts[i], min: 0 })),
        { label: 'pollers', value: total, warning: t.warning, critical, min: 0 },
      ],
    };
  } catch (err) {
    return {
      status: 'CRITICAL',
      message: `cannot describe task queue ${opts.taskQueue} on ${opts.address}: ${errorText(err)}`,
      perfdata: [{ label: 'pollers', value: 0, warning: t.warning, critical, min: 0 }],
    };
  } finally {
    await connection?.close().catch(() => undefined);
  }
}
