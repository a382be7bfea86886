/**
 * Operator commands (invariant 5): close one position, close all, set a system's parameters, set the
 * trading state, pause and resume. Each has a check (run before it is accepted: a refusal fails only
 * the command) and a step.
 */
import { TradingStateCommandSchema, type TradingStateChange } from '../risk/trading-state';
import type { Trade } from '../trading/trade';
import { round8 } from '../trading/trade';
import type { SessionStatus } from '../workflows/definitions';
import { emptyOutcome, lastFrameOf, snapshotOf, type EngineContext } from './context';
import type { Step } from './effects';
import { shownStatus } from './degraded';
import { EngineRefusal, zodIssues } from './errors';
import { closePosition } from './positions';
import { recordOutcome } from './record';
import { pnlOf } from './session-state';
import { setTradingState } from './trading-state';

export interface CommandBy {
  by?: string;
  reason?: string;
}

export function setStatus(ctx: EngineContext, status: SessionStatus, cmd: CommandBy | undefined): void {
  if (ctx.state.status === status) return;
  ctx.state.status = status;
  ctx.ports.statusChanged(shownStatus(ctx));
  ctx.ports.log('info', `session ${status}`, { account: ctx.account, by: cmd?.by ?? 'unknown', reason: cmd?.reason ?? '' });
}

/** Halted passes nothing, a person's close included: set reducing to close positions. */
export function refuseWhenHalted(ctx: EngineContext): void {
  if (ctx.state.tradingState === 'halted') {
    throw new EngineRefusal('TradingHaltedError', 'account is halted: no order passes; set the trading state to reducing to close positions');
  }
}

export function checkClosePosition(ctx: EngineContext, systemId: string): void {
  if (!ctx.systems.has(systemId)) throw new EngineRefusal('InvalidCommand', `systemId: unknown system "${systemId}"`);
  refuseWhenHalted(ctx);
}

export function* closePositionCommand(ctx: EngineContext, systemId: string, by: string | undefined): Step<Trade | null> {
  const pos = ctx.state.positions[systemId];
  if (!pos) return null;
  ctx.ports.log('info', 'close position requested', { account: ctx.account, systemId, by: by ?? 'unknown' });
  const outcome = emptyOutcome();
  const trade = yield* closePosition(ctx, systemId, pos, 'manual', lastFrameOf(ctx, systemId), outcome);
  yield* recordOutcome(ctx, outcome);
  return trade;
}

export function* closeAllCommand(ctx: EngineContext, by: string | undefined): Step<Trade[]> {
  ctx.ports.log('info', 'close all requested', { account: ctx.account, by: by ?? 'unknown' });
  const outcome = emptyOutcome();
  const trades: Trade[] = [];
  for (const [systemId, pos] of Object.entries(ctx.state.positions)) {
    const t = yield* closePosition(ctx, systemId, pos, 'manual', lastFrameOf(ctx, systemId), outcome);
    if (t) trades.push(t);
  }
  yield* recordOutcome(ctx, outcome);
  return trades;
}

/** setParams changes only the parameters it names; the others keep their current values. */
function validParams(ctx: EngineContext, systemId: string, params: unknown): Record<string, unknown> {
  const slot = ctx.systems.get(systemId);
  if (!slot) throw new EngineRefusal('InvalidCommand', `systemId: unknown system "${systemId}"`);
  if (typeof params !== 'object' || params === null || Array.isArray(params)) {
    throw new EngineRefusal('InvalidSystemParamsError', 'params: expected an object of parameters');
  }
  const r = slot.impl.paramsSchema.safeParse({ ...ctx.state.systems[systemId].params, ...(params as Record<string, unknown>) });
  if (!r.success) throw new EngineRefusal('InvalidSystemParamsError', `invalid params for ${slot.cfg.system}: ${zodIssues(r.error, 'params')}`);
  return r.data as Record<string, unknown>;
}

export function checkSetParams(ctx: EngineContext, systemId: string, params: unknown): void {
  validParams(ctx, systemId, params);
}

export function* setParamsCommand(ctx: EngineContext, systemId: string, params: unknown, by: string | undefined): Step<Record<string, unknown>> {
  // Checked again when it runs: another setParams may have run since its check passed, and the merge
  // of both can be invalid (slowPeriod 12 after fastPeriod 20); that refuses this command only.
  const parsed = validParams(ctx, systemId, params);
  ctx.state.systems[systemId].params = parsed;
  ctx.ports.log('info', 'system parameters set', { account: ctx.account, systemId, by: by ?? 'unknown', params: parsed });
  const outcome = emptyOutcome();
  outcome.systemStates.push(snapshotOf(ctx, systemId));
  yield* recordOutcome(ctx, outcome);
  return parsed;
}

export function checkTradingState(ctx: EngineContext, cmd: unknown): void {
  if (!ctx.features.riskEngine) throw new EngineRefusal('InvalidCommand', 'this run predates trading states; it takes them after its next continue-as-new');
  const r = TradingStateCommandSchema.safeParse(cmd);
  if (!r.success) throw new EngineRefusal('InvalidCommand', `invalid trading-state command: ${zodIssues(r.error)}`);
}

/** Takes effect at once, even while a frame is in flight: the next risk check sees it. */
export function* setTradingStateCommand(ctx: EngineContext, cmd: unknown): Step<TradingStateChange | null> {
  const r = TradingStateCommandSchema.safeParse(cmd);
  if (!r.success) throw new EngineRefusal('InvalidCommand', `invalid trading-state command: ${zodIssues(r.error)}`);
  const { state: to, by, reason } = r.data;
  const { state } = ctx;
  const change = setTradingState(ctx, to, by, reason, 'command');
  // A person re-activating after a breach re-arms the loss protections from today's equity; otherwise the
  // same breach would switch the account back on the next frame and the command would mean nothing.
  if (change && to === 'active' && state.protection) {
    const equity = round8(state.startingBalance + pnlOf(state).total);
    state.protection = { ...state.protection, peakEquity: equity, dayStartEquity: equity };
    state.dailyLossLiftAt = null;
  }
  if (change) yield* recordOutcome(ctx, emptyOutcome());
  return change;
}
