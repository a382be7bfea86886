import type { PoolConnection } from 'mysql2/promise';
import type { MarketDataStore } from '../../db/market-data-store';
import {
  OrderRequestSchema,
  parseStopRequest,
  stopOnWrongSide,
  stopOrderId,
  stopReport,
  type OrderReport,
  type OrderRequest,
  type Quote,
  type StopReport,
  type StopRequest,
} from '../adapter';
import { InvalidOrderError } from '../errors';
import { round8 } from '../../trading/trade';
import { timeframeMs } from '../../market/timeframe';
import type { PaperConfig } from './config';
import { marketFillPrice, stopFillPrice } from './fill-model';
import { toReport, type PaperLedger } from './ledger';

export const BROKER = 'paper';

/**
 * Orders and stops at the paper venue. A market order fills at the latest frame's close (the next price the
 * venue sees after the decision), adjusted by spread and slippage (fill-model.ts); protective stops trigger on
 * later frames. Every call runs inside the ledger's account transaction, after the stops due have triggered, so
 * `placeOrder` is idempotent by clientOrderId (invariant 1: the ledger is looked up first).
 */
export class PaperExecution {
  constructor(
    private readonly ledger: PaperLedger,
    private readonly market: MarketDataStore,
    private readonly config: Pick<PaperConfig, 'spreadBps' | 'slippageBps'>,
  ) {}

  async placeOrder(input: OrderRequest): Promise<OrderReport> {
    const parsed = OrderRequestSchema.safeParse(input);
    if (!parsed.success) {
      throw new InvalidOrderError(
        `invalid order: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
        BROKER,
      );
    }
    const order = parsed.data;
    const ledger = this.ledger;
    return ledger.inAccount(order.account, async (conn) => {
      await this.triggerStops(conn, order.account);
      // Invariant 1: the ledger is looked up first; a retried or replayed order returns what exists.
      const existing = await ledger.findOrder(conn, order.account, order.clientOrderId);
      if (existing) return toReport(existing);

      const quote = await this.market.latestCandle(order.symbol);
      if (!quote) return ledger.insertRejected(conn, order, `no price for ${order.symbol}`);
      const quoteTime = quote.start + timeframeMs(quote.timeframe);
      const price = marketFillPrice(quote.close, order.side, this.config);

      if (order.intent === 'open') {
        if (order.stopLevel !== undefined) {
          const badStop = order.side === 'buy' ? order.stopLevel >= price : order.stopLevel <= price;
          if (badStop) return ledger.insertRejected(conn, order, `stop ${order.stopLevel} is on the wrong side of the fill price ${price}`);
        }
        await ledger.insertPosition(conn, order, price, quote.start);
      } else {
        const pos = await ledger.openPosition(conn, order.account, order.positionRef!);
        if (!pos) return ledger.insertRejected(conn, order, `position ${order.positionRef} is not open`);
        const expectedSide = pos.side === 'long' ? 'sell' : 'buy';
        if (order.side !== expectedSide || Number(pos.quantity) !== order.quantity)
          return ledger.insertRejected(conn, order, `close of ${order.positionRef} must be ${expectedSide} ${pos.quantity}`);
        await ledger.closePosition(conn, order.account, pos, price, order.clientOrderId);
      }
      return ledger.insertFilled(conn, order, price, quoteTime);
    });
  }

  /**
   * Sets `stop_level` on the open position under the account lock. Idempotent: the same level again is
   * `working`; a different stop already there is kept and reported (`working`, its level, a reason).
   * `stop_checked_through` is left as it is, so frames after the entry frame are checked, as for a stop
   * sent with the entry.
   */
  async placeStop(input: StopRequest): Promise<StopReport> {
    const req = parseStopRequest(input, BROKER);
    const ledger = this.ledger;
    return ledger.inAccount(req.account, async (conn) => {
      await this.triggerStops(conn, req.account);
      const pos = await ledger.position(conn, req.account, req.positionRef);
      const stopId = stopOrderId(req.positionRef);
      if (!pos) return stopReport(req, 'rejected', `position ${req.positionRef} is not open`);
      if (pos.status === 'closed') {
        if (pos.closed_by === stopId) return { ...stopReport(req, 'filled'), stopLevel: Number(pos.stop_level) };
        return stopReport(req, 'rejected', `position ${req.positionRef} was closed by ${pos.closed_by} before its stop was placed`);
      }
      if (pos.symbol !== req.symbol || pos.side !== req.positionSide) {
        return stopReport(req, 'rejected', `position ${req.positionRef} is ${pos.side} ${pos.symbol}, not ${req.positionSide} ${req.symbol}`);
      }
      if (pos.stop_level !== null) {
        const level = Number(pos.stop_level);
        if (sameLevel(level, req.stopLevel)) return stopReport(req, 'working');
        return { ...stopReport(req, 'working', `a stop at ${level} was already working; kept it`), stopLevel: level };
      }
      const quote = await this.quote(req.symbol);
      if (!quote) return stopReport(req, 'rejected', `no price for ${req.symbol}`);
      if (stopOnWrongSide(req.positionSide, req.stopLevel, quote)) {
        const price = req.positionSide === 'long' ? `bid ${quote.bid}` : `ask ${quote.ask}`;
        return stopReport(req, 'rejected', `stop ${req.stopLevel} is on the wrong side of the ${price} for a ${req.positionSide} position`);
      }
      await ledger.setStop(conn, req.account, req.positionRef, req.stopLevel);
      return stopReport(req, 'working');
    });
  }

  /** The venue's quote: the latest frame's close ± half the spread, timed at the frame's end. */
  async quote(symbol: string): Promise<Quote | null> {
    const candle = await this.market.latestCandle(symbol);
    if (!candle) return null;
    const half = this.config.spreadBps / 2 / 10_000;
    return {
      symbol,
      bid: round8(candle.close * (1 - half)),
      ask: round8(candle.close * (1 + half)),
      time: candle.start + timeframeMs(candle.timeframe),
    };
  }

  /** Fills every protective stop that a frame newer than the position's last check has reached. */
  async triggerStops(conn: PoolConnection, account: string): Promise<void> {
    for (const pos of await this.ledger.stoppedPositions(conn, account)) {
      const frames = await this.market.candlesAfter(pos.symbol, Number(pos.stop_checked_through));
      let checked = Number(pos.stop_checked_through);
      for (const f of frames) {
        const fill = stopFillPrice({ side: pos.side, stopLevel: Number(pos.stop_level) }, f, this.config);
        checked = f.start;
        if (fill === null) continue;
        const id = stopOrderId(pos.position_ref);
        await this.ledger.closePosition(conn, account, pos, fill, id);
        await this.ledger.insertStopFill(conn, account, pos, id, fill, f.start + timeframeMs(f.timeframe));
        break;
      }
      await this.ledger.setStopCheckedThrough(conn, account, pos.position_ref, checked);
    }
  }
}

/** Stop levels equal up to float noise of DECIMAL(20,8) round trips. */
function sameLevel(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-8 * Math.max(1, Math.abs(b));
}
