/**
 * The backtester: the very `systems/` code a live AccountSession runs, over a series of frames, with the
 * paper venue's fill model. Pure and synchronous: no I/O, no clock, no randomness.
 *
 * On each bar, exactly as `workflows/account-session.ts` with the paper broker:
 *   1. an open position whose protective stop the bar reached is closed by the venue at
 *      `stopFillPrice` (the stop, or the open when the market gapped through it, less slippage);
 *   2. the system decides on the bar (a throw or an invalid decision is counted and means "none");
 *   3. buy = be long, sell = be short (an opposite position is closed first: a reversal), close = be
 *      flat; market orders fill at the bar's close ± half the spread + slippage (`marketFillPrice`), and
 *      the venue rejects an entry whose stop is on the wrong side of its fill price;
 *   4. equity is marked at the bar's close: balance + realised + unrealised, rounded like the DECIMAL columns.
 * Order ids, position refs and trade rows are built as the session builds them, so a backtest's trades
 * equal the rows a live paper session leaves in `mt_<account>.trades`.
 */
import { stopOrderId, type OrderSide } from '../brokers/adapter';
import { PaperConfigSchema, type PaperConfig } from '../brokers/paper/config';
import { marketFillPrice, stopFillPrice } from '../brokers/paper/fill-model';
import type { Frame } from '../market/frame';
import { timeframeMs } from '../market/timeframe';
import { getSystem, validateParams } from '../systems/registry';
import { NO_DECISION, type Decision, type PortfolioView } from '../systems/types';
import { clientOrderIdFor } from '../trading/order';
import { unrealisedPnl, type Position } from '../trading/position';
import { closeTrade, round8, type ExitReason, type Trade } from '../trading/trade';
import { computeStats } from './stats';
import type { BacktestOptions, BacktestOrder, BacktestResult, EquityPoint } from './types';

/** The frames cannot be backtested as given (mixed streams, out of order, empty symbol). Never retried. */
export class BacktestInputError extends Error {
  readonly retryable = false;
  constructor(message: string) {
    super(message);
    this.name = 'BacktestInputError';
  }
}

/** Frames must be one stream in strictly increasing start order (the session ignores anything else). */
function checkStream(frames: readonly Frame[]): void {
  if (frames.length === 0) return;
  const { symbol, timeframe } = frames[0];
  let last = -Infinity;
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i];
    if (f.symbol !== symbol || f.timeframe !== timeframe) {
      throw new BacktestInputError(`frames[${i}]: ${f.symbol} ${f.timeframe} is not the stream of frames[0] (${symbol} ${timeframe})`);
    }
    if (!(f.start > last)) throw new BacktestInputError(`frames[${i}]: start ${f.start} is not after the previous frame's ${last}`);
    last = f.start;
  }
}

/** The session's check of a decision (`validDecision` in the workflow): true when it must be ignored. */
function invalidDecision(d: Decision): boolean {
  if (d.action === 'none' || d.action === 'close') return d.stop !== undefined && !(Number.isFinite(d.stop) && d.stop > 0);
  if (d.action !== 'buy' && d.action !== 'sell') return true;
  if (!(Number.isFinite(d.quantity) && d.quantity > 0)) return true;
  return d.stop !== undefined && !(Number.isFinite(d.stop) && d.stop > 0);
}

const FLAT: PortfolioView = Object.freeze({ position: null, realisedPnl: 0 });

/**
 * Runs one system over one stream of frames and returns its trades (as `mt_<account>.trades` rows),
 * orders, one equity point per bar and the stats. Throws UnknownSystemError, InvalidSystemParamsError
 * (bad params), a ZodError (bad paper config) or BacktestInputError (frames not one ordered stream);
 * the frames themselves are trusted to be valid (CSV, maodata and generateFrames all validate them).
 */
