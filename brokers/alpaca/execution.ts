/**
 * Order execution on Alpaca, exactly once (invariant 1).
 *
 * Every order carries `client_order_id` = our clientOrderId, and Alpaca refuses a second order with the same
 * client_order_id for the account (422 `client_order_id must be unique`). So:
 * - placeOrder first looks the id up (`GET /v2/orders:by_client_order_id`) and carries on with what it finds;
 * - only a 404 leads to `POST /v2/orders`;
 * - a 422 duplicate on the POST means "it exists" (a concurrent or earlier attempt won): look it up, carry on;
 * - a timeout, dropped connection, 5xx or garbled answer on the POST makes the outcome unknown: look it up; found →
 *   carry on; not found → OrderOutcomeUnknownError (retryable). The next attempt looks it up again first, and a
 *   resubmit is safe because Alpaca de-duplicates the client_order_id: if the lost POST did land late, the resubmit
 *   gets the 422 and the look-up finds it.
 *
 * A protective stop is a separate `stop` order with client_order_id `<entry>-S` (stopOrderId), placed right after the
 * entry fills, under the same look-up-first rule. A close cancels that stop (`DELETE /v2/orders/{id}`, then waits for
 * Alpaca to confirm: the stop holds the shares, so Alpaca refuses a close while it works), checks that Alpaca still
 * holds the position (so a close can never open a new position), and sends a market order of the opposite side.
 * A close refused after its stop was cancelled (403 pattern-day-trading, a halted symbol, a netting mismatch)
 * re-places the stop at once, at its level and for what is still open, as the leg's next incarnation
 * `<entry>-S2`, `-S3`, ... (Alpaca never takes an id twice, a cancelled one included); the session keeps naming
 * the leg `<entry>-S` and this adapter answers for its latest incarnation (findStop). The refusal's reason says
 * whether the stop is live again. Nothing here retries on its own: the only waiting is the short poll for
 * a market order's fill or a cancel's confirmation; retries belong to Temporal's policy.
 */
import { stopOrderId } from '../adapter';
import { stopLegId } from '../../trading/client-order-id';
import { unfilledReport, type OrderReport } from '../../trading/order-report';
import type { OrderRequest } from '../../trading/order-request';
import { BrokerUnavailableError, InvalidOrderError, OrderOutcomeUnknownError, OrderRejectedError } from '../errors';
import type { AlpacaHttpClient } from './client';
import type { AlpacaConfig } from './config';
import { AlpacaDuplicateClientOrderIdError, BROKER } from './errors';
import { stopOrderBody } from './stops';
import {
  AlpacaOrderSchema,
  AlpacaPositionListSchema,
  decimalString,
  isCancelable,
  isTerminal,
  toOrderReport,
  type AlpacaOrder,
} from './parsing';

const EPS = 1e-9;
/** Incarnations of one stop leg looked up at most: each needs a refused close before it (an operator's doing). */
const MAX_STOP_LEGS = 20;

export type ExecutionConfig = Pick<
  AlpacaConfig,
  'orderFillWaitMs' | 'orderPollIntervalMs' | 'marketTimeInForce' | 'stopTimeInForce'
>;

export interface ExecutionClock {
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  /** A progress beat on every fill/cancel poll iteration (brokers/progress.ts); default none. */
  heartbeat?: () => void;
}

interface SubmitBody {
  symbol: string;
  qty: string;
  side: 'buy' | 'sell';
  type: 'market' | 'stop';
  time_in_force: 'day' | 'gtc';
  client_order_id: string;
  stop_price?: string;
}

/** Words of a refused close whose stop could not be put back: the position is unprotected at Alpaca. */
export const STOP_NOT_LIVE = 'PROTECTIVE STOP NOT LIVE';

function rejected(order: OrderRequest, reason: string, stopLive?: boolean): OrderReport {
  const report = unfilledReport(order, 'rejected', reason);
  if (stopLive !== undefined) report.stopLive = stopLive;
  return report;
}

/** What a refused close did to the stop it had cancelled: the refusal's reason saying so, and whether it is live again. */
interface RestoredStop {
  reason: string;
  stopLive?: boolean;
}

