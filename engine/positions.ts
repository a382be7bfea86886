/**
 * A position's life in the session: opened by a filled entry, protected by its stop leg (`<ref>-S`),
 * closed by a signal, an exit, a person or its stop, and booked as a trade.
 */
import type { SessionOutcome } from '../db/account-store';
import { stopOrderId, type OrderReport, type OrderRequest, type StopReport } from '../brokers/adapter';
import type { Frame } from '../market/frame';
import type { Decision } from '../systems/types';
import { initialTrailLevel } from '../trading/exits';
import { fillOf, type OrderRecord } from '../trading/order';
import type { Position } from '../trading/position';
import { closeTrade, round8, type ExitReason, type Trade } from '../trading/trade';
import { lastFrameOf, type EngineContext } from './context';
import type { Step } from './effects';
import { failureMessage, needsPerson } from './failures';
import { degrade } from './degraded';
import { moneyFor } from './instrument-money';
import { inFlight, type EntryPlan, type SettleHandlers } from './order-tracking';
import { sendOrder, type OrderFrame } from './orders';
import { protectAfterTrade } from './protections';
import { refusedByRisk } from './risk-gate';
import { RECENT_TRADES_KEPT } from './session-state';
import { afterRefusedClose } from './stop-liveness';

export function bookTrade(ctx: EngineContext, systemId: string, pos: Position, trade: Trade, outcome: SessionOutcome): void {
  const { state } = ctx;
  delete state.positions[systemId];
  state.systems[systemId].realisedPnl = round8(state.systems[systemId].realisedPnl + trade.pnl);
  state.recentTrades.push(trade);
  if (state.recentTrades.length > RECENT_TRADES_KEPT) state.recentTrades.splice(0, state.recentTrades.length - RECENT_TRADES_KEPT);
  outcome.trades.push(trade);
  ctx.ports.log('info', 'trade closed', { account: ctx.account, systemId, positionRef: pos.positionRef, pnl: trade.pnl, reason: trade.exitReason });
  if (ctx.features.riskEngine) protectAfterTrade(ctx, trade);
}

/** The order row of a position's protective stop leg (`<ref>-S`). */
export function stopLeg(pos: Position, status: OrderRecord['status'], frameStart: number | undefined, reason = 'protective stop'): OrderRecord {
  return {
    clientOrderId: stopOrderId(pos.positionRef),
    seq: null,
    systemId: pos.systemId,
    symbol: pos.symbol,
    side: pos.side === 'long' ? 'sell' : 'buy',
    quantity: pos.quantity,
    intent: 'close',
    positionRef: pos.positionRef,
    stopLevel: pos.stop,
    status,
    reason,
    frameStart,
  };
}

/**
 * The durable second step of an entry: entry filled → protective stop placed. A stop the broker refuses,
 * or that still fails after its retries, leaves the position unprotected, so it is closed at once.
 */
function* protect(ctx: EngineContext, systemId: string, pos: Position, frame: OrderFrame, entry: OrderReport, outcome: SessionOutcome): Step<void> {
  const { config, account } = ctx;
  if (!config.tradingEnabled || entry.status === 'dry-run') {
    // Dry run: the session's own books hold the stop (settleStop fills it from frames).
    outcome.orders.push(stopLeg(pos, 'working', frame.start));
    return;
  }
  let failure: string;
  try {
    const r = yield* placeStopOf(account, pos);
    if (r.status === 'working') {
      outcome.orders.push(stopLeg(pos, 'working', frame.start));
      return;
    }
    if (r.status === 'filled' && (yield* settleStop(ctx, systemId, pos, pos.stop!, frame.start, outcome))) return;
    failure = r.reason ?? `stop ${r.status}`;
  } catch (err) {
    failure = failureMessage(err);
  }
  ctx.ports.log('error', 'protective stop could not be placed; closing the position', { account, systemId, positionRef: pos.positionRef, stop: pos.stop, reason: failure });
  outcome.orders.push(stopLeg(pos, 'rejected', frame.start, `protective stop not placed: ${failure}`));
  const unprotected: Position = { ...pos };
  delete unprotected.stop;
  ctx.state.positions[systemId] = unprotected;
  yield* closePosition(ctx, systemId, unprotected, 'stop-failed', frame.start, outcome, frame);
}

/** Asks the broker to hold the position's protective stop (idempotent by its leg's client order id). */
export function* placeStopOf(account: string, pos: Position): Step<StopReport> {
  return (yield {
    kind: 'placeStop',
    request: { account, positionRef: pos.positionRef, symbol: pos.symbol, positionSide: pos.side, quantity: pos.quantity, stopLevel: pos.stop! },
  }) as StopReport;
}

