/**
 * The pre-trade risk checks (issue 6), before any broker call. A refusal is recorded with the rule and
 * the numbers that refused it; it never takes an order id.
 */
import type { SessionOutcome } from '../db/account-store';
import type { Instrument, OrderRequest } from '../brokers/adapter';
import { checkIntent, type IntentToCheck } from '../risk/pre-trade';
import { refusalIdFor } from '../trading/client-order-id';
import type { RiskRefusal } from '../workflows/risk-view';
import type { EngineContext } from './context';
import type { Step } from './effects';
import { limitsOf } from './limits';
import { failureMessage } from './failures';
import { preTradeView } from './pre-trade-view';
import { RISK_HISTORY_KEPT, keepLast } from './session-state';

/** How long the session trusts a broker's instrument details (market status, minimum size, step). */
export const INSTRUMENT_MAX_AGE_MS = 60_000;

export type IntentSpec = Pick<OrderRequest, 'symbol' | 'side' | 'quantity' | 'intent'>;

/** True when the intent was refused (and recorded in `outcome`). */
export function* refusedByRisk(
  ctx: EngineContext,
  systemId: string,
  spec: IntentSpec,
  frame: { start: number; close: number } | null,
  outcome: SessionOutcome,
): Step<boolean> {
  if (!ctx.features.riskEngine) return false;
  const { state, config, ports, account } = ctx;
  const intent: IntentToCheck = {
    systemId,
    symbol: spec.symbol,
    side: spec.side,
    quantity: spec.quantity,
    intent: spec.intent,
    price: frame?.close ?? state.lastPrice[spec.symbol] ?? 0,
  };
  let verdict = checkIntent(intent, preTradeView(state, ports.now(), null), limitsOf(ctx));
  if (verdict.ok && spec.intent === 'open' && limitsOf(ctx).checkInstrument && config.tradingEnabled) {
    // Only an entry that passed every other rule asks the broker for the instrument's details, and at
    // most once a minute per symbol: entries stay fast and broker rate limits (IG's) are spared; the
    // broker still refuses an order on a market that closed within that minute.
    let instrument: Instrument | null = null;
    const cached = state.instruments[spec.symbol];
    try {
      if (cached && ports.now() - cached.at < INSTRUMENT_MAX_AGE_MS) instrument = cached.instrument;
      else {
        instrument = (yield { kind: 'getInstrument', symbol: spec.symbol }) as Instrument;
        state.instruments[spec.symbol] = { instrument, at: ports.now() };
      }
    } catch (err) {
      verdict = { ok: false, rule: 'instrument-closed', detail: `instrument details of ${spec.symbol} unavailable: ${failureMessage(err)}`, numbers: { symbol: spec.symbol } };
    }
    if (instrument) verdict = checkIntent(intent, preTradeView(state, ports.now(), instrument), limitsOf(ctx));
  }
  if (verdict.ok) return false;
  const refusal: RiskRefusal = {
    refusalId: refusalIdFor(account, ++state.refusalSeq),
    systemId,
    symbol: spec.symbol,
    side: spec.side,
    quantity: spec.quantity,
    intent: spec.intent,
    rule: verdict.rule,
    detail: verdict.detail,
    numbers: verdict.numbers,
    frameStart: frame?.start ?? null,
    at: ports.now(),
  };
  state.counters.ordersRefused++;
  state.lastRefusals.push(refusal);
  keepLast(state.lastRefusals, RISK_HISTORY_KEPT);
  outcome.refusals = [...(outcome.refusals ?? []), refusal];
  ports.log('warn', 'order intent refused by a risk check', { account, systemId, rule: verdict.rule, detail: verdict.detail, intent: spec.intent });
  return true;
}