function refusedClose(order: OrderRequest, restored: RestoredStop): OrderReport {
  return rejected(order, restored.reason, restored.stopLive);
}

const retryAfterOf = (err: unknown) => (err as { retryAfterMs?: number }).retryAfterMs;

export class AlpacaExecutionClient {
  constructor(
    private readonly http: AlpacaHttpClient,
    private readonly config: ExecutionConfig,
    private readonly clock: ExecutionClock,
  ) {}

  /** The order with this client_order_id, or null when Alpaca has never seen it. */
  async findOrder(clientOrderId: string): Promise<AlpacaOrder | null> {
    return this.http.getOrNull('trading', '/v2/orders:by_client_order_id', AlpacaOrderSchema, { client_order_id: clientOrderId });
  }

  /**
   * The latest incarnation of a position's stop leg (`<ref>-S`, then `<ref>-S2`, ...: stopLegId) with its number,
   * or null when none was ever placed. Only a leg cancelled with nothing filled can have a successor, so a live,
   * filled or never-replaced stop costs one look-up.
   */
  async findStop(positionRef: string): Promise<{ order: AlpacaOrder; leg: number } | null> {
    let found: { order: AlpacaOrder; leg: number } | null = null;
    for (let leg = 1; leg <= MAX_STOP_LEGS; leg++) {
      const o = await this.findOrder(stopLegId(positionRef, leg));
      if (!o) return found;
      found = { order: o, leg };
      if (o.status !== 'canceled' || o.filled_qty > 0) return found;
    }
    return found;
  }

  async placeOrder(order: OrderRequest): Promise<OrderReport> {
    // Invariant 1: look the id up before anything is sent.
    const existing = await this.findOrder(order.clientOrderId);
    if (existing) assertSameOrder(order, existing);
    return order.intent === 'open' ? this.open(order, existing) : this.close(order, existing);
  }

  private async open(order: OrderRequest, existing: AlpacaOrder | null): Promise<OrderReport> {
    if (!existing && order.stopLevel !== undefined && this.config.stopTimeInForce === 'gtc' && !Number.isInteger(order.quantity)) {
      // Checked before the entry is sent: an entry whose stop Alpaca would refuse must not be sent at all.
      throw new InvalidOrderError(
        `order ${order.clientOrderId}: a protective stop with time_in_force gtc needs a whole-share quantity at Alpaca, got ${order.quantity}`,
        BROKER,
      );
    }
    const placed = existing ?? (await this.submit(order.clientOrderId, this.marketBody(order, order.quantity)));
    const entry = await this.awaitSettled(placed);
    const report = toOrderReport(entry);
    if (order.stopLevel === undefined || report.status !== 'filled' || !(entry.filled_qty > 0)) return report;
    return this.protect(order, entry, report);
  }

  /** Places the entry's protective stop (once: looked up by `<entry>-S` first). */
  private async protect(order: OrderRequest, entry: AlpacaOrder, report: OrderReport): Promise<OrderReport> {
    const id = stopOrderId(order.clientOrderId);
    let stop = await this.findOrder(id);
    if (!stop) {
      try {
        stop = await this.submit(
          id,
          stopOrderBody({
            id,
            symbol: entry.symbol,
            quantity: entry.filled_qty,
            positionSide: entry.side === 'buy' ? 'long' : 'short',
            stopLevel: order.stopLevel!,
            timeInForce: this.config.stopTimeInForce,
          }),
        );
      } catch (err) {
        if (err instanceof OrderRejectedError || err instanceof InvalidOrderError) {
          // The entry filled: it is reported filled (money moved), with the refusal as its reason, never as rejected.
          return { ...report, reason: `entry filled, but Alpaca refused its protective stop ${id}: ${err.message}` };
        }
        if (err instanceof OrderOutcomeUnknownError) {
          throw new OrderOutcomeUnknownError(
            `entry ${order.clientOrderId} filled; its protective stop ${id} is not confirmed (${err.message})`,
            BROKER,
            order.clientOrderId,
            err.retryAfterMs,
          );
        }
        throw err;
      }
    }
    if (stop.status === 'rejected') return { ...report, reason: `entry filled, but Alpaca rejected its protective stop ${id}` };
    return report;
  }

