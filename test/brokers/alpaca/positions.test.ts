/** Splitting Alpaca's net position per symbol back into one lot per entry (brokers/alpaca/positions.ts). */
import type { AlpacaOrder } from '../../../brokers/alpaca/parsing';
import { openLots, workingStops } from '../../../brokers/alpaca/positions';

let clock = 1_000;
function order(cid: string, side: 'buy' | 'sell', qty: number, price: number, over: Partial<AlpacaOrder> = {}): AlpacaOrder {
  const t = (clock += 10);
  return {
    id: `id-${cid}`,
    client_order_id: cid,
    symbol: 'AAPL',
    side,
    type: 'market',
    time_in_force: 'day',
    status: 'filled',
    qty,
    filled_qty: qty,
    filled_avg_price: price,
    stop_price: null,
    created_at: t,
    submitted_at: t,
    updated_at: t,
    filled_at: t,
    canceled_at: null,
    ...over,
  } as AlpacaOrder;
}
const stop = (ref: string, side: 'buy' | 'sell', qty: number, level: number, over: Partial<AlpacaOrder> = {}) =>
  order(`${ref}-S`, side, qty, 0, { type: 'stop', status: 'new', filled_qty: 0, filled_avg_price: null, filled_at: null, stop_price: level, ...over });

describe('openLots', () => {
  it('one entry is one lot under its client order id', () => {
    expect(openLots(10, [order('A', 'buy', 10, 100)])).toEqual([{ ref: 'A', side: 'long', quantity: 10, entryPrice: 100 }]);
  });

  it('only fills after the last flat point count', () => {
    const h = [order('old', 'buy', 5, 90), order('oldClose', 'sell', 5, 91), order('B', 'sell', 3, 95)];
    expect(openLots(-3, h)).toEqual([{ ref: 'B', side: 'short', quantity: 3, entryPrice: 95 }]);
  });

  it('a filled stop reduces the lot it protects, whatever the order of entries', () => {
    const h = [order('A', 'buy', 10, 100), stop('A', 'sell', 10, 95), order('B', 'buy', 10, 101), stop('B', 'sell', 10, 96)];
    h[3] = { ...h[3]!, status: 'filled', filled_qty: 10, filled_avg_price: 96, filled_at: (clock += 10) };
    expect(openLots(10, h)).toEqual([{ ref: 'A', side: 'long', quantity: 10, entryPrice: 100 }]);
    expect(workingStops(h)).toEqual(new Map([['A', 95]]));
  });

  it('a close made by the adapter reduces the lot whose stop it canceled just before', () => {
    const a = order('A', 'buy', 10, 100);
    const aStop = stop('A', 'sell', 10, 95);
    const b = order('B', 'buy', 10, 101);
    const bStop = stop('B', 'sell', 10, 96, { status: 'canceled', canceled_at: (clock += 10) });
    const close = order('C', 'sell', 10, 102);
    expect(openLots(10, [a, aStop, b, bStop, close])).toEqual([{ ref: 'A', side: 'long', quantity: 10, entryPrice: 100 }]);
  });

  it('without clues: an exact-quantity lot, else FIFO; a leftover flips the position', () => {
    const h = [order('A', 'buy', 4, 100), order('B', 'buy', 6, 101), order('X', 'sell', 6, 102)];
    expect(openLots(4, h)).toEqual([{ ref: 'A', side: 'long', quantity: 4, entryPrice: 100 }]);
    const fifo = [order('A', 'buy', 4, 100), order('B', 'buy', 6, 101), order('Y', 'sell', 5, 102)];
    expect(openLots(5, fifo)).toEqual([{ ref: 'B', side: 'long', quantity: 5, entryPrice: 101 }]);
    const flip = [order('A', 'buy', 4, 100), order('Z', 'sell', 7, 99)];
    expect(openLots(-3, flip)).toEqual([{ ref: 'Z', side: 'short', quantity: 3, entryPrice: 99 }]);
  });

  it('a partial fill of a canceled order counts for what filled', () => {
    const h = [order('A', 'buy', 10, 100, { status: 'canceled', filled_qty: 4 })];
    expect(openLots(4, h)).toEqual([{ ref: 'A', side: 'long', quantity: 4, entryPrice: 100 }]);
  });

  it('a history that cannot explain the net position gives null', () => {
    expect(openLots(10, [])).toBeNull();
    expect(openLots(10, [order('A', 'buy', 4, 100)])).toBeNull();
    expect(openLots(0, [order('A', 'buy', 4, 100)])).toEqual([]);
  });
});
