/**
 * A venue-neutral supervisor for one broker stream (issue 15): it opens the stream through a `StreamTransport`,
 * watches it, and reopens it when it fails. Streams are hints and the broker's REST state is the truth, so on every
 * (re)connect, and optionally on a timer, it calls `reconcile`: neither IG nor Alpaca replays what was sent while
 * the stream was down, and a stream can lose events while its heartbeats keep arriving.
 *
 * - Watchdog: no event and no heartbeat within `silenceMs` → the stream is closed and reopened.
 * - A failed or refused open waits before the next one, doubling from `backoff.initialMs` up to `backoff.maxMs`; a
 *   refusal that says how long to wait (`StreamRefusedError.retryAfterMs`) waits at least that long.
 * - A refusal marked `authExpired` makes the next open log in again (`StreamOpenContext.relogin`).
 * - Every transition is logged and kept in `health()` (state, since, last activity, counters) for a health check.
 *
 * Timers are injectable (`timers`), so tests drive the clock.
 */
import type { Logger } from 'pino';

export type StreamState = 'idle' | 'connecting' | 'up' | 'down' | 'stopped';

/** What a health check reads. */
export interface StreamHealth {
  stream: string;
  state: StreamState;
  /** Epoch ms of the last state change. */
  since: number;
  /** Epoch ms of the last event or heartbeat of the current connection; null before the first. */
  lastActivityAt: number | null;
  /** Successful opens so far. */
  connects: number;
  /** Failed or refused opens since the last successful one. */
  failures: number;
  lastError?: string;
  /** When the next open is due while down. */
  nextAttemptAt?: number;
}

/** Thrown by `StreamTransport.open` when the venue refused the connection (limit reached, auth failed, ...). */
export class StreamRefusedError extends Error {
  constructor(
    message: string,
    readonly opts: { retryAfterMs?: number; authExpired?: boolean; code?: number | string } = {},
  ) {
    super(message);
    this.name = 'StreamRefusedError';
  }
}

/** Where a transport delivers what its connection receives. */
export interface StreamSink<E> {
  event(e: E): void;
  /** A heartbeat (ping answered, probe, keepalive): the connection is alive, whether or not events flow. */
  heartbeat(): void;
  /** The connection is gone (dropped, closed by the venue, stalled). `authExpired` → log in again first. */
  down(reason: string, opts?: { authExpired?: boolean; retryAfterMs?: number }): void;
}

export interface StreamOpenContext {
  /** 1 for the first open, counting every attempt. */
  attempt: number;
  /** The tokens were refused: fetch new ones before connecting. */
  relogin: boolean;
}

export interface StreamConnection {
  close(): Promise<void> | void;
}

/** One venue stream: connects, logs in and subscribes everything it carries; resolves once events can flow. */
export interface StreamTransport<E> {
  readonly name: string;
  open(sink: StreamSink<E>, ctx: StreamOpenContext): Promise<StreamConnection>;
}

export interface StreamTimers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const REAL_TIMERS: StreamTimers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface ReconcileCause {
  reason: 'connected' | 'reconnected' | 'timer';
  at: number;
}

export interface StreamSupervisorOptions<E> {
  transport: StreamTransport<E>;
  onEvent(e: E): void;
  /** REST reconciliation: on every successful open and every `reconcileEveryMs`. Failures are logged, never fatal. */
  reconcile(cause: ReconcileCause): Promise<void> | void;
  /** Watchdog: reopen when nothing (event or heartbeat) arrived for this long. */
  silenceMs: number;
  backoff?: { initialMs?: number; maxMs?: number; factor?: number };
  /** Give up on an open that has not resolved after this long (default 2 × silenceMs). */
  openTimeoutMs?: number;
  reconcileEveryMs?: number;
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  timers?: StreamTimers;
  /** Called on every state change (after it is logged). */
  onTransition?(health: StreamHealth): void;
}

export class StreamSupervisor<E> {
  private readonly o: StreamSupervisorOptions<E>;
  private readonly t: StreamTimers;
  private h: StreamHealth;
  private conn: StreamConnection | null = null;
  /** Incremented on every open; callbacks of an older connection are ignored. */
  private gen = 0;
  private attempts = 0;
  private relogin = false;
  private retryFloorMs = 0;
  private watchdog: unknown = null;
  private retry: unknown = null;
  private reconcileTimer: unknown = null;
  private reconciling: Promise<void> | null = null;
  private reconcileAgain: ReconcileCause | null = null;

  constructor(options: StreamSupervisorOptions<E>) {
    this.o = options;
    this.t = options.timers ?? REAL_TIMERS;
    this.h = { stream: options.transport.name, state: 'idle', since: this.t.now(), lastActivityAt: null, connects: 0, failures: 0 };
  }

  health(): StreamHealth {
    return { ...this.h };
  }

  /** True while the stream is up (events can flow). */
  isUp(): boolean {
    return this.h.state === 'up';
  }

  start(): void {
    if (this.h.state !== 'idle') return;
    this.scheduleReconcileTimer();
    void this.openNow();
  }

  async stop(): Promise<void> {
    this.gen++;
    this.clear('watchdog');
    this.clear('retry');
    this.clear('reconcileTimer');
    this.transition('stopped', 'stopped');
    const c = this.conn;
    this.conn = null;
    if (c) await safeClose(c);
    if (this.reconciling) await this.reconciling;
  }

