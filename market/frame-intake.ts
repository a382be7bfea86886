/**
 * Frame intake of the market-data feeder (issue 15 item 4): completed candles arrive from a broker stream (in
 * order, out of order, twice, or not at all: streams lose events and neither IG nor Alpaca replays them), and REST
 * is asked only for the minutes the stream did not bring. Pure: no clock (callers pass `now`), no I/O, no
 * Temporal import, so it runs inside the feeder workflow and replays deterministically; its state is plain JSON,
 * carried across continue-as-new.
 *
 * The rules:
 * - a frame at or before the cursor (the last delivered start) or already pending is a duplicate and is ignored;
 * - `take()` hands out pending frames that continue the cursor without a hole, in start order: each start once;
 * - a hole (pending frames exist, but the minute after the cursor is missing) is asked of REST for exactly the
 *   missing starts, once it has been seen for `holeGraceMs` (a frame that is only late gets that long);
 * - the tail (after the cursor, up to the last closed frame, nothing pending) is asked of REST only when the
 *   caller says so (`tail`: the stream is unavailable, or at start-up);
 * - minutes a bounded REST answer had nothing for (a hole's, or a tail's that ends before the last closed frame:
 *   no trading then) are settled: the cursor passes them. An unbounded tail's missing minutes are not (the broker
 *   may not have published them yet), so they are asked again on a later tick.
 */
import type { Frame } from './frame';

export interface PendingFrame {
  frame: Frame;
  /** When it arrived (caller's clock, epoch ms): a hole before it is asked of REST `holeGraceMs` later. */
  arrivedAt: number;
}

/** The carried state (JSON). */
export interface FrameIntakeState {
  /** Start of the last delivered (or settled) frame; null before the first. */
  cursor: number | null;
  /** Frames after the cursor, not yet deliverable (a hole before them), in start order. */
  pending: PendingFrame[];
}

/** What to do next for the frames after the cursor. */
export type IntakePlan =
  /** Ask REST for [fromStart, toStart]; `final`: minutes it has nothing for are settled (skipped). */
  | { kind: 'fetch'; reason: 'hole' | 'tail'; fromStart: number; toStart: number; final: boolean }
  /** A hole is known but not yet due: ask again at `until`. */
  | { kind: 'wait'; until: number }
  | { kind: 'none' };

export interface PlanOptions {
  now: number;
  /** Start of the last frame that has closed by `now`. */
  lastClosed: number;
  /** Ask REST for the tail too (the stream is unavailable, stale, or the feeder is starting). */
  tail: boolean;
  holeGraceMs: number;
  /** Most frames one REST request may ask for. */
  maxFrames: number;
}

export interface OfferResult {
  accepted: number;
  duplicates: number;
  /** Not aligned to the timeframe: refused. */
  misaligned: number;
}

export class FrameIntake {
  private cur: number | null;
  private readonly pending = new Map<number, PendingFrame>();

  constructor(
    readonly timeframeMs: number,
    state: FrameIntakeState = { cursor: null, pending: [] },
  ) {
    this.cur = state.cursor;
    for (const p of state.pending) if (this.cur === null || p.frame.start > this.cur) this.pending.set(p.frame.start, p);
  }

  get cursor(): number | null {
    return this.cur;
  }

  /** Frames waiting behind a hole. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Sets where delivery starts (the first frame expected is `fromStart`); only before the first frame. */
  startAt(fromStart: number): void {
    if (this.cur !== null) return;
    this.cur = fromStart - this.timeframeMs;
    for (const s of [...this.pending.keys()]) if (s <= this.cur) this.pending.delete(s);
  }

  /** Frames from the stream (or from REST): each start is kept once; what the cursor passed is a duplicate. */
  offer(frames: readonly Frame[], now: number): OfferResult {
    const r: OfferResult = { accepted: 0, duplicates: 0, misaligned: 0 };
    for (const f of frames) {
      if (f.start % this.timeframeMs !== 0) r.misaligned++;
      else if ((this.cur !== null && f.start <= this.cur) || this.pending.has(f.start)) r.duplicates++;
      else {
        this.pending.set(f.start, { frame: f, arrivedAt: now });
        r.accepted++;
      }
    }
    return r;
  }

  /** The frames that continue the cursor without a hole, in start order; the cursor moves past them. */
  take(): Frame[] {
    const out: Frame[] = [];
    if (this.cur === null) return out;
    for (;;) {
      const p = this.pending.get(this.cur + this.timeframeMs);
      if (!p) return out;
      this.pending.delete(p.frame.start);
      this.cur = p.frame.start;
      out.push(p.frame);
    }
  }

  /** The earliest pending start, or null. */
  private firstPending(): PendingFrame | null {
    let first: PendingFrame | null = null;
    for (const p of this.pending.values()) if (!first || p.frame.start < first.frame.start) first = p;
    return first;
  }

  /** What REST must be asked now, if anything (call after `take()`). */
  plan(o: PlanOptions): IntakePlan {
    if (this.cur === null) return { kind: 'none' };
    const next = this.cur + this.timeframeMs;
    const cap = next + (Math.max(1, o.maxFrames) - 1) * this.timeframeMs;
    const first = this.firstPending();
    if (first) {
      if (first.frame.start === next) return { kind: 'none' }; // take() has not run
      const due = first.arrivedAt + o.holeGraceMs;
      if (o.now < due) return { kind: 'wait', until: due };
      return { kind: 'fetch', reason: 'hole', fromStart: next, toStart: Math.min(first.frame.start - this.timeframeMs, cap), final: true };
    }
    if (o.tail && next <= o.lastClosed) {
      const toStart = Math.min(o.lastClosed, cap);
      return { kind: 'fetch', reason: 'tail', fromStart: next, toStart, final: toStart < o.lastClosed };
    }
    return { kind: 'none' };
  }

  /**
   * REST's answer to a `fetch` plan: its frames in the range are offered; when `final`, the minutes it had
   * nothing for are settled, so the cursor passes them (after `take()` delivered what came before them).
   * Returns the frames delivered by it, in start order.
   */
  filled(plan: { fromStart: number; toStart: number; final: boolean }, frames: readonly Frame[], now: number): Frame[] {
    this.offer(
      frames.filter((f) => f.start >= plan.fromStart && f.start <= plan.toStart),
      now,
    );
    const out = this.take();
    if (!plan.final) return out;
    while (this.cur !== null && this.cur < plan.toStart) {
      // the next minute is settled empty: skip to just before the next frame we have (or to the range's end)
      let nextHave = Infinity;
      for (const s of this.pending.keys()) if (s > this.cur && s < nextHave) nextHave = s;
      this.cur = Math.min(plan.toStart, nextHave - this.timeframeMs);
      out.push(...this.take());
    }
    return out;
  }

  snapshot(): FrameIntakeState {
    return { cursor: this.cur, pending: [...this.pending.values()].sort((a, b) => a.frame.start - b.frame.start) };
  }
}
