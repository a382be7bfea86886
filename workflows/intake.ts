/**
 * Intake of frames: the `frame` signal (a bad batch is counted and refused, never a crash: invariant 8)
 * and the `submitFrames` update (a bad batch fails the update naming the frame and field). A frame at or
 * before the last processed one of its stream is a duplicate (a feeder re-delivering), not an error.
 */
import * as wf from '@temporalio/workflow';
import { ApplicationFailure } from '@temporalio/common';
import type { SessionEngine } from '../engine/session-engine';
import { enqueueFrame } from '../engine/session-state';
import { parseFrame, streamKey, type Frame } from '../market/frame';
import { timeframeMs } from '../market/timeframe';
import { frameSignal, submitFramesUpdate } from './definitions';

/** How far past workflow time a frame may end (clock skew between a feeder and the Temporal server). */
export const FUTURE_FRAME_TOLERANCE_MS = 60_000;

const invalid = (message: string) => ApplicationFailure.nonRetryable(message, 'InvalidFrameError');

export function wireIntake(engine: SessionEngine, queue: Frame[], opts: { refuseFutureFrames: boolean }): void {
  const { state } = engine;

  function checkFrame(raw: unknown): { frame: Frame; duplicate: boolean } {
    const frame = parseFrame(raw);
    const key = streamKey(frame.symbol, frame.timeframe);
    if (!engine.streams.has(key)) throw invalid(`frame: no system of this session trades ${key}`);
    if (opts.refuseFutureFrames) {
      const end = frame.start + timeframeMs(frame.timeframe);
      if (end > Date.now() + FUTURE_FRAME_TOLERANCE_MS) {
        throw invalid(
          `start: frame ${frame.start} of ${key} ends at ${new Date(end).toISOString()}, after the session's time ${new Date(Date.now()).toISOString()} (a frame must have closed; is the clock in ms?)`,
        );
      }
    }
    const last = state.lastFrames[key];
    return { frame, duplicate: last !== undefined && frame.start <= last };
  }

  /** Every frame valid, and each stream's frames in strictly increasing start order. */
  function checkBatch(frames: unknown[]): void {
    const lastInBatch = new Map<string, number>();
    frames.forEach((raw, i) => {
      try {
        const { frame } = checkFrame(raw);
        const key = streamKey(frame.symbol, frame.timeframe);
        const prev = lastInBatch.get(key);
        if (prev !== undefined && frame.start <= prev) throw invalid(`start: ${frame.start} is not after the previous frame ${prev} of ${key} in this batch (frames must be in order)`);
        lastInBatch.set(key, frame.start);
      } catch (err) {
        throw invalid(`frames[${i}]: ${(err as Error).message}`);
      }
    });
  }

  function acceptFrame(raw: unknown): 'accepted' | 'duplicate' {
    const { frame, duplicate } = checkFrame(raw);
    if (duplicate || !enqueueFrame(queue, frame)) {
      state.counters.framesDuplicate++;
      return 'duplicate';
    }
    return 'accepted';
  }

  wf.setHandler(frameSignal, (payload) => {
    const frames = Array.isArray(payload) ? payload : [payload];
    try {
      checkBatch(frames);
    } catch (err) {
      state.counters.framesRejected += frames.length;
      state.lastRejection = (err as Error).message;
      wf.log.warn('frames rejected', { account: engine.ctx.account, count: frames.length, reason: (err as Error).message });
      return;
    }
    for (const raw of frames) acceptFrame(raw);
  });

  wf.setHandler(
    submitFramesUpdate,
    (frames) => {
      let accepted = 0;
      let duplicates = 0;
      for (const f of frames) (acceptFrame(f) === 'accepted' ? accepted++ : duplicates++);
      return { accepted, duplicates };
    },
    {
      validator: (frames) => {
        if (!Array.isArray(frames)) throw invalid('frames: expected an array of frames');
        checkBatch(frames);
      },
    },
  );
}
