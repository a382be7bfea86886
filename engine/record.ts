/** The store write of a step: one outcome per step, with the trading-state changes not yet recorded. */
import type { SessionOutcome } from '../db/account-store';
import type { EngineContext } from './context';
import type { Step } from './effects';

/** Whether the step has anything to write (a backtest's quiet bar has not). */
export function hasRecord(ctx: EngineContext, outcome: SessionOutcome): boolean {
  if (ctx.unrecordedControl.length) return true;
  const empty = !outcome.orders.length && !outcome.trades.length && !outcome.systemStates.length && !outcome.equity;
  if (!(empty && !outcome.refusals?.length && !outcome.controlEvents?.length && !outcome.workingOrders?.length)) return true;
  // Positions reconciliation adopted (changed or opened at the broker) and lifecycle rows alone were not
  // written by older runs; a run that takes the patch writes them (the check costs nothing on a quiet bar).
  const more = outcome.openedPositions.length > 0 || outcome.fills.length > 0 || (outcome.orderEvents?.length ?? 0) > 0 || (outcome.equityPoints?.length ?? 0) > 0;
  return more && ctx.ports.patched('record-adopted-positions');
}

export function* recordOutcome(ctx: EngineContext, outcome: SessionOutcome): Step<void> {
  if (ctx.unrecordedControl.length) {
    outcome.controlEvents = [...(outcome.controlEvents ?? []), ...ctx.unrecordedControl];
    ctx.unrecordedControl = [];
  }
  if (!hasRecord(ctx, outcome)) return;
  yield { kind: 'recordOutcome', outcome };
}