  private async close(order: OrderRequest, existing: AlpacaOrder | null): Promise<OrderReport> {
    if (existing) return toOrderReport(await this.awaitSettled(existing));
    const ref = order.positionRef!;
    let quantity = order.quantity;

    const found = await this.findStop(ref);
    let stop = found?.order ?? null;
    // What this close cancelled, to be put back if the close is refused.
    let cancelled: { order: AlpacaOrder; leg: number } | null = null;
    if (stop && !isTerminal(stop)) {
      stop = await this.cancel(stop);
      if (stop.status === 'canceled') cancelled = { order: stop, leg: found!.leg };
    }
    if (stop && stop.filled_qty > 0) {
      if (stop.status === 'filled' || stop.filled_qty + EPS >= quantity) {
        return rejected(
          order,
          `position ${ref} is already closed by its protective stop ${stop.client_order_id} (${stop.filled_qty} filled at ${stop.filled_avg_price ?? '?'})`,
        );
      }
      quantity = Math.round((quantity - stop.filled_qty) * 1e9) / 1e9;
    }

    // A close must never open a position: Alpaca nets per symbol, so a sell with no long behind it would go short.
    const positions = await this.http.get('trading', '/v2/positions', AlpacaPositionListSchema);
    const held = positions.find((p) => p.symbol === order.symbol);
    const wanted = order.side === 'sell' ? 'long' : 'short';
    if (!held || held.side !== wanted || Math.abs(held.qty) + EPS < quantity) {
      const there = held ? `${held.side} ${Math.abs(held.qty)}` : 'no position';
      const why = `close of ${ref}: Alpaca holds ${there} in ${order.symbol}; a ${order.side} of ${quantity} would not just close it`;
      // Whatever Alpaca holds of it stays protected.
      const keep = held && held.side === wanted ? Math.min(quantity, Math.abs(held.qty)) : 0;
      return refusedClose(order, await this.restoreStop(ref, cancelled, keep, why));
    }
    let placed: AlpacaOrder;
    try {
      placed = await this.submit(order.clientOrderId, this.marketBody(order, quantity));
    } catch (err) {
      // Alpaca refused the close (403: pattern day trading protection, a halted symbol, ...): nothing was placed,
      // and the position is still open. Reported as a rejected close naming Alpaca's reason; its stop is put back.
      if (err instanceof OrderRejectedError) return refusedClose(order, await this.restoreStop(ref, cancelled, quantity, `Alpaca refused the close of ${ref}: ${err.message}`));
      throw err;
    }
    return toOrderReport(await this.awaitSettled(placed));
  }

  /**
   * Protection is never dropped by a refused close (issue 11, item 2): the stop this close cancelled is placed
   * again at once, at its level, for the quantity still open, as the leg's next incarnation. Returns the
   * refusal's reason with what became of the stop, which the session logs and the notifier sends.
   */
  private async restoreStop(ref: string, cancelled: { order: AlpacaOrder; leg: number } | null, quantity: number, why: string): Promise<RestoredStop> {
    if (!cancelled) return { reason: why };
    const was = cancelled.order;
    if (!(quantity > EPS) || was.stop_price == null) return { reason: `${why}; its protective stop ${was.client_order_id} was cancelled and nothing is left to protect` };
    const id = stopLegId(ref, cancelled.leg + 1);
    try {
      await this.submit(
        id,
        stopOrderBody({
          id,
          symbol: was.symbol,
          quantity,
          positionSide: was.side === 'sell' ? 'long' : 'short',
          stopLevel: was.stop_price,
          timeInForce: this.config.stopTimeInForce,
        }),
      );
      return { reason: `${why}; its protective stop is live again: re-placed as ${id} at ${was.stop_price}`, stopLive: true };
    } catch (err) {
      return {
        reason: `${why}; ${STOP_NOT_LIVE}: ${was.client_order_id} was cancelled and re-placing it as ${id} failed (${(err as Error).message})`,
        stopLive: false,
      };
    }
  }

