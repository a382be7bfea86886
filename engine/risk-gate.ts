/**
 * The pre-trade risk checks (issue 6), before any broker call. A refusal is recorded with the rule and
 * the numbers that refused it; it never takes an order id.
 */
import type { SessionOutcome } from '../db/account-store';
import type { Instrument, OrderRequest } from '../brokers/adapter';
import { checkIntent, type IntentToCheck, type RiskVerdict } from '../risk/pre-trade';
import { positionMoney } from '../trading/money';
import { refusalIdFor } from '../trading/client-order-id';
import type { RiskRefusal } from '../workflows/risk-view';
import type { EngineContext } from './context';
import type { Step } from './effects';
import { noteInstrument } from './instrument-money';
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
  const opening = spec.intent === 'open' && config.tradingEnabled;
  // Notional and exposure are account money (issue 11): an instrument never read yet gives no facts, so
  // the first pass leaves the money rules out (value per point 0) and the read below brings them in; a
  // refused intent still asks the broker nothing.
  const cached = state.instruments[spec.symbol];
  const moneyUnknown = ctx.features.accountCurrency === true && opening && cached === undefined;
  if (ctx.features.accountCurrency && cached) intent.valuePerPoint = positionMoney(cached.instrument)?.perPoint;
  let verdict = checkIntent(moneyUnknown ? { ...intent, valuePerPoint: 0 } : intent, preTradeView(state, ports.now(), null, ctx.features.accountCurrency), limitsOf(ctx));
  if (verdict.ok && opening && (limitsOf(ctx).checkInstrument || moneyUnknown)) {
    // Only an entry that passed every other rule asks the broker for the instrument's details, and at
    // most once a minute per symbol: entries stay fast and broker rate limits (IG's) are spared; the
    // broker still refuses an order on a market that closed within that minute.
    let instrument: Instrument | null = null;
    try {
      if (cached && ports.now() - cached.at < INSTRUMENT_MAX_AGE_MS) instrument = cached.instrument;
      else {
        instrument = (yield { kind: 'getInstrument', symbol: spec.symbol }) as Instrument;
        noteInstrument(ctx, spec.symbol, instrument);
      }
    } catch (err) {
      const what = moneyUnknown ? `money facts of ${spec.symbol} unknown: instrument details unavailable` : `instrument details of ${spec.symbol} unavailable`;
      verdict = { ok: false, rule: 'instrument-closed', detail: `${what}: ${failureMessage(err)}`, numbers: { symbol: spec.symbol } };
    }
    if (instrument) {
      if (ctx.features.accountCurrency) intent.valuePerPoint = positionMoney(instrument)?.perPoint;
      verdict = checkIntent(intent, preTradeView(state, ports.now(), instrument, ctx.features.accountCurrency), limitsOf(ctx));
    }
  }
  if (verdict.ok) return false;
  return refuse(ctx, systemId, spec, frame, outcome, verdict);
}

function refuse(
  ctx: EngineContext,
  systemId: string,
  spec: IntentSpec,
  frame: { start: number; close: number } | null,
  outcome: SessionOutcome,
  verdict: Exclude<RiskVerdict, { ok: true }>,
): true {
  const { state, ports, account } = ctx;
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
