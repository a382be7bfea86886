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
import { isFrameColumns, type Frame } from '../market/frame';
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
  const every = Math.max(1, Math.floor(opts.progressEveryBars ?? 10_000));
  const { onProgress } = opts;
  // Frames as objects, or as columns read through one reused frame (no object per bar).
  const cols = isFrameColumns(opts.frames) ? opts.frames : null;
  const frames = cols === null ? (opts.frames as readonly Frame[]) : [];
  const n = cols !== null ? cols.start.length : frames.length;
  const symbol = cols !== null ? cols.symbol : n > 0 ? frames[0].symbol : 'NONE';
  const timeframe = cols !== null ? cols.timeframe : n > 0 ? frames[0].timeframe : '1m';
  const tfMs = timeframeMs(timeframe);
  const bar: Frame = { symbol, timeframe, start: NaN, open: NaN, high: NaN, low: NaN, close: NaN, volume: NaN };

  const config = SessionConfigSchema.parse({
    account,
    broker: 'paper',
    tradingEnabled: true,
    systems: [{ id: systemId, system: impl.name, symbol, timeframe, params: params as Record<string, unknown> }],
    risk: opts.risk ?? {},
    protections: opts.protections ?? {},
    schedule: opts.schedule ?? {},
  });
  const diagnostics = { systemErrors: 0, invalidDecisions: 0, rejectedOrders: 0 };
  let clock = n === 0 ? 0 : cols !== null ? cols.start[0] : frames[0].start;
  // The next deadline is asked again only when it may have moved (see the bar loop).
  let timersChanged = true;
  const ports: EnginePorts = {
    now: () => clock,
    log: (_level, message) => {
      if (message === SYSTEM_FAILED) diagnostics.systemErrors++;
      else if (message === SYSTEM_INVALID_DECISION) diagnostics.invalidDecisions++;
    },
    patched: () => true,
    statusChanged: () => undefined,
    tradingStateChanged: () => undefined,
    timersChanged: () => {
      timersChanged = true;
    },
  };
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

  // The curve as two columns: no object per bar (see EquityCurve).
  const equityTs = new Float64Array(n);
  const equityValue = new Float64Array(n);
  let last = -Infinity;
  let untilProgress = every;
  let due: number | null = null;
  let { locks, dailyLossLiftAt, nextFlattenAt } = engine.state;
  let lockCount = locks.length;
  for (let i = 0; i < n; i++) {
    let f: Frame;
    if (cols !== null) {
      f = bar;
      f.start = cols.start[i];
      f.open = cols.open[i];
      f.high = cols.high[i];
      f.low = cols.low[i];
      f.close = cols.close[i];
      f.volume = cols.volume[i];
      if (!(f.start > last)) throw new BacktestInputError(`frames.start[${i}]: start ${f.start} is not after the previous frame's ${last}`);
    } else {
      f = frames[i];
      if (!(f.start > last) || f.symbol !== symbol || f.timeframe !== timeframe) throw streamError(frames, i, last);
    }
    last = f.start;
    const end = f.start + tfMs;
    book.frameStart = f.start;
    book.frameIndex = i;
    venue.frame = f;
    venue.frameEnd = end;
    // Deadlines (locks lifting, the daily-loss lift, order expiry, flatten at close) fire at their time, before the bar.
    // A deadline moves only in a step that yields (a trade, a working order, a timer) or says so (timersChanged);
    // a quiet bar (no generator) moves none, so the deadline cached after the last such step still holds.
    const { state } = engine;
    if (timersChanged || state.locks !== locks || state.locks.length !== lockCount || state.dailyLossLiftAt !== dailyLossLiftAt || state.nextFlattenAt !== nextFlattenAt) {
      timersChanged = false;
      due = engine.nextDeadline();
    }
    while (due !== null && due <= end) {
      clock = Math.max(clock, due);
      runSync(engine.fireDueTimers(), answer);
      due = engine.nextDeadline();
    }
    clock = end;
    // The engine's frame step, synchronously as far as no effect is needed (engine/frame-step.ts).
    const rest = frameStep(engine.ctx, f, false);
    if (rest !== null) {
      runSync(rest, answer);
      timersChanged = true;
    }
    ({ locks, dailyLossLiftAt, nextFlattenAt } = state);
    lockCount = locks.length;
    equityTs[i] = end;
    equityValue[i] = engine.ctx.lastEquity;
    if (--untilProgress === 0) {
      untilProgress = every;
      if (onProgress !== undefined) onProgress(i + 1, n);
    }
  }
  if (onProgress !== undefined && n % every !== 0) onProgress(n, n);

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
