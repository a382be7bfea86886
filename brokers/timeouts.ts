/**
 * How long a broker call may take, venue-neutral (issue 11, item 4). Each adapter computes, from its own
 * config, the worst case of every call the session makes (brokers/<venue>/timeouts.ts: a pure function per
 * adapter, next to its config); this module turns such a table into the activity options the session's
 * workflow uses: a start-to-close above the worst case, with margin, so one attempt always ends (with an
 * answer or the adapter's own typed error) before Temporal gives up on it and starts the next one; and,
 * for calls that report progress, a heartbeat timeout above the longest stretch without a beat, so a dead
 * worker is noticed long before the start-to-close.
 *
 * Pure data and arithmetic: no I/O, no Node module. The broker worker computes the table from its real
 * config (the `brokerCallTimeouts` activity answers it); the workflow only ever sees the resulting numbers.
 */

/** The broker calls an AccountSession makes (the activities of workflows/effects.ts). */
export const SESSION_BROKER_CALLS = ['placeOrder', 'getOrder', 'getPositions', 'getAccount', 'getInstrument', 'placeStop'] as const;
export type SessionBrokerCall = (typeof SESSION_BROKER_CALLS)[number];

/** One call's worst case, as its adapter computes it from its config. */
export interface CallBudget {
  /** The longest the call can take before the adapter itself answers or throws, ms. */
  worstCaseMs: number;
  /**
   * The longest stretch of the call without a progress beat (brokers/progress.ts), ms; null when the call
   * does not beat (then it gets no heartbeat timeout).
   */
  beatGapMs: number | null;
  /** How `worstCaseMs` is made up, in the config's words (for the log, the docs and the tests). */
  formula: string;
}

export type CallBudgets = Readonly<Record<SessionBrokerCall, CallBudget>>;

/** The activity options of one call, in ms (plain numbers: they travel through the workflow's history). */
export interface CallTimeouts {
  startToCloseMs: number;
  /** Absent: the call does not heartbeat. */
  heartbeatTimeoutMs?: number;
}

export type BrokerCallTimeouts = Readonly<Record<SessionBrokerCall, CallTimeouts>>;

/**
 * Margin over a worst case: × 1.25 + 5 s. The factor absorbs a config read on another host or a slower
 * machine; the constant absorbs Temporal's own dispatch and the answer's way back to the server.
 */
export const START_TO_CLOSE_MARGIN = Object.freeze({ factor: 1.25, plusMs: 5_000 });
/** Margin over the longest stretch without a beat: × 1.5 + 2 s (the SDK also throttles heartbeats). */
export const HEARTBEAT_MARGIN = Object.freeze({ factor: 1.5, plusMs: 2_000 });

/**
 * Time allowed for one database round trip of an adapter's own bookkeeping (the IG submission journal, one
 * paper-venue transaction). The pools set no statement timeout, so this is an allowance, not a bound: a
 * healthy MariaDB answers in milliseconds; the only lock these statements can wait on is held by another
 * attempt of the same order, which the timeouts computed here rule out (a crashed worker's connection drops
 * and frees its locks).
 */
export const DB_ROUND_TRIP_ALLOWANCE_MS = 5_000;

const withMargin = (ms: number, m: { factor: number; plusMs: number }) => Math.ceil(ms * m.factor) + m.plusMs;

/** The activity options of every session call from an adapter's budgets. */
export function activityTimeouts(budgets: CallBudgets): BrokerCallTimeouts {
  const out = {} as Record<SessionBrokerCall, CallTimeouts>;
  for (const call of SESSION_BROKER_CALLS) {
    const b = budgets[call];
    const startToCloseMs = withMargin(b.worstCaseMs, START_TO_CLOSE_MARGIN);
    const heartbeatTimeoutMs = b.beatGapMs === null ? undefined : withMargin(b.beatGapMs, HEARTBEAT_MARGIN);
    // A heartbeat timeout at or above the start-to-close would never fire first: leave it out.
    out[call] = heartbeatTimeoutMs !== undefined && heartbeatTimeoutMs < startToCloseMs ? { startToCloseMs, heartbeatTimeoutMs } : { startToCloseMs };
  }
  return Object.freeze(out);
}

/** An adapter that knows its calls' worst cases (IG, Alpaca, paper; CircuitBreakingAdapter forwards it). */
export interface ReportsCallBudgets {
  callBudgets(): CallBudgets;
}

export function reportsCallBudgets(adapter: unknown): adapter is ReportsCallBudgets {
  return typeof (adapter as Partial<ReportsCallBudgets> | null)?.callBudgets === 'function';
}

