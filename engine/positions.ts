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
import type { EngineContext } from './context';
import type { Step } from './effects';
import { failureMessage } from './failures';
import { sendOrder } from './orders';
import { protectAfterTrade } from './protections';
import { refusedByRisk } from './risk-gate';
import { RECENT_TRADES_KEPT } from './session-state';

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
function* protect(ctx: EngineContext, systemId: string, pos: Position, frame: Frame, entry: OrderReport, outcome: SessionOutcome): Step<void> {
  const { config, account } = ctx;
  if (!config.tradingEnabled || entry.status === 'dry-run') {
    // Dry run: the session's own books hold the stop (settleStop fills it from frames).
    outcome.orders.push(stopLeg(pos, 'working', frame.start));
    return;
  }
  let failure: string;
  try {
    const r = (yield {
      kind: 'placeStop',
      request: { account, positionRef: pos.positionRef, symbol: pos.symbol, positionSide: pos.side, quantity: pos.quantity, stopLevel: pos.stop! },
    }) as StopReport;
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
    report = (yield { kind: 'getOrder', clientOrderId: id }) as OrderReport | null;
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
  frame?: Frame,
): Step<Trade | null> {
  const riskEngine = ctx.features.riskEngine;
  const spec = { symbol: pos.symbol, side: pos.side === 'long' ? ('sell' as const) : ('buy' as const), quantity: pos.quantity, intent: 'close' as const, positionRef: pos.positionRef };
  if (riskEngine && (yield* refusedByRisk(ctx, systemId, spec, frame ?? null, outcome))) return null;
  const report = yield* sendOrder(ctx, systemId, spec, frame ?? null, outcome);
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
  ctx.ports.log('error', 'position could not be closed', { account: ctx.account, systemId, positionRef: pos.positionRef, reason: report?.reason ?? 'unknown outcome' });
  return null;
}

export function* openPosition(ctx: EngineContext, systemId: string, decision: Decision, frame: Frame, outcome: SessionOutcome): Step<void> {
  const riskEngine = ctx.features.riskEngine;
  const side: OrderRequest['side'] = decision.action === 'buy' ? 'buy' : 'sell';
  // Runs older than the risk engine attach the stop to the entry; newer ones place it as a step of its own.
  const attachStop = !riskEngine && decision.stop !== undefined;
  const spec = { symbol: frame.symbol, side, quantity: decision.quantity, intent: 'open' as const, ...(attachStop ? { stopLevel: decision.stop } : {}) };
  if (riskEngine && (yield* refusedByRisk(ctx, systemId, spec, frame, outcome))) return;
  const report = yield* sendOrder(ctx, systemId, spec, frame, outcome);
  if (!report || (report.status !== 'filled' && report.status !== 'dry-run')) return;
  const posSide = side === 'buy' ? 'long' : 'short';
  const pos: Position = {
    positionRef: report.clientOrderId,
    systemId,
    symbol: frame.symbol,
    side: posSide,
    quantity: report.filledQuantity,
    entryPrice: report.fillPrice,
    ...(decision.stop !== undefined ? { stop: decision.stop } : {}),
    ...(riskEngine && decision.takeProfit !== undefined ? { takeProfit: decision.takeProfit } : {}),
    ...(riskEngine && decision.trailingStop !== undefined
      ? { trailing: { distance: decision.trailingStop, level: initialTrailLevel(posSide, report.fillPrice, decision.trailingStop) } }
      : {}),
    openedAt: frame.start,
  };
  ctx.state.positions[systemId] = pos;
  outcome.openedPositions.push(pos);
  if (riskEngine && pos.stop !== undefined) yield* protect(ctx, systemId, pos, frame, report, outcome);
}
