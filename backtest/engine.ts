/**
 * The backtester: the session engine (engine/session-engine.ts) — the very code a live AccountSession
 * runs — driven bar by bar over a series of frames, its broker effects answered synchronously by the
 * paper fill model (backtest/paper-venue.ts). The per-frame order, the risk limits, the protections and
 * the trading states are the live ones, so a backtest's trades, orders, refusals and state changes are
 * the rows a live paper session would leave in `mt_<account>`. Pure and synchronous: no I/O, no clock
 * (the engine's clock is the bar's end), no randomness, no promise per bar.
 */
import type { SessionOutcome } from '../db/account-store';
import { SessionConfigSchema } from '../config/session-config';
import { PaperConfigSchema, type PaperConfig } from '../brokers/paper/config';
import type { EnginePorts } from '../engine/context';
import { runSync, type Effect } from '../engine/effects';
import { fixLimits } from '../engine/limits';
import { SessionEngine } from '../engine/session-engine';
import { SYSTEM_FAILED, SYSTEM_INVALID_DECISION, frameStep } from '../engine/frame-step';
import { isFrameColumns, type Frame, type FrameColumns } from '../market/frame';
import { timeframeMs } from '../market/timeframe';
import { getSystem, validateParams } from '../systems/registry';
import type { OrderRecord } from '../trading/order';
import type { Position } from '../trading/position';
import type { Trade } from '../trading/trade';
import { BacktestPaperVenue } from './paper-venue';
import { computeStats } from './stats';
import type { BacktestOptions, BacktestOrder, BacktestResult, BacktestWorkingOrder, EquityCurve } from './types';

/** The frames cannot be backtested as given (mixed streams, out of order, empty symbol). Never retried. */
export class BacktestInputError extends Error {
  readonly retryable = false;
  constructor(message: string) {
    super(message);
    this.name = 'BacktestInputError';
  }
}

/** The error for the first frame that is not the next of frames[0]'s stream (checked as each bar is reached). */
function streamError(frames: readonly Frame[], i: number, last: number): BacktestInputError {
  const { symbol, timeframe } = frames[0];
  const f = frames[i];
  if (f.symbol !== symbol || f.timeframe !== timeframe) {
    return new BacktestInputError(`frames[${i}]: ${f.symbol} ${f.timeframe} is not the stream of frames[0] (${symbol} ${timeframe})`);
  }
  return new BacktestInputError(`frames[${i}]: start ${f.start} is not after the previous frame's ${last}`);
}

/**
 * A working entry's report row: the order without the record's status and clientOrderId, status working.
 * A literal, then the optional fields set: a spread followed by new keys takes V8's slow path (µs per object).
 */
function workingRow(w: NonNullable<SessionOutcome['workingOrders']>[number]): BacktestWorkingOrder {
  const row: BacktestWorkingOrder = { ref: w.ref, systemId: w.systemId, symbol: w.symbol, side: w.side, quantity: w.quantity, type: w.type, price: w.price, createdAt: w.createdAt, status: 'working' };
  if (w.stop !== undefined) row.stop = w.stop;
  if (w.takeProfit !== undefined) row.takeProfit = w.takeProfit;
  if (w.trailingStop !== undefined) row.trailingStop = w.trailingStop;
  if (w.expiresAt !== undefined) row.expiresAt = w.expiresAt;
  return row;
}

/** What the backtest keeps of the engine's store writes: its reports. */
class BacktestBook {
  readonly trades: Trade[] = [];
  readonly orders: BacktestOrder[] = [];
  readonly workingOrders: BacktestWorkingOrder[] = [];
  readonly refusals: NonNullable<SessionOutcome['refusals']> = [];
  readonly tradingStateChanges: NonNullable<SessionOutcome['controlEvents']> = [];
  private readonly working = new Map<string, BacktestWorkingOrder>();
  rejectedOrders = 0;
  /** The bar being processed. */
  frameStart = 0;
  frameIndex = 0;

  /** Exit reasons of the trades of the outcome being recorded, by exit order id (cleared per outcome). */
  private readonly exitReasons = new Map<string, Trade['exitReason']>();

