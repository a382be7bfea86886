/**
 * MarketDataFeeder: one workflow per (broker, symbol, timeframe). It turns the broker's price history
 * into closed frames and delivers them to every subscribed session (signal-with-start). Its cursor —
 * the last delivered frame — lives in workflow state, so a restart of any worker neither loses nor
 * doubles a frame (and sessions ignore a frame they already have).
 *
 * Frames from streams (issue 15 item 4). Where the broker streams completed candles (IG `CHART:{epic}:{scale}`,
 * Alpaca bars), the stream bridge of the broker worker (brokers/stream-frames.ts) signals them here
 * (`streamFrames`, and `streamState` on every up/down of its stream). The bridge keeps no state: what a frame
 * is, where delivery stands and which minutes are missing live here, in workflow state (market/frame-intake.ts),
 * so Temporal stays the durable part: a bridge or worker that dies loses only stream events, and a lost event is
 * a hole this workflow sees by frame time and fills by REST for exactly the missing starts. REST is asked for
 * the tail only at start-up and while the stream is down or silent for `streamStaleMs`; a feeder that never hears
 * from a stream (paper, a venue or timeframe without one) polls REST every frame as before. IG's historical-data
 * allowance is spent on gaps only. Feeders started before this code keep their old loop until their next
 * continue-as-new (`patched`).
 */
import * as wf from '@temporalio/workflow';
import type { BrokerActivities } from '../activities/broker-activities';
import type { FeederActivities } from '../activities/feeder-activities';
import { parseFrame, type Frame } from '../market/frame';
import { FrameIntake, type FrameIntakeState } from '../market/frame-intake';
import type { Timeframe } from '../market/timeframe';
import { timeframeMs } from '../market/timeframe';
import { brokerTaskQueue } from './definitions';

export interface FeederInput {
  broker: string;
  symbol: string;
  timeframe: Timeframe;
  /** Accounts whose sessions receive the frames. */
  subscribers: string[];
  /** Start of the last delivered frame (carried across continue-as-new). */
  cursor?: number;
  /** On a first start, how many closed frames of history to deliver. */
  backfillFrames?: number;
  /** How long after a frame closes to ask the broker for it (brokers publish late). */
  publishLagMs?: number;
  /** Stream mode: no frame and no `up` from the stream for this long → REST fills the tail again. Default 2 frames + 30 s. */
  streamStaleMs?: number;
  /** Stream mode: a hole (a later frame came first) is asked of REST after this long. Default 3 s. */
  holeGraceMs?: number;
  /** Stream mode, carried across continue-as-new: the intake (cursor and frames waiting behind a hole). */
  intake?: FrameIntakeState;
  /** Stream mode, carried: what the feeder knows of the stream. */
  stream?: FeederStreamState;
  /** Stream mode, carried: the counters of `feederStatus`. */
  counters?: FeederCounters;
}

/** What the feeder knows of its broker's stream (workflow time). */
export interface FeederStreamState {
  /** Ever heard from a stream: the feeder is in stream mode. */
  seen: boolean;
  /** Last state the bridge signalled (null: none yet). */
  up: boolean | null;
  /** Last frame or `up` from the stream (epoch ms, workflow time). */
  lastAt: number | null;
}

export interface FeederCounters {
  /** Frames delivered to the subscribers (each start once). */
  delivered: number;
  /** Frames the stream brought that were delivered or pending (not duplicates). */
  streamFrames: number;
  /** Stream frames already delivered or pending, ignored. */
  streamDuplicates: number;
  /** Stream frames refused (invalid, another symbol or timeframe, misaligned). */
  streamRejected: number;
  /** REST requests (getCandles) and the frames they returned, by why they were made. */
  restRequests: { startup: number; hole: number; tail: number };
  restFrames: { startup: number; hole: number; tail: number };
}

/** Completed candles from the broker's stream (the bridge sends them; fire-and-forget). */
export const streamFramesSignal = wf.defineSignal<[Frame[]]>('streamFrames');
/** The bridge's stream went up or down. */
export const streamStateSignal = wf.defineSignal<[{ up: boolean; reason?: string }]>('streamState');
/** The patch that introduced stream intake: running feeders replay their old loop until continue-as-new. */
export const FEEDER_STREAM_PATCH = 'feeder-stream-frames';

