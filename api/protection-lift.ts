import type { TradingState, TradingStateChange } from '../risk/trading-state';
import { riskQuery } from '../workflows/definitions';
import type { Caller } from './access';
import { hasAccountAdminGrant } from './access';
import type { SessionHandle } from './session-handle';

/**
 * Lifting what a protection set (max drawdown → halted, daily loss → reducing) needs an explicit admin
 * grant on that account: a global role, even admin, is not enough, nor is a trader grant. A command
 * that tightens the state, or loosens one a person set, needs no more than the route's role.
 *
 * The session's state is read (risk query) just before the command is sent: a protection that fires in
 * between is not seen; the session itself never lets a command re-tighten less than it asks.
 */

const STRICTNESS: Record<TradingState, number> = { active: 0, reducing: 1, halted: 2 };

/** The protection's change that `to` would lift, or null when `to` lifts nothing a protection set. */
export function protectionLiftedBy(view: { tradingState: TradingState; tradingStateHistory: readonly TradingStateChange[] }, to: TradingState): TradingStateChange | null {
  const last = view.tradingStateHistory.at(-1);
  if (!last || last.source !== 'protection' || last.to !== view.tradingState) return null;
  return STRICTNESS[to] < STRICTNESS[view.tradingState] ? last : null;
}

/** Why the caller may not send `to` to this session (a sentence), or null when it may. */
export async function protectionLiftRefusal(handle: SessionHandle, caller: Caller, account: string, to: TradingState): Promise<string | null> {
  if (to === 'halted' || hasAccountAdminGrant(caller, account)) return null;
  const lifted = protectionLiftedBy(await handle.query(riskQuery), to);
  if (!lifted) return null;
  return (
    `account "${account}" is ${lifted.to} by ${lifted.by} (${lifted.reason}); lifting a protection's ${lifted.to} state ` +
    `needs an explicit admin grant on account "${account}" (user "${caller.name}" has none)`
  );
}
