/** Limit and stop entries, emulated from frames: at most one per system, triggered into a market entry. */
import type { SessionOutcome, WorkingOrderRecord } from '../db/account-store';
import type { Frame } from '../market/frame';
import { timeframeMs } from '../market/timeframe';
import type { Decision } from '../systems/types';
import type { Position } from '../trading/position';
import { workingOrderExpired, workingOrderFor, workingOrderRef, workingOrderTriggered, type WorkingOrder } from '../trading/working-order';
import type { EngineContext } from './context';
import type { Step } from './effects';
import { openPosition } from './positions';

function recordWorking(wo: WorkingOrder, status: WorkingOrderRecord['status'], outcome: SessionOutcome, clientOrderId?: string): void {
  outcome.workingOrders = [...(outcome.workingOrders ?? []), { ...wo, status, ...(clientOrderId ? { clientOrderId } : {}) }];
}

export function endWorking(ctx: EngineContext, systemId: string, status: 'expired' | 'cancelled', outcome: SessionOutcome, why: string): void {
  const { state } = ctx;
  const wo = state.workingOrders[systemId];
  if (!wo) return;
  delete state.workingOrders[systemId];
  delete state.workingDeadlines[wo.ref];
  recordWorking(wo, status, outcome);
  ctx.ports.log('info', `working order ${status}`, { account: ctx.account, systemId, ref: wo.ref, type: wo.type, price: wo.price, why });
}

export function placeWorking(
  ctx: EngineContext,
  systemId: string,
  d: Decision,
  entry: { type: 'limit' | 'stop'; price: number; expiresAfterMs?: number },
  frame: Frame,
  outcome: SessionOutcome,
): void {
  const { state, ports } = ctx;
  endWorking(ctx, systemId, 'cancelled', outcome, 'replaced by a new entry order');
  const wo = workingOrderFor(workingOrderRef(ctx.account, ++state.workingSeq), systemId, d, entry, frame);
  if (entry.expiresAfterMs !== undefined) {
    // The backstop counts in workflow time from now (frames may be historical), with one timeframe of grace
    // for the last frame to arrive: on live frames the frames expire it first, as in the backtester.
    state.workingDeadlines[wo.ref] = ports.now() + entry.expiresAfterMs + 2 * timeframeMs(frame.timeframe);
  }
  state.workingOrders[systemId] = wo;
  recordWorking(wo, 'working', outcome);
  ports.log('info', 'working order placed', { account: ctx.account, systemId, ref: wo.ref, type: wo.type, side: wo.side, price: wo.price });
  ports.timersChanged();
}

/** A working order on this frame: expired ones are dropped, triggered ones enter at market. */
export function* workOrder(ctx: EngineContext, systemId: string, frame: Frame, outcome: SessionOutcome): Step<void> {
  const { state } = ctx;
  const wo = state.workingOrders[systemId];
  if (!wo || state.positions[systemId]) return;
  if (workingOrderExpired(wo, frame.start + timeframeMs(frame.timeframe))) {
    endWorking(ctx, systemId, 'expired', outcome, 'expired before this frame');
    return;
  }
  if (!workingOrderTriggered(wo, frame)) return;
  delete state.workingOrders[systemId];
  delete state.workingDeadlines[wo.ref];
  if (state.status === 'paused') {
    state.counters.entriesSkippedWhilePaused++;
    recordWorking(wo, 'cancelled', outcome);
    ctx.ports.log('info', 'triggered entry skipped: session paused', { account: ctx.account, systemId, ref: wo.ref });
    return;
  }
  const decision: Decision = {
    action: wo.side,
    quantity: wo.quantity,
    ...(wo.stop !== undefined ? { stop: wo.stop } : {}),
    ...(wo.takeProfit !== undefined ? { takeProfit: wo.takeProfit } : {}),
    ...(wo.trailingStop !== undefined ? { trailingStop: wo.trailingStop } : {}),
  };
  yield* openPosition(ctx, systemId, decision, frame, outcome);
  const opened = (state.positions as Record<string, Position | undefined>)[systemId];
  recordWorking(wo, 'triggered', outcome, opened?.positionRef);
}