export const feederWorkflowId = (broker: string, symbol: string, timeframe: string): string => `feeder-${broker}-${symbol}-${timeframe}`;
export const subscribeSignal = wf.defineSignal<[string]>('subscribe');
export const unsubscribeSignal = wf.defineSignal<[string]>('unsubscribe');
export interface FeederStatus {
  cursor: number | null;
  subscribers: string[];
  delivered: number;
  /** Subscribers the last delivery skipped: no configuration, an invalid one (reason names the fields), or stopped. */
  skipped: { missing: string[]; invalid: { account: string; reason: string }[]; stopped: string[] };
  /** Stream mode (absent on a feeder still running the old loop). */
  mode?: 'rest' | 'stream';
  stream?: FeederStreamState & { live: boolean; pending: number };
  counters?: FeederCounters;
}
export const feederStatusQuery = wf.defineQuery<FeederStatus>('feederStatus');

/** Frames per broker request: one request never asks for more history than this. */
const MAX_FRAMES_PER_FETCH = 500;
const ITERATIONS_PER_RUN = 1_000;

export async function marketDataFeeder(input: FeederInput): Promise<void> {
  // The first command of a new run: histories recorded before stream intake have no marker and replay the old loop.
  if (wf.patched(FEEDER_STREAM_PATCH)) return streamingFeeder(input);
  return legacyFeeder(input);
}

/** The activities of a feeder (the same for both loops: proxies are not commands). */
function feederActivities(input: FeederInput) {
  const broker = wf.proxyActivities<BrokerActivities>({
    taskQueue: brokerTaskQueue(input.broker),
    startToCloseTimeout: '30s',
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
  });
  const feeder = wf.proxyActivities<FeederActivities>({
    startToCloseTimeout: '60s',
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
  });
  return { broker, feeder };
}

const copy = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
const emptyCounters = (): FeederCounters => ({
  delivered: 0,
  streamFrames: 0,
  streamDuplicates: 0,
  streamRejected: 0,
  restRequests: { startup: 0, hole: 0, tail: 0 },
  restFrames: { startup: 0, hole: 0, tail: 0 },
});

/**
 * Stream intake (see the header): frames from `streamFrames` go into the intake; contiguous ones are stored and
 * delivered at once; REST (`getCandles`) is asked only for a hole's missing starts, for the start-up backfill, and
 * for the tail while the stream is not live. Without a stream it is the REST loop: the tail every frame.
 */
