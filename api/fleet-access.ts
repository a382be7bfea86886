import type { Client } from '@temporalio/client';
import { FLEET_DEFAULTS, listFleet, setSessionTradingState, type FleetTradingStateResult, type SessionTradingStateResult } from '../fleet/trading-state';
import { mapBounded } from '../fleet/bounded';
import type { TradingStateCommand } from '../risk/trading-state';
import { accountsWith, type Caller } from './access';
import { protectionLiftRefusal } from './protection-lift';
import type { SessionHandle } from './session-handle';

/**
 * A fleet trading-state command as a caller may give it: the sessions the filter selects, intersected
 * with the accounts the caller may trade; each session left out is listed with why (no trader grant,
 * or a protection's state only an account admin may lift). Nothing is sent to a skipped session.
 */

export interface SkippedSession {
  account: string;
  workflowId: string;
  reason: string;
}

/** The fleet answer (`matched` counts the sessions the command was sent to) and the skipped sessions. */
export interface CallerFleetResult extends FleetTradingStateResult {
  /** Sessions the filter selected that the caller may not command, sorted by account. */
  skipped: SkippedSession[];
}

export async function callerFleetTradingState(
  client: Client,
  caller: Caller,
  request: { command: TradingStateCommand; query?: string },
): Promise<CallerFleetResult> {
  const { query, targets } = await listFleet(client, request.query);
  const tradable = accountsWith(caller, 'trader');
  const skipped: SkippedSession[] = [];
  const allowed = [];
  for (const t of targets) {
    if (tradable === 'all' || tradable.includes(t.account)) allowed.push(t);
    else skipped.push({ ...t, reason: `user "${caller.name}" may not trade account "${t.account}" (no trader grant)` });
  }
  const { state } = request.command;
  const checked = await mapBounded(allowed, FLEET_DEFAULTS.concurrency, async (t) => {
    const handle = client.workflow.getHandle(t.workflowId) as SessionHandle;
    try {
      return { t, refusal: await protectionLiftRefusal(handle, caller, t.account, state) };
    } catch {
      // Fail closed: without its risk view it cannot be told whether this lifts a protection.
      return { t, refusal: `the trading state of account "${t.account}" could not be read, so the command was not sent (it may lift a protection)` };
    }
  });
  const send = [];
  for (const { t, refusal } of checked) {
    if (refusal) skipped.push({ ...t, reason: refusal });
    else send.push(t);
  }
  const sessions = await mapBounded(send, FLEET_DEFAULTS.concurrency, (t) => setSessionTradingState(client, t.account, request.command));
  const count = (o: SessionTradingStateResult['outcome']) => sessions.filter((s) => s.outcome === o).length;
  skipped.sort((a, b) => a.account.localeCompare(b.account));
  return { command: request.command, query, matched: sessions.length, changed: count('changed'), unchanged: count('unchanged'), failed: count('error'), sessions, skipped };
}
