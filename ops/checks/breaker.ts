import { errorText, type CheckResult } from './plugin';

export interface BreakerCheckOptions {
  /** The broker worker's Prometheus endpoint, e.g. http://127.0.0.1:9464/metrics. */
  metricsUrl: string;
  broker: string;
  timeoutMs?: number;
}

const STATE_NAMES = ['closed', 'half-open', 'open'] as const;

/**
 * A broker's circuit breaker, read from its worker's /metrics: closed OK, half-open WARNING, open
 * CRITICAL (the broker is failing and sessions are waiting on it). An unreachable endpoint is CRITICAL:
 * the broker worker itself is down.
 */
export async function checkBreaker(opts: BreakerCheckOptions): Promise<CheckResult> {
  let text: string;
  try {
    const res = await fetch(opts.metricsUrl, { signal: AbortSignal.timeout(opts.timeoutMs ?? 5_000) });
    if (!res.ok) return { status: 'CRITICAL', message: `${opts.metricsUrl} answered HTTP ${res.status}`, perfdata: [] };
    text = await res.text();
  } catch (err) {
    return { status: 'CRITICAL', message: `cannot read ${opts.metricsUrl}: ${errorText(err)}`, perfdata: [] };
  }
  const line = text
    .split('\n')
    .find((l) => l.startsWith('maotrade_breaker_state{') && new RegExp(`broker="${opts.broker}"`).test(l));
  if (!line) return { status: 'UNKNOWN', message: `no breaker state for broker ${opts.broker} at ${opts.metricsUrl}`, perfdata: [] };
  const value = Number(line.trim().split(/\s+/).pop());
  const name = STATE_NAMES[value] ?? `state ${value}`;
  const status = value >= 2 ? 'CRITICAL' : value === 1 ? 'WARNING' : 'OK';
  return {
    status,
    message: `broker ${opts.broker} circuit ${name}`,
    perfdata: [{ label: 'breaker_state', value, warning: undefined, critical: undefined, min: 0, max: 2 }],
  };
}
