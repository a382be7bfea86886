/** What the session shows through its queries: copies, never the live state. */
import type { RiskView } from '../workflows/risk-view';
import type { PnlView, StatusView, SystemView } from '../workflows/definitions';
import type { EngineContext } from './context';
import { shownStatus } from './degraded';
import { limitsOf } from './limits';
import { pnlOf } from './session-state';

export function statusView(ctx: EngineContext, queuedFrames: number): StatusView {
  const { state, config } = ctx;
  return {
    account: ctx.account,
    broker: config.broker,
    status: shownStatus(ctx),
    tradingState: state.tradingState,
    tradingEnabled: config.tradingEnabled,
    orderSeq: state.orderSeq,
    lastFrames: { ...state.lastFrames },
    queuedFrames,
    counters: { ...state.counters },
    lastRejection: state.lastRejection,
    runsSinceStart: state.runs,
    unknownOrders: state.unknownOrders.length,
    foreignPositions: state.foreignPositions.length,
    lastReconciliation: state.lastReconciliation && {
      at: state.lastReconciliation.at,
      reason: state.lastReconciliation.reason,
      drifts: state.lastReconciliation.drifts.length,
      stillUnknown: state.lastReconciliation.stillUnknown,
    },
    degraded: state.degraded ? { ...state.degraded } : null,
    ordersInFlight: Object.entries(state.trackedOrders).map(([systemId, t]) => ({
      systemId,
      clientOrderId: t.record.clientOrderId,
      intent: t.record.intent,
      state: t.state,
      filledQuantity: t.filledQuantity,
      quantity: t.record.quantity,
      since: t.since,
    })),
  };
}

export function riskView(ctx: EngineContext): RiskView {
  const { state, config } = ctx;
  return {
    tradingState: state.tradingState,
    limits: limitsOf(ctx),
    protections: config.protections,
    protectionState: state.protection,
    locks: state.locks.filter((l) => l.until > ctx.ports.now()),
    workingOrders: Object.values(state.workingOrders),
    lastRefusals: [...state.lastRefusals],
    tradingStateHistory: [...state.tradingStateHistory],
  };
}

export function pnlView(ctx: EngineContext): PnlView {
  return pnlOf(ctx.state);
}

export function systemViews(ctx: EngineContext): Record<string, SystemView> {
  const out: Record<string, SystemView> = {};
  for (const [id, { cfg }] of ctx.systems) {
    out[id] = { system: cfg.system, symbol: cfg.symbol, timeframe: cfg.timeframe, params: ctx.state.systems[id].params, state: ctx.state.systems[id].state };
  }
  return out;
}
