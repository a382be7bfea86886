/**
 * Helpers shared by the live benchmarks in bench/: percentiles, and a profile of where time goes in a
 * workflow's history (workflow tasks queued / running, activities dispatched / running), per signal.
 */
import type { WorkflowHandle } from '@temporalio/client';

export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i];
}
export const median = (xs: readonly number[]): number => percentile(xs, 50);
export const ms = (x: number, digits = 1): string => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');

function tsMs(t: any): number {
  if (!t) return NaN;
  const s = t.seconds;
  const secs = typeof s === 'object' && s !== null ? s.toNumber() : Number(s ?? 0);
  return secs * 1000 + (t.nanos ?? 0) / 1e6;
}

/**
 * For each signal in the history (after `skipSignals`), the time spent until the next signal (or the
 * end) in each phase: a workflow task queued (scheduled→started), running (started→completed), an
 * activity dispatched (scheduled→started) and running (started→completed), summed per signal; returns
 * each phase's median over the signals, and the median number of activities per signal.
 */
export async function profileHistory(
  handle: WorkflowHandle,
  opts: { skipSignals?: number; signalName?: string; lastSignals?: number; untilSignal?: number } = {},
): Promise<{ phases: Record<string, number>; activitiesPerSignal: number; signals: number }> {
  const history = await handle.fetchHistory();
  const events = history.events ?? [];
  const perSignal: Record<string, number>[] = [];
  const actCounts: number[] = [];
  let cur: Record<string, number> | null = null;
  let acts = 0;
  const scheduled = new Map<string, { at: number; name: string }>(); // activity scheduled event id → time
  const started = new Map<string, { at: number; name: string }>();
  let wftScheduled = NaN;
  let wftStarted = NaN;
  let signalsSeen = 0;
  const add = (k: string, v: number) => {
    if (cur && Number.isFinite(v)) cur[k] = (cur[k] ?? 0) + v;
  };
  for (const e of events) {
    const at = tsMs(e.eventTime);
    const id = String(e.eventId);
    if (e.workflowExecutionSignaledEventAttributes) {
      if (opts.signalName && e.workflowExecutionSignaledEventAttributes.signalName !== opts.signalName) continue;
      signalsSeen++;
      if (opts.untilSignal !== undefined && signalsSeen > opts.untilSignal) {
        if (cur) {
          perSignal.push(cur);
          actCounts.push(acts);
        }
        cur = null;
        break;
      }
      if (cur) {
        perSignal.push(cur);
        actCounts.push(acts);
      }
      cur = signalsSeen > (opts.skipSignals ?? 0) ? {} : null;
      acts = 0;
    } else if (e.workflowTaskScheduledEventAttributes) {
      wftScheduled = at;
    } else if (e.workflowTaskStartedEventAttributes) {
      wftStarted = at;
      add('workflow task queued', at - wftScheduled);
    } else if (e.workflowTaskCompletedEventAttributes) {
      add('workflow task running', at - wftStarted);
    } else if (e.activityTaskScheduledEventAttributes) {
      scheduled.set(id, { at, name: e.activityTaskScheduledEventAttributes.activityType?.name ?? '?' });
      acts++;
    } else if (e.activityTaskStartedEventAttributes) {
      const s = scheduled.get(String(e.activityTaskStartedEventAttributes.scheduledEventId));
      if (s) {
        add(`activity ${s.name} dispatched`, at - s.at);
        started.set(String(e.activityTaskStartedEventAttributes.scheduledEventId), { at, name: s.name });
      }
    } else if (e.activityTaskCompletedEventAttributes) {
      const s = started.get(String(e.activityTaskCompletedEventAttributes.scheduledEventId));
      if (s) add(`activity ${s.name} running`, at - s.at);
    }
  }
  if (cur) {
    perSignal.push(cur);
    actCounts.push(acts);
  }
  if (opts.lastSignals !== undefined) {
    perSignal.splice(0, Math.max(0, perSignal.length - opts.lastSignals));
    actCounts.splice(0, Math.max(0, actCounts.length - opts.lastSignals));
  }
  const keys = [...new Set(perSignal.flatMap((r) => Object.keys(r)))];
  const phases: Record<string, number> = {};
  for (const k of keys) phases[k] = median(perSignal.map((r) => r[k] ?? 0));
  return { phases, activitiesPerSignal: median(actCounts), signals: perSignal.length };
}
