/**
 * Sending one order intent: a sequence number, the intent recorded before the broker sees it, then the
 * broker (or the dry run), and the outcome settled. An outcome nobody can tell is `unknown`, handed to
 * reconciliation; it is never guessed (invariants 1 and 3).
 */
import type { SessionOutcome } from '../db/account-store';
import { unfilledReport, type OrderReport, type OrderRequest } from '../brokers/adapter';
import type { Frame } from '../market/frame';
import { timeframeMs } from '../market/timeframe';
import { clientOrderIdFor, fillOf, settledRow, type OrderRecord } from '../trading/order';
import { lastFrameOf, type EngineContext } from './context';
import type { Step } from './effects';
import { brokerRefusal } from './failures';
import { ORDER_LIFECYCLE_PATCH, track, type OrderPlan } from './order-tracking';
import { noteOrderSent } from './pre-trade-view';

export type OrderSpec = Omit<OrderRequest, 'account' | 'clientOrderId' | 'type'>;
export type OrderFrame = { start: number; close: number; timeframe: Frame['timeframe'] };

/**
 * Places an order and settles its outcome. The broker activity is idempotent by clientOrderId, so
 * retries are safe; when retries run out, the broker is asked what happened instead of guessing.
 * null: the outcome is unknown.
 */
function* placeAndSettle(ctx: EngineContext, order: OrderRequest): Step<OrderReport | null> {
  const { account, ports } = ctx;
  try {
    return (yield { kind: 'placeOrder', request: order }) as OrderReport;
  } catch (err) {
    const refused = brokerRefusal(err);
    if (refused) return unfilledReport(order, 'rejected', refused);
    ports.log('error', 'order outcome unsettled after retries; asking the broker', { account, clientOrderId: order.clientOrderId, error: String(err) });
    try {
      const found = (yield { kind: 'getOrder', clientOrderId: order.clientOrderId }) as OrderReport | null;
      if (found) return found;
      // Not found is not "not placed" at every broker (IG keeps confirms briefly): reconciliation decides.
      return ports.patched('unsettled-order-is-unknown') ? null : unfilledReport(order, 'rejected', 'broker has no such order after all retries');
    } catch (lookupErr) {
      ports.log('error', 'order outcome unknown; left to reconciliation', { account, clientOrderId: order.clientOrderId, error: String(lookupErr) });
      return null;
    }
  }
}

/** The dry run's fill (invariant 6): nothing was sent; the intent fills in the session's books at the frame's close. */
function dryRunFill(ctx: EngineContext, systemId: string, clientOrderId: string, spec: OrderSpec, frame: OrderFrame | null): OrderReport {
  return {
    clientOrderId,
    brokerOrderId: '',
    status: 'dry-run',
    symbol: spec.symbol,
    side: spec.side,
    quantity: spec.quantity,
    filledQuantity: spec.quantity,
    fillPrice: frame?.close ?? ctx.state.lastPrice[spec.symbol] ?? 0,
    filledAt: frame ? frame.start + timeframeMs(frame.timeframe) : lastFrameOf(ctx, systemId),
  };
}

/**
 * Sends one intent; null when its outcome is unknown. An order the broker has not settled (working,
 * partially filled, unknown) is tracked until final (engine/order-tracking.ts); runs older than the
 * lifecycle booked `pending` as placed and left unknown orders to reconciliation.
 */
export function* sendOrder(
  ctx: EngineContext,
  systemId: string,
  spec: OrderSpec,
  frame: OrderFrame | null,
  outcome: SessionOutcome,
  plan: OrderPlan = {},
): Step<OrderReport | null> {
  const { state, config, account, ports } = ctx;
  const seq = ++state.orderSeq;
  const clientOrderId = clientOrderIdFor(account, seq);
  const request: OrderRequest = { account, clientOrderId, type: 'market', ...spec };
  const record: OrderRecord = {
    clientOrderId,
    seq,
    systemId,
    symbol: spec.symbol,
    side: spec.side,
    quantity: spec.quantity,
    intent: spec.intent,
    positionRef: spec.positionRef,
    stopLevel: spec.stopLevel,
    status: 'pending',
    frameStart: frame?.start,
  };
  yield { kind: 'recordOrderIntent', record };
  if (ctx.features.riskEngine) noteOrderSent(state, ports.now());

  let report = config.tradingEnabled ? yield* placeAndSettle(ctx, request) : null;
  if (!config.tradingEnabled || report?.status === 'dry-run') report = dryRunFill(ctx, systemId, clientOrderId, spec, frame);
  if (!report) {
    state.counters.ordersUnknown++;
    const unknown = { ...record, status: 'unknown' as const, reason: 'outcome could not be settled with the broker' };
    state.unknownOrders.push(unknown);
    if (ports.patched(ORDER_LIFECYCLE_PATCH)) track(ctx, record, null, outcome, plan);
    else outcome.orders.push(unknown);
    return null;
  }
  if (report.status === 'pending' && ports.patched(ORDER_LIFECYCLE_PATCH)) {
    state.counters.ordersPlaced++;
    track(ctx, record, report, outcome, plan);
    return report;
  }
  outcome.orders.push(settledRow(record, report.status, report.brokerOrderId || undefined, report.fillPrice, report.filledAt, report.reason));
  const fill = fillOf(report);
  if (fill) outcome.fills.push(fill);
  if (report.status === 'rejected') {
    state.counters.ordersRejected++;
    ports.log('warn', 'order rejected', { account, systemId, clientOrderId, reason: report.reason ?? '' });
  } else {
    state.counters.ordersPlaced++;
    ports.log('info', 'order filled', { account, systemId, clientOrderId, side: spec.side, quantity: spec.quantity, price: report.fillPrice, intent: spec.intent });
  }
  return report;
}