  record(out: SessionOutcome): void {
    const { exitReasons } = this;
    if (exitReasons.size) exitReasons.clear();
    for (const t of out.trades) {
      this.trades.push(t);
      exitReasons.set(t.exitClientOrderId, t.exitReason);
    }
    for (const o of out.orders) this.order(o, exitReasons);
    if (out.refusals) this.refusals.push(...out.refusals);
    if (out.controlEvents) this.tradingStateChanges.push(...out.controlEvents);
    for (const w of out.workingOrders ?? []) {
      if (w.status === 'working') {
        const row = workingRow(w);
        this.working.set(w.ref, row);
        this.workingOrders.push(row);
      } else {
        const row = this.working.get(w.ref);
        if (!row) continue;
        row.status = w.status;
        row.endedAt = this.frameStart;
        this.working.delete(w.ref);
      }
    }
  }

  /** Market orders, and the stop leg when it fills or is refused (its working/cancelled rows are the venue's bookkeeping). */
  private order(o: OrderRecord, exitReasons: Map<string, Trade['exitReason']>): void {
    const stopLeg = o.seq === null;
    if (stopLeg && o.status !== 'filled' && o.status !== 'rejected') return;
    if (o.status === 'rejected') this.rejectedOrders++;
    const reason = exitReasons.get(o.clientOrderId);
    const kind = stopLeg ? 'stop' : o.intent === 'open' ? 'entry' : reason === 'take-profit' || reason === 'trailing-stop' ? reason : 'exit';
    const row: BacktestOrder = {
      clientOrderId: o.clientOrderId,
      seq: o.seq,
      systemId: o.systemId,
      symbol: o.symbol,
      side: o.side,
      quantity: o.quantity,
      intent: o.intent,
      kind,
      status: o.status === 'rejected' ? 'rejected' : 'filled',
      filledAt: o.filledAt ?? null,
      frameStart: o.frameStart ?? this.frameStart,
      frameIndex: this.frameIndex,
    };
    // Set after the literal, not spread into it: a conditional spread takes V8's slow object-clone path.
    if (o.positionRef !== undefined) row.positionRef = o.positionRef;
    if (stopLeg) row.stopLevel = o.stopLevel;
    if (o.status !== 'rejected' && o.fillPrice !== undefined) row.fillPrice = o.fillPrice;
    if (stopLeg || o.status === 'rejected') row.reason = o.reason;
    this.orders.push(row);
  }
}

/**
 * The bar loop's imports, bound once: under tsx (per-module CommonJS, how `npm run bench:backtest` and the
 * workers run) each use of an imported binding calls two export getters.
 */
const step = frameStep;
const drive = runSync;

/**
 * The bar loop, out of `runBacktest`: a small method whose locals and fields keep one type each, so V8
 * optimises it whole (runBacktest itself ran unoptimised until on-stack replacement, boxing every price
 * it read from a column: ~96 bytes per bar). The clock and the timers flag are fields (double and
 * boolean), not variables captured by the ports' closures (a captured number is boxed on each write).
 */
class BarLoop implements EnginePorts {
  clock: number;
  /** The next deadline is asked again only when it may have moved (see `bar`). */
  deadlineMayHaveMoved = true;
  readonly diagnostics = { systemErrors: 0, invalidDecisions: 0, rejectedOrders: 0 };
  /** The last bar's start (each bar must start after it). */
  private last = -Infinity;
  readonly equityTs: Float64Array;
  readonly equityValue: Float64Array;
  private engine!: SessionEngine;
  private venue!: BacktestPaperVenue;
  private book!: BacktestBook;
  private answer!: (e: Effect) => unknown;
  private every = 1;
  private onProgress: BacktestOptions['onProgress'];
  private untilProgress = 1;
  private due: number | null = null;
  private locks: SessionEngine['state']['locks'] = [];
  private lockCount = 0;
  private dailyLossLiftAt!: SessionEngine['state']['dailyLossLiftAt'];
  private nextFlattenAt!: SessionEngine['state']['nextFlattenAt'];

  constructor(
    private readonly n: number,
    private readonly tfMs: number,
    clock: number,
  ) {
    this.clock = clock;
    // The curve as two columns: no object per bar (see EquityCurve).
    this.equityTs = new Float64Array(n);
    this.equityValue = new Float64Array(n);
  }

  // EnginePorts: the engine's clock is the bar's end; logs count as diagnostics; every patch is taken.
  now(): number {
    return this.clock;
  }

  log(_level: 'info' | 'warn' | 'error', message: string): void {
    if (message === SYSTEM_FAILED) this.diagnostics.systemErrors++;
    else if (message === SYSTEM_INVALID_DECISION) this.diagnostics.invalidDecisions++;
  }