  private async openNow(): Promise<void> {
    if (this.h.state === 'stopped') return;
    const gen = ++this.gen;
    this.attempts++;
    this.transition('connecting', `attempt ${this.attempts}${this.relogin ? ' (log in again)' : ''}`);
    const sink: StreamSink<E> = {
      event: (e) => {
        if (gen !== this.gen) return;
        this.activity();
        try {
          this.o.onEvent(e);
        } catch (err) {
          this.o.logger.error({ stream: this.h.stream, err: errText(err) }, 'stream event handler threw');
        }
      },
      heartbeat: () => {
        if (gen === this.gen) this.activity();
      },
      down: (reason, opts) => {
        if (gen !== this.gen) return;
        if (opts?.authExpired) this.relogin = true;
        if (opts?.retryAfterMs) this.retryFloorMs = opts.retryAfterMs;
        void this.lost(reason, false);
      },
    };
    const ctx: StreamOpenContext = { attempt: this.attempts, relogin: this.relogin };
    const openTimeoutMs = this.o.openTimeoutMs ?? 2 * this.o.silenceMs;
    let timer: unknown = null;
    try {
      const conn = await Promise.race([
        this.o.transport.open(sink, ctx),
        new Promise<never>((_, reject) => {
          timer = this.t.setTimeout(() => reject(new Error(`open did not complete within ${openTimeoutMs} ms`)), openTimeoutMs);
        }),
      ]);
      this.t.clearTimeout(timer);
      if (gen !== this.gen || this.h.state !== 'connecting') {
        await safeClose(conn);
        return;
      }
      this.conn = conn;
      this.relogin = false;
      this.retryFloorMs = 0;
      const first = this.h.connects === 0;
      this.h.connects++;
      this.h.failures = 0;
      delete this.h.lastError;
      this.h.lastActivityAt = this.t.now();
      this.transition('up', first ? 'connected' : 'reconnected');
      this.armWatchdog();
      this.runReconcile({ reason: first ? 'connected' : 'reconnected', at: this.t.now() });
    } catch (err) {
      this.t.clearTimeout(timer);
      if (gen !== this.gen) return;
      if (err instanceof StreamRefusedError) {
        if (err.opts.authExpired) this.relogin = true;
        if (err.opts.retryAfterMs) this.retryFloorMs = err.opts.retryAfterMs;
      }
      await this.lost(`open failed: ${errText(err)}`, true);
    }
  }

  /** The connection failed (or never opened): close what is left, wait, open again. */
  private async lost(reason: string, failedOpen: boolean): Promise<void> {
    if (this.h.state === 'stopped' || this.h.state === 'down') return;
    this.gen++;
    this.clear('watchdog');
    const c = this.conn;
    this.conn = null;
    this.h.failures++;
    this.h.lastError = reason;
    const delay = this.backoffMs();
    this.h.nextAttemptAt = this.t.now() + delay;
    this.transition('down', `${reason}; next attempt in ${delay} ms`, failedOpen ? 'warn' : 'error');
    this.retry = this.t.setTimeout(() => {
      this.retry = null;
      delete this.h.nextAttemptAt;
      void this.openNow();
    }, delay);
    if (c) await safeClose(c);
  }

  private backoffMs(): number {
    const { initialMs = 1_000, maxMs = 60_000, factor = 2 } = this.o.backoff ?? {};
    const exp = Math.min(maxMs, initialMs * factor ** Math.max(0, this.h.failures - 1));
    return Math.max(exp, this.retryFloorMs);
  }

  private activity(): void {
    this.h.lastActivityAt = this.t.now();
  }

  private armWatchdog(): void {
    this.clear('watchdog');
    const last = this.h.lastActivityAt ?? this.t.now();
    const due = Math.max(0, last + this.o.silenceMs - this.t.now());
    this.watchdog = this.t.setTimeout(() => {
      this.watchdog = null;
      if (this.h.state !== 'up') return;
      const quietFor = this.t.now() - (this.h.lastActivityAt ?? 0);
      if (quietFor >= this.o.silenceMs) void this.lost(`watchdog: nothing received for ${quietFor} ms (limit ${this.o.silenceMs} ms)`, false);
      else this.armWatchdog();
    }, due);
  }

  private scheduleReconcileTimer(): void {
    const every = this.o.reconcileEveryMs;
    if (!every) return;
    this.reconcileTimer = this.t.setTimeout(() => {
      this.reconcileTimer = null;
      if (this.h.state === 'stopped') return;
      this.runReconcile({ reason: 'timer', at: this.t.now() });
      this.scheduleReconcileTimer();
    }, every);
  }

  /** Runs reconcile; one at a time (a cause arriving meanwhile runs once after it). */
  private runReconcile(cause: ReconcileCause): void {
    if (this.reconciling) {
      this.reconcileAgain = cause;
      return;
    }
    this.reconciling = (async () => {
      let next: ReconcileCause | null = cause;
      while (next) {
        const c = next;
        this.reconcileAgain = null;
        try {
          await this.o.reconcile(c);
        } catch (err) {
          this.o.logger.error({ stream: this.h.stream, reason: c.reason, err: errText(err) }, 'stream reconciliation failed');
        }
        next = this.h.state === 'stopped' ? null : this.reconcileAgain;
      }
      this.reconciling = null;
    })();
  }

  private transition(state: StreamState, why: string, level: 'info' | 'warn' | 'error' = 'info'): void {
    const from = this.h.state;
    this.h.state = state;
    this.h.since = this.t.now();
    this.o.logger[level]({ stream: this.h.stream, from, to: state, why, failures: this.h.failures, connects: this.h.connects }, `stream ${this.h.stream}: ${from} → ${state}`);
    this.o.onTransition?.(this.health());
  }

  private clear(which: 'watchdog' | 'retry' | 'reconcileTimer'): void {
    const h = this[which];
    if (h !== null) this.t.clearTimeout(h);
    this[which] = null;
  }
}

async function safeClose(c: StreamConnection): Promise<void> {
  try {
    await c.close();
  } catch {
    // closing a dead connection may throw; nothing to do
  }
}

export function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
