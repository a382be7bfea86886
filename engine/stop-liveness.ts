/**
 * Protection is never dropped by a refused close (issue 11, item 2). A venue that cancels the stop before
 * it sends the close (Alpaca) puts the stop back when the close is refused, and says in the report whether
 * that worked (`OrderReport.stopLive`). When it did not, the position is marked `stopLive: false` (the
 * positions query shows it), an error is logged (the notifier's "stop cannot be placed" alert), and the
 * stop is placed again at once and then on every frame until the broker holds it.
 */
import type { SessionOutcome } from '../db/account-store';
import type { OrderReport } from '../brokers/adapter';
import type { Position } from '../trading/position';
import type { EngineContext } from './context';
import type { Step } from './effects';
import { failureMessage } from './failures';
import { placeStopOf, settleStop, stopLeg } from './positions';

export const STOP_LIVENESS_PATCH = 'refused-close-stop-liveness';

/** After a refused close: the position's stop, when the venue reports it is no longer at the broker. */
export function* afterRefusedClose(ctx: EngineContext, systemId: string, pos: Position, report: OrderReport, at: number, outcome: SessionOutcome): Step<void> {
  if (report.stopLive !== false || pos.stop === undefined || !ctx.ports.patched(STOP_LIVENESS_PATCH)) return;
  ctx.ports.log('warn', 'protective stop not live at the broker after a refused close; placing it again', {
    account: ctx.account,
    systemId,
    positionRef: pos.positionRef,
    stop: pos.stop,
    reason: report.reason,
  });
  yield* replaceStop(ctx, systemId, pos, at, outcome);
}

/**
 * Places the stop of a position whose stop is not live; on success the mark goes, else it stays (and is
 * set) so the next frame tries again. A stop the broker reports filled books the trade.
 */
export function* replaceStop(ctx: EngineContext, systemId: string, pos: Position, at: number, outcome: SessionOutcome): Step<void> {
  const { account } = ctx;
  let failure: string;
  try {
    const r = yield* placeStopOf(account, pos);
    if (r.status === 'working') {
      const live: Position = { ...pos };
      delete live.stopLive;
      ctx.state.positions[systemId] = live;
      outcome.orders.push(stopLeg(live, 'working', at, 'protective stop live again'));
      ctx.ports.log('info', 'protective stop live again', { account, systemId, positionRef: pos.positionRef, stop: pos.stop });
      return;
    }
    if (r.status === 'filled' && (yield* settleStop(ctx, systemId, pos, pos.stop!, at, outcome))) return;
    failure = r.reason ?? `stop ${r.status}`;
  } catch (err) {
    failure = failureMessage(err);
  }
  if (pos.stopLive !== false) ctx.state.positions[systemId] = { ...pos, stopLive: false };
  ctx.ports.log('error', 'protective stop could not be placed; the position is not protected at the broker', {
    account,
    systemId,
    positionRef: pos.positionRef,
    stop: pos.stop,
    reason: failure,
  });
}
