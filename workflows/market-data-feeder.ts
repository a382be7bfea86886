/**
 * MarketDataFeeder: one workflow per (broker, symbol, timeframe). It turns the broker's price history
 * into closed frames and delivers them to every subscribed session (signal-with-start). Its cursor —
 * the last delivered frame — lives in workflow state, so a restart of any worker neither loses nor
 * doubles a frame (and sessions ignore a frame they already have).
 */
import * as wf from '@temporalio/workflow';
import type { BrokerActivities } from '../activities/broker-activities';
import type { FeederActivities } from '../activities/feeder-activities';
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
}

export const feederWorkflowId = (broker: string, symbol: string, timeframe: string): string => `feeder-${broker}-${symbol}-${timeframe}`;
export const subscribeSignal = wf.defineSignal<[string]>('subscribe');
export const unsubscribeSignal = wf.defineSignal<[string]>('unsubscribe');
export interface FeederStatus {
  cursor: number | null;
  subscribers: string[];
  delivered: number;
  /** Subscribers the last delivery skipped: no configuration, an invalid one (reason names the fields), or stopped. */
  skipped: { missing: string[]; invalid: { account: string; reason: string }[]; stopped: string[] };
}
export const feederStatusQuery = wf.defineQuery<FeederStatus>('feederStatus');

/** Frames per broker request: one request never asks for more history than this. */
const MAX_FRAMES_PER_FETCH = 500;
const ITERATIONS_PER_RUN = 1_000;

export async function marketDataFeeder(input: FeederInput): Promise<void> {
  const tf = timeframeMs(input.timeframe);
  const subscribers = new Set(input.subscribers);
  let cursor = input.cursor ?? null;
  let delivered = 0;
  let skipped: FeederStatus['skipped'] = { missing: [], invalid: [], stopped: [] };
  const broker = wf.proxyActivities<BrokerActivities>({
    taskQueue: brokerTaskQueue(input.broker),
    startToCloseTimeout: '30s',
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
  });
  const feeder = wf.proxyActivities<FeederActivities>({
    startToCloseTimeout: '60s',
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
  });
  wf.setHandler(subscribeSignal, (account) => void subscribers.add(account));
  wf.setHandler(unsubscribeSignal, (account) => void subscribers.delete(account));
  wf.setHandler(feederStatusQuery, () => ({ cursor, subscribers: [...subscribers], delivered, skipped }));

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
