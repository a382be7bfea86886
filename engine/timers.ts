/**
 * The session's deadlines (issue 6): protection locks lifting, the daily-loss lift at UTC midnight,
 * working-order expiry, flatten at session close. Deadlines live in state, so a crash or a
 * continue-as-new neither resets nor loses them; the driver sleeps until `nextDeadline` and calls
 * `fireDueTimers`.
 */
import type { SessionOutcome } from '../db/account-store';
import { emptyOutcome, lastFrameOf, type EngineContext } from './context';
import type { Step } from './effects';
import { checkDueOrders, nextOrderCheck } from './order-tracking';
import { closePosition, settleHandlers } from './positions';
import { reconcileOrStayDegraded } from './reconcile';
import { recordOutcome } from './record';
import { nextCleanTime } from './session-state';
import { setTradingState } from './trading-state';
import { endWorking } from './working-orders';

export function nextDeadline(ctx: EngineContext): number | null {
  // Loops, not arrays: a backtest asks before every bar.
  const { state } = ctx;
  let next = Infinity;
  for (const l of state.locks) if (l.until < next) next = l.until;
  if (state.dailyLossLiftAt !== null && state.dailyLossLiftAt < next) next = state.dailyLossLiftAt;
  if (state.nextFlattenAt !== null && state.nextFlattenAt < next) next = state.nextFlattenAt;
  for (const ref in state.workingDeadlines) if (state.workingDeadlines[ref] < next) next = state.workingDeadlines[ref];
  // Issue 11: orders not final are asked about, a degraded session retries.
  const check = nextOrderCheck(ctx);
  if (check < next) next = check;
  if (state.degraded !== null && state.degraded.retryAt < next) next = state.degraded.retryAt;
  return next === Infinity ? null : next;
}

export function* fireDueTimers(ctx: EngineContext): Step<void> {
  const { state, ports, account, config } = ctx;
  const now = ports.now();
  const outcome = emptyOutcome();
  for (const l of state.locks.filter((x) => x.until <= now)) ports.log('info', `protection ${l.kind} lifted`, { account, symbol: l.symbol ?? '*', reason: l.reason });
  state.locks = state.locks.filter((l) => l.until > now);
  if (state.dailyLossLiftAt !== null && now >= state.dailyLossLiftAt) {
    state.dailyLossLiftAt = null;
    // Only a state this protection set is lifted; a person's halt or a drawdown breach stays.
    if (state.tradingStateBy === 'protection:daily-loss') setTradingState(ctx, 'active', 'protection:daily-loss', 'new UTC day: the daily loss limit starts afresh', 'protection');
  }
  // Working orders expire on frames (parity with the backtester); this backstop ends one when no frame comes.
  for (const wo of Object.values(state.workingOrders)) {
    const at = state.workingDeadlines[wo.ref];
    if (at !== undefined && now >= at) endWorking(ctx, wo.systemId, 'expired', outcome, 'expired (no frame came in time)');
  }
  for (const [ref, at] of Object.entries(state.workingDeadlines)) if (now >= at) delete state.workingDeadlines[ref];
  if (state.nextFlattenAt !== null && now >= state.nextFlattenAt) {
    state.nextFlattenAt = config.schedule.flattenAt ? nextCleanTime(now, config.schedule.flattenAt) : null;
    yield* flattenAtSessionClose(ctx, now, outcome);
  }
  yield* recordOutcome(ctx, outcome);
  if (nextOrderCheck(ctx) <= now) yield* checkDueOrders(ctx, settleHandlers);
  if (state.degraded !== null && now >= state.degraded.retryAt) yield* reconcileOrStayDegraded(ctx, 'degraded retry');
}

/** The trading day's end: every working order cancelled, every position closed, entries locked until reopenAt. */
function* flattenAtSessionClose(ctx: EngineContext, now: number, outcome: SessionOutcome): Step<void> {
  const { state, config } = ctx;
  ctx.ports.log('info', 'session close: flattening the account', { account: ctx.account, flattenAt: config.schedule.flattenAt ?? '', positions: Object.keys(state.positions).length });
  for (const id of Object.keys(state.workingOrders)) endWorking(ctx, id, 'cancelled', outcome, 'session close');
  for (const [systemId, pos] of Object.entries(state.positions)) yield* closePosition(ctx, systemId, pos, 'session-close', lastFrameOf(ctx, systemId), outcome);
  const reopenAt = config.schedule.reopenAt;
  if (reopenAt) {
    state.locks.push({ id: `session-closed:*:${now}`, kind: 'session-closed', since: now, until: nextCleanTime(now, reopenAt), reason: `entries closed from ${config.schedule.flattenAt} to ${reopenAt} UTC` });
  }
}
