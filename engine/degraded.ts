/**
 * Errors that need a person park the session; they never fail it (issue 11, item 3). A read the broker
 * refuses for good (401 during a key rotation, an unlisted 4xx) moves the session to `degraded`: shown by
 * the status query and the MaoStatus search attribute, logged at error, CRITICAL in `maotrade check
 * session`; the session keeps taking frames (stops and exits run; entries wait) and tries again on a
 * durable deadline with backoff. The first read that succeeds afterwards ends it.
 */
import type { SessionStatus } from '../workflows/definitions';
import type { EngineContext } from './context';

export interface Degradation {
  since: number;
  reason: string;
  /** Next retry (workflow time). */
  retryAt: number;
  retries: number;
}

/** First retry after 30 s, doubling to at most 10 minutes. */
export function degradedRetryDelayMs(retries: number): number {
  return Math.min(600_000, 30_000 * 2 ** Math.min(retries, 5));
}

/** What the session shows: degraded wins over running and paused while it lasts. */
export function shownStatus(ctx: EngineContext): SessionStatus {
  return ctx.state.degraded ? 'degraded' : ctx.state.status;
}

export function degrade(ctx: EngineContext, reason: string): void {
  const { state, ports } = ctx;
  const now = ports.now();
  if (state.degraded) {
    state.degraded.reason = reason;
    state.degraded.retries++;
    state.degraded.retryAt = now + degradedRetryDelayMs(state.degraded.retries);
  } else {
    state.degraded = { since: now, reason, retryAt: now + degradedRetryDelayMs(0), retries: 0 };
    ports.statusChanged('degraded');
  }
  ports.log('error', 'session degraded: a broker read needs a person', { account: ctx.account, reason, retryAt: state.degraded.retryAt, retries: state.degraded.retries });
  ports.timersChanged();
}

export function recover(ctx: EngineContext, what: string): void {
  const { state, ports } = ctx;
  if (!state.degraded) return;
  const since = state.degraded.since;
  state.degraded = null;
  ports.statusChanged(state.status);
  ports.log('info', 'session recovered from degraded', { account: ctx.account, after: what, degradedForMs: ports.now() - since });
}
