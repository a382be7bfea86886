/**
 * Orders that are not final yet (issue 11): accepted and working at the broker, partially filled, or
 * `unknown` (the session could not tell). Each is tracked in state, one per system, and asked about on a
 * durable deadline with backoff until the broker gives a final answer; while one is tracked, the system
 * sends no second order (a double-clicked close after hours is one order). A final answer settles it:
 * an entry's fill opens the position (the filled quantity, with its stop), a close's fill books the
 * trade, a partial close keeps the rest open under the same ref.
 */
import type { SessionOutcome } from '../db/account-store';
import type { OrderReport } from '../brokers/adapter';
import { settledRow, type Fill, type OrderRecord } from '../trading/order';
import { canTransition, isFinal, nextCheckDelayMs, stateOfReport, transition, type OrderEvent, type ReportedState } from '../trading/order-lifecycle';
import type { Position } from '../trading/position';
import type { ExitReason } from '../trading/trade';
import { emptyOutcome, type EngineContext } from './context';
import type { Step } from './effects';
import { degrade } from './degraded';
import { failureMessage, needsPerson } from './failures';
import { recordOutcome } from './record';

/** The protections an entry asked for, applied when its fill opens the position. */
export interface EntryPlan {
  stop?: number;
  takeProfit?: number;
  trailingStop?: number;
}

export interface TrackedOrder {
  record: OrderRecord;
  /** accepted | partially-filled | unknown: never a final state. */
  state: ReportedState;
  filledQuantity: number;
  fillPrice: number;
  brokerOrderId?: string;
  /** Workflow time it was first tracked. */
  since: number;
  checks: number;
  nextCheckAt: number;
  /** Consecutive answers "no such order" (only an unknown order may end by them). */
  notFound: number;
  entry?: EntryPlan;
  exitReason?: ExitReason;
}

/** What to do when a tracked order fills later: the entry's protections, or the close's reason. */
export interface OrderPlan {
  entry?: EntryPlan;
  exitReason?: ExitReason;
}

/** The patch that guards the lifecycle: recorded histories of older runs replay without it. */
export const ORDER_LIFECYCLE_PATCH = 'order-lifecycle';

/** An unknown order the broker has not found for this long, asked at least this often, was never placed. */
export const NOT_FOUND_FINAL_AFTER_MS = 5 * 60_000;
export const NOT_FOUND_FINAL_CHECKS = 5;

export function inFlight(ctx: EngineContext, systemId: string): TrackedOrder | undefined {
  return ctx.state.trackedOrders[systemId];
}

function addEvent(outcome: SessionOutcome, e: OrderEvent): void {
  (outcome.orderEvents ??= []).push(e);
}

/** Starts tracking an order the broker has not settled: `report` null when its outcome is unknown. */
export function track(
  ctx: EngineContext,
  record: OrderRecord,
  report: OrderReport | null,
  outcome: SessionOutcome,
  plan: OrderPlan,
): TrackedOrder {
  const { state, ports } = ctx;
  const now = ports.now();
  const to: ReportedState = report ? stateOfReport(report) : 'unknown';
  const fill = { filledQuantity: report?.filledQuantity ?? 0, fillPrice: report?.fillPrice ?? 0 };
  const t: TrackedOrder = { record, state: to, ...fill, since: now, checks: 0, nextCheckAt: now + nextCheckDelayMs(0), notFound: 0, ...plan };
  if (report?.brokerOrderId) t.brokerOrderId = report.brokerOrderId;
  state.trackedOrders[record.systemId] = t;
  addEvent(outcome, transition(record.clientOrderId, 'submitted', to, now, fill, report?.reason));
  outcome.orders.push({ ...record, status: to, brokerOrderId: t.brokerOrderId, reason: report?.reason ?? (to === 'unknown' ? 'outcome could not be settled with the broker' : 'working at the broker') });
  ports.log(to === 'unknown' ? 'error' : 'info', to === 'unknown' ? 'order outcome unknown; asking the broker until it answers' : 'order working at the broker; tracked until final', {
    account: ctx.account,
    systemId: record.systemId,
    clientOrderId: record.clientOrderId,
    state: to,
    filledQuantity: fill.filledQuantity,
  });
  ports.timersChanged();
  return t;
}

export function nextOrderCheck(ctx: EngineContext): number {
  let next = Infinity;
  const tracked = ctx.state.trackedOrders;
  for (const id in tracked) if (tracked[id].nextCheckAt < next) next = tracked[id].nextCheckAt;
  return next;
}

/** What settling a final order does to the session's books: implemented by positions.ts (no import cycle). */
export interface SettleHandlers {
  entryFilled(ctx: EngineContext, t: TrackedOrder, report: OrderReport, outcome: SessionOutcome): Step<void>;
  closeFilled(ctx: EngineContext, t: TrackedOrder, pos: Position, report: OrderReport, outcome: SessionOutcome): Step<void>;
}

function fillRow(report: OrderReport): Fill {
  return { clientOrderId: report.clientOrderId, symbol: report.symbol, side: report.side, quantity: report.filledQuantity, price: report.fillPrice, filledAt: report.filledAt };
}

function reschedule(ctx: EngineContext, t: TrackedOrder): void {
  t.checks++;
  t.nextCheckAt = ctx.ports.now() + nextCheckDelayMs(t.checks);
}

