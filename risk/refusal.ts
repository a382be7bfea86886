import type { RiskRule } from './pre-trade';

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