/** A frame-like for steps that are not on a frame (a tracked order filling on its timer): the last frame's start and price. */
function lastFrameLike(ctx: EngineContext, systemId: string): OrderFrame {
  const { cfg } = ctx.systems.get(systemId)!;
  return { start: lastFrameOf(ctx, systemId), close: ctx.state.lastPrice[cfg.symbol] ?? 0, timeframe: cfg.timeframe };
}

/** The broker's record of a triggered protective stop, booked as a trade; false if the stop has not filled. */
export function* settleStop(ctx: EngineContext, systemId: string, pos: Position, simulatedPrice: number, at: number, outcome: SessionOutcome): Step<boolean> {
  const id = stopOrderId(pos.positionRef);
  // Dry run: the stop fills in the session's own books, recorded like any other fill.
  let report: OrderReport | null = {
    clientOrderId: id,
    brokerOrderId: '',
    status: 'dry-run',
    symbol: pos.symbol,
    side: pos.side === 'long' ? 'sell' : 'buy',
    quantity: pos.quantity,
    filledQuantity: pos.quantity,
    fillPrice: simulatedPrice,
    filledAt: at,
  };
  if (ctx.config.tradingEnabled) {
    try {
      report = (yield { kind: 'getOrder', clientOrderId: id }) as OrderReport | null;
    } catch (err) {
      // A 401 or another refusal for good parks the session; the stop is asked about again when it recovers.
      if (!needsPerson(err)) throw err;
      degrade(ctx, `stop check of ${id}: ${failureMessage(err)}`);
      return false;
    }
    if (!report || report.status !== 'filled') return false;
  }
  const fill = fillOf(report);
  if (fill) outcome.fills.push(fill);
  outcome.orders.push({
    clientOrderId: id,
    seq: null,
    systemId,
    symbol: pos.symbol,
    side: report.side,
    quantity: report.quantity,
    intent: 'close',
    positionRef: pos.positionRef,
    stopLevel: pos.stop,
    status: report.status,
    brokerOrderId: report.brokerOrderId || undefined,
    fillPrice: report.fillPrice,
    filledAt: report.filledAt,
    reason: 'protective stop',
    frameStart: at,
  });
  bookTrade(ctx, systemId, pos, closeTrade(pos, { clientOrderId: id, price: report.fillPrice, at, reason: 'stop' }), outcome);
  return true;
}

export function* closePosition(
  ctx: EngineContext,
  systemId: string,
  pos: Position,
  reason: ExitReason,
  at: number,
  outcome: SessionOutcome,
  frame?: OrderFrame,
): Step<Trade | null> {
  const riskEngine = ctx.features.riskEngine;
  if (orderNotFinal(ctx, systemId, 'close')) return null;
  const spec = { symbol: pos.symbol, side: pos.side === 'long' ? ('sell' as const) : ('buy' as const), quantity: pos.quantity, intent: 'close' as const, positionRef: pos.positionRef };
  if (riskEngine && (yield* refusedByRisk(ctx, systemId, spec, frame ?? null, outcome))) return null;
  const report = yield* sendOrder(ctx, systemId, spec, frame ?? null, outcome, { exitReason: reason });
  // Working at the broker (a close queued after hours) or unknown: tracked; its fill books the trade.
  if (inFlight(ctx, systemId)) return null;
  if (report && (report.status === 'filled' || report.status === 'dry-run')) {
    const trade = closeTrade(pos, { clientOrderId: report.clientOrderId, price: report.fillPrice, at, reason });
    bookTrade(ctx, systemId, pos, trade, outcome);
    // The other leg of the bracket: closing the position ends its protective stop at the broker.
    if (riskEngine && pos.stop !== undefined) outcome.orders.push(stopLeg(pos, 'cancelled', frame?.start, `protective stop cancelled: position closed (${reason})`));
    return trade;
  }
  // The broker may have closed it already through the protective stop.
  if (report?.status === 'rejected' && pos.stop !== undefined && (yield* settleStop(ctx, systemId, pos, pos.stop, at, outcome))) {
    return outcome.trades[outcome.trades.length - 1];
  }
  ctx.ports.log('error', 'position could not be closed', {
    account: ctx.account,
    systemId,
    positionRef: pos.positionRef,
    reason: report?.reason ?? 'unknown outcome',
    ...(report?.stopLive !== undefined ? { stopLive: report.stopLive } : {}),
  });
  if (report) yield* afterRefusedClose(ctx, systemId, pos, report, at, outcome);
  return null;
}

