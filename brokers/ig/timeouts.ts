/**
 * The worst case of every session call of the IG adapter, from its config (issue 11, item 4). Pure: the
 * one place that knows how long the IG code paths (execution.ts, lookup.ts, stops.ts, data.ts) may wait.
 * Keep in step with them: test/brokers/ig-timeouts.test.ts checks the numbers and that a confirm poll
 * beats on every iteration.
 *
 * Words (all ms): T = httpTimeoutMs, one HTTP exchange (client.ts aborts it then); W = confirmWindowMs;
 * I = confirmPollIntervalMs; P = activityMaxPages (one activity search reads at most P pages);
 * J = DB_ROUND_TRIP_ALLOWANCE_MS, one submission-journal statement.
 * - A confirm poll (execution.ts pollConfirm) ends at most one exchange after its window: W + T.
 * - An open look-up (lookup.ts open) is a confirm, the positions and an activity search: (2 + P)·T.
 * - A session renewal (client.ts: a refused token → re-login, at most two exchanges, then the request is
 *   sent again) is counted once per call, R = 3·T; a fresh token refused again fails the call.
 * Beats (brokers/progress.ts) come before every HTTP exchange and on every poll iteration, so the longest
 * stretch without one is an exchange plus a poll sleep or a journal statement: T + max(I, J).
 */
import { DB_ROUND_TRIP_ALLOWANCE_MS as J, type CallBudgets } from '../timeouts';
import type { IgConfig } from './config';

export type IgTimingConfig = Pick<IgConfig, 'httpTimeoutMs' | 'confirmWindowMs' | 'confirmPollIntervalMs' | 'activityMaxPages'>;

export function igCallBudgets(c: IgTimingConfig): CallBudgets {
  const T = c.httpTimeoutMs;
  const W = c.confirmWindowMs;
  const P = c.activityMaxPages;
  const R = 3 * T;
  const beatGapMs = T + Math.max(c.confirmPollIntervalMs, J);
  // placeOrder, open (the longer path): journal find, open look-up, deal terms, journal claim, POST, confirm
  // poll; unconfirmed → settleOpen: confirm poll again, open look-up again; journal note of the deal id.
  const open = 3 * J + 2 * (2 + P) * T + T + T + 2 * (W + T) + R;
  // placeOrder, close: journal find, close look-up (confirm, positions, P pages), positions, journal reclaim,
  // POST, journal note, confirm poll, close look-up again.
  const close = 3 * J + (2 + P) * T + T + T + (W + T) + (2 + P) * T + R;
  return {
    placeOrder: {
      worstCaseMs: Math.max(open, close),
      beatGapMs,
      formula: '3·J + 2·(2+P)·T + 2·T + 2·(W+T) + 3·T  (open; a close is shorter by W)',
    },
    // Journal find, then the open look-up (a close or stop look-up is no longer).
    getOrder: { worstCaseMs: J + (2 + P) * T + R, beatGapMs, formula: 'J + (2+P)·T + 3·T' },
    getPositions: { worstCaseMs: T + R, beatGapMs, formula: 'T + 3·T' },
    getAccount: { worstCaseMs: T + R, beatGapMs, formula: 'T + 3·T' },
    // The market, and the account's currency (asked once per adapter).
    getInstrument: { worstCaseMs: 2 * T + R, beatGapMs, formula: '2·T + 3·T' },
    // Positions, PUT amendment, confirm poll, positions; the position gone → getOrder of its stop leg
    // (journal find, positions, P activity pages).
    placeStop: { worstCaseMs: T + T + (W + T) + T + J + (1 + P) * T + R, beatGapMs, formula: 'W + J + (5+P)·T + 3·T' },
  };
}
