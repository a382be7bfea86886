/**
 * The stream-to-feeder bridge (issue 15 item 4): a long-lived process part beside the broker worker that keeps one
 * market-data stream of its broker open (a StreamSupervisor: watchdog, back-off, re-login) carrying the candles of
 * every running feeder of that broker, and hands each completed candle to its feeder workflow with the
 * `streamFrames` signal (and `streamState` on every up/down).
 *
 * Why this shape: Temporal stays the durable part. The bridge holds nothing that must survive it: which frames
 * were delivered, which minutes are missing and when REST must fill them are decided by the feeder from frame
 * times (market/frame-intake.ts), in workflow state. A frame the bridge loses (a stream drop, a bridge restart, a
 * signal that failed) is a hole the feeder fills by REST for exactly the missing starts; a duplicate is ignored
 * there. Signals rather than a DB table: the feeder wakes on a frame at once, with no polling and no activity per
 * frame, and the signal is durable in its history the moment Temporal accepts it.
 *
 * Which candles: the feeders it finds (`feeders()`, by default the running `marketDataFeeder` workflows whose id
 * names this broker, re-listed every `refreshEveryMs`) that the venue streams (`streams()`). Frames go out per
 * feeder one signal at a time, batched while one is in flight, so a burst is a few signals, not one per frame.
 */
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import type { Logger } from 'pino';
import type { Frame } from '../market/frame';
import { TimeframeSchema, type Timeframe } from '../market/timeframe';
import { feederWorkflowId, streamFramesSignal, streamStateSignal } from '../workflows/market-data-feeder';
import type { StreamEvent } from './stream-events';
import { errText, StreamSupervisor, type StreamHealth, type StreamTimers, type StreamTransport } from './stream-supervisor';

/** A feeder the bridge streams for. */
export interface FeederTarget {
  symbol: string;
  timeframe: Timeframe;
}

/** Where frames and stream states go (the feeder workflows; a test may record instead). */
export interface FeederSignaller {
  frames(target: FeederTarget, frames: Frame[]): Promise<void>;
  state(target: FeederTarget, up: boolean, reason: string): Promise<void>;
}

/** The venue side: which feeders it can stream, and a transport carrying a set of them. */
export interface FrameStreamVenue {
  readonly name: string;
  streams(t: FeederTarget): boolean;
  /** A transport for these targets (a new connection). */
  transport(targets: readonly FeederTarget[]): StreamTransport<StreamEvent>;
  /** Adds targets to the live transport without reconnecting, when the venue can (Alpaca: subscribe); else false. */
  extend?(transport: StreamTransport<StreamEvent>, added: readonly FeederTarget[]): boolean;
}

export interface FrameStreamBridgeOptions {
  venue: FrameStreamVenue;
  signaller: FeederSignaller;
  /** The feeders to stream for, asked every `refreshEveryMs`. */
  feeders(): Promise<FeederTarget[]>;
  refreshEveryMs?: number;
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** The supervisor's watchdog and back-off. */
  silenceMs?: number;
  backoff?: { initialMs?: number; maxMs?: number };
  openTimeoutMs?: number;
  timers?: StreamTimers;
  /** Attempts of one signal before its frames are left to the feeder's gap fill. Default 3. */
  signalAttempts?: number;
}

const keyOf = (t: { symbol: string; timeframe: string }) => `${t.symbol}|${t.timeframe}`;

interface Outbox {
  target: FeederTarget;
  frames: Frame[];
  states: { up: boolean; reason: string }[];
  busy: boolean;
}

export class FrameStreamBridge {
  private readonly o: FrameStreamBridgeOptions;
  private targets = new Map<string, FeederTarget>();
  private sup: StreamSupervisor<StreamEvent> | null = null;
  private transport: StreamTransport<StreamEvent> | null = null;
  private readonly outboxes = new Map<string, Outbox>();
  private refresher: NodeJS.Timeout | null = null;
  private stopped = false;
  private refreshing: Promise<void> | null = null;
  /** For tests and logs. */
  readonly stats = { framesReceived: 0, framesSignalled: 0, framesDropped: 0, signals: 0, signalFailures: 0, restarts: 0 };