  /**
   * `POST /v2/orders`, settling every ambiguous answer by a look-up of the client_order_id (see the module comment).
   * A rate limit (429) or a refusal is thrown as is: Alpaca did not take the order. Also used for the
   * protective stops of stops.ts.
   */
  async submit(clientOrderId: string, body: SubmitBody): Promise<AlpacaOrder> {
    try {
      return await this.http.post('/v2/orders', body, AlpacaOrderSchema, clientOrderId);
    } catch (err) {
      const duplicate = err instanceof AlpacaDuplicateClientOrderIdError;
      if (!duplicate && !(err instanceof BrokerUnavailableError)) throw err;
      let found: AlpacaOrder | null;
      try {
        found = await this.findOrder(clientOrderId);
      } catch (lookupErr) {
        throw new OrderOutcomeUnknownError(
          `order ${clientOrderId}: ${(err as Error).message}; the look-up by client_order_id failed too (${(lookupErr as Error).message}); the next attempt looks it up again`,
          BROKER,
          clientOrderId,
          retryAfterOf(lookupErr),
        );
      }
      if (found) return found;
      throw new OrderOutcomeUnknownError(
        `order ${clientOrderId}: ${(err as Error).message}; Alpaca has no order with this client_order_id yet. ` +
          'The next attempt looks it up again before resubmitting; a resubmit is safe because Alpaca refuses a second order with the same client_order_id',
        BROKER,
        clientOrderId,
      );
    }
  }

  /**
   * Polls an order until Alpaca settles it (filled, canceled, rejected, ...) or `orderFillWaitMs` passes; beats on
   * every iteration. At most F + T long (timeouts.ts).
   */
  private async awaitSettled(order: AlpacaOrder): Promise<AlpacaOrder> {
    let o = order;
    const deadline = this.clock.now() + this.config.orderFillWaitMs;
    while (!isTerminal(o)) {
      this.clock.heartbeat?.();
      const left = deadline - this.clock.now();
      if (left <= 0) break;
      await this.clock.sleep(Math.min(this.config.orderPollIntervalMs, left));
      o = await this.http.get('trading', `/v2/orders/${encodeURIComponent(o.id)}`, AlpacaOrderSchema);
    }
    return o;
  }

  /** Cancels a working order and waits for Alpaca to confirm (cancel is asynchronous: pending_cancel → canceled). */
  private async cancel(order: AlpacaOrder): Promise<AlpacaOrder> {
    if (isCancelable(order)) {
      try {
        await this.http.delete(`/v2/orders/${encodeURIComponent(order.id)}`);
      } catch (err) {
        // 422: no longer cancelable (it filled or was canceled meanwhile); the re-read below tells which.
        if (!(err instanceof InvalidOrderError)) throw err;
      }
    }
    const settled = await this.awaitSettled(await this.http.get('trading', `/v2/orders/${encodeURIComponent(order.id)}`, AlpacaOrderSchema));
    if (!isTerminal(settled)) {
      throw new BrokerUnavailableError(
        `cancel of ${settled.client_order_id} not confirmed by Alpaca within ${this.config.orderFillWaitMs} ms (status ${settled.status}); the next attempt checks again`,
        BROKER,
        this.config.orderPollIntervalMs,
      );
    }
    return settled;
  }

  private marketBody(order: OrderRequest, quantity: number): SubmitBody {
    return {
      symbol: order.symbol,
      qty: decimalString(quantity),
      side: order.side,
      type: 'market',
      time_in_force: this.config.marketTimeInForce,
      client_order_id: order.clientOrderId,
    };
  }
}

/** A clientOrderId that Alpaca knows for a different order is a bug upstream (a reused sequence), never a fill to book. */
function assertSameOrder(order: OrderRequest, found: AlpacaOrder): void {
  const sameQty = order.intent === 'close' || found.qty == null || Math.abs(found.qty - order.quantity) < EPS;
  if (found.symbol !== order.symbol || found.side !== order.side || !sameQty) {
    throw new InvalidOrderError(
      `clientOrderId ${order.clientOrderId} already names a different Alpaca order (${found.side} ${found.qty ?? '?'} ${found.symbol}, id ${found.id}); refusing to treat it as ${order.side} ${order.quantity} ${order.symbol}`,
      BROKER,
    );
  }
}

