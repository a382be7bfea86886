/**
 * The per-frame order, once for live and backtest. On each closed frame, for each system on its stream:
 *   1. the protective stop the frame touched (the broker's record settles it);
 *   2. emulated exits (trailing stop, take-profit) on frames after the entry's; the trail moves;
 *   3. a working limit/stop entry: expired, or triggered into a market entry;
 *   4. the system's decision (a throw or an invalid decision means none), through the risk gate, into
 *      entries (with their stop leg), reversals, closes and working orders;
 * then the equity mark, the protections on it, and one store write.
 */
import type { SessionOutcome } from '../db/account-store';
import { streamKey, type Frame } from '../market/frame';
import { timeframeMs } from '../market/timeframe';
import { NO_DECISION, type Decision, type PortfolioView } from '../systems/types';
import { decisionProblem } from '../trading/decision-check';
import { emulatedExitHit, trailAfter } from '../trading/exits';
import { stopTouched, unrealisedPnl, type Position } from '../trading/position';
import { round8 } from '../trading/trade';
import { frameOutcome, snapshotOf, type EngineContext, type SystemSlot } from './context';
import type { Step } from './effects';
import { closePosition, openPosition, settleStop } from './positions';
import { replaceStop } from './stop-liveness';
import { protectAfterEquity } from './protections';
import { hasRecord, recordOutcome } from './record';
import { pnlOf } from './session-state';
import { endWorking, placeWorking, workOrder } from './working-orders';

/** Log messages a backtest counts as diagnostics. */
export const SYSTEM_FAILED = 'system failed on frame; no decision';
export const SYSTEM_INVALID_DECISION = 'system returned an invalid decision; ignored';

/** Emulated exits on frames after the entry's; the trailing level moves after the check. */
function* emulatedExits(ctx: EngineContext, systemId: string, frame: Frame, outcome: SessionOutcome): Step<void> {
  const pos = ctx.state.positions[systemId];
  if (!pos || frame.start <= pos.openedAt) return;
  const exit = emulatedExitHit(pos, frame);
  if (exit) {
    yield* closePosition(ctx, systemId, pos, exit.kind, frame.start, outcome, frame);
    return;
  }
  moveTrail(ctx, systemId, pos, frame);
}

/** A trailing stop the frame did not hit follows its best price (a new position object only when the level moved). */
function moveTrail(ctx: EngineContext, systemId: string, pos: Position, frame: Frame): void {
  const trailing = pos.trailing;
  if (trailing === undefined) return;
  const level = trailAfter(pos, frame);
  if (level !== undefined && level !== trailing.level) ctx.state.positions[systemId] = { ...pos, trailing: { ...trailing, level } };
}

/** What a system sees of its portfolio: rebuilt (and frozen) only when its position or realised P&L changed. */
function portfolioOf(ctx: EngineContext, slot: SystemSlot): PortfolioView {
  const current = ctx.state.positions[slot.cfg.id];
  const realisedPnl = ctx.state.systems[slot.cfg.id].realisedPnl;
  if (current !== slot.viewOf.position || realisedPnl !== slot.viewOf.realisedPnl) {
    slot.view = Object.freeze({
      position: current ? Object.freeze({ side: current.side, quantity: current.quantity, entryPrice: current.entryPrice, stop: current.stop }) : null,
      realisedPnl,
    });
    slot.viewOf.position = current;
    slot.viewOf.realisedPnl = realisedPnl;
  }
  return slot.view;
}

/** The system's decision on the frame; strategy errors are logged and mean no decision. */
function decide(ctx: EngineContext, slot: SystemSlot, frame: Frame): Decision {
  const { cfg, impl, input } = slot;
  const rt = ctx.state.systems[cfg.id];
  try {
    input.frame = frame;
    input.portfolio = portfolioOf(ctx, slot);
    input.params = rt.params;
    input.state = rt.state;
    // The output object lent to the system (systems/types.ts): read at once, never kept.
    if (input.output === undefined) input.output = { decision: NO_DECISION, state: rt.state };
    const out = impl.decide(input);
    rt.state = out.state;
    const bad = out.decision === NO_DECISION ? null : decisionProblem(out.decision);
    if (bad) {
      ctx.ports.log('error', SYSTEM_INVALID_DECISION, { account: ctx.account, systemId: cfg.id, reason: bad });
      return NO_DECISION;
    }
    return out.decision;
  } catch (err) {
    // An error in strategy code is logged and skipped: it must not stop the session.
    ctx.ports.log('error', SYSTEM_FAILED, { account: ctx.account, systemId: cfg.id, start: frame.start, error: String(err) });
    return NO_DECISION;
  }
}

