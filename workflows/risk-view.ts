import type { RiskLimits } from '../risk/limits';
import type { ProtectionLock } from '../risk/locks';
import type { ProtectionState, ProtectionsConfig } from '../risk/protections';
import type { TradingState, TradingStateChange } from '../risk/trading-state';
import type { WorkingOrder } from '../trading/working-order';
import type { RiskRefusal } from '../risk/refusal';

/** RiskRefusal lives in risk/refusal.ts; re-exported here so workflow code keeps compiling. */
export type { RiskRefusal };

/** What the `risk` query shows: the account's trading state, its limits and everything currently blocking orders. */
export interface RiskView {
  tradingState: TradingState;
  limits: RiskLimits;
  protections: ProtectionsConfig;
  protectionState: ProtectionState | null;
  locks: ProtectionLock[];
  workingOrders: WorkingOrder[];
  lastRefusals: RiskRefusal[];
  tradingStateHistory: TradingStateChange[];
}
