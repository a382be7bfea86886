/**
 * The worst case of every session call of the Alpaca adapter, from its config (issue 11, item 4). Pure: the
 * one place that knows how long the Alpaca code paths (execution.ts, stops.ts, instruments.ts, index.ts)
 * may wait. Keep in step with them: test/brokers/alpaca-timeouts.test.ts checks the numbers and that the
 * fill wait beats on every iteration.
 *
 * Words (all ms): T = httpTimeoutMs, one HTTP exchange (client.ts aborts it then; Alpaca keys need no
 * login, so there is no renewal); F = orderFillWaitMs; I = orderPollIntervalMs; N = positionHistoryPages;
 * S = the symbols the account holds (not in the config: an assumption, ALPACA_ASSUMED_SYMBOLS_HELD).
 * - A submit (execution.ts submit) is the POST and, on an ambiguous answer, the look-up: 2·T.
 * - A fill or cancel wait (awaitSettled) ends at most one exchange after F: F + T.
 * Beats (brokers/progress.ts) come before every HTTP exchange and on every poll iteration, so the longest
 * stretch without one is an exchange plus a poll sleep: T + I.
 */
import type { CallBudgets } from '../timeouts';
import type { AlpacaConfig } from './config';

export type AlpacaTimingConfig = Pick<AlpacaConfig, 'httpTimeoutMs' | 'orderFillWaitMs' | 'orderPollIntervalMs' | 'positionHistoryPages'>;

/**
 * Symbols held at once assumed for getPositions, which reads up to N pages of order history per symbol.
 * An account holding more makes getPositions longer than its start-to-close; it keeps beating, and a timed
 * out read is retried (reads are read-only).
 */
export const ALPACA_ASSUMED_SYMBOLS_HELD = 10;

export function alpacaCallBudgets(c: AlpacaTimingConfig, symbolsHeld = ALPACA_ASSUMED_SYMBOLS_HELD): CallBudgets {
  const T = c.httpTimeoutMs;
  const F = c.orderFillWaitMs;
  const beatGapMs = T + c.orderPollIntervalMs;
  // Open: look-up, submit, fill wait, look-up of the stop `<id>-S`, its submit.
  const open = T + 2 * T + (F + T) + T + 2 * T;
  // Close: look-up, the stop's look-ups (`-S`, and its re-placed `-S2` after an earlier refused close), cancel it
  // (DELETE, GET, wait), positions, submit, then either the fill wait or, refused, the stop re-placed (a submit).
  const closeHead = T + 2 * T + (T + T + (F + T)) + T + 2 * T;
  const close = closeHead + Math.max(F + T, 2 * T);
  return {
    placeOrder: {
      worstCaseMs: Math.max(open, close),
      beatGapMs,
      formula: '10·T + 2·F  (close: cancel the stop, then the order; refused, 11·T + F: the stop re-placed; an open is 7·T + F)',
    },
    // A stop leg `<ref>-S` is answered by its latest incarnation: `-S`, then `-S2` after a refused close.
    getOrder: { worstCaseMs: 2 * T, beatGapMs, formula: '2·T' },
    getPositions: { worstCaseMs: T + symbolsHeld * c.positionHistoryPages * T, beatGapMs, formula: `T + S·N·T  (S = ${symbolsHeld} symbols held, assumed)` },
    getAccount: { worstCaseMs: T, beatGapMs, formula: 'T' },
    // Asset, clock, the account's currency (asked once per adapter).
    getInstrument: { worstCaseMs: 3 * T, beatGapMs, formula: '3·T' },
    // Look-ups of `<ref>-S` (and `-S2` when a refused close re-placed it), of the entry, positions, quote, submit.
    placeStop: { worstCaseMs: 7 * T, beatGapMs, formula: '7·T' },
  };
}