async function streamingFeeder(input: FeederInput): Promise<void> {
  const tf = timeframeMs(input.timeframe);
  const subscribers = new Set(input.subscribers);
  const intake = new FrameIntake(tf, input.intake ?? { cursor: input.cursor ?? null, pending: [] });
  const stream: FeederStreamState = { ...(input.stream ?? { seen: false, up: null, lastAt: null }) };
  const counters: FeederCounters = copy(input.counters ?? emptyCounters());
  const staleMs = input.streamStaleMs ?? 2 * tf + 30_000;
  const holeGraceMs = input.holeGraceMs ?? 3_000;
  const publishLagMs = input.publishLagMs ?? 2_000;
  let skipped: FeederStatus['skipped'] = { missing: [], invalid: [], stopped: [] };
  /** Bumped by every signal: the loop's wait ends on it. */
  let wake = 0;
  const { broker, feeder } = feederActivities(input);
  // Live: a frame or an `up` within `streamStaleMs`. A `down` alone does not end it: a reconnect usually follows
  // within seconds and the hole it leaves is one REST request, where polling the tail meanwhile would be many.
  const live = () => stream.seen && stream.lastAt !== null && Date.now() - stream.lastAt < staleMs;
  wf.setHandler(subscribeSignal, (account) => {
    subscribers.add(account);
    wake++;
  });
  wf.setHandler(unsubscribeSignal, (account) => void subscribers.delete(account));
  wf.setHandler(feederStatusQuery, () => ({
    cursor: intake.cursor,
    subscribers: [...subscribers],
    delivered: counters.delivered,
    skipped,
    mode: stream.seen ? 'stream' : 'rest',
    stream: { ...stream, live: live(), pending: intake.pendingCount },
    counters: copy(counters),
  }));
  wf.setHandler(streamFramesSignal, (frames) => {
    stream.seen = true;
    stream.lastAt = Date.now();
    if (stream.up === null) stream.up = true;
    wake++;
    // Without subscribers nothing is delivered (as in the REST loop): the frames are asked again once one comes.
    if (subscribers.size === 0) return;
    const ok: Frame[] = [];
    for (const raw of Array.isArray(frames) ? frames : []) {
      try {
        const f = parseFrame(raw);
        if (f.symbol === input.symbol && f.timeframe === input.timeframe) ok.push(f);
        else counters.streamRejected++;
      } catch {
        counters.streamRejected++;
      }
    }
    const r = intake.offer(ok, Date.now());
    counters.streamFrames += r.accepted;
    counters.streamDuplicates += r.duplicates;
    counters.streamRejected += r.misaligned;
  });
  wf.setHandler(streamStateSignal, (s) => {
    stream.seen = true;
    stream.up = s?.up === true;
    if (stream.up) stream.lastAt = Date.now();
    wf.log.info(`feeder: stream ${stream.up ? 'up' : 'down'}`, { symbol: input.symbol, reason: s?.reason });
    wake++;
  });

  const deliver = async (frames: Frame[]) => {
    if (!frames.length) return;
    await feeder.storeFrames(frames);
    // A subscriber that cannot be delivered to is reported, never a reason to stop the others.
    const report = await feeder.deliverFrames([...subscribers], frames);
    skipped = { missing: report.missing ?? [], invalid: report.invalid ?? [], stopped: report.stopped ?? [] };
    for (const m of skipped.missing) wf.log.error('feeder: subscriber has no configuration', { account: m, symbol: input.symbol });
    for (const { account, reason } of skipped.invalid) wf.log.error('feeder: subscriber has an invalid configuration', { account, reason, symbol: input.symbol });
    for (const m of skipped.stopped) wf.log.warn('feeder: subscriber is stopped; its session is not started', { account: m, symbol: input.symbol });
    counters.delivered += frames.length;
  };

  for (let i = 0; i < ITERATIONS_PER_RUN && !wf.workflowInfo().continueAsNewSuggested; i++) {
    const now = Date.now();
    // The last frame that has closed by now (workflow time: deterministic).
    const lastClosed = Math.floor(now / tf) * tf - tf;
    if (subscribers.size === 0) {
      // as the REST loop: nothing is fetched or delivered without a subscriber; the cursor waits
      await wf.condition(() => subscribers.size > 0);
      continue;
    }
    let startup = false;
    if (intake.cursor === null) {
      intake.startAt(lastClosed - ((input.backfillFrames ?? 300) - 1) * tf);
      startup = true;
    }
    const ready = intake.take();
    if (ready.length) {
      await deliver(ready);
      continue;
    }
    const plan = intake.plan({ now, lastClosed, tail: startup || !live(), holeGraceMs, maxFrames: MAX_FRAMES_PER_FETCH });
    if (plan.kind === 'fetch') {
      const why = startup ? 'startup' : plan.reason;
      const got = await broker.getCandles({ symbol: input.symbol, timeframe: input.timeframe, fromStart: plan.fromStart, toStart: plan.toStart });
      counters.restRequests[why]++;
      counters.restFrames[why] += got.length;
      const before = intake.cursor;
      // A tail answered after the stream came up settles nothing: the minutes REST lacked may be the stream's
      // next frames (still in flight), and settling them would drop those frames as duplicates. What the stream
      // then lacks is a hole, bounded by a frame it brought, and is asked of REST as such.
      const final = plan.final && (plan.reason === 'hole' || !live());
      await deliver(intake.filled({ ...plan, final }, got, Date.now()));
      // More to catch up on; a frame the broker has not published yet waits for the next tick.
      if (intake.cursor !== before) continue;
    }
    // Wait for a signal, or until the next thing is due: a hole's grace, the stream going stale, the next frame.
    const nextClose = (Math.floor(Date.now() / tf) + 1) * tf;
    const restDue = nextClose + publishLagMs;
    const until =
      plan.kind === 'wait' ? plan.until : live() && stream.lastAt !== null ? Math.max(stream.lastAt + staleMs, restDue) : restDue;
    const seen = wake;
    await wf.condition(() => wake !== seen, Math.max(until - Date.now(), 1));
  }
  await wf.condition(wf.allHandlersFinished);
  await wf.continueAsNew<typeof marketDataFeeder>({
    ...input,
    subscribers: [...subscribers],
    cursor: intake.cursor ?? undefined,
    intake: intake.snapshot(),
    stream,
    counters,
  });
}

