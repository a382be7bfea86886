/**
 * The backtester: the very `systems/` code a live AccountSession runs, over a series of frames, with the
 * paper venue's fill model. Pure and synchronous: no I/O, no clock, no randomness.
 *
 * On each bar, exactly as `workflows/account-session.ts` with the paper broker (spec: "Per-frame order"):
 *   1. an open position whose protective stop the bar reached is closed by the venue at `stopFillPrice`
 *      (the stop, or the open when the market gapped through it, less slippage); else an emulated exit
 *      the bar reached (`emulatedExitHit`: trailing stop, then take-profit) closes it with a market order
 *      at the bar's close; else the trailing level moves (`trailAfter`);
 *   2. flat with a working limit/stop entry: dropped when expired at the bar's end, else, if the bar
 *      reached its price, it goes as a market entry at the bar's close with its stop, take-profit, trail;
 *   3. the system decides on the bar (a throw or an invalid decision is counted and means "none");
 *      buy = be long, sell = be short (an opposite position is closed first: a reversal), close = be flat
 *      (and cancels a working entry); a limit/stop entry replaces the working one, a market entry fills
 *      at the bar's close ± half the spread + slippage (`marketFillPrice`);
 *   4. an entry goes without its stop; once filled the stop is placed, and the venue refuses one on the
 *      wrong side of its quote (long: stop ≥ bid; short: stop ≤ ask), so the position is closed at once
 *      at market, reason `stop-failed`. A trailing stop starts `distance` from the fill;
 *   5. equity is marked at the bar's close: balance + realised + unrealised, rounded like the DECIMAL columns.
 * Order ids, position refs and trade rows are built as the session builds them (every market order takes
 * the next sequence number; a working entry has its own `W` ref and takes a sequence number only when it
 * triggers), so a backtest's trades equal the rows a live paper session leaves in `mt_<account>.trades`.
 */
import { stopOrderId, type OrderSide } from '../brokers/adapter';
import { PaperConfigSchema, type PaperConfig } from '../brokers/paper/config';
import { marketFillPrice, stopFillPrice } from '../brokers/paper/fill-model';
import type { Frame } from '../market/frame';
import { timeframeMs } from '../market/timeframe';
import { getSystem, validateParams } from '../systems/registry';
import { NO_DECISION, type Decision, type DecisionInput, type EntryOrder, type PortfolioView, type SystemState } from '../systems/types';
import { decisionProblem } from '../trading/decision-check';
import { emulatedExitHit, initialTrailLevel, trailAfter } from '../trading/exits';
import { clientOrderIdFor } from '../trading/order';
import { unrealisedPnl, type Position } from '../trading/position';
import { closeTrade, round8, type ExitReason, type Trade } from '../trading/trade';
import { workingOrderExpired, workingOrderFor, workingOrderRef, workingOrderTriggered } from '../trading/working-order';
import { computeStats } from './stats';
import type { BacktestOptions, BacktestOrder, BacktestOrderKind, BacktestResult, BacktestWorkingOrder, EquityCurve } from './types';

/** The frames cannot be backtested as given (mixed streams, out of order, empty symbol). Never retried. */
export class BacktestInputError extends Error {
  readonly retryable = false;
  constructor(message: string) {
    super(message);
    this.name = 'BacktestInputError';
  }
}

/**
 * Frames must be one stream in strictly increasing start order (the session ignores anything else). The
 * engine checks each frame as it reaches it (a separate pass over a million frame objects cost as much as
 * the stats); this builds the error for the first frame that is not.
 */
function streamError(frames: readonly Frame[], i: number, last: number): BacktestInputError {
  const { symbol, timeframe } = frames[0];
  const f = frames[i];
  if (f.symbol !== symbol || f.timeframe !== timeframe) {
    return new BacktestInputError(`frames[${i}]: ${f.symbol} ${f.timeframe} is not the stream of frames[0] (${symbol} ${timeframe})`);
  }
  return new BacktestInputError(`frames[${i}]: start ${f.start} is not after the previous frame's ${last}`);
}

