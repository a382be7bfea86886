import type { RiskLimits } from '../risk/limits';
import type { ProtectionLock } from '../risk/locks';
import type { RiskRule } from '../risk/pre-trade';
import type { ProtectionState, ProtectionsConfig } from '../risk/protections';
import type { TradingState, TradingStateChange } from '../risk/trading-state';
import type { WorkingOrder } from '../trading/working-order';

/** An order intent the risk engine refused before any broker call, as recorded in `mt_<account>.risk_refusals`. */
export interface RiskRefusal {
  refusalId: string;
  systemId: string;
  symbol: string;
  side: 'buy' | 'sell';
  quantity: number;
  intent: 'open' | 'close';
  rule: RiskRule;
  detail: string;
  numbers: Record<string, number | string | boolean>;
  frameStart: number | null;
  at: number;
}

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
