import { errorText, evaluate, parseRange, thresholds, type CheckResult } from './plugin';

export interface IgAllowanceCheckOptions {
  /** The IG broker worker's Prometheus endpoint, e.g. http://127.0.0.1:9464/metrics. */
  metricsUrl: string;
  /** Ranges on the remaining points; defaults `2000:` (WARNING below 2,000) and `500:` (CRITICAL below 500). */
  warning?: string;
  critical?: string;
  timeoutMs?: number;
}

/** The value of an unlabelled-or-labelled series in Prometheus text, or null when absent. */
function sample(text: string, name: string): number | null {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  if (!line) return null;
  const v = Number(line.trim().split(/\s+/).pop());
  return Number.isFinite(v) ? v : null;
}

/**
 * IG's historical-data allowance (issue 15), read from the IG broker worker's /metrics: the points left as IG's
 * last prices answer said (`maotrade_ig_allowance_remaining`) against -w/-c, and the points this worker spent
 * (`maotrade_ig_history_points_total`). No reading yet (no prices request since the worker started: frames come
 * from the stream) is OK with the points spent (none). An unreachable endpoint is UNKNOWN: whether the worker is
 * down is `check worker`'s and `check breaker`'s to say, not this one's.
 */
export async function checkIgAllowance(opts: IgAllowanceCheckOptions): Promise<CheckResult> {
  const t = thresholds(opts);
  const warning = t.warning ?? parseRange('2000:');
  const critical = t.critical ?? parseRange('500:');
  let text: string;
  try {
    const res = await fetch(opts.metricsUrl, { signal: AbortSignal.timeout(opts.timeoutMs ?? 5_000) });
    if (!res.ok) return { status: 'UNKNOWN', message: `${opts.metricsUrl} answered HTTP ${res.status}`, perfdata: [] };
    text = await res.text();
  } catch (err) {
    return { status: 'UNKNOWN', message: `cannot read ${opts.metricsUrl}: ${errorText(err)}`, perfdata: [] };
  }
  const spent = sample(text, 'maotrade_ig_history_points_total');
  const remaining = sample(text, 'maotrade_ig_allowance_remaining');
  const total = sample(text, 'maotrade_ig_allowance_total');
  if (spent === null) return { status: 'UNKNOWN', message: `no IG history meter at ${opts.metricsUrl} (not the IG broker worker?)`, perfdata: [] };
  const spentDatum = { label: 'points_spent', value: spent, uom: 'c', min: 0 };
  if (remaining === null) {
    return { status: 'OK', message: `no IG prices request since the worker started (${spent} points spent); allowance not read yet`, perfdata: [spentDatum] };
  }
  const status = evaluate(remaining, { warning, critical });
  const of = total !== null ? ` of ${total}` : '';
  return {
    status,
    message: `IG historical-data allowance: ${remaining}${of} points left; ${spent} spent by this worker`,
    perfdata: [{ label: 'allowance_remaining', value: remaining, warning, critical, min: 0, ...(total !== null ? { max: total } : {}) }, spentDatum],
  };
}