  patched(): boolean {
    return true;
  }

  statusChanged(): void {}

  tradingStateChanged(): void {}

  timersChanged(): void {
    this.deadlineMayHaveMoved = true;
  }

  wire(engine: SessionEngine, venue: BacktestPaperVenue, book: BacktestBook, answer: (e: Effect) => unknown, every: number, onProgress: BacktestOptions['onProgress']): void {
    this.engine = engine;
    this.venue = venue;
    this.book = book;
    this.answer = answer;
    this.every = every;
    this.untilProgress = every;
    this.onProgress = onProgress;
    const { locks, dailyLossLiftAt, nextFlattenAt } = engine.state;
    this.locks = locks;
    this.lockCount = locks.length;
    this.dailyLossLiftAt = dailyLossLiftAt;
    this.nextFlattenAt = nextFlattenAt;
  }

  /**
   * The bars as columns, read into one reused frame (no object per bar). The loop itself touches no
   * price: it runs once per backtest, so V8 may run it unoptimised (where every number read is boxed),
   * while `columnBar`, called per bar, is optimised like any hot function.
   */
  runColumns(cols: FrameColumns): void {
    const f: Frame = { symbol: cols.symbol, timeframe: cols.timeframe, start: NaN, open: NaN, high: NaN, low: NaN, close: NaN, volume: NaN };
    for (let i = 0; i < this.n; i++) this.columnBar(cols, f, i);
    this.progressDone();
  }

  /** The bars as frame objects, each checked to be the next of frames[0]'s stream as it is reached. */
  runFrames(frames: readonly Frame[], symbol: string, timeframe: Frame['timeframe']): void {
    for (let i = 0; i < this.n; i++) this.frameBar(frames, symbol, timeframe, i);
    this.progressDone();
  }

  private columnBar(cols: FrameColumns, f: Frame, i: number): void {
    f.start = cols.start[i];
    f.open = cols.open[i];
    f.high = cols.high[i];
    f.low = cols.low[i];
    f.close = cols.close[i];
    f.volume = cols.volume[i];
    if (!(f.start > this.last)) throw new BacktestInputError(`frames.start[${i}]: start ${f.start} is not after the previous frame's ${this.last}`);
    this.last = f.start;
    this.bar(f, i);
  }

  private frameBar(frames: readonly Frame[], symbol: string, timeframe: Frame['timeframe'], i: number): void {
    const f = frames[i];
    if (!(f.start > this.last) || f.symbol !== symbol || f.timeframe !== timeframe) throw streamError(frames, i, this.last);
    this.last = f.start;
    this.bar(f, i);
  }

  private bar(f: Frame, i: number): void {
    const { engine, venue, book } = this;
    const end = f.start + this.tfMs;
    book.frameStart = f.start;
    book.frameIndex = i;
    venue.frame = f;
    venue.frameEnd = end;
    // Deadlines (locks lifting, the daily-loss lift, order expiry, flatten at close) fire at their time, before the bar.
    // A deadline moves only in a step that yields (a trade, a working order, a timer) or says so (timersChanged);
    // a quiet bar (no generator) moves none, so the deadline cached after the last such step still holds.
    const { state } = engine;
    if (this.deadlineMayHaveMoved || state.locks !== this.locks || state.locks.length !== this.lockCount || state.dailyLossLiftAt !== this.dailyLossLiftAt || state.nextFlattenAt !== this.nextFlattenAt) {
      this.deadlineMayHaveMoved = false;
      this.due = engine.nextDeadline();
    }
    let due = this.due;
    while (due !== null && due <= end) {
      this.clock = Math.max(this.clock, due);
      drive(engine.fireDueTimers(), this.answer);
      due = this.due = engine.nextDeadline();
    }
    this.clock = end;
    // The engine's frame step, synchronously as far as no effect is needed (engine/frame-step.ts).
    const rest = step(engine.ctx, f, false);
    if (rest !== null) {
      drive(rest, this.answer);
      this.deadlineMayHaveMoved = true;
    }
    this.locks = state.locks;
    this.lockCount = state.locks.length;
    this.dailyLossLiftAt = state.dailyLossLiftAt;
    this.nextFlattenAt = state.nextFlattenAt;
    this.equityTs[i] = end;
    this.equityValue[i] = engine.ctx.lastEquity;
    if (--this.untilProgress === 0) {
      this.untilProgress = this.every;
      if (this.onProgress !== undefined) this.onProgress(i + 1, this.n);
    }
  }