export function* openPosition(ctx: EngineContext, systemId: string, decision: Decision, frame: Frame, outcome: SessionOutcome): Step<void> {
  const riskEngine = ctx.features.riskEngine;
  const side: OrderRequest['side'] = decision.action === 'buy' ? 'buy' : 'sell';
  // Runs older than the risk engine attach the stop to the entry; newer ones place it as a step of its own.
  const attachStop = !riskEngine && decision.stop !== undefined;
  const spec = { symbol: frame.symbol, side, quantity: decision.quantity, intent: 'open' as const, ...(attachStop ? { stopLevel: decision.stop } : {}) };
  if (orderNotFinal(ctx, systemId, 'open')) return;
  if (riskEngine && (yield* refusedByRisk(ctx, systemId, spec, frame, outcome))) return;
  const plan: EntryPlan = { stop: decision.stop, ...(riskEngine ? { takeProfit: decision.takeProfit, trailingStop: decision.trailingStop } : {}) };
  const report = yield* sendOrder(ctx, systemId, spec, frame, outcome, { entry: plan });
  if (!report || (report.status !== 'filled' && report.status !== 'dry-run')) return;
  yield* openFromFill(ctx, systemId, frame.symbol, report, plan, frame, outcome);
}

/** The position an entry's fill opens (the filled quantity), protected by its stop leg. */
function* openFromFill(ctx: EngineContext, systemId: string, symbol: string, report: OrderReport, plan: EntryPlan, frame: OrderFrame, outcome: SessionOutcome): Step<void> {
  const riskEngine = ctx.features.riskEngine;
  const posSide = report.side === 'buy' ? 'long' : 'short';
  const pos: Position = {
    positionRef: report.clientOrderId,
    systemId,
    symbol,
    side: posSide,
    quantity: report.filledQuantity,
    entryPrice: report.fillPrice,
    ...(plan.stop !== undefined ? { stop: plan.stop } : {}),
    ...(riskEngine && plan.takeProfit !== undefined ? { takeProfit: plan.takeProfit } : {}),
    ...(riskEngine && plan.trailingStop !== undefined
      ? { trailing: { distance: plan.trailingStop, level: initialTrailLevel(posSide, report.fillPrice, plan.trailingStop) } }
      : {}),
    openedAt: frame.start,
  };
  const money = moneyFor(ctx, symbol);
  if (money) pos.money = money;
  ctx.state.positions[systemId] = pos;
  outcome.openedPositions.push(pos);
  if (riskEngine && pos.stop !== undefined) yield* protect(ctx, systemId, pos, frame, report, outcome);
}

/** While an order of the system is not final, no second one is sent (issue 11). */
function orderNotFinal(ctx: EngineContext, systemId: string, intent: 'open' | 'close'): boolean {
  if (intent === 'open' && ctx.state.degraded) {
    ctx.ports.log('warn', 'entry not sent: the session is degraded', { account: ctx.account, systemId, reason: ctx.state.degraded.reason });
    return true;
  }
  const t = inFlight(ctx, systemId);
  if (!t) return false;
  ctx.ports.log('info', `${intent === 'open' ? 'entry' : 'close'} not sent: an order of this system is not final`, {
    account: ctx.account,
    systemId,
    clientOrderId: t.record.clientOrderId,
    state: t.state,
  });
  return true;
}

/** How a tracked order's final fill changes the books (engine/order-tracking.ts). */
export const settleHandlers: SettleHandlers = {
  *entryFilled(ctx, t, report, outcome) {
    const { systemId, symbol } = t.record;
    yield* openFromFill(ctx, systemId, symbol, report, t.entry ?? {}, lastFrameLike(ctx, systemId), outcome);
  },
  *closeFilled(ctx, t, pos, report, outcome) {
    const { systemId } = t.record;
    const at = lastFrameOf(ctx, systemId);
    const reason = t.exitReason ?? 'signal';
    const exit = { clientOrderId: report.clientOrderId, price: report.fillPrice, at, reason };
    if (report.filledQuantity + 1e-9 >= pos.quantity) {
      bookTrade(ctx, systemId, pos, closeTrade(pos, exit), outcome);
      if (ctx.features.riskEngine && pos.stop !== undefined) outcome.orders.push(stopLeg(pos, 'cancelled', at, `protective stop cancelled: position closed (${reason})`));
      return;
    }
    // A partial close: the filled part is a trade, the rest stays open under the same ref with its own stop quantity.
    const rest: Position = { ...pos, quantity: round8(pos.quantity - report.filledQuantity) };
    // The part booked paid the entry's fixed fee; the rest pays only its share of the rate.
    if (pos.money) rest.money = { ...pos.money, entryFeeBooked: true };
    bookTrade(ctx, systemId, pos, { ...closeTrade({ ...pos, quantity: report.filledQuantity }, exit), partial: true }, outcome);
    ctx.state.positions[systemId] = rest;
    outcome.openedPositions.push(rest);
    ctx.ports.log('error', 'position closed in part; the rest stays open', { account: ctx.account, systemId, positionRef: pos.positionRef, closed: report.filledQuantity, open: rest.quantity });
    if (ctx.features.riskEngine && rest.stop !== undefined) yield* protect(ctx, systemId, rest, lastFrameLike(ctx, systemId), report, outcome);
  },
};