/** The loop of feeders started before stream intake (REST every frame), kept verbatim for their replay. */
async function legacyFeeder(input: FeederInput): Promise<void> {
  const tf = timeframeMs(input.timeframe);
  const subscribers = new Set(input.subscribers);
  let cursor = input.cursor ?? null;
  let delivered = 0;
  let skipped: FeederStatus['skipped'] = { missing: [], invalid: [], stopped: [] };
  const { broker, feeder } = feederActivities(input);
  wf.setHandler(subscribeSignal, (account) => void subscribers.add(account));
  wf.setHandler(unsubscribeSignal, (account) => void subscribers.delete(account));
  wf.setHandler(feederStatusQuery, () => ({ cursor, subscribers: [...subscribers], delivered, skipped }));
  // signals of the stream bridge are not used by the old loop (not commands: no effect on replay)
  wf.setHandler(streamFramesSignal, () => undefined);
  wf.setHandler(streamStateSignal, () => undefined);

  for (let i = 0; i < ITERATIONS_PER_RUN && !wf.workflowInfo().continueAsNewSuggested; i++) {
    // The last frame that has closed by now (workflow time: deterministic).
    const lastClosed = Math.floor(Date.now() / tf) * tf - tf;
    const from = cursor === null ? lastClosed - ((input.backfillFrames ?? 300) - 1) * tf : cursor + tf;
    if (from <= lastClosed && subscribers.size > 0) {
      const to = Math.min(lastClosed, from + (MAX_FRAMES_PER_FETCH - 1) * tf);
      const frames = (await broker.getCandles({ symbol: input.symbol, timeframe: input.timeframe, fromStart: from, toStart: to }))
        .filter((f) => f.start >= from && f.start <= to)
        .sort((a, b) => a.start - b.start);
      let progressed = false;
      if (frames.length) {
        await feeder.storeFrames(frames);
        // A subscriber that cannot be delivered to is reported, never a reason to stop the others.
        const report = await feeder.deliverFrames([...subscribers], frames);
        skipped = { missing: report.missing ?? [], invalid: report.invalid ?? [], stopped: report.stopped ?? [] };
        for (const m of skipped.missing) wf.log.error('feeder: subscriber has no configuration', { account: m, symbol: input.symbol });
        for (const { account, reason } of skipped.invalid) {
          wf.log.error('feeder: subscriber has an invalid configuration', { account, reason, symbol: input.symbol });
        }
        for (const m of skipped.stopped) wf.log.warn('feeder: subscriber is stopped; its session is not started', { account: m, symbol: input.symbol });
        delivered += frames.length;
        cursor = frames[frames.length - 1].start;
        progressed = true;
      } else if (to < lastClosed) {
        cursor = to; // an empty stretch of history (market closed): move past it
        progressed = true;
      }
      // More history to catch up on; a frame the broker has not published yet waits for the next tick.
      if (progressed && cursor !== null && cursor < lastClosed) continue;
    }
    // Sleep until the next frame has closed and the broker has had time to publish it.
    const nextClose = (Math.floor(Date.now() / tf) + 1) * tf;
    await wf.sleep(Math.max(nextClose + (input.publishLagMs ?? 2_000) - Date.now(), 1));
  }
  await wf.continueAsNew<typeof marketDataFeeder>({ ...input, subscribers: [...subscribers], cursor: cursor ?? undefined });
}