  constructor(options: FrameStreamBridgeOptions) {
    this.o = options;
  }

  /** Lists the feeders and opens the stream; then re-lists every `refreshEveryMs`. */
  async start(): Promise<void> {
    await this.refresh();
    const every = this.o.refreshEveryMs ?? 30_000;
    this.refresher = setInterval(() => void this.refresh(), every);
    this.refresher.unref();
  }

  health(): StreamHealth | null {
    return this.sup?.health() ?? null;
  }

  isUp(): boolean {
    return this.sup?.isUp() ?? false;
  }

  streamed(): FeederTarget[] {
    return [...this.targets.values()];
  }

  /** Re-lists the feeders; a changed set re-subscribes (in place when the venue can, else a new connection). */
  refresh(): Promise<void> {
    this.refreshing ??= this.doRefresh().finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  private async doRefresh(): Promise<void> {
    if (this.stopped) return;
    let listed: FeederTarget[];
    try {
      listed = (await this.o.feeders()).filter((t) => this.o.venue.streams(t));
    } catch (err) {
      this.o.logger.warn({ venue: this.o.venue.name, err: errText(err) }, 'stream bridge: cannot list the feeders; keeping the current set');
      return;
    }
    const next = new Map(listed.map((t) => [keyOf(t), t]));
    const added = [...next.values()].filter((t) => !this.targets.has(keyOf(t)));
    const removed = [...this.targets.keys()].filter((k) => !next.has(k));
    if (!added.length && !removed.length) return;
    const previous = this.targets;
    this.targets = next;
    this.o.logger.info({ venue: this.o.venue.name, streams: [...next.keys()], added: added.map(keyOf), removed }, 'stream bridge: feeders changed');
    if (this.sup && this.transport && !removed.length && this.o.venue.extend?.(this.transport, added)) {
      if (this.sup.isUp()) for (const t of added) this.enqueueState(t, true, 'subscribed');
      return;
    }
    await this.restart(previous);
  }

  private async restart(previous: Map<string, FeederTarget>): Promise<void> {
    const old = this.sup;
    this.sup = null;
    this.transport = null;
    if (old) {
      await old.stop();
      for (const t of previous.values()) if (!this.targets.has(keyOf(t))) this.enqueueState(t, false, 'no longer streamed');
    }
    if (this.stopped || this.targets.size === 0) return;
    this.stats.restarts++;
    const transport = this.o.venue.transport([...this.targets.values()]);
    const sup: StreamSupervisor<StreamEvent> = new StreamSupervisor<StreamEvent>({
      transport,
      onEvent: (e) => this.onEvent(e),
      // the feeder fills what the stream lost (by frame time): nothing to reconcile here
      reconcile: () => undefined,
      silenceMs: this.o.silenceMs ?? 90_000,
      backoff: this.o.backoff ?? { initialMs: 1_000, maxMs: 60_000 },
      ...(this.o.openTimeoutMs ? { openTimeoutMs: this.o.openTimeoutMs } : {}),
      logger: this.o.logger,
      ...(this.o.timers ? { timers: this.o.timers } : {}),
      onTransition: (h) => {
        if (this.sup !== sup) return;
        if (h.state === 'up') for (const t of this.targets.values()) this.enqueueState(t, true, 'stream up');
        if (h.state === 'down') for (const t of this.targets.values()) this.enqueueState(t, false, h.lastError ?? 'stream down');
      },
    });
    this.sup = sup;
    this.transport = transport;
    sup.start();
  }

  private onEvent(e: StreamEvent): void {
    if (e.kind !== 'frame') return;
    this.stats.framesReceived++;
    const t = this.targets.get(keyOf(e.frame));
    if (!t) {
      this.stats.framesDropped++;
      return;
    }
    const box = this.box(t);
    box.frames.push(e.frame);
    void this.flush(box);
  }

  private enqueueState(t: FeederTarget, up: boolean, reason: string): void {
    const box = this.box(t);
    box.states.push({ up, reason });
    void this.flush(box);
  }

  private box(t: FeederTarget): Outbox {
    const k = keyOf(t);
    let b = this.outboxes.get(k);
    if (!b) this.outboxes.set(k, (b = { target: t, frames: [], states: [], busy: false }));
    return b;
  }

  /** One signal in flight per feeder; what arrives meanwhile goes in the next one. */
  private async flush(box: Outbox): Promise<void> {
    if (box.busy) return;
    box.busy = true;
    try {
      while (box.states.length || box.frames.length) {
        if (box.states.length) {
          const s = box.states.shift()!;
          await this.send(box.target, () => this.o.signaller.state(box.target, s.up, s.reason));
          continue;
        }
        const frames = box.frames.splice(0);
        if (await this.send(box.target, () => this.o.signaller.frames(box.target, frames))) this.stats.framesSignalled += frames.length;
        else this.stats.framesDropped += frames.length;
      }
    } finally {
      box.busy = false;
    }
  }

  private async send(t: FeederTarget, call: () => Promise<void>): Promise<boolean> {
    const attempts = this.o.signalAttempts ?? 3;
    for (let i = 1; ; i++) {
      try {
        this.stats.signals++;
        await call();
        return true;
      } catch (err) {
        this.stats.signalFailures++;
        if (err instanceof WorkflowNotFoundError || i >= attempts || this.stopped) {
          // the feeder fills the frames it did not get from REST: nothing is lost for good
          this.o.logger.warn({ venue: this.o.venue.name, stream: keyOf(t), err: errText(err) }, 'stream bridge: signal to the feeder failed; its gap fill will ask REST');
          return false;
        }
        await new Promise((r) => setTimeout(r, 200 * i));
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.refresher) clearInterval(this.refresher);
    this.refresher = null;
    await this.refreshing;
    await this.sup?.stop();
    this.sup = null;
  }
}

/** Signals the feeder workflows (`feeder-<broker>-<symbol>-<timeframe>`) through a Temporal client. */
export function temporalFeederSignaller(client: Client, broker: string): FeederSignaller {
  const handle = (t: FeederTarget) => client.workflow.getHandle(feederWorkflowId(broker, t.symbol, t.timeframe));
  return {
    frames: (t, frames) => handle(t).signal(streamFramesSignal, frames),
    state: (t, up, reason) => handle(t).signal(streamStateSignal, { up, reason }),
  };
}

/** The running feeders of a broker, from Temporal's visibility (their ids name broker, symbol and timeframe). */
export async function listRunningFeeders(client: Client, broker: string): Promise<FeederTarget[]> {
  const prefix = feederWorkflowId(broker, '', '').replace(/-+$/, '-');
  const out: FeederTarget[] = [];
  for await (const w of client.workflow.list({ query: `WorkflowType = 'marketDataFeeder' AND ExecutionStatus = 'Running'` })) {
    const t = parseFeederId(w.workflowId, prefix);
    if (t) out.push(t);
  }
  return out;
}

/** `feeder-<broker>-<symbol>-<timeframe>` → symbol and timeframe (a symbol may hold `-`; the timeframe cannot). */
export function parseFeederId(id: string, prefix: string): FeederTarget | null {
  if (!id.startsWith(prefix)) return null;
  const rest = id.slice(prefix.length);
  const cut = rest.lastIndexOf('-');
  if (cut <= 0) return null;
  const tf = TimeframeSchema.safeParse(rest.slice(cut + 1));
  return tf.success ? { symbol: rest.slice(0, cut), timeframe: tf.data } : null;
}
