import { parseStopRequest, stopOnWrongSide, type Quote } from '../adapter';
import { stopLegId } from '../../trading/client-order-id';
import { stopReport, type StopReport } from '../../trading/order-report';
import type { StopRequest } from '../../trading/order-request';
import { InvalidOrderError, OrderRejectedError } from '../errors';
import type { AlpacaHttpClient } from './client';
import type { AlpacaConfig } from './config';
import { BROKER } from './errors';
import { AlpacaPositionListSchema, decimalString, OPEN_STATUSES, roundToTick, type AlpacaOrder } from './parsing';

/** The body of a protective stop order `<entry>-S` (shared with the entry path of execution.ts). */
export function stopOrderBody(p: { id: string; symbol: string; quantity: number; positionSide: 'long' | 'short'; stopLevel: number; timeInForce: 'day' | 'gtc' }) {
  return {
    symbol: p.symbol,
    qty: decimalString(p.quantity),
    side: p.positionSide === 'long' ? ('sell' as const) : ('buy' as const),
    type: 'stop' as const,
    stop_price: decimalString(roundToTick(p.stopLevel), 4),
    time_in_force: p.timeInForce,
    client_order_id: p.id,
  };
}

export interface AlpacaStopDeps {
  http: AlpacaHttpClient;
  config: Pick<AlpacaConfig, 'stopTimeInForce'>;
  findOrder(clientOrderId: string): Promise<AlpacaOrder | null>;
  /** The latest incarnation of a position's stop leg (execution.ts). */
  findStop(positionRef: string): Promise<{ order: AlpacaOrder; leg: number } | null>;
  /** POST /v2/orders with the look-up-by-client_order_id settling of execution.ts. */
  submit(clientOrderId: string, body: ReturnType<typeof stopOrderBody>): Promise<AlpacaOrder>;
  quote(symbol: string): Promise<Quote>;
}

/**
 * The protective stop of an open position as its own `stop` order `<entry>-S`, the same order the entry path
 * places when an entry carries stopLevel. Idempotent by client_order_id: looked up first, and Alpaca refuses a
 * second order with the same id, so a retry after a lost answer finds the first one. A leg a refused close left
 * cancelled is placed as its next incarnation `<entry>-S2`, ... (execution.ts).
 */
export class AlpacaStopClient {
  constructor(private readonly d: AlpacaStopDeps) {}

  async placeStop(input: StopRequest): Promise<StopReport> {
    const req = parseStopRequest(input, BROKER);
    const found = await this.d.findStop(req.positionRef);
    // A leg cancelled with nothing filled (a refused close took it down) is placed again as its next incarnation.
    const gone = found !== null && found.order.status === 'canceled' && !(found.order.filled_qty > 0);
    if (found && !gone) return this.fromOrder(req, found.order);
    const id = stopLegId(req.positionRef, found ? found.leg + 1 : 1);

    const refusal = await this.refusal(req);
    if (refusal) return stopReport(req, 'rejected', refusal);
    let placed: AlpacaOrder;
    try {
      placed = await this.d.submit(id, stopOrderBody({ id, ...req, timeInForce: this.d.config.stopTimeInForce }));
    } catch (err) {
      if (err instanceof OrderRejectedError || err instanceof InvalidOrderError) return stopReport(req, 'rejected', `Alpaca refused the stop: ${err.message}`);
      throw err;
    }
    return this.fromOrder(req, placed);
  }

  /** Why this stop must not be sent (it would open a position, trigger at once, or be refused), or null. */
  private async refusal(req: StopRequest): Promise<string | null> {
    const entry = await this.d.findOrder(req.positionRef);
    const entrySide = req.positionSide === 'long' ? 'buy' : 'sell';
    if (!entry || !(entry.filled_qty > 0) || entry.side !== entrySide || entry.symbol !== req.symbol) {
      return `position ${req.positionRef} is not open at Alpaca (no filled ${entrySide} entry of ${req.symbol} under that id)`;
    }
    // Alpaca nets per symbol: a stop with no position of that side behind it would open one when it triggers.
    const held = (await this.d.http.get('trading', '/v2/positions', AlpacaPositionListSchema)).find((p) => p.symbol === req.symbol);
    if (!held || held.side !== req.positionSide || Math.abs(held.qty) + 1e-9 < req.quantity) {
      return `Alpaca holds ${held ? `${held.side} ${Math.abs(held.qty)}` : 'no position'} in ${req.symbol}; a stop for ${req.positionSide} ${req.quantity} would not just protect it`;
    }
    if (this.d.config.stopTimeInForce === 'gtc' && !Number.isInteger(req.quantity)) {
      return `a gtc stop needs a whole-share quantity at Alpaca, got ${req.quantity}`;
    }
    const q = await this.d.quote(req.symbol);
    if (stopOnWrongSide(req.positionSide, roundToTick(req.stopLevel), q)) {
      const price = req.positionSide === 'long' ? `bid ${q.bid}` : `ask ${q.ask}`;
      return `stop ${req.stopLevel} is on the wrong side of the ${price} for a ${req.positionSide} position`;
    }
    return null;
  }

  private fromOrder(req: StopRequest, o: AlpacaOrder): StopReport {
    const level = o.stop_price ?? req.stopLevel;
    if (o.filled_qty > 0) return { ...stopReport(req, 'filled', `filled ${o.filled_qty} at ${o.filled_avg_price ?? '?'}`), stopLevel: level };
    if (OPEN_STATUSES.has(o.status) && o.status !== 'pending_cancel') {
      if (Math.abs(level - roundToTick(req.stopLevel)) < 1e-9) return { ...stopReport(req, 'working'), stopLevel: level };
      return { ...stopReport(req, 'working', `a stop at ${level} was already working at Alpaca; kept it`), stopLevel: level };
    }
    return { ...stopReport(req, 'rejected', `stop order ${o.client_order_id} is ${o.status} at Alpaca`), stopLevel: level };
  }
}