function* act(ctx: EngineContext, systemId: string, decision: Decision, frame: Frame, outcome: SessionOutcome): Step<void> {
  const { state } = ctx;
  const riskEngine = ctx.features.riskEngine;
  const pos = state.positions[systemId];
  if (decision.action === 'none') return;
  if (decision.action === 'close') {
    if (riskEngine) endWorking(ctx, systemId, 'cancelled', outcome, 'the system closed');
    if (pos) yield* closePosition(ctx, systemId, pos, 'signal', frame.start, outcome, frame);
    return;
  }
  const wantSide = decision.action === 'buy' ? 'long' : 'short';
  if (pos?.side === wantSide) return;
  if (pos && !(yield* closePosition(ctx, systemId, pos, 'reverse', frame.start, outcome, frame))) return;
  if (state.status === 'paused') {
    // Paused: exits and stops work, new entries do not.
    state.counters.entriesSkippedWhilePaused++;
    ctx.ports.log('info', 'entry skipped: session paused', { account: ctx.account, systemId, action: decision.action });
    return;
  }
  const entry = riskEngine ? decision.entry : undefined;
  if (entry && entry.type !== 'market') {
    placeWorking(ctx, systemId, decision, entry, frame, outcome);
    return;
  }
  yield* openPosition(ctx, systemId, decision, frame, outcome);
}

/** Realised + unrealised P&L of the session, without building the per-system view (a backtest's every bar). */
function totalPnl(ctx: EngineContext): number {
  const { state } = ctx;
  let realised = 0;
  let unrealised = 0;
  for (const id in state.systems) {
    realised += state.systems[id].realisedPnl;
    const p = state.positions[id];
    const price = p ? state.lastPrice[p.symbol] : undefined;
    if (p && price !== undefined) unrealised += unrealisedPnl(p, price);
  }
  return realised + unrealised;
}

/** The phases of one system's turn on a frame, in order; a turn handed to a generator resumes at one. */
const STOP = 0;
const EXITS = 1;
const WORKING = 2;
const ACT = 3;
type Phase = typeof STOP | typeof EXITS | typeof WORKING | typeof ACT;

/**
 * One system's turn on the frame from `phase` on: its stop, emulated exits, working order, decision and
 * act, each entered only when it has something to do. `decision`: the one already taken (phase ACT).
 */
function* systemTurn(ctx: EngineContext, slot: SystemSlot, frame: Frame, outcome: SessionOutcome, phase: Phase, decision: Decision | null): Step<void> {
  const { state } = ctx;
  const id = slot.cfg.id;
  if (phase === STOP) {
    const pos = state.positions[id];
    if (pos) {
      const hit = stopTouched(pos, frame);
      if (hit.touched) yield* settleStop(ctx, id, pos, hit.price, frame.start, outcome);
      else if (pos.stopLive === false) yield* replaceStop(ctx, id, pos, frame.start, outcome);
    }
  }
  if (ctx.features.riskEngine && phase <= WORKING) {
    const open = state.positions[id];
    if (phase <= EXITS && open && frame.start > open.openedAt) yield* emulatedExits(ctx, id, frame, outcome);
    if (state.workingOrders[id]) yield* workOrder(ctx, id, frame, outcome);
  }
  const d = decision ?? decide(ctx, slot, frame);
  if (d.action !== 'none') yield* act(ctx, id, d, frame, outcome);
}

/** Whether the frame reached the position's protective stop (what `stopTouched` answers, without its object). */
function stopReached(pos: Position, frame: Frame): boolean {
  const stop = pos.stop;
  if (stop === undefined) return false;
  return pos.side === 'long' ? frame.low <= stop : pos.side === 'short' && frame.high >= stop;
}

/**
 * One frame through every system on its stream, then equity, protections and the store write: as far
 * as it goes without an effect, synchronously. Returns null when the frame is done (a backtest's quiet
 * bar: nothing touched, decided or written, so no generator is made), else the generator that finishes
 * it from the first place an effect may be needed. Run to its end right away, the two are the one step
 * `handleFrame` is: the same state changes, effects and answers, in the same order.
 */
export function frameStep(ctx: EngineContext, frame: Frame, backfilled: boolean): Step<void> | null {
  const { state, slots } = ctx;
  const riskEngine = ctx.features.riskEngine;
  // One system: every frame the session accepted is of its stream (no key to build per frame).
  const key = slots.length === 1 ? slots[0].stream : streamOf(ctx, frame);
  state.lastPrice[frame.symbol] = frame.close;
  const outcome = frameOutcome(ctx);
  for (let s = 0; s < slots.length; s++) {
    const slot = slots[s];
    if (slot.stream !== key) continue;
    const id = slot.cfg.id;
    const pos = state.positions[id];
    // A stop known not to be at the broker (engine/stop-liveness.ts) is placed again on every frame.
    if (pos !== undefined && (stopReached(pos, frame) || pos.stopLive === false)) return finishFrame(ctx, frame, backfilled, key, outcome, s, STOP, null);
    if (riskEngine) {
      if (pos !== undefined && frame.start > pos.openedAt) {
        if (emulatedExitHit(pos, frame) !== null) return finishFrame(ctx, frame, backfilled, key, outcome, s, EXITS, null);
        moveTrail(ctx, id, pos, frame);
      }
      if (state.workingOrders[id]) return finishFrame(ctx, frame, backfilled, key, outcome, s, WORKING, null);
    }
    const decision = decide(ctx, slot, frame);
    if (decision.action !== 'none') return finishFrame(ctx, frame, backfilled, key, outcome, s, ACT, decision);
  }
  return frameEnd(ctx, frame, backfilled, key, outcome);
}