export function runBacktest(opts: BacktestOptions): BacktestResult {
  const impl = getSystem(opts.system);
  const params = validateParams(opts.system, opts.params);
  const cfg: PaperConfig = PaperConfigSchema.parse(opts.paper ?? {});
  const startingBalance = opts.startingBalance ?? cfg.initialBalance;
  const account = opts.account ?? 'backtest';
  const systemId = opts.systemId ?? 'bt';
  const every = Math.max(1, Math.floor(opts.progressEveryBars ?? 10_000));
  const { frames, onProgress } = opts;
  checkStream(frames);
  const n = frames.length;
  const timeframe = n > 0 ? frames[0].timeframe : '1m';
  const tfMs = timeframeMs(timeframe);

  const trades: Trade[] = [];
  const orders: BacktestOrder[] = [];
  const equityCurve: EquityPoint[] = new Array(n);
  const diagnostics = { systemErrors: 0, invalidDecisions: 0, rejectedOrders: 0 };
  let state = impl.initialState(params);
  let pos: Position | null = null;
  let realised = 0;
  let seq = 0;
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

  /** A market order at the paper venue: fills at the bar's close moved against the taker. */
  const marketOrder = (
    f: Frame,
    i: number,
    side: OrderSide,
    intent: 'open' | 'close',
    quantity: number,
    extra: { positionRef?: string; stopLevel?: number },
  ): BacktestOrder => {
    const clientOrderId = clientOrderIdFor(account, ++seq);
    const price = marketFillPrice(f.close, side, cfg);
    const order: BacktestOrder = {
      clientOrderId,
      seq,
      systemId,
      symbol: f.symbol,
      side,
      quantity,
      intent,
      kind: intent === 'open' ? 'entry' : 'exit',
      ...extra,
      status: 'filled',
      fillPrice: price,
      filledAt: f.start + tfMs,
      frameStart: f.start,
      frameIndex: i,
    };
    const stop = extra.stopLevel;
    if (intent === 'open' && stop !== undefined && (side === 'buy' ? stop >= price : stop <= price)) {
      order.status = 'rejected';
      delete order.fillPrice;
      order.filledAt = null;
      order.reason = `stop ${stop} is on the wrong side of the fill price ${price}`;
      diagnostics.rejectedOrders++;
    }
    orders.push(order);
    return order;
  };

  const exitPosition = (p: Position, f: Frame, i: number, reason: ExitReason) => {
    const o = marketOrder(f, i, p.side === 'long' ? 'sell' : 'buy', 'close', p.quantity, { positionRef: p.positionRef });
    book(p, { clientOrderId: o.clientOrderId, price: o.fillPrice!, at: f.start, reason });
  };

  const act = (d: Decision, f: Frame, i: number) => {
    if (d.action === 'none') return;
    if (d.action === 'close') {
      if (pos) exitPosition(pos, f, i, 'signal');
      return;
    }
    const want = d.action === 'buy' ? 'long' : 'short';
    if (pos?.side === want) return;
    if (pos) exitPosition(pos, f, i, 'reverse');
    const o = marketOrder(f, i, d.action, 'open', d.quantity, d.stop !== undefined ? { stopLevel: d.stop } : {});
    if (o.status !== 'filled') return;
    pos = {
      positionRef: o.clientOrderId,
      systemId,
      symbol: f.symbol,
      side: want,
      quantity: d.quantity,
      entryPrice: o.fillPrice!,
      ...(d.stop !== undefined ? { stop: d.stop } : {}),
      openedAt: f.start,
    };
    refreshView();
  };

  for (let i = 0; i < n; i++) {
    const f = frames[i];
    // 1. The venue's protective stop, on any bar after the entry bar.
    const held = pos as Position | null;
    if (held !== null && held.stop !== undefined && (held.side === 'long' ? f.low <= held.stop : f.high >= held.stop)) {
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
    }
    // 2. The system's decision; strategy errors are counted and skipped, as the session logs and skips them.
    let decision: Decision = NO_DECISION;
    try {
      const out = impl.decide({ frame: f, portfolio: view, params, state });
      state = out.state;
      decision = out.decision;
      if (invalidDecision(decision)) {
        diagnostics.invalidDecisions++;
        decision = NO_DECISION;
      }
    } catch {
      diagnostics.systemErrors++;
    }
    // 3. Orders.
    act(decision, f, i);
    // 4. Equity at the bar's close, as the session records it.
    const open = pos as Position | null;
    const unrealised = open !== null ? unrealisedPnl(open, f.close) : 0;
    equityCurve[i] = { ts: f.start + tfMs, equity: round8(startingBalance + (realised + unrealised)) };
    if (onProgress !== undefined && (i + 1) % every === 0) onProgress(i + 1, n);
  }
  if (onProgress !== undefined && n % every !== 0) onProgress(n, n);

  const openPosition = pos as Position | null;
  const stats = computeStats({ trades, equityCurve, startingBalance, timeframe, openPosition });
  return { trades, orders, equityCurve, stats, openPosition, params, diagnostics };
}
