/**
 * Reconciliation (invariant 3): the broker's positions against the session's, and the broker's adopted.
 * Settles unknown orders, books positions the broker closed (by their stop when it says so), adopts
 * positions this session's orders opened, and lists foreign ones. Every difference is logged at error.
 */
import { stopOrderId, type BrokerPosition, type OrderReport } from '../brokers/adapter';
import { fillOf } from '../trading/order';
import type { Position } from '../trading/position';
import { closeTrade, type ExitReason } from '../trading/trade';
import { reconciledExitId } from '../trading/client-order-id';
import { emptyOutcome, lastFrameOf, type EngineContext } from './context';
import type { Step } from './effects';
import { bookTrade } from './positions';
import { diffPositions, type ReconciliationReport } from './reconciliation';
import { degrade, recover } from './degraded';
import { failureMessage, needsPerson } from './failures';
import { dropSettled } from './order-tracking';
import { recordOutcome } from './record';

export function* reconcile(ctx: EngineContext, reason: string): Step<ReconciliationReport> {
  const { state, account, ports } = ctx;
  const outcome = emptyOutcome();
  const closeFills = new Map<string, OrderReport>();
  const stillUnknown: typeof state.unknownOrders = [];
  let settled = 0;
  for (const u of state.unknownOrders) {
    const report = (yield { kind: 'getOrder', clientOrderId: u.clientOrderId }) as OrderReport | null;
    if (!report || report.status === 'pending') {
      stillUnknown.push(u);
      continue;
    }
    settled++;
    outcome.orders.push({ ...u, status: report.status, brokerOrderId: report.brokerOrderId || undefined, fillPrice: report.fillPrice, filledAt: report.filledAt, reason: report.reason ?? 'settled by reconciliation' });
    const fill = fillOf(report);
    if (fill) outcome.fills.push(fill);
    if (u.intent === 'close' && u.positionRef && report.status === 'filled') closeFills.set(u.positionRef, report);
  }
  const atBroker = (yield { kind: 'getPositions' }) as BrokerPosition[];
  const drifts = diffPositions(account, state.positions, atBroker, state.unknownOrders);
  const at = ports.now();
  const foreign: BrokerPosition[] = [];
  for (const d of drifts) {
    ports.log('error', `reconciliation: ${d.kind}`, { account, positionRef: d.positionRef, systemId: d.systemId ?? '', detail: d.detail, reason });
    if (d.kind === 'closed-at-broker' && d.session && d.systemId) {
      const pos = d.session;
      let exit = closeFills.get(pos.positionRef);
      let exitReason: ExitReason = 'signal';
      if (!exit && pos.stop !== undefined) {
        const stop = (yield { kind: 'getOrder', clientOrderId: stopOrderId(pos.positionRef) }) as OrderReport | null;
        if (stop?.status === 'filled') {
          exit = stop;
          exitReason = 'stop';
          outcome.orders.push({ clientOrderId: stop.clientOrderId, seq: null, systemId: d.systemId, symbol: pos.symbol, side: stop.side, quantity: stop.quantity, intent: 'close', positionRef: pos.positionRef, stopLevel: pos.stop, status: 'filled', brokerOrderId: stop.brokerOrderId, fillPrice: stop.fillPrice, filledAt: stop.filledAt, reason: 'protective stop' });
          const fill = fillOf(stop);
          if (fill) outcome.fills.push(fill);
        }
      }
      const price = exit?.fillPrice ?? state.lastPrice[pos.symbol] ?? pos.entryPrice;
      bookTrade(ctx, d.systemId, pos, closeTrade(pos, { clientOrderId: exit?.clientOrderId ?? reconciledExitId(pos.positionRef), price, at: lastFrameOf(ctx, d.systemId), reason: exit ? exitReason : 'reconciled' }), outcome);
    } else if (d.kind === 'changed-at-broker' && d.broker && d.systemId) {
      const adopted: Position = { ...state.positions[d.systemId], side: d.broker.side, quantity: d.broker.quantity, entryPrice: d.broker.entryPrice };
      if (d.broker.stopLevel !== undefined) adopted.stop = d.broker.stopLevel;
      else delete adopted.stop;
      state.positions[d.systemId] = adopted;
      outcome.openedPositions.push(adopted);
    } else if (d.kind === 'opened-at-broker' && d.broker && d.systemId && !state.positions[d.systemId]) {
      const b = d.broker;
      const adopted: Position = { positionRef: b.positionRef, systemId: d.systemId, symbol: b.symbol, side: b.side, quantity: b.quantity, entryPrice: b.entryPrice, ...(b.stopLevel !== undefined ? { stop: b.stopLevel } : {}), openedAt: lastFrameOf(ctx, d.systemId) };
      state.positions[d.systemId] = adopted;
      outcome.openedPositions.push(adopted);
      // The unknown order that opened it is answered by the position itself: it filled.
      const origin = stillUnknown.findIndex((u) => u.clientOrderId === b.positionRef);
      if (origin >= 0 && ctx.state.trackedOrders[d.systemId]?.record.clientOrderId === b.positionRef) {
        const u = stillUnknown.splice(origin, 1)[0];
        outcome.orders.push({ ...u, status: 'filled', fillPrice: b.entryPrice, reason: 'settled by reconciliation: the broker holds the position it opened' });
      }
    } else if (d.broker) {
      foreign.push(d.broker);
    }
  }
  // Orders whose outcome the broker still cannot tell stay unknown for the next check.
  state.unknownOrders = stillUnknown;
  dropSettled(ctx, stillUnknown);
  state.foreignPositions = foreign;
  state.counters.reconciliationDrifts += drifts.length;
  const report: ReconciliationReport = { at, reason, drifts, settled, stillUnknown: stillUnknown.length };
  state.lastReconciliation = report;
  if (!drifts.length) ports.log('info', 'reconciliation: session and broker agree', { account, reason, positions: atBroker.length });
  yield* recordOutcome(ctx, outcome);
  return report;
}

/**
 * Reconciliation that never fails the session: a read the broker refuses for good (401, an unlisted 4xx)
 * degrades it and is tried again on its deadline; a reconciliation that succeeds ends a degradation.
 */
export function* reconcileOrStayDegraded(ctx: EngineContext, reason: string): Step<ReconciliationReport> {
  try {
    const report = yield* reconcile(ctx, reason);
    recover(ctx, reason);
    return report;
  } catch (err) {
    if (!needsPerson(err)) throw err;
    degrade(ctx, `reconciliation (${reason}): ${failureMessage(err)}`);
    const { state, ports } = ctx;
    return { at: ports.now(), reason: `${reason}: failed, session degraded`, drifts: [], settled: 0, stillUnknown: state.unknownOrders.length };
  }
}