/** Asks the broker about every tracked order whose deadline has come; settles the final ones. */
export function* checkDueOrders(ctx: EngineContext, handlers: SettleHandlers): Step<void> {
  const { state, ports, account } = ctx;
  const now = ports.now();
  const outcome = emptyOutcome();
  for (const systemId of Object.keys(state.trackedOrders)) {
    const t = state.trackedOrders[systemId];
    if (t.nextCheckAt > now) continue;
    const id = t.record.clientOrderId;
    let report: OrderReport | null;
    try {
      report = (yield { kind: 'getOrder', clientOrderId: id }) as OrderReport | null;
    } catch (err) {
      if (needsPerson(err)) degrade(ctx, `order check of ${id}: ${failureMessage(err)}`);
      else ports.log('warn', 'order check failed; asking again later', { account, clientOrderId: id, error: failureMessage(err) });
      reschedule(ctx, t);
      continue;
    }
    if (!report) {
      t.notFound++;
      // Not found is an answer only about an order the session could not tell was placed, and only when it lasts.
      if (t.state === 'unknown' && t.notFound >= NOT_FOUND_FINAL_CHECKS && now - t.since >= NOT_FOUND_FINAL_AFTER_MS) {
        settleNeverPlaced(ctx, t, now, outcome);
      } else {
        reschedule(ctx, t);
      }
      continue;
    }
    t.notFound = 0;
    const to = stateOfReport(report);
    if (to === t.state && report.filledQuantity === t.filledQuantity) {
      reschedule(ctx, t);
      continue;
    }
    if (!canTransition(t.state, to)) {
      // A report out of order (a fill going back): keep the state, never fail the session over it.
      ports.log('error', 'broker report out of order; the order keeps its state', { account, clientOrderId: id, from: t.state, to, filledQuantity: report.filledQuantity });
      reschedule(ctx, t);
      continue;
    }
    addEvent(outcome, transition(id, t.state, to, now, report, report.reason));
    if (!isFinal(to)) {
      t.state = to;
      t.filledQuantity = report.filledQuantity;
      t.fillPrice = report.fillPrice;
      outcome.orders.push({ ...t.record, status: to, brokerOrderId: report.brokerOrderId || undefined, reason: report.reason ?? `${report.filledQuantity} of ${report.quantity} filled` });
      ports.log('info', 'order partially filled; still working', { account, clientOrderId: id, filledQuantity: report.filledQuantity, quantity: report.quantity });
      reschedule(ctx, t);
      continue;
    }
    yield* settleFinal(ctx, t, report, to, outcome, handlers);
  }
  ports.timersChanged();
  yield* recordOutcome(ctx, outcome);
}

function untrack(ctx: EngineContext, t: TrackedOrder): void {
  delete ctx.state.trackedOrders[t.record.systemId];
  const id = t.record.clientOrderId;
  ctx.state.unknownOrders = ctx.state.unknownOrders.filter((u) => u.clientOrderId !== id);
}

function settleNeverPlaced(ctx: EngineContext, t: TrackedOrder, now: number, outcome: SessionOutcome): void {
  const reason = `the broker has no such order after ${t.notFound} checks over ${Math.round((now - t.since) / 1000)} s: never placed`;
  addEvent(outcome, transition(t.record.clientOrderId, t.state, 'rejected', now, { filledQuantity: 0, fillPrice: 0 }, reason));
  outcome.orders.push({ ...t.record, status: 'rejected', reason });
  untrack(ctx, t);
  ctx.ports.log('warn', 'unknown order settled: never placed', { account: ctx.account, systemId: t.record.systemId, clientOrderId: t.record.clientOrderId });
}

function* settleFinal(ctx: EngineContext, t: TrackedOrder, report: OrderReport, to: ReportedState, outcome: SessionOutcome, handlers: SettleHandlers): Step<void> {
  const { state, account, ports } = ctx;
  const { record } = t;
  untrack(ctx, t);
  const filled = report.filledQuantity > 0;
  outcome.orders.push(settledRow(record, to, report.brokerOrderId || undefined, filled ? report.fillPrice : undefined, report.filledAt, report.reason ?? `settled by the broker: ${to}`));
  if (filled) outcome.fills.push(fillRow(report));
  ports.log(filled ? 'info' : 'warn', `order ${to}`, { account, systemId: record.systemId, clientOrderId: record.clientOrderId, filledQuantity: report.filledQuantity, price: report.fillPrice, intent: record.intent });
  if (!filled) {
    if (to === 'rejected') state.counters.ordersRejected++;
    return;
  }
  if (record.intent === 'open') {
    yield* handlers.entryFilled(ctx, t, report, outcome);
    return;
  }
  const pos = state.positions[record.systemId];
  if (!pos || pos.positionRef !== record.positionRef) {
    ports.log('error', 'close filled for a position the session no longer holds; reconciliation decides', { account, clientOrderId: record.clientOrderId, positionRef: record.positionRef ?? '' });
    return;
  }
  yield* handlers.closeFilled(ctx, t, pos, report, outcome);
}

/** Orders reconciliation settled are tracked no longer. */
export function dropSettled(ctx: EngineContext, stillUnknown: readonly OrderRecord[]): void {
  const unknown = new Set(stillUnknown.map((u) => u.clientOrderId));
  for (const [systemId, t] of Object.entries(ctx.state.trackedOrders)) {
    if (t.state === 'unknown' && !unknown.has(t.record.clientOrderId)) delete ctx.state.trackedOrders[systemId];
  }
}
