/**
 * The worst case of every session call of the paper venue (issue 11, item 4). Each call is one MariaDB
 * transaction on the account's row lock (adapter.ts): no HTTP and no poll, so nothing beats and nothing in
 * the config (fill model and money facts only) changes how long it takes. Allowed: two database round
 * trips' worth (J = DB_ROUND_TRIP_ALLOWANCE_MS each) for the lock and the statements. The lock is contended
 * only by another attempt of the same session's call, which these timeouts rule out.
 */
import { DB_ROUND_TRIP_ALLOWANCE_MS as J, SESSION_BROKER_CALLS, type CallBudget, type CallBudgets } from '../timeouts';

export function paperCallBudgets(): CallBudgets {
  const one: CallBudget = { worstCaseMs: 2 * J, beatGapMs: null, formula: '2·J (one transaction)' };
  return Object.fromEntries(SESSION_BROKER_CALLS.map((call) => [call, one])) as Record<(typeof SESSION_BROKER_CALLS)[number], CallBudget>;
}
