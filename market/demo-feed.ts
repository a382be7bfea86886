/**
 * The live demo feeder's loop (`scripts/demo.ts --live`), apart from its I/O so it can be tested: every
 * frame interval it stores the frames that closed since the last one it delivered (the venue's price
 * feed) and signals them to the session. A failed store or signal (MariaDB or Temporal restarting) is
 * retried with exponential backoff (cockatiel) for as long as it takes, each failure and the recovery
 * logged; every attempt recomputes what is due from the last frame delivered, so the frames that closed
 * during an outage are caught up in order, and none is sent twice by the feeder (the session ignores a
 * frame it already has anyway: invariant 2).
 */
import { ExponentialBackoff, handleAll, retry } from 'cockatiel';
import type { Frame } from './frame';

export interface DemoFeedPorts {
  /** The closed frames of the market from `from` (inclusive) to `to` (exclusive), in order. */
  framesBetween(from: number, to: number): Frame[];
  /** Stores frames (idempotent upserts) before they are delivered. */
  store(frames: Frame[]): Promise<void>;
  /** Delivers frames to the session. */
  deliver(frames: Frame[]): Promise<void>;
  log(level: 'info' | 'warn', message: string, fields: Record<string, unknown>): void;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface DemoFeedOptions {
  frameMs: number;
  /** Start of the last frame the session already has: the feed continues after it. */
  lastDelivered: number;
  /** Backoff between tries of a failed round, ms: first and longest. Defaults 1,000 and 30,000. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Wait this long after a frame closes before delivering it. Default 500 ms. */
  settleMs?: number;
}

export class DemoFeed {
  private cursor: number;
  private failures = 0;
  private firstFailureAt = 0;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly policy;

  constructor(
    private readonly ports: DemoFeedPorts,
    private readonly opts: DemoFeedOptions,
  ) {
    this.cursor = opts.lastDelivered;
    this.now = ports.now ?? Date.now;
    this.sleep = ports.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.policy = retry(handleAll, {
      maxAttempts: Number.POSITIVE_INFINITY,
      backoff: new ExponentialBackoff({ initialDelay: opts.initialDelayMs ?? 1_000, maxDelay: opts.maxDelayMs ?? 30_000 }),
    });
    this.policy.onRetry((e) => {
      const error = 'error' in e ? String(e.error instanceof Error ? e.error.message : e.error) : 'returned a failure';
      this.ports.log('warn', 'live feeder: delivery failed, retrying', { attempt: e.attempt, retryInMs: Math.round(e.delay), error, pendingSince: this.cursor + this.opts.frameMs });
    });
  }

  /** Start of the last frame delivered. */
  get lastDelivered(): number {
    return this.cursor;
  }

  /** The frames closed by now and not delivered yet. */
  private due(): Frame[] {
    const closedUpTo = Math.floor(this.now() / this.opts.frameMs) * this.opts.frameMs;
    return this.ports.framesBetween(this.cursor + this.opts.frameMs, closedUpTo);
  }

  /** One round: everything due, stored and delivered, retried until it goes through (or `signal` aborts); how many frames. */
  async catchUp(signal?: AbortSignal): Promise<number> {
    const sent = await this.policy.execute(async () => {
      const triedAt = this.now();
      try {
        const frames = this.due();
        if (frames.length) {
          await this.ports.store(frames);
          await this.ports.deliver(frames);
          this.cursor = frames[frames.length - 1].start;
        }
        return frames.length;
      } catch (err) {
        if (this.failures++ === 0) this.firstFailureAt = triedAt;
        throw err;
      }
    }, signal);
    if (this.failures > 0) {
      this.ports.log('info', 'live feeder: recovered', { failures: this.failures, downForMs: this.now() - this.firstFailureAt, framesDelivered: sent, lastFrame: this.cursor });
      this.failures = 0;
    }
    return sent;
  }

  /** Until `signal` aborts: wait for the next frame to close, then catch up. */
  async run(signal?: AbortSignal): Promise<void> {
    while (!signal?.aborted) {
      const t = this.now();
      const next = Math.floor(t / this.opts.frameMs) * this.opts.frameMs + this.opts.frameMs;
      await this.sleep(next - t + (this.opts.settleMs ?? 500));
      if (signal?.aborted) return;
      try {
        await this.catchUp(signal);
      } catch (err) {
        if (signal?.aborted) return;
        throw err;
      }
    }
  }
}