const FLAT: PortfolioView = Object.freeze({ position: null, realisedPnl: 0 });

/**
 * Runs one system over one stream of frames and returns its trades (as `mt_<account>.trades` rows),
 * orders, working entries, one equity point per bar and the stats. Throws UnknownSystemError,
 * InvalidSystemParamsError (bad params of a registered system), a ZodError (bad paper config, or bad
 * params of a system object) or BacktestInputError (frames not one ordered stream: thrown on reaching
 * the first bad frame, after any progress reported for the bars before it); the frames themselves are
 * trusted to be valid (CSV, maodata and generateFrames all validate them).
 */
export function runBacktest(opts: BacktestOptions): BacktestResult {
  const impl = typeof opts.system === 'string' ? getSystem(opts.system) : opts.system;
  const params = typeof opts.system === 'string' ? validateParams(opts.system, opts.params) : impl.paramsSchema.parse(opts.params ?? {});
  const cfg: PaperConfig = PaperConfigSchema.parse(opts.paper ?? {});
  const startingBalance = opts.startingBalance ?? cfg.initialBalance;
  const account = opts.account ?? 'backtest';
  const systemId = opts.systemId ?? 'bt';
  const every = Math.max(1, Math.floor(opts.progressEveryBars ?? 10_000));
  const { frames, onProgress } = opts;
  const n = frames.length;
  const symbol = n > 0 ? frames[0].symbol : '';
  const timeframe = n > 0 ? frames[0].timeframe : '1m';
  const tfMs = timeframeMs(timeframe);
  const halfSpread = cfg.spreadBps / 2 / 10_000;

  const trades: Trade[] = [];
  const orders: BacktestOrder[] = [];
  const workingOrders: BacktestWorkingOrder[] = [];
  // The curve as two columns: no object per bar (see EquityCurve).
  const equityTs = new Float64Array(n);
  const equityValue = new Float64Array(n);
  const diagnostics = { systemErrors: 0, invalidDecisions: 0, rejectedOrders: 0 };
  let state = impl.initialState(params);
  let pos: Position | null = null;
  let working: BacktestWorkingOrder | null = null;
  let realised = 0;
  let seq = 0;
  let workingSeq = 0;
  // The view a system sees; rebuilt only when the position or realised P&L changes.
  let view: PortfolioView = FLAT;

  const refreshView = () => {
    view = Object.freeze({
      position: pos
        ? Object.freeze({ side: pos.side, quantity: pos.quantity, entryPrice: pos.entryPrice, stop: pos.stop })
        : null,
      realisedPnl: realised,
    });
  };

  const book = (p: Position, exit: { clientOrderId: string; price: number; at: number; reason: ExitReason }) => {
    const trade = closeTrade(p, exit);
    trades.push(trade);
    realised = round8(realised + trade.pnl);
    pos = null;
    refreshView();
  };

  /** A market order at the paper venue: the next sequence number, filled at the bar's close moved against the taker. */
  const marketOrder = (f: Frame, i: number, side: OrderSide, intent: 'open' | 'close', kind: BacktestOrderKind, quantity: number, positionRef?: string): BacktestOrder => {
    const clientOrderId = clientOrderIdFor(account, ++seq);
    const order: BacktestOrder = {
      clientOrderId,
      seq,
      systemId,
      symbol: f.symbol,
      side,
      quantity,
      intent,
      kind,
      status: 'filled',
      fillPrice: marketFillPrice(f.close, side, cfg),
      filledAt: f.start + tfMs,
      frameStart: f.start,
      frameIndex: i,
    };
    // Set after the literal, not spread into it: a conditional spread takes V8's slow object-clone path
    // (it was a sixth of a million-bar run with 40,000 orders).
    if (positionRef !== undefined) order.positionRef = positionRef;
    orders.push(order);
    return order;
  };

  const exitPosition = (p: Position, f: Frame, i: number, reason: ExitReason) => {
    const kind = reason === 'take-profit' || reason === 'trailing-stop' ? reason : 'exit';
    const o = marketOrder(f, i, p.side === 'long' ? 'sell' : 'buy', 'close', kind, p.quantity, p.positionRef);
    book(p, { clientOrderId: o.clientOrderId, price: o.fillPrice!, at: f.start, reason });
  };

  /** The venue refused the protective stop (its quote at the bar's close is `quote`): the leg is recorded as rejected. */
  const stopRefused = (p: Position, stop: number, quote: number, f: Frame, i: number) => {
    orders.push({
      clientOrderId: stopOrderId(p.positionRef),
      seq: null,
      systemId,
      symbol: p.symbol,
      side: p.side === 'long' ? 'sell' : 'buy',
      quantity: p.quantity,
      intent: 'close',
      kind: 'stop',
      positionRef: p.positionRef,
      stopLevel: stop,
      status: 'rejected',
      filledAt: null,
      // The paper venue's words, as the session records them.
      reason: `protective stop not placed: stop ${stop} is on the wrong side of the ${p.side === 'long' ? 'bid' : 'ask'} ${quote} for a ${p.side} position`,
      frameStart: f.start,
      frameIndex: i,
    });
    diagnostics.rejectedOrders++;
  };

  /**
   * The entry flow: a market entry without its stop; once filled, the stop is placed (the paper venue
   * refuses one on the wrong side of its quote at the bar's close: then the position is closed at once,
   * `stop-failed`), and the take-profit and trailing stop are armed from the fill.
   */
  const enter = (f: Frame, i: number, side: OrderSide, quantity: number, legs: Pick<Decision, 'stop' | 'takeProfit' | 'trailingStop'>) => {
    const o = marketOrder(f, i, side, 'open', 'entry', quantity);
    const fill = o.fillPrice!;
    const p: Position = { positionRef: o.clientOrderId, systemId, symbol: f.symbol, side: side === 'buy' ? 'long' : 'short', quantity, entryPrice: fill, openedAt: f.start };
    if (legs.takeProfit !== undefined) p.takeProfit = legs.takeProfit;
    if (legs.trailingStop !== undefined) p.trailing = { distance: legs.trailingStop, level: initialTrailLevel(p.side, fill, legs.trailingStop) };
    pos = p;
    const stop = legs.stop;
    if (stop !== undefined) {
      // The venue's quote: bid for a long's stop, ask for a short's (stopOnWrongSide in brokers/adapter.ts).
      const quote = round8(f.close * (side === 'buy' ? 1 - halfSpread : 1 + halfSpread));
      if (side === 'buy' ? stop >= quote : stop <= quote) {
        stopRefused(p, stop, quote, f, i);
        exitPosition(p, f, i, 'stop-failed');
        return;
      }
      p.stop = stop;
    }
    refreshView();
  };

  /** Ends the working entry (if any) with `status` on bar `f`. */
  const endWorking = (status: BacktestWorkingOrder['status'], f: Frame) => {
    if (working === null) return;
    working.status = status;
    working.endedAt = f.start;
    working = null;
  };

  const placeWorking = (d: Decision, entry: Extract<EntryOrder, { type: 'limit' | 'stop' }>, f: Frame) => {
    endWorking('cancelled', f);
    const wo: BacktestWorkingOrder = { ...workingOrderFor(workingOrderRef(account, ++workingSeq), systemId, d, entry, f), status: 'working' };
    workingOrders.push(wo);
    working = wo;
  };

  const act = (d: Decision, f: Frame, i: number) => {
    if (d.action === 'none') return;
    if (d.action === 'close') {
      endWorking('cancelled', f);
      if (pos) exitPosition(pos, f, i, 'signal');
      return;
    }
    const want = d.action === 'buy' ? 'long' : 'short';
    if (pos?.side === want) return;
    if (pos) exitPosition(pos, f, i, 'reverse');
    const entry = d.entry;
    if (entry !== undefined && entry.type !== 'market') placeWorking(d, entry, f);
    else enter(f, i, d.action, d.quantity, d);
  };

  // One input object for the whole run, its fields set on each bar (a system gets the frame, the view and
  // its state as before; an allocation per bar is what it saves). Systems are pure: none keeps the input.
  const input: DecisionInput<unknown, SystemState> = { frame: frames[0], portfolio: view, params, state };
  let last = -Infinity;
  let untilProgress = every;
  for (let i = 0; i < n; i++) {
    const f = frames[i];
    if (!(f.start > last) || f.symbol !== symbol || f.timeframe !== timeframe) throw streamError(frames, i, last);
    last = f.start;
    // 1. Exits of an open position, on any bar after the entry bar: the venue's protective stop first.
    const held = pos as Position | null;
    if (held !== null) {
      if (held.stop !== undefined && (held.side === 'long' ? f.low <= held.stop : f.high >= held.stop)) {
        const price = stopFillPrice({ side: held.side, stopLevel: held.stop }, f, cfg)!;
        const id = stopOrderId(held.positionRef);
        orders.push({
          clientOrderId: id,
          seq: null,
          systemId,
          symbol: held.symbol,
          side: held.side === 'long' ? 'sell' : 'buy',
          quantity: held.quantity,
          intent: 'close',
          kind: 'stop',
          positionRef: held.positionRef,
          stopLevel: held.stop,
          status: 'filled',
          fillPrice: price,
          filledAt: f.start + tfMs,
          reason: 'protective stop',
          frameStart: f.start,
          frameIndex: i,
        });
        book(held, { clientOrderId: id, price, at: f.start, reason: 'stop' });
      } else if (held.takeProfit !== undefined || held.trailing !== undefined) {
        const hit = emulatedExitHit(held, f);
        if (hit !== null) exitPosition(held, f, i, hit.kind);
        else if (held.trailing !== undefined) held.trailing.level = trailAfter(held, f)!;
      }
    }
    // 2. A working limit/stop entry, while flat: expired at the bar's end, or reached by the bar.
    const waiting = working as BacktestWorkingOrder | null;
    if (waiting !== null && pos === null) {
      if (workingOrderExpired(waiting, f.start + tfMs)) endWorking('expired', f);
      else if (workingOrderTriggered(waiting, f)) {
        endWorking('triggered', f);
        enter(f, i, waiting.side, waiting.quantity, waiting);
      }
    }
    // 3. The system's decision; strategy errors are counted and skipped, as the session logs and skips them.
    let decision: Decision = NO_DECISION;
    try {
      input.frame = f;
      input.portfolio = view;
      input.state = state;
      const out = impl.decide(input);
      state = out.state;
      decision = out.decision;
      // NO_DECISION is frozen and valid: most bars return it, and skip the check.
      if (decision !== NO_DECISION && decisionProblem(decision) !== null) {
        diagnostics.invalidDecisions++;
        decision = NO_DECISION;
      }
    } catch {
      diagnostics.systemErrors++;
    }
    act(decision, f, i);
    // 4. Equity at the bar's close, as the session records it.
    const open = pos as Position | null;
    const unrealised = open !== null ? unrealisedPnl(open, f.close) : 0;
    equityTs[i] = f.start + tfMs;
    equityValue[i] = round8(startingBalance + (realised + unrealised));
    if (--untilProgress === 0) {
      untilProgress = every;
      if (onProgress !== undefined) onProgress(i + 1, n);
    }
  }
  if (onProgress !== undefined && n % every !== 0) onProgress(n, n);

  const openPosition = pos as Position | null;
  const equityCurve: EquityCurve = { ts: equityTs, equity: equityValue };
  const stats = computeStats({ trades, equityCurve, startingBalance, timeframe, openPosition });
  return { trades, orders, workingOrders, equityCurve, stats, openPosition, params, diagnostics };
}
