/**
 * Alpaca nets positions per symbol; the core tracks one position per entry (its `positionRef`). This module splits a
 * symbol's net position back into open lots, one per entry order, from the symbol's order history. Pure: no I/O.
 *
 * How (documented contract of `openLots`):
 * 1. Fills (orders with filled_qty > 0, whatever their status) are ordered by fill time.
 * 2. Walking back from the broker's net quantity, the latest point where the symbol was flat is found; only the fills
 *    after it matter. If the history does not reach a flat point, the position cannot be explained: null.
 * 3. Replaying those fills: a fill in the direction of the open lots (or from flat) opens a lot whose ref is the
 *    order's client_order_id, at its average fill price. A fill against the lots reduces one, chosen by, in order:
 *    a. its id: `<ref>-S` (a protective stop) reduces lot `<ref>`;
 *    b. the lot whose protective stop was canceled most recently before this order was submitted (the adapter's
 *       close cancels the stop of the position it closes, then sends the closing order);
 *    c. a lot of exactly the filled quantity (the core closes whole positions), oldest first;
 *    d. the oldest lot (FIFO). What is left over reduces the next lots FIFO; what is left after every lot is closed
 *       opens a lot on the other side (a flip), under this order's id.
 * 4. The lots must add up to the broker's net quantity, else null.
 *
 * Net quantity is therefore always the broker's. When several entries make one net position, each entry is its own
 * lot; the attribution of a closing order to a lot is exact for stops (a) and for closes made by this adapter (b), and
 * a best guess (c, d) for orders made elsewhere (a manual partial close, for instance).
 */
import { stopLegRef } from '../../trading/client-order-id';
import type { AlpacaOrder } from './parsing';
import { OPEN_STATUSES } from './parsing';

export interface OpenLot {
  ref: string;
  side: 'long' | 'short';
  quantity: number;
  entryPrice: number;
}

const EPS = 1e-9;
const round9 = (n: number) => Math.round(n * 1e9) / 1e9;

interface Fill {
  order: AlpacaOrder;
  signed: number;
  at: number;
  submittedAt: number;
}

function fillsOf(orders: readonly AlpacaOrder[]): Fill[] {
  const seen = new Set<string>();
  const fills: Fill[] = [];
  for (const o of orders) {
    if (seen.has(o.id) || !(o.filled_qty > 0)) continue;
    seen.add(o.id);
    fills.push({
      order: o,
      signed: o.side === 'buy' ? o.filled_qty : -o.filled_qty,
      at: o.filled_at ?? o.updated_at ?? o.submitted_at ?? o.created_at,
      submittedAt: o.submitted_at ?? o.created_at,
    });
  }
  return fills.sort((a, b) => a.at - b.at || a.submittedAt - b.submittedAt || (a.order.id < b.order.id ? -1 : 1));
}

/** The open lots that make up a net position of `netQty` (signed: negative is short), or null if the history cannot explain it. */
export function openLots(netQty: number, orders: readonly AlpacaOrder[]): OpenLot[] | null {
  if (Math.abs(netQty) < EPS) return [];
  const fills = fillsOf(orders);
  let running = netQty;
  let from = -1;
  for (let i = fills.length - 1; i >= 0; i--) {
    const before = round9(running - fills[i]!.signed);
    if (Math.abs(before) < EPS) {
      from = i;
      break;
    }
    running = before;
  }
  if (from < 0) return null;

  // When each protective stop was canceled (clue b), by the ref it protects.
  const stopCanceledAt = new Map<string, number>();
  for (const o of orders) {
    const ref = stopLegRef(o.client_order_id);
    if (ref !== null && o.status === 'canceled' && o.canceled_at != null) stopCanceledAt.set(ref, o.canceled_at);
  }

  let lots: OpenLot[] = [];
  for (const f of fills.slice(from)) {
    const dir: 'long' | 'short' = f.signed > 0 ? 'long' : 'short';
    let amount = Math.abs(f.signed);
    const price = f.order.filled_avg_price ?? 0;
    if (lots.length === 0 || lots[0]!.side === dir) {
      lots.push({ ref: f.order.client_order_id, side: dir, quantity: amount, entryPrice: price });
      continue;
    }
    const first = pickLot(lots, f, amount, stopCanceledAt);
    const order = first ? [first, ...lots.filter((l) => l !== first)] : lots;
    for (const lot of order) {
      if (amount < EPS) break;
      const take = Math.min(amount, lot.quantity);
      lot.quantity = round9(lot.quantity - take);
      amount = round9(amount - take);
    }
    lots = lots.filter((l) => l.quantity >= EPS);
    if (amount >= EPS) lots.push({ ref: f.order.client_order_id, side: dir, quantity: amount, entryPrice: price });
  }
  const sum = round9(lots.reduce((s, l) => s + (l.side === 'long' ? l.quantity : -l.quantity), 0));
  return Math.abs(sum - netQty) < 1e-6 ? lots : null;
}

function pickLot(lots: OpenLot[], f: Fill, amount: number, stopCanceledAt: Map<string, number>): OpenLot | undefined {
  const stopOf = stopLegRef(f.order.client_order_id);
  if (stopOf !== null) {
    const byStop = lots.find((l) => l.ref === stopOf);
    if (byStop) return byStop;
  }
  let best: OpenLot | undefined;
  let bestAt = -Infinity;
  for (const l of lots) {
    const at = stopCanceledAt.get(l.ref);
    if (at !== undefined && at <= f.submittedAt && at > bestAt) {
      best = l;
      bestAt = at;
    }
  }
  if (best) {
    stopCanceledAt.delete(best.ref);
    return best;
  }
  return lots.find((l) => Math.abs(l.quantity - amount) < EPS);
}

/** The stop price of each ref whose protective stop order (`<ref>-S`) is still working. */
export function workingStops(orders: readonly AlpacaOrder[]): Map<string, number> {
  const stops = new Map<string, number>();
  for (const o of orders) {
    const ref = stopLegRef(o.client_order_id);
    if (ref === null || o.stop_price == null) continue;
    if (OPEN_STATUSES.has(o.status) && o.status !== 'pending_cancel') stops.set(ref, o.stop_price);
  }
  return stops;
}