/** The rest of a frame from system `from`'s `phase`: that turn, the other systems' turns, the frame's end. */
function* finishFrame(ctx: EngineContext, frame: Frame, backfilled: boolean, key: string, outcome: SessionOutcome, from: number, phase: Phase, decision: Decision | null): Step<void> {
  const { slots } = ctx;
  yield* systemTurn(ctx, slots[from], frame, outcome, phase, decision);
  for (let s = from + 1; s < slots.length; s++) if (slots[s].stream === key) yield* systemTurn(ctx, slots[s], frame, outcome, STOP, null);
  const end = frameEnd(ctx, frame, backfilled, key, outcome);
  if (end !== null) yield* end;
}

/** The frame's end: the equity mark, the protections on it, the store write (a generator only when there is one). */
function frameEnd(ctx: EngineContext, frame: Frame, backfilled: boolean, key: string, outcome: SessionOutcome): Step<void> | null {
  const { state, slots } = ctx;
  let equity: number;
  if (ctx.recordEveryFrame) {
    for (let s = 0; s < slots.length; s++) {
      if (slots[s].stream === key) outcome.systemStates.push({ ...snapshotOf(ctx, slots[s].cfg.id), frameStart: frame.start });
    }
    const pnl = pnlOf(state);
    outcome.equity = {
      ts: frame.start + timeframeMs(frame.timeframe),
      balance: round8(state.startingBalance + pnl.realised),
      realisedPnl: round8(pnl.realised),
      unrealisedPnl: round8(pnl.unrealised),
      equity: round8(state.startingBalance + pnl.total),
    };
    equity = outcome.equity.equity;
  } else {
    equity = round8(state.startingBalance + totalPnl(ctx));
  }
  ctx.lastEquity = equity;
  if (ctx.features.riskEngine) protectAfterEquity(ctx, equity);
  if (hasRecord(ctx, outcome)) return recordThenDone(ctx, frame, backfilled, key, outcome);
  frameDone(ctx, frame, backfilled, key);
  return null;
}

function* recordThenDone(ctx: EngineContext, frame: Frame, backfilled: boolean, key: string, outcome: SessionOutcome): Step<void> {
  yield* recordOutcome(ctx, outcome);
  frameDone(ctx, frame, backfilled, key);
}

/** Only now is the frame done: `lastFrames` (what status shows and feeders wait on) means processed and stored. */
function frameDone(ctx: EngineContext, frame: Frame, backfilled: boolean, key: string): void {
  const { state } = ctx;
  state.lastFrames[key] = frame.start;
  state.counters.framesProcessed++;
  if (backfilled) state.counters.framesBackfilled++;
}

/** One frame through every system on its stream, then equity, protections and the store write. */
export function* handleFrame(ctx: EngineContext, frame: Frame, backfilled: boolean): Step<void> {
  const rest = frameStep(ctx, frame, backfilled);
  if (rest !== null) yield* rest;
}

/** The stream key of a frame: a system's own (no string built) when one trades it, else built. */
/** The stream key of a frame: the system slot's cached one when a system trades it (no string built per frame). */
export function streamOf(ctx: EngineContext, frame: Frame): string {
  const { slots } = ctx;
  for (let s = 0; s < slots.length; s++) {
    const { cfg } = slots[s];
    if (cfg.symbol === frame.symbol && cfg.timeframe === frame.timeframe) return slots[s].stream;
  }
  return streamKey(frame.symbol, frame.timeframe);
}

/** Processes one queued frame: skips one already processed, backfills a gap before it (invariant 2). */
export function* processFrame(ctx: EngineContext, frame: Frame): Step<void> {
  const { state } = ctx;
  const key = streamOf(ctx, frame);
  const tf = timeframeMs(frame.timeframe);
  const last = state.lastFrames[key];
  if (last !== undefined && frame.start <= last) {
    state.counters.framesDuplicate++;
    return;
  }
  if (last !== undefined && frame.start > last + tf) {
    const expected = (frame.start - last) / tf - 1;
    const found = (yield { kind: 'loadFrames', query: { symbol: frame.symbol, timeframe: frame.timeframe, fromStart: last + tf, toStart: frame.start - tf } }) as Frame[];
    for (const f of found) if (f.start > (state.lastFrames[key] ?? -1)) yield* handleFrame(ctx, f, true);
    if (found.length < expected) {
      state.counters.framesMissing += expected - found.length;
      ctx.ports.log('warn', 'gap in frames not fully backfilled', { account: ctx.account, stream: key, expected, found: found.length });
    }
  }
  yield* handleFrame(ctx, frame, false);
}
