/**
 * Backfill in pages (issue 11, item 5). A gap of weeks is not one activity result (the 2 MB payload limit)
 * nor one workflow task: the stored frames of a gap are loaded a page at a time, each page's store writes
 * merged into one, and between pages the frame goes back to the head of the queue, so the workflow loop
 * may continue as new before the next page. Invariant 2 holds: every stored frame of the gap is processed
 * in order before the frame that revealed it.
 */
import type { EquityPoint, SessionOutcome } from '../db/account-store';
import type { Frame } from '../market/frame';
import { timeframeMs } from '../market/timeframe';
import { emptyOutcome, type EngineContext } from './context';
import type { Effect, Step } from './effects';
import { handleFrame, processFrame, streamOf } from './frame-step';

/** Frames per page: about 150 kB of frames in, one store write of as many equity rows out. */
export const BACKFILL_PAGE_FRAMES = 1_000;

export const PAGED_BACKFILL_PATCH = 'paged-backfill';

/** Appends everything `from` holds to `into`; per system the last state wins, every equity point is kept. */
export function mergeOutcome(into: SessionOutcome, from: SessionOutcome): void {
  into.orders.push(...from.orders);
  into.fills.push(...from.fills);
  into.openedPositions.push(...from.openedPositions);
  into.trades.push(...from.trades);
  for (const s of from.systemStates) {
    const i = into.systemStates.findIndex((x) => x.systemId === s.systemId);
    if (i >= 0) into.systemStates[i] = s;
    else into.systemStates.push(s);
  }
  const points: EquityPoint[] = [...(from.equityPoints ?? []), ...(from.equity ? [from.equity] : [])];
  if (points.length) (into.equityPoints ??= []).push(...points);
  if (from.refusals?.length) (into.refusals ??= []).push(...from.refusals);
  if (from.controlEvents?.length) (into.controlEvents ??= []).push(...from.controlEvents);
  if (from.workingOrders?.length) (into.workingOrders ??= []).push(...from.workingOrders);
  if (from.orderEvents?.length) (into.orderEvents ??= []).push(...from.orderEvents);
}

/**
 * Runs `inner`, answering its store writes at once and writing them as one at the end. Every other effect
 * (an intent row before its order, the order, a stop) passes through in order, so an intent is still
 * stored before the broker sees the order; only the outcome rows wait for the page's end (the workflow's
 * history holds them until then).
 */
export function* recordOncePerPage(inner: Step<void>): Step<void> {
  const merged = emptyOutcome();
  let any = false;
  let next = inner.next();
  while (!next.done) {
    const effect: Effect = next.value;
    if (effect.kind === 'recordOutcome') {
      mergeOutcome(merged, effect.outcome);
      any = true;
      next = inner.next(undefined);
      continue;
    }
    let answer: unknown;
    try {
      answer = yield effect;
    } catch (err) {
      next = inner.throw(err);
      continue;
    }
    next = inner.next(answer);
  }
  if (any) yield { kind: 'recordOutcome', outcome: merged };
}

function* handleAll(ctx: EngineContext, key: string, frames: readonly Frame[]): Step<void> {
  for (const f of frames) if (f.start > (ctx.state.lastFrames[key] ?? -1)) yield* handleFrame(ctx, f, true);
}

/**
 * Processes one queued frame: a duplicate is skipped; a gap before it is backfilled one page per call.
 * true: a page was processed and the frame waits for the next one (the caller puts it back at the head
 * of its queue); false: the frame itself was processed (or skipped).
 */
export function* processFramePaged(ctx: EngineContext, frame: Frame): Step<boolean> {
  const { state } = ctx;
  const key = streamOf(ctx, frame);
  const tf = timeframeMs(frame.timeframe);
  const last = state.lastFrames[key];
  if (last === undefined || frame.start <= last + tf || !ctx.ports.patched(PAGED_BACKFILL_PATCH)) {
    yield* processFrame(ctx, frame);
    return false;
  }
  // Where the last page ended (missing frames included), so a page short of frames is not asked for again.
  const from = Math.max(last, state.backfilledTo[key] ?? -Infinity) + tf;
  const gapEnd = frame.start - tf;
  if (from <= gapEnd) {
    const to = Math.min(gapEnd, from + (BACKFILL_PAGE_FRAMES - 1) * tf);
    const found = (yield { kind: 'loadFrames', query: { symbol: frame.symbol, timeframe: frame.timeframe, fromStart: from, toStart: to } }) as Frame[];
    yield* recordOncePerPage(handleAll(ctx, key, found));
    const expected = (to - from) / tf + 1;
    if (found.length < expected) {
      state.counters.framesMissing += expected - found.length;
      ctx.ports.log('warn', 'gap in frames not fully backfilled', { account: ctx.account, stream: key, expected, found: found.length, fromStart: from, toStart: to });
    }
    if (to < gapEnd) {
      state.backfilledTo[key] = to;
      ctx.ports.log('info', 'backfill page done; more to come', { account: ctx.account, stream: key, toStart: to, gapEnd });
      return true;
    }
  }
  delete state.backfilledTo[key];
  yield* handleFrame(ctx, frame, false);
  return false;
}