  private progressDone(): void {
    const { n, every, onProgress } = this;
    if (onProgress !== undefined && n % every !== 0) onProgress(n, n);
  }
}

/**
 * Runs one system over one stream of frames and returns its trades (as `mt_<account>.trades` rows),
 * orders, working entries, risk refusals, trading-state changes, one equity point per bar and the
 * stats. Throws UnknownSystemError, InvalidSystemParamsError (bad params of a registered system), a
 * ZodError (bad paper, risk or protections config, or bad params of a system object) or
 * BacktestInputError (frames not one ordered stream: thrown on reaching the first bad frame).
 */
export function runBacktest(opts: BacktestOptions): BacktestResult {
  const impl = typeof opts.system === 'string' ? getSystem(opts.system) : opts.system;
  const params = typeof opts.system === 'string' ? validateParams(opts.system, opts.params) : impl.paramsSchema.parse(opts.params ?? {});
  const paper: PaperConfig = PaperConfigSchema.parse(opts.paper ?? {});
  const startingBalance = opts.startingBalance ?? paper.initialBalance;
  const account = opts.account ?? 'backtest';
  const systemId = opts.systemId ?? 'bt';
  // Frames as objects, or as columns read through one reused frame (no object per bar).
  const cols = isFrameColumns(opts.frames) ? opts.frames : null;
  const frames = cols === null ? (opts.frames as readonly Frame[]) : [];
  const n = cols !== null ? cols.start.length : frames.length;
  const symbol = cols !== null ? cols.symbol : n > 0 ? frames[0].symbol : 'NONE';
  const timeframe = cols !== null ? cols.timeframe : n > 0 ? frames[0].timeframe : '1m';
  const tfMs = timeframeMs(timeframe);

  const config = SessionConfigSchema.parse({
    account,
    broker: 'paper',
    tradingEnabled: true,
    systems: [{ id: systemId, system: impl.name, symbol, timeframe, params: params as Record<string, unknown> }],
    risk: opts.risk ?? {},
    protections: opts.protections ?? {},
    schedule: opts.schedule ?? {},
  });
  const loop = new BarLoop(n, tfMs, n === 0 ? 0 : cols !== null ? cols.start[0] : frames[0].start);
  const { diagnostics } = loop;
  // The loop is the engine's ports: prototype methods, the same functions in every run (a closure per
  // run made the optimised bar loop depend on the last run's closures, and lose its code to each GC).
  const ports: EnginePorts = loop;
  const engine = new SessionEngine({ config, features: { riskEngine: true, accountCurrency: true }, ports, resolveSystem: () => impl, recordEveryFrame: false });
  engine.state.startingBalance = startingBalance;
  // The limits a live session fixes at its start from the broker's balance: the same defaults here.
  fixLimits(engine.ctx, startingBalance, paper.currency);
  engine.armTimers();

  const venue = new BacktestPaperVenue(paper);
  const book = new BacktestBook();
  const answer = (e: Effect): unknown => {
    if (e.kind === 'recordOutcome') return book.record(e.outcome);
    if (e.kind === 'recordOrderIntent' || e.kind === 'prepareAccount' || e.kind === 'loadFrames') return undefined;
    return venue.answer(e);
  };
  loop.wire(engine, venue, book, answer, Math.max(1, Math.floor(opts.progressEveryBars ?? 10_000)), opts.onProgress);
  if (cols !== null) loop.runColumns(cols);
  else loop.runFrames(frames, symbol, timeframe);
  const equityTs = loop.equityTs;
  const equityValue = loop.equityValue;

  diagnostics.rejectedOrders = book.rejectedOrders;
  const openPosition: Position | null = engine.state.positions[systemId] ?? null;
  const equityCurve: EquityCurve = { ts: equityTs, equity: equityValue };
  const stats = computeStats({ trades: book.trades, equityCurve, startingBalance, timeframe, openPosition });
  return {
    trades: book.trades,
    orders: book.orders,
    workingOrders: book.workingOrders,
    refusals: book.refusals,
    tradingStateChanges: book.tradingStateChanges,
    equityCurve,
    stats,
    openPosition,
    params,
    diagnostics,
  };
}
